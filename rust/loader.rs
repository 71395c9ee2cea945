//! Frames of many files decoded into one batch, in parallel: the ML loaders' core.
//!
//! Each file is mapped, walked, and its pixel data described as pydicom 3.0.2 would decode
//! it; frames are then copied (native data: byte order and planar configuration normalised,
//! Bits Stored corrected) or decoded (RLE Lossless) straight into their slot of the caller's
//! batch, as raw samples or as float32 with pydicom's rescale and windowing applied.
//!
//! Only files whose every relevant attribute is plain (present, of the expected VR, a value
//! pydicom reads without a warning) and whose pixel data pydicom decodes without options or
//! colour conversion are handled here. Everything else (other codecs, YBR data, lookup-table
//! sequences, odd values, broken files, unreadable paths) comes back as a *fallback* with a
//! reason, for the caller to hand to pydicom, so results, warnings and errors stay pydicom's.
//!
//! Native frames are read from the file after its header, straight into their slot; other
//! files are mapped. Files are opened one work unit at a time and dropped after it (the
//! last few multi-frame files excepted, kept for the next batch), so memory stays bounded
//! whatever the batch size.

use crate::errors::ParseError;
use crate::parse::{self, Element, ReadOptions, ValueKind, UNDEFINED_LENGTH};
use crate::pixels::encapsulated;
use crate::pixels::lut::{self, Rescale, Tables, Transform, VoiFunction, Window};
use crate::pixels::native::{self, SampleFormat};
use crate::pixels::parallel::map_queued_with;
use crate::pixels::rle::{self, FrameShape, Layout, RleError, SegmentOrder};
use crate::source::{self, Source};
use crate::tags::{
    BITS_ALLOCATED, BITS_STORED, COLUMNS, DOUBLE_FLOAT_PIXEL_DATA, EXTENDED_OFFSET_TABLE,
    EXTENDED_OFFSET_TABLE_LENGTHS, FLOAT_PIXEL_DATA, MODALITY_LUT_SEQUENCE, NUMBER_OF_FRAMES,
    PHOTOMETRIC_INTERPRETATION, PIXEL_DATA, PIXEL_REPRESENTATION, PLANAR_CONFIGURATION,
    RESCALE_INTERCEPT, RESCALE_SLOPE, ROWS, SAMPLES_PER_PIXEL, VOILUT_FUNCTION, VOILUT_SEQUENCE,
    WINDOW_CENTER, WINDOW_WIDTH,
};
use crate::values;
use crate::vr::Vr;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";
const NATIVE_SYNTAXES: [&str; 3] = [
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
];

/// Why a file or frame is left to pydicom (its Display is the reason given to the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    /// The file could not be opened, mapped or read.
    Io(String),
    /// Not a regular file (a named pipe, a socket, a device): not read.
    NotRegular(&'static str),
    /// The element walk stopped where pydicom decides.
    Parse(ParseError),
    /// A required attribute is absent.
    Missing(&'static str),
    /// A required attribute is present but not a plain value.
    NotPlain(&'static str),
    /// Something pydicom reads its own way (a transfer syntax, a LUT, an odd layout).
    Unsupported(&'static str),
    /// The frame index is beyond the file's frames.
    FrameBeyond(usize),
    /// An RLE frame does not decode as pydicom's decoder expects.
    Rle { index: usize, error: RleError },
    /// Reading the pixel data from the file failed.
    ReadPixelData(String),
}

impl Fallback {
    fn io(err: io::Error) -> Fallback {
        Fallback::Io(err.to_string())
    }
}

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fallback::Io(message) => f.write_str(message),
            Fallback::NotRegular(what) | Fallback::Unsupported(what) => f.write_str(what),
            Fallback::Parse(err) => err.fmt(f),
            Fallback::Missing(what) => write!(f, "no {what}"),
            Fallback::NotPlain(what) => write!(f, "{what} is not a plain value"),
            Fallback::FrameBeyond(index) => write!(f, "frame {index} is beyond the data"),
            Fallback::Rle { index, error } => write!(f, "RLE frame {index}: {error}"),
            Fallback::ReadPixelData(message) => write!(f, "reading pixel data: {message}"),
        }
    }
}

/// Why a whole batch read is refused: the caller's array does not fit the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    /// One frame's size overflows.
    FrameTooLarge,
    /// The array holds `len` values, not `items` frames of `frame` values.
    Length {
        len: usize,
        items: usize,
        frame: usize,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::FrameTooLarge => f.write_str("frame too large"),
            BatchError::Length { len, items, frame } => write!(
                f,
                "the batch holds {len} values, {items} frames need {frame} each"
            ),
        }
    }
}

impl std::error::Error for BatchError {}

/// Rows, columns and samples per pixel of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameGeometry {
    pub rows: u32,
    pub columns: u32,
    pub samples_per_pixel: u32,
}

impl FrameGeometry {
    /// Samples in one frame (None when that overflows).
    pub fn samples(&self) -> Option<usize> {
        (self.rows as usize)
            .checked_mul(self.columns as usize)?
            .checked_mul(self.samples_per_pixel as usize)
    }
}

/// What to apply to frames converted to float32: pydicom's `apply_modality_lut(arr, ds)`
/// and/or `apply_voi_lut(arr, ds, index=voi_index)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Processing {
    pub modality_lut: bool,
    pub voi_lut: bool,
    pub voi_index: usize,
}

/// An attribute as read from the dataset.
#[derive(Debug, Clone, PartialEq)]
enum Attr<T> {
    Absent,
    Value(T),
    /// Present but not plain: pydicom decides what it means.
    Unusual,
}

impl<T> Attr<T> {
    fn required(self, what: &'static str) -> Result<T, Fallback> {
        match self {
            Attr::Value(v) => Ok(v),
            Attr::Absent => Err(Fallback::Missing(what)),
            Attr::Unusual => Err(Fallback::NotPlain(what)),
        }
    }
}

/// Where a file's frames are.
#[derive(Debug, Clone)]
enum Frames {
    /// Native data: frame `k` is `frame_len` bytes from `start + k * frame_len`.
    Native { start: usize },
    /// RLE Lossless, one fragment per frame: each frame's byte range.
    Rle(Vec<Range<usize>>),
}

/// The rescale and VOI attributes of a dataset, as read.
#[derive(Debug, Clone)]
struct LutAttributes {
    rescale: Attr<Rescale>,
    modality_lut_sequence: bool,
    voi_lut_sequence: bool,
    centers: Attr<Vec<f64>>,
    widths: Attr<Vec<f64>>,
    function: Attr<VoiFunction>,
    monochrome: bool,
}

/// Where a file's bytes come from.
enum Data {
    /// All of them, mapped (or held in memory).
    Source(Source),
    /// Only the header was read; native frames are read from the file when wanted, straight
    /// into their slot (no mapping to set up, fault in and tear down per file).
    File(File),
}

/// Bytes read from the start of a file to find its pixel data; a header longer than this
/// gets the file mapped instead.
const HEAD: usize = 16 * 1024;

/// An encapsulated value read from a file as its items are walked: only their headers are
/// read. Walking the items of a mapping faults in pages around every item header, one or
/// more per frame, all on the thread that describes the file, before `read_batch`'s threads
/// can start (benches/report_loader.py, "rle").
struct FileValue<'a> {
    file: &'a File,
    /// Where the value starts in the file.
    start: usize,
    /// The bytes from there to the end of the file.
    size: usize,
}

impl encapsulated::ValueBytes for FileValue<'_> {
    fn size(&self) -> usize {
        self.size
    }

    fn read_at(&self, pos: usize, buf: &mut [u8]) -> bool {
        match pos.checked_add(buf.len()) {
            Some(end) if end <= self.size => read_at(self.file, buf, self.start + pos).is_ok(),
            _ => false,
        }
    }
}

/// One file's pixel data, described as pydicom decodes it.
pub struct PixelFile {
    data: Data,
    geometry: FrameGeometry,
    /// How samples are stored (RLE: as decoded, little endian).
    format: SampleFormat,
    bits_allocated: u32,
    bits_stored: u32,
    /// Native colour-by-plane data (Planar Configuration 1).
    planar: bool,
    number_of_frames: usize,
    frames: Frames,
    luts: LutAttributes,
}

impl PixelFile {
    /// Describe the file at `path`: from its first bytes when they hold everything up to
    /// the pixel data (and, for RLE, from its item headers), else from a mapping of the
    /// whole file.
    pub fn open(path: &Path) -> Result<PixelFile, Fallback> {
        PixelFile::open_with_head(path, HEAD)
    }

    /// `open`, reading the first `head` bytes first (the fuzz target reads short heads, so
    /// small inputs take the path of large files).
    pub fn open_with_head(path: &Path, head: usize) -> Result<PixelFile, Fallback> {
        let file = source::open_nonblocking(path).map_err(Fallback::io)?;
        let meta = file.metadata().map_err(Fallback::io)?;
        if let Some(what) = source::not_regular(meta.file_type()) {
            return Err(Fallback::NotRegular(what));
        }
        let len = meta.len();
        let head = Source::read_head(&file, len, head).map_err(Fallback::io)?;
        if head.bytes().len() as u64 == len {
            return PixelFile::from_source(head);
        }
        // A walk cut short by the end of the head is no verdict: the whole file decides.
        if let Ok(Some(described)) = PixelFile::describe(head, Some((file, len))) {
            return Ok(described);
        }
        let file = source::open_nonblocking(path).map_err(Fallback::io)?;
        let source = Source::map_file(&file, len).map_err(Fallback::io)?;
        PixelFile::from_source(source)
    }

    /// Describe the Part 10 file held in `source`.
    pub fn from_source(source: Source) -> Result<PixelFile, Fallback> {
        PixelFile::describe(source, None)?.ok_or(Fallback::Unsupported("not described"))
    }

    /// Describe the file whose bytes are `source`, or whose first bytes are when `head_of`
    /// gives the file and its length: then the walk stops before the pixel data, as
    /// pydicom's `pixel_array(path)` reads, and only data lying wholly in the file is
    /// described (frames to be read from the file); None means the whole file is needed.
    fn describe(
        source: Source,
        head_of: Option<(File, u64)>,
    ) -> Result<Option<PixelFile>, Fallback> {
        let buf = source.bytes();
        // What pydicom's `pixel_array(path)` reads: the dataset up to the pixel data.
        let opts = ReadOptions {
            stop_before_pixels: true,
            ..ReadOptions::pydicom_defaults()
        };
        let parsed = parse::parse_file(buf, &opts).map_err(Fallback::Parse)?;
        if parsed.inflated.is_some() {
            return Err(Fallback::Unsupported("deflated"));
        }
        let rle = match parsed.transfer_syntax.as_deref() {
            Some(RLE_LOSSLESS) => true,
            Some(ts) if NATIVE_SYNTAXES.contains(&ts) => false,
            _ => {
                return Err(Fallback::Unsupported(
                    "not a native or RLE Lossless transfer syntax",
                ))
            }
        };
        let little = parsed.encoding.little;
        let dataset = Dataset {
            buf,
            elements: &parsed.dataset,
        };
        let others = [
            FLOAT_PIXEL_DATA,
            DOUBLE_FLOAT_PIXEL_DATA,
            EXTENDED_OFFSET_TABLE,
            EXTENDED_OFFSET_TABLE_LENGTHS,
        ];
        if others.iter().any(|&tag| dataset.find(tag).is_some()) {
            return Err(Fallback::Unsupported(
                "float pixel data or an extended offset table",
            ));
        }
        // The walk stopped where the pixel data starts: its header must be there, in the
        // dataset's encoding, with a VR pydicom reads it by.
        let at = parse::pixel_data_at(buf, &parsed, &opts);
        let pixel = match head_of {
            Some(_) => match at {
                Some(e) => e,
                None => return Ok(None),
            },
            // The whole walk gives its value's extent (an encapsulated one's delimiter),
            // unless a later Pixel Data took its place.
            None => {
                let whole = parse::parse_file(buf, &ReadOptions::pydicom_defaults())
                    .map_err(Fallback::Parse)?;
                let found = *whole
                    .dataset
                    .iter()
                    .find(|e| e.tag == PIXEL_DATA)
                    .ok_or(Fallback::Missing("Pixel Data"))?;
                if at.map(|e| e.value_offset) != Some(found.value_offset) {
                    return Err(Fallback::Unsupported(
                        "Pixel Data not where the header ends",
                    ));
                }
                found
            }
        };
        if pixel.kind != ValueKind::Bytes {
            return Err(Fallback::Unsupported("Pixel Data not read"));
        }

        let us = |tag, what| dataset.us(tag, little).required(what);
        let geometry = FrameGeometry {
            rows: us(ROWS, "Rows")?,
            columns: us(COLUMNS, "Columns")?,
            samples_per_pixel: us(SAMPLES_PER_PIXEL, "Samples per Pixel")?,
        };
        let bits_allocated = us(BITS_ALLOCATED, "Bits Allocated")?;
        let bits_stored = us(BITS_STORED, "Bits Stored")?;
        let signed = match us(PIXEL_REPRESENTATION, "Pixel Representation")? {
            0 => false,
            1 => true,
            _ => return Err(Fallback::Unsupported("Pixel Representation is not 0 or 1")),
        };
        if geometry.rows == 0
            || geometry.columns == 0
            || ![8, 16, 32, 64].contains(&bits_allocated)
            || !(1..=bits_allocated).contains(&bits_stored)
        {
            return Err(Fallback::Unsupported("Image Pixel values pydicom rejects"));
        }
        let photometric = dataset
            .cs(PHOTOMETRIC_INTERPRETATION)
            .required("Photometric Interpretation")?;
        let monochrome = matches!(photometric.as_str(), "MONOCHROME1" | "MONOCHROME2");
        let planar = match (geometry.samples_per_pixel, photometric.as_str()) {
            (1, "MONOCHROME1" | "MONOCHROME2" | "PALETTE COLOR") => false,
            (3, "RGB") => match dataset.us(PLANAR_CONFIGURATION, little) {
                Attr::Value(0) => false,
                Attr::Value(1) => true,
                _ => return Err(Fallback::Unsupported("no plain Planar Configuration")),
            },
            // pydicom converts YBR data to RGB, or rejects the combination
            _ => {
                return Err(Fallback::Unsupported(
                    "a photometric interpretation pydicom converts",
                ))
            }
        };
        let number_of_frames = match dataset.is(NUMBER_OF_FRAMES) {
            Attr::Absent => 1,
            Attr::Value(n) if n >= 1 => n as usize,
            _ => {
                return Err(Fallback::Unsupported(
                    "Number of Frames is not a plain positive value",
                ))
            }
        };
        let samples = geometry
            .samples()
            .ok_or(Fallback::Unsupported("frame too large"))?;
        let frame_len = samples
            .checked_mul(bits_allocated as usize / 8)
            .ok_or(Fallback::Unsupported("frame too large"))?;
        let value = parse::value_bytes(buf, &pixel);
        let frames = if rle {
            if pixel.length != UNDEFINED_LENGTH {
                return Err(Fallback::Unsupported(
                    "encapsulated Pixel Data of defined length",
                ));
            }
            let ranges = match &head_of {
                Some((file, len)) => {
                    let start = pixel.value_offset;
                    let value = FileValue {
                        file,
                        start,
                        size: usize::try_from(*len)
                            .unwrap_or(usize::MAX)
                            .saturating_sub(start),
                    };
                    // The value is what lies before the delimiter the items lead to, as
                    // the whole file's walk finds it; items that lead elsewhere are left to
                    // that walk.
                    let items = encapsulated::items(&value, true);
                    let Some(end) = items.as_ref().and_then(|items| items.delimiter) else {
                        return Ok(None);
                    };
                    items.and_then(|items| {
                        encapsulated::item_frame_ranges(items, end, number_of_frames, None)
                    })
                }
                None => encapsulated::frame_ranges(value, true, number_of_frames, None),
            }
            .ok_or(Fallback::Unsupported("RLE frames not one fragment each"))?;
            let offset = pixel.value_offset;
            Frames::Rle(
                ranges
                    .into_iter()
                    .map(|r| r.start + offset..r.end + offset)
                    .collect(),
            )
        } else {
            let expected = frame_len
                .checked_mul(number_of_frames)
                .ok_or(Fallback::Unsupported("pixel data too large"))?;
            // The value's bytes in the file (fewer than its length when the file is short).
            let present = match &head_of {
                Some((_, len)) => {
                    let rest = len.saturating_sub(pixel.value_offset as u64);
                    usize::try_from(rest.min(u64::from(pixel.length))).unwrap_or(usize::MAX)
                }
                None => value.len(),
            };
            if pixel.length == UNDEFINED_LENGTH
                || (present != expected && present != expected + expected % 2)
            {
                return Err(Fallback::Unsupported(
                    "Pixel Data length is not the expected length",
                ));
            }
            if !little && bits_allocated == 8 && pixel.vr == Some(Vr::OW) {
                return Err(Fallback::Unsupported(
                    "big endian 8-bit OW data (pydicom swaps it)",
                ));
            }
            Frames::Native {
                start: pixel.value_offset,
            }
        };
        let format = SampleFormat {
            bytes: bits_allocated as usize / 8,
            little: rle || little,
            signed,
        };
        let luts = LutAttributes {
            rescale: match (dataset.ds(RESCALE_SLOPE), dataset.ds(RESCALE_INTERCEPT)) {
                (Attr::Value(s), Attr::Value(i)) if s.len() == 1 && i.len() == 1 => {
                    Attr::Value(Rescale {
                        slope: s[0],
                        intercept: i[0],
                    })
                }
                (Attr::Value(_), Attr::Value(_)) | (Attr::Unusual, _) | (_, Attr::Unusual) => {
                    Attr::Unusual
                }
                // Only one of them: neither pydicom function uses it.
                _ => Attr::Absent,
            },
            modality_lut_sequence: dataset.find(MODALITY_LUT_SEQUENCE).is_some(),
            voi_lut_sequence: dataset.find(VOILUT_SEQUENCE).is_some(),
            centers: dataset.ds(WINDOW_CENTER),
            widths: dataset.ds(WINDOW_WIDTH),
            function: match dataset.cs(VOILUT_FUNCTION) {
                Attr::Absent => Attr::Absent,
                Attr::Value(name) if name.is_ascii() => {
                    VoiFunction::from_upper(&name.to_ascii_uppercase())
                        .map_or(Attr::Unusual, Attr::Value)
                }
                _ => Attr::Unusual,
            },
            monochrome,
        };
        drop(parsed);
        let data = match head_of {
            // RLE frames are decoded from a mapping, whose pages the decoding threads fault in.
            Some((file, len)) if rle => {
                Data::Source(Source::map_file(&file, len).map_err(Fallback::io)?)
            }
            Some((file, _)) => Data::File(file),
            None => Data::Source(source),
        };
        Ok(Some(PixelFile {
            data,
            geometry,
            format,
            bits_allocated,
            bits_stored,
            planar,
            number_of_frames,
            frames,
            luts,
        }))
    }

    /// The frame geometry.
    pub fn geometry(&self) -> FrameGeometry {
        self.geometry
    }

    /// The sample type of pydicom's array (its byte order aside).
    pub fn sample_format(&self) -> SampleFormat {
        self.format
    }

    /// Number of frames.
    pub fn number_of_frames(&self) -> usize {
        self.number_of_frames
    }

    /// The per-sample arithmetic `processing` amounts to for this dataset, or why pydicom
    /// must do it (a lookup table, a value pydicom raises on or reads unusually).
    pub fn transform(&self, processing: Processing) -> Result<Transform, Fallback> {
        let l = &self.luts;
        if l.modality_lut_sequence {
            return Err(Fallback::Unsupported("Modality LUT Sequence"));
        }
        let rescale = match l.rescale {
            Attr::Absent => None,
            Attr::Value(r) => Some(r),
            Attr::Unusual => {
                return Err(Fallback::Unsupported("Rescale Slope/Intercept not plain"))
            }
        };
        let mut transform = Transform {
            rescale: rescale.filter(|_| processing.modality_lut),
            window: None,
        };
        if !processing.voi_lut {
            return Ok(transform);
        }
        if l.voi_lut_sequence {
            return Err(Fallback::Unsupported("VOI LUT Sequence"));
        }
        let (centers, widths) = match (&l.centers, &l.widths) {
            (Attr::Value(c), Attr::Value(w)) => (c, w),
            (Attr::Unusual, _) | (_, Attr::Unusual) => {
                return Err(Fallback::Unsupported("Window Center/Width not plain"))
            }
            _ => return Ok(transform), // no windowing: the array is returned as it is
        };
        if !l.monochrome {
            return Err(Fallback::Unsupported(
                "windowing of data that is not monochrome (pydicom raises)",
            ));
        }
        // pydicom: `elem.value[index] if elem.VM > 1 else elem.value`
        let pick = |values: &Vec<f64>| match values.len() {
            1 => Some(values[0]),
            _ => values.get(processing.voi_index).copied(),
        };
        let (Some(center), Some(width)) = (pick(centers), pick(widths)) else {
            return Err(Fallback::Unsupported(
                "window index beyond the values (pydicom raises)",
            ));
        };
        let function = match l.function {
            Attr::Absent => VoiFunction::Linear,
            Attr::Value(f) => f,
            Attr::Unusual => return Err(Fallback::Unsupported("VOI LUT Function not supported")),
        };
        let window = Window::new(
            function,
            center,
            width,
            self.bits_stored,
            self.format.signed,
            rescale,
        )
        .ok_or(Fallback::Unsupported("a window width pydicom raises on"))?;
        transform.window = Some(window);
        Ok(transform)
    }

    /// Bytes of one decoded frame.
    fn frame_len(&self) -> usize {
        // Checked when the file was opened.
        self.geometry.samples().unwrap_or(0) * self.format.bytes
    }

    /// Write frame `index` to `slot`, which must hold exactly one frame (bytes in the sample
    /// type, little endian, for raw output). Returns pydicom's warnings for the frame.
    /// `scratch` is reused between calls.
    pub fn read_frame(
        &self,
        index: usize,
        slot: Slot<'_>,
        transform: &Transform,
        scratch: &mut Scratch,
    ) -> Result<Vec<String>, Fallback> {
        if index >= self.number_of_frames {
            return Err(Fallback::FrameBeyond(index));
        }
        let frame_len = self.frame_len();
        let samples = frame_len / self.format.bytes;
        let fits = match &slot {
            Slot::Raw(out) => out.len() == frame_len,
            Slot::Float(out) => out.len() == samples,
        };
        if !fits {
            return Err(Fallback::Unsupported("the frame does not fit the batch"));
        }
        let le = SampleFormat {
            little: true,
            ..self.format
        };
        let as_stored = self.format.little && !self.planar;
        let Scratch(read, normalised, tables) = scratch;
        match &self.frames {
            Frames::Native { start } => {
                let from = start + index * frame_len;
                let src = match (&self.data, slot) {
                    (Data::Source(source), slot) => (
                        source
                            .bytes()
                            .get(from..from + frame_len)
                            .ok_or(Fallback::Unsupported("pixel data beyond the file"))?,
                        slot,
                    ),
                    // Read straight into the batch when nothing is to be done but the
                    // Bits Stored check.
                    (Data::File(file), Slot::Raw(out)) if as_stored => {
                        read_at(file, out, from)?;
                        native::fix_bits_stored(out, le, self.bits_stored);
                        return Ok(Vec::new());
                    }
                    (Data::File(file), slot) => {
                        read.resize(frame_len, 0);
                        read_at(file, read, from)?;
                        (&read[..], slot)
                    }
                };
                let (src, slot) = src;
                let data = if as_stored {
                    src
                } else {
                    normalised.resize(frame_len, 0);
                    self.normalise(src, normalised);
                    &normalised[..]
                };
                match slot {
                    Slot::Raw(out) => {
                        out.copy_from_slice(data);
                        native::fix_bits_stored(out, le, self.bits_stored);
                    }
                    Slot::Float(out) => {
                        lut::samples_to_f32(data, le, self.bits_stored, transform, out, tables)
                    }
                }
                Ok(Vec::new())
            }
            Frames::Rle(ranges) => {
                let Data::Source(source) = &self.data else {
                    return Err(Fallback::Unsupported("RLE data not mapped"));
                };
                let range = ranges
                    .get(index)
                    .ok_or(Fallback::Unsupported("RLE frame beyond the data"))?;
                let src = source
                    .bytes()
                    .get(range.clone())
                    .ok_or(Fallback::Unsupported("RLE frame beyond the file"))?;
                let shape = FrameShape {
                    rows: self.geometry.rows,
                    columns: self.geometry.columns,
                    samples_per_pixel: self.geometry.samples_per_pixel,
                    bits_allocated: self.bits_allocated,
                };
                let decode = |out: &mut [u8]| {
                    rle::decode_frame_as(src, shape, SegmentOrder::Big, Layout::Interleaved, out)
                        .map_err(|(error, _)| Fallback::Rle { index, error })
                };
                let padding = match slot {
                    Slot::Raw(out) => {
                        let padding = decode(out)?;
                        native::fix_bits_stored(out, le, self.bits_stored);
                        padding
                    }
                    Slot::Float(out) => {
                        read.resize(frame_len, 0);
                        let padding = decode(read)?;
                        lut::samples_to_f32(read, le, self.bits_stored, transform, out, tables);
                        padding
                    }
                };
                Ok(padding.messages().collect())
            }
        }
    }

    /// Native frame bytes (`src`) as little-endian samples, colour by pixel, into `out`.
    fn normalise(&self, src: &[u8], out: &mut [u8]) {
        let n = self.format.bytes;
        let spp = self.geometry.samples_per_pixel as usize;
        let pixels = (src.len() / n / spp.max(1)).max(1);
        let little = self.format.little;
        for (i, sample) in src.chunks_exact(n).enumerate() {
            // Sample i of the stored frame is (plane, pixel) when planar, else (pixel, plane).
            let at = if self.planar {
                (i % pixels) * spp + i / pixels
            } else {
                i
            };
            let Some(dst) = out.get_mut(at * n..at * n + n) else {
                continue;
            };
            dst.copy_from_slice(sample);
            if !little {
                dst.reverse();
            }
        }
    }
}

/// Reusable buffers of one thread: frames read from a file, frames normalised, the
/// float32 conversion's table.
#[derive(Default)]
pub struct Scratch(Vec<u8>, Vec<u8>, Tables);

/// Fill `buf` from `file` at `offset`.
fn read_at(file: &File, buf: &mut [u8], offset: usize) -> Result<(), Fallback> {
    source::read_exact_at(file, buf, offset).map_err(|e| Fallback::ReadPixelData(e.to_string()))
}

/// The dataset's top-level elements and the bytes they point into.
struct Dataset<'a> {
    buf: &'a [u8],
    elements: &'a [Element],
}

impl<'a> Dataset<'a> {
    fn find(&self, tag: u32) -> Option<&'a Element> {
        self.elements.iter().find(|e| e.tag == tag)
    }

    /// The value bytes of `tag` when its VR is `vr` (or implicit): Absent, or Unusual for
    /// any other VR, a deferred or sequence value, or an empty one.
    fn bytes(&self, tag: u32, vr: Vr) -> Attr<&'a [u8]> {
        let Some(e) = self.find(tag) else {
            return Attr::Absent;
        };
        if e.kind != ValueKind::Bytes || e.vr.is_some_and(|v| v != vr) {
            return Attr::Unusual;
        }
        match parse::value_bytes(self.buf, e) {
            [] => Attr::Unusual,
            bytes => Attr::Value(bytes),
        }
    }

    /// One US value.
    fn us(&self, tag: u32, little: bool) -> Attr<u32> {
        match self.bytes(tag, Vr::US) {
            Attr::Value(&[a, b]) => Attr::Value(u32::from(if little {
                u16::from_le_bytes([a, b])
            } else {
                u16::from_be_bytes([a, b])
            })),
            Attr::Absent => Attr::Absent,
            _ => Attr::Unusual,
        }
    }

    /// One IS value, as pydicom reads it without a warning.
    fn is(&self, tag: u32) -> Attr<i64> {
        match self.bytes(tag, Vr::IS) {
            Attr::Value(bytes) => match values::is_items(&values::latin1(bytes)).as_deref() {
                Some(&[(v, _)]) => Attr::Value(v),
                _ => Attr::Unusual,
            },
            Attr::Absent => Attr::Absent,
            Attr::Unusual => Attr::Unusual,
        }
    }

    /// DS values, as pydicom reads them without a warning.
    fn ds(&self, tag: u32) -> Attr<Vec<f64>> {
        match self.bytes(tag, Vr::DS) {
            Attr::Value(bytes) => match values::ds_items(&values::latin1(bytes)) {
                Some(items) => Attr::Value(items.into_iter().map(|(v, _)| v).collect()),
                None => Attr::Unusual,
            },
            Attr::Absent => Attr::Absent,
            Attr::Unusual => Attr::Unusual,
        }
    }

    /// One CS value (pydicom strips its trailing padding).
    fn cs(&self, tag: u32) -> Attr<String> {
        match self.bytes(tag, Vr::CS) {
            Attr::Value(bytes) => match values::string_items(&values::latin1(bytes)).as_slice() {
                [one] if !one.is_empty() => Attr::Value((*one).to_string()),
                _ => Attr::Unusual,
            },
            Attr::Absent => Attr::Absent,
            Attr::Unusual => Attr::Unusual,
        }
    }
}

/// Where one frame goes.
pub enum Slot<'a> {
    /// Raw samples, little endian.
    Raw(&'a mut [u8]),
    /// float32 after processing.
    Float(&'a mut [f32]),
}

/// The caller's batch: raw samples of one type, or float32.
pub enum Batch<'a> {
    Raw(&'a mut [u8], SampleFormat),
    Float(&'a mut [f32]),
}

/// What a batch read found: the frames left to pydicom (item, reason), and pydicom's
/// warnings for frames decoded here (item, messages), each in item order.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub fallbacks: Vec<(usize, Fallback)>,
    pub warnings: Vec<(usize, Vec<String>)>,
}

/// Frames of one file for one thread: (item, frame index, slot).
struct Unit<'p, 'o> {
    path: &'p Path,
    jobs: Vec<(usize, usize, Slot<'o>)>,
}

/// Read frame `items[i].1` of file `items[i].0` into frame `i` of `batch` for every item, on
/// up to `threads` threads (the calling one included). Every frame must have `geometry` (and,
/// raw, the batch's sample type: size and signedness); one that does not, or that this
/// module leaves to pydicom, is a fallback and its slot is left as it was. Errors only for a
/// batch whose size is not `items.len()` frames.
pub fn read_batch(
    items: &[(PathBuf, usize)],
    geometry: FrameGeometry,
    batch: Batch<'_>,
    processing: Processing,
    threads: usize,
    recent: &RecentFiles,
) -> Result<BatchOutcome, BatchError> {
    let samples = geometry.samples().ok_or(BatchError::FrameTooLarge)?;
    let (expected, slots): (Option<SampleFormat>, Vec<Slot>) = match batch {
        Batch::Raw(out, format) => {
            let frame_len = samples
                .checked_mul(format.bytes)
                .ok_or(BatchError::FrameTooLarge)?;
            check_len(out.len(), frame_len, items.len())?;
            let slots = out.chunks_exact_mut(frame_len.max(1)).map(Slot::Raw);
            (Some(format), slots.collect())
        }
        Batch::Float(out) => {
            check_len(out.len(), samples, items.len())?;
            let slots = out.chunks_exact_mut(samples.max(1)).map(Slot::Float);
            (None, slots.collect())
        }
    };
    // One unit per file (in first-seen order), split so no unit holds more than its share.
    let mut units: Vec<Unit> = Vec::new();
    let mut unit_of: HashMap<&Path, usize> = HashMap::new();
    for (item, ((path, index), slot)) in items.iter().zip(slots).enumerate() {
        let u = *unit_of.entry(path.as_path()).or_insert_with(|| {
            units.push(Unit {
                path,
                jobs: Vec::new(),
            });
            units.len() - 1
        });
        units[u].jobs.push((item, *index, slot));
    }
    let threads = threads.max(1);
    // Units of a few frames, taken in turn: a thread the machine stalls holds up one
    // unit, not its share of a long multi-frame file.
    let share = items.len().div_ceil(threads).clamp(1, FRAMES_PER_UNIT);
    let mut queue = Vec::new();
    for unit in units {
        let mut jobs = unit.jobs.into_iter().peekable();
        while jobs.peek().is_some() {
            queue.push(Unit {
                path: unit.path,
                jobs: jobs.by_ref().take(share).collect(),
            });
        }
    }
    let outcomes = map_queued_with(queue, threads, Scratch::default, |scratch, unit| {
        let mut outcome = BatchOutcome::default();
        run_unit(
            unit,
            recent,
            geometry,
            expected,
            processing,
            scratch,
            &mut outcome,
        );
        outcome
    });
    let mut outcome = BatchOutcome::default();
    for unit in outcomes {
        outcome.fallbacks.extend(unit.fallbacks);
        outcome.warnings.extend(unit.warnings);
    }
    outcome.fallbacks.sort_unstable_by_key(|f| f.0);
    outcome.warnings.sort_unstable_by_key(|w| w.0);
    Ok(outcome)
}

/// The most frames of one file in a unit of work of `read_batch`.
const FRAMES_PER_UNIT: usize = 8;

/// Multi-frame files described lately, for the next batch from them: describing one reads
/// every item header of its pixel data, and a kept mapping keeps the pages earlier batches
/// faulted in. An entry is used only while the path still names a file of the same device,
/// inode, length and modification time. Owned by whoever reads batch after batch (a
/// `FrameDataset`), so nothing outlives its user.
#[derive(Default)]
pub struct RecentFiles(Mutex<Vec<(PathBuf, Stamp, Arc<PixelFile>)>>);

/// Entries `RecentFiles` keeps.
const RECENT_FILES: usize = 4;

impl RecentFiles {
    /// `PixelFile::open(path)`, kept from an earlier call when the file is as it was.
    fn open(&self, path: &Path) -> Result<Arc<PixelFile>, Fallback> {
        let stamp = Stamp::of(path);
        let recent = || self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stamp) = &stamp {
            let found = recent()
                .iter()
                .find(|(p, s, _)| p == path && s == stamp)
                .map(|(_, _, file)| Arc::clone(file));
            if let Some(file) = found {
                return Ok(file);
            }
        }
        let file = Arc::new(PixelFile::open(path)?);
        // Stamped before opening: a file changed in between is opened again next time.
        if let (Some(stamp), true) = (stamp, file.number_of_frames > 1) {
            if matches!(file.data, Data::Source(_)) {
                let mut recent = recent();
                recent.retain(|(p, _, _)| p != path);
                recent.insert(0, (path.to_path_buf(), stamp, Arc::clone(&file)));
                recent.truncate(RECENT_FILES);
            }
        }
        Ok(file)
    }
}

/// What a path names: the file's identity, length and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    id: (u64, u64),
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let id = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let id = (0, 0);
        Some(Stamp {
            id,
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

fn check_len(len: usize, frame: usize, items: usize) -> Result<(), BatchError> {
    match frame.checked_mul(items) {
        Some(total) if total == len => Ok(()),
        _ => Err(BatchError::Length { len, items, frame }),
    }
}

fn run_unit(
    unit: Unit<'_, '_>,
    recent: &RecentFiles,
    geometry: FrameGeometry,
    expected: Option<SampleFormat>,
    processing: Processing,
    scratch: &mut Scratch,
    outcome: &mut BatchOutcome,
) {
    let prepared = recent.open(unit.path).and_then(|file| {
        if file.geometry != geometry {
            return Err(Fallback::Unsupported(
                "frame shape differs from the batch's",
            ));
        }
        if let Some(format) = expected {
            let ours = file.format;
            if (ours.bytes, ours.signed) != (format.bytes, format.signed) {
                return Err(Fallback::Unsupported(
                    "sample type differs from the batch's",
                ));
            }
            return Ok((file, Transform::default()));
        }
        let transform = file.transform(processing)?;
        Ok((file, transform))
    });
    let (file, transform) = match prepared {
        Ok(prepared) => prepared,
        Err(reason) => {
            for (item, _, _) in unit.jobs {
                outcome.fallbacks.push((item, reason.clone()));
            }
            return;
        }
    };
    for (item, index, slot) in unit.jobs {
        match file.read_frame(index, slot, &transform, scratch) {
            Ok(warnings) if warnings.is_empty() => {}
            Ok(warnings) => outcome.warnings.push((item, warnings)),
            Err(reason) => outcome.fallbacks.push((item, reason)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags;

    /// One explicit VR element (short or long header by VR) in the given byte order.
    fn element(tag: u32, vr: &str, value: &[u8], little: bool) -> Vec<u8> {
        let u16b = |v: u16| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let mut out = Vec::new();
        out.extend_from_slice(&u16b((tag >> 16) as u16));
        out.extend_from_slice(&u16b(tag as u16));
        out.extend_from_slice(vr.as_bytes());
        if matches!(vr, "OB" | "OW" | "SQ") {
            out.extend_from_slice(&[0, 0]);
            let len = value.len() as u32;
            out.extend_from_slice(&if little {
                len.to_le_bytes()
            } else {
                len.to_be_bytes()
            });
        } else {
            out.extend_from_slice(&u16b(value.len() as u16));
        }
        out.extend_from_slice(value);
        out
    }

    fn us(v: u16, little: bool) -> Vec<u8> {
        (if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        })
        .to_vec()
    }

    /// A Part 10 file: 16-bit signed, Bits Stored 12, `rows` x 3, `frames` frames, with
    /// `extra` elements (sorted by the caller) before the pixel data.
    fn file(ts: &str, samples: &[i16], rows: u16, frames: u16, extra: &[Vec<u8>]) -> Vec<u8> {
        let little = ts != "1.2.840.10008.1.2.2";
        let mut out = vec![0; 128];
        out.extend_from_slice(b"DICM");
        let mut uid = ts.as_bytes().to_vec();
        if uid.len() % 2 == 1 {
            uid.push(0);
        }
        out.extend(element(tags::TRANSFER_SYNTAX_UID, "UI", &uid, true));
        let mut body = Vec::new();
        body.extend(element(SAMPLES_PER_PIXEL, "US", &us(1, little), little));
        body.extend(element(
            PHOTOMETRIC_INTERPRETATION,
            "CS",
            b"MONOCHROME2 ",
            little,
        ));
        if frames > 1 {
            let n = format!("{frames} ");
            body.extend(element(
                NUMBER_OF_FRAMES,
                "IS",
                &n.as_bytes()[..n.len() & !1],
                little,
            ));
        }
        body.extend(element(ROWS, "US", &us(rows, little), little));
        body.extend(element(COLUMNS, "US", &us(3, little), little));
        body.extend(element(BITS_ALLOCATED, "US", &us(16, little), little));
        body.extend(element(BITS_STORED, "US", &us(12, little), little));
        body.extend(element(PIXEL_REPRESENTATION, "US", &us(1, little), little));
        for e in extra {
            body.extend_from_slice(e);
        }
        let data: Vec<u8> = samples
            .iter()
            .flat_map(|v| {
                if little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                }
            })
            .collect();
        body.extend(element(PIXEL_DATA, "OW", &data, little));
        out.extend(body);
        out
    }

    fn open(bytes: Vec<u8>) -> Result<PixelFile, Fallback> {
        PixelFile::from_source(Source::Owned(bytes))
    }

    fn raw(file: &PixelFile, index: usize) -> Vec<i16> {
        let mut out = vec![0u8; file.frame_len()];
        let mut scratch = Scratch::default();
        let t = Transform::default();
        file.read_frame(index, Slot::Raw(&mut out), &t, &mut scratch)
            .unwrap();
        out.chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect()
    }

    // 0x0FFF is -1 in 12 bits; 0x7FF stays 2047.
    const SAMPLES: [i16; 12] = [0, 1, -1, 0x0FFF, 0x07FF, -2048, 5, 6, 7, 8, 9, 10];

    #[test]
    fn native_frames_in_either_byte_order() {
        for ts in ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"] {
            let f = open(file(ts, &SAMPLES, 2, 2, &[])).unwrap();
            assert_eq!(f.number_of_frames(), 2);
            assert_eq!(raw(&f, 0), [0, 1, -1, -1, 2047, -2048]);
            assert_eq!(raw(&f, 1), [5, 6, 7, 8, 9, 10]);
            let mut out = vec![0u8; 12];
            let err = f.read_frame(
                2,
                Slot::Raw(&mut out),
                &Transform::default(),
                &mut Scratch::default(),
            );
            assert!(err.is_err());
        }
    }

    #[test]
    fn rescale_and_window_from_the_dataset() {
        let extra = [
            element(WINDOW_CENTER, "DS", b"40\\300 ", true),
            element(WINDOW_WIDTH, "DS", b"400 ", true),
            element(RESCALE_INTERCEPT, "DS", b"-1024 ", true),
            element(RESCALE_SLOPE, "DS", b"2 ", true),
        ];
        let f = open(file("1.2.840.10008.1.2.1", &SAMPLES, 2, 2, &extra)).unwrap();
        let both = Processing {
            modality_lut: true,
            voi_lut: true,
            voi_index: 1,
        };
        let t = f.transform(both).unwrap();
        let r = t.rescale.unwrap();
        assert_eq!((r.slope, r.intercept), (2.0, -1024.0));
        let w = Window::new(VoiFunction::Linear, 300.0, 400.0, 12, true, Some(r));
        assert_eq!(t.window, w);
        let mut out = vec![0f32; 6];
        f.read_frame(0, Slot::Float(&mut out), &t, &mut Scratch::default())
            .unwrap();
        let want: Vec<f32> = [0i16, 1, -1, -1, 2047, -2048]
            .iter()
            .map(|&v| w.unwrap().apply(v as f64 * 2.0 - 1024.0) as f32)
            .collect();
        assert_eq!(out, want);
        // VOI index 2 is beyond the two centers: pydicom raises, so pydicom decides.
        assert!(f
            .transform(Processing {
                voi_index: 2,
                ..both
            })
            .is_err());
        let only_modality = Processing {
            voi_lut: false,
            ..both
        };
        assert_eq!(f.transform(only_modality).unwrap().window, None);
    }

    #[test]
    fn unusual_files_are_left_to_pydicom() {
        // Another codec.
        assert!(open(file("1.2.840.10008.1.2.4.50", &SAMPLES, 2, 2, &[])).is_err());
        // A short Pixel Data value, and one of the wrong number of frames.
        assert!(open(file("1.2.840.10008.1.2.1", &SAMPLES[..10], 2, 2, &[])).is_err());
        assert!(open(file("1.2.840.10008.1.2.1", &SAMPLES, 2, 3, &[])).is_err());
        assert!(open(b"not dicom".to_vec()).is_err());
        // A YBR photometric interpretation.
        let mut ybr = file("1.2.840.10008.1.2.1", &SAMPLES, 2, 2, &[]);
        let at = ybr.windows(12).position(|w| w == b"MONOCHROME2 ").unwrap();
        ybr[at..at + 12].copy_from_slice(b"YBR_FULL    ");
        assert!(open(ybr).is_err());
        // An unusual window function.
        let extra = [
            element(WINDOW_CENTER, "DS", b"40", true),
            element(WINDOW_WIDTH, "DS", b"40", true),
            element(VOILUT_FUNCTION, "CS", b"LOG ", true),
        ];
        let f = open(file("1.2.840.10008.1.2.1", &SAMPLES, 2, 2, &extra)).unwrap();
        let voi = Processing {
            voi_lut: true,
            ..Processing::default()
        };
        assert!(f.transform(voi).is_err());
        assert!(f.transform(Processing::default()).is_ok());
    }

    #[test]
    fn batches_over_files_and_threads() {
        let dir = std::env::temp_dir().join(format!("dcmfast-loader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.dcm");
        let b = dir.join("b.dcm");
        std::fs::write(&a, file("1.2.840.10008.1.2.1", &SAMPLES, 2, 2, &[])).unwrap();
        std::fs::write(&b, file("1.2.840.10008.1.2.2", &SAMPLES, 2, 2, &[])).unwrap();
        let items = vec![
            (b.clone(), 1),
            (a.clone(), 0),
            (dir.join("missing.dcm"), 0),
            (a.clone(), 1),
            (b.clone(), 0),
        ];
        let geometry = FrameGeometry {
            rows: 2,
            columns: 3,
            samples_per_pixel: 1,
        };
        let format = SampleFormat {
            bytes: 2,
            little: true,
            signed: true,
        };
        for threads in [1, 2, 4] {
            let mut out = vec![0u8; 5 * 12];
            let batch = Batch::Raw(&mut out, format);
            let outcome = read_batch(
                &items,
                geometry,
                batch,
                Processing::default(),
                threads,
                &RecentFiles::default(),
            )
            .unwrap();
            assert_eq!(outcome.fallbacks.len(), 1);
            assert_eq!(outcome.fallbacks[0].0, 2);
            let values: Vec<i16> = out
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
            assert_eq!(&values[..6], &[5, 6, 7, 8, 9, 10]);
            assert_eq!(&values[6..12], &[0, 1, -1, -1, 2047, -2048]);
            assert_eq!(&values[12..18], &[0; 6]);
            assert_eq!(&values[24..], &[0, 1, -1, -1, 2047, -2048]);
        }
        // A batch of the wrong size is an error, not a panic.
        let mut short = vec![0f32; 7];
        let batch = Batch::Float(&mut short);
        let recent = RecentFiles::default();
        assert!(read_batch(&items, geometry, batch, Processing::default(), 2, &recent).is_err());
        // Another frame shape: every frame of that file falls back.
        let wide = FrameGeometry {
            columns: 2,
            rows: 3,
            ..geometry
        };
        let mut out = vec![0f32; 5 * 6];
        let outcome = read_batch(
            &items,
            wide,
            Batch::Float(&mut out),
            Processing::default(),
            2,
            &RecentFiles::default(),
        )
        .unwrap();
        assert_eq!(outcome.fallbacks.len(), 5);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn frames_read_after_the_header() {
        // Frames of 3000 x 3 samples: the files outgrow the head read.
        let samples: Vec<i16> = (0..18_000).map(|i| (i % 4096) as i16 - 2048).collect();
        let dir = std::env::temp_dir().join(format!("dcmfast-head-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let extra = [
            element(RESCALE_INTERCEPT, "DS", b"-3", true),
            element(RESCALE_SLOPE, "DS", b"2 ", true),
        ];
        for ts in ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"] {
            let path = dir.join(format!("{ts}.dcm"));
            let bytes = file(
                ts,
                &samples,
                3000,
                2,
                if ts.ends_with(".1") { &extra } else { &[] },
            );
            assert!(bytes.len() > HEAD);
            std::fs::write(&path, &bytes).unwrap();
            let f = PixelFile::open(&path).unwrap();
            assert!(matches!(f.data, Data::File(_)));
            let mapped = open(bytes.clone()).unwrap();
            for index in 0..2 {
                assert_eq!(raw(&f, index), raw(&mapped, index));
                assert_eq!(raw(&f, index)[..3], samples[index * 9000..index * 9000 + 3]);
            }
            let t = f
                .transform(Processing {
                    modality_lut: true,
                    ..Processing::default()
                })
                .unwrap();
            let (mut a, mut b) = (vec![0f32; 9000], vec![0f32; 9000]);
            f.read_frame(1, Slot::Float(&mut a), &t, &mut Scratch::default())
                .unwrap();
            mapped
                .read_frame(1, Slot::Float(&mut b), &t, &mut Scratch::default())
                .unwrap();
            assert_eq!(a, b);
            // Cut short: the length check fails from the head as from the whole file.
            std::fs::write(&path, &bytes[..bytes.len() - 2]).unwrap();
            assert!(PixelFile::open(&path).is_err());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// 16-bit samples as one RLE Lossless fragment: the high bytes' segment, then the low
    /// bytes', each in literal runs (padded to even length with a no-op byte).
    fn rle_fragment(samples: &[i16]) -> Vec<u8> {
        let segment = |byte: usize| {
            let bytes: Vec<u8> = samples.iter().map(|v| v.to_be_bytes()[byte]).collect();
            let mut out = Vec::new();
            for run in bytes.chunks(128) {
                out.push(run.len() as u8 - 1);
                out.extend_from_slice(run);
            }
            if out.len() % 2 == 1 {
                out.push(0x80);
            }
            out
        };
        let (high, low) = (segment(0), segment(1));
        let mut header = [0u32; 16];
        header[0] = 2;
        header[1] = 64;
        header[2] = 64 + high.len() as u32;
        let mut out: Vec<u8> = header.iter().flat_map(|v| v.to_le_bytes()).collect();
        out.extend(high);
        out.extend(low);
        out
    }

    /// An RLE Lossless file of `frames` frames of `rows` x 3 from `samples`, with a Basic
    /// Offset Table when `table`.
    fn rle_file(samples: &[i16], rows: u16, frames: u16, table: bool) -> Vec<u8> {
        let mut out = file(RLE_LOSSLESS, &[], rows, frames, &[]);
        out.truncate(out.len() - 12); // the empty native Pixel Data
        out.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0]);
        out.extend_from_slice(&u32::MAX.to_le_bytes());
        let item = |value: &[u8]| {
            let mut item = vec![0xFE, 0xFF, 0x00, 0xE0];
            item.extend_from_slice(&(value.len() as u32).to_le_bytes());
            item.extend_from_slice(value);
            item
        };
        let per_frame = samples.len() / usize::from(frames);
        let fragments: Vec<Vec<u8>> = samples
            .chunks(per_frame)
            .map(|frame| item(&rle_fragment(frame)))
            .collect();
        let mut offsets = Vec::new();
        let mut at = 0u32;
        for fragment in &fragments {
            offsets.extend_from_slice(&at.to_le_bytes());
            at += fragment.len() as u32;
        }
        out.extend(item(if table { &offsets } else { &[] }));
        out.extend(fragments.concat());
        out.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        out
    }

    #[test]
    fn rle_frames_found_from_the_item_headers() {
        let samples: Vec<i16> = (0..18_000).map(|i| (i % 4096) as i16 - 2048).collect();
        let dir = std::env::temp_dir().join(format!("dcmfast-rle-head-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rle.dcm");
        let described = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            let file = File::open(&path).unwrap();
            let head = Source::read_head(&file, bytes.len() as u64, HEAD).unwrap();
            PixelFile::describe(head, Some((file, bytes.len() as u64)))
        };
        for table in [false, true] {
            let bytes = rle_file(&samples, 3000, 2, table);
            assert!(bytes.len() > HEAD);
            // Found from the head and the item headers alone, as from the whole file.
            let from_head = described(&bytes).unwrap().unwrap();
            let whole = open(bytes.clone()).unwrap();
            match (&from_head.frames, &whole.frames) {
                (Frames::Rle(a), Frames::Rle(b)) => assert_eq!(a, b),
                _ => panic!("not RLE frames"),
            }
            let opened = PixelFile::open(&path).unwrap();
            for index in 0..2 {
                assert_eq!(raw(&opened, index), raw(&whole, index));
                assert_eq!(
                    raw(&opened, index)[..3],
                    samples[index * 9000..index * 9000 + 3]
                );
            }
        }
        // Items that do not lead to the delimiter (a fragment's length overshoots it) are
        // left to the whole file's walk, which finds the delimiter by its bytes.
        let mut bytes = rle_file(&samples, 3000, 2, false);
        let last = bytes.len() - 8 - rle_fragment(&samples[9000..]).len() - 4;
        let length = u32::from_le_bytes(bytes[last..last + 4].try_into().unwrap());
        bytes[last..last + 4].copy_from_slice(&(length + 2).to_le_bytes());
        assert!(described(&bytes).unwrap().is_none());
        assert_eq!(
            PixelFile::open(&path).map(|f| f.number_of_frames()).ok(),
            open(bytes.clone()).map(|f| f.number_of_frames()).ok()
        );
        // A stray tag among the items, or none of them: the whole file decides too.
        let mut bytes = rle_file(&samples, 3000, 2, false);
        let end = bytes.len();
        bytes[end - 8..end - 4].copy_from_slice(&[0x08, 0x00, 0x10, 0x00]);
        assert!(described(&bytes).unwrap().is_none());
        assert!(PixelFile::open(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

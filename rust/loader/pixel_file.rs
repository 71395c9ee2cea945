//! One file's pixel data described as pydicom 3.0.2 decodes it: the walk up to the pixel
//! data, where its frames are, and where their bytes come from.

use super::attributes::{Dataset, ImageLayout};
use super::fallback::Fallback;
use super::frames::read_at;
use super::processing::{LutAttributes, Processing};
use super::FrameGeometry;
use crate::mapping::Mapping;
use crate::parse::{self, Element, ParsedFile, ReadOptions, ValueKind, UNDEFINED_LENGTH};
use crate::pixels::encapsulated;
use crate::pixels::layout::{NativeValue, NotPlain};
use crate::pixels::lut::Transform;
use crate::pixels::native::SampleFormat;
use crate::read::{self, HeadReads, Settled};
use crate::source::Source;
use crate::tags::{
    DOUBLE_FLOAT_PIXEL_DATA, EXTENDED_OFFSET_TABLE, EXTENDED_OFFSET_TABLE_LENGTHS,
    FLOAT_PIXEL_DATA, PIXEL_DATA,
};
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::Path;

pub(super) const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";
const NATIVE_SYNTAXES: [&str; 3] = [
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
];

/// Where a file's frames are.
#[derive(Debug, Clone)]
pub(super) enum Frames {
    /// Native data: frame `k` is `frame_len` bytes from `start + k * frame_len`.
    Native { start: usize },
    /// RLE Lossless, one fragment per frame: each frame's byte range.
    Rle(Vec<Range<usize>>),
}

/// Where a file's bytes come from.
pub(super) enum Data {
    /// All of them, mapped (or held in memory).
    Source(Source),
    /// Only the header was read; native frames are read from the file when wanted, straight
    /// into their slot (no mapping to set up, fault in and tear down per file).
    File(File),
}

/// Bytes read from the start of a file to find its pixel data; a header longer than this
/// gets the file mapped instead.
pub(super) const HEAD: usize = 16 * 1024;

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

/// One file's pixel data, described as pydicom decodes it, and where its bytes come from.
pub struct PixelFile {
    pub(super) data: Data,
    pub(super) image: ImageLayout,
    /// How samples are stored (RLE: as decoded, little endian).
    pub(super) format: SampleFormat,
    pub(super) frames: Frames,
    pub(super) luts: LutAttributes,
}

/// A file's pixel data as `Pixels::describe` finds it: a `PixelFile` before the source of
/// its bytes is chosen.
pub(super) struct Pixels {
    image: ImageLayout,
    format: SampleFormat,
    pub(super) frames: Frames,
    luts: LutAttributes,
}

impl Pixels {
    /// The described file whose bytes come from `data`.
    fn with_data(self, data: Data) -> PixelFile {
        let Pixels {
            image,
            format,
            frames,
            luts,
        } = self;
        PixelFile {
            data,
            image,
            format,
            frames,
            luts,
        }
    }
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
        let file = read::open_nonblocking(path).map_err(Fallback::io)?;
        let meta = file.metadata().map_err(Fallback::io)?;
        if let Some(what) = read::not_regular(meta.file_type()) {
            return Err(Fallback::NotRegular(what));
        }
        let len = meta.len();
        let reads = HeadReads {
            heads: &[head],
            whole_read: 0,
        };
        let mut buf = Vec::new();
        let settled = read::settle(&file, Some(&meta), None, reads, &mut buf, |head| {
            // A walk cut short by the end of the head is no verdict: the whole file decides.
            Ok::<_, io::Error>(Pixels::describe(head, Some((&file, len))).ok().flatten())
        });
        let source = match settled.map_err(Fallback::io)? {
            Settled::Head(pixels) => {
                let data = match pixels.frames {
                    // RLE frames are decoded from a mapping, whose pages the decoding
                    // threads fault in.
                    Frames::Rle(_) => {
                        let mapping = Mapping::whole(&file, len, None).map_err(Fallback::io)?;
                        Data::Source(Source::Mapped(mapping))
                    }
                    Frames::Native { .. } => Data::File(file),
                };
                return Ok(pixels.with_data(data));
            }
            Settled::Whole => Source::Owned(buf),
            Settled::Mapped(mapping) => Source::Mapped(mapping),
            Settled::NotRegular(what) => return Err(Fallback::NotRegular(what)),
        };
        PixelFile::from_source(source)
    }

    /// Describe the Part 10 file held in `source`.
    pub fn from_source(source: Source) -> Result<PixelFile, Fallback> {
        let pixels = Pixels::describe(source.bytes(), None)?;
        let pixels = pixels.ok_or(Fallback::Unsupported("not described"))?;
        Ok(pixels.with_data(Data::Source(source)))
    }

    /// The frame geometry.
    pub fn geometry(&self) -> FrameGeometry {
        self.image.geometry()
    }

    /// The sample type of pydicom's array (its byte order aside).
    pub fn sample_format(&self) -> SampleFormat {
        self.format
    }

    /// Number of frames.
    pub fn number_of_frames(&self) -> usize {
        self.image.layout.number_of_frames
    }

    /// The per-sample arithmetic `processing` amounts to for this dataset, or why pydicom
    /// must do it (a lookup table, a value pydicom raises on or reads unusually).
    pub fn transform(&self, processing: Processing) -> Result<Transform, Fallback> {
        self.luts.transform(
            processing,
            self.image.layout.bits_stored,
            self.format.signed,
        )
    }
}

impl Pixels {
    /// The pixel data of the file whose bytes are `buf`, or whose first bytes are when
    /// `head_of` gives the file and its length: then the walk stops before the pixel data, as
    /// pydicom's `pixel_array(path)` reads, and must end within them (`read::ends_within`),
    /// and only data lying wholly in the file is described; None means the whole file is
    /// needed.
    pub(super) fn describe(
        buf: &[u8],
        head_of: Option<(&File, u64)>,
    ) -> Result<Option<Pixels>, Fallback> {
        // What pydicom's `pixel_array(path)` reads: the dataset up to the pixel data.
        let opts = ReadOptions {
            stop_before_pixels: true,
            ..ReadOptions::pydicom_defaults()
        };
        let parsed = parse::parse_file(buf, &opts).map_err(Fallback::Parse)?;
        if head_of.is_some() && !read::ends_within(&parsed, buf.len()) {
            return Ok(None);
        }
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
        let Some(pixel) = pixel_data_element(buf, &parsed, &opts, head_of.is_some())? else {
            return Ok(None);
        };
        let image = ImageLayout::read(&dataset, little)?;
        let frames = if rle {
            match rle_frames(buf, &pixel, head_of, image.layout.number_of_frames)? {
                Some(frames) => frames,
                None => return Ok(None),
            }
        } else {
            let len = head_of.map(|(_, len)| len);
            native_frames(buf, &pixel, len, &image, little)?
        };
        let format = image.layout.sample_format(rle || little);
        let luts = LutAttributes::read(&dataset, image.monochrome);
        Ok(Some(Pixels {
            image,
            format,
            frames,
            luts,
        }))
    }
}

/// The Pixel Data element of a walk that stopped where the pixel data starts: its header
/// must be there, in the dataset's encoding, with a VR pydicom reads it by. Of a head
/// (`head` true) that is all there is to know (None: not there); of a whole file, the
/// whole walk gives its value's extent (an encapsulated one's delimiter), unless a later
/// Pixel Data took its place.
fn pixel_data_element(
    buf: &[u8],
    parsed: &ParsedFile,
    opts: &ReadOptions,
    head: bool,
) -> Result<Option<Element>, Fallback> {
    let at = parse::pixel_data_at(buf, parsed, opts);
    let pixel = if head {
        match at {
            Some(e) => e,
            None => return Ok(None),
        }
    } else {
        let whole =
            parse::parse_file(buf, &ReadOptions::pydicom_defaults()).map_err(Fallback::Parse)?;
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
    };
    if pixel.kind != ValueKind::Bytes {
        return Err(Fallback::Unsupported("Pixel Data not read"));
    }
    Ok(Some(pixel))
}

/// The byte ranges of RLE frames, one fragment each: from the value in `buf`, or (with
/// `head_of`, the file and its length) from its item headers read from the file; None when
/// those items lead elsewhere than the whole file's walk would find.
fn rle_frames(
    buf: &[u8],
    pixel: &Element,
    head_of: Option<(&File, u64)>,
    number_of_frames: usize,
) -> Result<Option<Frames>, Fallback> {
    if pixel.length != UNDEFINED_LENGTH {
        return Err(Fallback::Unsupported(
            "encapsulated Pixel Data of defined length",
        ));
    }
    let ranges = match head_of {
        Some((file, len)) => {
            let start = pixel.value_offset;
            let value = FileValue {
                file,
                start,
                size: usize::try_from(len)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(start),
            };
            // The value is what lies before the delimiter the items lead to, as the whole
            // file's walk finds it; items that lead elsewhere are left to that walk.
            let items = encapsulated::items(&value, true);
            let Some(end) = items.as_ref().and_then(|items| items.delimiter) else {
                return Ok(None);
            };
            items.and_then(|items| {
                encapsulated::item_frame_ranges(items, end, number_of_frames, None)
            })
        }
        None => {
            let value = parse::value_bytes(buf, pixel);
            encapsulated::frame_ranges(value, true, number_of_frames, None)
        }
    }
    .ok_or(Fallback::Unsupported("RLE frames not one fragment each"))?;
    let offset = pixel.value_offset;
    Ok(Some(Frames::Rle(
        ranges
            .into_iter()
            .map(|r| r.start + offset..r.end + offset)
            .collect(),
    )))
}

/// Where native frames start, when the value holds exactly the frames pydicom expects (one
/// pad byte allowed) in a layout it does not swap. `file_len`: the file's length when `buf`
/// is only its head (the value's bytes are then those the file holds).
fn native_frames(
    buf: &[u8],
    pixel: &Element,
    file_len: Option<u64>,
    image: &ImageLayout,
    little: bool,
) -> Result<Frames, Fallback> {
    // The value's bytes in the file (fewer than its length when the file is short).
    let present = match file_len {
        Some(len) => {
            let rest = len.saturating_sub(pixel.value_offset as u64);
            usize::try_from(rest.min(u64::from(pixel.length))).unwrap_or(usize::MAX)
        }
        None => parse::value_bytes(buf, pixel).len(),
    };
    if pixel.length == UNDEFINED_LENGTH {
        return Err(Fallback::Layout(NotPlain::Length));
    }
    let value = NativeValue {
        little_endian: little,
        vr: pixel.vr,
        length: present,
    };
    image
        .layout
        .check_native(&value)
        .map_err(Fallback::Layout)?;
    Ok(Frames::Native {
        start: pixel.value_offset,
    })
}

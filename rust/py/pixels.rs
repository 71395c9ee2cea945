//! Pixel data for Python: the RLE plugin's frame decoder, and `PixelRegion`, a file's pixel
//! data value as native arrays view it and whole arrays are decoded from it. Thin wrappers
//! that release the GIL around the work.

use crate::parse::Element;
use crate::pixels::encapsulated;
use crate::pixels::layout::{self, ImagePixel, NativeValue};
use crate::pixels::native::{self, SampleFormat};
use crate::pixels::rle::{self, FrameShape, Layout, SegmentOrder};
use crate::pixels::volume::{self, Slices};
use crate::source::{PrivateRange, Store};
use crate::vr::Vr;
use numpy::ndarray::ArrayView1;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::{PyBaseException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyInt};
use std::sync::{Arc, OnceLock};

/// One RLE Lossless frame as pydicom's RLE decoder decodes it: the frame as a `bytearray` in
/// pydicom's layout (planar configuration 1, little endian samples) or None, pydicom's
/// padding warnings in the order pydicom emits them, then the exception to raise after them
/// (or None).
#[pyclass(frozen, module = "dcmfast._core", get_all)]
pub struct DecodedFrame {
    frame: Option<Py<PyByteArray>>,
    warnings: Vec<String>,
    error: Option<Py<PyBaseException>>,
}

impl DecodedFrame {
    fn new(
        py: Python<'_>,
        frame: Option<Bound<'_, PyByteArray>>,
        warnings: Vec<String>,
        error: Option<PyErr>,
    ) -> Self {
        DecodedFrame {
            frame: frame.map(Bound::unbind),
            warnings,
            error: error.map(|err| err.into_value(py)),
        }
    }
}

/// Decode one RLE Lossless frame as pydicom's RLE decoder does (see `DecodedFrame`).
#[pyfunction]
#[pyo3(signature = (src, rows, columns, samples_per_pixel, bits_allocated, segment_order = ">"))]
pub fn rle_decode_frame(
    py: Python<'_>,
    src: &Bound<'_, PyBytes>,
    rows: u32,
    columns: u32,
    samples_per_pixel: u32,
    bits_allocated: u32,
    segment_order: &str,
) -> PyResult<DecodedFrame> {
    let shape = FrameShape {
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
    };
    let order = segment_order_of(segment_order);
    let data = src.as_bytes();
    // pydicom's checks come before its allocation, so their errors take precedence.
    let frame_len = match rle::check_header(data, shape).and_then(|_| shape.frame_len()) {
        Ok(len) => len,
        Err(err) => return Ok(DecodedFrame::new(py, None, Vec::new(), Some(err.into()))),
    };
    let mut outcome = None;
    // Decoded straight into the bytearray handed back; nothing else can see it yet, so the
    // GIL need not be held while it is written.
    let frame = PyByteArray::new_with(py, frame_len, |out| {
        outcome = Some(py.detach(|| rle::decode_frame(data, shape, order, out)));
        Ok(())
    })?;
    Ok(match outcome.expect("the initialiser ran") {
        Ok(padding) => DecodedFrame::new(py, Some(frame), padding.messages().collect(), None),
        Err((err, padding)) => {
            DecodedFrame::new(py, None, padding.messages().collect(), Some(err.into()))
        }
    })
}

/// The bytes of one still-unconverted pixel data value in a file's store: native arrays
/// view or copy them, encoded frames are decoded from them, and nothing is copied into
/// Python bytes.
#[pyclass(frozen, module = "dcmfast._core")]
pub struct PixelRegion {
    source: Arc<Store>,
    start: usize,
    len: usize,
    vr: Option<Vr>,
}

/// Native arrays at least this large view a private mapping of the file; smaller ones are
/// read into memory. A read of the bytes alone is the cheaper up to about 1 MiB
/// (`benches/report_view_or_copy.py`), but for a dataset read afresh a 512 KiB frame was
/// made faster as a view (`benches/report_pixels.py`, frame and single), so views start
/// below it.
const VIEW_MIN: usize = 256 * 1024;

impl PixelRegion {
    /// The bytes of `element`'s value in `source`, as much of them as it holds.
    pub fn new(source: Arc<Store>, element: &Element) -> Self {
        let range = element.value_range();
        let end = range.end.min(source.len());
        let start = range.start.min(end);
        let vr = element.vr;
        PixelRegion {
            source,
            start,
            len: end - start,
            vr,
        }
    }

    /// The value's bytes (an error when another writer changed the mapped file).
    fn bytes(&self) -> PyResult<&[u8]> {
        self.source
            .get(self.start, self.start + self.len)
            .map_err(PyErr::from)
    }

    /// Checks that `start..start + length` lies within the value, or pydicom's error.
    fn check_range(&self, start: usize, length: usize) -> PyResult<()> {
        match start.checked_add(length) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(PyValueError::new_err(format!(
                "bytes {start}..{start}+{length} are beyond the {} bytes of pixel data",
                self.len
            ))),
        }
    }
}

/// Owns the private mapping a native pixel array views; the array's base, so the mapping
/// lives as long as any array (or view of one) needs it.
#[pyclass(frozen, module = "dcmfast._core")]
pub struct PixelMap {
    // Held, never read: the array reads and writes through its own pointer.
    _range: PrivateRange,
}

#[pymethods]
impl PixelRegion {
    fn __len__(&self) -> usize {
        self.len
    }

    /// The value's VR as the file states it (None when implicit).
    #[getter]
    fn vr(&self) -> Option<Vr> {
        self.vr
    }

    /// A writeable uint8 array of `length` bytes from `start`: for a large range of a
    /// mapped file, a copy-on-write view of it (writes stay private to the array), else a
    /// copy.
    // The binding layer's one unsafe code: an array that borrows a mapping (rust-numpy's
    // `borrow_from_array`), so crossing to numpy copies nothing.
    #[allow(unsafe_code)]
    fn array<'py>(
        &self,
        py: Python<'py>,
        start: usize,
        length: usize,
    ) -> PyResult<Bound<'py, PyArray1<u8>>> {
        self.check_range(start, length)?;
        let from = self.start + start;
        let mapped = (length >= VIEW_MIN)
            .then(|| py.detach(|| self.source.private_range(from, length)))
            .flatten();
        let Some(range) = mapped else {
            let copy = py.detach(|| self.source.read_bulk(from, length))?;
            return Ok(PyArray1::from_vec(py, copy));
        };
        let (ptr, len) = range.as_mut_ptr();
        let owner = Bound::new(py, PixelMap { _range: range })?;
        // SAFETY: `ptr..ptr + len` is the private mapping now owned by `owner`; moving the
        // `PrivateRange` into it moved the handle, not the pages, so the pointer stays valid
        // until `owner` is dropped, and `owner` becomes the array's base, which numpy keeps
        // alive as long as this array or any view of it exists. Nothing else writes these
        // pages: the mapping is fresh and private to this array (detaching it replaces the
        // pages with a copy of the same bytes at the same address).
        let view = unsafe { ArrayView1::from_shape_ptr(len, ptr as *const u8) };
        // SAFETY: as above, the data outlives the array through its base object `owner`, and
        // the mapping is never reallocated or unmapped before `owner` is dropped.
        Ok(unsafe { PyArray1::borrow_from_array(&view, owner.into_any()) })
    }

    /// Each frame's (start, end) in this encapsulated value when every frame is one
    /// contiguous range, else None (pydicom then maps the frames). `offsets` and `lengths`:
    /// the Extended Offset Table and its lengths, when the dataset has them.
    #[pyo3(signature = (number_of_frames, little = true, *, offsets = None, lengths = None))]
    fn frame_ranges(
        &self,
        number_of_frames: usize,
        little: bool,
        offsets: Option<Vec<u64>>,
        lengths: Option<Vec<u64>>,
    ) -> PyResult<Option<Vec<(usize, usize)>>> {
        let extended = match (&offsets, &lengths) {
            (Some(offsets), Some(lengths)) => Some((offsets.as_slice(), lengths.as_slice())),
            (None, None) => None,
            _ => {
                return Err(PyValueError::new_err(
                    "extended offsets and lengths come together",
                ))
            }
        };
        let Ok(bytes) = self.bytes() else {
            return Ok(None);
        };
        let ranges = encapsulated::frame_ranges(bytes, little, number_of_frames, extended);
        Ok(ranges.map(|ranges| ranges.into_iter().map(|r| (r.start, r.end)).collect()))
    }

    /// Decode the RLE frames at `ranges` into `out` (a C-contiguous uint8 array of exactly
    /// their decoded size) in pydicom's final layout, frames in parallel with the GIL
    /// released. With `bits_stored` (and the samples' `dtype`), pydicom's Bits Stored
    /// correction is applied to each frame as it is decoded (where it changes anything).
    /// Returns each frame's warnings, or None when any frame fails (pydicom's pipeline then
    /// decodes, to raise exactly its errors).
    // The frame shape is four DICOM attributes; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (
        ranges,
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        out,
        segment_order = ">",
        *,
        dtype = None,
        bits_stored = None,
    ))]
    fn rle_decode<'py>(
        &self,
        py: Python<'py>,
        ranges: Vec<(usize, usize)>,
        rows: u32,
        columns: u32,
        samples_per_pixel: u32,
        bits_allocated: u32,
        out: &Bound<'py, PyArray1<u8>>,
        segment_order: &str,
        dtype: Option<&str>,
        bits_stored: Option<u32>,
    ) -> PyResult<Option<Vec<Vec<String>>>> {
        let correct = match (bits_stored, dtype) {
            (Some(bits_stored), Some(dtype)) => Some((sample_format(dtype)?, bits_stored)),
            (Some(_), None) => {
                return Err(PyValueError::new_err(
                    "correcting Bits Stored needs the samples' dtype",
                ))
            }
            (None, _) => None,
        };
        let after = |frame: &mut [u8]| {
            if let Some((format, bits_stored)) = correct {
                native::fix_bits_stored(frame, format, bits_stored);
            }
        };
        let shape = FrameShape {
            rows,
            columns,
            samples_per_pixel,
            bits_allocated,
        };
        let bytes = self.bytes()?;
        let frames = ranges
            .iter()
            .map(|&(start, end)| {
                bytes
                    .get(start..end)
                    .ok_or_else(|| PyValueError::new_err("frame range out of bounds"))
            })
            .collect::<PyResult<Vec<&[u8]>>>()?;
        let order = segment_order_of(segment_order);
        let mut out = out.try_readwrite()?;
        let out = out.as_slice_mut()?;
        let expected = shape
            .frame_len()
            .ok()
            .and_then(|len| len.checked_mul(frames.len()));
        if expected != Some(out.len()) {
            return Err(PyValueError::new_err(format!(
                "the output holds {} bytes, the frames decode to {expected:?}",
                out.len()
            )));
        }
        let threads = threads();
        let results = py.detach(|| {
            rle::decode_frames(
                &frames,
                shape,
                order,
                Layout::Interleaved,
                out,
                threads,
                &after,
            )
        })?;
        Ok(results
            .into_iter()
            .map(|r| r.ok().map(|padding| padding.messages().collect()))
            .collect())
    }
}

/// pydicom's correction of unused bits (`_correct_unused_bits`) applied in place to `data`,
/// the bytes of samples of `dtype` with `bits_stored` bits used, where it changes any value:
/// checked on several threads with the GIL released, so data whose unused bits are clear
/// (or copy the sign) is only read.
#[pyfunction]
pub fn correct_unused_bits(
    py: Python<'_>,
    data: &Bound<'_, PyArray1<u8>>,
    dtype: &str,
    bits_stored: u32,
) -> PyResult<()> {
    let format = sample_format(dtype)?;
    let mut data = data.try_readwrite()?;
    let data = data.as_slice_mut()?;
    let threads = threads();
    py.detach(|| {
        if !native::fits_bits_stored_parallel(data, format, bits_stored, threads) {
            native::correct_bits_stored(data, format, bits_stored);
        }
    });
    Ok(())
}

/// How plain native pixel data becomes pydicom's array (`native_layout` says when it is).
#[pyclass(frozen, module = "dcmfast._core")]
pub struct NativeLayout(layout::NativeLayout);

#[pymethods]
impl NativeLayout {
    #[getter]
    fn rows(&self) -> u32 {
        self.0.frames.rows
    }

    #[getter]
    fn columns(&self) -> u32 {
        self.0.frames.columns
    }

    #[getter]
    fn samples_per_pixel(&self) -> u32 {
        self.0.frames.samples_per_pixel
    }

    /// True for colour-by-plane data (Planar Configuration 1).
    #[getter]
    fn planar(&self) -> bool {
        self.0.frames.planar
    }

    /// The samples' numpy dtype as stored, e.g. "<u2", ">i2", "|u1".
    #[getter]
    fn dtype(&self) -> String {
        dtype_of(self.0.format)
    }

    #[getter]
    fn bits_allocated(&self) -> u32 {
        self.0.frames.bits_allocated
    }

    #[getter]
    fn bits_stored(&self) -> u32 {
        self.0.frames.bits_stored
    }

    /// True when Bits Stored is less than Bits Allocated: pydicom corrects unused bits.
    #[getter]
    fn unused_bits(&self) -> bool {
        self.0.frames.has_unused_bits()
    }

    #[getter]
    fn number_of_frames(&self) -> usize {
        self.0.frames.number_of_frames
    }

    /// Bytes in one frame.
    #[getter]
    fn frame_length(&self) -> usize {
        self.0.frames.frame_len
    }
}

/// The layout of native pixel data pydicom's pipeline would only reshape and correct the
/// unused bits of, or None when its pipeline must decide (`layout::native_layout`). The
/// Image Pixel values are the caller's (None where absent or not plain; an int outside
/// 0..2**32 is no value the rule accepts), `number_of_frames` 1 when absent.
// The rule's inputs, one keyword each; a class would only rename them.
#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (
    *,
    rows,
    columns,
    samples_per_pixel,
    bits_allocated,
    bits_stored,
    pixel_representation,
    photometric_interpretation,
    planar_configuration,
    number_of_frames,
    little_endian,
    pixel_vr,
    pixel_length,
))]
pub fn native_layout(
    rows: Option<&Bound<'_, PyInt>>,
    columns: Option<&Bound<'_, PyInt>>,
    samples_per_pixel: Option<&Bound<'_, PyInt>>,
    bits_allocated: Option<&Bound<'_, PyInt>>,
    bits_stored: Option<&Bound<'_, PyInt>>,
    pixel_representation: Option<&Bound<'_, PyInt>>,
    photometric_interpretation: Option<&str>,
    planar_configuration: Option<&Bound<'_, PyInt>>,
    number_of_frames: Option<&Bound<'_, PyInt>>,
    little_endian: bool,
    pixel_vr: Option<&str>,
    pixel_length: usize,
) -> Option<NativeLayout> {
    fn int<T: for<'a, 'py> FromPyObject<'a, 'py>>(value: Option<&Bound<'_, PyInt>>) -> Option<T> {
        value.and_then(|v| v.extract().ok())
    }
    let image = ImagePixel {
        rows: int(rows),
        columns: int(columns),
        samples_per_pixel: int(samples_per_pixel),
        bits_allocated: int(bits_allocated),
        bits_stored: int(bits_stored),
        pixel_representation: int(pixel_representation),
        photometric_interpretation,
        planar_configuration: int(planar_configuration),
        number_of_frames: int(number_of_frames),
    };
    let value = NativeValue {
        little_endian,
        // The VR as the file states it (`PixelRegion.vr`), back from its text.
        vr: pixel_vr.and_then(Vr::from_name),
        length: pixel_length,
    };
    layout::native_layout(&image, &value).ok().map(NativeLayout)
}

/// The slices of `src` (`count` x `rows` x `columns` x `samples`, C order, flattened) stacked
/// on a new last axis into `volume` (flattened), rows and columns swapped if `swap`, as MONAI's
/// PydicomReader lays a series out (`pixels::volume`). With `slope`, each sample is rescaled
/// as `astype(float32) * slope + intercept` computes it in float64, and `volume` is float64
/// or float32 (the float64 values rounded); without, `volume` has `src`'s type. Samples are 8, 16 or 32-bit integers in native byte
/// order. Several threads, GIL released.
// The volume's shape and rescale, one keyword each; a class would only rename them.
#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (src, volume, *, count, rows, columns, samples, swap, slope = None, intercept = 0.0))]
pub fn stack_slices(
    py: Python<'_>,
    src: &Bound<'_, PyAny>,
    volume: &Bound<'_, PyAny>,
    count: usize,
    rows: usize,
    columns: usize,
    samples: usize,
    swap: bool,
    slope: Option<f64>,
    intercept: f64,
) -> PyResult<()> {
    let shape = Slices {
        count,
        rows,
        columns,
        samples,
        swap,
    };
    let len = count
        .checked_mul(rows)
        .and_then(|n| n.checked_mul(columns))
        .and_then(|n| n.checked_mul(samples))
        .ok_or_else(|| PyValueError::new_err("stack_slices: shape too large"))?;
    let threads = threads();
    macro_rules! stack_as {
        ($($t:ty),*) => {$(
            if let Ok(src) = src.cast::<PyArray1<$t>>() {
                let src = src.try_readonly()?;
                let src = src.as_slice()?;
                check_len(src.len(), len, "src")?;
                let Some(slope) = slope else {
                    let mut out = volume.cast::<PyArray1<$t>>()?.try_readwrite()?;
                    let out = out.as_slice_mut()?;
                    check_len(out.len(), len, "volume")?;
                    py.detach(|| volume::stack(src, shape, out, threads));
                    return Ok(());
                };
                if let Ok(volume) = volume.cast::<PyArray1<f32>>() {
                    let mut out = volume.try_readwrite()?;
                    let out = out.as_slice_mut()?;
                    check_len(out.len(), len, "volume")?;
                    py.detach(|| volume::stack_rescaled(src, shape, slope, intercept, out, threads));
                    return Ok(());
                }
                let mut out = volume.cast::<PyArray1<f64>>()?.try_readwrite()?;
                let out = out.as_slice_mut()?;
                check_len(out.len(), len, "volume")?;
                py.detach(|| volume::stack_rescaled(src, shape, slope, intercept, out, threads));
                return Ok(());
            }
        )*};
    }
    stack_as!(u8, i8, u16, i16, u32, i32);
    Err(PyTypeError::new_err(
        "stack_slices: src must hold 8, 16 or 32-bit integers in native byte order",
    ))
}

/// An error unless `name` (src or volume) has the `len` elements of the shape given.
fn check_len(actual: usize, len: usize, name: &str) -> PyResult<()> {
    if actual == len {
        return Ok(());
    }
    Err(PyValueError::new_err(format!(
        "stack_slices: {name} has {actual} elements, the shape {len}"
    )))
}

/// Threads for parallel work: the CPUs this process may use, looked up once (the lookup
/// reads cgroup files, too slow to repeat per call).
pub(super) fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The sample format of an integer numpy dtype string ("<u2", ">i2", "|u1", ...).
pub(super) fn sample_format(dtype: &str) -> PyResult<SampleFormat> {
    match dtype.as_bytes() {
        [order, kind @ (b'u' | b'i'), size @ (b'1' | b'2' | b'4' | b'8')] => Ok(SampleFormat {
            bytes: usize::from(size - b'0'),
            little: *order != b'>',
            signed: *kind == b'i',
        }),
        _ => Err(PyValueError::new_err(format!(
            "not an integer sample dtype: {dtype:?}"
        ))),
    }
}

/// The numpy dtype of samples stored as `format` ("|u1" for single bytes, which have no
/// byte order).
pub(super) fn dtype_of(format: SampleFormat) -> String {
    let order = match (format.bytes, format.little) {
        (1, _) => '|',
        (_, true) => '<',
        (_, false) => '>',
    };
    let kind = if format.signed { 'i' } else { 'u' };
    format!("{order}{kind}{}", format.bytes)
}

fn segment_order_of(option: &str) -> SegmentOrder {
    match option {
        "<" => SegmentOrder::Little,
        ">" => SegmentOrder::Big,
        _ => SegmentOrder::Other,
    }
}

//! Pixel data for Python: the RLE plugin's frame decoder, and `PixelRegion`, a file's pixel
//! data value as native arrays view it and whole arrays are decoded from it. Thin wrappers
//! that release the GIL around the work.

use crate::mapping::FileChanged;
use crate::pixels::encapsulated;
use crate::pixels::native::{self, SampleFormat};
use crate::pixels::rle::{self, FrameShape, Layout, SegmentOrder};
use crate::source::{PrivateRange, Store};
use crate::vr::Vr;
use numpy::ndarray::ArrayView1;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use std::sync::{Arc, OnceLock};

/// A decoded frame (or None), the warnings to emit, then the error to raise (or None).
type DecodeOutcome<'py> = (Option<Bound<'py, PyByteArray>>, Vec<String>, Option<PyErr>);

/// Decode one RLE Lossless frame as pydicom's RLE decoder does.
///
/// Returns `(frame, warnings, error)`: the frame as a `bytearray` in pydicom's layout
/// (planar configuration 1, little endian samples) or None, pydicom's padding warnings in
/// the order pydicom emits them, and the exception to raise after them (or None).
#[pyfunction]
#[pyo3(signature = (src, rows, columns, samples_per_pixel, bits_allocated, segment_order = ">"))]
pub fn rle_decode_frame<'py>(
    py: Python<'py>,
    src: &Bound<'py, PyBytes>,
    rows: u32,
    columns: u32,
    samples_per_pixel: u32,
    bits_allocated: u32,
    segment_order: &str,
) -> PyResult<DecodeOutcome<'py>> {
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
        Err(err) => return Ok((None, Vec::new(), Some(err.into()))),
    };
    let mut outcome = None;
    // Decoded straight into the bytearray handed back; nothing else can see it yet, so the
    // GIL need not be held while it is written.
    let frame = PyByteArray::new_with(py, frame_len, |out| {
        outcome = Some(py.detach(|| rle::decode_frame(data, shape, order, out)));
        Ok(())
    })?;
    match outcome.expect("the initialiser ran") {
        Ok(padding) => Ok((Some(frame), padding.messages().collect(), None)),
        Err((err, padding)) => Ok((None, padding.messages().collect(), Some(err.into()))),
    }
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
    pub fn new(source: Arc<Store>, start: usize, len: usize, vr: Option<Vr>) -> Self {
        let end = start.saturating_add(len).min(source.len());
        let start = start.min(end);
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
    /// copy. With `check` = (sample dtype, Bits Stored), also whether pydicom's Bits Stored
    /// correction would leave those bytes unchanged (GIL released); else True.
    #[pyo3(signature = (start, length, check = None))]
    // The binding layer's one unsafe code: an array that borrows a mapping (rust-numpy's
    // `borrow_from_array`), so crossing to numpy copies nothing.
    #[allow(unsafe_code)]
    fn array<'py>(
        &self,
        py: Python<'py>,
        start: usize,
        length: usize,
        check: Option<(String, u32)>,
    ) -> PyResult<(Bound<'py, PyArray1<u8>>, bool)> {
        self.check_range(start, length)?;
        let check = match &check {
            Some((dtype, bits_stored)) => Some((sample_format(dtype)?, *bits_stored)),
            None => None,
        };
        let fits = |data: &[u8]| match check {
            Some((format, bits_stored)) => {
                native::fits_bits_stored_parallel(data, format, bits_stored, threads())
            }
            None => true,
        };
        let from = self.start + start;
        // Checked through the array's own pages: the ones the caller reads next.
        let mapped = (length >= VIEW_MIN)
            .then(|| py.detach(|| self.source.private_range(from, length)))
            .flatten();
        let Some(range) = mapped else {
            let (copy, fits) = py.detach(|| {
                let copy = self.source.read_bulk(from, length)?;
                let fits = fits(&copy);
                Ok::<_, FileChanged>((copy, fits))
            })?;
            return Ok((PyArray1::from_vec(py, copy), fits));
        };
        let fits = py.detach(|| fits(range.bytes()));
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
        Ok((
            unsafe { PyArray1::borrow_from_array(&view, owner.into_any()) },
            fits,
        ))
    }

    /// Each frame's (start, end) in this encapsulated value when every frame is one
    /// contiguous range, else None (pydicom then maps the frames).
    #[pyo3(signature = (number_of_frames, little = true, extended = None))]
    fn frame_ranges(
        &self,
        number_of_frames: usize,
        little: bool,
        extended: Option<(Vec<u64>, Vec<u64>)>,
    ) -> Option<Vec<(usize, usize)>> {
        let extended = extended
            .as_ref()
            .map(|(offsets, lengths)| (offsets.as_slice(), lengths.as_slice()));
        let ranges =
            encapsulated::frame_ranges(self.bytes().ok()?, little, number_of_frames, extended)?;
        Some(ranges.into_iter().map(|r| (r.start, r.end)).collect())
    }

    /// Decode the RLE frames at `ranges` into `out` (a C-contiguous uint8 array of exactly
    /// their decoded size) in pydicom's final layout, frames in parallel with the GIL
    /// released. `correct` = (sample dtype, Bits Stored) applies pydicom's Bits Stored
    /// correction to each frame as it is decoded (where it changes anything). Returns each
    /// frame's warnings, or None when any frame fails (pydicom's pipeline then decodes, to
    /// raise exactly its errors).
    // The frame shape is four DICOM attributes; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (ranges, rows, columns, samples_per_pixel, bits_allocated, out, segment_order = ">", correct = None))]
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
        correct: Option<(String, u32)>,
    ) -> PyResult<Option<Vec<Vec<String>>>> {
        let correct = match &correct {
            Some((dtype, bits_stored)) => Some((sample_format(dtype)?, *bits_stored)),
            None => None,
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

fn segment_order_of(option: &str) -> SegmentOrder {
    match option {
        "<" => SegmentOrder::Little,
        ">" => SegmentOrder::Big,
        _ => SegmentOrder::Other,
    }
}

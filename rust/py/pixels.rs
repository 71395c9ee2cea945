//! Pixel codecs for Python: thin wrappers that release the GIL around decoding.

use crate::pixels::rle::{self, FrameShape, RleError, SegmentOrder};
use pyo3::exceptions::{PyNotImplementedError, PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};

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
    let order = match segment_order {
        "<" => SegmentOrder::Little,
        ">" => SegmentOrder::Big,
        _ => SegmentOrder::Other,
    };
    let data = src.as_bytes();
    // pydicom's checks come before its allocation, so their errors take precedence.
    let frame_len = match rle::check_header(data, shape).and_then(|_| shape.frame_len()) {
        Ok(len) => len,
        Err(err) => return Ok((None, Vec::new(), Some(to_py_err(err)))),
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
        Err((err, padding)) => Ok((None, padding.messages().collect(), Some(to_py_err(err)))),
    }
}

/// pydicom raises NotImplementedError for bit depths it cannot decode, OverflowError for a
/// frame size beyond an index (its `bytearray(size)`), ValueError otherwise.
fn to_py_err(err: RleError) -> PyErr {
    match err {
        RleError::BitsAllocated(_) => PyNotImplementedError::new_err(err.to_string()),
        RleError::TooLarge => PyOverflowError::new_err(err.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

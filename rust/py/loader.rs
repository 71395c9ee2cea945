//! The ML loaders for Python: a batch of frames from many files decoded into the caller's
//! array in one call, on several threads with the GIL released. Thin wrappers over
//! `crate::loader`.

use super::pixels::{sample_format, threads};
use crate::loader::{self, Batch, FrameGeometry, PixelFile, Processing};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use std::path::PathBuf;

/// What a batch read leaves to Python: (item, reason) for each frame pydicom must read, and
/// (item, warnings) for frames decoded here that pydicom warns about.
type BatchResult = (Vec<(usize, String)>, Vec<(usize, Vec<String>)>);

/// `(rows, columns, samples per pixel, sample dtype, number of frames)` of the file at
/// `path`, the dtype little endian (e.g. "<i2"); None when its frames are left to pydicom.
#[pyfunction]
pub fn frame_info(py: Python<'_>, path: PathBuf) -> Option<(u32, u32, u32, String, usize)> {
    let file = py.detach(|| PixelFile::open(&path)).ok()?;
    let g = file.geometry();
    let f = file.sample_format();
    let dtype = format!(
        "{}{}{}",
        if f.bytes == 1 { '|' } else { '<' },
        if f.signed { 'i' } else { 'u' },
        f.bytes
    );
    Some((
        g.rows,
        g.columns,
        g.samples_per_pixel,
        dtype,
        file.number_of_frames(),
    ))
}

/// The multi-frame files a reader of batch after batch keeps described (see
/// `loader::RecentFiles`); a `FrameDataset` holds one, per process.
#[pyclass(frozen, module = "dcmfast._core")]
#[derive(Default)]
pub struct RecentFiles(loader::RecentFiles);

#[pymethods]
impl RecentFiles {
    #[new]
    fn new() -> Self {
        RecentFiles::default()
    }
}

/// Read frame `index` of `path` for each `(path, index)` of `items` into consecutive frames
/// of `out`, a C-contiguous array: uint8 bytes of little-endian samples of `dtype` (raw), or
/// float32 when `dtype` is None, with `processing` = (modality LUT, VOI LUT, VOI index)
/// applied as pydicom does. Every frame must be `geometry` = (rows, columns, samples per
/// pixel). `workers` threads (0: all CPUs), GIL released. Multi-frame files are kept
/// described in `recent` for later calls, if given.
#[pyfunction]
#[pyo3(signature = (items, out, geometry, dtype, processing, workers = 0, recent = None))]
#[allow(clippy::too_many_arguments)]
pub fn read_frames(
    py: Python<'_>,
    items: Vec<(PathBuf, usize)>,
    out: &Bound<'_, PyAny>,
    geometry: (u32, u32, u32),
    dtype: Option<&str>,
    processing: (bool, bool, usize),
    workers: usize,
    recent: Option<&RecentFiles>,
) -> PyResult<BatchResult> {
    let geometry = FrameGeometry {
        rows: geometry.0,
        columns: geometry.1,
        samples_per_pixel: geometry.2,
    };
    let processing = Processing {
        modality_lut: processing.0,
        voi_lut: processing.1,
        voi_index: processing.2,
    };
    let workers = if workers == 0 { threads() } else { workers };
    let fresh = loader::RecentFiles::default();
    let recent = recent.map_or(&fresh, |r| &r.0);
    let run = |batch: Batch<'_>| {
        py.detach(|| loader::read_batch(&items, geometry, batch, processing, workers, recent))
            .map(|o| {
                let fallbacks = o.fallbacks.into_iter();
                let reasons = fallbacks.map(|(item, reason)| (item, reason.to_string()));
                (reasons.collect(), o.warnings)
            })
            .map_err(PyErr::from)
    };
    match dtype {
        Some(dtype) => {
            let format = sample_format(dtype)?;
            let mut out = out.cast::<PyArray1<u8>>()?.try_readwrite()?;
            run(Batch::Raw(out.as_slice_mut()?, format))
        }
        None => {
            let mut out = out.cast::<PyArray1<f32>>()?.try_readwrite()?;
            run(Batch::Float(out.as_slice_mut()?))
        }
    }
}

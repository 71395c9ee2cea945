//! The ML loaders for Python: a batch of frames from many files decoded into the caller's
//! array in one call, on several threads with the GIL released. Thin wrappers over
//! `crate::loader`.

use super::pixels::{dtype_of, sample_format, threads};
use crate::loader::{self, Batch, FrameGeometry, PixelFile, Processing};
use crate::pixels::native::SampleFormat;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A file's frames as a batch holds them: `dtype` little endian (e.g. "<i2").
#[pyclass(frozen, module = "dcmfast._core", get_all)]
pub struct FrameInfo {
    rows: u32,
    columns: u32,
    samples_per_pixel: u32,
    dtype: String,
    number_of_frames: usize,
}

/// The frames of the file at `path` as a batch holds them; None when they are left to
/// pydicom.
#[pyfunction]
pub fn frame_info(py: Python<'_>, path: PathBuf) -> Option<FrameInfo> {
    let file = py.detach(|| PixelFile::open(&path)).ok()?;
    let g = file.geometry();
    Some(FrameInfo {
        rows: g.rows,
        columns: g.columns,
        samples_per_pixel: g.samples_per_pixel,
        dtype: dtype_of(SampleFormat {
            little: true,
            ..file.sample_format()
        }),
        number_of_frames: file.number_of_frames(),
    })
}

/// What a batch read leaves to Python, by item: why pydicom must read a frame, and the
/// warnings pydicom gives for frames decoded here.
#[pyclass(frozen, module = "dcmfast._core", get_all)]
pub struct BatchOutcome {
    fallbacks: BTreeMap<usize, String>,
    warnings: BTreeMap<usize, Vec<String>>,
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
/// float32 when `dtype` is None, with pydicom's modality LUT and/or VOI LUT (at
/// `voi_index`) applied as pydicom does. Every frame must have `rows`, `columns` and
/// `samples_per_pixel`. `workers` threads (0: all CPUs), GIL released. Multi-frame files
/// are kept described in `recent` for later calls, if given.
#[pyfunction]
#[pyo3(signature = (
    items,
    out,
    *,
    rows,
    columns,
    samples_per_pixel,
    dtype,
    modality_lut = false,
    voi_lut = false,
    voi_index = 0,
    workers = 0,
    recent = None,
))]
// The batch's frame shape and processing, one keyword each; a class would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn read_frames(
    py: Python<'_>,
    items: Vec<(PathBuf, usize)>,
    out: &Bound<'_, PyAny>,
    rows: u32,
    columns: u32,
    samples_per_pixel: u32,
    dtype: Option<&str>,
    modality_lut: bool,
    voi_lut: bool,
    voi_index: usize,
    workers: usize,
    recent: Option<&RecentFiles>,
) -> PyResult<BatchOutcome> {
    let geometry = FrameGeometry {
        rows,
        columns,
        samples_per_pixel,
    };
    let processing = Processing {
        modality_lut,
        voi_lut,
        voi_index,
    };
    let workers = if workers == 0 { threads() } else { workers };
    let fresh = loader::RecentFiles::default();
    let recent = recent.map_or(&fresh, |r| &r.0);
    let run = |batch: Batch<'_>| {
        py.detach(|| loader::read_batch(&items, geometry, batch, processing, workers, recent))
            .map(|o| BatchOutcome {
                fallbacks: o
                    .fallbacks
                    .into_iter()
                    .map(|(item, reason)| (item, reason.to_string()))
                    .collect(),
                warnings: o.warnings.into_iter().collect(),
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

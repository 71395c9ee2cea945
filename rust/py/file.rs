//! `FileIndex`: one parsed file (its source, meta, command set and dataset index), and
//! `SourceReader`, a file-like view of the source for pydicom's own sequence reader.

use super::convert::Pydicom;
use super::elements::ElementDict;
use super::errors::os_error;
use crate::errors::ParseError;
use crate::mapping;
use crate::parse::{self, Encoding, ParsedFile};
use crate::read;
use crate::source::Store;
use crate::tags::TRANSFER_SYNTAX_UID;
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// How a file is read: `dcmread`'s arguments (`defer_size` in whole bytes) and pydicom's
/// reading settings, each defaulting as in pydicom.
#[pyclass(frozen, module = "dcmfast._core")]
pub struct ReadOptions(pub(super) parse::ReadOptions);

#[pymethods]
impl ReadOptions {
    #[new]
    #[pyo3(signature = (
        *,
        force = false,
        stop_before_pixels = false,
        specific_tags = None,
        defer_size = None,
        infer_sq_for_un_vr = true,
        replace_un_with_known_vr = true,
        assume_implicit_vr_switch = true,
    ))]
    fn new(
        force: bool,
        stop_before_pixels: bool,
        specific_tags: Option<Vec<u32>>,
        defer_size: Option<u64>,
        infer_sq_for_un_vr: bool,
        replace_un_with_known_vr: bool,
        assume_implicit_vr_switch: bool,
    ) -> Self {
        let specific_tags = specific_tags.map(|mut tags| {
            tags.sort_unstable();
            tags.dedup();
            tags
        });
        ReadOptions(parse::ReadOptions {
            force,
            stop_before_pixels,
            specific_tags,
            defer_size,
            infer_sq_for_un_vr,
            replace_un_with_known_vr,
            assume_implicit_vr_switch,
        })
    }
}

/// One parsed file. Holds its bytes alive for every dataset and array made from it.
#[pyclass(frozen, module = "dcmfast._core")]
pub struct FileIndex {
    file: Arc<Store>,
    /// The dataset's bytes: the file itself, or the inflated body of a deflated file.
    body: Arc<Store>,
    /// Offset of the source's first byte in the caller's stream (file-likes read mid-way).
    base: usize,
    parsed: ParsedFile,
    /// Modification time of a file read by path (from its `FileId`).
    mtime: Option<f64>,
}

/// The index of `bytes` (read from a file-like), parsed with `opts`.
fn index_from(
    bytes: Vec<u8>,
    base: usize,
    opts: &parse::ReadOptions,
) -> Result<FileIndex, ParseError> {
    let parsed = parse::parse_file(&bytes, opts)?;
    Ok(index_of(Store::owned(bytes), base, parsed))
}

/// The index of `file`, parsed as `parsed`.
fn index_of(file: Store, base: usize, mut parsed: ParsedFile) -> FileIndex {
    let file = Arc::new(file);
    let body = match parsed.inflated.take() {
        Some(bytes) => Arc::new(Store::owned(bytes)),
        None => Arc::clone(&file),
    };
    FileIndex {
        file,
        body,
        base,
        parsed,
        mtime: None,
    }
}

/// Map and parse the file at `path` with `options` (GIL released).
#[pyfunction]
pub fn read_path(py: Python<'_>, path: PathBuf, options: &ReadOptions) -> PyResult<FileIndex> {
    let read = py
        .detach(|| read::read_file(&path, &options.0))
        .map_err(os_error)??;
    Ok(FileIndex {
        mtime: read.id.mtime(),
        ..index_of(read.store, 0, read.parsed)
    })
}

/// Parse bytes read from a file-like object whose stream position was `base`, with
/// `options`.
#[pyfunction]
pub fn read_bytes(
    py: Python<'_>,
    data: Vec<u8>,
    base: usize,
    options: &ReadOptions,
) -> PyResult<FileIndex> {
    Ok(py.detach(|| index_from(data, base, &options.0))?)
}

impl FileIndex {
    /// The file meta elements as a lazy dict (explicit VR little endian).
    fn meta_dict(&self, factory: Py<PyAny>, pydicom: Py<Pydicom>) -> ElementDict {
        let encoding = Encoding {
            implicit: false,
            little: true,
        };
        ElementDict::new(
            Arc::clone(&self.file),
            self.base,
            encoding,
            factory,
            pydicom,
            &self.parsed.meta,
        )
    }

    /// The dataset elements, then the command set's (as pydicom's `dataset.update`), as a lazy
    /// dict.
    fn dataset_dict(&self, factory: Py<PyAny>, pydicom: Py<Pydicom>) -> ElementDict {
        let base = if self.deflated() { 0 } else { self.base };
        let mut dict = ElementDict::new(
            Arc::clone(&self.body),
            base,
            self.parsed.encoding,
            factory,
            pydicom,
            &self.parsed.dataset,
        );
        if !self.parsed.command.is_empty() {
            // Command set elements were read from the file, always implicit VR LE.
            dict.append_foreign(
                Arc::clone(&self.file),
                self.base,
                Encoding {
                    implicit: true,
                    little: true,
                },
                self.parsed.command.iter().copied(),
            );
        }
        dict
    }
}

#[pymethods]
impl FileIndex {
    /// The 128-byte preamble, or None when the file has no `DICM` prefix.
    #[getter]
    fn preamble<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.parsed
            .has_preamble
            .then(|| self.file.get(0, 128).ok().map(|b| PyBytes::new(py, b)))
            .flatten()
    }

    #[getter]
    fn is_implicit_vr(&self) -> bool {
        self.parsed.encoding.implicit
    }

    #[getter]
    fn is_little_endian(&self) -> bool {
        self.parsed.encoding.little
    }

    /// True when the dataset was inflated from a deflated transfer syntax.
    #[getter]
    fn deflated(&self) -> bool {
        !Arc::ptr_eq(&self.file, &self.body)
    }

    /// The `FileDataset` pydicom's reader makes of this file, its `filename`,
    /// `fileobj_type`, `buffer` and `timestamp` as given, with what pydicom must still do
    /// to it (see `BuiltDataset`).
    // The four are FileDataset's attributes of the same names, as keywords.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (factory, pydicom, *, filename, fileobj_type, buffer, timestamp))]
    fn file_dataset<'py>(
        &self,
        py: Python<'py>,
        factory: Py<PyAny>,
        pydicom: Py<Pydicom>,
        filename: Bound<'py, PyAny>,
        fileobj_type: Bound<'py, PyAny>,
        buffer: Bound<'py, PyAny>,
        timestamp: Bound<'py, PyAny>,
    ) -> PyResult<BuiltDataset> {
        let pd = pydicom.get();
        let meta = Bound::new(
            py,
            self.meta_dict(factory.clone_ref(py), pydicom.clone_ref(py)),
        )?;
        let default_charset = pd.default_encoding(py);
        let mut meta_converted = true;
        for tag in self
            .meta_first_tag()
            .into_iter()
            .chain([TRANSFER_SYNTAX_UID])
        {
            if meta.get().contains_tag(tag) {
                let key = pd.tag(py, tag)?;
                let value = ElementDict::value_of(&meta, &key, default_charset, None)?;
                meta_converted &= !value.is(py.NotImplemented());
            }
        }
        let file_meta = pd.new_file_meta(meta.into_any())?;

        let elements = Bound::new(py, self.dataset_dict(factory, pydicom.clone_ref(py)))?;
        let charset = ElementDict::read_charset(&elements)?;
        let charset_set = charset.is_some();
        let preamble = self
            .preamble(py)
            .map_or_else(|| py.None().into_bound(py), Bound::into_any);
        let mut state = vec![
            (intern!(py, "preamble"), preamble),
            (intern!(py, "file_meta"), file_meta),
            (intern!(py, "filename"), filename),
            (intern!(py, "fileobj_type"), fileobj_type),
            (intern!(py, "buffer"), buffer),
            (intern!(py, "timestamp"), timestamp),
        ];
        state.extend(charset.map(|charset| (intern!(py, "_read_charset"), charset)));
        let encoding = self.parsed.encoding;
        let ds = pd.new_file_dataset(
            elements.into_any(),
            encoding.implicit,
            encoding.little,
            &state,
        )?;
        Ok(BuiltDataset {
            dataset: ds.unbind(),
            meta_converted,
            charset_set,
        })
    }

    /// A file-like over the dataset's bytes, in the caller's stream positions.
    fn body_reader(&self) -> SourceReader {
        let base = if self.deflated() { 0 } else { self.base };
        SourceReader::new(Arc::clone(&self.body), base)
    }

    /// The dataset's bytes (the inflated body of a deflated file), copied.
    fn body_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let mut bytes = Vec::new();
        self.body.copy_to(0, self.body.len(), &mut bytes)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The modification time of a file read by path (`os.stat(path).st_mtime`).
    #[getter]
    fn mtime(&self) -> Option<f64> {
        self.mtime
    }

    /// The smallest file meta tag (the element pydicom's reader converts first).
    #[getter]
    fn meta_first_tag(&self) -> Option<u32> {
        self.parsed.meta.iter().map(|e| e.tag).min()
    }

    /// Where pydicom's reader would leave a file-like after reading, in stream positions.
    #[getter]
    fn end(&self) -> usize {
        self.base + self.parsed.end
    }
}

/// What `FileIndex.file_dataset` made: the dataset, and whether the elements pydicom's
/// reader converts while reading (the first meta element, the transfer syntax) were
/// converted, and `_read_charset` set. Where not, pydicom's own conversion must follow.
#[pyclass(frozen, module = "dcmfast._core", get_all)]
pub struct BuiltDataset {
    dataset: Py<PyAny>,
    meta_converted: bool,
    charset_set: bool,
}

/// Detach every live mapping of the file `path` names before this process writes it, so
/// that datasets and arrays read from it keep their values (GIL released while copying).
/// Returns how many mappings were detached.
#[pyfunction]
pub fn detach_file(py: Python<'_>, path: PathBuf) -> PyResult<usize> {
    py.detach(|| mapping::detach_file(&path)).map_err(os_error)
}

/// Detach every live mapping of every file (before writes that cannot be named ahead).
#[pyfunction]
pub fn detach_all(py: Python<'_>) -> PyResult<usize> {
    py.detach(mapping::detach_all).map_err(os_error)
}

/// How many mappings of files are live and not detached.
#[pyfunction]
pub fn live_mappings() -> usize {
    mapping::live_count()
}

/// A read-only, seekable file-like over a store, for pydicom's sequence reader.
#[pyclass(frozen, module = "dcmfast._core")]
pub struct SourceReader {
    source: Arc<Store>,
    base: usize,
    pos: AtomicUsize,
}

impl SourceReader {
    pub fn new(source: Arc<Store>, base: usize) -> SourceReader {
        SourceReader {
            source,
            base,
            pos: AtomicUsize::new(base),
        }
    }
}

#[pymethods]
impl SourceReader {
    /// Read up to `size` bytes (all remaining when negative or omitted).
    // Spelled out: PyO3 renders a negative default as `...` in `__text_signature__`.
    #[pyo3(signature = (size = -1), text_signature = "($self, size=-1)")]
    fn read<'py>(&self, py: Python<'py>, size: Option<i64>) -> PyResult<Bound<'py, PyBytes>> {
        let len = self.source.len();
        let pos = self.pos.load(Ordering::Relaxed);
        let start = if pos < self.base {
            len
        } else {
            (pos - self.base).min(len)
        };
        let end = match size {
            Some(n) if n >= 0 => start.saturating_add(n as usize).min(len),
            _ => len,
        };
        let mut bytes = Vec::with_capacity(end - start);
        self.source.copy_to(start, end, &mut bytes)?;
        self.pos
            .store(pos.max(self.base) + (end - start), Ordering::Relaxed);
        Ok(PyBytes::new(py, &bytes))
    }

    /// Move to `offset` relative to the start (0), the current position (1) or the end (2).
    #[pyo3(signature = (offset, whence = 0))]
    fn seek(&self, offset: i64, whence: i32) -> PyResult<usize> {
        let origin = match whence {
            0 => 0i64,
            1 => self.pos.load(Ordering::Relaxed) as i64,
            2 => (self.base + self.source.len()) as i64,
            _ => return Err(PyValueError::new_err(format!("invalid whence ({whence})"))),
        };
        let target = origin
            .checked_add(offset)
            .filter(|t| *t >= 0)
            .ok_or_else(|| PyValueError::new_err(format!("negative seek position {offset}")))?;
        self.pos.store(target as usize, Ordering::Relaxed);
        Ok(target as usize)
    }

    fn tell(&self) -> usize {
        self.pos.load(Ordering::Relaxed)
    }
}

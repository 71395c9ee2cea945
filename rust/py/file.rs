//! `FileIndex`: one parsed file (its source, meta, command set and dataset index), and
//! `SourceReader`, a file-like view of the source for pydicom's own sequence reader.

use super::convert::Pydicom;
use super::elements::ElementDict;
use crate::errors::ParseError as CoreError;
use crate::parse::{self, Encoding, ParsedFile, ReadOptions, PIXEL_DATA};
use crate::source::{read_exact_at, read_start, Source};
use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

create_exception!(
    _core,
    ParseError,
    PyValueError,
    "The fast reader met bytes it does not describe exactly; pydicom's reader decides."
);
create_exception!(
    _core,
    NotDicomError,
    PyValueError,
    "No preamble and 'DICM' prefix, and force was not given."
);

/// The single mapping from core errors to Python exceptions.
fn to_py_err(err: CoreError) -> PyErr {
    match err {
        CoreError::NotDicom => NotDicomError::new_err(err.to_string()),
        other => ParseError::new_err(other.to_string()),
    }
}

fn options(
    force: bool,
    stop_before_pixels: bool,
    specific_tags: Option<Vec<u32>>,
    defer_size: Option<u64>,
    config: (bool, bool, bool),
) -> ReadOptions {
    let specific_tags = specific_tags.map(|mut tags| {
        tags.sort_unstable();
        tags.dedup();
        tags
    });
    ReadOptions {
        force,
        stop_before_pixels,
        specific_tags,
        defer_size,
        infer_sq_for_un_vr: config.0,
        replace_un_with_known_vr: config.1,
        assume_implicit_vr_switch: config.2,
    }
}

const TRANSFER_SYNTAX_UID: u32 = 0x0002_0010;

/// One parsed file. Holds its bytes alive for every dataset and array made from it.
#[pyclass(frozen, module = "dcmfast._core")]
pub struct FileIndex {
    file: Arc<Source>,
    /// The dataset's bytes: the file itself, or the inflated body of a deflated file.
    body: Arc<Source>,
    /// Offset of the source's first byte in the caller's stream (file-likes read mid-way).
    base: usize,
    parsed: ParsedFile,
    /// Modification time of a file read by path.
    mtime: Option<f64>,
}

fn index_from(file: Source, base: usize, opts: &ReadOptions) -> Result<FileIndex, CoreError> {
    let parsed = parse::parse_file(file.bytes(), opts)?;
    Ok(index_of(file, base, parsed))
}

/// The index of `file`, parsed as `parsed`.
fn index_of(file: Source, base: usize, mut parsed: ParsedFile) -> FileIndex {
    let file = Arc::new(file);
    let body = match parsed.inflated.take() {
        Some(bytes) => Arc::new(Source::Owned(bytes)),
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

/// Map and parse the file at `path` (GIL released).
#[pyfunction]
#[pyo3(signature = (path, force, stop_before_pixels, specific_tags, defer_size, config))]
pub fn read_path(
    py: Python<'_>,
    path: PathBuf,
    force: bool,
    stop_before_pixels: bool,
    specific_tags: Option<Vec<u32>>,
    defer_size: Option<u64>,
    config: (bool, bool, bool),
) -> PyResult<FileIndex> {
    let opts = options(force, stop_before_pixels, specific_tags, defer_size, config);
    let result = py.detach(|| read_file(&path, &opts));
    result
        .map_err(|e| PyOSError::new_err(e.to_string()))?
        .map_err(to_py_err)
}

/// How much of a file is read, in turn, to find its header: most headers fit in the first
/// read (a page-cache copy costs less than a mapping's page faults); bigger ones get one
/// more try before the whole file is mapped and walked.
const HEAD_READS: [usize; 2] = [8 * 1024, 64 * 1024];

/// Parse the file at `path` from its first bytes when they hold the whole header: alone
/// when the read stops before pixel data, else with the file mapped for the pixel data that
/// ends it (`parse_file_from_head`). Otherwise from a mapping of the whole file.
fn read_file(path: &Path, opts: &ReadOptions) -> std::io::Result<Result<FileIndex, CoreError>> {
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    let len = metadata.len();
    let with_mtime = |index: FileIndex| FileIndex {
        mtime: mtime(&metadata),
        ..index
    };
    let file_len = usize::try_from(len).unwrap_or(usize::MAX);
    for limit in HEAD_READS {
        let head = read_start(&file, len, limit)?;
        let complete = head.len() == file_len;
        if opts.stop_before_pixels {
            let head_len = head.len();
            match index_from(Source::Owned(head), 0, opts) {
                Ok(index) if complete || index.ends_within(head_len) => {
                    return Ok(Ok(with_mtime(index)))
                }
                Err(err) if complete => return Ok(Err(err)),
                _ => {}
            }
        } else if let Some(parsed) = parse::parse_file_from_head(&head, file_len, opts, |from| {
            read_tail(&file, from, file_len)
        }) {
            // Only the header is kept (a dataset holds its copy for life); the pixel data
            // is mapped, untouched until wanted.
            let mut head = head;
            if let Some(pixels) = parsed.dataset.iter().find(|e| e.tag == PIXEL_DATA) {
                head.truncate(pixels.value_offset);
                head.shrink_to_fit();
            }
            let source = Source::map_with_head(&file, len, head)?;
            return Ok(Ok(with_mtime(index_of(source, 0, parsed))));
        }
        if complete {
            break;
        }
    }
    Ok(index_from(Source::map_file(&file, len)?, 0, opts).map(with_mtime))
}

/// The most bytes after the pixel data read to finish a header read from a file's first
/// bytes; a longer tail gets the file mapped and walked.
const TAIL_READ: usize = 64 * 1024;

/// The bytes of `file` (of `len` bytes) from offset `from` to its end, when there are no
/// more than `TAIL_READ` of them.
fn read_tail(file: &File, from: usize, len: usize) -> Option<Vec<u8>> {
    let want = len.checked_sub(from).filter(|&n| n <= TAIL_READ)?;
    let mut bytes = vec![0; want];
    read_exact_at(file, &mut bytes, from).ok()?;
    Some(bytes)
}

/// `os.stat(path).st_mtime` as CPython computes it.
#[cfg(unix)]
fn mtime(metadata: &std::fs::Metadata) -> Option<f64> {
    use std::os::unix::fs::MetadataExt;
    Some(metadata.mtime() as f64 + metadata.mtime_nsec() as f64 * 1e-9)
}

#[cfg(not(unix))]
fn mtime(_: &std::fs::Metadata) -> Option<f64> {
    None
}

/// Parse bytes read from a file-like object whose stream position was `base`.
// The arguments mirror `read_path` plus the stream offset; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (data, base, force, stop_before_pixels, specific_tags, defer_size, config))]
pub fn read_bytes(
    py: Python<'_>,
    data: Vec<u8>,
    base: usize,
    force: bool,
    stop_before_pixels: bool,
    specific_tags: Option<Vec<u32>>,
    defer_size: Option<u64>,
    config: (bool, bool, bool),
) -> PyResult<FileIndex> {
    let opts = options(force, stop_before_pixels, specific_tags, defer_size, config);
    py.detach(|| index_from(Source::Owned(data), base, &opts))
        .map_err(to_py_err)
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

    /// True when everything the walk read lies within the first `len` bytes, with room for
    /// the longest element header after where it stopped; then those bytes alone give the
    /// same index as the whole file.
    fn ends_within(&self, len: usize) -> bool {
        !self.deflated() && !self.parsed.overran && self.parsed.end.saturating_add(12) <= len
    }
}

#[pymethods]
impl FileIndex {
    /// The 128-byte preamble, or None when the file has no `DICM` prefix.
    #[getter]
    fn preamble<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.parsed
            .has_preamble
            .then(|| PyBytes::new(py, &self.file.bytes_to(128)[..128]))
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

    /// The `FileDataset` pydicom's reader makes of this file, with `origin` (filename,
    /// fileobj_type, buffer, timestamp); then whether the elements pydicom's reader converts
    /// while reading (the first meta element, the transfer syntax) were converted here, and
    /// whether `_read_charset` was set. Where not, pydicom's own conversion must follow.
    fn file_dataset<'py>(
        &self,
        py: Python<'py>,
        factory: Py<PyAny>,
        pydicom: Py<Pydicom>,
        origin: (
            Bound<'py, PyAny>,
            Bound<'py, PyAny>,
            Bound<'py, PyAny>,
            Bound<'py, PyAny>,
        ),
    ) -> PyResult<(Bound<'py, PyAny>, bool, bool)> {
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
                let value = ElementDict::value_of(&meta, &key, default_charset)?;
                meta_converted &= !value.is(py.NotImplemented());
            }
        }
        let file_meta = pd.new_file_meta(meta.into_any())?;

        let elements = Bound::new(py, self.dataset_dict(factory, pydicom.clone_ref(py)))?;
        let charset = ElementDict::read_charset(&elements)?;
        let charset_set = charset.is_some();
        let (filename, fileobj_type, buffer, timestamp) = origin;
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
        Ok((ds, meta_converted, charset_set))
    }

    /// A file-like over the dataset's bytes, in the caller's stream positions.
    fn body_reader(&self) -> SourceReader {
        let base = if self.deflated() { 0 } else { self.base };
        SourceReader::new(Arc::clone(&self.body), base)
    }

    /// The dataset's bytes (the inflated body of a deflated file), copied.
    fn body_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.body.bytes())
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

/// A read-only, seekable file-like over a source, for pydicom's sequence reader.
#[pyclass(frozen, module = "dcmfast._core")]
pub struct SourceReader {
    source: Arc<Source>,
    base: usize,
    pos: AtomicUsize,
}

impl SourceReader {
    pub fn new(source: Arc<Source>, base: usize) -> SourceReader {
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
    #[pyo3(signature = (size = -1))]
    fn read<'py>(&self, py: Python<'py>, size: Option<i64>) -> Bound<'py, PyBytes> {
        let len = self.source.bytes().len();
        let pos = self.pos.load(Ordering::Relaxed);
        let start = pos.saturating_sub(self.base).min(len);
        let end = match size {
            Some(n) if n >= 0 => start.saturating_add(n as usize).min(len),
            _ => len,
        };
        let bytes = self.source.bytes_to(end);
        let start = if pos < self.base { end } else { start };
        self.pos
            .store(pos.max(self.base) + (end - start), Ordering::Relaxed);
        PyBytes::new(py, &bytes[start..end])
    }

    /// Move to `offset` relative to the start (0), the current position (1) or the end (2).
    #[pyo3(signature = (offset, whence = 0))]
    fn seek(&self, offset: i64, whence: i32) -> PyResult<usize> {
        let origin = match whence {
            0 => 0i64,
            1 => self.pos.load(Ordering::Relaxed) as i64,
            2 => (self.base + self.source.bytes().len()) as i64,
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

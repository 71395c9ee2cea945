//! The bulk scanner for Python: files scanned with the GIL released, values made plain Python
//! values (str, int, float, bytes, lists of them) where their bytes alone decide them; the
//! rest is handed back for pydicom to convert.

use super::file::ReadOptions;
use crate::scan::{self, Plain, Plan, TagPath, Value};
use crate::vr::Vr;
use pyo3::exceptions::PyBaseException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};
use pyo3::IntoPyObjectExt;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What to read from each file: wanted element paths and pydicom's reader options.
#[pyclass(frozen, module = "dcmfast._core")]
pub struct ScanPlan {
    plan: Plan,
    columns: usize,
}

#[pymethods]
impl ScanPlan {
    /// `paths`: one `(items, tag)` per column, `items` the `(sequence tag, item index)` steps
    /// into nested datasets; files read with `options`' force and VR settings (the scan
    /// sets the rest); `empty_text_is_none`: pydicom's `use_none_as_empty_text_VR_value`.
    #[new]
    fn new(
        paths: Vec<(Vec<(u32, usize)>, u32)>,
        options: &ReadOptions,
        empty_text_is_none: bool,
    ) -> Self {
        let columns = paths.len();
        let paths = paths
            .into_iter()
            .map(|(items, tag)| TagPath { items, tag })
            .collect();
        ScanPlan {
            plan: Plan::new(paths, options.0.clone(), empty_text_is_none),
            columns,
        }
    }
}

/// A value pydicom must convert, at `row` of `column`: its element as pydicom's
/// `RawDataElement` takes it (`vr` as read, None when implicit).
#[pyclass(frozen, module = "dcmfast._core", get_all)]
pub struct PendingValue {
    column: usize,
    row: usize,
    tag: u32,
    vr: Option<Vr>,
    value: Py<PyBytes>,
    is_implicit_vr: bool,
    is_little_endian: bool,
}

/// What a scan found: the `columns` (a list of values per wanted path, None where absent or
/// pending), the values pydicom must convert (by row, then column), each file's (0008,0005)
/// bytes by row where it has one and a pending value needs it, and the `failures` by row:
/// `IsADirectoryError` for a directory, `ParseError` where pydicom's reader decides, else
/// the file's error (`NotDicomError`, `OSError`).
#[pyclass(frozen, module = "dcmfast._core", get_all)]
pub struct ScanOutcome {
    columns: Vec<Py<PyList>>,
    pending: Vec<Py<PendingValue>>,
    charsets: BTreeMap<usize, Py<PyBytes>>,
    failures: BTreeMap<usize, Py<PyBaseException>>,
}

/// Scan `paths` on `workers` threads (GIL released); see `ScanOutcome`.
#[pyfunction]
pub fn scan_paths<'py>(
    py: Python<'py>,
    paths: Vec<PathBuf>,
    plan: &ScanPlan,
    workers: usize,
) -> PyResult<ScanOutcome> {
    let rows = paths.len();
    let mut columns: Vec<Vec<Option<Bound<'py, PyAny>>>> =
        (0..plan.columns).map(|_| vec![None; rows]).collect();
    let mut pending = Vec::new();
    let mut charsets = BTreeMap::new();
    let mut failures = BTreeMap::new();
    let mut repeats: Vec<Repeats> = (0..plan.columns).map(|_| Repeats::default()).collect();
    let mut take = |(row, result): &scan::Outcome| -> PyResult<()> {
        let row = *row;
        let file = match result {
            Ok(file) => file,
            Err(err) => {
                failures.insert(row, PyErr::from(err).into_value(py));
                return Ok(());
            }
        };
        for (column, value) in file.values.iter().enumerate() {
            columns[column][row] = match value {
                None => None,
                Some(Value::Plain(value)) => Some(repeats[column].make(py, value)?),
                Some(Value::Raw(raw)) => {
                    pending.push(PendingValue {
                        column,
                        row,
                        tag: raw.tag,
                        vr: raw.vr,
                        value: PyBytes::new(py, &raw.bytes).unbind(),
                        is_implicit_vr: raw.encoding.implicit,
                        is_little_endian: raw.encoding.little,
                    });
                    None
                }
            };
        }
        if let Some(charset) = &file.charset {
            charsets.insert(row, PyBytes::new(py, charset).unbind());
        }
        Ok(())
    };
    // This thread scans too, with the GIL released, and makes Python values of what every
    // thread found between its own chunks.
    let here = |range| py.detach(|| scan::scan_range(&paths, &plan.plan, range));
    let wait = |receiver: &_| py.detach(|| scan::next_outcomes(receiver));
    scan::scan_files(&paths, &plan.plan, workers, here, wait, &mut take)?;
    pending.sort_unstable_by_key(|p| (p.row, p.column));
    let none = py.None().into_bound(py);
    let columns = columns
        .into_iter()
        .map(|column| {
            let values = column.into_iter().map(|v| v.unwrap_or(none.clone()));
            PyList::new(py, values).map(Bound::unbind)
        })
        .collect::<PyResult<Vec<_>>>()?;
    let pending = pending
        .into_iter()
        .map(|p| Py::new(py, p))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(ScanOutcome {
        columns,
        pending,
        charsets,
        failures,
    })
}

/// The last scalar values of a column (one slot for a single value, one per position for a
/// list) and their Python objects, reused while files repeat them: a series shares its
/// patient, study and series values, its rows and columns, most of its image position.
/// Strings, ints and floats are immutable, so sharing one object is invisible; lists are
/// always made fresh. This saves making and freeing objects, and the memory they hold.
#[derive(Default)]
struct Repeats<'py> {
    slots: Vec<Repeated<'py>>,
}

/// A scalar as compared for reuse: floats by their bits, so -0.0 and NaNs stay distinct.
#[derive(Default)]
enum Key {
    /// Nothing to reuse (no value yet, or one that is not shared).
    #[default]
    None,
    Int(i64),
    UInt(u64),
    Float(u64),
    Text(String),
}

impl Key {
    /// Whether this key stands for `value`.
    fn holds(&self, value: &Plain) -> bool {
        match (self, value) {
            (Key::Int(a), Plain::Int(b)) => a == b,
            (Key::UInt(a), Plain::UInt(b)) => a == b,
            (Key::Float(a), Plain::Float(b)) => *a == b.to_bits(),
            (Key::Text(a), Plain::Text(b)) => a == b,
            _ => false,
        }
    }

    /// Stand for `value` from now on, reusing a text buffer already held: a column of
    /// unique strings then allocates nothing here.
    fn hold(&mut self, value: &Plain) {
        *self = match (std::mem::take(self), value) {
            (Key::Text(mut kept), Plain::Text(text)) => {
                kept.clear();
                kept.push_str(text);
                Key::Text(kept)
            }
            (_, Plain::Text(text)) => Key::Text(text.clone()),
            (_, Plain::Int(v)) => Key::Int(*v),
            (_, Plain::UInt(v)) => Key::UInt(*v),
            (_, Plain::Float(v)) => Key::Float(v.to_bits()),
            _ => Key::None,
        };
    }
}

#[derive(Default)]
struct Repeated<'py> {
    key: Key,
    object: Option<Bound<'py, PyAny>>,
}

/// Slots kept per column: enough for a position or orientation's items.
const REPEAT_SLOTS: usize = 6;

impl<'py> Repeats<'py> {
    /// The Python value of `value`, an object reused from the previous file where it repeats.
    fn make(&mut self, py: Python<'py>, value: &Plain) -> PyResult<Bound<'py, PyAny>> {
        match value {
            Plain::List(items) => {
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(slot, item)| self.scalar(py, slot, item))
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(PyList::new(py, items)?.into_any())
            }
            value => self.scalar(py, 0, value),
        }
    }

    fn scalar(
        &mut self,
        py: Python<'py>,
        slot: usize,
        value: &Plain,
    ) -> PyResult<Bound<'py, PyAny>> {
        if slot >= REPEAT_SLOTS {
            return to_python(py, value);
        }
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, Repeated::default);
        }
        let repeated = &mut self.slots[slot];
        if let Some(object) = &repeated.object {
            if repeated.key.holds(value) {
                return Ok(object.clone());
            }
        }
        let object = to_python(py, value)?;
        repeated.key.hold(value);
        repeated.object = Some(object.clone());
        Ok(object)
    }
}

fn to_python<'py>(py: Python<'py>, value: &Plain) -> PyResult<Bound<'py, PyAny>> {
    match value {
        Plain::Empty => Ok(py.None().into_bound(py)),
        Plain::Int(v) => v.into_bound_py_any(py),
        Plain::UInt(v) => v.into_bound_py_any(py),
        Plain::Float(v) => v.into_bound_py_any(py),
        Plain::Text(v) => Ok(PyString::new(py, v).into_any()),
        Plain::Bytes(v) => Ok(PyBytes::new(py, v).into_any()),
        Plain::List(items) => {
            let items = items
                .iter()
                .map(|item| to_python(py, item))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyList::new(py, items)?.into_any())
        }
    }
}

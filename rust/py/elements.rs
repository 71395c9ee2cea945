//! `ElementDict`: the lazy mapping a pydicom `Dataset` keeps as `_dict`. Keys are tags; a value is
//! made only when asked for (a `RawDataElement` over the source's bytes, or whatever pydicom
//! stored back after converting it), so untouched elements cost nothing.

use super::convert::{plain_element, Pydicom};
use crate::parse::{Element, Encoding, ValueKind};
use crate::source::Source;
use indexmap::IndexMap;
use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use std::sync::{Arc, Mutex, MutexGuard};

/// Where an element not yet made lives.
#[derive(Clone)]
struct Lazy {
    source: usize,
    element: Element,
}

enum Slot {
    Lazy(Lazy),
    Object(Py<PyAny>),
}

/// One byte source and how its elements are encoded.
struct Origin {
    source: Arc<Source>,
    base: usize,
    encoding: Encoding,
}

/// A dict of tag -> element whose values are made on first access.
///
/// `factory` is a Python object with `raw_type` (pydicom's `RawDataElement`), `tag_type`
/// (`BaseTag`) and `special(dict, tag, vr, length, value_tell, kind)` for values the dict does not
/// make itself (empty, deferred, undefined-length sequences).
#[pyclass(frozen, mapping, module = "dcmfast._core")]
pub struct ElementDict {
    origins: Vec<Origin>,
    factory: Py<PyAny>,
    slots: Mutex<IndexMap<u32, Slot>>,
}

impl ElementDict {
    pub fn new(
        source: Arc<Source>,
        base: usize,
        encoding: Encoding,
        factory: Py<PyAny>,
        elements: impl Iterator<Item = Element>,
    ) -> ElementDict {
        let dict = ElementDict {
            origins: Vec::new(),
            factory,
            slots: Mutex::new(IndexMap::new()),
        };
        let mut dict = dict;
        dict.append_foreign(source, base, encoding, elements);
        dict
    }

    /// Add elements from another source; a tag already present keeps its place and takes the
    /// new value (dict assignment, as pydicom's reader builds its dict).
    pub fn append_foreign(
        &mut self,
        source: Arc<Source>,
        base: usize,
        encoding: Encoding,
        elements: impl Iterator<Item = Element>,
    ) {
        let index = self.origins.len();
        self.origins.push(Origin {
            source,
            base,
            encoding,
        });
        let slots = self.slots.get_mut().unwrap_or_else(|e| e.into_inner());
        for element in elements {
            slots.insert(
                element.tag,
                Slot::Lazy(Lazy {
                    source: index,
                    element,
                }),
            );
        }
    }

    fn lock(&self) -> MutexGuard<'_, IndexMap<u32, Slot>> {
        // A panic while holding the lock cannot leave the map half-updated (each operation is
        // a single insert/remove), so a poisoned lock is still safe to use.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tag_object<'py>(&self, py: Python<'py>, tag: u32) -> PyResult<Bound<'py, PyAny>> {
        self.factory.bind(py).getattr("tag_type")?.call1((tag,))
    }

    /// Make the Python value for a lazy slot (not stored: pydicom stores what it converts).
    fn make<'py>(
        &self,
        py: Python<'py>,
        lazy: &Lazy,
        slf: &Bound<'py, Self>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let origin = &self.origins[lazy.source];
        let e = &lazy.element;
        let factory = self.factory.bind(py);
        let tag = self.tag_object(py, e.tag)?;
        let tell = origin.base + e.value_offset;
        if e.kind != ValueKind::Bytes || e.length == 0 {
            let kind = match e.kind {
                ValueKind::Bytes => "empty",
                ValueKind::Deferred => "deferred",
                ValueKind::Sequence => "sequence",
            };
            return factory.call_method1(
                "special",
                (
                    slf,
                    tag,
                    e.vr,
                    e.length,
                    tell,
                    kind,
                    origin.encoding.implicit,
                    origin.encoding.little,
                ),
            );
        }
        let bytes = origin.source.bytes();
        let end = (e.value_offset + e.value_len).min(bytes.len());
        let value = PyBytes::new(py, &bytes[e.value_offset.min(end)..end]);
        factory.getattr("raw_type")?.call1((
            tag,
            e.vr,
            e.length,
            value,
            tell,
            origin.encoding.implicit,
            origin.encoding.little,
        ))
    }

    fn lookup<'py>(slf: &Bound<'py, Self>, tag: u32) -> PyResult<Option<Bound<'py, PyAny>>> {
        let py = slf.py();
        let this = slf.get();
        let lazy = match this.lock().get(&tag) {
            None => return Ok(None),
            Some(Slot::Object(obj)) => return Ok(Some(obj.bind(py).clone())),
            Some(Slot::Lazy(lazy)) => lazy.clone(),
        };
        this.make(py, &lazy, slf).map(Some)
    }

    /// The element pydicom would convert `lazy` to, when it can be made without pydicom.
    fn plain<'py>(
        &self,
        py: Python<'py>,
        lazy: &Lazy,
        charset: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let origin = &self.origins[lazy.source];
        let e = &lazy.element;
        let bytes = origin.source.bytes();
        let end = (e.value_offset + e.value_len).min(bytes.len());
        let value = &bytes[e.value_offset.min(end)..end];
        let pydicom = Pydicom::new(self.factory.bind(py).clone())?;
        let tag = self.tag_object(py, e.tag)?;
        plain_element(
            &pydicom,
            &tag,
            e,
            value,
            origin.encoding.little,
            origin.base + e.value_offset,
            charset,
        )
    }

    fn snapshot(&self) -> Vec<u32> {
        self.lock().keys().copied().collect()
    }
}

/// A key as a tag; anything that is not a 32-bit tag is simply absent.
fn tag_of(key: &Bound<'_, PyAny>) -> Option<u32> {
    key.extract::<u32>().ok()
}

#[pymethods]
impl ElementDict {
    fn __len__(&self) -> usize {
        self.lock().len()
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> bool {
        tag_of(key).is_some_and(|tag| self.lock().contains_key(&tag))
    }

    fn __getitem__<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match tag_of(key) {
            Some(tag) => Self::lookup(slf, tag)?,
            None => None,
        }
        .ok_or_else(|| PyKeyError::new_err(key.clone().unbind()))
    }

    fn __setitem__(&self, key: &Bound<'_, PyAny>, value: Py<PyAny>) -> PyResult<()> {
        let tag = tag_of(key).ok_or_else(|| PyTypeError::new_err("element dict keys are tags"))?;
        self.lock().insert(tag, Slot::Object(value));
        Ok(())
    }

    fn __delitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let removed = tag_of(key).and_then(|tag| self.lock().shift_remove(&tag));
        match removed {
            Some(_) => Ok(()),
            None => Err(PyKeyError::new_err(key.clone().unbind())),
        }
    }

    fn __iter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::keys(slf)?.try_iter().map(|it| it.into_any())
    }

    /// `ds[key]` as pydicom's `Dataset.__getitem__` finds it: the stored element, or a plain
    /// element converted here and stored (as pydicom stores what it converts), or else the
    /// raw element for pydicom to convert. `charset` is the dataset's `_read_charset`.
    fn convert<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        charset: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let this = slf.get();
        let missing = || PyKeyError::new_err(key.clone().unbind());
        let tag = tag_of(key).ok_or_else(missing)?;
        let lazy = match this.lock().get(&tag) {
            None => return Err(missing()),
            Some(Slot::Object(obj)) => return Ok(obj.bind(py).clone()),
            Some(Slot::Lazy(lazy)) => lazy.clone(),
        };
        if let Some(elem) = this.plain(py, &lazy, charset)? {
            let mut slots = this.lock();
            // Another thread may have stored this element meanwhile; keep the first.
            if let Some(Slot::Object(obj)) = slots.get(&tag) {
                return Ok(obj.bind(py).clone());
            }
            if slots.contains_key(&tag) {
                slots.insert(tag, Slot::Object(elem.clone().unbind()));
            }
            return Ok(elem);
        }
        this.make(py, &lazy, slf)
    }

    #[pyo3(signature = (key, default = None))]
    fn get<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let found = match tag_of(key) {
            Some(tag) => Self::lookup(slf, tag)?,
            None => None,
        };
        Ok(found.or(default))
    }

    fn keys<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        let this = slf.get();
        let tags = this
            .snapshot()
            .into_iter()
            .map(|tag| this.tag_object(py, tag))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, tags)
    }

    fn values<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        let values = slf
            .get()
            .snapshot()
            .into_iter()
            .filter_map(|tag| Self::lookup(slf, tag).transpose())
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, values)
    }

    fn items<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        let this = slf.get();
        let mut items = Vec::new();
        for tag in this.snapshot() {
            if let Some(value) = Self::lookup(slf, tag)? {
                items.push(PyTuple::new(py, [this.tag_object(py, tag)?, value])?);
            }
        }
        PyList::new(py, items)
    }

    #[pyo3(signature = (key, *default))]
    fn pop<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        default: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let found = match tag_of(key) {
            Some(tag) => {
                let value = Self::lookup(slf, tag)?;
                slf.get().lock().shift_remove(&tag);
                value
            }
            None => None,
        };
        match found {
            Some(value) => Ok(value),
            None if !default.is_empty() => default.get_item(0),
            None => Err(PyKeyError::new_err(key.clone().unbind())),
        }
    }

    fn popitem<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let this = slf.get();
        let last = this.lock().last().map(|(tag, _)| *tag);
        let tag = last.ok_or_else(|| PyKeyError::new_err("popitem(): dictionary is empty"))?;
        let value = Self::lookup(slf, tag)?;
        this.lock().shift_remove(&tag);
        PyTuple::new(
            py,
            [
                this.tag_object(py, tag)?,
                value.unwrap_or_else(|| py.None().into_bound(py)),
            ],
        )
    }

    #[pyo3(signature = (key, default = None))]
    fn setdefault<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let tag = tag_of(key).ok_or_else(|| PyTypeError::new_err("element dict keys are tags"))?;
        if let Some(value) = Self::lookup(slf, tag)? {
            return Ok(value);
        }
        let value = default.unwrap_or_else(|| py.None().into_bound(py));
        slf.get()
            .lock()
            .insert(tag, Slot::Object(value.clone().unbind()));
        Ok(value)
    }

    #[pyo3(signature = (other = None, **kwargs))]
    fn update(
        &self,
        other: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        if let Some(other) = other {
            let pairs = if other.hasattr("keys")? {
                let mut pairs = Vec::new();
                for key in other.call_method0("keys")?.try_iter()? {
                    let key = key?;
                    let value = other.get_item(&key)?;
                    pairs.push((key, value));
                }
                pairs
            } else {
                other
                    .try_iter()?
                    .map(|pair| {
                        pair.and_then(|p| p.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>())
                    })
                    .collect::<PyResult<Vec<_>>>()?
            };
            for (key, value) in pairs {
                self.__setitem__(&key, value.unbind())?;
            }
        }
        if kwargs.is_some_and(|k| !k.is_empty()) {
            return Err(PyTypeError::new_err("element dict keys are tags"));
        }
        Ok(())
    }

    fn clear(&self) {
        self.lock().clear();
    }

    /// A plain dict with every value made (what pickling and `dict(ds._dict)` see).
    fn copy<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(slf.py());
        for item in Self::items(slf)?.iter() {
            let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            dict.set_item(key, value)?;
        }
        Ok(dict)
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyDict>,))> {
        let py = slf.py();
        Ok((py.get_type::<PyDict>().into_any(), (Self::copy(slf)?,)))
    }

    fn __eq__<'py>(slf: &Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<bool> {
        Self::copy(slf)?.eq(other)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        Ok(format!("ElementDict({})", Self::copy(slf)?.repr()?))
    }
}

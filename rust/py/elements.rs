//! `ElementDict`: the lazy mapping a pydicom `Dataset` keeps as `_dict`. Keys are tags; a value is
//! made only when asked for (a `RawDataElement` over the source's bytes, or whatever pydicom
//! stored back after converting it), so untouched elements cost nothing.

use super::convert::{plain_element, PlainElement, Pydicom};
use super::pixels::PixelRegion;
use crate::charset;
use crate::parse::{Element, Encoding, ValueKind};
use crate::source::{Store, BULK_MIN};
use crate::tagmap::TagMap;
use crate::tags::SPECIFIC_CHARACTER_SET;
use crate::values;
use crate::vr::Vr;
use pyo3::exceptions::{PyAttributeError, PyKeyError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use std::sync::{Arc, Mutex, MutexGuard};

/// Where an element not yet made lives.
#[derive(Clone)]
struct Lazy {
    source: usize,
    element: Element,
}

enum Slot {
    Lazy(Lazy),
    /// Converted for its value alone (keyword access): the `DataElement` pydicom would have
    /// stored is made of it when the element itself is first asked for.
    Plain(Arc<PlainElement>, Lazy),
    /// The `DataElement` made of a plain element (the writer copies its bytes while it is
    /// unchanged).
    Made {
        object: Py<PyAny>,
        plain: Arc<PlainElement>,
        lazy: Lazy,
    },
    /// Anything else stored (by the user, or by pydicom's converter), with the element read
    /// from the source whose place it took, if any.
    Object(Py<PyAny>, Option<Lazy>),
}

impl Slot {
    /// The element read from the source this slot holds or replaced.
    fn origin(&self) -> Option<&Lazy> {
        match self {
            Slot::Lazy(lazy) | Slot::Plain(_, lazy) | Slot::Made { lazy, .. } => Some(lazy),
            Slot::Object(_, replaced) => replaced.as_ref(),
        }
    }
}

/// An element as read from a byte source: what the writer copies it from.
pub struct SourceElement {
    pub source: Arc<Store>,
    /// Which of the dict's sources (spans of one source may join into one copy).
    pub origin: usize,
    pub base: usize,
    pub encoding: Encoding,
    pub element: Element,
}

/// What the writer needs to know of one slot.
pub enum SlotState<'py> {
    /// Never made into an object: `from.element` as the walk found it.
    Unmade(SourceElement),
    /// Made from those same bytes with `value` (of `vr`); `object` is the `DataElement` the
    /// dict now holds (None while only the value was asked for). The bytes are still the
    /// element's while `object`'s `_value` is that very value, unchanged, and nothing else
    /// about it changed.
    Made {
        object: Option<Bound<'py, PyAny>>,
        value: Bound<'py, PyAny>,
        vr: Vr,
        from: SourceElement,
    },
    /// Anything else (set by the user, converted by pydicom): pydicom's encoder writes it.
    /// `replaced` is the element read from the source whose place it took.
    Other {
        object: Bound<'py, PyAny>,
        replaced: Option<SourceElement>,
    },
}

/// A slot's content, taken out of the lock.
enum Stored<'py> {
    Lazy(Lazy),
    Plain(Arc<PlainElement>),
    Object(Bound<'py, PyAny>),
}

/// What a key finds: a stored (or just converted) object, a converted value (when only the
/// value was asked for), a raw element (left to pydicom), or nothing.
enum Resolved<'py> {
    Element(Bound<'py, PyAny>),
    Value(Bound<'py, PyAny>),
    Raw,
    Missing,
}

/// One byte source and how its elements are encoded.
#[derive(Clone)]
struct Origin {
    source: Arc<Store>,
    base: usize,
    encoding: Encoding,
}

impl Origin {
    /// The bytes of `element`'s value present in the source.
    fn value(&self, element: &Element) -> PyResult<&[u8]> {
        let range = element.value_range();
        self.source.get(range.start, range.end).map_err(PyErr::from)
    }
}

/// A dict of tag -> element whose values are made on first access.
///
/// `factory` is the file's Python object with `special(dict, tag, vr, length, value_tell, kind,
/// is_implicit_VR, is_little_endian)` for values the dict does not make itself (empty,
/// deferred, undefined-length sequences); `pydicom` holds the classes it makes values of.
#[pyclass(frozen, mapping, module = "dcmfast._core")]
pub struct ElementDict {
    origins: Vec<Origin>,
    factory: Py<PyAny>,
    pydicom: Py<Pydicom>,
    slots: Mutex<TagMap<Slot>>,
    /// The dict behind `keys()` views, made on the first call and kept in step after.
    key_view: Mutex<Option<Py<PyDict>>>,
}

impl ElementDict {
    pub fn new(
        source: Arc<Store>,
        base: usize,
        encoding: Encoding,
        factory: Py<PyAny>,
        pydicom: Py<Pydicom>,
        elements: &[Element],
    ) -> ElementDict {
        let slots = elements
            .iter()
            .map(|&element| (element.tag, Slot::Lazy(Lazy { source: 0, element })))
            .collect();
        ElementDict {
            origins: vec![Origin {
                source,
                base,
                encoding,
            }],
            factory,
            pydicom,
            slots: Mutex::new(TagMap::from_items(slots)),
            key_view: Mutex::new(None),
        }
    }

    /// Add elements from another source; a tag already present keeps its place and takes the
    /// new value (dict assignment, as pydicom's reader builds its dict).
    pub fn append_foreign(
        &mut self,
        source: Arc<Store>,
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
        slots.extend(elements.map(|element| {
            let lazy = Lazy {
                source: index,
                element,
            };
            (element.tag, Slot::Lazy(lazy))
        }));
    }

    /// The source element of `lazy`.
    fn source_element(&self, lazy: &Lazy) -> SourceElement {
        let origin = &self.origins[lazy.source];
        SourceElement {
            source: Arc::clone(&origin.source),
            origin: lazy.source,
            base: origin.base,
            encoding: origin.encoding,
            element: lazy.element,
        }
    }

    /// What the slot of `tag` holds, as the writer needs to know it.
    pub fn slot_state<'py>(&self, py: Python<'py>, tag: u32) -> Option<SlotState<'py>> {
        Some(match self.lock().get(tag)? {
            Slot::Lazy(lazy) => SlotState::Unmade(self.source_element(lazy)),
            Slot::Plain(plain, lazy) => SlotState::Made {
                object: None,
                value: plain.value.bind(py).clone(),
                vr: plain.vr,
                from: self.source_element(lazy),
            },
            Slot::Made {
                object,
                plain,
                lazy,
            } => SlotState::Made {
                object: Some(object.bind(py).clone()),
                value: plain.value.bind(py).clone(),
                vr: plain.vr,
                from: self.source_element(lazy),
            },
            Slot::Object(object, replaced) => SlotState::Other {
                object: object.bind(py).clone(),
                replaced: replaced.as_ref().map(|lazy| self.source_element(lazy)),
            },
        })
    }

    /// The bytes of source `origin` (as `SourceElement::origin` numbers them).
    pub fn source(&self, origin: usize) -> Option<&Arc<Store>> {
        self.origins.get(origin).map(|o| &o.source)
    }

    /// The pydicom classes this dict makes values of.
    pub fn pydicom(&self) -> &Pydicom {
        self.pydicom.get()
    }

    /// The tags in ascending order.
    pub fn sorted_tags(&self) -> Vec<u32> {
        let mut tags = self.snapshot();
        tags.sort_unstable();
        tags
    }

    fn lock(&self) -> MutexGuard<'_, TagMap<Slot>> {
        // A panic while holding the lock cannot leave the map half-updated (each operation is
        // a single insert/remove), so a poisoned lock is still safe to use.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tag_object<'py>(&self, py: Python<'py>, tag: u32) -> PyResult<Bound<'py, PyAny>> {
        self.pydicom.get().tag(py, tag)
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
                intern!(py, "special"),
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
        let value = if e.value_len >= BULK_MIN {
            // One positional read into the bytes object: no mapped pages touched (they
            // would count in the process's memory beside the copy).
            PyBytes::new_with(py, e.value_len, |buf| {
                origin
                    .source
                    .read_bulk_into(e.value_offset, buf)
                    .map_err(PyErr::from)
            })?
        } else {
            PyBytes::new(py, origin.value(e)?)
        };
        // is_raw and is_buffered take the namedtuple's defaults.
        let fields = (
            tag,
            e.vr,
            e.length,
            value,
            tell,
            origin.encoding.implicit,
            origin.encoding.little,
            true,
            false,
        );
        self.pydicom.get().raw_element(fields.into_pyobject(py)?)
    }

    /// What the slot of `tag` holds, if there is one.
    fn stored<'py>(&self, py: Python<'py>, tag: u32) -> Option<Stored<'py>> {
        Some(match self.lock().get(tag)? {
            Slot::Lazy(lazy) => Stored::Lazy(lazy.clone()),
            Slot::Plain(plain, _) => Stored::Plain(Arc::clone(plain)),
            Slot::Made { object, .. } | Slot::Object(object, _) => {
                Stored::Object(object.bind(py).clone())
            }
        })
    }

    /// The object stored for `tag` (what pydicom's `Dataset.__getitem__` returns as it is
    /// once an element is converted), if the slot holds one.
    pub(crate) fn stored_object<'py>(
        &self,
        py: Python<'py>,
        tag: u32,
    ) -> Option<Bound<'py, PyAny>> {
        match self.lock().get(tag)? {
            Slot::Made { object: obj, .. } | Slot::Object(obj, _) => Some(obj.bind(py).clone()),
            _ => None,
        }
    }

    /// The `DataElement` of a converted slot, made and stored in its place (unless another
    /// thread stored one meanwhile: the first stays).
    fn element_of<'py>(
        &self,
        py: Python<'py>,
        tag: u32,
        plain: &Arc<PlainElement>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // Made outside the lock: allocating may run Python code that uses this dict.
        let elem = plain.data_element(py, self.pydicom.get())?;
        let mut slots = self.lock();
        match slots.get(tag) {
            Some(Slot::Made { object: obj, .. } | Slot::Object(obj, _)) => Ok(obj.bind(py).clone()),
            Some(Slot::Plain(now, lazy)) if Arc::ptr_eq(now, plain) => {
                let made = Slot::Made {
                    object: elem.clone().unbind(),
                    plain: Arc::clone(plain),
                    lazy: lazy.clone(),
                };
                slots.insert(tag, made);
                Ok(elem)
            }
            _ => Ok(elem),
        }
    }

    fn lookup<'py>(slf: &Bound<'py, Self>, tag: u32) -> PyResult<Option<Bound<'py, PyAny>>> {
        let py = slf.py();
        let this = slf.get();
        match this.stored(py, tag) {
            None => Ok(None),
            Some(Stored::Object(obj)) => Ok(Some(obj)),
            Some(Stored::Plain(plain)) => this.element_of(py, tag, &plain).map(Some),
            Some(Stored::Lazy(lazy)) => this.make(py, &lazy, slf).map(Some),
        }
    }

    /// `lazy` converted as pydicom would, when that can be done without pydicom.
    fn plain<'py>(
        &self,
        tag: &Bound<'py, PyAny>,
        lazy: &Lazy,
        charset: &Bound<'py, PyAny>,
    ) -> PyResult<Option<PlainElement>> {
        let origin = &self.origins[lazy.source];
        let e = &lazy.element;
        let value = origin.value(e)?;
        plain_element(
            self.pydicom.get(),
            tag,
            e,
            value,
            origin.encoding.little,
            origin.base + e.value_offset,
            charset,
        )
    }

    fn key_view(&self, py: Python<'_>) -> Option<Py<PyDict>> {
        let view = self.key_view.lock().unwrap_or_else(|e| e.into_inner());
        view.as_ref().map(|keys| keys.clone_ref(py))
    }

    /// Insert or replace; the key dict (if made) follows, outside the lock since hashing tags
    /// runs Python code.
    fn store(&self, key: &Bound<'_, PyAny>, tag: u32, value: Py<PyAny>) -> PyResult<()> {
        {
            let mut slots = self.lock();
            let slot = match slots.get(tag) {
                // The element made here, stored again: still made.
                Some(Slot::Made { object, .. }) if object.is(&value) => None,
                previous => Some(Slot::Object(
                    value,
                    previous.and_then(Slot::origin).cloned(),
                )),
            };
            if let Some(slot) = slot {
                slots.insert(tag, slot);
            }
        }
        match self.key_view(key.py()) {
            Some(keys) => keys.bind(key.py()).set_item(key, key.py().None()),
            None => Ok(()),
        }
    }

    /// Remove `tag`; false when it was not there.
    fn remove(&self, py: Python<'_>, tag: u32) -> PyResult<bool> {
        if self.lock().remove(tag).is_none() {
            return Ok(false);
        }
        if let Some(keys) = self.key_view(py) {
            keys.bind(py).del_item(self.tag_object(py, tag)?)?;
        }
        Ok(true)
    }

    fn snapshot(&self) -> Vec<u32> {
        self.lock().tags()
    }

    /// `_read_charset` as pydicom's reader sets it, when that needs no word from pydicom:
    /// (0008,0005) absent, or not yet converted, VR CS (or implicit) and every name one
    /// pydicom knows. Then the element is converted and stored as `ds[tag]` would. None
    /// when pydicom's path must decide.
    pub fn read_charset<'py>(slf: &Bound<'py, Self>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let py = slf.py();
        let this = slf.get();
        let pd = this.pydicom.get();
        let lazy = match this.stored(py, SPECIFIC_CHARACTER_SET) {
            None => return Ok(Some(pd.default_encoding(py).clone())),
            Some(Stored::Lazy(lazy)) => lazy,
            Some(_) => return Ok(None),
        };
        let e = &lazy.element;
        if !matches!(e.vr, None | Some(Vr::CS)) || e.kind != ValueKind::Bytes {
            return Ok(None);
        }
        let text = values::latin1(this.origins[lazy.source].value(e)?);
        let names = charset::terms(&text);
        if !charset::terms_are_defined(&names) {
            return Ok(None);
        }
        let known = pd.python_encoding(py);
        let key = this.tag_object(py, SPECIFIC_CHARACTER_SET)?;
        let value = Self::value_of(slf, &key, &PyString::new(py, "").into_any())?;
        if value.is(py.NotImplemented()) {
            return Ok(None);
        }
        Ok(Some(match names.as_slice() {
            // What convert_encodings gives one known name, without its Python frame.
            [name] if !name.is_empty() => PyList::new(py, [known.get_item(name)?])?.into_any(),
            _ => pd.convert_encodings(py).call1((value,))?,
        }))
    }

    /// True when `tag` is in the dict.
    pub fn contains_tag(&self, tag: u32) -> bool {
        self.lock().contains(tag)
    }

    /// What is stored for `key`, converting a plain element (and storing it) on the way;
    /// with `value_only`, a converted element's value is enough.
    fn resolve<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        charset: &Bound<'py, PyAny>,
        value_only: bool,
    ) -> PyResult<Resolved<'py>> {
        let py = slf.py();
        let this = slf.get();
        let Some(tag) = tag_of(key) else {
            return Ok(Resolved::Missing);
        };
        let lazy = match this.stored(py, tag) {
            None => return Ok(Resolved::Missing),
            Some(Stored::Object(obj)) => return Ok(Resolved::Element(obj)),
            Some(Stored::Plain(plain)) if value_only => {
                return Ok(Resolved::Value(plain.value.bind(py).clone()))
            }
            Some(Stored::Plain(plain)) => {
                return this.element_of(py, tag, &plain).map(Resolved::Element)
            }
            Some(Stored::Lazy(lazy)) => lazy,
        };
        // pydicom's element carries the tag object its reader made; the caller's key is one.
        let tag_object = if key.get_type().is(this.pydicom.get().tag_type.bind(py)) {
            key.clone()
        } else {
            this.tag_object(py, tag)?
        };
        let Some(plain) = this.plain(&tag_object, &lazy, charset)? else {
            return Ok(Resolved::Raw);
        };
        let plain = Arc::new(plain);
        if value_only {
            let mut slots = this.lock();
            // Another thread may have stored this element meanwhile; keep the first.
            return Ok(match slots.get(tag) {
                Some(Slot::Made { object: obj, .. } | Slot::Object(obj, _)) => {
                    Resolved::Element(obj.bind(py).clone())
                }
                Some(Slot::Plain(first, _)) => Resolved::Value(first.value.bind(py).clone()),
                Some(Slot::Lazy(_)) => {
                    let value = plain.value.bind(py).clone();
                    slots.insert(tag, Slot::Plain(plain, lazy));
                    Resolved::Value(value)
                }
                None => Resolved::Value(plain.value.bind(py).clone()),
            });
        }
        let elem = plain.data_element(py, this.pydicom.get())?;
        let mut slots = this.lock();
        match slots.get(tag) {
            Some(Slot::Made { object: obj, .. } | Slot::Object(obj, _)) => {
                return Ok(Resolved::Element(obj.bind(py).clone()))
            }
            Some(Slot::Plain(first, _)) => {
                // Another thread converted it for its value: the element holds that value.
                let first = Arc::clone(first);
                drop(slots);
                return this.element_of(py, tag, &first).map(Resolved::Element);
            }
            Some(Slot::Lazy(_)) => {
                let made = Slot::Made {
                    object: elem.clone().unbind(),
                    plain,
                    lazy,
                };
                slots.insert(tag, made)
            }
            None => {}
        }
        Ok(Resolved::Element(elem))
    }

    /// The tags in order, as tag objects.
    fn tag_list<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        let this = slf.get();
        let tags = this
            .snapshot()
            .into_iter()
            .map(|tag| this.tag_object(py, tag))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, tags)
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

    /// The still-unconverted value of `tag` as a `PixelRegion` (None once converted or
    /// replaced, or when not held as bytes), so pixel data is read without a copy.
    fn pixel_region(&self, tag: u32) -> Option<PixelRegion> {
        let lazy = match self.lock().get(tag) {
            Some(Slot::Lazy(lazy)) => lazy.clone(),
            _ => return None,
        };
        let e = &lazy.element;
        (e.kind == ValueKind::Bytes).then(|| {
            let source = Arc::clone(&self.origins[lazy.source].source);
            PixelRegion::new(source, e)
        })
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> bool {
        tag_of(key).is_some_and(|tag| self.lock().contains(tag))
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
        self.store(key, tag, value)
    }

    fn __delitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        match tag_of(key) {
            Some(tag) if self.remove(key.py(), tag)? => Ok(()),
            _ => Err(PyKeyError::new_err(key.clone().unbind())),
        }
    }

    fn __iter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::tag_list(slf)?.try_iter().map(|it| it.into_any())
    }

    /// `ds[key]` as pydicom's `Dataset.__getitem__` finds it: the stored element, or a plain
    /// element converted here and stored (as pydicom stores what it converts), or else None:
    /// pydicom converts the raw element (which is not made here, only to be made again by
    /// pydicom's lookup: a bulk value would then be read twice). `charset` is the dataset's
    /// `_read_charset`.
    pub fn convert<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        charset: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match Self::resolve(slf, key, charset, false)? {
            // (A bare value comes back only when asked for.)
            Resolved::Element(elem) | Resolved::Value(elem) => Ok(elem),
            Resolved::Raw => Ok(slf.py().None().into_bound(slf.py())),
            Resolved::Missing => Err(PyKeyError::new_err(key.clone().unbind())),
        }
    }

    /// The value keyword access (`ds.PatientName`) returns, when `convert` gives a
    /// `DataElement`; `NotImplemented` when pydicom's path must decide (absent, raw, ...).
    pub fn value_of<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        charset: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        match Self::resolve(slf, key, charset, true)? {
            Resolved::Value(value) => Ok(value),
            Resolved::Element(elem)
                if elem
                    .get_type()
                    .is(slf.get().pydicom.get().data_element_type(py)) =>
            {
                elem.getattr(intern!(py, "_value"))
            }
            _ => Ok(py.NotImplemented().into_bound(py)),
        }
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

    /// The tags, as a live `dict_keys` view (of a dict of tags kept from the first call on).
    fn keys<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let this = slf.get();
        let keys = match this.key_view(py) {
            Some(keys) => keys.into_bound(py),
            None => {
                let dict = PyDict::new(py);
                for tag in Self::tag_list(slf)?.iter() {
                    dict.set_item(tag, py.None())?;
                }
                let mut view = this.key_view.lock().unwrap_or_else(|e| e.into_inner());
                view.get_or_insert_with(|| dict.unbind())
                    .clone_ref(py)
                    .into_bound(py)
            }
        };
        keys.call_method0(intern!(py, "keys"))
    }

    /// The elements, as a `dict_values` snapshot.
    fn values<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::copy(slf)?.call_method0(intern!(slf.py(), "values"))
    }

    /// (tag, element) pairs, as a `dict_items` snapshot.
    fn items<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::copy(slf)?.call_method0(intern!(slf.py(), "items"))
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
                slf.get().remove(slf.py(), tag)?;
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
        let last = this.lock().last_tag();
        let tag = last.ok_or_else(|| PyKeyError::new_err("popitem(): dictionary is empty"))?;
        let value = Self::lookup(slf, tag)?;
        this.remove(py, tag)?;
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
        slf.get().store(key, tag, value.clone().unbind())?;
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

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.lock().clear();
        match self.key_view(py) {
            Some(keys) => keys.bind(py).call_method0(intern!(py, "clear")).map(drop),
            None => Ok(()),
        }
    }

    /// A plain dict with every value made (what pickling and `dict(ds._dict)` see).
    pub fn copy<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        let py = slf.py();
        let this = slf.get();
        let dict = PyDict::new(py);
        for tag in this.snapshot() {
            if let Some(value) = Self::lookup(slf, tag)? {
                dict.set_item(this.tag_object(py, tag)?, value)?;
            }
        }
        Ok(dict)
    }

    /// A deep copy that stays lazy: elements not yet made are shared (their bytes never
    /// change), every made one is deep-copied (as pydicom's deep copy of its `_dict`), in
    /// the same order.
    fn __deepcopy__<'py>(
        slf: &Bound<'py, Self>,
        memo: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        let py = slf.py();
        let this = slf.get();
        let deepcopy = py
            .import(intern!(py, "copy"))?
            .getattr(intern!(py, "deepcopy"))?;
        let mut slots = Vec::with_capacity(this.__len__());
        for tag in this.snapshot() {
            let (object, origin) = match this.lock().get(tag) {
                None => continue,
                Some(Slot::Lazy(lazy)) => {
                    slots.push((tag, Slot::Lazy(lazy.clone())));
                    continue;
                }
                Some(slot @ (Slot::Plain(..) | Slot::Made { .. } | Slot::Object(..))) => {
                    (None::<Py<PyAny>>, slot.origin().cloned())
                }
            };
            // Copied outside the lock: deep copies run Python code.
            let object = match object {
                Some(object) => object.into_bound(py),
                None => match Self::lookup(slf, tag)? {
                    Some(object) => object,
                    None => continue,
                },
            };
            let copied = deepcopy.call1((object, memo))?;
            slots.push((tag, Slot::Object(copied.unbind(), origin)));
        }
        let copy = ElementDict {
            origins: this.origins.clone(),
            factory: this.factory.clone_ref(py),
            pydicom: this.pydicom.clone_ref(py),
            slots: Mutex::new(TagMap::from_items(slots)),
            key_view: Mutex::new(None),
        };
        Bound::new(py, copy)
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

/// A class attribute for one DICOM keyword on dcmfast's `FileDataset`: `ds.PatientName` is
/// answered here, without the failed instance lookup that precedes `__getattr__`, whenever the
/// element converts without pydicom; otherwise it raises `AttributeError`, which hands the
/// lookup to pydicom's `Dataset.__getattr__` exactly as before.
#[pyclass(frozen, module = "dcmfast._core")]
pub struct KeywordAttribute {
    keyword: Py<PyString>,
    tag: Py<PyAny>,
}

#[pymethods]
impl KeywordAttribute {
    #[new]
    fn new(keyword: Py<PyString>, tag: Py<PyAny>) -> Self {
        KeywordAttribute { keyword, tag }
    }

    fn __get__<'py>(
        &self,
        py: Python<'py>,
        instance: Option<&Bound<'py, PyAny>>,
        _owner: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // On the class itself a keyword is no attribute, as on pydicom's Dataset.
        let Some(instance) = instance else {
            return Err(PyAttributeError::new_err(self.keyword.clone_ref(py)));
        };
        // pydicom's __getattr__ ends in object.__getattribute__, which comes back here: the
        // message must be the one the failed lookup itself would give.
        let missing = || match instance.get_type().name() {
            Ok(class) => PyAttributeError::new_err(format!(
                "'{class}' object has no attribute '{}'",
                self.keyword.bind(py)
            )),
            Err(err) => err,
        };
        let state = instance.getattr(intern!(py, "__dict__"))?;
        let state = state.cast::<PyDict>().map_err(|_| missing())?;
        let (Some(elements), Some(charset)) = (
            state.get_item(intern!(py, "_dict"))?,
            state.get_item(intern!(py, "_read_charset"))?,
        ) else {
            return Err(missing());
        };
        let Ok(elements) = elements.cast::<ElementDict>() else {
            return Err(missing());
        };
        let value = ElementDict::value_of(elements, self.tag.bind(py), &charset)?;
        if value.is(py.NotImplemented()) {
            return Err(missing());
        }
        Ok(value)
    }
}

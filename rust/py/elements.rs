//! `ElementDict`: the lazy mapping a pydicom `Dataset` keeps as `_dict`. Keys are tags; a value is
//! made only when asked for (a `RawDataElement` over the source's bytes, or whatever pydicom
//! stored back after converting it), so untouched elements cost nothing.

use super::convert::{
    plain_element, undefined_length_sequence, PlainElement, Pydicom, ReadElement,
};
use super::pixels::PixelRegion;
use crate::charset;
use crate::parse::{Element, Encoding, ValueKind};
use crate::source::{Store, BULK_MIN};
use crate::tagmap::TagMap;
use crate::tags::{SEQUENCE_DELIMITATION_ITEM, SPECIFIC_CHARACTER_SET};
use crate::values;
use crate::vr::Vr;
use pyo3::exceptions::{PyAttributeError, PyException, PyKeyError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyInt, PyList, PyString, PyTuple};
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
    /// The VR an undefined-length sequence's header holds (None when implicit): its
    /// element carries the VR the walk resolved, pydicom's reader starts from this one.
    fn sequence_header_vr(&self, element: &Element) -> Option<Vr> {
        if self.encoding.implicit {
            return None;
        }
        let at = element.value_offset.checked_sub(8)?;
        let code = self.source.get(at, at + 2).ok()?;
        Vr::from_code(code.try_into().ok()?)
    }

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
        if e.kind == ValueKind::Sequence {
            if let Some(elem) = self.undefined_length_sequence(slf, &tag, lazy)? {
                // Stored, as pydicom's reader keeps the sequence it parsed.
                self.store(&tag, e.tag, elem.clone().unbind())?;
                return Ok(elem);
            }
        }
        if e.kind != ValueKind::Bytes || e.length == 0 {
            let (kind, vr) = match e.kind {
                ValueKind::Bytes => ("empty", e.vr),
                ValueKind::Deferred => ("deferred", e.vr),
                ValueKind::Sequence => ("sequence", origin.sequence_header_vr(e)),
            };
            return factory.call_method1(
                intern!(py, "special"),
                (
                    slf,
                    tag,
                    vr,
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

    /// The element pydicom's reader makes of the undefined-length sequence `lazy`, made
    /// here when its items are regular and it ends at its delimiter (else its reader must
    /// read it, and warn as it does).
    fn undefined_length_sequence<'py>(
        &self,
        slf: &Bound<'py, Self>,
        tag: &Bound<'py, PyAny>,
        lazy: &Lazy,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let py = slf.py();
        let origin = &self.origins[lazy.source];
        let e = &lazy.element;
        let end = e.value_offset + e.value_len;
        let delimiter = origin.source.get(end, end + 4)?;
        let little = origin.encoding.little;
        if delimiter.len() != 4
            || values::tag_of(delimiter.try_into().expect("4 bytes"), little)
                != SEQUENCE_DELIMITATION_ITEM
        {
            return Ok(None);
        }
        let factory = self.factory.bind(py);
        let vr = factory.call_method1(
            intern!(py, "sequence_vr"),
            (tag, origin.sequence_header_vr(e)),
        )?;
        let encodings = factory.call_method1(intern!(py, "sequence_encoding"), (slf, little))?;
        let read = ReadElement {
            element: e,
            bytes: origin.value(e)?,
            encoding: origin.encoding,
            value_tell: origin.base + e.value_offset,
        };
        undefined_length_sequence(self.pydicom.get(), tag, read, vr, &encodings)
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

    /// `lazy` converted as pydicom would, when that can be done without pydicom;
    /// `private_vr` is the VR of an implicit private element; sequences are made only
    /// with `sequences`.
    fn plain<'py>(
        &self,
        tag: &Bound<'py, PyAny>,
        lazy: &Lazy,
        charset: &Bound<'py, PyAny>,
        private_vr: Option<(Vr, Bound<'py, PyAny>)>,
        sequences: bool,
    ) -> PyResult<Option<PlainElement>> {
        let origin = &self.origins[lazy.source];
        let e = &lazy.element;
        let value = origin.value(e)?;
        let read = ReadElement {
            element: e,
            bytes: value,
            encoding: origin.encoding,
            value_tell: origin.base + e.value_offset,
        };
        plain_element(
            self.pydicom.get(),
            tag,
            read,
            charset,
            private_vr,
            sequences,
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
        let value = Self::value_of(slf, &key, &PyString::new(py, "").into_any(), None)?;
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
        dataset: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Resolved<'py>> {
        match tag_of(key) {
            Some(tag) => Self::resolve_tag(slf, tag, Some(key), charset, value_only, dataset),
            None => Ok(Resolved::Missing),
        }
    }

    /// `resolve` of `tag`; `key` is the caller's key object, if it has one. Sequences are
    /// made only when the `dataset` whose `_dict` this is comes along (pydicom's
    /// `__setitem__` then updates its `_pixel_rep` and its items').
    fn resolve_tag<'py>(
        slf: &Bound<'py, Self>,
        tag: u32,
        key: Option<&Bound<'py, PyAny>>,
        charset: &Bound<'py, PyAny>,
        value_only: bool,
        dataset: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Resolved<'py>> {
        let py = slf.py();
        let this = slf.get();
        let lazy = match this.stored(py, tag) {
            None => return Ok(Resolved::Missing),
            Some(Stored::Object(obj)) => return Ok(Resolved::Element(obj)),
            Some(Stored::Plain(plain)) if value_only => {
                return Ok(Resolved::Value(plain.value.bind(py).clone()))
            }
            Some(Stored::Plain(plain)) => {
                return this.element_of(py, tag, &plain).map(Resolved::Element)
            }
            Some(Stored::Lazy(lazy)) if lazy.element.kind == ValueKind::Sequence => {
                // Parsed while reading by pydicom: an element already, whatever the access.
                let elem = this.make(py, &lazy, slf)?;
                return Ok(match value_only && this.is_data_element(&elem) {
                    true => Resolved::Value(elem.getattr(intern!(py, "_value"))?),
                    false => Resolved::Element(elem),
                });
            }
            Some(Stored::Lazy(lazy)) => lazy,
        };
        // pydicom's element carries the tag object its reader made; the caller's key is one.
        let tag_object = match key {
            Some(key) if key.get_type().is(this.pydicom.get().tag_type.bind(py)) => key.clone(),
            _ => this.tag_object(py, tag)?,
        };
        // `Dataset.__setitem__` gives a private element its creator's value (converting the
        // creator on the way); an implicit one takes its VR from that creator's dictionary.
        let creator = match private_creator_tag(tag).filter(|&c| this.contains_tag(c)) {
            Some(creator) => match Self::resolve_tag(slf, creator, None, charset, true, None)? {
                Resolved::Value(value) => Some(value),
                Resolved::Element(elem) if this.is_data_element(&elem) => {
                    Some(elem.getattr(intern!(py, "_value"))?)
                }
                _ => return Ok(Resolved::Raw),
            },
            None => None,
        };
        let private_vr = match (&creator, lazy.element.vr) {
            (_, Some(_)) => None,
            _ if tag >> 16 & 1 == 0 => None,
            _ if (0x10..0x100).contains(&(tag & 0xFFFF)) => {
                Some(this.pydicom.get().private_creator_vr(py))
            }
            (Some(creator), None) if tag & 0xFF00 != 0 => {
                this.pydicom.get().private_vr(tag, creator)?
            }
            _ => None,
        };
        let sequences = dataset.is_some();
        let Some(mut plain) = this.plain(&tag_object, &lazy, charset, private_vr, sequences)?
        else {
            return Ok(Resolved::Raw);
        };
        plain.private_creator = creator.map(Bound::unbind);
        // A sequence (made only with its dataset at hand): stored as an element at once, as
        // its dataset's `_pixel_rep` and its items' follow.
        if let (Vr::SQ, Some(dataset)) = (plain.vr, dataset) {
            let elem = plain.data_element(py, this.pydicom.get())?;
            let elem = {
                let mut slots = this.lock();
                match slots.get(tag) {
                    Some(Slot::Object(obj, _)) => {
                        return Ok(Resolved::Element(obj.bind(py).clone()))
                    }
                    // Not `Made`: its items may change while it stays the same object, so
                    // pydicom's writer encodes it.
                    Some(Slot::Lazy(_)) => {
                        let replaced = Some(lazy.clone());
                        slots.insert(tag, Slot::Object(elem.clone().unbind(), replaced))
                    }
                    _ => {}
                }
                elem
            };
            dataset.call_method1(intern!(py, "_set_pixel_representation"), (&elem,))?;
            return Ok(match value_only {
                true => Resolved::Value(elem.getattr(intern!(py, "_value"))?),
                false => Resolved::Element(elem),
            });
        }
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

    fn is_data_element(&self, obj: &Bound<'_, PyAny>) -> bool {
        obj.get_type()
            .is(self.pydicom.get().data_element_type(obj.py()))
    }

    /// The tag a `Dataset` key names, for the keys whose meaning is plain (tags, ints,
    /// `(group, element)` pairs, keywords); None leaves the key to pydicom's `Tag`.
    fn key_tag(&self, key: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
        // Only Python ints: `Tag` refuses other integer types.
        if key.is_instance_of::<PyInt>() {
            return Ok(key.extract::<u32>().ok());
        }
        if let Ok(pair) = key.cast::<PyTuple>() {
            let ints = pair.len() == 2 && pair.iter().all(|i| i.is_instance_of::<PyInt>());
            return Ok(match pair.extract::<(u16, u16)>() {
                Ok((group, element)) if ints => Some(u32::from(group) << 16 | u32::from(element)),
                _ => None,
            });
        }
        if key.is_instance_of::<PyString>() {
            return self.pydicom.get().keyword_tag(key);
        }
        Ok(None)
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

/// The tag of the private creator that reserves the block of private `tag`, as
/// `Dataset.__setitem__` finds it; None for public tags and for a creator itself.
fn private_creator_tag(tag: u32) -> Option<u32> {
    let creator = tag & 0xFFFF_0000 | (tag & 0xFFFF) >> 8;
    (crate::dictionary::is_private(tag) && creator != tag).then_some(creator)
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

    /// `ds[key]` when the element is made here (or already stored as a `DataElement`), for
    /// the key forms whose tag is plain; None leaves the key to pydicom's `__getitem__`
    /// (other key forms, raw elements, absent tags: its errors are its own).
    pub fn element<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        dataset: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let this = slf.get();
        let Some(tag) = this.key_tag(key)? else {
            return Ok(None);
        };
        let charset = dataset.getattr(intern!(slf.py(), "_read_charset"))?;
        let found = Self::resolve_tag(slf, tag, Some(key), &charset, false, Some(dataset))?;
        Ok(match found {
            Resolved::Element(elem) if this.is_data_element(&elem) => Some(elem),
            _ => None,
        })
    }

    /// `iter(dataset)` for the dataset whose `_dict` this is: its elements in tag order.
    fn dataset_elements(slf: &Bound<'_, Self>, dataset: Py<PyAny>) -> DatasetElements {
        DatasetElements {
            dataset,
            elements: slf.clone().unbind(),
            tags: Mutex::new(None),
        }
    }

    /// pydicom's `Dataset.walk` of `dataset` (whose `_dict` this is): `callback(dataset,
    /// element)` for each element in tag order, then each item of a sequence still present
    /// walked by its own `walk`. An `Exception` from an element becomes `wrap(tag, exc)`,
    /// the exception pydicom's `tag_in_exception` makes of it.
    fn walk_dataset<'py>(
        slf: &Bound<'py, Self>,
        dataset: &Bound<'py, PyAny>,
        callback: &Bound<'py, PyAny>,
        recursive: bool,
        wrap: &Bound<'py, PyAny>,
    ) -> PyResult<()> {
        let py = slf.py();
        let this = slf.get();
        for tag in this.sorted_tags() {
            let key = this.tag_object(py, tag)?;
            let visit = || -> PyResult<()> {
                let charset = dataset.getattr(intern!(py, "_read_charset"))?;
                let found =
                    Self::resolve_tag(slf, tag, Some(&key), &charset, false, Some(dataset))?;
                let elem = match found {
                    Resolved::Element(elem) if this.is_data_element(&elem) => elem,
                    _ => dataset.get_item(&key)?,
                };
                callback.call1((dataset, &elem))?;
                // Still there (the callback may delete it), as `tag in self` asks.
                if !recursive || !dataset.getattr(intern!(py, "_dict"))?.contains(&key)? {
                    return Ok(());
                }
                if elem.getattr(intern!(py, "VR"))?.eq(intern!(py, "SQ"))? {
                    for item in elem.getattr(intern!(py, "value"))?.try_iter()? {
                        item?.call_method1(intern!(py, "walk"), (callback,))?;
                    }
                }
                Ok(())
            };
            if let Err(err) = visit() {
                if !err.is_instance_of::<PyException>(py) {
                    return Err(err);
                }
                let wrapped = wrap.call1((&key, err.into_value(py)))?;
                return Err(PyErr::from_value(wrapped));
            }
        }
        Ok(())
    }

    /// The value keyword access (`ds.PatientName`) returns, when the element is made here
    /// (sequences only when `dataset`, whose `_dict` this is, is given); `NotImplemented`
    /// when pydicom's path must decide (absent, raw, ...).
    #[pyo3(signature = (key, charset, dataset = None))]
    pub fn value_of<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        charset: &Bound<'py, PyAny>,
        dataset: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        match Self::resolve(slf, key, charset, true, dataset)? {
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
        let value = ElementDict::value_of(elements, self.tag.bind(py), &charset, Some(instance))?;
        if value.is(py.NotImplemented()) {
            return Err(missing());
        }
        Ok(value)
    }
}

/// pydicom's `Dataset.__iter__` (every element, in tag order, each as `dataset[tag]` gives
/// it) with the elements made here taken without a Python frame. The tags are those present
/// at the first `next`, as pydicom's generator sees them.
#[pyclass(frozen, module = "dcmfast._core")]
pub struct DatasetElements {
    dataset: Py<PyAny>,
    elements: Py<ElementDict>,
    tags: Mutex<Option<std::vec::IntoIter<u32>>>,
}

#[pymethods]
impl DatasetElements {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(slf: &Bound<'py, Self>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let py = slf.py();
        let this = slf.get();
        let elements = this.elements.bind(py);
        let next = {
            let mut tags = this.tags.lock().unwrap_or_else(|e| e.into_inner());
            tags.get_or_insert_with(|| elements.get().sorted_tags().into_iter())
                .next()
        };
        let Some(tag) = next else {
            return Ok(None);
        };
        let dataset = this.dataset.bind(py);
        let charset = dataset.getattr(intern!(py, "_read_charset"))?;
        if let Resolved::Element(elem) =
            ElementDict::resolve_tag(elements, tag, None, &charset, false, Some(dataset))?
        {
            if elements.get().is_data_element(&elem) {
                return Ok(Some(elem));
            }
        }
        // Raw, absent, or stored by someone else: the dataset's own `__getitem__` decides.
        let key = elements.get().tag_object(py, tag)?;
        dataset.get_item(key).map(Some)
    }
}

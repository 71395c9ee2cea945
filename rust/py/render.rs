//! `Renderer`: pydicom's `Dataset._pretty_str` (`str(ds)`, `repr(ds)`, `ds.top()`) and
//! `Dataset.to_json_dict`, walking pydicom's own objects. Elements are fetched as pydicom
//! fetches them (`ds[tag]`, which converts and stores them), so the dataset's state and
//! warnings afterwards are pydicom's. An exactly-typed `DataElement` holding values of
//! pydicom's own types is rendered here by `render`'s rules (asking the value's own code only
//! where its text is Python's: floats, strings, person names); anything else (a subclass,
//! another value type, a tag-valued AT element) is handed to pydicom's own method for that
//! element or item.

use super::elements::ElementDict;
use crate::render::{
    array_summary, base64, is_long_value, is_private, json_form, private_dictionary_keys,
    private_name_fallback, write_json_string, write_line_head, write_tag, JsonForm,
};
use crate::vr::{self, Vr};
use pyo3::exceptions::PyException;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Mutex;

/// The attributes pydicom's `DataElement.__init__` gives an element: one with any other
/// instance attribute (say its own `showVR`) is rendered by pydicom.
const ELEMENT_STATE: [&str; 7] = [
    "tag",
    "VR",
    "validation_mode",
    "_value",
    "file_tell",
    "is_undefined_length",
    "private_creator",
];

/// More names than pydicom's dictionaries hold (about 5,000 public, 10,000 private).
const NAME_CACHE_LIMIT: usize = 65_536;

/// pydicom's classes and dictionaries the renderer reads, looked up once.
#[pyclass(frozen, module = "dcmfast._core")]
pub struct Renderer {
    data_element: Py<PyAny>,
    /// Dataset classes whose iteration, item access and rendering are pydicom's own.
    datasets: Py<PyTuple>,
    sequence: Py<PyAny>,
    multivalue: Py<PyAny>,
    uid: Py<PyAny>,
    is_type: Py<PyAny>,
    ds_type: Py<PyAny>,
    tag_type: Py<PyAny>,
    person_name: Py<PyAny>,
    int_type: Py<PyAny>,
    float_type: Py<PyAny>,
    int_repr: Py<PyAny>,
    float_repr: Py<PyAny>,
    dicom_dictionary: Py<PyDict>,
    private_dictionaries: Py<PyDict>,
    uid_dictionary: Py<PyDict>,
    config: Py<PyAny>,
    dataset_module: Py<PyAny>,
    dataelem_module: Py<PyAny>,
    /// `lambda d: d`, the dump handler pydicom gives an item's `to_json`.
    identity: Py<PyAny>,
    /// `(owner, name, original)`: the methods and properties whose behaviour the renderer
    /// reproduces; when one is replaced, pydicom's code renders instead.
    reproduced: Vec<(Py<PyAny>, Py<PyString>, Py<PyAny>)>,
    /// VR text -> index in `vr::ALL`: a VR's kind found by one (cached-hash) dict lookup.
    vr_index: Py<PyDict>,
    /// Names of dictionary entries seen, by the entry tuple's identity (the entry is held, so
    /// its address cannot be reused while cached; a replaced entry is a different object).
    names: Mutex<HashMap<usize, (Py<PyAny>, String)>>,
    /// The keys a private tag is looked up by, made once per tag (a Python string keeps its
    /// hash, so later lookups hash nothing).
    private_keys: Mutex<HashMap<u32, [Py<PyString>; 3]>>,
}

/// Where a dataset keeps its elements, for reading converted ones without a Python call.
enum Store<'py> {
    Rust(Bound<'py, ElementDict>),
    Dict(Bound<'py, PyDict>),
    Other,
}

/// `DataElement`'s display settings (class attributes), read at every call as pydicom does.
struct Display {
    show_vr: bool,
    width: usize,
    max_bytes: i64,
}

/// An element pydicom made and nobody changed the class of: its state, read directly.
struct Plain<'py> {
    element: Bound<'py, PyAny>,
    tag: u32,
    vr_object: Bound<'py, PyAny>,
    /// The VR, when it is an exact `str` naming one of pydicom's VRs (elements with any
    /// other VR are rendered by pydicom).
    vr: Option<Vr>,
    value: Bound<'py, PyAny>,
    creator: Bound<'py, PyAny>,
}

/// The value types rendered here.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    None,
    Str,
    Uid,
    Bytes,
    Int,
    Is,
    Float,
    DsFloat,
    Tag,
    /// A `PersonName`: its truth, length, repr and components are its own (Python) code's.
    PersonName,
    MultiValue,
    List,
    Other,
}

#[pymethods]
impl Renderer {
    /// Take what to render with from `spec` (dcmfast's `_render.PydicomRendering`).
    #[new]
    fn new(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        let get = |name: &str| spec.getattr(name).map(Bound::unbind);
        let dict = |name: &str| -> PyResult<Py<PyDict>> {
            Ok(spec.getattr(name)?.cast_into::<PyDict>()?.unbind())
        };
        let mut reproduced = Vec::new();
        for entry in spec.getattr("reproduced")?.try_iter()? {
            let (owner, name, original): (Py<PyAny>, Py<PyString>, Py<PyAny>) = entry?.extract()?;
            reproduced.push((owner, name, original));
        }
        let py = spec.py();
        let vr_index = PyDict::new(py);
        for (i, vr) in vr::ALL.iter().enumerate() {
            vr_index.set_item(vr.as_str(), i)?;
        }
        Ok(Renderer {
            vr_index: vr_index.unbind(),
            names: Mutex::new(HashMap::new()),
            private_keys: Mutex::new(HashMap::new()),
            data_element: get("data_element")?,
            datasets: spec.getattr("datasets")?.cast_into::<PyTuple>()?.unbind(),
            sequence: get("sequence")?,
            multivalue: get("multivalue")?,
            uid: get("uid")?,
            is_type: get("is_type")?,
            ds_type: get("ds_type")?,
            tag_type: get("tag_type")?,
            person_name: get("person_name")?,
            int_type: get("int_type")?,
            float_type: get("float_type")?,
            int_repr: get("int_repr")?,
            float_repr: get("float_repr")?,
            dicom_dictionary: dict("dicom_dictionary")?,
            private_dictionaries: dict("private_dictionaries")?,
            uid_dictionary: dict("uid_dictionary")?,
            config: get("config")?,
            dataset_module: get("dataset_module")?,
            dataelem_module: get("dataelem_module")?,
            identity: get("identity")?,
            reproduced,
        })
    }

    /// Whether `ds` is a dataset this renderer reproduces pydicom's rendering of: one of
    /// pydicom's dataset classes (or dcmfast's), with pydicom's rendering code in place.
    fn applies(&self, ds: &Bound<'_, PyAny>) -> PyResult<bool> {
        let py = ds.py();
        if !self.is_dataset(ds) {
            return Ok(false);
        }
        for (owner, name, original) in &self.reproduced {
            if !owner.bind(py).getattr(name.bind(py))?.is(original.bind(py)) {
                return Ok(false);
            }
        }
        Ok(self.display(py)?.is_some())
    }

    /// `ds._pretty_str(indent, top_level_only)`, for a dataset `applies` accepted. Any
    /// exception means: let pydicom's own code render it (and raise as it does).
    fn pretty_str(
        &self,
        ds: &Bound<'_, PyAny>,
        indent: usize,
        top_level_only: bool,
    ) -> PyResult<String> {
        let py = ds.py();
        let Some(display) = self.display(py)? else {
            return Err(PyException::new_err(
                "DataElement display settings pydicom must apply",
            ));
        };
        let mut out = String::new();
        self.write_dataset(ds, indent, 0, top_level_only, &display, &mut out)?;
        Ok(out)
    }

    /// `ds.to_json_dict(bulk_data_threshold, bulk_data_element_handler, suppress_invalid_tags)`
    /// for a dataset `applies` accepted, inside the reading mode pydicom's method sets.
    fn json_dict<'py>(
        &self,
        ds: &Bound<'py, PyAny>,
        bulk_data_threshold: i64,
        bulk_data_element_handler: Option<Bound<'py, PyAny>>,
        suppress_invalid_tags: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let py = ds.py();
        let logger = self
            .dataelem_module
            .bind(py)
            .getattr(intern!(py, "logger"))?;
        let info = logger
            .call_method1(intern!(py, "isEnabledFor"), (20,))?
            .is_truthy()?;
        let bulk = Bulk {
            depth: Cell::new(0),
            threshold: bulk_data_threshold,
            handler: bulk_data_element_handler,
            logger: info.then_some(logger),
        };
        self.json_dataset(ds, &bulk, suppress_invalid_tags)
    }

    /// `json.dumps(json_dict, sort_keys=True)` (pydicom's default dump handler), or `None`
    /// when the dict holds anything the encoder here does not write exactly as json's
    /// (then json.dumps answers, and raises as it does).
    fn json_text(&self, json_dict: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        let mut out = String::new();
        Ok(self.write_json(json_dict, 0, &mut out)?.then_some(out))
    }
}

/// Items nested deeper than this are rendered by pydicom's own (recursive) code, which
/// meets Python's recursion limit as it does; the renderer's recursion stays shallow.
const NESTING_LIMIT: usize = 128;

/// Deeper than any JSON of a DICOM dataset nests; past it json.dumps decides (and
/// detects a circular reference as it does).
const JSON_DEPTH_LIMIT: usize = 3 * NESTING_LIMIT + 8;

/// How binary values go into JSON: the caller's handler and threshold, and pydicom's
/// element logger when its INFO messages are wanted.
struct Bulk<'py> {
    /// How many items deep the JSON being made is.
    depth: Cell<usize>,
    threshold: i64,
    handler: Option<Bound<'py, PyAny>>,
    logger: Option<Bound<'py, PyAny>>,
}

impl Renderer {
    fn is_dataset(&self, ds: &Bound<'_, PyAny>) -> bool {
        let py = ds.py();
        let ty = ds.get_type();
        self.datasets.bind(py).iter().any(|class| ty.is(&class))
    }

    fn display(&self, py: Python<'_>) -> PyResult<Option<Display>> {
        let class = self.data_element.bind(py);
        let show_vr = class.getattr(intern!(py, "showVR"))?.is_truthy()?;
        let width = class
            .getattr(intern!(py, "descripWidth"))?
            .extract::<usize>();
        let max_bytes = class
            .getattr(intern!(py, "maxBytesToDisplay"))?
            .extract::<i64>();
        Ok(match (width, max_bytes) {
            (Ok(width), Ok(max_bytes)) => Some(Display {
                show_vr,
                width,
                max_bytes,
            }),
            _ => None,
        })
    }

    /// The elements of a dataset as `for elem in ds` yields them: sorted by tag, each
    /// through `ds[tag]`.
    fn elements<'py>(&self, ds: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        if !self.is_dataset(ds) {
            return ds.try_iter()?.collect();
        }
        let mut keys = self.keys(ds)?;
        keys.sort_by_key(|(tag, _)| *tag);
        let store = self.store(ds)?;
        keys.iter()
            .map(|(tag, key)| self.fetch(ds, &store, *tag, key))
            .collect()
    }

    fn store<'py>(&self, ds: &Bound<'py, PyAny>) -> PyResult<Store<'py>> {
        let elements = ds.getattr(intern!(ds.py(), "_dict"))?;
        Ok(match elements.cast_exact::<ElementDict>() {
            Ok(dict) => Store::Rust(dict.clone()),
            Err(_) => match elements.cast_exact::<PyDict>() {
                Ok(dict) => Store::Dict(dict.clone()),
                Err(_) => Store::Other,
            },
        })
    }

    /// `ds[key]`: a `DataElement` already stored is what pydicom's `__getitem__` returns as
    /// it is; anything else goes through `__getitem__` (which converts and stores it).
    fn fetch<'py>(
        &self,
        ds: &Bound<'py, PyAny>,
        store: &Store<'py>,
        tag: u64,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = ds.py();
        let stored = match store {
            Store::Rust(dict) => u32::try_from(tag)
                .ok()
                .and_then(|tag| dict.get().stored_object(py, tag)),
            Store::Dict(dict) => dict.get_item(key)?,
            Store::Other => None,
        };
        match stored {
            Some(element) if element.get_type().is(self.data_element.bind(py)) => Ok(element),
            _ => ds.get_item(key),
        }
    }

    /// `ds.keys()` (the element dict's keys, in its order) with each key's number.
    fn keys<'py>(&self, ds: &Bound<'py, PyAny>) -> PyResult<Vec<(u64, Bound<'py, PyAny>)>> {
        let py = ds.py();
        let elements = ds.getattr(intern!(py, "_dict"))?;
        elements
            .call_method0(intern!(py, "keys"))?
            .try_iter()?
            .map(|key| {
                let key = key?;
                Ok((key.extract::<u64>()?, key))
            })
            .collect()
    }

    fn plain<'py>(&self, element: &Bound<'py, PyAny>) -> PyResult<Option<Plain<'py>>> {
        let py = element.py();
        if !element.get_type().is(self.data_element.bind(py)) {
            return Ok(None);
        }
        let state = element
            .getattr(intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?;
        if state.len() != ELEMENT_STATE.len() {
            return Ok(None);
        }
        for name in [
            intern!(py, "validation_mode"),
            intern!(py, "file_tell"),
            intern!(py, "is_undefined_length"),
        ] {
            if !state.contains(name)? {
                return Ok(None);
            }
        }
        let mut missing = false;
        let mut field = |name: &Bound<'py, PyString>| -> PyResult<Bound<'py, PyAny>> {
            Ok(state.get_item(name)?.unwrap_or_else(|| {
                missing = true;
                py.None().into_bound(py)
            }))
        };
        let Ok(tag) = field(intern!(py, "tag"))?.extract::<u32>() else {
            return Ok(None);
        };
        let vr_object = field(intern!(py, "VR"))?;
        let vr = match vr_object.is_exact_instance_of::<PyString>() {
            true => match self.vr_index.bind(py).get_item(&vr_object)? {
                Some(index) => vr::ALL.get(index.extract::<usize>()?).copied(),
                None => None,
            },
            false => None,
        };
        let value = field(intern!(py, "_value"))?;
        let creator = field(intern!(py, "private_creator"))?;
        if missing {
            return Ok(None);
        }
        Ok(Some(Plain {
            element: element.clone(),
            tag,
            vr_object,
            vr,
            value,
            creator,
        }))
    }

    fn kind(&self, value: &Bound<'_, PyAny>) -> Kind {
        let py = value.py();
        if value.is_none() {
            return Kind::None;
        }
        let ty = value.get_type();
        if ty.is(py.get_type::<PyString>()) {
            Kind::Str
        } else if ty.is(self.uid.bind(py)) {
            Kind::Uid
        } else if ty.is(py.get_type::<PyBytes>()) {
            Kind::Bytes
        } else if ty.is(self.int_type.bind(py)) {
            Kind::Int
        } else if ty.is(self.float_type.bind(py)) {
            Kind::Float
        } else if ty.is(self.ds_type.bind(py)) {
            Kind::DsFloat
        } else if ty.is(self.is_type.bind(py)) {
            Kind::Is
        } else if ty.is(self.tag_type.bind(py)) {
            Kind::Tag
        } else if ty.is(self.person_name.bind(py)) {
            Kind::PersonName
        } else if ty.is(self.multivalue.bind(py)) {
            Kind::MultiValue
        } else if ty.is(py.get_type::<PyList>()) {
            Kind::List
        } else {
            Kind::Other
        }
    }

    /// The items of a MultiValue (its `_list`) or a list.
    fn items<'py>(&self, value: &Bound<'py, PyAny>, kind: Kind) -> PyResult<Bound<'py, PyList>> {
        let py = value.py();
        if kind == Kind::MultiValue {
            Ok(value.getattr(intern!(py, "_list"))?.cast_into::<PyList>()?)
        } else {
            Ok(value.clone().cast_into::<PyList>()?)
        }
    }

    /// `DataElement.name`, or `None` where pydicom's property must answer (repeaters, group
    /// lengths, unknown tags, creators that are not text).
    fn name(&self, plain: &Plain<'_>) -> PyResult<Option<String>> {
        let py = plain.element.py();
        let tag = plain.tag;
        if is_private(tag) {
            if !plain.creator.is_truthy()? {
                return Ok(Some(private_name_fallback(tag, false).to_owned()));
            }
            let Ok(creator) = plain.creator.cast_exact::<PyString>() else {
                return Ok(None);
            };
            if let Some(entries) = self.private_dictionaries.bind(py).get_item(creator)? {
                let Ok(entries) = entries.cast_into::<PyDict>() else {
                    return Ok(None);
                };
                for key in self.private_keys(py, tag) {
                    if let Some(entry) = entries.get_item(key)? {
                        return Ok(Some(format!("[{}]", self.entry_name(&entry)?)));
                    }
                }
            }
            return Ok(Some(private_name_fallback(tag, true).to_owned()));
        }
        match self.dicom_dictionary.bind(py).get_item(tag)? {
            Some(entry) => Ok(Some(self.entry_name(&entry)?)),
            None => Ok(None),
        }
    }

    fn private_keys<'py>(&self, py: Python<'py>, tag: u32) -> [Bound<'py, PyString>; 3] {
        let lock = || self.private_keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(keys) = lock().get(&tag) {
            return keys.each_ref().map(|key| key.bind(py).clone());
        }
        let keys = private_dictionary_keys(tag).map(|key| PyString::new(py, &key));
        let mut cache = lock();
        if cache.len() >= NAME_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(tag, keys.each_ref().map(|key| key.clone().unbind()));
        keys
    }

    /// The name (third field) of a dictionary entry.
    fn entry_name(&self, entry: &Bound<'_, PyAny>) -> PyResult<String> {
        let address = entry.as_ptr() as usize;
        let lock = || self.names.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, name)) = lock().get(&address) {
            return Ok(name.clone());
        }
        let name = entry.get_item(2)?.str()?.to_cow()?.into_owned();
        let mut names = lock();
        // Replaced entries stay held; a bound keeps that from growing without end.
        if names.len() >= NAME_CACHE_LIMIT {
            names.clear();
        }
        names.insert(address, (entry.clone().unbind(), name.clone()));
        Ok(name)
    }

    fn name_of(&self, plain: &Plain<'_>) -> PyResult<String> {
        match self.name(plain)? {
            Some(name) => Ok(name),
            None => Ok(plain
                .element
                .getattr(intern!(plain.element.py(), "name"))?
                .str()?
                .to_cow()?
                .into_owned()),
        }
    }

    /// `DataElement.repval`, or `None` where pydicom's `repr(elem)` must answer.
    fn repval(&self, plain: &Plain<'_>, display: &Display) -> PyResult<Option<String>> {
        let py = plain.element.py();
        let value = &plain.value;
        let kind = self.kind(value);
        let length = match kind {
            Kind::Other => return Ok(None),
            Kind::Str | Kind::Uid | Kind::Bytes => Some(value.len()?),
            Kind::MultiValue | Kind::List => Some(self.items(value, kind)?.len()),
            _ => None,
        };
        let long_value = is_long_value(plain.vr);
        // len() of a person name is its own code's, asked only where repval asks it.
        let length = match kind {
            Kind::PersonName if long_value => Some(value.len()?),
            _ => length,
        };
        if long_value {
            if let Some(length) = length {
                if length as i128 > display.max_bytes as i128 {
                    return Ok(Some(array_summary(length)));
                }
            }
        }
        let vm = match kind {
            Kind::None => 0,
            Kind::Str | Kind::Uid | Kind::Bytes => usize::from(length != Some(0)),
            Kind::PersonName => usize::from(value.is_truthy()?),
            Kind::MultiValue | Kind::List => length.unwrap_or(0),
            _ => 1,
        };
        if vm as i128 > display.max_bytes as i128 {
            return Ok(Some(array_summary(vm)));
        }
        let text = match kind {
            Kind::Uid => match self.uid_dictionary.bind(py).get_item(value)? {
                Some(entry) => entry.get_item(0)?.str()?.to_cow()?.into_owned(),
                None => value.str()?.to_cow()?.into_owned(),
            },
            Kind::Is => match value.extract::<i64>() {
                Ok(number) => format!("'{number}'"),
                Err(_) => format!(
                    "'{}'",
                    self.int_repr.bind(py).call1((value,))?.str()?.to_cow()?
                ),
            },
            Kind::DsFloat => format!("'{}'", self.number_text(value, kind)?),
            Kind::Tag => {
                let mut text = String::new();
                write_tag(&mut text, value.extract::<u32>()?);
                text
            }
            Kind::MultiValue => self.multivalue_str(&self.items(value, kind)?)?,
            // An int's repr is its decimal digits (big ones are Python's to print).
            Kind::Int => match value.extract::<i64>() {
                Ok(number) => number.to_string(),
                Err(_) => value.repr()?.to_cow()?.into_owned(),
            },
            _ => value.repr()?.to_cow()?.into_owned(),
        };
        Ok(Some(text))
    }

    /// `str()` of a DS or IS: the string it was read from, else the number's repr.
    fn number_text(&self, value: &Bound<'_, PyAny>, kind: Kind) -> PyResult<String> {
        let py = value.py();
        if let Ok(original) = value.getattr(intern!(py, "original_string")) {
            return Ok(original.str()?.to_cow()?.into_owned());
        }
        let repr = if kind == Kind::DsFloat {
            &self.float_repr
        } else {
            &self.int_repr
        };
        Ok(repr.bind(py).call1((value,))?.str()?.to_cow()?.into_owned())
    }

    /// `MultiValue.__str__` (also its repr).
    fn multivalue_str(&self, items: &Bound<'_, PyList>) -> PyResult<String> {
        if items.is_empty() {
            return Ok(String::new());
        }
        let mut out = String::from("[");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let kind = self.kind(&item);
            if item.is_instance_of::<PyString>() || item.is_instance_of::<PyBytes>() {
                out.push_str(&item.repr()?.to_cow()?);
            } else if matches!(kind, Kind::DsFloat | Kind::Is) {
                out.push_str(&self.number_text(&item, kind)?);
            } else {
                out.push_str(&item.str()?.to_cow()?);
            }
        }
        out.push(']');
        Ok(out)
    }

    /// `repr(elem)` for an element that is not a sequence.
    fn write_element(
        &self,
        element: &Bound<'_, PyAny>,
        display: &Display,
        out: &mut String,
    ) -> PyResult<()> {
        if let Some(plain) = self.plain(element)? {
            if let Some(vr) = plain.vr {
                if let Some(value) = self.repval(&plain, display)? {
                    let name = self.name_of(&plain)?;
                    let vr = display.show_vr.then_some(vr.as_str());
                    write_line_head(out, plain.tag, &name, display.width, vr);
                    out.push_str(&value);
                    return Ok(());
                }
            }
        }
        out.push_str(&element.repr()?.to_cow()?);
        Ok(())
    }

    /// `Dataset._pretty_str`: entries joined by newlines, an item's own text one entry.
    fn write_dataset(
        &self,
        ds: &Bound<'_, PyAny>,
        indent: usize,
        depth: usize,
        top_level_only: bool,
        display: &Display,
        out: &mut String,
    ) -> PyResult<()> {
        let py = ds.py();
        // Text only: pydicom multiplies whatever it is, which only text repeats as text.
        let indent_chars = ds
            .getattr(intern!(py, "indent_chars"))?
            .cast_into_exact::<PyString>()?
            .to_cow()?
            .into_owned();
        let indent_str = indent_chars.repeat(indent);
        let next_indent_str = indent_chars.repeat(indent + 1);
        let mut first = true;
        let mut entry = |out: &mut String| {
            if !first {
                out.push('\n');
            }
            first = false;
        };
        if ds.hasattr(intern!(py, "file_meta"))? {
            let file_meta = ds.getattr(intern!(py, "file_meta"))?;
            if file_meta.is_truthy()?
                && self
                    .config
                    .bind(py)
                    .getattr(intern!(py, "show_file_meta"))?
                    .is_truthy()?
            {
                entry(out);
                out.push_str(&format!("{:-<49}", "Dataset.file_meta "));
                for element in self.elements(&file_meta)? {
                    entry(out);
                    out.push_str(&indent_str);
                    self.write_element(&element, display, out)?;
                }
                entry(out);
                out.push_str(&"-".repeat(49));
            }
        }
        for element in self.elements(ds)? {
            let plain = self.plain(&element)?;
            let is_sequence = match &plain {
                Some(plain) if plain.vr.is_some() => plain.vr == Some(Vr::SQ),
                _ => element.getattr(intern!(py, "VR"))?.eq("SQ")?,
            };
            entry(out);
            if !is_sequence {
                out.push_str(&indent_str);
                self.write_element(&element, display, out)?;
                continue;
            }
            let (tag, name) = match &plain {
                Some(plain) => {
                    let mut tag = String::new();
                    write_tag(&mut tag, plain.tag);
                    (tag, self.name_of(plain)?)
                }
                None => (
                    element
                        .getattr(intern!(py, "tag"))?
                        .str()?
                        .to_cow()?
                        .into_owned(),
                    element
                        .getattr(intern!(py, "name"))?
                        .str()?
                        .to_cow()?
                        .into_owned(),
                ),
            };
            let items = self.sequence_items(&element, plain.as_ref())?;
            out.push_str(&format!(
                "{indent_str}{tag}  {name}  {} item(s) ---- ",
                items.len()
            ));
            if top_level_only {
                continue;
            }
            for item in items {
                entry(out);
                if self.is_dataset(&item) && depth < NESTING_LIMIT {
                    self.write_dataset(&item, indent + 1, depth + 1, false, display, out)?;
                } else {
                    let text = item.call_method1(intern!(py, "_pretty_str"), (indent + 1,))?;
                    out.push_str(&text.str()?.to_cow()?);
                }
                entry(out);
                out.push_str(&next_indent_str);
                out.push_str("---------");
            }
        }
        Ok(())
    }

    /// The items of a sequence element's value, as iterating it gives them.
    fn sequence_items<'py>(
        &self,
        element: &Bound<'py, PyAny>,
        plain: Option<&Plain<'py>>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let py = element.py();
        let value = match plain {
            Some(plain) => plain.value.clone(),
            None => element.getattr(intern!(py, "value"))?,
        };
        if value.get_type().is(self.sequence.bind(py)) {
            let items = value.getattr(intern!(py, "_list"))?.cast_into::<PyList>()?;
            return Ok(items.iter().collect());
        }
        // len() first, as pydicom's f-string asks for it before iterating.
        value.len()?;
        value.try_iter()?.collect()
    }

    /// `value` written as json's C encoder writes it; `false` for what it leaves to json.
    fn write_json(
        &self,
        value: &Bound<'_, PyAny>,
        depth: usize,
        out: &mut String,
    ) -> PyResult<bool> {
        let py = value.py();
        if depth > JSON_DEPTH_LIMIT {
            return Ok(false);
        }
        if value.is_none() {
            out.push_str("null");
        } else if let Ok(text) = value.cast::<PyString>() {
            let Ok(text) = text.to_cow() else {
                return Ok(false); // lone surrogates
            };
            write_json_string(out, &text);
        } else if let Ok(flag) = value.cast::<PyBool>() {
            out.push_str(if flag.is_true() { "true" } else { "false" });
        } else if value.is_instance_of::<PyInt>() {
            match value.extract::<i64>() {
                Ok(number) => out.push_str(&number.to_string()),
                Err(_) => out.push_str(&self.int_repr.bind(py).call1((value,))?.str()?.to_cow()?),
            }
        } else if value.is_instance_of::<PyFloat>() {
            let number = value.extract::<f64>()?;
            if number.is_nan() {
                out.push_str("NaN");
            } else if number.is_infinite() {
                out.push_str(if number > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                });
            } else {
                out.push_str(&self.float_repr.bind(py).call1((value,))?.str()?.to_cow()?);
            }
        } else if let Ok(list) = value.cast_exact::<PyList>() {
            out.push('[');
            for (i, item) in list.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if !self.write_json(&item, depth + 1, out)? {
                    return Ok(false);
                }
            }
            out.push(']');
        } else if let Ok(dict) = value.cast_exact::<PyDict>() {
            let mut entries = Vec::with_capacity(dict.len());
            for (key, item) in dict.iter() {
                let Ok(key) = key.cast_exact::<PyString>() else {
                    return Ok(false);
                };
                let Ok(key) = key.to_cow() else {
                    return Ok(false);
                };
                entries.push((key.into_owned(), item));
            }
            // sort_keys: str order is code point order, which is UTF-8 byte order.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_string(out, key);
                out.push_str(": ");
                if !self.write_json(item, depth + 1, out)? {
                    return Ok(false);
                }
            }
            out.push('}');
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// `Dataset.to_json_dict`: each key in the element dict's order, through `ds[key]`.
    fn json_dataset<'py>(
        &self,
        ds: &Bound<'py, PyAny>,
        bulk: &Bulk<'py>,
        suppress_invalid_tags: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let py = ds.py();
        let out = PyDict::new(py);
        let store = self.store(ds)?;
        for (tag, key) in self.keys(ds)? {
            let json_key = format!("{tag:08X}");
            let converted = self
                .fetch(ds, &store, tag, &key)
                .and_then(|element| self.json_element(&element, bulk));
            match converted {
                Ok(value) => out.set_item(&json_key, value)?,
                Err(err) if err.is_instance_of::<PyException>(py) => {
                    let logger = self
                        .dataset_module
                        .bind(py)
                        .getattr(intern!(py, "logger"))?;
                    if !suppress_invalid_tags {
                        logger.call_method1(
                            intern!(py, "error"),
                            (format!("Error while processing tag {json_key}"),),
                        )?;
                        return Err(err);
                    }
                    let message = err.value(py).str()?;
                    logger.call_method1(
                        intern!(py, "warning"),
                        (format!(
                            "Error while processing tag {json_key}: {}",
                            message.to_cow()?
                        ),),
                    )?;
                }
                Err(err) => return Err(err),
            }
        }
        Ok(out)
    }

    /// `elem.to_json_dict(bulk_data_element_handler, bulk_data_threshold)`.
    fn json_element<'py>(
        &self,
        element: &Bound<'py, PyAny>,
        bulk: &Bulk<'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = element.py();
        if let Some(plain) = self.plain(element)? {
            if let Some(json) = self.json_plain(&plain, bulk)? {
                return Ok(json.into_any());
            }
        }
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "bulk_data_element_handler"), &bulk.handler)?;
        kwargs.set_item(intern!(py, "bulk_data_threshold"), bulk.threshold)?;
        element.call_method(intern!(py, "to_json_dict"), (), Some(&kwargs))
    }

    /// The JSON of an element made here, or `None` where pydicom's method must answer.
    fn json_plain<'py>(
        &self,
        plain: &Plain<'py>,
        bulk: &Bulk<'py>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let py = plain.element.py();
        if plain.vr.is_none() {
            return Ok(None);
        }
        let value = &plain.value;
        let kind = self.kind(value);
        let out = PyDict::new(py);
        out.set_item(intern!(py, "vr"), &plain.vr_object)?;
        match json_form(plain.vr) {
            JsonForm::Binary => match kind {
                Kind::None => {}
                Kind::Bytes => {
                    let bytes = value.cast::<PyBytes>()?.as_bytes();
                    if bytes.is_empty() {
                        return Ok(Some(out));
                    }
                    let limit = bulk.threshold.div_euclid(4) * 3;
                    match &bulk.handler {
                        Some(handler) if bytes.len() as i128 > limit as i128 => {
                            out.set_item(
                                intern!(py, "BulkDataURI"),
                                handler.call1((&plain.element,))?,
                            )?;
                        }
                        _ => {
                            out.set_item(intern!(py, "InlineBinary"), base64(bytes))?;
                            if let Some(logger) = &bulk.logger {
                                let name = self.name_of(plain)?;
                                logger.call_method1(
                                    intern!(py, "info"),
                                    (format!("encode bulk data element '{name}' inline"),),
                                )?;
                            }
                        }
                    }
                }
                _ => return Ok(None),
            },
            JsonForm::Sequence => {
                if !value.get_type().is(self.sequence.bind(py)) {
                    return Ok(None);
                }
                let items = value.getattr(intern!(py, "_list"))?.cast_into::<PyList>()?;
                let json_items = PyList::empty(py);
                for item in items.iter() {
                    let json = if self.is_dataset(&item) && bulk.depth.get() < NESTING_LIMIT {
                        bulk.depth.set(bulk.depth.get() + 1);
                        let json = self.json_dataset(&item, bulk, false);
                        bulk.depth.set(bulk.depth.get() - 1);
                        json?.into_any()
                    } else {
                        let kwargs = PyDict::new(py);
                        kwargs.set_item(intern!(py, "bulk_data_element_handler"), &bulk.handler)?;
                        kwargs.set_item(intern!(py, "bulk_data_threshold"), bulk.threshold)?;
                        kwargs.set_item(intern!(py, "dump_handler"), &self.identity)?;
                        item.call_method(intern!(py, "to_json"), (), Some(&kwargs))?
                    };
                    json_items.append(json)?;
                }
                out.set_item(intern!(py, "Value"), json_items)?;
            }
            JsonForm::PersonName => {
                let names: Vec<Bound<'py, PyAny>> = match kind {
                    Kind::None => return Ok(Some(out)),
                    Kind::PersonName if !value.is_truthy()? => return Ok(Some(out)),
                    Kind::PersonName => vec![value.clone()],
                    Kind::MultiValue => {
                        let items = self.items(value, kind)?;
                        match items.len() {
                            0 => return Ok(Some(out)),
                            // VM 1 wraps the list itself: pydicom's code decides.
                            1 => return Ok(None),
                            _ => items.iter().collect(),
                        }
                    }
                    _ => return Ok(None),
                };
                if !names.iter().all(|name| self.kind(name) == Kind::PersonName) {
                    return Ok(None);
                }
                let list = PyList::empty(py);
                for name in names {
                    let components = name.getattr(intern!(py, "components"))?;
                    let groups = PyDict::new(py);
                    groups.set_item(intern!(py, "Alphabetic"), components.get_item(0)?)?;
                    let count = components.len()?;
                    if count > 1 {
                        groups.set_item(intern!(py, "Ideographic"), components.get_item(1)?)?;
                    }
                    if count > 2 {
                        groups.set_item(intern!(py, "Phonetic"), components.get_item(2)?)?;
                    }
                    list.append(groups)?;
                }
                out.set_item(intern!(py, "Value"), list)?;
            }
            JsonForm::Tag => return Ok(None),
            form @ (JsonForm::Integers | JsonForm::Floats | JsonForm::Values) => {
                let values: Vec<Bound<'py, PyAny>> = match kind {
                    Kind::None => return Ok(Some(out)),
                    Kind::Str | Kind::Uid => {
                        if value.len()? == 0 {
                            return Ok(Some(out));
                        }
                        vec![value.clone()]
                    }
                    Kind::Int | Kind::Is | Kind::Float | Kind::DsFloat | Kind::Tag => {
                        vec![value.clone()]
                    }
                    Kind::MultiValue | Kind::List => {
                        let items = self.items(value, kind)?;
                        match items.len() {
                            0 => return Ok(Some(out)),
                            // VM 1 wraps the list itself: pydicom's code decides.
                            1 => return Ok(None),
                            _ => items.iter().collect(),
                        }
                    }
                    Kind::Bytes | Kind::PersonName | Kind::Other => return Ok(None),
                };
                let number = match form {
                    JsonForm::Integers => Some(&self.int_type),
                    JsonForm::Floats => Some(&self.float_type),
                    _ => None,
                };
                let list = PyList::empty(py);
                for item in values {
                    match number {
                        Some(number) => {
                            if !matches!(
                                self.kind(&item),
                                Kind::Int | Kind::Is | Kind::Float | Kind::DsFloat
                            ) {
                                return Ok(None);
                            }
                            list.append(number.bind(py).call1((item,))?)?;
                        }
                        None => list.append(item)?,
                    }
                }
                out.set_item(intern!(py, "Value"), list)?;
            }
        }
        Ok(Some(out))
    }
}

//! Plain elements straight to pydicom `DataElement`s: the values pydicom's converters would
//! make (same types, same state), for elements whose conversion depends only on their own
//! bytes. Anything else returns `None` and goes through pydicom.

use crate::charset::{self, Charset};
use crate::dictionary;
use crate::parse::{self, Element, Encoding, ValueKind, UNDEFINED_LENGTH};
use crate::tags;
use crate::values::{self, Text, Value};
use crate::vr::Vr;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PyString, PyTuple};
use pyo3::{intern, IntoPyObjectExt};
use std::collections::HashMap;
use std::sync::Mutex;

/// LUT descriptors (pydicom fixes their sign) and pixel data (storing it resets caches).
const SPECIAL_TAGS: [u32; 7] = [
    tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
    tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
    tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
    tags::LUT_DESCRIPTOR,
    tags::FLOAT_PIXEL_DATA,
    tags::DOUBLE_FLOAT_PIXEL_DATA,
    tags::PIXEL_DATA,
];

/// The `__dict__` of a module or plain object, where its attributes live.
fn namespace(obj: &Bound<'_, PyAny>) -> PyResult<Py<PyDict>> {
    Ok(obj.getattr("__dict__")?.cast_into::<PyDict>()?.unbind())
}

/// What element dicts need from pydicom: its classes (looked up once, at import) and its
/// configuration (read at every conversion, as pydicom reads it).
#[pyclass(frozen, module = "dcmfast._core")]
pub struct Pydicom {
    pub tag_type: Py<PyAny>,
    raw_type: Py<PyAny>,
    tuple_new: Py<PyAny>,
    /// The namespaces of pydicom's `config` module, `config.settings` and `hooks`: reading
    /// a setting is then one dict lookup.
    config: Py<PyDict>,
    settings: Py<PyDict>,
    hooks: Py<PyDict>,
    vr_hook: Py<PyAny>,
    value_hook: Py<PyAny>,
    data_element: Py<PyAny>,
    uid: Py<PyAny>,
    is: Py<PyAny>,
    ds: Py<PyAny>,
    multivalue: Py<PyAny>,
    object_new: Py<PyAny>,
    str_new: Py<PyAny>,
    int_new: Py<PyAny>,
    float_new: Py<PyAny>,
    object_setattr: Py<PyAny>,
    file_dataset: Py<PyAny>,
    file_meta: Py<PyAny>,
    state_template: Py<PyDict>,
    default_encoding: Py<PyAny>,
    python_encoding: Py<PyAny>,
    convert_encodings: Py<PyAny>,
    person_name: Py<PyAny>,
    /// pydicom's `values.convert_PN`: person names are made by pydicom's own code.
    convert_pn: Py<PyAny>,
    /// pydicom's `Tag` function, the constructor of AT `MultiValue`s.
    tag_function: Py<PyAny>,
    /// pydicom's keyword -> tag dict, for `ds[keyword]`.
    keywords: Py<PyDict>,
    /// pydicom's private dictionaries: creator -> {tag pattern: (VR, VM, name, retired)}.
    private_dictionaries: Py<PyDict>,
    /// `VR.LO`, the VR object pydicom gives an implicit private creator.
    private_creator_vr: Py<PyAny>,
    dataset: Py<PyAny>,
    sequence: Py<PyAny>,
    /// pydicom's `empty_value_for_VR`, for the empty raw values of sequence items.
    empty_value: Py<PyAny>,
    /// `BaseTag`s made so far, shared: a tag is an immutable int, and making one per
    /// element and key is a good part of an element's cost.
    tags: Mutex<HashMap<u32, Py<PyAny>>>,
}

/// How many tag objects are kept (a file of random tags must not grow the cache forever).
const TAG_CACHE_LIMIT: usize = 1 << 16;

#[pymethods]
impl Pydicom {
    /// Take the classes from `factory` (dcmfast's `ElementFactory`); `file_dataset` is the
    /// class datasets are made of.
    #[new]
    fn new(factory: &Bound<'_, PyAny>, file_dataset: Py<PyAny>) -> PyResult<Self> {
        let py = factory.py();
        let get = |name: &str| factory.getattr(name).map(Bound::unbind);
        let config = factory.getattr(intern!(py, "config"))?;
        let (vr_hook, value_hook): (Py<PyAny>, Py<PyAny>) = get("default_hooks")?.extract(py)?;
        Ok(Pydicom {
            tag_type: get("tag_type")?,
            raw_type: get("raw_type")?,
            tuple_new: get("tuple_new")?,
            settings: namespace(&config.getattr("settings")?)?,
            config: namespace(&config)?,
            hooks: namespace(&factory.getattr("hooks")?)?,
            vr_hook,
            value_hook,
            data_element: get("data_element_type")?,
            uid: get("uid_type")?,
            is: get("is_type")?,
            ds: get("ds_type")?,
            multivalue: get("multivalue_type")?,
            object_new: get("object_new")?,
            str_new: get("str_new")?,
            int_new: get("int_new")?,
            float_new: get("float_new")?,
            object_setattr: get("object_setattr")?,
            file_dataset,
            file_meta: get("file_meta_type")?,
            state_template: factory
                .getattr("state_template")?
                .cast_into::<PyDict>()?
                .unbind(),
            default_encoding: get("default_encoding")?,
            python_encoding: get("python_encoding")?,
            convert_encodings: get("convert_encodings")?,
            person_name: get("person_name_type")?,
            convert_pn: get("convert_pn")?,
            tag_function: get("tag_function")?,
            keywords: factory
                .getattr("keyword_dict")?
                .cast_into::<PyDict>()?
                .unbind(),
            private_dictionaries: factory
                .getattr("private_dictionaries")?
                .cast_into::<PyDict>()?
                .unbind(),
            private_creator_vr: get("private_creator_vr")?,
            tags: Mutex::new(HashMap::new()),
            dataset: get("dataset_type")?,
            sequence: get("sequence_type")?,
            empty_value: get("empty_value_for_VR")?,
        })
    }
}

impl Pydicom {
    /// pydicom's `Sequence` class.
    pub fn sequence_type<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.sequence.bind(py)
    }

    /// pydicom's `DataElement` class.
    pub fn data_element_type<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.data_element.bind(py)
    }

    /// pydicom's `MultiValue` class.
    pub fn multivalue_type<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.multivalue.bind(py)
    }

    /// pydicom's `RawDataElement` class.
    pub fn raw_type<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.raw_type.bind(py)
    }

    /// The tag of a keyword pydicom's dictionary knows.
    pub fn keyword_tag(&self, keyword: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
        match self.keywords.bind(keyword.py()).get_item(keyword)? {
            Some(tag) => Ok(tag.extract::<u32>().ok()),
            None => Ok(None),
        }
    }

    /// The VR pydicom's private dictionary gives private `tag` in the block of `creator` (as
    /// `get_private_entry` finds it: the exact tag, then `ggggxxee`, then `ggxxxxee`); None
    /// when it has none, when that VR is no single VR, or when `creator` is no plain string
    /// (pydicom warns about those).
    pub fn private_vr<'py>(
        &self,
        tag: u32,
        creator: &Bound<'py, PyAny>,
    ) -> PyResult<Option<(Vr, Bound<'py, PyAny>)>> {
        if !creator.is_exact_instance_of::<PyString>() {
            return Ok(None);
        }
        let dictionaries = self.private_dictionaries.bind(creator.py());
        let Some(entries) = dictionaries.get_item(creator)? else {
            return Ok(None);
        };
        let entries = entries.cast_into::<PyDict>()?;
        for key in crate::render::private_dictionary_keys(tag) {
            if let Some(entry) = entries.get_item(key)? {
                let vr = entry.get_item(0)?;
                let code = <[u8; 2]>::try_from(vr.extract::<String>()?.as_bytes()).ok();
                return Ok(code.and_then(Vr::from_code).map(|code| (code, vr)));
            }
        }
        Ok(None)
    }

    /// An implicit private creator's VR, as pydicom gives it.
    pub fn private_creator_vr<'py>(&self, py: Python<'py>) -> (Vr, Bound<'py, PyAny>) {
        (Vr::LO, self.private_creator_vr.bind(py).clone())
    }

    /// A `BaseTag`.
    pub fn tag<'py>(&self, py: Python<'py>, tag: u32) -> PyResult<Bound<'py, PyAny>> {
        let lock = || self.tags.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(object) = lock().get(&tag) {
            return Ok(object.bind(py).clone());
        }
        // Made outside the lock: Python code may switch threads.
        let object = self.tag_type.bind(py).call1((tag,))?;
        let mut tags = lock();
        if tags.len() < TAG_CACHE_LIMIT {
            tags.entry(tag).or_insert_with(|| object.clone().unbind());
        }
        Ok(object)
    }

    /// A `RawDataElement` of its nine fields (what its namedtuple `__new__` does, without
    /// the Python frame).
    pub fn raw_element<'py>(&self, fields: Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        let py = fields.py();
        self.tuple_new.bind(py).call1((&self.raw_type, fields))
    }

    /// A new pydicom dataset of `class` with the instance state `Dataset.__init__` and
    /// `set_original_encoding` give it (without their per-attribute `__setattr__` checks):
    /// the template's, and `extra` (name, value) pairs. `legacy` holds the values of the
    /// deprecated `_is_little_endian` and `_is_implicit_VR` (kept unless pydicom's future
    /// behaviour is on).
    fn new_dataset<'py>(
        &self,
        class: &Bound<'py, PyAny>,
        elements: Bound<'py, PyAny>,
        is_implicit_vr: bool,
        is_little_endian: bool,
        legacy: (Bound<'py, PyAny>, Bound<'py, PyAny>),
        extra: &[(&Bound<'py, PyString>, Bound<'py, PyAny>)],
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = class.py();
        let ds = self.object_new.bind(py).call1((class,))?;
        let state = self.state_template.bind(py).copy()?;
        state.set_item(intern!(py, "_dict"), elements)?;
        state.set_item(intern!(py, "_read_little"), is_little_endian)?;
        state.set_item(intern!(py, "_read_implicit"), is_implicit_vr)?;
        // The mutable members are the dataset's own.
        state.set_item(intern!(py, "_private_blocks"), PyDict::new(py))?;
        let pixel_options = PyDict::new(py);
        pixel_options.set_item(intern!(py, "use_pdh"), false)?;
        state.set_item(intern!(py, "_pixel_array_opts"), pixel_options)?;
        state.set_item(intern!(py, "_pixel_id"), PyDict::new(py))?;
        if !self.flag(py, intern!(py, "_use_future"))? {
            state.set_item(intern!(py, "_is_little_endian"), legacy.0)?;
            state.set_item(intern!(py, "_is_implicit_VR"), legacy.1)?;
        }
        for (name, value) in extra {
            state.set_item(name, value)?;
        }
        self.object_setattr
            .bind(py)
            .call1((&ds, intern!(py, "__dict__"), state))?;
        Ok(ds)
    }

    /// The `FileMetaDataset` pydicom's reader makes of `elements`.
    pub fn new_file_meta<'py>(&self, elements: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let py = elements.py();
        let charset = self.default_encoding.bind(py).clone();
        let extra = [(intern!(py, "_read_charset"), charset)];
        let legacy = (py.None().into_bound(py), py.None().into_bound(py));
        self.new_dataset(
            self.file_meta.bind(py),
            elements,
            false,
            true,
            legacy,
            &extra,
        )
    }

    /// dcmfast's `FileDataset` of `elements`, with `extra` instance state (preamble,
    /// file_meta, origin, character set).
    pub fn new_file_dataset<'py>(
        &self,
        elements: Bound<'py, PyAny>,
        is_implicit_vr: bool,
        is_little_endian: bool,
        extra: &[(&Bound<'py, PyString>, Bound<'py, PyAny>)],
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = elements.py();
        let class = self.file_dataset.bind(py);
        let legacy = (
            PyBool::new(py, is_little_endian).to_owned().into_any(),
            PyBool::new(py, is_implicit_vr).to_owned().into_any(),
        );
        self.new_dataset(
            class,
            elements,
            is_implicit_vr,
            is_little_endian,
            legacy,
            extra,
        )
    }

    /// pydicom's `default_encoding`.
    pub fn default_encoding<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.default_encoding.bind(py)
    }

    /// pydicom's `python_encoding` (DICOM character set name -> Python codec).
    pub fn python_encoding<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.python_encoding.bind(py)
    }

    /// pydicom's `convert_encodings`.
    pub fn convert_encodings<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.convert_encodings.bind(py)
    }

    /// A pydicom `config` setting, as `config.<name>` reads it.
    fn setting<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match self.config.bind(py).get_item(name)? {
            Some(value) => Ok(value),
            // Not a plain module attribute (a deprecated name, say): the module decides.
            None => py.import("pydicom.config")?.getattr(name),
        }
    }

    fn flag<'py>(&self, py: Python<'py>, name: &Bound<'py, PyString>) -> PyResult<bool> {
        self.setting(py, name)?.is_truthy()
    }

    /// `config.settings.reading_validation_mode`, as its property computes it.
    fn reading_validation_mode<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self
            .settings
            .bind(py)
            .get_item(intern!(py, "_reading_validation_mode"))?
        {
            Some(mode) if !mode.is_none() => Ok(mode),
            Some(_) => {
                let name = if self.flag(py, intern!(py, "enforce_valid_values"))? {
                    intern!(py, "RAISE")
                } else {
                    intern!(py, "WARN")
                };
                self.setting(py, name)
            }
            None => self
                .setting(py, intern!(py, "settings"))?
                .getattr(intern!(py, "reading_validation_mode")),
        }
    }

    /// pydicom's conversion is customised (hooks, callbacks): then it must do it itself.
    fn customised(&self, py: Python<'_>) -> PyResult<bool> {
        let hooks = self.hooks.bind(py);
        let hook_is = |name: &Bound<'_, PyString>, default: &Py<PyAny>| -> PyResult<bool> {
            Ok(hooks.get_item(name)?.is_some_and(|hook| hook.is(default)))
        };
        let kwargs = hooks.get_item(intern!(py, "raw_element_kwargs"))?;
        Ok(!hook_is(intern!(py, "raw_element_vr"), &self.vr_hook)?
            || !hook_is(intern!(py, "raw_element_value"), &self.value_hook)?
            || kwargs.is_none_or(|k| k.is_truthy().unwrap_or(true))
            || !self
                .setting(py, intern!(py, "data_element_callback"))?
                .is_none())
    }
}

/// The character-set policy for a dataset whose `_read_charset` is `codecs` (a codec name or
/// a list of them, as pydicom's `convert_encodings` made it).
fn charset_of(codecs: &Bound<'_, PyAny>) -> Charset {
    match codecs.extract::<String>() {
        Ok(codec) => Charset::of_codecs(&[codec]),
        Err(_) => match codecs.extract::<Vec<String>>() {
            Ok(codecs) => Charset::of_codecs(&codecs),
            Err(_) => Charset::Other,
        },
    }
}

/// True when ASCII text of `vr` decodes to itself in a dataset whose (0008,0005) value is
/// `value`, so the core decodes it (the character-set policy, exposed for its test against
/// pydicom).
#[pyfunction]
pub fn charset_keeps_ascii(value: &[u8], vr: &str) -> PyResult<bool> {
    let vr = <[u8; 2]>::try_from(vr.as_bytes())
        .ok()
        .and_then(Vr::from_code)
        .ok_or_else(|| PyValueError::new_err(format!("not a VR: {vr:?}")))?;
    Ok(Charset::of_value(value).keeps_ascii(vr))
}

/// True when every term of the (0008,0005) value `value` is a defined term pydicom knows.
#[pyfunction]
pub fn charset_terms_defined(value: &[u8]) -> bool {
    charset::value_terms_are_defined(value)
}

/// A plain element converted: what its pydicom `DataElement` holds.
pub struct PlainElement {
    tag: Py<PyAny>,
    pub vr: Vr,
    /// The VR object pydicom's conversion gives it (a `str`, or a `VR` member).
    vr_object: Py<PyAny>,
    /// `config.settings.reading_validation_mode` when it was converted.
    validation_mode: Py<PyAny>,
    pub value: Py<PyAny>,
    file_tell: usize,
    /// The value of the private creator of a private element, as `Dataset.__setitem__` sets it.
    pub private_creator: Option<Py<PyAny>>,
    /// True for an undefined-length sequence (pydicom's reader parsed it).
    undefined_length: bool,
}

impl PlainElement {
    /// The `DataElement` pydicom makes of it.
    pub fn data_element<'py>(&self, py: Python<'py>, pd: &Pydicom) -> PyResult<Bound<'py, PyAny>> {
        let elem = pd.object_new.bind(py).call1((&pd.data_element,))?;
        // The attributes DataElement.__init__ sets, in its order.
        elem.setattr(intern!(py, "tag"), &self.tag)?;
        elem.setattr(intern!(py, "VR"), &self.vr_object)?;
        elem.setattr(intern!(py, "validation_mode"), &self.validation_mode)?;
        elem.setattr(intern!(py, "_value"), &self.value)?;
        elem.setattr(intern!(py, "file_tell"), self.file_tell)?;
        elem.setattr(intern!(py, "is_undefined_length"), self.undefined_length)?;
        match &self.private_creator {
            Some(creator) => elem.setattr(intern!(py, "private_creator"), creator)?,
            None => elem.setattr(intern!(py, "private_creator"), py.None())?,
        }
        Ok(elem)
    }
}

/// An element as read: its header, the bytes of its value, its dataset's encoding and its
/// value's position (pydicom's `value_tell`).
pub struct ReadElement<'a> {
    pub element: &'a Element,
    pub bytes: &'a [u8],
    pub encoding: Encoding,
    pub value_tell: usize,
}

/// `read` converted as pydicom would convert it, if that can be done here: `charset` is its
/// dataset's `_read_charset`, `private_vr` the VR (and VR object) of an implicit private
/// element, and sequences are made only with `sequences`.
pub fn plain_element<'py>(
    pd: &Pydicom,
    tag: &Bound<'py, PyAny>,
    read: ReadElement<'_>,
    charset: &Bound<'py, PyAny>,
    private_vr: Option<(Vr, Bound<'py, PyAny>)>,
    sequences: bool,
) -> PyResult<Option<PlainElement>> {
    let ReadElement {
        element: e,
        bytes,
        encoding,
        value_tell,
    } = read;
    let complete = e.kind == ValueKind::Bytes
        && e.length != UNDEFINED_LENGTH
        && e.value_len == e.length as usize;
    if !complete || SPECIAL_TAGS.contains(&e.tag) {
        return Ok(None);
    }
    // An implicit private element's VR is the one its creator's dictionary gives.
    let (private_vr, private_vr_object) = private_vr.unzip();
    let vr = e.vr.or(private_vr);
    let Some(vr) = vr.or_else(|| dictionary::dictionary_vr(e.tag)) else {
        return Ok(None);
    };
    // VRs pydicom has no converter for (it raises, even for an empty value) or must resolve.
    if matches!(
        vr,
        Vr::OB_OW | Vr::US_OW | Vr::US_SS | Vr::US_SS_OW | Vr::NONE
    ) {
        return Ok(None);
    }
    let py = tag.py();
    if pd.customised(py)? {
        return Ok(None);
    }
    let value = match vr {
        Vr::SQ if sequences && !bytes.is_empty() && charset.is_truthy()? => {
            // `convert_value` hands a converter a list of encodings; the items keep that
            // object as both their parent's encoding and their own. (An empty
            // `_read_charset` sends pydicom to the dataset's `_character_set`.)
            let encodings = match charset.is_instance_of::<PyString>() {
                true => PyList::new(py, [charset])?.into_any(),
                false => charset.clone(),
            };
            let tells = (value_tell, 0);
            sequence_value(pd, py, bytes, encoding, tells, &encodings, false)?
        }
        _ => plain_value(pd, py, vr, bytes, encoding.little, charset)?,
    };
    let Some(value) = value else {
        return Ok(None);
    };
    let vr_object = match private_vr_object {
        Some(object) => object.unbind(),
        None => vr.into_pyobject(py)?.into_any().unbind(),
    };
    Ok(Some(PlainElement {
        tag: tag.clone().unbind(),
        vr,
        vr_object,
        validation_mode: pd.reading_validation_mode(py)?.unbind(),
        value: value.unbind(),
        file_tell: value_tell,
        private_creator: None,
        undefined_length: false,
    }))
}

/// The `Sequence` pydicom's reader makes of the value `bytes` of a sequence in a dataset of
/// `encoding`: item `Dataset`s of raw elements, with the state `read_sequence`,
/// `read_sequence_item` and `read_dataset` give them, `encodings` their parent encoding and
/// their own. `tells` are what pydicom adds to an item's and to an element's offset within
/// `bytes` (a defined-length sequence is read from a buffer of its own value, an
/// undefined-length one from the file). None when the items are not all regular
/// (pydicom's reader then reads them, warnings and all).
fn sequence_value<'py>(
    pd: &Pydicom,
    py: Python<'py>,
    bytes: &[u8],
    encoding: Encoding,
    tells: (usize, usize),
    encodings: &Bound<'py, PyAny>,
    undefined_length: bool,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(items) = parse::regular_sequence_items(bytes, encoding) else {
        return Ok(None);
    };
    let (item_tell, element_tell) = tells;
    let empty_value = pd.empty_value.bind(py);
    let mut datasets = Vec::with_capacity(items.len());
    for item in items {
        let elements = PyDict::new(py);
        for e in &item.elements {
            let tag = pd.tag(py, e.tag)?;
            // Offsets are within `bytes`, as pydicom reads the value from its own buffer.
            let value = match bytes.get(e.value_range()) {
                Some([]) => empty_value.call1((e.vr, true))?,
                Some(value) => PyBytes::new(py, value).into_any(),
                None => return Ok(None),
            };
            let fields = (
                &tag,
                e.vr,
                e.length,
                value,
                element_tell + e.value_offset,
                encoding.implicit,
                encoding.little,
                true,
                false,
            );
            elements.set_item(&tag, pd.raw_element(fields.into_pyobject(py)?)?)?;
        }
        let tell = (item_tell + item.offset).into_pyobject(py)?.into_any();
        let undefined = PyBool::new(py, item.undefined_length).to_owned().into_any();
        let extra = [
            (intern!(py, "_parent_encoding"), encodings.clone()),
            (intern!(py, "_read_charset"), encodings.clone()),
            (intern!(py, "is_undefined_length_sequence_item"), undefined),
            (intern!(py, "seq_item_tell"), tell.clone()),
            (intern!(py, "file_tell"), tell),
        ];
        let legacy = (py.None().into_bound(py), py.None().into_bound(py));
        datasets.push(pd.new_dataset(
            pd.dataset.bind(py),
            elements.into_any(),
            encoding.implicit,
            encoding.little,
            legacy,
            &extra,
        )?);
    }
    let sequence = pd.sequence.bind(py).call1((PyList::new(py, datasets)?,))?;
    sequence.setattr(intern!(py, "is_undefined_length"), undefined_length)?;
    Ok(Some(sequence))
}

/// The `DataElement` pydicom's reader makes of an undefined-length sequence while reading
/// (its value parsed at once; no hook, no private creator): `read.bytes` are its items, up
/// to its delimiter; `vr` and `encodings` are the VR object and the parent encoding the
/// reader gives it. None when its items are not all regular.
pub fn undefined_length_sequence<'py>(
    pd: &Pydicom,
    tag: &Bound<'py, PyAny>,
    read: ReadElement<'_>,
    vr: Bound<'py, PyAny>,
    encodings: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = tag.py();
    let tells = (read.value_tell, read.value_tell);
    let Some(sequence) = sequence_value(pd, py, read.bytes, read.encoding, tells, encodings, true)?
    else {
        return Ok(None);
    };
    let element = PlainElement {
        tag: tag.clone().unbind(),
        vr: Vr::SQ,
        vr_object: vr.unbind(),
        validation_mode: pd.reading_validation_mode(py)?.unbind(),
        value: sequence.unbind(),
        file_tell: read.value_tell,
        private_creator: None,
        undefined_length: true,
    };
    element.data_element(py, pd).map(Some)
}

/// The value pydicom's converter makes of `bytes` (an element of `vr`), as pydicom's
/// objects; None when pydicom must make it. `charset` is the dataset's `_read_charset`.
fn plain_value<'py>(
    pd: &Pydicom,
    py: Python<'py>,
    vr: Vr,
    bytes: &[u8],
    little: bool,
    charset: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    // What pydicom's configuration or its own classes decide: AT values become tags, UN is
    // looked up again in the dictionary, person names become PersonName objects.
    let pydicoms = match vr {
        Vr::UN => true,
        Vr::DA | Vr::DT | Vr::TM => pd.flag(py, intern!(py, "datetime_conversion"))?,
        Vr::IS => pd.flag(py, intern!(py, "use_IS_numpy"))?,
        Vr::DS => {
            pd.flag(py, intern!(py, "use_DS_decimal"))?
                || pd.flag(py, intern!(py, "use_DS_numpy"))?
        }
        _ => false,
    };
    if pydicoms {
        return Ok(None);
    }
    // The character set matters only to the VRs decoded with it.
    let policy = if vr.uses_specific_charset() {
        charset_of(charset)
    } else {
        Charset::Other
    };
    let Some(value) = values::decode(vr, bytes, little, policy) else {
        return Ok(None);
    };
    let strings = |items: values::Items<Text>| -> PyResult<Bound<'py, PyAny>> {
        let objects = items.iter().map(|s| PyString::new(py, s).into_any());
        one_or_many(pd, py.get_type::<PyString>().into_any(), objects.collect())
    };
    Ok(Some(match value {
        Value::Unsigned(items) => numbers(py, items)?,
        Value::Signed(items) => numbers(py, items)?,
        Value::Floats(items) => numbers(py, items)?,
        Value::Bytes(bytes) => PyBytes::new(py, bytes).into_any(),
        Value::Strings(items) => strings(items)?,
        Value::Uids(items) => {
            let (str_new, uid) = (pd.str_new.bind(py), pd.uid.bind(py).clone());
            let objects = items
                .iter()
                .map(|s| str_new.call1((&uid, &**s)))
                .collect::<PyResult<Vec<_>>>()?;
            one_or_many(pd, uid, objects)?
        }
        Value::IntegerStrings(items) => {
            let class = pd.is.bind(py).clone();
            number_strings(pd, pd.int_new.bind(py), class, items, &[])?
        }
        Value::DecimalStrings(items) => {
            let class = pd.ds.bind(py).clone();
            let auto_format = PyBool::new(py, false).to_owned().into_any();
            let extra = [(intern!(py, "auto_format"), auto_format)];
            number_strings(pd, pd.float_new.bind(py), class, items, &extra)?
        }
        // pydicom's `empty_value_for_VR`.
        Value::Empty => py.None().into_bound(py),
        Value::EmptyText if pd.flag(py, intern!(py, "use_none_as_empty_text_VR_value"))? => {
            py.None().into_bound(py)
        }
        Value::EmptyText if vr == Vr::PN => pd.person_name.bind(py).call1(("",))?,
        Value::EmptyText => PyString::new(py, "").into_any(),
        Value::Tags(items) => {
            let tags = items
                .iter()
                .map(|&tag| pd.tag(py, tag))
                .collect::<PyResult<Vec<_>>>()?;
            one_or_many(pd, pd.tag_function.bind(py).clone(), tags)?
        }
        // ASCII names: pydicom's own converter makes its PersonName objects (their state is
        // its business), with the encodings its `convert_value` would pass.
        Value::Names(_) => {
            let encodings = if charset.is_instance_of::<PyString>() && charset.is_truthy()? {
                PyList::new(py, [charset])?.into_any()
            } else {
                charset.clone()
            };
            pd.convert_pn
                .bind(py)
                .call1((PyBytes::new(py, bytes), encodings))?
        }
    }))
}

/// pydicom's number strings (`IS`, `DSfloat`) of `items`: each made as `new(class, value)`
/// with its `original_string` and the `extra` attributes pydicom's constructor sets.
fn number_strings<'py, T: IntoPyObject<'py>>(
    pd: &Pydicom,
    new: &Bound<'py, PyAny>,
    class: Bound<'py, PyAny>,
    items: values::Items<(T, Text)>,
    extra: &[(&Bound<'py, PyString>, Bound<'py, PyAny>)],
) -> PyResult<Bound<'py, PyAny>> {
    let py = class.py();
    let mut objects = Vec::with_capacity(items.len());
    for (value, original) in items {
        let obj = new.call1((&class, value))?;
        obj.setattr(intern!(py, "original_string"), &*original)?;
        for (name, value) in extra {
            obj.setattr(name, value)?;
        }
        objects.push(obj);
    }
    one_or_many(pd, class, objects)
}

/// One value as itself; several as pydicom's `MultiValue(constructor, values)`.
fn one_or_many<'py>(
    pd: &Pydicom,
    constructor: Bound<'py, PyAny>,
    mut objects: Vec<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    if objects.len() == 1 {
        return Ok(objects.pop().expect("one value"));
    }
    let py = constructor.py();
    let multi = pd.object_new.bind(py).call1((&pd.multivalue,))?;
    multi.setattr(intern!(py, "_constructor"), constructor)?;
    multi.setattr(intern!(py, "_list"), PyList::new(py, objects)?)?;
    Ok(multi)
}

/// Binary numbers: one value as a scalar, several as a list (pydicom's `convert_numbers`).
fn numbers<'py, T>(py: Python<'py>, items: values::Items<T>) -> PyResult<Bound<'py, PyAny>>
where
    T: IntoPyObject<'py>,
{
    if items.len() == 1 {
        return items
            .into_iter()
            .next()
            .expect("one value")
            .into_bound_py_any(py);
    }
    Ok(PyList::new(py, items)?.into_any())
}

/// A VR crosses into Python as pydicom's text for it.
impl<'py> IntoPyObject<'py> for Vr {
    type Target = PyString;
    type Output = Bound<'py, PyString>;
    type Error = std::convert::Infallible;

    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        Ok(PyString::new(py, self.as_str()))
    }
}

//! The copying writer's binding: a dataset read by dcmfast and written in its original
//! encoding is written as copies of its source bytes wherever its elements are still as
//! read (`write_plan` decides which), and pydicom's element encoder writes the rest.

use super::elements::{ElementDict, SlotState, SourceElement};
use crate::charset::Charset;
use crate::parse::{Encoding, UNDEFINED_LENGTH};
use crate::tags::ITEM;
use crate::values::{self, Value};
use crate::vr::Vr;
use crate::write_plan::{self, Plan, Step};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyFloat, PyInt, PyList, PyString};

/// What one call wrote: bytes copied from the source, in how many copies, and how many
/// elements pydicom encoded.
#[pyclass(frozen, get_all, module = "dcmfast._core")]
pub struct WriteCounts {
    pub copied_bytes: usize,
    pub copies: usize,
    pub encoded: usize,
}

/// Write the elements of `elements` (a dataset's `_dict`) to `fp` in tag order, in the
/// encoding (`is_implicit_vr`, `is_little_endian`) the caller checked is the dataset's
/// original one: unchanged elements as one `fp.write` per run of their source bytes, every
/// other as `encode(tag)` (pydicom's `write_data_element`); `convert(tag)` is the
/// dataset's `__getitem__`, which pydicom's writer calls first for an element whose raw
/// value is None. `none_for_empty_text`: pydicom's `config.use_none_as_empty_text_VR_value`.
#[pyfunction]
pub fn write_elements(
    elements: &Bound<'_, ElementDict>,
    fp: &Bound<'_, PyAny>,
    encode: &Bound<'_, PyAny>,
    convert: &Bound<'_, PyAny>,
    is_implicit_vr: bool,
    is_little_endian: bool,
    none_for_empty_text: bool,
) -> PyResult<WriteCounts> {
    let py = elements.py();
    let dict = elements.get();
    let encoding = Encoding {
        implicit: is_implicit_vr,
        little: is_little_endian,
    };
    let mut plan = Plan::default();
    let mut objects = Vec::new();
    for tag in dict.sorted_tags() {
        if write_plan::is_retired_group_length(tag) {
            plan.skip();
            continue;
        }
        let Some(mut state) = dict.slot_state(py, tag) else {
            continue;
        };
        let converted_first = match &state {
            SlotState::Unmade(from) => {
                write_plan::converted_when_written(&from.element, none_for_empty_text)
            }
            _ => false,
        };
        if converted_first {
            // pydicom's writer converts this one first (its raw value is None) through
            // `dataset[tag]`, which stores the element: do the same, then write what it
            // became (copied when it is still the source's bytes).
            convert.call1((dict.pydicom().tag(py, tag)?,))?;
            match dict.slot_state(py, tag) {
                Some(now) => state = now,
                None => continue,
            }
        }
        let (from, value) = match copyable(dict, tag, &state, encoding)? {
            // Not converted after all (pydicom's own dataset class kept it raw).
            Copyable::Source(_) if matches!(state, SlotState::Unmade(_)) && converted_first => {
                plan.encode(tag);
                continue;
            }
            Copyable::Source(from) => (from, None),
            Copyable::Header(from, value) => (from, Some(value)),
            Copyable::No => {
                plan.encode(tag);
                continue;
            }
        };
        let e = &from.element;
        match write_plan::raw_span(&from.source, e, encoding) {
            None => plan.encode(tag),
            Some(span) => match value {
                None => plan.copy(from.origin, span),
                // The header (and an undefined length's delimiter) from the source, the
                // value as the element now holds it.
                Some(value) => {
                    let value_end = e.value_offset + e.value_len;
                    plan.copy(from.origin, span.start..e.value_offset);
                    plan.value(objects.len(), value.as_bytes().len());
                    objects.push(value);
                    if span.end > value_end {
                        plan.copy(from.origin, value_end..span.end);
                    }
                }
            },
        }
    }
    let write = intern!(py, "write");
    let mut copies = 0;
    let mut piece = Vec::new();
    for step in plan.steps {
        match step {
            Step::Copy { origin, span } => {
                copies += 1;
                let source = dict.source(origin).expect("a step's origin is the dict's");
                // In pieces of at most WRITE_PIECE bytes, each a bytes object of its own
                // (the stream may keep what it is given): memory stays bounded however
                // long the run.
                let mut start = span.start;
                while start < span.end {
                    let end = span.end.min(start + WRITE_PIECE);
                    piece.clear();
                    source.copy_to(start, end, &mut piece)?;
                    fp.call_method1(write, (PyBytes::new(py, &piece),))?;
                    start = end;
                }
            }
            Step::Encode(tag) => {
                encode.call1((dict.pydicom().tag(py, tag)?,))?;
            }
            Step::Value(n) => {
                fp.call_method1(write, (&objects[n],))?;
            }
        }
    }
    Ok(WriteCounts {
        copied_bytes: plan.copied,
        copies,
        encoded: plan.encoded,
    })
}

/// The most bytes of a run copied into one `fp.write`.
const WRITE_PIECE: usize = 1 << 20;

/// How a slot can be written without pydicom's encoder.
enum Copyable<'a, 'py> {
    /// As its source element's bytes.
    Source(&'a SourceElement),
    /// As its source element's header, then this value (of a bytes VR), as pydicom writes it.
    Header(&'a SourceElement, Bound<'py, PyBytes>),
    No,
}

/// How the slot `state` of `tag` can be written in `encoding` without pydicom's encoder,
/// given that `raw_span` accepts its source element.
fn copyable<'a, 'py>(
    dict: &ElementDict,
    tag: u32,
    state: &'a SlotState<'py>,
    encoding: Encoding,
) -> PyResult<Copyable<'a, 'py>> {
    let from = match state {
        SlotState::Unmade(from) | SlotState::Made { from, .. } => from,
        SlotState::Other {
            replaced: Some(from),
            ..
        } => from,
        SlotState::Other { replaced: None, .. } => return Ok(Copyable::No),
    };
    if from.encoding != encoding {
        return Ok(Copyable::No);
    }
    Ok(match state {
        SlotState::Unmade(_) => Copyable::Source(from),
        SlotState::Made {
            object, value, vr, ..
        } => {
            if made_unchanged(dict, tag, object.as_ref(), value, *vr, from)? {
                Copyable::Source(from)
            } else {
                Copyable::No
            }
        }
        SlotState::Other { object, .. } => other_unchanged(dict, tag, object, from)?,
    })
}

/// The value bytes of `from` in its source (None when another writer changed the file).
fn value_bytes(from: &SourceElement) -> Option<&[u8]> {
    let e = &from.element;
    from.source
        .get(e.value_offset, e.value_offset + e.value_len)
        .ok()
}

/// True when `object` is a `DataElement` of `tag` in the state pydicom's converter leaves,
/// with the VR `vr` and the length form of `from`.
fn element_state_is(
    dict: &ElementDict,
    tag: u32,
    object: &Bound<'_, PyAny>,
    vr: &str,
    from: &SourceElement,
) -> PyResult<bool> {
    let py = object.py();
    Ok(object.get_type().is(dict.pydicom().data_element_type(py))
        && object.getattr(intern!(py, "tag"))?.extract::<u32>()? == tag
        && object.getattr(intern!(py, "VR"))?.extract::<String>()? == vr
        && object
            .getattr(intern!(py, "is_undefined_length"))?
            .is_truthy()?
            == (from.element.length == UNDEFINED_LENGTH))
}

/// True when the element made from `from` (its `DataElement` `object`, or so far only its
/// `value`) is still as made, and pydicom's encoder writes its value as the source's bytes.
fn made_unchanged(
    dict: &ElementDict,
    tag: u32,
    object: Option<&Bound<'_, PyAny>>,
    value: &Bound<'_, PyAny>,
    vr: Vr,
    from: &SourceElement,
) -> PyResult<bool> {
    let py = value.py();
    if let Some(object) = object {
        let unchanged = element_state_is(dict, tag, object, vr.as_str(), from)?
            && object.getattr(intern!(py, "_value"))?.is(value);
        if !unchanged {
            return Ok(false);
        }
    }
    let Some(bytes) = value_bytes(from) else {
        return Ok(false);
    };
    if !write_plan::reencodes_exactly(vr, bytes, from.encoding.little) {
        return Ok(false);
    }
    // The value is the one made; only a list of values may have changed (in place).
    if is_list(dict, value) {
        return value_matches(dict, value, vr, bytes, from.encoding.little);
    }
    Ok(true)
}

/// How `object`, stored in place of `from` (by pydicom's converter, or the user), can be
/// written: as `from`'s bytes when it is a `DataElement` whose value pydicom's encoder
/// writes as them; as `from`'s header and its own value when that is bytes (of a bytes VR)
/// as long as the source's, which pydicom's encoder writes as they are.
fn other_unchanged<'a, 'py>(
    dict: &ElementDict,
    tag: u32,
    object: &Bound<'py, PyAny>,
    from: &'a SourceElement,
) -> PyResult<Copyable<'a, 'py>> {
    let py = object.py();
    let Ok(vr) = object.getattr(intern!(py, "VR"))?.extract::<String>() else {
        return Ok(Copyable::No);
    };
    let Some(vr) = Vr::from_name(&vr) else {
        return Ok(Copyable::No);
    };
    // Explicit VR: the VR written must be the one read.
    if from.element.vr.is_some_and(|read| read != vr)
        || !element_state_is(dict, tag, object, vr.as_str(), from)?
    {
        return Ok(Copyable::No);
    }
    let value = object.getattr(intern!(py, "_value"))?;
    let e = &from.element;
    if e.value_len == 0 {
        let empty = is_empty_value(dict, &value)?;
        return Ok(if empty {
            Copyable::Source(from)
        } else {
            Copyable::No
        });
    }
    if vr.is_bytes() {
        let Ok(value) = value.cast_into::<PyBytes>() else {
            return Ok(Copyable::No);
        };
        let bytes = value.as_bytes();
        // OB and OW values are padded to even length, which would change the header.
        let same_length = bytes.len() == e.value_len && (bytes.len() % 2 == 0 || vr == Vr::UN);
        // pydicom refuses encapsulated pixel data that does not start with an item.
        let first_tag = bytes.get(..4).and_then(|b| b.try_into().ok());
        let encapsulated = e.length != UNDEFINED_LENGTH
            || first_tag.is_some_and(|b| values::tag_of(b, from.encoding.little) == ITEM);
        return Ok(if same_length && encapsulated {
            Copyable::Header(from, value)
        } else {
            Copyable::No
        });
    }
    let Some(bytes) = value_bytes(from) else {
        return Ok(Copyable::No);
    };
    let same = vr != Vr::SQ
        && write_plan::reencodes_exactly(vr, bytes, from.encoding.little)
        && value_matches(dict, &value, vr, bytes, from.encoding.little)?;
    Ok(if same {
        Copyable::Source(from)
    } else {
        Copyable::No
    })
}

/// True for a list or pydicom `MultiValue`.
fn is_list(dict: &ElementDict, value: &Bound<'_, PyAny>) -> bool {
    value.is_instance_of::<PyList>()
        || value
            .get_type()
            .is(dict.pydicom().multivalue_type(value.py()))
}

/// True for a value pydicom's encoder writes as nothing: None, or an empty string, bytes,
/// list or sequence.
fn is_empty_value(dict: &ElementDict, value: &Bound<'_, PyAny>) -> PyResult<bool> {
    if value.is_none() {
        return Ok(true);
    }
    let sized = value.is_instance_of::<PyString>()
        || value.is_instance_of::<PyBytes>()
        || is_list(dict, value)
        || value.is_instance(dict.pydicom().sequence_type(value.py()))?;
    Ok(sized && value.len()? == 0)
}

/// True when `value` (one value, or a list of them) is what pydicom's encoder writes as
/// the values decoded from `bytes`, of `vr` in byte order `little`.
fn value_matches(
    dict: &ElementDict,
    value: &Bound<'_, PyAny>,
    vr: Vr,
    bytes: &[u8],
    little: bool,
) -> PyResult<bool> {
    let py = value.py();
    let Some(decoded) = values::decode(vr, bytes, little, Charset::AsciiAsItself) else {
        return Ok(false);
    };
    let items: Vec<Bound<'_, PyAny>> = if is_list(dict, value) {
        value.try_iter()?.collect::<PyResult<_>>()?
    } else {
        vec![value.clone()]
    };
    let text = |item: &Bound<'_, PyAny>, expected: &str| -> PyResult<bool> {
        Ok(item.is_instance_of::<PyString>() && item.cast::<PyString>()?.to_cow()? == expected)
    };
    let original = |item: &Bound<'_, PyAny>, expected: &str| -> PyResult<bool> {
        match item.getattr(intern!(py, "original_string")) {
            Ok(s) => text(&s, expected),
            Err(_) => Ok(false),
        }
    };
    macro_rules! each {
        ($list:expr, $same:expr) => {{
            if $list.len() != items.len() {
                return Ok(false);
            }
            for (item, expected) in items.iter().zip($list.iter()) {
                if !$same(item, expected)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }};
    }
    // Numbers are packed by `struct`, which takes ints for integer formats.
    let int = |item: &Bound<'_, PyAny>| {
        item.is_instance_of::<PyInt>() && !item.is_instance_of::<pyo3::types::PyBool>()
    };
    match decoded {
        Value::Unsigned(list) => each!(list, |i: &Bound<'_, PyAny>, x: &u64| -> PyResult<bool> {
            Ok(int(i) && i.extract::<u64>().ok() == Some(*x))
        }),
        Value::Signed(list) => each!(list, |i: &Bound<'_, PyAny>, x: &i64| -> PyResult<bool> {
            Ok(int(i) && i.extract::<i64>().ok() == Some(*x))
        }),
        Value::Tags(list) => each!(list, |i: &Bound<'_, PyAny>, x: &u32| -> PyResult<bool> {
            Ok(int(i) && i.extract::<u32>().ok() == Some(*x))
        }),
        Value::Floats(list) => each!(list, |i: &Bound<'_, PyAny>, x: &f64| -> PyResult<bool> {
            Ok(i.is_exact_instance_of::<PyFloat>()
                && i.extract::<f64>().map(f64::to_bits).ok() == Some(x.to_bits()))
        }),
        Value::Strings(list) | Value::Uids(list) => {
            each!(list, |i: &Bound<'_, PyAny>, x: &values::Text| text(i, x))
        }
        Value::IntegerStrings(list) => {
            each!(list, |i: &Bound<'_, PyAny>, x: &(i64, values::Text)| {
                original(i, &x.1)
            })
        }
        Value::DecimalStrings(list) => {
            each!(list, |i: &Bound<'_, PyAny>, x: &(f64, values::Text)| {
                original(i, &x.1)
            })
        }
        // Person names are encoded from their components: pydicom's encoder decides.
        _ => Ok(false),
    }
}

//! What a copying writer may copy: for an element still as it was read, the span of source
//! bytes pydicom's writer would write again byte for byte (header and length included), and
//! the runs those spans join into, so a dataset written in its original encoding is a few
//! copies with only changed elements encoded between them.
//!
//! pydicom's `write_dataset` writes an unconverted (raw) element as its tag, its VR, the
//! length of its value bytes and those bytes; a converted one through its VR's encoder. A
//! source span is copied only where that gives exactly the source's bytes: reserved bytes
//! zero, the length field the bytes present, an undefined length closed by a zero-length
//! delimiter, a value the encoder would write unchanged.

use crate::charset::Charset;
use crate::parse::{Element, Encoding, ValueKind, UNDEFINED_LENGTH};
use crate::source::Store;
use crate::tags::{PIXEL_DATA, SEQUENCE_DELIMITATION_ITEM};
use crate::values::{self, u32_of, Value};
use crate::vr::Vr;
use std::ops::Range;

/// True for a group length pydicom's `write_dataset` leaves out (retired: gggg,0000 with
/// gggg > 6, PS3.5 7.2).
pub fn is_retired_group_length(tag: u32) -> bool {
    tag & 0xFFFF == 0 && tag >> 16 > 6
}

/// The length of `element`'s header in `encoding`.
fn header_len(element: &Element, encoding: Encoding) -> usize {
    match element.vr {
        Some(vr) if !encoding.implicit && vr.has_long_header() => 12,
        _ => 8,
    }
}

/// True when pydicom's writer converts `element` before writing it, when it is still the
/// raw element read: an empty one its reader gave the raw value None (every VR but text
/// ones and SQ, and text ones too under `use_none_as_empty_text_VR_value`,
/// `none_for_text`), which it takes for a deferred one. Converting may change its VR.
pub fn converted_when_written(element: &Element, none_for_text: bool) -> bool {
    element.value_len == 0
        && element.kind == ValueKind::Bytes
        && match element.vr {
            None => true,
            Some(Vr::SQ) => false,
            Some(vr) => none_for_text || !vr.has_text_empty_value(),
        }
}

/// The source span (header, value and, for an undefined length, its delimiter) pydicom's
/// writer reproduces exactly when it writes `element` with its VR, length form and value
/// as read; None when it would write something else or could not write it at all (then
/// pydicom decides).
pub fn raw_span(store: &Store, element: &Element, encoding: Encoding) -> Option<Range<usize>> {
    let e = element;
    // A deferred value is read again by pydicom (its checks and warnings); an undefined-
    // length sequence pydicom has parsed, and writes item by item.
    if e.kind != ValueKind::Bytes {
        return None;
    }
    let head = header_len(e, encoding);
    let start = e.value_offset.checked_sub(head)?;
    let header = store.get(start, e.value_offset).ok()?;
    if header.len() != head
        || values::tag_of(header[..4].try_into().ok()?, encoding.little) != e.tag
    {
        return None;
    }
    if !encoding.implicit {
        // The VR written is the one read (a walk may have corrected it); long headers
        // have two reserved bytes pydicom writes as zero.
        let vr = e.vr?;
        if header[4..6] != *vr.as_str().as_bytes() || (head == 12 && header[6..8] != [0, 0]) {
            return None;
        }
    }
    let value_end = e.value_offset.checked_add(e.value_len)?;
    if e.length != UNDEFINED_LENGTH {
        // A truncated value is written with the length of what was read.
        return (e.length as usize == e.value_len).then_some(start..value_end);
    }
    // Undefined length: only encapsulated pixel data is written so (anything else pydicom
    // read as a sequence), as its value, then a delimiter of length 0; pydicom refuses a
    // value that does not start with an item tag.
    let little = encoding.little;
    let first = store.get(e.value_offset, e.value_offset + 4).ok()?;
    let delimiter = store.get(value_end, value_end + 8).ok()?;
    let starts_with_item =
        first.len() == 4 && values::tag_of(first.try_into().ok()?, little) == crate::tags::ITEM;
    let closed = delimiter.len() == 8
        && values::tag_of(delimiter[..4].try_into().ok()?, little) == SEQUENCE_DELIMITATION_ITEM
        && u32_of(delimiter[4..].try_into().ok()?, little) == 0;
    (e.tag == PIXEL_DATA && starts_with_item && closed).then_some(start..value_end + 8)
}

/// True when pydicom's encoder, given the value its converter makes of `bytes` (a value of
/// `vr` in byte order `little`), writes exactly `bytes`: the value is in the canonical form
/// (padding, separators, no stripped spaces) the encoder produces. Text must be ASCII, which
/// every character set pydicom uses encodes as itself.
pub fn reencodes_exactly(vr: Vr, bytes: &[u8], little: bool) -> bool {
    if bytes.is_empty() {
        return true;
    }
    let text_vr =
        vr.uses_specific_charset() || vr.has_text_empty_value() || matches!(vr, Vr::IS | Vr::DS);
    if text_vr && (!bytes.is_ascii() || bytes.contains(&0x1B)) {
        return false;
    }
    let Some(value) = values::decode(vr, bytes, little, Charset::AsciiAsItself) else {
        return false;
    };
    // The bytes written of text items: joined by backslashes, padded to even length.
    let joined = |items: &mut dyn Iterator<Item = &str>, pad: u8| {
        let mut out = Vec::with_capacity(bytes.len());
        for (i, item) in items.enumerate() {
            if i > 0 {
                out.push(b'\\');
            }
            out.extend_from_slice(item.as_bytes());
        }
        if out.len() % 2 == 1 {
            out.push(pad);
        }
        out == bytes
    };
    match value {
        Value::Empty | Value::EmptyText => true,
        // Packed again in the same byte order: the same bytes.
        Value::Unsigned(_) | Value::Signed(_) | Value::Tags(_) => true,
        // A float32 NaN may come back with another payload (Python widens it to a double).
        Value::Floats(items) => vr == Vr::FD || !items.iter().any(|f| f.is_nan()),
        // OB and OW values are padded to even length, UN values written as they are.
        Value::Bytes(b) => vr == Vr::UN || b.len() % 2 == 0,
        Value::Strings(items) => joined(&mut items.iter().map(|s| &**s), b' '),
        Value::Uids(items) => joined(&mut items.iter().map(|s| &**s), 0),
        // A name is written as its components; trailing empty ones would be dropped.
        Value::Names(items) => {
            !items.iter().any(|n| n.contains('=')) && joined(&mut items.iter().map(|s| &**s), b' ')
        }
        Value::IntegerStrings(items) => joined(&mut items.iter().map(|(_, s)| &**s), b' '),
        Value::DecimalStrings(items) => joined(&mut items.iter().map(|(_, s)| &**s), b' '),
    }
}

/// One step of writing a dataset's elements in tag order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Copy this span of source `origin`'s bytes (one or more whole elements).
    Copy { origin: usize, span: Range<usize> },
    /// Have pydicom encode the element of this tag.
    Encode(u32),
    /// Write value object `n` (of the caller's) as it is: the value of an element whose
    /// header (copied before) pydicom would write as read.
    Value(usize),
}

/// The steps of one dataset, built element by element in tag order: adjacent spans that
/// are adjacent in their source too become one copy.
#[derive(Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Bytes written as they are (copied, or values written as they are), and elements
    /// encoded, in all.
    pub copied: usize,
    pub encoded: usize,
    /// An element was left out since the last step: the next copy starts a run.
    gap: bool,
}

impl Plan {
    /// The element at `span` of source `origin` is copied.
    pub fn copy(&mut self, origin: usize, span: Range<usize>) {
        self.copied += span.len();
        let gap = std::mem::take(&mut self.gap);
        if let Some(Step::Copy {
            origin: last_origin,
            span: last,
        }) = self.steps.last_mut()
        {
            if !gap && *last_origin == origin && last.end == span.start {
                last.end = span.end;
                return;
            }
        }
        self.steps.push(Step::Copy { origin, span });
    }

    /// Value object `n`, of `len` bytes, is written as it is.
    pub fn value(&mut self, n: usize, len: usize) {
        self.copied += len;
        self.steps.push(Step::Value(n));
    }

    /// The element of `tag` is encoded.
    pub fn encode(&mut self, tag: u32) {
        self.encoded += 1;
        self.steps.push(Step::Encode(tag));
    }

    /// An element left out (a retired group length): the copy before it ends there.
    pub fn skip(&mut self) {
        self.gap = true;
    }
}

#[cfg(test)]
#[path = "write_plan_tests.rs"]
mod tests;

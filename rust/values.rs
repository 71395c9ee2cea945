//! Element values from their bytes: the one decoder of the core. The binding layer, the bulk
//! scan and the loader each turn its `Value` into what they hand on.
//!
//! `decode` makes the value pydicom's converters make, for the forms they accept without a
//! warning, and returns `None` for anything else: the caller then leaves the element to
//! pydicom, so a value made here is always the one pydicom would make. Byte order is applied
//! here for the whole core (`u16_of`, `u32_of`, `u64_of`, `tag_of`).

use crate::charset::Charset;
use crate::vr::Vr;
use smallvec::{smallvec, SmallVec};
use std::borrow::Cow;

/// The values of one element, held inline up to four (a position, a pair of windows, ...).
pub type Items<T> = SmallVec<[T; 4]>;

/// A string as pydicom decodes it: borrowed from the element's bytes when they are ASCII
/// (the usual case), else decoded into a copy.
pub type Text<'a> = Cow<'a, str>;

/// An element's value as pydicom's converter makes it, before it becomes a Python object.
/// One item is one value; pydicom makes a scalar of one and a list (binary numbers) or a
/// `MultiValue` (strings) of several.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// No bytes, for a VR whose empty value is None (numbers, bytes, AT).
    Empty,
    /// No bytes, for a text VR: pydicom's `''` (None when `use_none_as_empty_text_VR_value`).
    EmptyText,
    /// US, UL, UV.
    Unsigned(Items<u64>),
    /// SS, SL, SV.
    Signed(Items<i64>),
    /// FL (widened, as Python's float holds it) and FD.
    Floats(Items<f64>),
    /// AT: each tag as `group << 16 | element`.
    Tags(Items<u32>),
    /// OB, OD, OF, OL, OV, OW, UN: the bytes as stored.
    Bytes(&'a [u8]),
    /// AE, AS, CS, DA, DT, TM, SH, LO, UC: each value's string; ST, LT, UT, UR: their one
    /// string (backslashes included).
    Strings(Items<Text<'a>>),
    /// PN: each name as `str()` of pydicom's `PersonName` gives it.
    Names(Items<Text<'a>>),
    /// UI: each UID.
    Uids(Items<Text<'a>>),
    /// IS: each value with its original string (pydicom's `IS.original_string`).
    IntegerStrings(Items<(i64, Text<'a>)>),
    /// DS: each value with its original string (pydicom's `DSfloat.original_string`).
    DecimalStrings(Items<(f64, Text<'a>)>),
}

/// The value pydicom's converter makes of `bytes`, an element of `vr` in the byte order
/// `little` (true for little endian), in a dataset whose character set is `charset`; `None`
/// when pydicom must convert it (a warning or a correction, a character set the core does
/// not decode, a VR it has no converter for).
pub fn decode(vr: Vr, bytes: &[u8], little: bool, charset: Charset) -> Option<Value<'_>> {
    use Vr::*;
    if bytes.is_empty() {
        // pydicom's `empty_value_for_VR`; a sequence is no value.
        return match vr {
            SQ => None,
            vr if vr.has_text_empty_value() => Some(Value::EmptyText),
            _ => Some(Value::Empty),
        };
    }
    Some(match vr {
        US => Value::Unsigned(numbers(bytes, |b| u16_of(b, little).into())?),
        UL => Value::Unsigned(numbers(bytes, |b| u32_of(b, little).into())?),
        UV => Value::Unsigned(numbers(bytes, |b| u64_of(b, little))?),
        SS => Value::Signed(numbers(bytes, |b| (u16_of(b, little) as i16).into())?),
        SL => Value::Signed(numbers(bytes, |b| (u32_of(b, little) as i32).into())?),
        SV => Value::Signed(numbers(bytes, |b| u64_of(b, little) as i64)?),
        FL => Value::Floats(numbers(bytes, |b| {
            f32::from_bits(u32_of(b, little)).into()
        })?),
        FD => Value::Floats(numbers(bytes, |b| f64::from_bits(u64_of(b, little)))?),
        AT => Value::Tags(numbers(bytes, |b| tag_of(b, little))?),
        OB | OD | OF | OL | OV | OW | UN => Value::Bytes(bytes),
        SH | LO | UC | ST | LT | UT | PN => charset_text(vr, plain_ascii(vr, bytes, charset)?)?,
        AE | AS | CS | DA | DT | TM | UR | UI | IS | DS => match latin1(bytes) {
            Cow::Borrowed(text) => latin1_text(vr, text, Cow::Borrowed)?,
            // Not ASCII (rare): each string is a copy.
            Cow::Owned(text) => latin1_text(vr, &text, |s| Cow::Owned(s.to_owned()))?,
        },
        SQ | OB_OW | US_OW | US_SS | US_SS_OW | NONE => return None,
    })
}

/// A value of a VR pydicom decodes with the dataset's character set, from its ASCII `text`.
fn charset_text(vr: Vr, text: &str) -> Option<Value<'_>> {
    let max_len = max_length(vr);
    Some(match vr {
        // pydicom's `convert_PN` split.
        Vr::PN => Value::Names(string_items(text).map(Cow::Borrowed).collect()),
        // ST, LT, UT: one value within pydicom's length limit (0 = none).
        Vr::ST | Vr::LT | Vr::UT => {
            let within = max_len == 0 || text.len() <= max_len;
            Value::Strings(smallvec![Cow::Borrowed(strip_padding(
                within.then_some(text)?
            ))])
        }
        // SH, LO, UC: backslash-separated values, each within the limit.
        _ => Value::Strings(
            text.split('\\')
                .map(|v| (max_len == 0 || v.len() <= max_len).then(|| strip_padding(v).into()))
                .collect::<Option<_>>()?,
        ),
    })
}

/// A value of a VR pydicom decodes as latin-1 whatever the character set, from `text`;
/// `keep` makes each string the value holds of a slice of `text`.
fn latin1_text<'t, 'a>(
    vr: Vr,
    text: &'t str,
    keep: impl Fn(&'t str) -> Text<'a>,
) -> Option<Value<'a>> {
    Some(match vr {
        // AE: each value stripped of white space.
        Vr::AE => Value::Strings(text.split('\\').map(|v| keep(py_strip(v))).collect()),
        // UR: one value, trailing white space removed.
        Vr::UR => Value::Strings(smallvec![keep(py_rstrip(text))]),
        Vr::UI => Value::Uids(
            string_items(text)
                .map(|uid| is_valid_uid(uid).then(|| keep(uid)))
                .collect::<Option<_>>()?,
        ),
        Vr::IS => Value::IntegerStrings(
            string_items(text)
                .map(|item| is_item(item).map(|(v, s)| (v, keep(s))))
                .collect::<Option<_>>()?,
        ),
        Vr::DS => Value::DecimalStrings(
            strip_padding(py_strip(text))
                .split('\\')
                .map(|item| ds_item(item).map(|(v, s)| (v, keep(s))))
                .collect::<Option<_>>()?,
        ),
        // AS, CS, DA, DT, TM: pydicom's `convert_string`.
        _ => Value::Strings(string_items(text).map(keep).collect()),
    })
}

/// Binary numbers of `N` bytes each; None when the length is not a whole number of them
/// (pydicom's `convert_numbers` then warns or raises).
fn numbers<const N: usize, T>(bytes: &[u8], make: impl Fn([u8; N]) -> T) -> Option<Items<T>> {
    if bytes.len() % N != 0 {
        return None;
    }
    let items = bytes.chunks_exact(N);
    Some(
        items
            .map(|b| make(b.try_into().expect("N bytes")))
            .collect(),
    )
}

/// A 16-bit number stored in the byte order `little` (true for little endian).
#[inline]
pub fn u16_of(bytes: [u8; 2], little: bool) -> u16 {
    if little {
        u16::from_le_bytes(bytes)
    } else {
        u16::from_be_bytes(bytes)
    }
}

/// A 32-bit number stored in the byte order `little`.
#[inline]
pub fn u32_of(bytes: [u8; 4], little: bool) -> u32 {
    if little {
        u32::from_le_bytes(bytes)
    } else {
        u32::from_be_bytes(bytes)
    }
}

/// A 64-bit number stored in the byte order `little`.
#[inline]
pub fn u64_of(bytes: [u8; 8], little: bool) -> u64 {
    if little {
        u64::from_le_bytes(bytes)
    } else {
        u64::from_be_bytes(bytes)
    }
}

/// A tag stored in the byte order `little`: group then element, 16 bits each.
#[inline]
pub fn tag_of(bytes: [u8; 4], little: bool) -> u32 {
    let [a, b, c, d] = bytes;
    (u16_of([a, b], little) as u32) << 16 | u16_of([c, d], little) as u32
}

/// Python's `str.isspace()` for the characters a latin-1 decode can produce.
fn is_py_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\x0b' | '\x0c' | '\r' | '\x1c'..='\x1f' | ' ' | '\u{85}' | '\u{a0}'
    )
}

/// `bytes.decode("iso8859")`: every byte is the character with the same number. ASCII (the
/// usual case) is borrowed as it is.
pub fn latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) if bytes.is_ascii() => Cow::Borrowed(text),
        _ => Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
    }
}

/// Python's `str.strip()`.
fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `str.rstrip()`.
fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_space)
}

/// `str.rstrip(" \x00")`, pydicom's padding removal.
fn strip_padding(s: &str) -> &str {
    s.trim_end_matches([' ', '\0'])
}

/// pydicom's `multi_string` split (CS, AS, DA, TM, DT as strings) of latin-1 `text`:
/// trailing padding removed, then split at each backslash.
pub fn string_items(text: &str) -> std::str::Split<'_, char> {
    strip_padding(text).split('\\')
}

/// True for a UID pydicom's validation passes (`(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*`, at
/// most 64 characters; empty is valid).
fn is_valid_uid(uid: &str) -> bool {
    if uid.len() > 64 {
        return false;
    }
    // One pass over the bytes (a split per '.' costs the bulk scan measurably): digits in
    // non-empty components, none but "0" itself starting with 0.
    let (mut digits, mut leading_zero) = (0usize, false);
    for &b in uid.as_bytes() {
        match b {
            b'.' if digits > 0 => digits = 0,
            b'0'..=b'9' if !(digits == 1 && leading_zero) => {
                if digits == 0 {
                    leading_zero = b == b'0';
                }
                digits += 1;
            }
            _ => return false,
        }
    }
    uid.is_empty() || digits > 0
}

/// An IS value pydicom converts to `IS` without a warning: `^ *[+-]?\d+ *$`, at most 12
/// characters, within 32 bits; (value, original string).
fn is_item(item: &str) -> Option<(i64, &str)> {
    let number = item.trim_matches(' ');
    let digits = number.strip_prefix(['+', '-']).unwrap_or(number);
    let valid = item.chars().count() <= 12
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit());
    let value: i64 = if valid {
        number.parse().ok()?
    } else {
        return None;
    };
    (i32::try_from(value).is_ok()).then_some((value, number))
}

/// A DS value pydicom converts to `DSfloat` without a warning in any validation mode:
/// `[+-]?(\d+|\d+\.\d*|\.\d+)([eE][+-]?\d+)?` after stripping, at most 16 characters;
/// (value, original string).
fn ds_item(item: &str) -> Option<(f64, &str)> {
    let number = py_strip(item);
    if number.len() > 16 || !is_ds_form(number) {
        return None;
    }
    // Rust's parser rounds correctly, as Python's float() does.
    Some((number.parse().ok()?, number))
}

fn is_ds_form(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        None => digits(mantissa),
        Some((whole, frac)) => {
            (digits(whole) && (frac.is_empty() || digits(frac)))
                || (whole.is_empty() && digits(frac))
        }
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// pydicom's `MAX_VALUE_LEN` for the text VRs it checks on reading (0 = no limit).
fn max_length(vr: Vr) -> usize {
    match vr {
        Vr::SH => 16,
        Vr::LO => 64,
        Vr::ST => 1024,
        Vr::LT => 10240,
        _ => 0,
    }
}

/// `bytes` as text, when a value of `vr` decodes to itself in `charset`: no byte above 0x7F
/// and no ISO 2022 escape, in a character set that keeps such text as it is.
fn plain_ascii(vr: Vr, bytes: &[u8], charset: Charset) -> Option<&str> {
    if !charset.keeps_ascii(vr) || !bytes.is_ascii() || bytes.contains(&0x1B) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;

//! Element values as pydicom's converters make them, for the forms they accept without a
//! warning. Each function returns `None` for anything outside that set, and the caller then
//! leaves the element to pydicom, so a value made here is always the one pydicom would make.

use smallvec::SmallVec;
use std::borrow::Cow;

/// The values of one element, held inline up to four (a position, a pair of windows, ...).
pub type Items<T> = SmallVec<[T; 4]>;

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
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `str.rstrip()`.
pub fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_space)
}

/// `str.rstrip(" \x00")`, pydicom's padding removal.
pub fn strip_padding(s: &str) -> &str {
    s.trim_end_matches([' ', '\0'])
}

/// pydicom's `multi_string` split (CS, AS, DA, TM, DT as strings) of latin-1 `text`.
pub fn string_items(text: &str) -> Items<&str> {
    split(strip_padding(text))
}

fn split(s: &str) -> Items<&str> {
    s.split('\\').collect()
}

/// AE: each value stripped of white space.
pub fn ae_items(text: &str) -> Items<&str> {
    text.split('\\').map(py_strip).collect()
}

/// UR: trailing white space removed.
pub fn ur_value(text: &str) -> &str {
    py_rstrip(text)
}

/// UI values that pass pydicom's UID validation (`(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*`, at
/// most 64 characters; empty is valid).
pub fn uid_items(text: &str) -> Option<Items<&str>> {
    let items = split(strip_padding(text));
    items.iter().all(|uid| is_valid_uid(uid)).then_some(items)
}

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

/// IS values pydicom converts to `IS` without a warning: `^ *[+-]?\d+ *$`, at most 12
/// characters, within 32 bits. Each is (value, original string).
pub fn is_items(text: &str) -> Option<Items<(i64, &str)>> {
    strip_padding(text)
        .split('\\')
        .map(|item| {
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
        })
        .collect()
}

/// DS values pydicom converts to `DSfloat` without a warning in any validation mode:
/// `[+-]?(\d+|\d+\.\d*|\.\d+)([eE][+-]?\d+)?` after stripping, at most 16 characters. Each is
/// (value, original string).
pub fn ds_items(text: &str) -> Option<Items<(f64, &str)>> {
    strip_padding(py_strip(text))
        .split('\\')
        .map(|item| {
            let number = py_strip(item);
            if number.len() > 16 || !is_ds_form(number) {
                return None;
            }
            // Rust's parser rounds correctly, as Python's float() does.
            Some((number.parse().ok()?, number))
        })
        .collect()
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
pub fn max_length(vr: &str) -> usize {
    match vr {
        "SH" => 16,
        "LO" => 64,
        "ST" => 1024,
        "LT" => 10240,
        _ => 0,
    }
}

/// Text that decodes the same in every ASCII-compatible character set: no byte above 0x7F and
/// no ISO 2022 escape.
fn plain_ascii(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    (bytes.is_ascii() && !bytes.contains(&0x1B)).then_some(text)
}

/// SH, LO, UC: backslash-separated values within pydicom's length limit (0 = none).
pub fn text_items(bytes: &[u8], max_len: usize) -> Option<Items<&str>> {
    plain_ascii(bytes)?
        .split('\\')
        .map(|v| (max_len == 0 || v.len() <= max_len).then(|| strip_padding(v)))
        .collect()
}

/// PN: the names pydicom's `convert_PN` splits off (each as its `str`), for plain ASCII.
pub fn person_names(bytes: &[u8]) -> Option<Items<&str>> {
    Some(strip_padding(plain_ascii(bytes)?).split('\\').collect())
}

/// ST, LT, UT: one value within pydicom's length limit (0 = none).
pub fn text_value(bytes: &[u8], max_len: usize) -> Option<&str> {
    let text = plain_ascii(bytes)?;
    (max_len == 0 || text.len() <= max_len).then(|| strip_padding(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_follow_pydicoms_rule() {
        assert_eq!(
            uid_items("1.2.840.10008.1.2\0").unwrap().to_vec(),
            vec!["1.2.840.10008.1.2"]
        );
        assert_eq!(uid_items("1.2\\0.3 ").unwrap().to_vec(), vec!["1.2", "0.3"]);
        assert!(uid_items("1.02").is_none());
        assert!(uid_items("1..2").is_none());
        assert!(uid_items(" 1.2").is_none());
        assert!(uid_items(&"1".repeat(65)).is_none());
        for valid in ["0", "0.0", "10.20.3", "1.0.10", "99"] {
            assert!(is_valid_uid(valid), "{valid}");
        }
        for invalid in [
            "00", "1.", ".1", "1.00", "1.01", "1.2a", "1 .2", "1..2", "01.2",
        ] {
            assert!(!is_valid_uid(invalid), "{invalid}");
        }
    }

    #[test]
    fn integer_strings() {
        assert_eq!(
            is_items(" +12 \\-3").unwrap().to_vec(),
            vec![(12, "+12"), (-3, "-3")]
        );
        assert!(is_items("1.5").is_none());
        assert!(is_items("9999999999").is_none());
        assert!(is_items("   ").is_none());
        assert!(is_items("1234567890123").is_none());
    }

    #[test]
    fn decimal_strings() {
        let items = ds_items(" 1.5\\-.25\\3.\\1E+02 ").unwrap();
        let values: Vec<f64> = items.iter().map(|(v, _)| *v).collect();
        assert_eq!(values, vec![1.5, -0.25, 3.0, 100.0]);
        assert_eq!(items[3].1, "1E+02");
        assert!(ds_items("nan").is_none());
        assert!(ds_items("1.5.2").is_none());
        assert!(ds_items("1e").is_none());
        assert!(ds_items("12345678901234567").is_none());
        assert!(ds_items("1\\\\2").is_none());
    }

    #[test]
    fn strings_and_text() {
        assert_eq!(
            string_items("ORIGINAL\\PRIMARY ").to_vec(),
            vec!["ORIGINAL", "PRIMARY"]
        );
        assert_eq!(latin1(b"\xe9"), "\u{e9}");
        assert_eq!(ae_items(" AE1 \\\tB").to_vec(), vec!["AE1", "B"]);
        assert_eq!(
            text_items(b"abc \\d\0", 64).unwrap().to_vec(),
            vec!["abc", "d"]
        );
        assert!(text_items(b"\xe9", 64).is_none());
        assert!(text_items(b"12345678901234567", 16).is_none());
        assert_eq!(text_value(b"line\r\n ", 1024).unwrap(), "line\r\n");
        assert!(text_value(b"\x1b$B", 0).is_none());
        assert_eq!(ur_value("http://a \t"), "http://a");
        assert_eq!(
            person_names(b"Doe^J\\Roe \0").unwrap().to_vec(),
            vec!["Doe^J", "Roe"]
        );
    }
}

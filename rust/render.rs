//! The text pydicom's `str(ds)` and `to_json_dict` make of an element, as pure rules: the
//! display line (`DataElement.__str__`), the VR groups `repval` and `to_json_dict` branch on,
//! the keys of a private dictionary lookup, and base64. The binding layer (`py/render.rs`)
//! walks pydicom's objects and asks these.

use crate::vr::Vr;

/// pydicom's `str(BaseTag)`: `(GGGG,EEEE)` in upper-case hex.
pub fn write_tag(out: &mut String, tag: u32) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('(');
    for shift in [28, 24, 20, 16] {
        out.push(HEX[(tag >> shift) as usize & 15] as char);
    }
    out.push(',');
    for shift in [12, 8, 4, 0] {
        out.push(HEX[(tag >> shift) as usize & 15] as char);
    }
    out.push(')');
}

/// The start of `DataElement.__str__`: the tag, then the name cut and padded to `width`
/// characters (Python's `f"{name[:width]:<{width}}"`, so counted in code points), then the
/// VR and a colon when `show_vr`. The value text follows.
pub fn write_line_head(out: &mut String, tag: u32, name: &str, width: usize, vr: Option<&str>) {
    write_tag(out, tag);
    out.push(' ');
    let chars = if name.is_ascii() {
        let cut = &name[..name.len().min(width)];
        out.push_str(cut);
        cut.len()
    } else {
        let mut chars = 0;
        for c in name.chars().take(width) {
            out.push(c);
            chars += 1;
        }
        chars
    };
    out.extend(std::iter::repeat_n(' ', width - chars));
    out.push(' ');
    if let Some(vr) = vr {
        out.push_str(vr);
        out.push_str(": ");
    }
}

/// `repval`'s summary of a value too long to show.
pub fn array_summary(count: usize) -> String {
    format!("Array of {count} elements")
}

/// `LONG_VALUE_VR`: VRs whose values `repval` summarises by length (long text, bytes).
pub fn is_long_value(vr: Option<Vr>) -> bool {
    use Vr::*;
    matches!(
        vr,
        Some(LT | UC | UT | OB | OD | OF | OL | OV | OW | UN | OB_OW | US_OW | US_SS | US_SS_OW)
    )
}

/// How `DataElement.to_json_dict` writes an element of a VR.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JsonForm {
    /// Bytes as "InlineBinary" (base64) or "BulkDataURI" (`BYTES_VR | AMBIGUOUS_VR`
    /// without "US or SS").
    Binary,
    Sequence,
    PersonName,
    Tag,
    /// "Value" as a list, each value made an `int` (`INT_VR` without AT, and "US or SS").
    Integers,
    /// "Value" as a list, each value made a `float` (`FLOAT_VR`).
    Floats,
    /// "Value" as a list of the values themselves.
    Values,
}

/// The branch of `DataElement.to_json_dict` (and of `jsonrep.convert_to_python_number`) a VR
/// takes; text pydicom does not know as a VR takes the generic branch, as there.
pub fn json_form(vr: Option<Vr>) -> JsonForm {
    use Vr::*;
    match vr {
        Some(OB | OD | OF | OL | OV | OW | UN | OB_OW | US_OW | US_SS_OW) => JsonForm::Binary,
        Some(SQ) => JsonForm::Sequence,
        Some(PN) => JsonForm::PersonName,
        Some(AT) => JsonForm::Tag,
        Some(IS | SL | SS | SV | UL | US | UV | US_SS) => JsonForm::Integers,
        Some(DS | FD | FL) => JsonForm::Floats,
        _ => JsonForm::Values,
    }
}

/// The keys `datadict.get_private_entry` tries, in order, in a private creator's dictionary:
/// the exact tag, then with the block byte as "xx", then with the group's low byte too.
pub fn private_dictionary_keys(tag: u32) -> [String; 3] {
    let exact = format!("{tag:08X}");
    [
        exact.clone(),
        format!("{}xx{}", &exact[..4], &exact[6..]),
        format!("{}xxxx{}", &exact[..2], &exact[6..]),
    ]
}

/// pydicom's name for a private element with no name from its creator's dictionary.
pub fn private_name_fallback(tag: u32, has_creator: bool) -> &'static str {
    if !has_creator && (tag & 0xFFFF) >> 8 == 0 {
        "Private Creator"
    } else {
        "Private tag data"
    }
}

pub use crate::dictionary::is_private;

/// A string as `json.dumps` writes it by default (`ensure_ascii`): quoted, with `"` and `\`
/// escaped, the short escapes for control characters that have one, and `\uXXXX` (lower-case
/// hex; a surrogate pair above the BMP) for everything else outside ' '..='~'.
pub fn write_json_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    fn unit(out: &mut String, unit: u16) {
        out.push_str("\\u");
        for shift in [12, 8, 4, 0] {
            out.push(HEX[(unit >> shift) as usize & 15] as char);
        }
    }
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for &u in c.encode_utf16(&mut units).iter() {
                    unit(out, u);
                }
            }
        }
    }
    out.push('"');
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (`base64.b64encode`).
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    let mut chunks = bytes.chunks_exact(3);
    for chunk in &mut chunks {
        let n = (chunk[0] as u32) << 16 | (chunk[1] as u32) << 8 | chunk[2] as u32;
        for shift in [18, 12, 6, 0] {
            out.push(BASE64[(n >> shift) as usize & 63] as char);
        }
    }
    match *chunks.remainder() {
        [a] => {
            let n = (a as u32) << 16;
            out.push(BASE64[(n >> 18) as usize & 63] as char);
            out.push(BASE64[(n >> 12) as usize & 63] as char);
            out.push_str("==");
        }
        [a, b] => {
            let n = (a as u32) << 16 | (b as u32) << 8;
            out.push(BASE64[(n >> 18) as usize & 63] as char);
            out.push(BASE64[(n >> 12) as usize & 63] as char);
            out.push(BASE64[(n >> 6) as usize & 63] as char);
            out.push('=');
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_print_as_pydicoms_basetag() {
        let mut text = String::new();
        write_tag(&mut text, 0x7FE0_0010);
        write_tag(&mut text, 0x0009_10AB);
        assert_eq!(text, "(7FE0,0010)(0009,10AB)");
    }

    #[test]
    fn line_head_cuts_and_pads_the_name_in_characters() {
        let mut line = String::new();
        write_line_head(&mut line, 0x0010_0010, "Patient's Name", 20, Some("PN"));
        assert_eq!(line, "(0010,0010) Patient's Name       PN: ");
        let mut line = String::new();
        write_line_head(
            &mut line,
            0x0009_1001,
            "[Ünïcode name that is long]",
            10,
            None,
        );
        assert_eq!(line, "(0009,1001) [Ünïcode n ");
    }

    #[test]
    fn private_keys_mask_the_block_then_the_group() {
        assert_eq!(
            private_dictionary_keys(0x0019_10AB),
            ["001910AB", "0019xxAB", "00xxxxAB"]
        );
    }

    #[test]
    fn private_names_without_a_dictionary_entry() {
        assert_eq!(private_name_fallback(0x0009_0010, false), "Private Creator");
        assert_eq!(
            private_name_fallback(0x0009_1010, false),
            "Private tag data"
        );
        assert_eq!(private_name_fallback(0x0009_1010, true), "Private tag data");
        assert_eq!(private_name_fallback(0x0009_0010, true), "Private tag data");
    }

    #[test]
    fn json_strings_escape_as_pythons_json_dumps() {
        let mut out = String::new();
        write_json_string(&mut out, "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{7f}é😀~");
        assert_eq!(out, r#""a\"b\\c\n\r\t\b\f\u0001\u007f\u00e9\ud83d\ude00~""#);
    }

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(&[0xFB, 0xFF, 0xBF]), "+/+/");
    }

    #[test]
    fn json_forms_follow_pydicoms_vr_sets() {
        assert_eq!(json_form(Some(Vr::US_SS)), JsonForm::Integers);
        assert_eq!(json_form(Some(Vr::US_SS_OW)), JsonForm::Binary);
        assert_eq!(json_form(Some(Vr::DS)), JsonForm::Floats);
        assert_eq!(json_form(Some(Vr::UI)), JsonForm::Values);
        assert_eq!(json_form(None), JsonForm::Values);
        assert!(is_long_value(Some(Vr::US_SS)));
        assert!(!is_long_value(Some(Vr::ST)));
    }
}

use super::*;
use crate::vr::Vr::*;

const PLAIN: Charset = Charset::AsciiAsItself;

fn decoded(vr: Vr, bytes: &[u8]) -> Option<Value<'_>> {
    decode(vr, bytes, true, PLAIN)
}

fn strings<'a>(items: &[&str]) -> Value<'a> {
    Value::Strings(items.iter().map(|s| Cow::Owned(s.to_string())).collect())
}

#[test]
fn byte_order_is_applied_in_one_place() {
    assert_eq!(u16_of([1, 2], true), 0x0201);
    assert_eq!(u16_of([1, 2], false), 0x0102);
    assert_eq!(u32_of([1, 2, 3, 4], true), 0x0403_0201);
    assert_eq!(u32_of([1, 2, 3, 4], false), 0x0102_0304);
    assert_eq!(
        u64_of([1, 0, 0, 0, 0, 0, 0, 2], false),
        0x0100_0000_0000_0002
    );
    assert_eq!(tag_of([0x10, 0, 0x20, 0], true), 0x0010_0020);
    assert_eq!(tag_of([0, 0x10, 0, 0x20], false), 0x0010_0020);
}

fn unsigned<'a>(items: &[u64]) -> Option<Value<'a>> {
    Some(Value::Unsigned(items.iter().copied().collect()))
}

fn signed<'a>(items: &[i64]) -> Option<Value<'a>> {
    Some(Value::Signed(items.iter().copied().collect()))
}

fn floats<'a>(items: &[f64]) -> Option<Value<'a>> {
    Some(Value::Floats(items.iter().copied().collect()))
}

#[test]
fn binary_numbers_in_both_byte_orders() {
    assert_eq!(decode(US, &[1, 2], true, PLAIN), unsigned(&[0x0201]));
    assert_eq!(decode(US, &[1, 2], false, PLAIN), unsigned(&[0x0102]));
    assert_eq!(
        decode(UL, &[0, 0, 0, 0x80], true, PLAIN),
        unsigned(&[1 << 31])
    );
    assert_eq!(
        decode(UL, &[0x80, 0, 0, 0], false, PLAIN),
        unsigned(&[1 << 31])
    );
    assert_eq!(decode(UV, &[0xFF; 8], true, PLAIN), unsigned(&[u64::MAX]));
    assert_eq!(decode(SS, &[0xFF, 0xFE], true, PLAIN), signed(&[-257]));
    assert_eq!(decode(SS, &[0xFF, 0xFE], false, PLAIN), signed(&[-2]));
    assert_eq!(
        decode(SL, &[0xFE, 0xFF, 0xFF, 0xFF], true, PLAIN),
        signed(&[-2])
    );
    assert_eq!(decode(SV, &[0xFF; 8], false, PLAIN), signed(&[-1]));
    let (fl, fd, tenth) = (
        1.5f32.to_be_bytes(),
        (-0.25f64).to_le_bytes(),
        0.1f32.to_le_bytes(),
    );
    assert_eq!(decode(FL, &fl, false, PLAIN), floats(&[1.5]));
    assert_eq!(decode(FD, &fd, true, PLAIN), floats(&[-0.25]));
    // FL widens exactly, as pydicom's struct.unpack("f") gives it to Python's float.
    assert_eq!(decoded(FL, &tenth), floats(&[f64::from(0.1f32)]));
    assert_eq!(
        decode(AT, &[0x10, 0, 0x10, 0, 0x28, 0, 0x10, 0], true, PLAIN),
        Some(Value::Tags(
            [0x0010_0010, 0x0028_0010].into_iter().collect()
        ))
    );
    assert_eq!(
        decode(AT, &[0, 0x10, 0, 0x20], false, PLAIN),
        Some(Value::Tags([0x0010_0020].into_iter().collect()))
    );
}

#[test]
fn multiplicity_is_one_item_per_value() {
    assert_eq!(
        decoded(US, &[1, 0, 2, 0, 3, 0]),
        Some(Value::Unsigned([1, 2, 3].into_iter().collect()))
    );
    assert_eq!(decoded(CS, b"A\\B\\C "), Some(strings(&["A", "B", "C"])));
    assert_eq!(decoded(LO, b"one\\two"), Some(strings(&["one", "two"])));
    // ST, LT, UT and UR are one value, backslashes and all.
    assert_eq!(decoded(ST, b"a\\b "), Some(strings(&["a\\b"])));
    assert_eq!(
        decoded(UR, b"http://a\\b "),
        Some(strings(&["http://a\\b"]))
    );
}

#[test]
fn lengths_that_are_no_whole_number_of_values_are_pydicoms() {
    for (vr, size) in [
        (US, 2),
        (SS, 2),
        (UL, 4),
        (SL, 4),
        (FL, 4),
        (AT, 4),
        (UV, 8),
        (SV, 8),
        (FD, 8),
    ] {
        assert_eq!(decoded(vr, &vec![0; size + 1]), None, "{vr}");
        assert!(decoded(vr, &vec![0; size * 2]).is_some(), "{vr}");
    }
}

#[test]
fn empty_values_are_pydicoms_empty_values() {
    for vr in [AE, AS, CS, DA, DT, LO, LT, PN, SH, ST, TM, UC, UI, UR, UT] {
        assert_eq!(decoded(vr, b""), Some(Value::EmptyText), "{vr}");
    }
    for vr in [US, SS, FL, FD, AT, OB, OW, UN, IS, DS, UV, US_SS, NONE] {
        assert_eq!(decoded(vr, b""), Some(Value::Empty), "{vr}");
    }
    assert_eq!(decoded(SQ, b""), None);
}

#[test]
fn bytes_are_kept_as_stored() {
    for vr in [OB, OD, OF, OL, OV, OW, UN] {
        assert_eq!(
            decoded(vr, &[1, 2, 3]),
            Some(Value::Bytes(&[1, 2, 3])),
            "{vr}"
        );
        assert!(vr.is_bytes());
    }
    assert!(!US.is_bytes() && !OB_OW.is_bytes());
}

#[test]
fn padding_is_removed_as_pydicom_removes_it() {
    assert_eq!(decoded(CS, b"CT "), Some(strings(&["CT"])));
    assert_eq!(decoded(DA, b"20240101\0"), Some(strings(&["20240101"])));
    // Only trailing padding, and only after the split for text VRs.
    assert_eq!(decoded(CS, b" A \\B "), Some(strings(&[" A ", "B"])));
    assert_eq!(decoded(SH, b"a \\b\0"), Some(strings(&["a", "b"])));
    assert_eq!(decoded(LT, b"line\r\n "), Some(strings(&["line\r\n"])));
    assert_eq!(decoded(AE, b" AE1 \\\tB"), Some(strings(&["AE1", "B"])));
    assert_eq!(decoded(UR, b"http://a \t"), Some(strings(&["http://a"])));
    assert_eq!(
        decoded(PN, b"Doe^J\\Roe \0"),
        Some(Value::Names(
            ["Doe^J", "Roe"].into_iter().map(Cow::Borrowed).collect()
        ))
    );
}

#[test]
fn latin1_vrs_decode_any_bytes() {
    let value = decoded(CS, b"CAF\xc9 ").unwrap();
    assert_eq!(value, strings(&["CAF\u{c9}"]));
    // Strings of ASCII bytes borrow them.
    match decoded(CS, b"CT").unwrap() {
        Value::Strings(items) => assert!(matches!(items[0], Cow::Borrowed("CT"))),
        other => panic!("{other:?}"),
    }
    // Python's str.strip() removes NBSP, which latin-1 decodes 0xA0 to.
    assert_eq!(
        decoded(DS, b"1.5\xa0"),
        Some(Value::DecimalStrings(
            [(1.5, Cow::Borrowed("1.5"))].into_iter().collect()
        ))
    );
}

#[test]
fn number_strings_keep_their_original_strings() {
    assert_eq!(
        decoded(IS, b" +12 \\-3"),
        Some(Value::IntegerStrings(
            [(12, Cow::Borrowed("+12")), (-3, Cow::Borrowed("-3"))]
                .into_iter()
                .collect()
        ))
    );
    let Some(Value::DecimalStrings(items)) = decoded(DS, b" 1.5\\-.25\\3.\\1E+02 ") else {
        panic!("DS");
    };
    let values: Vec<f64> = items.iter().map(|(v, _)| *v).collect();
    assert_eq!(values, vec![1.5, -0.25, 3.0, 100.0]);
    assert_eq!(items[3].1, "1E+02");
}

#[test]
fn uids_are_kept_when_valid() {
    assert_eq!(
        decoded(UI, b"1.2.840.10008.1.2\0"),
        Some(Value::Uids(
            [Cow::Borrowed("1.2.840.10008.1.2")].into_iter().collect()
        ))
    );
    assert_eq!(decoded(UI, b"1.02"), None);
}

#[test]
fn values_pydicom_warns_about_or_corrects_are_refused() {
    for (vr, bytes) in [
        (IS, &b"1.5"[..]),
        (IS, b"9999999999"),
        (IS, b"   "),
        (IS, b"1234567890123"),
        (DS, b"nan"),
        (DS, b"1.5.2"),
        (DS, b"1e"),
        (DS, b"12345678901234567"),
        (DS, b"1\\\\2"),
        (UI, b"1..2"),
        (UI, b" 1.2"),
        (SH, b"12345678901234567"),
        (LO, &[b'x'; 65]),
        (ST, &[b'x'; 1025]),
    ] {
        assert_eq!(decoded(vr, bytes), None, "{vr} {bytes:?}");
    }
    assert!(decoded(UT, &[b'x'; 20000]).is_some());
    assert!(decoded(LT, &[b'x'; 10240]).is_some());
}

#[test]
fn text_in_the_character_set_only_when_ascii_decodes_as_itself() {
    for vr in [SH, LO, UC, ST, LT, UT, PN] {
        assert!(vr.uses_specific_charset());
        assert!(decode(vr, b"abc", true, PLAIN).is_some(), "{vr}");
        assert_eq!(decode(vr, b"abc", true, Charset::Other), None, "{vr}");
        assert_eq!(decode(vr, b"caf\xe9", true, PLAIN), None, "{vr}");
        assert_eq!(decode(vr, b"\x1b$Babc", true, PLAIN), None, "{vr}");
    }
    // The others are latin-1 whatever the character set.
    assert_eq!(
        decode(CS, b"CT", true, Charset::Other),
        Some(strings(&["CT"]))
    );
}

#[test]
fn vrs_without_a_converter_here_are_pydicoms() {
    for vr in [SQ, OB_OW, US_OW, US_SS, US_SS_OW, NONE] {
        assert_eq!(decoded(vr, &[0, 0]), None, "{vr}");
    }
}

#[test]
fn uids_follow_pydicoms_rule() {
    let uids = |items: &[&str]| {
        Some(Value::Uids(
            items.iter().map(|s| Cow::Owned(s.to_string())).collect(),
        ))
    };
    assert_eq!(decoded(UI, b"1.2\\0.3 "), uids(&["1.2", "0.3"]));
    assert_eq!(decoded(UI, b"1..2"), None);
    assert_eq!(decoded(UI, "1".repeat(65).as_bytes()), None);
    for valid in ["0", "0.0", "10.20.3", "1.0.10", "99", ""] {
        assert!(is_valid_uid(valid), "{valid}");
    }
    for invalid in [
        "00", "1.", ".1", "1.00", "1.01", "1.2a", "1 .2", "1..2", "01.2",
    ] {
        assert!(!is_valid_uid(invalid), "{invalid}");
    }
}

#[test]
fn strings_and_text() {
    assert_eq!(
        string_items("ORIGINAL\\PRIMARY ").collect::<Vec<_>>(),
        vec!["ORIGINAL", "PRIMARY"]
    );
    assert_eq!(latin1(b"\xe9"), "\u{e9}");
    assert_eq!(is_item(" +12 "), Some((12, "+12")));
    assert_eq!(ds_item(" 1E+02"), Some((100.0, "1E+02")));
    assert_eq!(plain_ascii(LO, b"\x1b$B", PLAIN), None);
    assert_eq!(plain_ascii(LO, b"abc", Charset::Other), None);
    assert_eq!(
        plain_ascii(LO, b"abc", Charset::AsciiAsItselfButNames),
        Some("abc")
    );
    assert_eq!(
        plain_ascii(PN, b"abc", Charset::AsciiAsItselfButNames),
        None
    );
}

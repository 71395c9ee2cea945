use super::*;
use crate::parse::{parse_dataset, ReadOptions};
use crate::tags::{ITEM, PATIENT_ID, PATIENT_NAME, PIXEL_DATA, ROWS};
use crate::test_support::Bytes;

const EXPLICIT: Encoding = Encoding {
    implicit: false,
    little: true,
};
const IMPLICIT: Encoding = Encoding {
    implicit: true,
    little: true,
};

/// The elements of `bytes` (a dataset in `encoding`) and a store of them.
fn walk(bytes: &[u8], encoding: Encoding) -> (Store, Vec<Element>) {
    let (elements, _) =
        parse_dataset(bytes, 0, encoding, &ReadOptions::pydicom_defaults()).expect("walks");
    (Store::owned(bytes.to_vec()), elements)
}

#[test]
fn an_element_as_read_is_its_whole_span() {
    let mut b = Bytes::default();
    b.explicit(PATIENT_NAME, "PN", b"Doe^John")
        .explicit(0x0009_1001, "OB", &[1, 2, 3, 4]);
    let (store, elements) = walk(&b.0, EXPLICIT);
    assert_eq!(raw_span(&store, &elements[0], EXPLICIT), Some(0..16));
    assert_eq!(raw_span(&store, &elements[1], EXPLICIT), Some(16..32));
}

#[test]
fn implicit_headers_are_eight_bytes() {
    let mut b = Bytes::default();
    b.implicit(PATIENT_ID, b"ID01");
    let (store, elements) = walk(&b.0, IMPLICIT);
    assert_eq!(raw_span(&store, &elements[0], IMPLICIT), Some(0..12));
}

#[test]
fn reserved_bytes_pydicom_would_zero_are_not_copied() {
    let mut b = Bytes::default();
    b.explicit(0x0009_1001, "OB", &[1, 2]);
    b.0[6] = 1; // a reserved byte of the long header
    let (store, elements) = walk(&b.0, EXPLICIT);
    assert_eq!(raw_span(&store, &elements[0], EXPLICIT), None);
}

#[test]
fn a_truncated_value_is_not_copied() {
    let mut b = Bytes::default();
    b.explicit(PATIENT_ID, "LO", b"ID01");
    b.0.truncate(b.0.len() - 2);
    let (store, elements) = walk(&b.0, EXPLICIT);
    assert_eq!(elements[0].value_len, 2);
    assert_eq!(raw_span(&store, &elements[0], EXPLICIT), None);
}

#[test]
fn an_empty_value_pydicom_reads_as_none_is_converted_when_written() {
    // pydicom's raw value of an empty US is None: its writer converts it first.
    let mut b = Bytes::default();
    b.explicit(ROWS, "US", b"").explicit(PATIENT_ID, "LO", b"");
    let (store, elements) = walk(&b.0, EXPLICIT);
    assert!(converted_when_written(&elements[0], false));
    assert!(!converted_when_written(&elements[1], false));
    // ... every empty value, under use_none_as_empty_text_VR_value.
    assert!(converted_when_written(&elements[1], true));
    // Once converted, the header is what pydicom writes of the element.
    assert_eq!(raw_span(&store, &elements[0], EXPLICIT), Some(0..8));
}

#[test]
fn encapsulated_pixel_data_is_copied_with_its_delimiter_only_when_canonical() {
    let encapsulated = |delimiter_length: u32| {
        let mut b = Bytes::default();
        b.explicit_undefined(PIXEL_DATA, "OB")
            .marker(ITEM, 0)
            .marker(ITEM, 2)
            .raw(&[7, 7])
            .marker(SEQUENCE_DELIMITATION_ITEM, delimiter_length);
        b
    };
    let b = encapsulated(0);
    let (store, elements) = walk(&b.0, EXPLICIT);
    assert_eq!(raw_span(&store, &elements[0], EXPLICIT), Some(0..b.0.len()));
    let b = encapsulated(4);
    let store = Store::owned(b.0.clone());
    assert_eq!(raw_span(&store, &elements[0], EXPLICIT), None);
}

#[test]
fn retired_group_lengths_are_those_after_group_6() {
    assert!(is_retired_group_length(0x0008_0000));
    assert!(!is_retired_group_length(0x0002_0000));
    assert!(!is_retired_group_length(0x0008_0001));
}

#[test]
fn values_in_the_encoders_form_reencode_exactly() {
    assert!(reencodes_exactly(Vr::CS, b"ORIGINAL\\PRIMARY", true));
    assert!(reencodes_exactly(Vr::CS, b"AXIAL ", true));
    assert!(reencodes_exactly(Vr::UI, b"1.2.3\0", true));
    assert!(reencodes_exactly(Vr::DS, b"1.50", true));
    assert!(reencodes_exactly(Vr::IS, b"12", true));
    assert!(reencodes_exactly(Vr::US, &[1, 0, 2, 0], true));
    assert!(reencodes_exactly(Vr::OB, &[1, 2], true));
    assert!(reencodes_exactly(Vr::UN, &[1, 2, 3], true));
    assert!(reencodes_exactly(Vr::FD, &f64::NAN.to_le_bytes(), true));
}

#[test]
fn values_the_encoder_writes_otherwise_do_not() {
    // Padding the decoder strips comes back as one space (or NUL) at most.
    assert!(!reencodes_exactly(Vr::CS, b"AXIAL   ", true));
    assert!(!reencodes_exactly(Vr::UI, b"1.2.3 ", true));
    assert!(!reencodes_exactly(Vr::LO, b"ABC\0", true));
    // AE values lose leading spaces; odd OB values gain a NUL.
    assert!(!reencodes_exactly(Vr::AE, b" STORE", true));
    assert!(!reencodes_exactly(Vr::OB, &[1, 2, 3], true));
    // Text that is not ASCII, or names with component groups, are pydicom's to encode.
    assert!(!reencodes_exactly(Vr::LO, "Müller".as_bytes(), true));
    assert!(!reencodes_exactly(Vr::PN, b"A^B=C^D ", true));
    // A float32 NaN may not come back with its payload.
    assert!(!reencodes_exactly(Vr::FL, &f32::NAN.to_le_bytes(), true));
    // Numbers that are not whole values are pydicom's (it warns).
    assert!(!reencodes_exactly(Vr::US, &[1, 0, 2], true));
}

#[test]
fn copies_of_neighbouring_spans_join() {
    let mut plan = Plan::default();
    plan.copy(0, 0..10);
    plan.copy(0, 10..20);
    plan.encode(PATIENT_ID);
    plan.copy(0, 30..40);
    plan.copy(1, 40..50); // another source
    plan.copy(1, 60..70); // not adjacent
    plan.copy(1, 70..80);
    plan.skip();
    plan.copy(1, 80..90); // a left-out element between
    let copies: Vec<_> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Copy { origin, span } => Some((*origin, span.clone())),
            Step::Encode(_) | Step::Value(_) => None,
        })
        .collect();
    assert_eq!(
        copies,
        vec![
            (0, 0..20),
            (0, 30..40),
            (1, 40..50),
            (1, 60..80),
            (1, 80..90)
        ]
    );
    assert_eq!((plan.copied, plan.encoded), (70, 1));
}

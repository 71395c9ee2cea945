//! Element-walk tests on synthetic byte streams.

use super::*;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use std::io::Write;

use crate::tags;
use crate::test_support::{part10, Bytes};

const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
const IMPLICIT_LE: &str = "1.2.840.10008.1.2";

fn defaults() -> ReadOptions {
    ReadOptions::pydicom_defaults()
}

fn tags_of(elements: &[Element]) -> Vec<u32> {
    elements.iter().map(|e| e.tag).collect()
}

#[test]
fn explicit_file_records_offsets_without_copying() {
    let mut b = part10(EXPLICIT_LE);
    let start = b.0.len();
    b.explicit(tags::PATIENT_NAME, "PN", b"Doe^J ").explicit(
        tags::ROWS,
        "US",
        &512u16.to_le_bytes(),
    );
    let parsed = parse_file(&b.0, &defaults()).unwrap();
    assert!(parsed.has_preamble);
    assert_eq!(parsed.transfer_syntax.as_deref(), Some(EXPLICIT_LE));
    assert_eq!(
        tags_of(&parsed.meta),
        vec![tags::FILE_META_INFORMATION_VERSION, TRANSFER_SYNTAX_UID]
    );
    assert_eq!(
        tags_of(&parsed.dataset),
        vec![tags::PATIENT_NAME, tags::ROWS]
    );
    let name = parsed.dataset[0];
    assert_eq!(name.vr, Some(Vr::PN));
    assert_eq!(name.value_offset, start + 8);
    assert_eq!(value_bytes(&b.0, &name), b"Doe^J ");
}

#[test]
fn uid_padding_is_stripped() {
    let b = part10(IMPLICIT_LE);
    let parsed = parse_file(&b.0, &defaults()).unwrap();
    assert_eq!(parsed.transfer_syntax.as_deref(), Some(IMPLICIT_LE));
}

#[test]
fn missing_prefix_needs_force() {
    let mut b = Bytes::default();
    b.explicit(tags::SOP_CLASS_UID, "UI", b"1.2\0");
    assert_eq!(
        parse_file(&b.0, &defaults()).unwrap_err(),
        ParseError::NotDicom
    );
    let forced = ReadOptions {
        force: true,
        ..defaults()
    };
    let parsed = parse_file(&b.0, &forced).unwrap();
    assert!(!parsed.has_preamble);
    assert!(parsed.meta.is_empty());
    // No transfer syntax: the VR letters say explicit VR little endian.
    assert_eq!(parsed.encoding, Encoding::EXPLICIT_LE);
    assert_eq!(tags_of(&parsed.dataset), vec![tags::SOP_CLASS_UID]);
}

#[test]
fn implicit_undefined_sequence_is_walked_to_its_end() {
    let mut b = part10(IMPLICIT_LE);
    // (0008,1115) is SQ in the dictionary; one undefined-length item with a nested element.
    b.marker(tags::REFERENCED_SERIES_SEQUENCE, UNDEFINED_LENGTH)
        .marker(ITEM, UNDEFINED_LENGTH)
        .implicit(tags::SERIES_INSTANCE_UID, b"1.2.3\0")
        .marker(ITEM_DELIMITATION_ITEM, 0)
        .marker(ITEM, 12)
        .implicit(tags::INSTANCE_NUMBER, b"1\0\0\0")
        .marker(SEQUENCE_DELIMITATION_ITEM, 0)
        .implicit(tags::SERIES_NUMBER, b"7 ");
    let parsed = parse_file(&b.0, &defaults()).unwrap();
    assert_eq!(
        tags_of(&parsed.dataset),
        vec![tags::REFERENCED_SERIES_SEQUENCE, tags::SERIES_NUMBER]
    );
    let seq = parsed.dataset[0];
    assert_eq!(seq.kind, ValueKind::Sequence);
    assert_eq!(seq.vr, Some(Vr::SQ));
    assert_eq!(seq.length, UNDEFINED_LENGTH);
    // The span covers the items and stops before the sequence delimiter.
    let span = value_bytes(&b.0, &seq);
    assert_eq!(&span[..4], &[0xFE, 0xFF, 0x00, 0xE0]);
    assert_eq!(span.len(), 8 + 14 + 8 + 8 + 12);
}

#[test]
fn items_of_explicit_data_may_be_implicit() {
    let mut b = part10(EXPLICIT_LE);
    b.explicit_undefined(tags::REFERENCED_SERIES_SEQUENCE, "SQ")
        .marker(ITEM, UNDEFINED_LENGTH)
        .implicit(tags::SERIES_INSTANCE_UID, b"1.2\0")
        .marker(ITEM_DELIMITATION_ITEM, 0)
        .marker(SEQUENCE_DELIMITATION_ITEM, 0)
        .explicit(tags::SERIES_NUMBER, "IS", b"7 ");
    let parsed = parse_file(&b.0, &defaults()).unwrap();
    assert_eq!(
        tags_of(&parsed.dataset),
        vec![tags::REFERENCED_SERIES_SEQUENCE, tags::SERIES_NUMBER]
    );
}

#[test]
fn top_level_truncation_keeps_short_values_quietly() {
    let mut b = part10(EXPLICIT_LE);
    b.explicit(tags::PATIENT_NAME, "PN", b"Doe^J ");
    b.explicit(tags::PIXEL_DATA, "OB", &[1, 2, 3, 4]);
    b.0.truncate(b.0.len() - 3);
    let parsed = parse_file(&b.0, &defaults()).unwrap();
    let pixels = parsed.dataset[1];
    assert_eq!((pixels.length, pixels.value_len), (4, 1));
    // A header cut short simply ends the dataset.
    b.0.truncate(b.0.len() - 8);
    let parsed = parse_file(&b.0, &defaults()).unwrap();
    assert_eq!(tags_of(&parsed.dataset), vec![tags::PATIENT_NAME]);
}

#[test]
fn lying_lengths_allocate_nothing() {
    let mut b = part10(EXPLICIT_LE);
    b.tag(tags::PIXEL_DATA, true)
        .raw(b"OB\0\0")
        .raw(&0xFFFF_FFFEu32.to_le_bytes());
    b.raw(&[0; 16]);
    let parsed = parse_file(&b.0, &defaults()).unwrap();
    assert_eq!(parsed.dataset[0].length, 0xFFFF_FFFE);
    assert_eq!(parsed.dataset[0].value_len, 16);
}

#[test]
fn truncation_inside_a_sequence_is_an_error() {
    let mut b = part10(EXPLICIT_LE);
    b.explicit_undefined(tags::REFERENCED_SERIES_SEQUENCE, "SQ")
        .marker(ITEM, UNDEFINED_LENGTH)
        .explicit(tags::SERIES_INSTANCE_UID, "UI", b"1.2\0");
    let err = parse_file(&b.0, &defaults()).unwrap_err();
    assert!(matches!(err, ParseError::Truncated { .. }), "{err}");
}

#[test]
fn deep_nesting_stops_at_the_limit() {
    let mut b = part10(EXPLICIT_LE);
    for _ in 0..10_000 {
        b.explicit_undefined(tags::REFERENCED_SERIES_SEQUENCE, "SQ")
            .marker(ITEM, UNDEFINED_LENGTH);
    }
    for _ in 0..10_000 {
        b.marker(ITEM_DELIMITATION_ITEM, 0)
            .marker(SEQUENCE_DELIMITATION_ITEM, 0);
    }
    let err = parse_file(&b.0, &defaults()).unwrap_err();
    assert!(
        matches!(
            err,
            ParseError::TooDeep {
                depth: MAX_DEPTH,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn encapsulated_pixel_data_ends_at_its_delimiter() {
    let mut b = part10("1.2.840.10008.1.2.5");
    b.explicit_undefined(tags::PIXEL_DATA, "OB")
        .marker(ITEM, 0)
        .marker(ITEM, 4)
        .raw(&[9, 9, 9, 9])
        .marker(SEQUENCE_DELIMITATION_ITEM, 0)
        .explicit(tags::DATA_SET_TRAILING_PADDING, "OB", &[0, 0]);
    let parsed = parse_file(&b.0, &defaults()).unwrap();
    assert_eq!(
        tags_of(&parsed.dataset),
        vec![tags::PIXEL_DATA, tags::DATA_SET_TRAILING_PADDING]
    );
    assert_eq!(parsed.dataset[0].value_len, 8 + 8 + 4);
    // Items that do not lead to the delimiter: the byte scan finds it.
    let mut c = part10("1.2.840.10008.1.2.5");
    c.explicit_undefined(tags::PIXEL_DATA, "OB")
        .raw(&[1, 2, 3, 4, 5, 6])
        .marker(SEQUENCE_DELIMITATION_ITEM, 0);
    let parsed = parse_file(&c.0, &defaults()).unwrap();
    assert_eq!(parsed.dataset[0].value_len, 6);
    // No delimiter at all.
    let mut d = part10("1.2.840.10008.1.2.5");
    d.explicit_undefined(tags::PIXEL_DATA, "OB")
        .raw(&[1, 2, 3, 4, 5, 6]);
    let err = parse_file(&d.0, &defaults()).unwrap_err();
    assert!(matches!(err, ParseError::MissingDelimiter { .. }), "{err}");
}

#[test]
fn stop_before_pixels_specific_tags_and_defer_size() {
    let mut b = part10(EXPLICIT_LE);
    b.explicit(tags::SPECIFIC_CHARACTER_SET, "CS", b"ISO_IR 100")
        .explicit(tags::PATIENT_NAME, "PN", b"Doe^J ")
        .explicit(tags::PATIENT_ID, "LO", b"12")
        .explicit(tags::PIXEL_DATA, "OW", &[0; 64])
        .explicit(tags::DATA_SET_TRAILING_PADDING, "OB", &[0, 0]);
    let stop = ReadOptions {
        stop_before_pixels: true,
        ..defaults()
    };
    let parsed = parse_file(&b.0, &stop).unwrap();
    assert_eq!(
        tags_of(&parsed.dataset),
        vec![
            tags::SPECIFIC_CHARACTER_SET,
            tags::PATIENT_NAME,
            tags::PATIENT_ID
        ]
    );

    let specific = ReadOptions {
        specific_tags: Some(vec![tags::PATIENT_ID]),
        ..defaults()
    };
    let parsed = parse_file(&b.0, &specific).unwrap();
    assert_eq!(
        tags_of(&parsed.dataset),
        vec![tags::SPECIFIC_CHARACTER_SET, tags::PATIENT_ID]
    );

    let defer = ReadOptions {
        defer_size: Some(8),
        ..defaults()
    };
    let parsed = parse_file(&b.0, &defer).unwrap();
    let kinds: Vec<_> = parsed.dataset.iter().map(|e| e.kind).collect();
    // The character set is never deferred.
    assert_eq!(
        kinds,
        vec![
            ValueKind::Bytes,
            ValueKind::Bytes,
            ValueKind::Bytes,
            ValueKind::Deferred,
            ValueKind::Bytes
        ]
    );
}

#[test]
fn big_endian_and_sniffed_encodings() {
    let mut b = part10("1.2.840.10008.1.2.2");
    b.tag(tags::ROWS, false)
        .raw(b"US")
        .raw(&2u16.to_be_bytes())
        .raw(&512u16.to_be_bytes());
    let parsed = parse_file(&b.0, &defaults()).unwrap();
    assert_eq!(parsed.encoding, Encoding::EXPLICIT_BE);
    assert_eq!(value_bytes(&b.0, &parsed.dataset[0]), &512u16.to_be_bytes());
}

#[test]
fn encoding_mismatch_is_left_to_pydicom() {
    let mut b = part10(IMPLICIT_LE);
    b.explicit(tags::PATIENT_NAME, "PN", b"Doe^J ");
    let err = parse_file(&b.0, &defaults()).unwrap_err();
    assert!(matches!(err, ParseError::Irregular { .. }), "{err}");
}

#[test]
fn deflated_body_is_inflated() {
    let mut body = Bytes::default();
    body.explicit(tags::PATIENT_NAME, "PN", b"Doe^J ");
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&body.0).unwrap();
    let mut b = part10("1.2.840.10008.1.2.1.99");
    b.raw(&encoder.finish().unwrap());
    let parsed = parse_file(&b.0, &defaults()).unwrap();
    let inflated = parsed.inflated.as_deref().unwrap();
    assert_eq!(value_bytes(inflated, &parsed.dataset[0]), b"Doe^J ");
    // A stream cut short is an error.
    b.0.truncate(b.0.len() - 3);
    assert!(matches!(
        parse_file(&b.0, &defaults()),
        Err(ParseError::Inflate { .. })
    ));
}

#[test]
fn every_prefix_of_a_file_parses_or_errs() {
    let mut b = part10(EXPLICIT_LE);
    b.explicit_undefined(tags::REFERENCED_SERIES_SEQUENCE, "SQ")
        .marker(ITEM, UNDEFINED_LENGTH)
        .explicit(tags::SERIES_INSTANCE_UID, "UI", b"1.2\0")
        .marker(ITEM_DELIMITATION_ITEM, 0)
        .marker(SEQUENCE_DELIMITATION_ITEM, 0)
        .explicit_undefined(tags::PIXEL_DATA, "OB")
        .marker(ITEM, 0)
        .marker(SEQUENCE_DELIMITATION_ITEM, 0);
    for end in 0..=b.0.len() {
        let prefix = &b.0[..end];
        if let Ok(parsed) = parse_file(
            prefix,
            &ReadOptions {
                force: true,
                ..defaults()
            },
        ) {
            for e in parsed.dataset.iter().chain(&parsed.meta) {
                assert!(e.value_offset + e.value_len <= prefix.len());
            }
        }
    }
}

#[test]
fn specific_tags_keep_what_the_full_walk_finds() {
    // Datasets with what the fast skip over unwanted elements must leave to the general
    // walk: long and short VRs, sequences of undefined length, an unknown VR (taken as an
    // implicit switch), pixel data, and every truncation of each.
    let mut explicit = part10(EXPLICIT_LE);
    explicit
        .explicit(tags::SPECIFIC_CHARACTER_SET, "CS", b"ISO_IR 100")
        .explicit(tags::SOP_CLASS_UID, "UI", b"1.2\0")
        .explicit(tags::MODALITY, "CS", b"CT")
        .explicit(0x0009_0010, "UN", b"private\0")
        .explicit(tags::PATIENT_ID, "LO", b"ID")
        .explicit_undefined(tags::OTHER_PATIENT_I_DS_SEQUENCE, "SQ")
        .marker(ITEM, UNDEFINED_LENGTH)
        .explicit(tags::PATIENT_ID, "LO", b"inner\0")
        .marker(ITEM_DELIMITATION_ITEM, 0)
        .marker(SEQUENCE_DELIMITATION_ITEM, 0)
        .explicit(tags::SLICE_THICKNESS, "DS", b"1.5 ")
        .explicit(tags::STUDY_INSTANCE_UID, "UI", b"1.2.3\0")
        .explicit(tags::ROWS, "US", &[0, 2])
        .raw(&[0x28, 0, 0x11, 0, 2, 0, 0, 0, 0, 2]) // no VR: an implicit switch
        .explicit(tags::BITS_ALLOCATED, "US", &[16, 0])
        .explicit(tags::PIXEL_DATA, "OW", &[0; 8])
        .explicit(0x7FE1_0010, "OB", &[0; 4]);
    let mut implicit = part10(IMPLICIT_LE);
    implicit
        .implicit(tags::SPECIFIC_CHARACTER_SET, b"ISO_IR 100")
        .implicit(tags::MODALITY, b"MR")
        .implicit(tags::PATIENT_ID, b"ID")
        .marker(tags::OTHER_PATIENT_I_DS_SEQUENCE, UNDEFINED_LENGTH)
        .marker(ITEM, 8)
        .implicit(tags::PATIENT_ID, b"")
        .marker(SEQUENCE_DELIMITATION_ITEM, 0)
        .implicit(tags::ROWS, &[0, 2])
        .implicit(tags::PIXEL_DATA, &[0; 8]);
    // Tags out of order: what is skipped must still be below the next wanted tag.
    let mut unordered = part10(EXPLICIT_LE);
    unordered
        .explicit(tags::PATIENT_ID, "LO", b"ID")
        .explicit(tags::SPECIFIC_CHARACTER_SET, "CS", b"ISO_IR 100")
        .explicit(tags::BITS_ALLOCATED, "US", &[16, 0])
        .explicit(tags::SOP_CLASS_UID, "UI", b"1.2\0")
        .explicit(0x0009_0010, "UN", b"private\0")
        .explicit(tags::MODALITY, "CS", b"CT");
    let all = [
        tags::SOP_CLASS_UID,
        tags::MODALITY,
        0x0009_0010,
        tags::PATIENT_ID,
        tags::OTHER_PATIENT_I_DS_SEQUENCE,
        tags::SLICE_THICKNESS,
        tags::STUDY_INSTANCE_UID,
        tags::ROWS,
        tags::COLUMNS,
        tags::BITS_ALLOCATED,
        tags::PIXEL_DATA,
        0x7FE1_0010,
    ];
    for file in [&explicit.0, &implicit.0, &unordered.0] {
        for len in 0..=file.len() {
            let buf = &file[..len];
            for mask in 0..(1u32 << all.len()) {
                if mask.count_ones() > 3 {
                    continue;
                }
                let wanted: Vec<u32> = (0..all.len())
                    .filter(|i| mask & 1 << i != 0)
                    .map(|i| all[i])
                    .collect();
                // `specific_tags` in any order, repeats allowed.
                let mut reversed: Vec<u32> = wanted.iter().rev().copied().collect();
                reversed.extend(wanted.first());
                for (given, stop_before_pixels) in [
                    (&wanted, false),
                    (&wanted, true),
                    (&reversed, false),
                    (&reversed, true),
                ] {
                    let full = ReadOptions {
                        stop_before_pixels,
                        ..defaults()
                    };
                    let specific = ReadOptions {
                        specific_tags: Some(given.clone()),
                        ..full.clone()
                    };
                    let (got, want) = (parse_file(buf, &specific), parse_file(buf, &full));
                    let (got, want) = match (got, want) {
                        (Ok(got), Ok(want)) => (got, want),
                        (got, want) => {
                            assert_eq!(got.is_ok(), want.is_ok(), "{len} {wanted:x?}");
                            continue;
                        }
                    };
                    let kept: Vec<u32> = tags_of(&want.dataset)
                        .into_iter()
                        .filter(|t| *t == tags::SPECIFIC_CHARACTER_SET || wanted.contains(t))
                        .collect();
                    assert_eq!(tags_of(&got.dataset), kept, "{len} {wanted:x?}");
                    for element in &got.dataset {
                        let same = want.dataset.iter().find(|e| e.tag == element.tag);
                        assert_eq!(Some(element), same, "{len} {wanted:x?}");
                    }
                }
            }
        }
    }
}

#[test]
fn a_head_gives_the_whole_files_parse_or_none() {
    let pixels = vec![7u8; 300];
    let mut files = Vec::new();
    // Explicit and implicit VR little endian, OW and OB, an odd-length value.
    for (vr, value) in [("OW", &pixels[..]), ("OB", &pixels[..299])] {
        let mut b = part10(EXPLICIT_LE);
        b.explicit(tags::PATIENT_NAME, "PN", b"Doe^J ")
            .explicit(tags::ROWS, "US", &512u16.to_le_bytes())
            .explicit(tags::PIXEL_DATA, vr, value);
        files.push((b.0, true));
    }
    let mut b = part10(IMPLICIT_LE);
    b.implicit(tags::PATIENT_NAME, b"Doe^J ")
        .implicit(tags::PIXEL_DATA, &pixels);
    files.push((b.0, true));
    // Big endian: the pixel data header in the dataset's byte order.
    let mut b = part10("1.2.840.10008.1.2.2");
    b.tag(tags::ROWS, false)
        .raw(b"US")
        .raw(&2u16.to_be_bytes())
        .raw(&512u16.to_be_bytes())
        .tag(tags::PIXEL_DATA, false)
        .raw(b"OW\0\0")
        .raw(&300u32.to_be_bytes())
        .raw(&pixels);
    files.push((b.0, true));
    // Elements after the pixel data (trailing padding, a sequence), walked from the tail.
    let mut b = part10(EXPLICIT_LE);
    b.explicit(tags::PATIENT_NAME, "PN", b"Doe^J ")
        .explicit(tags::PIXEL_DATA, "OW", &pixels)
        .explicit_undefined(tags::DIGITAL_SIGNATURES_SEQUENCE, "SQ")
        .marker(SEQUENCE_DELIMITATION_ITEM, 0)
        .explicit(tags::DATA_SET_TRAILING_PADDING, "OB", &[0, 0]);
    let trailing = b.0.clone();
    files.push((b.0, true));
    // Not from a head: a truncated file, encapsulated data, pixel data first (the whole
    // walk checks it against the transfer syntax), a UN VR.
    let mut b = part10(EXPLICIT_LE);
    b.explicit(tags::PATIENT_NAME, "PN", b"Doe^J ")
        .explicit(tags::PIXEL_DATA, "OW", &pixels);
    b.0.truncate(b.0.len() - 2);
    files.push((b.0, false));
    let mut b = part10(EXPLICIT_LE);
    b.explicit(tags::PATIENT_NAME, "PN", b"Doe^J ")
        .explicit_undefined(tags::PIXEL_DATA, "OB")
        .marker(ITEM, 0)
        .marker(SEQUENCE_DELIMITATION_ITEM, 0);
    files.push((b.0, false));
    let mut b = part10(IMPLICIT_LE);
    b.explicit(tags::PIXEL_DATA, "OB", &pixels);
    files.push((b.0, false));
    let mut b = part10(EXPLICIT_LE);
    b.explicit(tags::PATIENT_NAME, "PN", b"Doe^J ")
        .explicit(tags::PIXEL_DATA, "UN", &pixels);
    files.push((b.0, false));

    for (n, (file, from_head)) in files.iter().enumerate() {
        let whole = parse_file(file, &defaults()).ok();
        let mut found = Vec::new();
        for end in 0..=file.len() {
            let tail = |from: usize| file.get(from..).map(<[u8]>::to_vec);
            if let Some(parsed) = parse_file_from_head(&file[..end], file.len(), &defaults(), tail)
            {
                assert_eq!(Some(&parsed), whole.as_ref(), "file {n}, head {end}");
                found.push(end);
            }
        }
        assert_eq!(!found.is_empty(), *from_head, "file {n}");
        // Found from every head that holds the pixel data's header, none shorter.
        if let (Some(first), Some(whole)) = (found.first(), &whole) {
            let pixels = whole
                .dataset
                .iter()
                .find(|e| e.tag == tags::PIXEL_DATA)
                .unwrap();
            assert_eq!(*first, pixels.value_offset, "file {n}");
            assert_eq!(found.len(), file.len() - first + 1, "file {n}");
        }
    }
    // Without its tail, a file that goes on after its pixel data is not.
    assert_eq!(
        parse_file_from_head(&trailing, trailing.len(), &defaults(), |_| None),
        None
    );
    // Options that keep or defer part of the file are left to the whole walk.
    let (file, _) = &files[0];
    for opts in [
        ReadOptions {
            defer_size: Some(100),
            ..defaults()
        },
        ReadOptions {
            specific_tags: Some(vec![tags::PIXEL_DATA]),
            ..defaults()
        },
    ] {
        assert_eq!(
            parse_file_from_head(file, file.len(), &opts, |_| None),
            None
        );
    }
}

#[test]
fn sequence_delimiter_patterns_are_the_tag_as_written() {
    // (FFFE,E0DD) as a writer puts it on disk: group then element, in each byte order.
    assert_eq!(SEQUENCE_DELIMITER_LE, [0xFE, 0xFF, 0xDD, 0xE0]);
    assert_eq!(SEQUENCE_DELIMITER_BE, [0xFF, 0xFE, 0xE0, 0xDD]);
}

/// An item of `body`, of defined length or ended by an item delimiter.
fn item(body: &[u8], defined: bool) -> Vec<u8> {
    let mut b = Bytes::default();
    if defined {
        b.marker(ITEM, body.len() as u32).raw(body);
    } else {
        b.marker(ITEM, UNDEFINED_LENGTH)
            .raw(body)
            .marker(ITEM_DELIMITATION_ITEM, 0);
    }
    b.0
}

const EXPLICIT_LE_ITEMS: Encoding = Encoding {
    implicit: false,
    little: true,
};

#[test]
fn regular_sequence_items_are_read_with_offsets_within_the_value() {
    let mut first = Bytes::default();
    first
        .explicit(0x0010_0020, "LO", b"ID1 ")
        .explicit(0x0010_0021, "LO", b"");
    let mut second = Bytes::default();
    second.explicit(0x0008_1150, "UI", b"1.2\0");
    let value = [item(&first.0, true), item(&second.0, false)].concat();
    let items = regular_sequence_items(&value, EXPLICIT_LE_ITEMS).expect("regular");
    assert_eq!(items.len(), 2);
    assert_eq!((items[0].offset, items[0].undefined_length), (0, false));
    assert_eq!(items[0].elements[0].value_offset, 8 + 8);
    assert_eq!(items[0].elements[1].length, 0);
    let second_at = 8 + first.0.len();
    assert_eq!(
        (items[1].offset, items[1].undefined_length),
        (second_at, true)
    );
    assert_eq!(items[1].elements[0].tag, 0x0008_1150);
    assert_eq!(regular_sequence_items(&[], EXPLICIT_LE_ITEMS), Some(vec![]));
}

#[test]
fn irregular_sequence_items_are_left_to_pydicom() {
    let mut leaf = Bytes::default();
    leaf.explicit(0x0010_0020, "LO", b"ID1 ");
    let mut nested = Bytes::default();
    nested
        .explicit_undefined(0x0008_1115, "SQ")
        .marker(SEQUENCE_DELIMITATION_ITEM, 0);
    let mut charset = Bytes::default();
    charset.explicit(tags::SPECIFIC_CHARACTER_SET, "CS", b"ISO_IR 100");
    let mut implicit = Bytes::default();
    implicit.implicit(0x0010_0020, b"ID1 ");
    let lying = {
        let mut b = Bytes::default();
        b.marker(ITEM, leaf.0.len() as u32 - 2).raw(&leaf.0);
        b.0
    };
    let delimiter = {
        let mut b = Bytes::default();
        b.marker(SEQUENCE_DELIMITATION_ITEM, 0);
        b.0
    };
    let overrun = item(&leaf.0, true)[..10].to_vec();
    for value in [
        lying,
        delimiter,
        overrun,
        item(&nested.0, true),
        item(&charset.0, true),
        item(&implicit.0, true),
        leaf.0.clone(),
    ] {
        assert_eq!(
            regular_sequence_items(&value, EXPLICIT_LE_ITEMS),
            None,
            "{value:?}"
        );
    }
}

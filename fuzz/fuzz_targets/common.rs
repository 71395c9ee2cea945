// Shared by the fuzz targets (included with `#[path]`, not a target itself).
#![allow(dead_code)] // each target uses only some of these

use dcmfast::parse::{value_bytes, Element, ReadOptions};
use dcmfast::scan::{Plan, TagPath};
use dcmfast::tags;

/// Option sets selected by the bits of `selector` (the first input byte), starting from
/// pydicom's defaults:
/// bit 0 force, bit 1 stop_before_pixels, bit 2 defer_size Some(16),
/// bit 3 specific_tags Some([(0010,0010)]), bit 4 clears infer_sq_for_un_vr,
/// bit 5 clears replace_un_with_known_vr, bit 6 clears assume_implicit_vr_switch.
pub fn options(selector: u8) -> ReadOptions {
    let mut opts = ReadOptions::pydicom_defaults();
    opts.force = selector & 0x01 != 0;
    opts.stop_before_pixels = selector & 0x02 != 0;
    if selector & 0x04 != 0 {
        opts.defer_size = Some(16);
    }
    if selector & 0x08 != 0 {
        opts.specific_tags = Some(vec![tags::PATIENT_NAME]);
    }
    if selector & 0x10 != 0 {
        opts.infer_sq_for_un_vr = false;
    }
    if selector & 0x20 != 0 {
        opts.replace_un_with_known_vr = false;
    }
    if selector & 0x40 != 0 {
        opts.assume_implicit_vr_switch = false;
    }
    opts
}

/// Invariants every element must satisfy against the buffer its offsets refer to.
pub fn check_elements(what: &str, buf: &[u8], elements: &[Element]) {
    for (i, e) in elements.iter().enumerate() {
        let end = e.value_offset.checked_add(e.value_len).unwrap_or_else(|| {
            panic!("{what}[{i}] {e:?}: value_offset + value_len overflows usize")
        });
        assert!(
            end <= buf.len(),
            "{what}[{i}] {e:?}: value ends at {end}, past the buffer's {} bytes",
            buf.len()
        );
        let bytes = value_bytes(buf, e);
        assert_eq!(
            bytes.len(),
            e.value_len,
            "{what}[{i}] {e:?}: value_bytes returned {} bytes",
            bytes.len()
        );
    }
}

/// A scan of top-level, file meta and nested (sequence item) paths, read with `options(selector)`;
/// bit 7 of `selector` reads empty text as None.
pub fn scan_plan(selector: u8) -> Plan {
    let top = |tag| TagPath { items: vec![], tag };
    let paths = vec![
        top(tags::TRANSFER_SYNTAX_UID),
        top(tags::PATIENT_NAME),
        top(tags::ROWS),
        TagPath {
            items: vec![(tags::REFERENCED_SERIES_SEQUENCE, 0)],
            tag: tags::SERIES_INSTANCE_UID,
        },
        TagPath {
            items: vec![
                (tags::REFERENCED_SERIES_SEQUENCE, 1),
                (tags::REFERENCED_IMAGE_SEQUENCE, 0),
            ],
            tag: tags::REFERENCED_SOP_INSTANCE_UID,
        },
    ];
    Plan::new(paths, options(selector), selector & 0x80 != 0)
}

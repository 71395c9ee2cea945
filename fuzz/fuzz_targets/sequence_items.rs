#![no_main]
//! `regular_sequence_items` on any sequence value under all four encodings: what it accepts
//! covers the value exactly (items in order, each starting with an item tag, their elements
//! complete and within the value), and nothing panics.

use dcmfast::parse::{regular_sequence_items, Encoding, ValueKind, UNDEFINED_LENGTH};
use dcmfast::tags::ITEM;
use dcmfast::values::tag_of;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for implicit in [true, false] {
        for little in [true, false] {
            let encoding = Encoding { implicit, little };
            let Some(items) = regular_sequence_items(data, encoding) else {
                continue;
            };
            let mut last = None;
            for item in &items {
                assert!(last.is_none_or(|at| item.offset > at), "items out of order");
                last = Some(item.offset);
                let tag: [u8; 4] = data[item.offset..item.offset + 4].try_into().unwrap();
                assert_eq!(tag_of(tag, little), ITEM);
                for e in &item.elements {
                    assert_eq!(e.kind, ValueKind::Bytes);
                    assert_ne!(e.length, UNDEFINED_LENGTH);
                    assert_eq!(e.value_len, e.length as usize);
                    assert!(e.value_offset > item.offset && e.value_range().end <= data.len());
                }
            }
            assert_eq!(items.is_empty(), data.is_empty(), "a value of no items");
        }
    }
});

#![no_main]
//! The bulk scanner's header walk: top-level, file meta and nested (sequence item) paths,
//! with the option set chosen by the first byte. A result from a prefix of the input (a
//! partial read) must be the one the whole input gives.

use dcmfast::scan::{values_in, Plan, TagPath};
use dcmfast::tags;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fn plan(selector: u8) -> Plan {
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
    Plan::new(paths, common::options(selector), selector & 0x80 != 0)
}

fuzz_target!(|data: &[u8]| {
    let (Some(&selector), Some(&split)) = (data.first(), data.get(1)) else {
        return;
    };
    let plan = plan(selector);
    let whole = values_in(data, &plan, false);
    let cut = data.len() * split as usize / 256;
    if let Ok(Some(partial)) = values_in(&data[..cut], &plan, true) {
        // Compared as text: NaN values are equal there.
        assert_eq!(
            format!("{whole:?}"),
            format!("{:?}", Ok::<_, ()>(Some(partial))),
            "a partial read settled differently"
        );
    }
});

#![no_main]
//! The bulk scanner's header walk: top-level, file meta and nested (sequence item) paths,
//! with the option set chosen by the first byte. A result from a prefix of the input (a
//! partial read) must be the one the whole input gives.

use dcmfast::scan::{values_in, Plan, TagPath};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fn plan(selector: u8) -> Plan {
    let top = |tag| TagPath { items: vec![], tag };
    let paths = vec![
        top(0x0002_0010),
        top(0x0010_0010),
        top(0x0028_0010),
        TagPath {
            items: vec![(0x0008_1115, 0)],
            tag: 0x0020_000E,
        },
        TagPath {
            items: vec![(0x0008_1115, 1), (0x0008_1140, 0)],
            tag: 0x0008_1155,
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

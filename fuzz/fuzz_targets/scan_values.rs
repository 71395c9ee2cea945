#![no_main]
//! The bulk scanner's header walk: top-level, file meta and nested (sequence item) paths,
//! with the option set chosen by the first byte. A result from a prefix of the input (a
//! partial read) must be the one the whole input gives.

use dcmfast::scan::values_in;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (Some(&selector), Some(&split)) = (data.first(), data.get(1)) else {
        return;
    };
    let plan = common::scan_plan(selector);
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

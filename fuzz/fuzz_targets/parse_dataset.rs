#![no_main]
//! `parse_dataset` from offset 0 under all four encodings, with the option set chosen by the
//! first byte.

use dcmfast::parse::{parse_dataset, Encoding};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let selector = data.first().copied().unwrap_or(0);
    let opts = common::options(selector);
    for implicit in [true, false] {
        for little in [true, false] {
            let encoding = Encoding { implicit, little };
            // The stream end is not checked: like pydicom's reader, it may lie past the
            // input after a skipped (specific_tags) or deferred value.
            if let Ok((elements, _end)) = parse_dataset(data, 0, encoding, &opts) {
                common::check_elements("dataset", data, &elements);
            }
        }
    }
});

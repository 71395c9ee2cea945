#![no_main]
//! `parse_file` on arbitrary bytes, under option sets chosen by the first byte (which lies in
//! the preamble of a real Part 10 file, so mutating it does not disturb the structure).

use dcmfast::parse::{parse_file, ReadOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fn run(data: &[u8], opts: &ReadOptions) {
    let Ok(parsed) = parse_file(data, opts) else {
        return;
    };
    // Meta and command offsets always refer to the input.
    common::check_elements("meta", data, &parsed.meta);
    common::check_elements("command", data, &parsed.command);
    // Dataset offsets refer to the inflated body of a deflated file, else to the input.
    let body = parsed.inflated.as_deref().unwrap_or(data);
    common::check_elements("dataset", body, &parsed.dataset);
    // `parsed.end` is not checked: like pydicom's stream position, it may lie past the input
    // after a skipped (specific_tags) or deferred value.
}

fuzz_target!(|data: &[u8]| {
    let selector = data.first().copied().unwrap_or(0);
    // pydicom's defaults, strict and forced, then the combination the selector picks.
    let mut opts = ReadOptions::pydicom_defaults();
    run(data, &opts);
    opts.force = true;
    run(data, &opts);
    run(data, &common::options(selector));
});

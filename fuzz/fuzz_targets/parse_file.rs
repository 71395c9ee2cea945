#![no_main]
//! `parse_file` on arbitrary bytes, under option sets chosen by the first byte (which lies in
//! the preamble of a real Part 10 file, so mutating it does not disturb the structure).
//! Also: whatever `parse_file_from_head` finds from a prefix of the input is what
//! `parse_file` finds from the whole.

use dcmfast::parse::{parse_file, parse_file_from_head, ReadOptions};
use dcmfast::tags;
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

/// `specific_tags` keeps exactly the wanted elements the full walk finds (and the
/// character set), the same elements: the walk skips the others by a shortcut.
fn filtered_is_full(data: &[u8], opts: &ReadOptions, wanted: Vec<u32>) {
    let specific = ReadOptions {
        specific_tags: Some(wanted.clone()),
        ..opts.clone()
    };
    let (Ok(full), Ok(got)) = (parse_file(data, opts), parse_file(data, &specific)) else {
        return;
    };
    let kept: Vec<_> = full
        .dataset
        .iter()
        .filter(|e| e.tag == tags::SPECIFIC_CHARACTER_SET || wanted.contains(&e.tag))
        .collect();
    assert_eq!(got.dataset.iter().collect::<Vec<_>>(), kept, "{wanted:x?}");
}

/// A head that tells gives the whole file's parse: heads of all of `data` but its last
/// 0, 1, 2 and 300 bytes, and of half and three quarters of it.
fn head_is_whole(data: &[u8], opts: &ReadOptions) {
    let whole = parse_file(data, opts).ok();
    let n = data.len();
    for end in [
        n,
        n.saturating_sub(1),
        n.saturating_sub(2),
        n.saturating_sub(300),
        n / 2,
        n / 4 * 3,
    ] {
        let tail = |from: usize| data.get(from..).map(<[u8]>::to_vec);
        if let Some(parsed) = parse_file_from_head(&data[..end], n, opts, tail) {
            assert_eq!(Some(&parsed), whole.as_ref(), "head of {end} bytes");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let selector = data.first().copied().unwrap_or(0);
    // pydicom's defaults, strict and forced, then the combination the selector picks.
    let mut opts = ReadOptions::pydicom_defaults();
    run(data, &opts);
    head_is_whole(data, &opts);
    opts.force = true;
    run(data, &opts);
    head_is_whole(data, &opts);
    let opts = common::options(selector);
    run(data, &opts);
    if opts.specific_tags.is_none() {
        // Wanted tags from the input, in the input's order (the walk sorts them).
        let wanted: Vec<u32> = data
            .get(1..13)
            .unwrap_or_default()
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .chain([tags::PATIENT_NAME, tags::ROWS])
            .collect();
        filtered_is_full(data, &opts, wanted);
    }
});

#![no_main]
//! `read_file` on arbitrary bytes written to a file, down each reading path (short heads,
//! a whole read, a mapping): the walk is the whole input's, every value reads as the input
//! holds it, and once another writer empties the file every header value (but deferred
//! ones, which pydicom reads again from the file) still does.

use dcmfast::parse::{parse_file, Element, ReadOptions, ValueKind};
use dcmfast::read::read_file_with_limits;
use dcmfast::source::BULK_MIN;
use libfuzzer_sys::fuzz_target;
use std::fs::OpenOptions;
use std::path::PathBuf;

#[path = "common.rs"]
mod common;

fn path() -> PathBuf {
    std::env::temp_dir().join(format!("dcmfast-fuzz-read-{}.dcm", std::process::id()))
}

fn check(data: &[u8], opts: &ReadOptions, heads: &[usize], whole_read: u64) {
    let path = path();
    std::fs::write(&path, data).unwrap();
    let read = read_file_with_limits(&path, opts, heads, whole_read).unwrap();
    let (read, whole) = match (read, parse_file(data, opts)) {
        (Ok(read), Ok(whole)) => (read, whole),
        (read, whole) => {
            assert_eq!(read.err(), whole.err(), "errors differ, heads {heads:?}");
            return;
        }
    };
    assert_eq!(read.parsed, whole, "heads {heads:?}");
    if whole.inflated.is_some() {
        return; // the dataset's values are the inflated body's, held apart
    }
    let elements = || {
        whole
            .meta
            .iter()
            .chain(&whole.command)
            .chain(&whole.dataset)
    };
    for e in elements() {
        let end = e.value_offset + e.value_len;
        assert_eq!(
            read.store.get(e.value_offset, end).unwrap(),
            &data[e.value_offset..end]
        );
    }
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    // Deferred values are read again from the file (by pydicom) when asked for.
    let header = |e: &&Element| e.value_len < BULK_MIN && e.kind != ValueKind::Deferred;
    for e in elements().filter(header) {
        let end = e.value_offset + e.value_len;
        let got = read.store.get(e.value_offset, end);
        assert_eq!(got.ok(), Some(&data[e.value_offset..end]), "{:08X}", e.tag);
    }
}

fuzz_target!(|data: &[u8]| {
    let selector = data.first().copied().unwrap_or(0);
    let opts = common::options(selector);
    for (heads, whole_read) in [(&[8 * 1024, 64 * 1024][..], 1 << 20), (&[64, 512], 0)] {
        check(data, &ReadOptions::pydicom_defaults(), heads, whole_read);
        check(data, &opts, heads, whole_read);
    }
});

#![no_main]
//! The one reading logic (`read::settle`) on arbitrary bytes written to a file, through each
//! of its readers and down each reading path (short heads, a whole read, a mapping):
//!
//! - `read_file` (dcmread): the walk is the whole input's, every value reads as the input
//!   holds it, and once another writer empties the file every header value (but deferred
//!   ones, which pydicom reads again from the file) still does;
//! - the bulk scanner: a file's values are those of a walk of the whole input;
//! - the loader: a file described from the whole input is described alike from a short
//!   head (loader_frames reads its frames too).

use dcmfast::loader::PixelFile;
use dcmfast::parse::{parse_file, Element, ReadOptions, ValueKind};
use dcmfast::read::{read_file_with_limits, HeadReads, DATASET_READS};
use dcmfast::scan::{scan_path_with_reads, values_in};
use dcmfast::source::{Source, BULK_MIN};
use libfuzzer_sys::fuzz_target;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

#[path = "common.rs"]
mod common;

/// Heads short enough that small inputs take the paths of large files.
const SHORT: HeadReads<'static> = HeadReads {
    heads: &[64, 512],
    whole_read: 0,
};

fn path() -> PathBuf {
    std::env::temp_dir().join(format!("dcmfast-fuzz-read-{}.dcm", std::process::id()))
}

fn check_dataset(path: &Path, data: &[u8], opts: &ReadOptions, reads: HeadReads) {
    std::fs::write(path, data).unwrap();
    let heads = reads.heads;
    let read = read_file_with_limits(path, opts, reads).unwrap();
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
        .open(path)
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

fn check_scan(path: &Path, data: &[u8], selector: u8) {
    std::fs::write(path, data).unwrap();
    let plan = common::scan_plan(selector);
    let whole = values_in(data, &plan, false);
    for reads in [SHORT, DATASET_READS] {
        let scanned = scan_path_with_reads(path, &plan, reads).map(Some);
        // Compared as text: NaN values are equal there.
        assert_eq!(
            format!("{scanned:?}"),
            format!("{whole:?}"),
            "heads {:?}",
            reads.heads
        );
    }
}

fn check_loader(path: &Path, data: &[u8]) {
    std::fs::write(path, data).unwrap();
    let whole = PixelFile::from_source(Source::Owned(data.to_vec()));
    for head in [64, 512] {
        let opened = PixelFile::open_with_head(path, head);
        let Ok(whole) = &whole else {
            continue; // a head may describe what the whole walk's checks refuse
        };
        let opened = opened.expect("described as a whole");
        assert_eq!(opened.geometry(), whole.geometry(), "head {head}");
        assert_eq!(opened.sample_format(), whole.sample_format(), "head {head}");
        assert_eq!(opened.number_of_frames(), whole.number_of_frames());
    }
}

fuzz_target!(|data: &[u8]| {
    let selector = data.first().copied().unwrap_or(0);
    let opts = common::options(selector);
    let path = path();
    for reads in [DATASET_READS, SHORT] {
        check_dataset(&path, data, &ReadOptions::pydicom_defaults(), reads);
        check_dataset(&path, data, &opts, reads);
    }
    check_scan(&path, data, selector);
    check_loader(&path, data);
});

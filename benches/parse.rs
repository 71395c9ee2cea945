//! Criterion benchmarks of the element walk (Rust internals; the Python-level benchmarks
//! against pydicom are the `benches/*.py` files).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use dcmfast::parse::{parse_file, ReadOptions};
use dcmfast::tags;

/// A Part 10 file shaped like a CT header: `count` short elements in ascending tag order,
/// then 512x512 16-bit pixel data.
fn ct_like_file(count: u32) -> Vec<u8> {
    let mut out = vec![0u8; 128];
    out.extend(b"DICM");
    let element = |out: &mut Vec<u8>, tag: u32, vr: &[u8; 2], value: &[u8]| {
        out.extend(((tag >> 16) as u16).to_le_bytes());
        out.extend((tag as u16).to_le_bytes());
        out.extend(vr);
        if matches!(vr, b"OB" | b"OW") {
            out.extend([0, 0]);
            out.extend((value.len() as u32).to_le_bytes());
        } else {
            out.extend((value.len() as u16).to_le_bytes());
        }
        out.extend(value);
    };
    element(
        &mut out,
        tags::TRANSFER_SYNTAX_UID,
        b"UI",
        b"1.2.840.10008.1.2.1\0",
    );
    for i in 0..count {
        element(&mut out, 0x0008_0000 + 2 * i + 1, b"LO", b"SOME VALUE");
    }
    element(&mut out, tags::PIXEL_DATA, b"OW", &vec![0u8; 512 * 512 * 2]);
    out
}

fn walk(c: &mut Criterion) {
    let file = ct_like_file(256);
    let mut opts = ReadOptions::pydicom_defaults();
    c.bench_function("parse_file 258 elements", |b| {
        b.iter(|| parse_file(black_box(&file), &opts).map(|p| p.dataset.len()))
    });
    opts.stop_before_pixels = true;
    c.bench_function("parse_file 258 elements, stop before pixels", |b| {
        b.iter(|| parse_file(black_box(&file), &opts).map(|p| p.dataset.len()))
    });
}

criterion_group!(benches, walk);
criterion_main!(benches);

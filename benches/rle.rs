//! Criterion benchmarks of the RLE Lossless frame decoders (Rust internals; the
//! Python-level comparisons with pydicom and pylibjpeg-rle are `benches/*rle*.py`).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use dcmfast::pixels::native::{fits_bits_stored, SampleFormat};
use dcmfast::pixels::rle::{decode_frame_as, decode_frames, FrameShape, Layout, SegmentOrder};

const ROWS: usize = 512;
const COLUMNS: usize = 512;

/// A CT-like 16-bit frame: noisy tissue (literal runs in the low byte, replicate runs in
/// the high byte) inside a circular field of view, zero (long replicate runs) outside.
fn ct_like_frame() -> Vec<u16> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        // xorshift64*; the sum of four uniforms is roughly Gaussian.
        (0..4)
            .map(|_| {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 58) as i32
            })
            .sum::<i32>()
            - 126
    };
    let mut pixels = Vec::with_capacity(ROWS * COLUMNS);
    for y in 0..ROWS {
        for x in 0..COLUMNS {
            let (dy, dx) = (y as f64 / 256.0 - 1.0, x as f64 / 256.0 - 1.0);
            let value = if dx * dx + dy * dy < 0.97 * 0.97 {
                (1069 + noise() / 3) as u16
            } else {
                0
            };
            pixels.push(value);
        }
    }
    pixels
}

/// PackBits, row by row as DICOM requires: runs of two or more equal bytes replicate,
/// the rest are literal runs of at most 128.
fn encode_segment(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for row in bytes.chunks(COLUMNS) {
        let mut i = 0;
        while i < row.len() {
            let same = row[i..]
                .iter()
                .take(128)
                .take_while(|&&b| b == row[i])
                .count();
            if same >= 2 {
                out.extend([(257 - same) as u8, row[i]]);
                i += same;
                continue;
            }
            let start = i;
            while i < row.len() && i - start < 128 && !(i + 1 < row.len() && row[i] == row[i + 1]) {
                i += 1;
            }
            out.push((i - start - 1) as u8);
            out.extend(&row[start..i]);
        }
    }
    if out.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// An RLE frame of the 16-bit pixels: the 64-byte header, then the high-byte segment and
/// the low-byte segment.
fn encode_frame(pixels: &[u16]) -> Vec<u8> {
    let high: Vec<u8> = pixels.iter().map(|p| (p >> 8) as u8).collect();
    let low: Vec<u8> = pixels.iter().map(|p| *p as u8).collect();
    let segments = [encode_segment(&high), encode_segment(&low)];
    let mut header = [0u32; 16];
    header[0] = 2;
    header[1] = 64;
    header[2] = 64 + segments[0].len() as u32;
    let mut out: Vec<u8> = header.iter().flat_map(|v| v.to_le_bytes()).collect();
    out.extend(&segments[0]);
    out.extend(&segments[1]);
    out
}

fn decode(c: &mut Criterion) {
    let frame = encode_frame(&ct_like_frame());
    let shape = FrameShape {
        rows: ROWS as u32,
        columns: COLUMNS as u32,
        samples_per_pixel: 1,
        bits_allocated: 16,
    };
    let mut out = vec![0u8; ROWS * COLUMNS * 2];
    let mut group = c.benchmark_group("rle 512x512 16-bit CT-like frame");
    group.throughput(Throughput::Bytes(out.len() as u64));
    for (name, layout) in [
        ("interleaved", Layout::Interleaved),
        ("planar", Layout::Planar),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                decode_frame_as(
                    black_box(&frame),
                    shape,
                    SegmentOrder::Big,
                    layout,
                    &mut out,
                )
                .map(|padding| padding.0.len())
            })
        });
    }
    group.finish();

    // A 100-frame volume into a fresh buffer, as `pixel_array` decodes one: the output's
    // page faults count too.
    let frames = vec![frame.as_slice(); 100];
    let mut group = c.benchmark_group("rle 100 frames, fresh output");
    group.throughput(Throughput::Bytes((out.len() * frames.len()) as u64));
    group.sample_size(20);
    for threads in [1, 2] {
        group.bench_function(format!("{threads} threads"), |b| {
            b.iter(|| {
                let mut out = vec![0u8; ROWS * COLUMNS * 2 * frames.len()];
                decode_frames(
                    &frames,
                    shape,
                    SegmentOrder::Big,
                    Layout::Interleaved,
                    &mut out,
                    threads,
                    &|_| {},
                )
                .map(|results| results.len())
            })
        });
    }
    group.finish();
}

/// The Bits Stored check that decides whether a frame needs pydicom's correction.
fn bits_stored(c: &mut Criterion) {
    let frame: Vec<u8> = ct_like_frame()
        .iter()
        .flat_map(|p| p.to_le_bytes())
        .collect();
    let mut group = c.benchmark_group("fits_bits_stored 512x512 16-bit");
    group.throughput(Throughput::Bytes(frame.len() as u64));
    for signed in [false, true] {
        let format = SampleFormat {
            bytes: 2,
            little: true,
            signed,
        };
        let name = if signed { "signed" } else { "unsigned" };
        group.bench_function(name, |b| {
            b.iter(|| fits_bits_stored(black_box(&frame), format, 12))
        });
    }
    group.finish();
}

criterion_group!(benches, decode, bits_stored);
criterion_main!(benches);

#![no_main]
//! `pixels::rle::decode_frame` on arbitrary bytes, both segment orders, checked against a
//! line-by-line port of pydicom 3.0.2's `_rle_decode_frame` (output bytes, padding warnings,
//! error message); and `decode_frame_as(.., Layout::Interleaved, ..)`, the whole-array path,
//! against the same output transposed to (rows, columns, samples).
//!
//! Input layout: 4 bytes choosing the frame shape, then the RLE frame (64-byte header and
//! segments):
//! - byte 0: rows = byte % 65 (0..=64), byte 1: columns = byte % 65;
//! - byte 2: samples per pixel, 1 when even, 3 when odd;
//! - byte 3 % 16: bits allocated 8 (0-3), 16 (4-7), 24 (8-9), 32 (10-11), 64 (12-13),
//!   12 (14-15, which `frame_len` rejects, so the input is skipped).

use dcmfast::pixels::rle::{
    decode_frame, decode_frame_as, decode_frames, FrameShape, Layout, SegmentOrder,
};
use libfuzzer_sys::fuzz_target;

/// pydicom's `_rle_decode_segment`.
fn py_decode_segment(src: &[u8]) -> Vec<u8> {
    let mut result = Vec::new();
    let mut pos = 0usize;
    while let Some(&byte) = src.get(pos) {
        let header = byte as usize + 1;
        pos += 1;
        if header > 129 {
            // src[pos:pos+1] * (258 - header): nothing when past the end
            if let Some(&value) = src.get(pos) {
                result.extend(std::iter::repeat_n(value, 258 - header));
            }
            pos += 1;
        } else if header < 129 {
            let start = pos.min(src.len());
            let end = (pos + header).min(src.len());
            result.extend_from_slice(&src[start..end]);
            pos += header;
        }
    }
    result
}

/// Python's `src[start:end]` for non-negative indices.
fn py_slice(src: &[u8], start: usize, end: usize) -> &[u8] {
    let end = end.min(src.len());
    &src[start.min(end)..end]
}

type Reference = Result<(Vec<u8>, Vec<String>), (String, Vec<String>)>;

fn padding_message(found: usize, expected: usize) -> String {
    format!(
        "The decoded RLE segment contains non-conformant padding - {found} vs. {expected} \
         bytes expected"
    )
}

/// pydicom's `_rle_decode_frame`: the frame and its warnings, or the error message and the
/// warnings emitted before it.
fn py_decode_frame(src: &[u8], shape: FrameShape, little: bool) -> Reference {
    let bits = shape.bits_allocated as usize;
    if !bits.is_multiple_of(8) {
        let msg = format!("Unable to decode RLE encoded pixel data with {bits} bits allocated");
        return Err((msg, vec![]));
    }
    let header = &src[..src.len().min(64)];
    if header.len() != 64 {
        return Err(("The RLE header can only be 64 bytes long".into(), vec![]));
    }
    let word = |i: usize| u32::from_le_bytes(header[4 * i..4 * i + 4].try_into().unwrap());
    let nr_segments = word(0) as usize;
    if nr_segments > 15 {
        let msg = format!("The RLE header specifies an invalid number of segments ({nr_segments})");
        return Err((msg, vec![]));
    }
    let mut offsets: Vec<usize> = (1..=nr_segments).map(|i| word(i) as usize).collect();
    let bytes_per_sample = bits / 8;
    let samples = shape.samples_per_pixel as usize;
    if nr_segments != samples * bytes_per_sample {
        let msg = format!(
            "The number of RLE segments in the pixel data doesn't match the expected amount \
             ({nr_segments} vs. {} segments)",
            samples * bytes_per_sample
        );
        return Err((msg, vec![]));
    }
    offsets.push(src.len());
    let pixels = shape.rows as usize * shape.columns as usize;
    let mut decoded = vec![0u8; pixels * samples * bytes_per_sample];
    let mut warnings = Vec::new();
    let stride = bytes_per_sample * pixels;
    for sample in 0..samples {
        let order: Vec<usize> = if little {
            (0..bytes_per_sample).collect()
        } else {
            (0..bytes_per_sample).rev().collect()
        };
        for mut byte_offset in order {
            let ii = sample * bytes_per_sample + byte_offset;
            let segment = py_decode_segment(py_slice(src, offsets[ii], offsets[ii + 1]));
            if segment.len() < pixels {
                let msg = format!(
                    "The amount of decoded RLE segment data doesn't match the expected amount \
                     ({} vs. {pixels} bytes)",
                    segment.len()
                );
                return Err((msg, warnings));
            } else if segment.len() != pixels {
                warnings.push(padding_message(segment.len(), pixels));
            }
            if !little {
                byte_offset = bytes_per_sample - byte_offset - 1;
            }
            let start = byte_offset + sample * stride;
            // decoded[start : start + stride : bytes_per_sample] = segment[:pixels]
            for (k, &value) in segment[..pixels].iter().enumerate() {
                decoded[start + k * bytes_per_sample] = value;
            }
        }
    }
    Ok((decoded, warnings))
}

fuzz_target!(|data: &[u8]| {
    let Some((head, src)) = data.split_first_chunk::<4>() else {
        return;
    };
    let shape = FrameShape {
        rows: u32::from(head[0] % 65),
        columns: u32::from(head[1] % 65),
        samples_per_pixel: if head[2] % 2 == 0 { 1 } else { 3 },
        bits_allocated: match head[3] % 16 {
            0..=3 => 8,
            4..=7 => 16,
            8 | 9 => 24,
            10 | 11 => 32,
            12 | 13 => 64,
            _ => 12,
        },
    };
    let Ok(len) = shape.frame_len() else {
        return;
    };
    let mut out = vec![0u8; len];
    let mut interleaved = vec![0u8; len];
    for order in [SegmentOrder::Big, SegmentOrder::Little] {
        out.fill(0);
        interleaved.fill(0);
        let got = decode_frame(src, shape, order, &mut out);
        let got_interleaved =
            decode_frame_as(src, shape, order, Layout::Interleaved, &mut interleaved);
        assert_eq!(
            got.as_ref().map_err(|e| &e.0),
            got_interleaved.as_ref().map_err(|e| &e.0),
            "{shape:?} {order:?}: layouts disagree on the outcome"
        );
        if got.is_ok() {
            // planar (sample, pixel, byte) -> interleaved (pixel, sample, byte)
            let bytes = shape.bits_allocated as usize / 8;
            let samples = shape.samples_per_pixel as usize;
            let pixels = shape.rows as usize * shape.columns as usize;
            for s in 0..samples {
                for p in 0..pixels {
                    for b in 0..bytes {
                        assert_eq!(
                            interleaved[(p * samples + s) * bytes + b],
                            out[(s * pixels + p) * bytes + b],
                            "{shape:?} {order:?}: interleaved output differs"
                        );
                    }
                }
            }
        }
        // Several frames at once, on threads (in runs of frames): each as decoded alone. The
        // frame count comes from the shape byte's spare bits; every other frame is cut short.
        let count = 1 + usize::from(head[2] / 2 % 6);
        let short = &src[..src.len() / 2];
        let frames: Vec<&[u8]> = (0..count)
            .map(|k| if k % 2 == 1 { short } else { src })
            .collect();
        let mut all = vec![0u8; len * count];
        let results = decode_frames(
            &frames,
            shape,
            order,
            Layout::Interleaved,
            &mut all,
            2,
            &|_| {},
        )
        .expect("the shape's frame length was accepted");
        for (k, (frame, result)) in frames.iter().zip(&results).enumerate() {
            let mut alone = vec![0u8; len];
            let want = decode_frame_as(frame, shape, order, Layout::Interleaved, &mut alone);
            assert_eq!(
                result.as_ref().map_err(|e| &e.0),
                want.as_ref().map_err(|e| &e.0),
                "{shape:?} {order:?}: frame {k} of {count}"
            );
            if want.is_ok() && len > 0 {
                assert!(
                    all[k * len..(k + 1) * len] == alone[..],
                    "{shape:?} {order:?}: frame {k}"
                );
            }
        }
        let want = py_decode_frame(src, shape, order == SegmentOrder::Little);
        match (got, want) {
            (Ok(padding), Ok((frame, warnings))) => {
                assert!(
                    out == frame,
                    "{shape:?} {order:?}: output differs from pydicom's"
                );
                let messages: Vec<String> = padding.messages().collect();
                assert_eq!(messages, warnings, "{shape:?} {order:?}: warnings");
            }
            (Err((err, padding)), Err((message, warnings))) => {
                assert_eq!(err.to_string(), message, "{shape:?} {order:?}: error");
                let messages: Vec<String> = padding.messages().collect();
                assert_eq!(
                    messages, warnings,
                    "{shape:?} {order:?}: warnings before error"
                );
            }
            (got, want) => panic!(
                "{shape:?} {order:?}: dcmfast {:?}, pydicom {:?}",
                got.map(|p| p.0),
                want.map(|(_, w)| w)
            ),
        }
    }
});

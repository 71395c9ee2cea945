#![no_main]
//! `pixels::encapsulated::frame_ranges` on arbitrary bytes: never panics, and every range
//! it returns lies within the input, one per frame.
//!
//! Input layout: byte 0 = number of frames (0..=255), byte 1 bit 0 = little endian, bit 1 =
//! use an extended offset table made of the next 2 x frames x 2 bytes; the rest is the
//! encapsulated value.

use dcmfast::pixels::encapsulated::frame_ranges;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&[frames, flags], rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let frames = frames as usize;
    let little = flags & 1 == 1;
    let (extended, value) = if flags & 2 == 2 && rest.len() >= 4 * frames {
        let (table, value) = rest.split_at(4 * frames);
        let word = |c: &[u8]| u64::from(u16::from_le_bytes([c[0], c[1]]));
        let offsets: Vec<u64> = table[..2 * frames].chunks_exact(2).map(word).collect();
        let lengths: Vec<u64> = table[2 * frames..].chunks_exact(2).map(word).collect();
        (Some((offsets, lengths)), value)
    } else {
        (None, rest)
    };
    let tables = extended.as_ref().map(|(o, l)| (o.as_slice(), l.as_slice()));
    if let Some(ranges) = frame_ranges(value, little, frames, tables) {
        assert_eq!(ranges.len(), frames);
        for range in ranges {
            assert!(range.start <= range.end && range.end <= value.len());
        }
    }
});

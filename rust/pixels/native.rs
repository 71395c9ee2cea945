//! Native (uncompressed) pixel data: whether pydicom's Bits Stored correction would change
//! any value, so an array can stay a view of the file when it would not.
//!
//! pydicom corrects pixel data whose Bits Stored is less than Bits Allocated with
//! `arr <<= BA - BS; arr >>= BA - BS` (sign extension for signed data, masking for unsigned).
//! That is a no-op exactly when every value already fits in Bits Stored bits: unsigned values
//! below `2^BS`, signed values whose bits above bit `BS - 1` all equal the sign bit.

use super::parallel::map_queued;

/// How one sample is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleFormat {
    /// Bytes per sample: 1, 2, 4 or 8.
    pub bytes: usize,
    /// Little endian byte order.
    pub little: bool,
    /// Two's complement signed (Pixel Representation 1).
    pub signed: bool,
}

/// True when every whole sample in `data` already holds what pydicom's Bits Stored
/// correction would leave there, i.e. the correction is a no-op. `bits_stored` must be at
/// least 1; values of `bits_stored` at or above the sample width always fit. Trailing bytes
/// that make no whole sample are ignored (pydicom's arrays never include them).
pub fn fits_bits_stored(data: &[u8], format: SampleFormat, bits_stored: u32) -> bool {
    let bits = 8 * format.bytes as u32;
    if bits_stored == 0 || bits_stored >= bits {
        return true;
    }
    // Bits that must be clear in every value (after flipping negatives when signed): all
    // above bit BS - 1 when signed (they must copy the sign bit), above BS - 1 otherwise.
    let keep = if format.signed {
        bits_stored - 1
    } else {
        bits_stored
    };
    // One loop per byte order and signedness, so each is branch-free and vectorizes.
    macro_rules! check {
        ($ty:ty, $n:expr, $little:expr, $signed:expr) => {{
            let mut acc: $ty = 0;
            for chunk in data.chunks_exact($n) {
                let raw: [u8; $n] = chunk.try_into().expect("chunk of the sample width");
                let v = if $little {
                    <$ty>::from_le_bytes(raw)
                } else {
                    <$ty>::from_be_bytes(raw)
                };
                // For signed data, flip negative values so sign-extended ones have their
                // high bits clear too.
                acc |= if $signed {
                    v ^ ((v >> ($n * 8 - 1)).wrapping_neg())
                } else {
                    v
                };
            }
            acc >> keep == 0
        }};
        ($ty:ty, $n:expr) => {
            match (format.little, format.signed) {
                (true, false) => check!($ty, $n, true, false),
                (true, true) => check!($ty, $n, true, true),
                (false, false) => check!($ty, $n, false, false),
                (false, true) => check!($ty, $n, false, true),
            }
        };
    }
    match format.bytes {
        1 => check!(u8, 1),
        2 => check!(u16, 2),
        4 => check!(u32, 4),
        8 => check!(u64, 8),
        _ => false,
    }
}

/// `fits_bits_stored` on up to `threads` threads, for large data (a whole multi-frame
/// array): the threads take sample-aligned parts of a few MiB in turn.
pub fn fits_bits_stored_parallel(
    data: &[u8],
    format: SampleFormat,
    bits_stored: u32,
    threads: usize,
) -> bool {
    const PART: usize = 4 << 20;
    if threads <= 1 || data.len() <= PART {
        return fits_bits_stored(data, format, bits_stored);
    }
    // PART is a multiple of every sample size, so parts hold whole samples.
    let parts: Vec<&[u8]> = data.chunks(PART).collect();
    map_queued(parts, threads, |part| {
        fits_bits_stored(part, format, bits_stored)
    })
    .into_iter()
    .all(|fits| fits)
}

/// Apply pydicom's Bits Stored correction to every whole sample of `data` in place:
/// `v = (v << (bits - BS)) >> (bits - BS)` in the sample's type (arithmetic shift when
/// signed), as numpy's `left_shift`/`right_shift` compute it. Samples are read and written
/// in the data's byte order.
pub fn correct_bits_stored(data: &mut [u8], format: SampleFormat, bits_stored: u32) {
    let bits = 8 * format.bytes as u32;
    if bits_stored == 0 || bits_stored >= bits {
        return;
    }
    let shift = bits - bits_stored;
    macro_rules! correct {
        ($u:ty, $i:ty, $n:expr) => {{
            for chunk in data.chunks_exact_mut($n) {
                let raw: [u8; $n] = (&*chunk).try_into().expect("chunk of the sample width");
                let v = if format.little {
                    <$u>::from_le_bytes(raw)
                } else {
                    <$u>::from_be_bytes(raw)
                };
                let v = if format.signed {
                    (((v as $i) << shift) >> shift) as $u
                } else {
                    (v << shift) >> shift
                };
                chunk.copy_from_slice(&if format.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                });
            }
        }};
    }
    match format.bytes {
        1 => correct!(u8, i8, 1),
        2 => correct!(u16, i16, 2),
        4 => correct!(u32, i32, 4),
        8 => correct!(u64, i64, 8),
        _ => {}
    }
}

/// Check, then correct only if needed: true when something changed.
pub fn fix_bits_stored(data: &mut [u8], format: SampleFormat, bits_stored: u32) -> bool {
    if fits_bits_stored(data, format, bits_stored) {
        return false;
    }
    correct_bits_stored(data, format, bits_stored);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(bytes: usize, little: bool, signed: bool) -> SampleFormat {
        SampleFormat {
            bytes,
            little,
            signed,
        }
    }

    /// pydicom's correction, value by value, for 16-bit samples.
    fn corrected(v: u16, shift: u32, signed: bool) -> u16 {
        if signed {
            (((v as i16) << shift) >> shift) as u16
        } else {
            (v << shift) >> shift
        }
    }

    #[test]
    fn agrees_with_the_shift_for_every_16_bit_value() {
        for bits_stored in 1..=16u32 {
            for signed in [false, true] {
                for v in (0..=u16::MAX).step_by(7).chain([0x7FFF, 0x8000, 0xFFFF]) {
                    let want = corrected(v, 16 - bits_stored, signed) == v;
                    for little in [true, false] {
                        let bytes = if little {
                            v.to_le_bytes()
                        } else {
                            v.to_be_bytes()
                        };
                        let got = fits_bits_stored(&bytes, format(2, little, signed), bits_stored);
                        assert_eq!(got, want, "v={v:#x} bs={bits_stored} signed={signed}");
                    }
                }
            }
        }
    }

    #[test]
    fn correction_is_the_shift() {
        for bits_stored in 1..=16u32 {
            for signed in [false, true] {
                for little in [true, false] {
                    let values: Vec<u16> = (0..=u16::MAX).step_by(13).collect();
                    let mut data: Vec<u8> = values
                        .iter()
                        .flat_map(|v| {
                            if little {
                                v.to_le_bytes()
                            } else {
                                v.to_be_bytes()
                            }
                        })
                        .collect();
                    fix_bits_stored(&mut data, format(2, little, signed), bits_stored);
                    for (chunk, &v) in data.chunks_exact(2).zip(&values) {
                        let got = if little {
                            u16::from_le_bytes([chunk[0], chunk[1]])
                        } else {
                            u16::from_be_bytes([chunk[0], chunk[1]])
                        };
                        assert_eq!(got, corrected(v, 16 - bits_stored, signed));
                    }
                }
            }
        }
        let mut data = (-3i64 << 40).to_le_bytes().to_vec();
        fix_bits_stored(&mut data, format(8, true, true), 20);
        assert_eq!(
            i64::from_le_bytes(data.try_into().unwrap()),
            ((-3i64 << 40) << 44) >> 44
        );
    }

    #[test]
    fn parallel_check_agrees() {
        let mut data = vec![0u8; 9 << 20];
        let f = format(2, true, false);
        assert!(fits_bits_stored_parallel(&data, f, 12, 4));
        let last = data.len() - 1;
        data[last] = 0x10; // the very last sample's high byte
        assert!(!fits_bits_stored_parallel(&data, f, 12, 4));
        assert!(fits_bits_stored_parallel(&data, f, 13, 3));
    }

    #[test]
    fn other_widths_and_partial_samples() {
        assert!(fits_bits_stored(
            &[0x3F, 0xFF, 0xC0],
            format(1, true, true),
            7
        ));
        assert!(!fits_bits_stored(&[0x40], format(1, true, true), 7));
        assert!(!fits_bits_stored(&[0x80], format(1, true, false), 7));
        let v = (-5i32).to_le_bytes();
        assert!(fits_bits_stored(&v, format(4, true, true), 4));
        assert!(!fits_bits_stored(&v, format(4, true, false), 31));
        let v = (1u64 << 40).to_be_bytes();
        assert!(!fits_bits_stored(&v, format(8, false, false), 40));
        assert!(fits_bits_stored(&v, format(8, false, false), 41));
        // A trailing odd byte is not a sample.
        assert!(fits_bits_stored(&[1, 0, 0xFF], format(2, true, false), 12));
    }
}

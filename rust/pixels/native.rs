//! Native (uncompressed) pixel data: when pydicom's pipeline would do no more than reshape it
//! and correct its unused bits (`native_layout`, the one statement of that rule), and
//! whether pydicom's Bits Stored correction would change any value, so an array can stay a
//! view of the file when it would not.
//!
//! pydicom corrects pixel data whose Bits Stored is less than Bits Allocated with
//! `arr <<= BA - BS; arr >>= BA - BS` (sign extension for signed data, masking for unsigned).
//! That is a no-op exactly when every value already fits in Bits Stored bits: unsigned values
//! below `2^BS`, signed values whose bits above bit `BS - 1` all equal the sign bit.

use super::parallel::map_queued;
use std::fmt;

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

/// The values the layout of native pixel data is decided from: the Image Pixel attributes
/// as the caller read them (None where absent or not a plain value), the transfer syntax's
/// byte order, and the Pixel Data element.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NativeAttributes<'a> {
    pub rows: Option<u32>,
    pub columns: Option<u32>,
    pub samples_per_pixel: Option<u32>,
    pub bits_allocated: Option<u32>,
    pub bits_stored: Option<u32>,
    pub pixel_representation: Option<u32>,
    pub photometric_interpretation: Option<&'a str>,
    /// Consulted only for colour-by-pixel data (3 samples, RGB).
    pub planar_configuration: Option<u32>,
    /// 1 when the element is absent, as pydicom reads it.
    pub number_of_frames: Option<u64>,
    /// The transfer syntax is little endian.
    pub little_endian: bool,
    /// The Pixel Data VR as the file states it (None when implicit).
    pub pixel_vr: Option<&'a str>,
    /// Bytes in the Pixel Data value.
    pub pixel_length: usize,
}

/// How plain native pixel data becomes pydicom's array: `number_of_frames` frames of
/// `frame_len` bytes from the value's start, samples stored as `format`, shaped
/// (frames, rows, columns[, samples]) from samples stored by pixel or, `planar`, by plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeLayout {
    pub rows: u32,
    pub columns: u32,
    pub samples_per_pixel: u32,
    /// Colour-by-plane data (Planar Configuration 1).
    pub planar: bool,
    /// The samples as stored: Bits Allocated / 8 bytes, the transfer syntax's byte order.
    pub format: SampleFormat,
    pub bits_stored: u32,
    pub number_of_frames: usize,
    /// Bytes in one frame.
    pub frame_len: usize,
}

impl NativeLayout {
    /// Bits Allocated.
    pub fn bits_allocated(&self) -> u32 {
        8 * self.format.bytes as u32
    }

    /// True when Bits Stored is less than Bits Allocated: pydicom then corrects the unused
    /// bits of every sample (see `fits_bits_stored`).
    pub fn has_unused_bits(&self) -> bool {
        self.bits_stored < self.bits_allocated()
    }
}

/// Why native pixel data is not plain: pydicom's pipeline decides what it means (it warns,
/// raises, swaps or converts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotPlain {
    /// A required attribute is absent or not a plain value (its name).
    Missing(&'static str),
    /// Rows, Columns, Bits Allocated or Bits Stored out of what pydicom accepts.
    ImagePixelValues,
    /// Pixel Representation neither 0 nor 1.
    PixelRepresentation,
    /// A photometric interpretation pydicom converts (YBR), or samples per pixel that go
    /// with none of the plain ones.
    Photometric,
    /// Colour-by-pixel data without a Planar Configuration of 0 or 1.
    PlanarConfiguration,
    /// Number of Frames below 1 (pydicom warns and reads 1 for 0).
    NumberOfFrames,
    /// A frame or the data overflows the address space.
    TooLarge,
    /// The value is not the expected length (one pad byte allowed): pydicom warns or raises.
    Length,
    /// Big endian 8-bit data in an OW value: pydicom swaps its bytes pairwise.
    SwappedOw,
}

impl fmt::Display for NotPlain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotPlain::Missing(what) => return write!(f, "no plain {what}"),
            NotPlain::ImagePixelValues => "Image Pixel values pydicom rejects",
            NotPlain::PixelRepresentation => "Pixel Representation is not 0 or 1",
            NotPlain::Photometric => "a photometric interpretation pydicom converts",
            NotPlain::PlanarConfiguration => "no plain Planar Configuration",
            NotPlain::NumberOfFrames => "Number of Frames is not a plain positive value",
            NotPlain::TooLarge => "pixel data too large",
            NotPlain::Length => "Pixel Data length is not the expected length",
            NotPlain::SwappedOw => "big endian 8-bit OW data (pydicom swaps it)",
        })
    }
}

impl std::error::Error for NotPlain {}

/// The layout of native pixel data pydicom's pipeline, with default options, would only
/// reshape and correct the unused bits of: every Image Pixel value present and one pydicom
/// accepts silently, no colour conversion (monochrome, palette or RGB data), no byte
/// swapping, and a value of exactly the expected length (one pad byte allowed). Anything
/// else is `NotPlain`, for pydicom's pipeline.
pub fn native_layout(a: &NativeAttributes<'_>) -> Result<NativeLayout, NotPlain> {
    let required = |value: Option<u32>, what| value.ok_or(NotPlain::Missing(what));
    let rows = required(a.rows, "Rows")?;
    let columns = required(a.columns, "Columns")?;
    let samples_per_pixel = required(a.samples_per_pixel, "Samples per Pixel")?;
    let bits_allocated = required(a.bits_allocated, "Bits Allocated")?;
    let bits_stored = required(a.bits_stored, "Bits Stored")?;
    let signed = match required(a.pixel_representation, "Pixel Representation")? {
        0 => false,
        1 => true,
        _ => return Err(NotPlain::PixelRepresentation),
    };
    if !(1..65536).contains(&rows)
        || !(1..65536).contains(&columns)
        || ![8, 16, 32, 64].contains(&bits_allocated)
        || !(1..=bits_allocated).contains(&bits_stored)
    {
        return Err(NotPlain::ImagePixelValues);
    }
    let photometric = a
        .photometric_interpretation
        .ok_or(NotPlain::Missing("Photometric Interpretation"))?;
    let planar = match (samples_per_pixel, photometric) {
        (1, "MONOCHROME1" | "MONOCHROME2" | "PALETTE COLOR" | "RGB") => false,
        (3, "RGB") => match a.planar_configuration {
            Some(0) => false,
            Some(1) => true,
            _ => return Err(NotPlain::PlanarConfiguration),
        },
        _ => return Err(NotPlain::Photometric),
    };
    let number_of_frames = match a.number_of_frames {
        Some(n) if n >= 1 => usize::try_from(n).map_err(|_| NotPlain::TooLarge)?,
        _ => return Err(NotPlain::NumberOfFrames),
    };
    let format = SampleFormat {
        bytes: bits_allocated as usize / 8,
        little: a.little_endian,
        signed,
    };
    let frame_len = (rows as usize)
        .checked_mul(columns as usize)
        .and_then(|n| n.checked_mul(samples_per_pixel as usize))
        .and_then(|n| n.checked_mul(format.bytes))
        .ok_or(NotPlain::TooLarge)?;
    let expected = frame_len
        .checked_mul(number_of_frames)
        .ok_or(NotPlain::TooLarge)?;
    let padded = expected.checked_add(expected % 2);
    if a.pixel_length != expected && Some(a.pixel_length) != padded {
        return Err(NotPlain::Length);
    }
    if !a.little_endian && bits_allocated == 8 && a.pixel_vr == Some("OW") {
        return Err(NotPlain::SwappedOw);
    }
    Ok(NativeLayout {
        rows,
        columns,
        samples_per_pixel,
        planar,
        format,
        bits_stored,
        number_of_frames,
        frame_len,
    })
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

    /// A plain 2-frame 16-bit monochrome image of 3 x 4 pixels, little endian.
    fn plain() -> NativeAttributes<'static> {
        NativeAttributes {
            rows: Some(3),
            columns: Some(4),
            samples_per_pixel: Some(1),
            bits_allocated: Some(16),
            bits_stored: Some(12),
            pixel_representation: Some(1),
            photometric_interpretation: Some("MONOCHROME2"),
            planar_configuration: None,
            number_of_frames: Some(2),
            little_endian: true,
            pixel_vr: Some("OW"),
            pixel_length: 2 * 3 * 4 * 2,
        }
    }

    #[test]
    fn plain_layout() {
        let layout = native_layout(&plain()).unwrap();
        assert_eq!(
            layout,
            NativeLayout {
                rows: 3,
                columns: 4,
                samples_per_pixel: 1,
                planar: false,
                format: format(2, true, true),
                bits_stored: 12,
                number_of_frames: 2,
                frame_len: 24,
            }
        );
        assert_eq!(layout.bits_allocated(), 16);
        assert!(layout.has_unused_bits());
        let full = NativeAttributes {
            bits_stored: Some(16),
            pixel_representation: Some(0),
            little_endian: false,
            ..plain()
        };
        let layout = native_layout(&full).unwrap();
        assert!(!layout.has_unused_bits());
        assert_eq!(layout.format, format(2, false, false));
    }

    #[test]
    fn every_attribute_is_required() {
        let p = plain();
        let cases = [
            (NativeAttributes { rows: None, ..p }, "Rows"),
            (NativeAttributes { columns: None, ..p }, "Columns"),
            (
                NativeAttributes {
                    samples_per_pixel: None,
                    ..p
                },
                "Samples per Pixel",
            ),
            (
                NativeAttributes {
                    bits_allocated: None,
                    ..p
                },
                "Bits Allocated",
            ),
            (
                NativeAttributes {
                    bits_stored: None,
                    ..p
                },
                "Bits Stored",
            ),
            (
                NativeAttributes {
                    pixel_representation: None,
                    ..p
                },
                "Pixel Representation",
            ),
            (
                NativeAttributes {
                    photometric_interpretation: None,
                    ..p
                },
                "Photometric Interpretation",
            ),
        ];
        for (a, what) in cases {
            assert_eq!(native_layout(&a), Err(NotPlain::Missing(what)));
        }
        // Absent means one frame; the caller says so. None is a value that is not plain.
        let frames = NativeAttributes {
            number_of_frames: None,
            ..p
        };
        assert_eq!(native_layout(&frames), Err(NotPlain::NumberOfFrames));
    }

    #[test]
    fn values_pydicom_rejects_or_reads_its_own_way() {
        let rejected = NotPlain::ImagePixelValues;
        let cases = [
            (
                NativeAttributes {
                    rows: Some(0),
                    ..plain()
                },
                rejected,
            ),
            (
                NativeAttributes {
                    columns: Some(65536),
                    ..plain()
                },
                rejected,
            ),
            (
                NativeAttributes {
                    bits_allocated: Some(12),
                    ..plain()
                },
                rejected,
            ),
            (
                NativeAttributes {
                    bits_allocated: Some(1),
                    ..plain()
                },
                rejected,
            ),
            (
                NativeAttributes {
                    bits_stored: Some(0),
                    ..plain()
                },
                rejected,
            ),
            (
                NativeAttributes {
                    bits_stored: Some(17),
                    ..plain()
                },
                rejected,
            ),
            (
                NativeAttributes {
                    pixel_representation: Some(2),
                    ..plain()
                },
                NotPlain::PixelRepresentation,
            ),
            (
                NativeAttributes {
                    number_of_frames: Some(0),
                    ..plain()
                },
                NotPlain::NumberOfFrames,
            ),
            (
                NativeAttributes {
                    photometric_interpretation: Some("YBR_FULL"),
                    ..plain()
                },
                NotPlain::Photometric,
            ),
            (
                NativeAttributes {
                    samples_per_pixel: Some(3),
                    ..plain()
                },
                NotPlain::Photometric,
            ),
            (
                NativeAttributes {
                    samples_per_pixel: Some(2),
                    ..plain()
                },
                NotPlain::Photometric,
            ),
        ];
        for (a, want) in cases {
            assert_eq!(native_layout(&a), Err(want), "{a:?}");
        }
    }

    #[test]
    fn colour_by_pixel_or_by_plane() {
        let rgb = NativeAttributes {
            samples_per_pixel: Some(3),
            photometric_interpretation: Some("RGB"),
            bits_allocated: Some(8),
            bits_stored: Some(8),
            number_of_frames: Some(1),
            pixel_length: 3 * 4 * 3,
            ..plain()
        };
        for (planar, want) in [(Some(0), Ok(false)), (Some(1), Ok(true))] {
            let a = NativeAttributes {
                planar_configuration: planar,
                ..rgb
            };
            assert_eq!(native_layout(&a).map(|l| l.planar), want);
        }
        for planar in [None, Some(2)] {
            let a = NativeAttributes {
                planar_configuration: planar,
                ..rgb
            };
            assert_eq!(native_layout(&a), Err(NotPlain::PlanarConfiguration));
        }
        // One sample labelled RGB: pydicom neither converts nor rejects it.
        let grey = NativeAttributes {
            photometric_interpretation: Some("RGB"),
            ..plain()
        };
        assert!(native_layout(&grey).is_ok_and(|l| !l.planar));
        for photometric in ["MONOCHROME1", "PALETTE COLOR"] {
            let a = NativeAttributes {
                photometric_interpretation: Some(photometric),
                ..plain()
            };
            assert!(native_layout(&a).is_ok());
        }
    }

    #[test]
    fn length_with_one_pad_byte() {
        // 3 x 3 x 8 bits: 9 bytes, odd, so a pad byte makes 10.
        let odd = NativeAttributes {
            columns: Some(3),
            bits_allocated: Some(8),
            bits_stored: Some(8),
            number_of_frames: Some(1),
            pixel_vr: Some("OB"),
            ..plain()
        };
        for (len, ok) in [(9, true), (10, true), (8, false), (11, false)] {
            let a = NativeAttributes {
                pixel_length: len,
                ..odd
            };
            assert_eq!(native_layout(&a).is_ok(), ok, "{len}");
        }
        let even = plain();
        for len in [even.pixel_length - 1, even.pixel_length + 1] {
            let a = NativeAttributes {
                pixel_length: len,
                ..even
            };
            assert_eq!(native_layout(&a), Err(NotPlain::Length));
        }
        let huge = NativeAttributes {
            number_of_frames: Some(u64::MAX),
            ..plain()
        };
        assert_eq!(native_layout(&huge), Err(NotPlain::TooLarge));
    }

    #[test]
    fn big_endian_8_bit_ow_is_swapped() {
        let bytes = NativeAttributes {
            bits_allocated: Some(8),
            bits_stored: Some(8),
            pixel_length: 2 * 3 * 4,
            ..plain()
        };
        let big = NativeAttributes {
            little_endian: false,
            ..bytes
        };
        assert!(native_layout(&bytes).is_ok());
        assert_eq!(native_layout(&big), Err(NotPlain::SwappedOw));
        for vr in [Some("OB"), None] {
            let a = NativeAttributes {
                pixel_vr: vr,
                ..big
            };
            assert!(native_layout(&a).is_ok());
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

//! The Image Pixel rule: when pydicom's pipeline, with default options, does no more to pixel
//! data than reshape it and correct its unused bits. Every Image Pixel value must be present
//! and one pydicom accepts without a warning, the data monochrome, palette or RGB (nothing
//! to convert), and native data of exactly the expected length (one pad byte allowed) with
//! nothing to swap. Anything else is `NotPlain`: pydicom's pipeline decides what it means
//! (it warns, raises, swaps or converts).
//!
//! One statement of the rule for its two users: the pixel path for datasets (through the
//! binding, with values from a pydicom dataset) and the batch loader (with values read from
//! the file's bytes).

use super::native::SampleFormat;
use crate::vr::Vr;
use std::fmt;

/// The Image Pixel attribute values as the caller read them: None where absent or not a
/// plain value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImagePixel<'a> {
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
}

/// How pydicom lays out the frames of plain Image Pixel values: (frames, rows, columns[,
/// samples]) arrays of `frame_len` bytes a frame, from samples stored by pixel or, `planar`,
/// by plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLayout {
    pub rows: u32,
    pub columns: u32,
    pub samples_per_pixel: u32,
    /// Colour-by-plane data (Planar Configuration 1).
    pub planar: bool,
    /// 8, 16, 32 or 64.
    pub bits_allocated: u32,
    /// 1 to `bits_allocated`.
    pub bits_stored: u32,
    /// Two's complement samples (Pixel Representation 1).
    pub signed: bool,
    pub number_of_frames: usize,
    /// Bytes in one frame.
    pub frame_len: usize,
}

impl FrameLayout {
    /// True when Bits Stored is less than Bits Allocated: pydicom then corrects the unused
    /// bits of every sample (see `native::fits_bits_stored`).
    pub fn has_unused_bits(&self) -> bool {
        self.bits_stored < self.bits_allocated
    }

    /// The samples' format in byte order `little`.
    pub fn sample_format(&self, little: bool) -> SampleFormat {
        SampleFormat {
            bytes: self.bits_allocated as usize / 8,
            little,
            signed: self.signed,
        }
    }

    /// The native half of the rule: `value` holds exactly these frames (one pad byte
    /// allowed), in bytes pydicom does not swap.
    pub fn check_native(&self, value: &NativeValue) -> Result<(), NotPlain> {
        let expected = self
            .frame_len
            .checked_mul(self.number_of_frames)
            .ok_or(NotPlain::DataTooLarge)?;
        let padded = expected.checked_add(expected % 2);
        if value.length != expected && Some(value.length) != padded {
            return Err(NotPlain::Length);
        }
        if !value.little_endian && self.bits_allocated == 8 && value.vr == Some(Vr::OW) {
            return Err(NotPlain::SwappedOw);
        }
        Ok(())
    }
}

/// A native Pixel Data value: the transfer syntax's byte order, the VR as the file states it
/// (None when implicit), and its length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeValue {
    pub little_endian: bool,
    pub vr: Option<Vr>,
    pub length: usize,
}

/// Plain native pixel data: its frames' layout, and its samples as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeLayout {
    pub frames: FrameLayout,
    pub format: SampleFormat,
}

/// Why pixel data is not plain: pydicom's pipeline decides what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotPlain {
    /// A required attribute is absent or not a plain value (its name).
    Missing(&'static str),
    /// Pixel Representation neither 0 nor 1.
    PixelRepresentation,
    /// Rows, Columns, Bits Allocated or Bits Stored out of what pydicom accepts.
    ImagePixelValues,
    /// A photometric interpretation pydicom converts (YBR), or samples per pixel that go
    /// with none of the plain ones.
    Photometric,
    /// Colour-by-pixel data without a Planar Configuration of 0 or 1.
    PlanarConfiguration,
    /// Number of Frames below 1 (pydicom warns and reads 1 for 0).
    NumberOfFrames,
    /// One frame's bytes overflow.
    FrameTooLarge,
    /// All frames' bytes overflow.
    DataTooLarge,
    /// The value is not the expected length (one pad byte allowed): pydicom warns or raises.
    Length,
    /// Big endian 8-bit data in an OW value: pydicom swaps its bytes pairwise.
    SwappedOw,
}

impl fmt::Display for NotPlain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotPlain::Missing(what) => return write!(f, "no plain {what}"),
            NotPlain::PixelRepresentation => "Pixel Representation is not 0 or 1",
            NotPlain::ImagePixelValues => "Image Pixel values pydicom rejects",
            NotPlain::Photometric => "a photometric interpretation pydicom converts",
            NotPlain::PlanarConfiguration => "no plain Planar Configuration",
            NotPlain::NumberOfFrames => "Number of Frames is not a plain positive value",
            NotPlain::FrameTooLarge => "frame too large",
            NotPlain::DataTooLarge => "pixel data too large",
            NotPlain::Length => "Pixel Data length is not the expected length",
            NotPlain::SwappedOw => "big endian 8-bit OW data (pydicom swaps it)",
        })
    }
}

impl std::error::Error for NotPlain {}

/// The frame layout of plain Image Pixel values, native or encapsulated alike.
pub fn frame_layout(image: &ImagePixel<'_>) -> Result<FrameLayout, NotPlain> {
    let required = |value: Option<u32>, what| value.ok_or(NotPlain::Missing(what));
    let rows = required(image.rows, "Rows")?;
    let columns = required(image.columns, "Columns")?;
    let samples_per_pixel = required(image.samples_per_pixel, "Samples per Pixel")?;
    let bits_allocated = required(image.bits_allocated, "Bits Allocated")?;
    let bits_stored = required(image.bits_stored, "Bits Stored")?;
    let signed = match required(image.pixel_representation, "Pixel Representation")? {
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
    let photometric = image
        .photometric_interpretation
        .ok_or(NotPlain::Missing("Photometric Interpretation"))?;
    let planar = match (samples_per_pixel, photometric) {
        // One sample labelled RGB: pydicom neither converts nor rejects it.
        (1, "MONOCHROME1" | "MONOCHROME2" | "PALETTE COLOR" | "RGB") => false,
        (3, "RGB") => match image.planar_configuration {
            Some(0) => false,
            Some(1) => true,
            _ => return Err(NotPlain::PlanarConfiguration),
        },
        // pydicom converts YBR data to RGB, or rejects the combination
        _ => return Err(NotPlain::Photometric),
    };
    let number_of_frames = match image.number_of_frames {
        Some(n) if n >= 1 => usize::try_from(n).map_err(|_| NotPlain::DataTooLarge)?,
        _ => return Err(NotPlain::NumberOfFrames),
    };
    let frame_len = (rows as usize)
        .checked_mul(columns as usize)
        .and_then(|n| n.checked_mul(samples_per_pixel as usize))
        .and_then(|n| n.checked_mul(bits_allocated as usize / 8))
        .ok_or(NotPlain::FrameTooLarge)?;
    Ok(FrameLayout {
        rows,
        columns,
        samples_per_pixel,
        planar,
        bits_allocated,
        bits_stored,
        signed,
        number_of_frames,
        frame_len,
    })
}

/// The layout of plain native pixel data: `frame_layout`, then
/// `FrameLayout::check_native`.
pub fn native_layout(
    image: &ImagePixel<'_>,
    value: &NativeValue,
) -> Result<NativeLayout, NotPlain> {
    let frames = frame_layout(image)?;
    frames.check_native(value)?;
    Ok(NativeLayout {
        frames,
        format: frames.sample_format(value.little_endian),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain 2-frame 16-bit monochrome image of 3 x 4 pixels.
    fn plain() -> ImagePixel<'static> {
        ImagePixel {
            rows: Some(3),
            columns: Some(4),
            samples_per_pixel: Some(1),
            bits_allocated: Some(16),
            bits_stored: Some(12),
            pixel_representation: Some(1),
            photometric_interpretation: Some("MONOCHROME2"),
            planar_configuration: None,
            number_of_frames: Some(2),
        }
    }

    /// Its value, little endian.
    fn value() -> NativeValue {
        NativeValue {
            little_endian: true,
            vr: Some(Vr::OW),
            length: 2 * 3 * 4 * 2,
        }
    }

    #[test]
    fn plain_layout() {
        let layout = native_layout(&plain(), &value()).unwrap();
        let frames = FrameLayout {
            rows: 3,
            columns: 4,
            samples_per_pixel: 1,
            planar: false,
            bits_allocated: 16,
            bits_stored: 12,
            signed: true,
            number_of_frames: 2,
            frame_len: 24,
        };
        assert_eq!(frame_layout(&plain()), Ok(frames));
        let format = SampleFormat {
            bytes: 2,
            little: true,
            signed: true,
        };
        assert_eq!(layout, NativeLayout { frames, format });
        // The loader's order: the attributes first, the value once its kind is known.
        assert_eq!(frames.check_native(&value()), Ok(()));
        assert!(frames.has_unused_bits());
        let full = ImagePixel {
            bits_stored: Some(16),
            pixel_representation: Some(0),
            ..plain()
        };
        let big = NativeValue {
            little_endian: false,
            ..value()
        };
        let layout = native_layout(&full, &big).unwrap();
        assert!(!layout.frames.has_unused_bits());
        assert_eq!((layout.format.little, layout.format.signed), (false, false));
    }

    #[test]
    fn every_attribute_is_required() {
        let p = plain();
        let cases = [
            (ImagePixel { rows: None, ..p }, "Rows"),
            (ImagePixel { columns: None, ..p }, "Columns"),
            (
                ImagePixel {
                    samples_per_pixel: None,
                    ..p
                },
                "Samples per Pixel",
            ),
            (
                ImagePixel {
                    bits_allocated: None,
                    ..p
                },
                "Bits Allocated",
            ),
            (
                ImagePixel {
                    bits_stored: None,
                    ..p
                },
                "Bits Stored",
            ),
            (
                ImagePixel {
                    pixel_representation: None,
                    ..p
                },
                "Pixel Representation",
            ),
            (
                ImagePixel {
                    photometric_interpretation: None,
                    ..p
                },
                "Photometric Interpretation",
            ),
        ];
        for (image, what) in cases {
            assert_eq!(frame_layout(&image), Err(NotPlain::Missing(what)));
        }
        // Absent means one frame, which the caller says; None is a value that is not plain.
        let frames = ImagePixel {
            number_of_frames: None,
            ..p
        };
        assert_eq!(frame_layout(&frames), Err(NotPlain::NumberOfFrames));
    }

    #[test]
    fn values_pydicom_rejects_or_reads_its_own_way() {
        let p = plain();
        let rejected = NotPlain::ImagePixelValues;
        let cases = [
            (ImagePixel { rows: Some(0), ..p }, rejected),
            (
                ImagePixel {
                    columns: Some(65536),
                    ..p
                },
                rejected,
            ),
            (
                ImagePixel {
                    bits_allocated: Some(12),
                    ..p
                },
                rejected,
            ),
            (
                ImagePixel {
                    bits_allocated: Some(1),
                    ..p
                },
                rejected,
            ),
            (
                ImagePixel {
                    bits_stored: Some(0),
                    ..p
                },
                rejected,
            ),
            (
                ImagePixel {
                    bits_stored: Some(17),
                    ..p
                },
                rejected,
            ),
            (
                ImagePixel {
                    pixel_representation: Some(2),
                    ..p
                },
                NotPlain::PixelRepresentation,
            ),
            (
                ImagePixel {
                    number_of_frames: Some(0),
                    ..p
                },
                NotPlain::NumberOfFrames,
            ),
            (
                ImagePixel {
                    photometric_interpretation: Some("YBR_FULL"),
                    ..p
                },
                NotPlain::Photometric,
            ),
            (
                ImagePixel {
                    samples_per_pixel: Some(3),
                    ..p
                },
                NotPlain::Photometric,
            ),
            (
                ImagePixel {
                    samples_per_pixel: Some(2),
                    ..p
                },
                NotPlain::Photometric,
            ),
        ];
        for (image, want) in cases {
            assert_eq!(frame_layout(&image), Err(want), "{image:?}");
        }
    }

    #[test]
    fn colour_by_pixel_or_by_plane() {
        let rgb = ImagePixel {
            samples_per_pixel: Some(3),
            photometric_interpretation: Some("RGB"),
            ..plain()
        };
        for (planar, want) in [(Some(0), Ok(false)), (Some(1), Ok(true))] {
            let image = ImagePixel {
                planar_configuration: planar,
                ..rgb
            };
            assert_eq!(frame_layout(&image).map(|l| l.planar), want);
        }
        for planar in [None, Some(2)] {
            let image = ImagePixel {
                planar_configuration: planar,
                ..rgb
            };
            assert_eq!(frame_layout(&image), Err(NotPlain::PlanarConfiguration));
        }
        for photometric in ["MONOCHROME1", "PALETTE COLOR", "RGB"] {
            let image = ImagePixel {
                photometric_interpretation: Some(photometric),
                ..plain()
            };
            assert!(
                frame_layout(&image).is_ok_and(|l| !l.planar),
                "{photometric}"
            );
        }
    }

    #[test]
    fn length_with_one_pad_byte() {
        // 3 x 3 x 8 bits: 9 bytes, odd, so a pad byte makes 10.
        let odd = ImagePixel {
            columns: Some(3),
            bits_allocated: Some(8),
            bits_stored: Some(8),
            number_of_frames: Some(1),
            ..plain()
        };
        for (length, ok) in [(9, true), (10, true), (8, false), (11, false)] {
            let value = NativeValue { length, ..value() };
            assert_eq!(native_layout(&odd, &value).is_ok(), ok, "{length}");
        }
        let even = value().length;
        for length in [even - 1, even + 1] {
            let value = NativeValue { length, ..value() };
            assert_eq!(native_layout(&plain(), &value), Err(NotPlain::Length));
        }
        let frames = ImagePixel {
            number_of_frames: Some(u64::MAX),
            ..plain()
        };
        assert_eq!(
            native_layout(&frames, &value()),
            Err(NotPlain::DataTooLarge)
        );
    }

    #[test]
    fn big_endian_8_bit_ow_is_swapped() {
        let bytes = ImagePixel {
            bits_allocated: Some(8),
            bits_stored: Some(8),
            ..plain()
        };
        let little = NativeValue {
            length: 2 * 3 * 4,
            ..value()
        };
        let big = NativeValue {
            little_endian: false,
            ..little
        };
        assert!(native_layout(&bytes, &little).is_ok());
        assert_eq!(native_layout(&bytes, &big), Err(NotPlain::SwappedOw));
        for vr in [Some(Vr::OB), None] {
            let value = NativeValue { vr, ..big };
            assert!(native_layout(&bytes, &value).is_ok());
        }
    }
}

//! The dataset's attributes as the loader reads them: a value pydicom reads plainly, absent,
//! or unusual (left to pydicom); and the Image Pixel module they make up.

use super::fallback::Fallback;
use super::FrameGeometry;
use crate::charset::Charset;
use crate::parse::{self, Element, ValueKind};
use crate::tags::{
    BITS_ALLOCATED, BITS_STORED, COLUMNS, NUMBER_OF_FRAMES, PHOTOMETRIC_INTERPRETATION,
    PIXEL_REPRESENTATION, PLANAR_CONFIGURATION, ROWS, SAMPLES_PER_PIXEL,
};
use crate::values::{self, Value};
use crate::vr::Vr;

/// An attribute as read from the dataset.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Attr<T> {
    Absent,
    Value(T),
    /// Present but not plain: pydicom decides what it means.
    Unusual,
}

impl<T> Attr<T> {
    pub(super) fn required(self, what: &'static str) -> Result<T, Fallback> {
        match self {
            Attr::Value(v) => Ok(v),
            Attr::Absent => Err(Fallback::Missing(what)),
            Attr::Unusual => Err(Fallback::NotPlain(what)),
        }
    }
}

/// The dataset's top-level elements and the bytes they point into.
pub(super) struct Dataset<'a> {
    pub(super) buf: &'a [u8],
    pub(super) elements: &'a [Element],
}

impl<'a> Dataset<'a> {
    pub(super) fn find(&self, tag: u32) -> Option<&'a Element> {
        self.elements.iter().find(|e| e.tag == tag)
    }

    /// The value of `tag` decoded as `vr` (the VR it must have, or implicit) in the byte
    /// order `little`: Absent, or Unusual for any other VR, a deferred or sequence value, or
    /// one pydicom warns about or corrects.
    fn value(&self, tag: u32, vr: Vr, little: bool) -> Attr<Value<'a>> {
        let Some(e) = self.find(tag) else {
            return Attr::Absent;
        };
        if e.kind != ValueKind::Bytes || e.vr.is_some_and(|v| v != vr) {
            return Attr::Unusual;
        }
        // The loader reads no text decoded with the character set.
        match values::decode(vr, parse::value_bytes(self.buf, e), little, Charset::Other) {
            Some(value) => Attr::Value(value),
            None => Attr::Unusual,
        }
    }

    /// One US value.
    pub(super) fn us(&self, tag: u32, little: bool) -> Attr<u32> {
        match self.value(tag, Vr::US, little) {
            Attr::Value(Value::Unsigned(items)) => match items[..] {
                [v] => Attr::Value(v as u32),
                _ => Attr::Unusual,
            },
            Attr::Absent => Attr::Absent,
            _ => Attr::Unusual,
        }
    }

    /// One IS value, as pydicom reads it without a warning.
    pub(super) fn is(&self, tag: u32) -> Attr<i64> {
        // (Text: the byte order does not matter.)
        match self.value(tag, Vr::IS, true) {
            Attr::Value(Value::IntegerStrings(items)) => match items[..] {
                [(v, _)] => Attr::Value(v),
                _ => Attr::Unusual,
            },
            Attr::Absent => Attr::Absent,
            _ => Attr::Unusual,
        }
    }

    /// DS values, as pydicom reads them without a warning.
    pub(super) fn ds(&self, tag: u32) -> Attr<Vec<f64>> {
        match self.value(tag, Vr::DS, true) {
            Attr::Value(Value::DecimalStrings(items)) => {
                Attr::Value(items.into_iter().map(|(v, _)| v).collect())
            }
            Attr::Absent => Attr::Absent,
            _ => Attr::Unusual,
        }
    }

    /// One CS value (pydicom strips its trailing padding).
    pub(super) fn cs(&self, tag: u32) -> Attr<String> {
        match self.value(tag, Vr::CS, true) {
            Attr::Value(Value::Strings(items)) => match &items[..] {
                [one] if !one.is_empty() => Attr::Value(one.to_string()),
                _ => Attr::Unusual,
            },
            Attr::Absent => Attr::Absent,
            _ => Attr::Unusual,
        }
    }
}

/// The Image Pixel attributes of a file whose frames pydicom decodes without colour
/// conversion, as read from its dataset.
#[derive(Debug, Clone)]
pub(super) struct ImagePixel {
    pub(super) geometry: FrameGeometry,
    pub(super) bits_allocated: u32,
    pub(super) bits_stored: u32,
    pub(super) signed: bool,
    /// MONOCHROME1 or MONOCHROME2 (windowing applies).
    pub(super) monochrome: bool,
    /// Native colour-by-plane data (Planar Configuration 1).
    pub(super) planar: bool,
    pub(super) number_of_frames: usize,
    /// Bytes of one frame.
    pub(super) frame_len: usize,
}

impl ImagePixel {
    /// The attributes of `dataset` (in the byte order `little`), or why pydicom must decode
    /// its frames: a value absent or not plain, or a layout pydicom converts or rejects.
    pub(super) fn read(dataset: &Dataset<'_>, little: bool) -> Result<ImagePixel, Fallback> {
        let us = |tag, what| dataset.us(tag, little).required(what);
        let geometry = FrameGeometry {
            rows: us(ROWS, "Rows")?,
            columns: us(COLUMNS, "Columns")?,
            samples_per_pixel: us(SAMPLES_PER_PIXEL, "Samples per Pixel")?,
        };
        let bits_allocated = us(BITS_ALLOCATED, "Bits Allocated")?;
        let bits_stored = us(BITS_STORED, "Bits Stored")?;
        let signed = match us(PIXEL_REPRESENTATION, "Pixel Representation")? {
            0 => false,
            1 => true,
            _ => return Err(Fallback::Unsupported("Pixel Representation is not 0 or 1")),
        };
        if geometry.rows == 0
            || geometry.columns == 0
            || ![8, 16, 32, 64].contains(&bits_allocated)
            || !(1..=bits_allocated).contains(&bits_stored)
        {
            return Err(Fallback::Unsupported("Image Pixel values pydicom rejects"));
        }
        let photometric = dataset
            .cs(PHOTOMETRIC_INTERPRETATION)
            .required("Photometric Interpretation")?;
        let monochrome = matches!(photometric.as_str(), "MONOCHROME1" | "MONOCHROME2");
        let planar = match (geometry.samples_per_pixel, photometric.as_str()) {
            (1, "MONOCHROME1" | "MONOCHROME2" | "PALETTE COLOR") => false,
            (3, "RGB") => match dataset.us(PLANAR_CONFIGURATION, little) {
                Attr::Value(0) => false,
                Attr::Value(1) => true,
                _ => return Err(Fallback::Unsupported("no plain Planar Configuration")),
            },
            // pydicom converts YBR data to RGB, or rejects the combination
            _ => {
                return Err(Fallback::Unsupported(
                    "a photometric interpretation pydicom converts",
                ))
            }
        };
        let number_of_frames = match dataset.is(NUMBER_OF_FRAMES) {
            Attr::Absent => 1,
            Attr::Value(n) if n >= 1 => n as usize,
            _ => {
                return Err(Fallback::Unsupported(
                    "Number of Frames is not a plain positive value",
                ))
            }
        };
        let frame_len = geometry
            .samples()
            .and_then(|samples| samples.checked_mul(bits_allocated as usize / 8))
            .ok_or(Fallback::Unsupported("frame too large"))?;
        Ok(ImagePixel {
            geometry,
            bits_allocated,
            bits_stored,
            signed,
            monochrome,
            planar,
            number_of_frames,
            frame_len,
        })
    }
}

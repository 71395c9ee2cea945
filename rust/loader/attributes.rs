//! The dataset's attributes as the loader reads them: a value pydicom reads plainly, absent,
//! or unusual (left to pydicom); and the Image Pixel module they make up.

use super::fallback::Fallback;
use super::FrameGeometry;
use crate::charset::Charset;
use crate::parse::{self, Element, ValueKind};
use crate::pixels::layout::{self, FrameLayout};
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
    /// The value, when there is a plain one.
    pub(super) fn plain(self) -> Option<T> {
        match self {
            Attr::Value(v) => Some(v),
            Attr::Absent | Attr::Unusual => None,
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
/// conversion: their layout, by the one rule `pixels::layout` keeps.
#[derive(Debug, Clone)]
pub(super) struct ImageLayout {
    pub(super) layout: FrameLayout,
    /// MONOCHROME1 or MONOCHROME2 (windowing applies).
    pub(super) monochrome: bool,
}

impl ImageLayout {
    /// The attributes of `dataset` (in the byte order `little`), or why pydicom must decode
    /// its frames: a value absent or not plain, or a layout pydicom converts or rejects.
    pub(super) fn read(dataset: &Dataset<'_>, little: bool) -> Result<ImageLayout, Fallback> {
        let us = |tag| dataset.us(tag, little).plain();
        let photometric = dataset.cs(PHOTOMETRIC_INTERPRETATION).plain();
        let number_of_frames = match dataset.is(NUMBER_OF_FRAMES) {
            Attr::Absent => Some(1),
            Attr::Value(n) => u64::try_from(n).ok(),
            Attr::Unusual => None,
        };
        let attributes = layout::ImagePixel {
            rows: us(ROWS),
            columns: us(COLUMNS),
            samples_per_pixel: us(SAMPLES_PER_PIXEL),
            bits_allocated: us(BITS_ALLOCATED),
            bits_stored: us(BITS_STORED),
            pixel_representation: us(PIXEL_REPRESENTATION),
            photometric_interpretation: photometric.as_deref(),
            planar_configuration: us(PLANAR_CONFIGURATION),
            number_of_frames,
        };
        let layout = layout::frame_layout(&attributes).map_err(Fallback::Layout)?;
        let monochrome = matches!(photometric.as_deref(), Some("MONOCHROME1" | "MONOCHROME2"));
        Ok(ImageLayout { layout, monochrome })
    }

    /// Rows, columns and samples per pixel.
    pub(super) fn geometry(&self) -> FrameGeometry {
        FrameGeometry {
            rows: self.layout.rows,
            columns: self.layout.columns,
            samples_per_pixel: self.layout.samples_per_pixel,
        }
    }
}

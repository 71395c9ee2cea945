//! What the loader applies to float32 frames: pydicom's modality and VOI LUT functions, as
//! far as they are per-sample arithmetic on plain rescale and window values.

use super::attributes::{Attr, Dataset};
use super::fallback::Fallback;
use crate::pixels::lut::{Rescale, Transform, VoiFunction, Window};
use crate::tags::{
    MODALITY_LUT_SEQUENCE, RESCALE_INTERCEPT, RESCALE_SLOPE, VOILUT_FUNCTION, VOILUT_SEQUENCE,
    WINDOW_CENTER, WINDOW_WIDTH,
};

/// What to apply to frames converted to float32: pydicom's `apply_modality_lut(arr, ds)`
/// and/or `apply_voi_lut(arr, ds, index=voi_index)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Processing {
    pub modality_lut: bool,
    pub voi_lut: bool,
    pub voi_index: usize,
}

/// The rescale and VOI attributes of a dataset, as read.
#[derive(Debug, Clone)]
pub(super) struct LutAttributes {
    rescale: Attr<Rescale>,
    modality_lut_sequence: bool,
    voi_lut_sequence: bool,
    centers: Attr<Vec<f64>>,
    widths: Attr<Vec<f64>>,
    function: Attr<VoiFunction>,
    monochrome: bool,
}

impl LutAttributes {
    /// The rescale and VOI attributes of `dataset`; `monochrome` as its Photometric
    /// Interpretation says.
    pub(super) fn read(dataset: &Dataset<'_>, monochrome: bool) -> LutAttributes {
        LutAttributes {
            rescale: match (dataset.ds(RESCALE_SLOPE), dataset.ds(RESCALE_INTERCEPT)) {
                (Attr::Value(s), Attr::Value(i)) if s.len() == 1 && i.len() == 1 => {
                    Attr::Value(Rescale {
                        slope: s[0],
                        intercept: i[0],
                    })
                }
                (Attr::Value(_), Attr::Value(_)) | (Attr::Unusual, _) | (_, Attr::Unusual) => {
                    Attr::Unusual
                }
                // Only one of them: neither pydicom function uses it.
                _ => Attr::Absent,
            },
            modality_lut_sequence: dataset.find(MODALITY_LUT_SEQUENCE).is_some(),
            voi_lut_sequence: dataset.find(VOILUT_SEQUENCE).is_some(),
            centers: dataset.ds(WINDOW_CENTER),
            widths: dataset.ds(WINDOW_WIDTH),
            function: match dataset.cs(VOILUT_FUNCTION) {
                Attr::Absent => Attr::Absent,
                Attr::Value(name) if name.is_ascii() => {
                    VoiFunction::from_upper(&name.to_ascii_uppercase())
                        .map_or(Attr::Unusual, Attr::Value)
                }
                _ => Attr::Unusual,
            },
            monochrome,
        }
    }

    /// The per-sample arithmetic `processing` amounts to for this dataset, or why pydicom
    /// must do it (a lookup table, a value pydicom raises on or reads unusually).
    pub(super) fn transform(
        &self,
        processing: Processing,
        bits_stored: u32,
        signed: bool,
    ) -> Result<Transform, Fallback> {
        let l = self;
        if l.modality_lut_sequence {
            return Err(Fallback::Unsupported("Modality LUT Sequence"));
        }
        let rescale = match l.rescale {
            Attr::Absent => None,
            Attr::Value(r) => Some(r),
            Attr::Unusual => {
                return Err(Fallback::Unsupported("Rescale Slope/Intercept not plain"))
            }
        };
        let mut transform = Transform {
            rescale: rescale.filter(|_| processing.modality_lut),
            window: None,
        };
        if !processing.voi_lut {
            return Ok(transform);
        }
        if l.voi_lut_sequence {
            return Err(Fallback::Unsupported("VOI LUT Sequence"));
        }
        let (centers, widths) = match (&l.centers, &l.widths) {
            (Attr::Value(c), Attr::Value(w)) => (c, w),
            (Attr::Unusual, _) | (_, Attr::Unusual) => {
                return Err(Fallback::Unsupported("Window Center/Width not plain"))
            }
            _ => return Ok(transform), // no windowing: the array is returned as it is
        };
        if !l.monochrome {
            return Err(Fallback::Unsupported(
                "windowing of data that is not monochrome (pydicom raises)",
            ));
        }
        // pydicom: `elem.value[index] if elem.VM > 1 else elem.value`
        let pick = |values: &Vec<f64>| match values.len() {
            1 => Some(values[0]),
            _ => values.get(processing.voi_index).copied(),
        };
        let (Some(center), Some(width)) = (pick(centers), pick(widths)) else {
            return Err(Fallback::Unsupported(
                "window index beyond the values (pydicom raises)",
            ));
        };
        let function = match l.function {
            Attr::Absent => VoiFunction::Linear,
            Attr::Value(f) => f,
            Attr::Unusual => return Err(Fallback::Unsupported("VOI LUT Function not supported")),
        };
        let window = Window::new(function, center, width, bits_stored, signed, rescale)
            .ok_or(Fallback::Unsupported("a window width pydicom raises on"))?;
        transform.window = Some(window);
        Ok(transform)
    }
}

//! pydicom 3.0.2's `apply_modality_lut` (rescale) and `apply_voi_lut` (windowing), one sample
//! at a time, in the float64 arithmetic numpy performs, then cast to float32 as
//! `.astype(np.float32)` does, so the results are the same to the bit.
//!
//! Only the arithmetic lives here; which attributes apply (and when pydicom would raise or use
//! a lookup table instead) is decided by the caller from the dataset.

use super::native::SampleFormat;

/// Rescale Slope and Intercept, applied as `arr.astype(np.float64) * slope` then
/// `arr += intercept` (two roundings; never fused).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rescale {
    pub slope: f64,
    pub intercept: f64,
}

/// VOI LUT Function (0028,1056), as pydicom compares it after `.upper()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiFunction {
    Linear,
    LinearExact,
    Sigmoid,
}

impl VoiFunction {
    /// The function an upper-cased (0028,1056) value names, None for any other value (pydicom
    /// raises for those).
    pub fn from_upper(name: &str) -> Option<VoiFunction> {
        match name {
            "LINEAR" => Some(VoiFunction::Linear),
            "LINEAR_EXACT" => Some(VoiFunction::LinearExact),
            "SIGMOID" => Some(VoiFunction::Sigmoid),
            _ => None,
        }
    }
}

/// pydicom's `apply_windowing` with its parameters worked out once per dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    function: VoiFunction,
    /// Window center and width after LINEAR's adjustment (`center -= 0.5; width -= 1`).
    center: f64,
    width: f64,
    /// Values at or below this take `y_min`; above `above`, `y_max` (LINEAR, LINEAR_EXACT).
    below: f64,
    above: f64,
    y_min: f64,
    y_max: f64,
    y_range: f64,
}

impl Window {
    /// The window for `center` and `width` (already picked from multi-valued attributes) over
    /// pixel data of `bits_stored` bits, signed or not, whose dataset has `rescale` (pydicom
    /// uses it for the output range whether or not the rescale itself was applied). None
    /// where pydicom raises: a LINEAR width below 1, a LINEAR_EXACT or SIGMOID width not
    /// above 0, or a Bits Stored outside 1..=64.
    pub fn new(
        function: VoiFunction,
        center: f64,
        width: f64,
        bits_stored: u32,
        signed: bool,
        rescale: Option<Rescale>,
    ) -> Option<Window> {
        if !(1..=64).contains(&bits_stored) {
            return None;
        }
        // pydicom's y_min, y_max are Python ints until a rescale makes them floats; the
        // range is then taken in integers and converted once (numpy's `* y_range`).
        let (lo, hi): (i128, i128) = if signed {
            (-(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1)
        } else {
            (0, (1 << bits_stored) - 1)
        };
        let (y_min, y_max, y_range) = match rescale {
            Some(r) => {
                let y_min = lo as f64 * r.slope + r.intercept;
                let y_max = hi as f64 * r.slope + r.intercept;
                (y_min, y_max, y_max - y_min)
            }
            None => (lo as f64, hi as f64, (hi - lo) as f64),
        };
        let (center, width) = match function {
            VoiFunction::Linear if width < 1.0 => return None,
            VoiFunction::Linear => (center - 0.5, width - 1.0),
            _ if width <= 0.0 => return None,
            _ => (center, width),
        };
        Some(Window {
            function,
            center,
            width,
            below: center - width / 2.0,
            above: center + width / 2.0,
            y_min,
            y_max,
            y_range,
        })
    }

    /// One value through the window, as numpy computes it element by element.
    #[inline]
    pub fn apply(&self, x: f64) -> f64 {
        match self.function {
            VoiFunction::Linear | VoiFunction::LinearExact => {
                if x <= self.below {
                    self.y_min
                } else if x > self.above {
                    self.y_max
                } else {
                    ((x - self.center) / self.width + 0.5) * self.y_range + self.y_min
                }
            }
            // y_range / (1 + np.exp(-4 * (arr - center) / width)) + y_min
            VoiFunction::Sigmoid => {
                self.y_range / (1.0 + (-4.0 * (x - self.center) / self.width).exp()) + self.y_min
            }
        }
    }
}

/// What is applied to each sample: a rescale, then a window, each optional.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Transform {
    pub rescale: Option<Rescale>,
    pub window: Option<Window>,
}

/// Integer samples as numpy converts them: to float64 for arithmetic, straight to float32
/// when nothing is applied (one rounding, as `astype(np.float32)` of the integer array).
trait Sample: Copy {
    fn to_f64(self) -> f64;
    fn to_f32(self) -> f32;
}

macro_rules! sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn to_f32(self) -> f32 {
                self as f32
            }
        }
    )*};
}
sample!(u8, i8, u16, i16, u32, i32, u64, i64);

fn apply_all<S: Sample>(values: impl Iterator<Item = S>, out: &mut [f32], t: &Transform) {
    let pairs = out.iter_mut().zip(values);
    match (t.rescale, t.window) {
        (None, None) => pairs.for_each(|(o, v)| *o = v.to_f32()),
        (Some(r), None) => pairs.for_each(|(o, v)| {
            let x = v.to_f64() * r.slope;
            *o = (x + r.intercept) as f32;
        }),
        (None, Some(w)) => pairs.for_each(|(o, v)| *o = w.apply(v.to_f64()) as f32),
        (Some(r), Some(w)) => pairs.for_each(|(o, v)| {
            let x = v.to_f64() * r.slope;
            *o = w.apply(x + r.intercept) as f32;
        }),
    }
}

/// Convert the whole samples of `data` (stored as `format`) into `out`, one float32 per
/// sample: pydicom's Bits Stored correction (`arr <<= BA - BS; arr >>= BA - BS`, where Bits
/// Stored is below the sample width), then `transform`, then `astype(np.float32)`. `out`
/// takes as many values as both hold.
pub fn samples_to_f32(
    data: &[u8],
    format: SampleFormat,
    bits_stored: u32,
    transform: &Transform,
    out: &mut [f32],
) {
    let width = 8 * format.bytes as u32;
    let shift = if bits_stored == 0 || bits_stored >= width {
        0
    } else {
        width - bits_stored
    };
    macro_rules! convert {
        ($u:ty, $i:ty, $n:expr) => {{
            let read = |chunk: &[u8]| {
                let raw: [u8; $n] = chunk.try_into().expect("chunk of the sample width");
                if format.little {
                    <$u>::from_le_bytes(raw)
                } else {
                    <$u>::from_be_bytes(raw)
                }
            };
            let chunks = data.chunks_exact($n);
            if format.signed {
                apply_all(
                    chunks.map(|c| ((read(c) as $i) << shift) >> shift),
                    out,
                    transform,
                )
            } else {
                apply_all(chunks.map(|c| (read(c) << shift) >> shift), out, transform)
            }
        }};
    }
    match format.bytes {
        1 => convert!(u8, i8, 1),
        2 => convert!(u16, i16, 2),
        4 => convert!(u32, i32, 4),
        8 => convert!(u64, i64, 8),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LE_I16: SampleFormat = SampleFormat {
        bytes: 2,
        little: true,
        signed: true,
    };

    fn convert(values: &[i16], bits_stored: u32, t: Transform) -> Vec<f32> {
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut out = vec![f32::NAN; values.len()];
        samples_to_f32(&data, LE_I16, bits_stored, &t, &mut out);
        out
    }

    #[test]
    fn rescale_is_two_roundings() {
        let r = Rescale {
            slope: 0.1,
            intercept: -1024.3,
        };
        let t = Transform {
            rescale: Some(r),
            window: None,
        };
        let got = convert(&[0, 7, -3, 4095], 16, t);
        let want: Vec<f32> = [0i16, 7, -3, 4095]
            .iter()
            .map(|&v| ((v as f64 * 0.1) + -1024.3) as f32)
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn bits_stored_correction_before_the_transform() {
        // 0x0FFF with 12 bits stored, signed, is -1.
        let got = convert(&[0x0FFF, 0x07FF], 12, Transform::default());
        assert_eq!(got, vec![-1.0, 2047.0]);
    }

    #[test]
    fn linear_window_like_pydicom() {
        // pydicom: center 40 width 400 over signed 16-bit data, no rescale.
        let w = Window::new(VoiFunction::Linear, 40.0, 400.0, 16, true, None).unwrap();
        let (c, wd) = (39.5, 399.0);
        let y_min = -32768.0;
        let y_range = 65535.0;
        for x in [-1000.0, -159.5, -159.0, 0.0, 239.0, 239.5, 240.0, 3000.0] {
            let want = if x <= c - wd / 2.0 {
                y_min
            } else if x > c + wd / 2.0 {
                32767.0
            } else {
                ((x - c) / wd + 0.5) * y_range + y_min
            };
            assert_eq!(w.apply(x), want, "x={x}");
        }
        assert!(Window::new(VoiFunction::Linear, 0.0, 0.5, 16, true, None).is_none());
        assert!(Window::new(VoiFunction::LinearExact, 0.0, 0.0, 16, true, None).is_none());
        assert!(Window::new(VoiFunction::Sigmoid, 0.0, -1.0, 16, true, None).is_none());
        assert!(Window::new(VoiFunction::LinearExact, 0.0, 0.5, 16, true, None).is_some());
    }

    #[test]
    fn window_range_follows_the_rescale() {
        let r = Rescale {
            slope: 2.0,
            intercept: -1024.0,
        };
        let w = Window::new(VoiFunction::LinearExact, 0.0, 10.0, 12, false, Some(r)).unwrap();
        assert_eq!(w.apply(-100.0), -1024.0);
        assert_eq!(w.apply(100.0), 4095.0 * 2.0 - 1024.0);
        let w = Window::new(VoiFunction::LinearExact, 0.0, 10.0, 64, false, None).unwrap();
        assert_eq!(w.apply(100.0), u64::MAX as f64);
    }
}

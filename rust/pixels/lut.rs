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
            VoiFunction::Linear | VoiFunction::LinearExact => self.linear(x),
            VoiFunction::Sigmoid => self.sigmoid(x),
        }
    }

    /// LINEAR and LINEAR_EXACT: `y_min` at or below the window, `y_max` above it, the line
    /// between. Branch-free (the line is computed and discarded outside the window, which
    /// has no effect on the result) so that loops over it vectorize.
    #[inline(always)]
    fn linear(&self, x: f64) -> f64 {
        let line = ((x - self.center) / self.width + 0.5) * self.y_range + self.y_min;
        let v = if x > self.above { self.y_max } else { line };
        if x <= self.below {
            self.y_min
        } else {
            v
        }
    }

    /// y_range / (1 + np.exp(-4 * (arr - center) / width)) + y_min
    #[inline(always)]
    fn sigmoid(&self, x: f64) -> f64 {
        self.y_range / (1.0 + (-4.0 * (x - self.center) / self.width).exp()) + self.y_min
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
    match (t.rescale, t.window) {
        // Nothing applied: the integers cast once, as `astype(np.float32)` casts them.
        (None, None) => out
            .iter_mut()
            .zip(values)
            .for_each(|(o, v)| *o = v.to_f32()),
        (None, window) => window_all(values, out, window, |x| x),
        (Some(r), window) => window_all(values, out, window, |x| x * r.slope + r.intercept),
    }
}

/// `values` through `rescale` then `window` into `out`: one loop per case, each free of
/// per-sample dispatch.
#[inline(always)]
fn window_all<S: Sample>(
    values: impl Iterator<Item = S>,
    out: &mut [f32],
    window: Option<Window>,
    rescale: impl Fn(f64) -> f64,
) {
    let pairs = out.iter_mut().zip(values);
    match window {
        None => pairs.for_each(|(o, v)| *o = rescale(v.to_f64()) as f32),
        Some(w) => match w.function {
            VoiFunction::Linear | VoiFunction::LinearExact => {
                pairs.for_each(|(o, v)| *o = w.linear(rescale(v.to_f64())) as f32)
            }
            VoiFunction::Sigmoid => {
                pairs.for_each(|(o, v)| *o = w.sigmoid(rescale(v.to_f64())) as f32)
            }
        },
    }
}

/// Convert the whole samples of `data` (stored as `format`) into `out`, one float32 per
/// sample: pydicom's Bits Stored correction (`arr <<= BA - BS; arr >>= BA - BS`, where Bits
/// Stored is below the sample width), then `transform`, then `astype(np.float32)`. `out`
/// takes as many values as both hold.
///
/// 8- and 16-bit samples of frames large enough go through a table of the result for
/// every possible stored value, made by the same per-sample code (so the results are the
/// same) and kept in `tables` for the next frame with the same format and transform: a
/// lookup instead of a division per sample.
pub fn samples_to_f32(
    data: &[u8],
    format: SampleFormat,
    bits_stored: u32,
    transform: &Transform,
    out: &mut [f32],
    tables: &mut Tables,
) {
    let worth = match format.bytes {
        1 => out.len() >= 256,
        2 => out.len() >= 1 << 14,
        _ => false,
    };
    if !worth || (transform.rescale.is_none() && transform.window.is_none()) {
        return convert(data, format, bits_stored, transform, out);
    }
    let key = (format, bits_stored, *transform);
    if tables.key != Some(key) {
        let every: Vec<u8> = match format.bytes {
            1 => (0..=u8::MAX).collect(),
            _ => (0..=u16::MAX)
                .flat_map(|v| {
                    if format.little {
                        v.to_le_bytes()
                    } else {
                        v.to_be_bytes()
                    }
                })
                .collect(),
        };
        tables.values.resize(every.len() / format.bytes, 0.0);
        convert(&every, format, bits_stored, transform, &mut tables.values);
        tables.key = Some(key);
    }
    let values = &tables.values;
    let pairs = out.iter_mut();
    if format.bytes == 1 {
        for (o, &b) in pairs.zip(data) {
            *o = values[usize::from(b)];
        }
    } else {
        for (o, c) in pairs.zip(data.chunks_exact(2)) {
            let raw = [c[0], c[1]];
            let v = if format.little {
                u16::from_le_bytes(raw)
            } else {
                u16::from_be_bytes(raw)
            };
            *o = values[usize::from(v)];
        }
    }
}

/// The table `samples_to_f32` last made, for reuse while format and transform stay the
/// same (one per thread).
#[derive(Debug, Default)]
pub struct Tables {
    key: Option<(SampleFormat, u32, Transform)>,
    values: Vec<f32>,
}

/// `samples_to_f32` sample by sample.
fn convert(
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

    fn to_floats(values: &[i16], bits_stored: u32, t: Transform) -> Vec<f32> {
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut out = vec![f32::NAN; values.len()];
        samples_to_f32(
            &data,
            LE_I16,
            bits_stored,
            &t,
            &mut out,
            &mut Tables::default(),
        );
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
        let got = to_floats(&[0, 7, -3, 4095], 16, t);
        let want: Vec<f32> = [0i16, 7, -3, 4095]
            .iter()
            .map(|&v| ((v as f64 * 0.1) + -1024.3) as f32)
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn bits_stored_correction_before_the_transform() {
        // 0x0FFF with 12 bits stored, signed, is -1.
        let got = to_floats(&[0x0FFF, 0x07FF], 12, Transform::default());
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

    #[test]
    fn tables_give_what_each_sample_gives() {
        let r = Rescale {
            slope: 0.37,
            intercept: -7.1,
        };
        let windows = [
            None,
            Window::new(VoiFunction::Linear, -123.45, 2.5, 12, true, Some(r)),
            Window::new(VoiFunction::Sigmoid, 40.0, 400.0, 12, true, Some(r)),
        ];
        let mut tables = Tables::default();
        for window in windows {
            for (bytes, little, signed) in [(2, true, true), (2, false, false), (1, true, true)] {
                let format = SampleFormat {
                    bytes,
                    little,
                    signed,
                };
                let t = Transform {
                    rescale: Some(r),
                    window,
                };
                // Every stored value, twice over, in a frame big enough for a table.
                let data: Vec<u8> = (0..1usize << 18).map(|i| ((i * 7919) >> 3) as u8).collect();
                let n = data.len() / bytes;
                let (mut fast, mut slow) = (vec![0f32; n], vec![0f32; n]);
                samples_to_f32(&data, format, 12, &t, &mut fast, &mut tables);
                super::convert(&data, format, 12, &t, &mut slow);
                assert_eq!(fast, slow);
            }
        }
    }
}

//! A series' slices as one volume, laid out as MONAI's PydicomReader lays it out: the slices
//! on a new last axis, the rows and columns swapped or not, each sample rescaled or copied.
//!
//! The source is `n` slices of `rows x columns x samples` (C order); the volume is
//! `(columns, rows, samples, n)` when swapped, else `(rows, columns, samples, n)`. Every
//! volume element comes from a different place than its neighbour, so the work goes a row
//! at a time: the row of every slice is gathered (read in sequence) into a buffer that
//! holds each pixel sample's `n` values together, then each of those runs is written whole.
//! Threads take bands of rows; in the swapped layout a band's runs are a piece of every
//! column's, handed out as separate slices.

use super::parallel::map_queued_with;

/// Rows a thread takes at a time.
const PART_ROWS: usize = 8;
/// Row samples gathered at a time: whole rows of common images, read sequentially.
const TILE_WIDTH: usize = 1024;
/// Slices gathered together: the ways of a common L1 cache set.
const SLICE_BLOCK: usize = 8;

/// The shape of the slices and of the volume made of them.
#[derive(Clone, Copy, Debug)]
pub struct Slices {
    pub count: usize,
    pub rows: usize,
    pub columns: usize,
    pub samples: usize,
    /// Columns first in the volume (PydicomReader's `swap_ij`).
    pub swap: bool,
}

impl Slices {
    fn plane(&self) -> usize {
        self.rows * self.columns * self.samples
    }

    /// The number of elements of the source, and of the volume.
    pub fn len(&self) -> usize {
        self.plane() * self.count
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The length of one pixel's runs (one per sample, each `count` long).
    fn pixel_len(&self) -> usize {
        self.samples * self.count
    }
}

/// A sample converted to f64 as numpy's `astype(float32)` then float64 arithmetic does:
/// through f32, which rounds 32-bit integers to nearest, ties to even, as C's cast does.
pub trait Sample: Copy + Send + Sync {
    fn through_f32(self) -> f64;
}

macro_rules! sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            #[inline]
            fn through_f32(self) -> f64 {
                f64::from(self as f32)
            }
        }
    )*};
}
sample!(u8, i8, u16, i16, u32, i32);

/// A rescaled value as stored in the volume: float64 as computed, or float32 as numpy's
/// `astype(float32)` rounds it (to nearest, ties to even).
pub trait Rescaled: Copy + Send {
    fn from_f64(value: f64) -> Self;
}

impl Rescaled for f64 {
    #[inline]
    fn from_f64(value: f64) -> Self {
        value
    }
}

impl Rescaled for f32 {
    #[inline]
    fn from_f64(value: f64) -> Self {
        value as f32
    }
}

/// `x.astype(float32) * slope + intercept` for every sample of every slice, in float64 (as
/// numpy computes it when slope and intercept are float64 scalars), stacked into `volume`
/// as float64 or float32.
pub fn stack_rescaled<T: Sample, O: Rescaled>(
    src: &[T],
    shape: Slices,
    slope: f64,
    intercept: f64,
    volume: &mut [O],
    threads: usize,
) {
    stack_with(src, shape, volume, threads, |x| {
        O::from_f64(x.through_f32() * slope + intercept)
    });
}

/// The samples of every slice, unchanged, stacked into `volume`.
pub fn stack<T: Copy + Send + Sync>(src: &[T], shape: Slices, volume: &mut [T], threads: usize) {
    stack_with(src, shape, volume, threads, |x| x);
}

/// The volume's runs for a band of rows: one lane per row (columns follow in it) or, in
/// the swapped layout, one lane per column (the band's rows follow in it).
struct Band<'a, O> {
    first_row: usize,
    rows: usize,
    lanes: Vec<&'a mut [O]>,
}

fn stack_with<T: Copy + Sync, O: Copy + Send>(
    src: &[T],
    shape: Slices,
    volume: &mut [O],
    threads: usize,
    convert: impl Fn(T) -> O + Sync,
) {
    assert_eq!(src.len(), shape.len(), "source length");
    assert_eq!(volume.len(), shape.len(), "volume length");
    if shape.is_empty() {
        return;
    }
    let pixel = shape.pixel_len();
    let bands = shape.rows.div_ceil(PART_ROWS);
    let band_rows = |band: usize| PART_ROWS.min(shape.rows - band * PART_ROWS);
    let mut parts: Vec<Band<'_, O>> = (0..bands)
        .map(|band| Band {
            first_row: band * PART_ROWS,
            rows: band_rows(band),
            lanes: Vec::new(),
        })
        .collect();
    if shape.swap {
        // Each column's runs, cut at the band boundaries.
        for column in volume.chunks_mut(shape.rows * pixel) {
            for (part, lane) in parts.iter_mut().zip(column.chunks_mut(PART_ROWS * pixel)) {
                part.lanes.push(lane);
            }
        }
    } else {
        let mut rows = volume.chunks_mut(shape.columns * pixel);
        for part in &mut parts {
            part.lanes.extend(rows.by_ref().take(part.rows));
        }
    }
    map_queued_with(parts, threads, Vec::new, |tile, band| {
        fill_band(src, shape, band, tile, &convert);
    });
}

/// Fill a band's runs, a tile of a row at a time: the tile's samples of every slice are
/// gathered into `tile` with the slices innermost (whole rows read in sequence), then each
/// pixel sample's run is written in one sweep.
fn fill_band<T: Copy, O: Copy>(
    src: &[T],
    shape: Slices,
    mut band: Band<'_, O>,
    tile: &mut Vec<T>,
    convert: &impl Fn(T) -> O,
) {
    let Slices {
        count,
        columns,
        samples,
        swap,
        ..
    } = shape;
    let plane = shape.plane();
    let pixel = shape.pixel_len();
    let row_len = columns * samples;
    for r in 0..band.rows {
        let row = band.first_row + r;
        for start in (0..row_len).step_by(TILE_WIDTH) {
            let width = TILE_WIDTH.min(row_len - start);
            tile.clear();
            tile.resize(width * count, src[0]);
            // A few slices at a time, so each sample's values are written together:
            // their source lines are a plane apart, often in one cache set, which
            // holds `SLICE_BLOCK` of them.
            for slice0 in (0..count).step_by(SLICE_BLOCK) {
                let slice1 = (slice0 + SLICE_BLOCK).min(count);
                for e in 0..width {
                    let at = row * row_len + start + e;
                    let values = &mut tile[e * count + slice0..e * count + slice1];
                    for (k, value) in values.iter_mut().enumerate() {
                        *value = src[(slice0 + k) * plane + at];
                    }
                }
            }
            for e in 0..width {
                let (column, sample) = ((start + e) / samples, (start + e) % samples);
                let (lane, at) = if swap {
                    (column, r * pixel + sample * count)
                } else {
                    (r, column * pixel + sample * count)
                };
                let run = &mut band.lanes[lane][at..at + count];
                for (out, &value) in run.iter_mut().zip(&tile[e * count..(e + 1) * count]) {
                    *out = convert(value);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The volume as index arithmetic says it is, element by element.
    fn expected<T: Copy, O>(src: &[T], s: Slices, convert: impl Fn(T) -> O) -> Vec<O> {
        let mut out = Vec::with_capacity(s.len());
        let (first, second) = if s.swap {
            (s.columns, s.rows)
        } else {
            (s.rows, s.columns)
        };
        for a in 0..first {
            for b in 0..second {
                let (row, column) = if s.swap { (b, a) } else { (a, b) };
                for sample in 0..s.samples {
                    for slice in 0..s.count {
                        let at = ((slice * s.rows + row) * s.columns + column) * s.samples;
                        out.push(convert(src[at + sample]));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn stacks_every_shape_and_layout() {
        for &(count, rows, columns, samples) in &[
            (1, 1, 1, 1),
            (3, 5, 7, 1),
            (4, 33, 65, 1),
            (2, 9, 40, 3),
            (5, 17, 8, 1),
            (2, 3, 700, 3),
        ] {
            for swap in [false, true] {
                let shape = Slices {
                    count,
                    rows,
                    columns,
                    samples,
                    swap,
                };
                let src: Vec<i16> = (0..shape.len())
                    .map(|v| (v as i16).wrapping_mul(7))
                    .collect();
                for threads in [1, 3] {
                    let mut volume = vec![0i16; shape.len()];
                    stack(&src, shape, &mut volume, threads);
                    assert_eq!(volume, expected(&src, shape, |x| x), "{shape:?}");
                }
            }
        }
    }

    #[test]
    fn rescales_through_f32_in_f64() {
        let shape = Slices {
            count: 3,
            rows: 4,
            columns: 5,
            samples: 1,
            swap: true,
        };
        // 2^24 + 1 is not an f32: it rounds (to even) before the f64 arithmetic.
        let src: Vec<i32> = (0..shape.len() as i32).map(|v| (1 << 24) + v).collect();
        let mut volume = vec![0.0; shape.len()];
        stack_rescaled(&src, shape, 0.1, -1024.5, &mut volume, 2);
        let want = expected(&src, shape, |x| f64::from(x as f32) * 0.1 + -1024.5);
        assert_eq!(volume, want);
        let mut narrow = vec![0.0f32; shape.len()];
        stack_rescaled(&src, shape, 0.1, -1024.5, &mut narrow, 2);
        let want: Vec<f32> = want.iter().map(|&v| v as f32).collect();
        assert_eq!(narrow, want);
        assert_eq!(f64::from(((1 << 24) + 1) as f32), f64::from(1 << 24));
    }

    #[test]
    fn empty_volume() {
        let shape = Slices {
            count: 0,
            rows: 4,
            columns: 4,
            samples: 1,
            swap: false,
        };
        stack::<u8>(&[], shape, &mut [], 2);
    }
}

//! One frame of a described file copied (native: byte order and planar configuration
//! normalised, Bits Stored corrected) or decoded (RLE Lossless) into its slot.

use super::fallback::Fallback;
use super::pixel_file::{Data, Frames, PixelFile};
use crate::pixels::lut::{self, Tables, Transform};
use crate::pixels::native::{self, SampleFormat};
use crate::pixels::rle::{self, FrameShape, Layout, SegmentOrder};
use crate::source;
use std::fs::File;
use std::ops::Range;

impl PixelFile {
    /// The sample type of a frame in its slot: the file's, little endian.
    fn decoded_format(&self) -> SampleFormat {
        SampleFormat {
            little: true,
            ..self.format
        }
    }

    /// Bytes of one decoded frame.
    pub(super) fn frame_len(&self) -> usize {
        // Checked when the file was opened.
        self.image.geometry().samples().unwrap_or(0) * self.format.bytes
    }

    /// Write frame `index` to `slot`, which must hold exactly one frame (bytes in the sample
    /// type, little endian, for raw output). Returns pydicom's warnings for the frame.
    /// `scratch` is reused between calls.
    pub fn read_frame(
        &self,
        index: usize,
        slot: Slot<'_>,
        transform: &Transform,
        scratch: &mut Scratch,
    ) -> Result<Vec<String>, Fallback> {
        if index >= self.image.layout.number_of_frames {
            return Err(Fallback::FrameBeyond(index));
        }
        let frame_len = self.frame_len();
        let samples = frame_len / self.format.bytes;
        let fits = match &slot {
            Slot::Raw(out) => out.len() == frame_len,
            Slot::Float(out) => out.len() == samples,
        };
        if !fits {
            return Err(Fallback::Unsupported("the frame does not fit the batch"));
        }
        match &self.frames {
            Frames::Native { start } => {
                self.read_native(start + index * frame_len, slot, transform, scratch)
            }
            Frames::Rle(ranges) => self.decode_rle(index, ranges, slot, transform, scratch),
        }
    }

    /// Native frame bytes from `from` into `slot`.
    fn read_native(
        &self,
        from: usize,
        slot: Slot<'_>,
        transform: &Transform,
        scratch: &mut Scratch,
    ) -> Result<Vec<String>, Fallback> {
        let frame_len = self.frame_len();
        let le = self.decoded_format();
        let as_stored = self.format.little && !self.image.layout.planar;
        let Scratch(read, normalised, tables) = scratch;
        let (src, slot) = match (&self.data, slot) {
            (Data::Source(source), slot) => (
                source
                    .bytes()
                    .get(from..from + frame_len)
                    .ok_or(Fallback::Unsupported("pixel data beyond the file"))?,
                slot,
            ),
            // Read straight into the batch when nothing is to be done but the Bits Stored
            // check.
            (Data::File(file), Slot::Raw(out)) if as_stored => {
                read_at(file, out, from)?;
                native::fix_bits_stored(out, le, self.image.layout.bits_stored);
                return Ok(Vec::new());
            }
            (Data::File(file), slot) => {
                read.resize(frame_len, 0);
                read_at(file, read, from)?;
                (&read[..], slot)
            }
        };
        let data = if as_stored {
            src
        } else {
            normalised.resize(frame_len, 0);
            self.normalise(src, normalised);
            &normalised[..]
        };
        match slot {
            Slot::Raw(out) => {
                out.copy_from_slice(data);
                native::fix_bits_stored(out, le, self.image.layout.bits_stored);
            }
            Slot::Float(out) => lut::samples_to_f32(
                data,
                le,
                self.image.layout.bits_stored,
                transform,
                out,
                tables,
            ),
        }
        Ok(Vec::new())
    }

    /// RLE frame `index` (one of `ranges`) decoded into `slot`; pydicom's warnings for it.
    fn decode_rle(
        &self,
        index: usize,
        ranges: &[Range<usize>],
        slot: Slot<'_>,
        transform: &Transform,
        scratch: &mut Scratch,
    ) -> Result<Vec<String>, Fallback> {
        let le = self.decoded_format();
        let Scratch(read, _, tables) = scratch;
        let Data::Source(source) = &self.data else {
            return Err(Fallback::Unsupported("RLE data not mapped"));
        };
        let range = ranges
            .get(index)
            .ok_or(Fallback::Unsupported("RLE frame beyond the data"))?;
        let src = source
            .bytes()
            .get(range.clone())
            .ok_or(Fallback::Unsupported("RLE frame beyond the file"))?;
        let shape = FrameShape {
            rows: self.image.layout.rows,
            columns: self.image.layout.columns,
            samples_per_pixel: self.image.layout.samples_per_pixel,
            bits_allocated: self.image.layout.bits_allocated,
        };
        let decode = |out: &mut [u8]| {
            rle::decode_frame_as(src, shape, SegmentOrder::Big, Layout::Interleaved, out)
                .map_err(|(error, _)| Fallback::Rle { index, error })
        };
        let padding = match slot {
            Slot::Raw(out) => {
                let padding = decode(out)?;
                native::fix_bits_stored(out, le, self.image.layout.bits_stored);
                padding
            }
            Slot::Float(out) => {
                read.resize(self.frame_len(), 0);
                let padding = decode(read)?;
                lut::samples_to_f32(
                    read,
                    le,
                    self.image.layout.bits_stored,
                    transform,
                    out,
                    tables,
                );
                padding
            }
        };
        Ok(padding.messages().collect())
    }

    /// Native frame bytes (`src`) as little-endian samples, colour by pixel, into `out`.
    fn normalise(&self, src: &[u8], out: &mut [u8]) {
        let n = self.format.bytes;
        let spp = self.image.layout.samples_per_pixel as usize;
        let pixels = (src.len() / n / spp.max(1)).max(1);
        let little = self.format.little;
        for (i, sample) in src.chunks_exact(n).enumerate() {
            // Sample i of the stored frame is (plane, pixel) when planar, else (pixel, plane).
            let at = if self.image.layout.planar {
                (i % pixels) * spp + i / pixels
            } else {
                i
            };
            let Some(dst) = out.get_mut(at * n..at * n + n) else {
                continue;
            };
            dst.copy_from_slice(sample);
            if !little {
                dst.reverse();
            }
        }
    }
}

/// Reusable buffers of one thread: frames read from a file, frames normalised, the
/// float32 conversion's table.
#[derive(Default)]
pub struct Scratch(Vec<u8>, Vec<u8>, Tables);

/// Fill `buf` from `file` at `offset`.
pub(super) fn read_at(file: &File, buf: &mut [u8], offset: usize) -> Result<(), Fallback> {
    source::read_exact_at(file, buf, offset).map_err(|e| Fallback::ReadPixelData(e.to_string()))
}

/// Where one frame goes.
pub enum Slot<'a> {
    /// Raw samples, little endian.
    Raw(&'a mut [u8]),
    /// float32 after processing.
    Float(&'a mut [f32]),
}

//! Frames of many files decoded into one batch, in parallel: the ML loaders' core.
//!
//! Each file is mapped, walked, and its pixel data described as pydicom 3.0.2 would decode
//! it; frames are then copied (native data: byte order and planar configuration normalised,
//! Bits Stored corrected) or decoded (RLE Lossless) straight into their slot of the caller's
//! batch, as raw samples or as float32 with pydicom's rescale and windowing applied.
//!
//! Only files whose every relevant attribute is plain (present, of the expected VR, a value
//! pydicom reads without a warning) and whose pixel data pydicom decodes without options or
//! colour conversion are handled here. Everything else (other codecs, YBR data, lookup-table
//! sequences, odd values, broken files, unreadable paths) comes back as a *fallback* with a
//! reason, for the caller to hand to pydicom, so results, warnings and errors stay pydicom's.
//!
//! Native frames are read from the file after its header, straight into their slot; other
//! files are mapped. Files are opened one work unit at a time and dropped after it (the
//! last few multi-frame files excepted, kept for the next batch), so memory stays bounded
//! whatever the batch size.
//!
//! The module by concern:
//! - `fallback`: why a file or frame is left to pydicom, and why a batch is refused;
//! - `attributes`: the dataset's attributes as this module reads them (plain or not);
//! - `pixel_file`: a file described (its walk, its pixel data's frames, its data source);
//! - `processing`: the rescale and VOI attributes, and the transform they amount to;
//! - `frames`: one frame copied or decoded into its slot;
//! - `batch`: frames of many files into one batch, on many threads.

mod attributes;
mod batch;
mod fallback;
mod frames;
mod pixel_file;
mod processing;
#[cfg(test)]
mod tests;

pub use batch::{read_batch, Batch, BatchOutcome, RecentFiles};
pub use fallback::{BatchError, Fallback};
pub use frames::{Scratch, Slot};
pub use pixel_file::PixelFile;
pub use processing::Processing;

/// Rows, columns and samples per pixel of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameGeometry {
    pub rows: u32,
    pub columns: u32,
    pub samples_per_pixel: u32,
}

impl FrameGeometry {
    /// Samples in one frame (None when that overflows).
    pub fn samples(&self) -> Option<usize> {
        (self.rows as usize)
            .checked_mul(self.columns as usize)?
            .checked_mul(self.samples_per_pixel as usize)
    }
}

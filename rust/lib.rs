//! dcmfast's core: a lazy DICOM element walk over mapped or owned bytes, with no Python in it.
//! The PyO3 binding layer lives in `py/` behind the `python` feature.
// Unsafe code is allowed in two places only: `mapping` (mmap, mremap, madvise) and, in the
// binding layer, `PixelRegion::array` (a numpy array that borrows a mapping). PyO3's macros
// need no allowance: what they expand to compiles under this `deny`.
#![deny(unsafe_code)]

pub mod charset;
pub mod dictionary;
pub mod errors;
pub mod loader;
pub mod mapping;
pub mod parse;
pub mod pixels;
pub mod read;
pub mod render;
pub mod scan;
pub mod source;
pub mod tagmap;
pub mod tags;
#[cfg(test)]
mod test_support;
pub mod values;
pub mod vr;
pub mod write_plan;

#[cfg(feature = "python")]
mod py;

//! Pixel data, pure Rust: native layouts and bit checks, encapsulated frame mapping, codecs,
//! and pydicom's rescale and windowing arithmetic.

pub mod encapsulated;
pub mod lut;
pub mod native;
pub mod parallel;
pub mod rle;

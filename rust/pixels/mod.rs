//! Pixel data, pure Rust: when pydicom's pipeline only reshapes it (`layout`), native bit
//! checks, encapsulated frame mapping, codecs, and pydicom's rescale and windowing
//! arithmetic, and a series stacked into one volume (`volume`).

pub mod encapsulated;
pub mod layout;
pub mod lut;
pub mod native;
pub mod parallel;
pub mod rle;
pub mod volume;

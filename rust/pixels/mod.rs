//! Pixel data, pure Rust: native layouts and bit checks, encapsulated frame mapping, codecs.

pub mod encapsulated;
pub mod native;
pub mod rle;

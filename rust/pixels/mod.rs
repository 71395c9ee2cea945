//! Pixel data codecs, pure Rust.

pub mod rle;

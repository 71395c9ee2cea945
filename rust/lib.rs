//! dcmfast's core: a lazy DICOM element walk over mapped or owned bytes, with no Python in it.
//! The PyO3 binding layer lives in `py/` behind the `python` feature.
#![deny(unsafe_code)]

pub mod dictionary;
pub mod errors;
pub mod loader;
pub mod mapping;
pub mod parse;
pub mod pixels;
pub mod read;
pub mod scan;
pub mod source;
pub mod tagmap;
#[cfg(test)]
mod test_support;
pub mod values;
pub mod vr;

#[cfg(feature = "python")]
mod py;

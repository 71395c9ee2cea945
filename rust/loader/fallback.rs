//! Why a file or frame is left to pydicom, and why a whole batch is refused.

use crate::errors::ParseError;
use crate::pixels::layout::NotPlain;
use crate::pixels::rle::RleError;
use std::fmt;
use std::io;

/// Why a file or frame is left to pydicom (its Display is the reason given to the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    /// The file could not be opened, mapped or read.
    Io(String),
    /// Not a regular file (a named pipe, a socket, a device): not read.
    NotRegular(&'static str),
    /// The element walk stopped where pydicom decides.
    Parse(ParseError),
    /// A required attribute is absent.
    Missing(&'static str),
    /// Image Pixel values or a native value pydicom reads its own way (`pixels::layout`).
    Layout(NotPlain),
    /// Something pydicom reads its own way (a transfer syntax, a LUT, an odd layout).
    Unsupported(&'static str),
    /// The frame index is beyond the file's frames.
    FrameBeyond(usize),
    /// An RLE frame does not decode as pydicom's decoder expects.
    Rle { index: usize, error: RleError },
    /// Reading the pixel data from the file failed.
    ReadPixelData(String),
}

impl Fallback {
    pub(super) fn io(err: io::Error) -> Fallback {
        Fallback::Io(err.to_string())
    }
}

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fallback::Io(message) => f.write_str(message),
            Fallback::NotRegular(what) | Fallback::Unsupported(what) => f.write_str(what),
            Fallback::Parse(err) => err.fmt(f),
            Fallback::Layout(why) => why.fmt(f),
            Fallback::Missing(what) => write!(f, "no {what}"),
            Fallback::FrameBeyond(index) => write!(f, "frame {index} is beyond the data"),
            Fallback::Rle { index, error } => write!(f, "RLE frame {index}: {error}"),
            Fallback::ReadPixelData(message) => write!(f, "reading pixel data: {message}"),
        }
    }
}

/// Why a whole batch read is refused: the caller's array does not fit the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    /// One frame's size overflows.
    FrameTooLarge,
    /// The array holds `len` values, not `items` frames of `frame` values.
    Length {
        len: usize,
        items: usize,
        frame: usize,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::FrameTooLarge => f.write_str("frame too large"),
            BatchError::Length { len, items, frame } => write!(
                f,
                "the batch holds {len} values, {items} frames need {frame} each"
            ),
        }
    }
}

impl std::error::Error for BatchError {}

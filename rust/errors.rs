//! The element walk's error type. Every variant says where in the byte source it happened, so
//! the binding layer can report it and decide whether pydicom's own reader must take over.
//! The other errors of the core are enums beside their code (`pixels::rle::RleError`,
//! `scan::ScanError`, `loader::Fallback`, `loader::BatchError`); `py::errors` maps them all.

use std::fmt;

/// pydicom's message for a file without a preamble and `DICM` prefix read without `force`;
/// the one copy of it (the binding layer raises it, the bulk scan reports it).
pub const NOT_DICOM: &str = "File is missing DICOM File Meta Information header or the 'DICM' \
     prefix is missing from the header. Use force=True to force reading.";

/// Why the element walk stopped before finishing a dataset it could describe exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// No `DICM` prefix at offset 128 and `force` was not given.
    NotDicom,
    /// Input ended inside a structure that pydicom would report (a header, a sequence).
    Truncated { offset: usize, tag: Option<u32> },
    /// An undefined-length value has no sequence delimiter before the end of input.
    MissingDelimiter { offset: usize, tag: u32 },
    /// Bytes that pydicom reads with a warning or a changed encoding (VR switch, unknown VR,
    /// stray delimiter, item of the wrong tag, item length that elements overrun).
    Irregular {
        offset: usize,
        tag: Option<u32>,
        what: &'static str,
    },
    /// Sequences nested deeper than the walk follows.
    TooDeep { offset: usize, depth: usize },
    /// The deflated body could not be inflated.
    Inflate { offset: usize, message: String },
}

impl ParseError {
    /// The byte offset the error refers to (0 for `NotDicom`).
    pub fn offset(&self) -> usize {
        match self {
            ParseError::NotDicom => 0,
            ParseError::Truncated { offset, .. }
            | ParseError::MissingDelimiter { offset, .. }
            | ParseError::Irregular { offset, .. }
            | ParseError::TooDeep { offset, .. }
            | ParseError::Inflate { offset, .. } => *offset,
        }
    }
}

/// A tag as pydicom prints it, `(GGGG,EEEE)`, by the renderer's one rule.
fn fmt_tag(tag: u32) -> String {
    let mut text = String::with_capacity(11);
    crate::render::write_tag(&mut text, tag);
    text
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NotDicom => f.write_str(NOT_DICOM),
            ParseError::Truncated { offset, tag } => match tag {
                Some(t) => write!(
                    f,
                    "input ends inside {} at offset 0x{offset:X}",
                    fmt_tag(*t)
                ),
                None => write!(
                    f,
                    "input ends inside an element header at offset 0x{offset:X}"
                ),
            },
            ParseError::MissingDelimiter { offset, tag } => write!(
                f,
                "no sequence delimiter after undefined-length {} at offset 0x{offset:X}",
                fmt_tag(*tag)
            ),
            ParseError::Irregular { offset, tag, what } => match tag {
                Some(t) => write!(f, "{what} in {} at offset 0x{offset:X}", fmt_tag(*t)),
                None => write!(f, "{what} at offset 0x{offset:X}"),
            },
            ParseError::TooDeep { offset, depth } => {
                write!(
                    f,
                    "sequences nested deeper than {depth} at offset 0x{offset:X}"
                )
            }
            ParseError::Inflate { offset, message } => {
                write!(
                    f,
                    "cannot inflate deflated body at offset 0x{offset:X}: {message}"
                )
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// Result alias of the core.
pub type Result<T> = std::result::Result<T, ParseError>;

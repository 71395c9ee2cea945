//! The one place where the core's errors become Python exceptions. Where pydicom raises for
//! the same input, the exception is pydicom's class or a subclass of it, so callers'
//! `except` clauses keep working; the rest tell dcmfast's Python layer what to do next
//! (`ParseError`: pydicom's reader decides).

use crate::errors::ParseError as CoreParseError;
use crate::loader::BatchError;
use crate::mapping::FileChanged;
use crate::pixels::rle::RleError;
use crate::scan::ScanError;
use pyo3::exceptions::{
    PyIsADirectoryError, PyNotImplementedError, PyOSError, PyOverflowError, PyValueError,
};
use pyo3::{create_exception, import_exception, PyErr};

import_exception!(pydicom.errors, InvalidDicomError);

create_exception!(
    dcmfast._core,
    ParseError,
    PyValueError,
    "The fast reader met bytes it does not describe exactly; pydicom's reader decides."
);
create_exception!(
    dcmfast._core,
    NotDicomError,
    InvalidDicomError,
    "No preamble and 'DICM' prefix, and force was not given (pydicom's InvalidDicomError)."
);

impl From<CoreParseError> for PyErr {
    fn from(err: CoreParseError) -> PyErr {
        match err {
            CoreParseError::NotDicom => NotDicomError::new_err(err.to_string()),
            other => ParseError::new_err(other.to_string()),
        }
    }
}

/// pydicom raises NotImplementedError for bit depths it cannot decode, OverflowError for a
/// frame size beyond an index (its `bytearray(size)`), ValueError otherwise.
impl From<RleError> for PyErr {
    fn from(err: RleError) -> PyErr {
        match err {
            RleError::BitsAllocated(_) => PyNotImplementedError::new_err(err.to_string()),
            RleError::TooLarge => PyOverflowError::new_err(err.to_string()),
            other => PyValueError::new_err(other.to_string()),
        }
    }
}

/// A file the scan gives no values for: pydicom's error for a file that is not DICOM, an
/// `OSError` for one that cannot be read (`IsADirectoryError` for a directory, which the
/// scan lists instead), and `ParseError` where pydicom's reader decides.
impl From<&ScanError> for PyErr {
    fn from(err: &ScanError) -> PyErr {
        let message = err.to_string();
        match err {
            ScanError::NotDicom => NotDicomError::new_err(message),
            ScanError::Directory => PyIsADirectoryError::new_err(message),
            // OSError(errno, strerror) is made the subclass Python makes of it
            // (FileNotFoundError, PermissionError, ...).
            ScanError::Io {
                errno: Some(errno),
                message,
            } => PyOSError::new_err((*errno, message.clone())),
            ScanError::Io { .. } | ScanError::NotRegular(_) => PyOSError::new_err(message),
            ScanError::Irregular(_) => ParseError::new_err(message),
        }
    }
}

/// A batch whose output array does not fit its request: the caller's mistake.
impl From<BatchError> for PyErr {
    fn from(err: BatchError) -> PyErr {
        PyValueError::new_err(err.to_string())
    }
}

/// Bytes of a mapped file another writer changed after it was read.
impl From<FileChanged> for PyErr {
    fn from(err: FileChanged) -> PyErr {
        PyOSError::new_err(err.to_string())
    }
}

/// An I/O error as an `OSError` with the core's message (not split by errno into
/// subclasses: the reader only needs to know that pydicom's reader must take over).
pub fn os_error(err: std::io::Error) -> PyErr {
    PyOSError::new_err(err.to_string())
}

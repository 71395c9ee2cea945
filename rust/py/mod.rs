//! The PyO3 binding layer: thin wrappers over the core, conversions at the edge, GIL released
//! around parsing, and (`errors`) the one place where core errors become Python exceptions.

mod convert;
mod elements;
mod errors;
mod file;
mod loader;
mod pixels;
mod render;
mod scan;
mod writer;

use pyo3::prelude::*;

#[pymodule(gil_used = false)]
mod _core {
    #[pymodule_export]
    use super::convert::{charset_keeps_ascii, charset_terms_defined, Pydicom};
    #[pymodule_export]
    use super::elements::{DatasetElements, ElementDict, KeywordAttribute};
    #[pymodule_export]
    use super::errors::{NotDicomError, ParseError};
    #[pymodule_export]
    use super::file::{detach_all, detach_file, live_mappings};
    #[pymodule_export]
    use super::file::{read_bytes, read_path, BuiltDataset, FileIndex, ReadOptions, SourceReader};
    #[pymodule_export]
    use super::loader::{frame_info, read_frames, BatchOutcome, FrameInfo, RecentFiles};
    #[pymodule_export]
    use super::pixels::{
        correct_unused_bits, native_layout, rle_decode_frame, stack_slices, DecodedFrame,
        NativeLayout, PixelMap, PixelRegion,
    };
    #[pymodule_export]
    use super::render::Renderer;
    #[pymodule_export]
    use super::scan::{scan_paths, PendingValue, ScanOutcome, ScanPlan};
    #[pymodule_export]
    use super::writer::{write_elements, WriteCounts};
}

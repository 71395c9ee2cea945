"""dcmfast: Rust-backed DICOM reading that returns real pydicom datasets.

``dcmfast.dcmread`` takes pydicom's arguments and returns a
:class:`pydicom.dataset.FileDataset` whose elements are found by a Rust walk over the
memory-mapped file and converted only when accessed.
"""

from dcmfast import _detach, _writer
from dcmfast._dataset import FileDataset
from dcmfast._loader import FrameDataset, read_batch
from dcmfast._patch import is_patched, patch_pydicom, unpatch_pydicom
from dcmfast._pixel_functions import iter_pixels, pixel_array
from dcmfast._reader import dcmread
from dcmfast._rle import register_decoder, unregister_decoder
from dcmfast._scan import ScanResult, iter_scan, scan

__all__ = [
    "FileDataset",
    "FrameDataset",
    "ScanResult",
    "dcmread",
    "is_patched",
    "iter_pixels",
    "iter_scan",
    "patch_pydicom",
    "pixel_array",
    "read_batch",
    "register_decoder",
    "scan",
    "unpatch_pydicom",
    "unregister_decoder",
]
__version__ = "0.1.0"

_detach.install()
_writer.install()

"""Type stubs for the Rust extension ``dcmfast._core`` (checked against it by
``python -m mypy.stubtest dcmfast._core`` in .ci/run and tests/test_stubs.py)."""

from collections.abc import Callable, Iterator
from os import PathLike
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.errors import InvalidDicomError
from typing_extensions import Self, final

__all__ = [
    "BatchOutcome",
    "BuiltDataset",
    "DatasetElements",
    "DecodedFrame",
    "ElementDict",
    "FileIndex",
    "FrameInfo",
    "KeywordAttribute",
    "NativeLayout",
    "NotDicomError",
    "ParseError",
    "PendingValue",
    "PixelMap",
    "PixelRegion",
    "Pydicom",
    "ReadOptions",
    "RecentFiles",
    "Renderer",
    "ScanOutcome",
    "ScanPlan",
    "SourceReader",
    "WriteCounts",
    "charset_keeps_ascii",
    "charset_terms_defined",
    "correct_unused_bits",
    "detach_all",
    "detach_file",
    "frame_info",
    "live_mappings",
    "native_layout",
    "read_bytes",
    "read_frames",
    "read_path",
    "rle_decode_frame",
    "scan_paths",
    "stack_slices",
    "write_elements",
]

class ParseError(ValueError):
    """The fast reader met bytes it does not describe exactly."""

class NotDicomError(InvalidDicomError):
    """No preamble and 'DICM' prefix, and force was not given."""

@final
class ReadOptions:
    def __new__(
        cls,
        *,
        force: bool = False,
        stop_before_pixels: bool = False,
        specific_tags: list[int] | None = None,
        defer_size: int | None = None,
        infer_sq_for_un_vr: bool = True,
        replace_un_with_known_vr: bool = True,
        assume_implicit_vr_switch: bool = True,
    ) -> Self: ...

def read_path(path: str | PathLike[str], options: ReadOptions) -> FileIndex: ...
def read_bytes(data: bytes, base: int, options: ReadOptions) -> FileIndex: ...
def detach_file(path: str | PathLike[str]) -> int: ...
def detach_all() -> int: ...
def live_mappings() -> int: ...
def charset_keeps_ascii(value: bytes, vr: str) -> bool: ...
def charset_terms_defined(value: bytes) -> bool: ...

@final
class Pydicom:
    def __new__(cls, factory: type, file_dataset: type) -> Self: ...

@final
class FileIndex:
    @property
    def preamble(self) -> bytes | None: ...
    @property
    def is_implicit_vr(self) -> bool: ...
    @property
    def is_little_endian(self) -> bool: ...
    @property
    def deflated(self) -> bool: ...
    @property
    def mtime(self) -> float | None: ...
    @property
    def meta_first_tag(self) -> int | None: ...
    @property
    def end(self) -> int: ...
    def file_dataset(
        self,
        factory: Any,
        pydicom: Pydicom,
        *,
        filename: Any,
        fileobj_type: Any,
        buffer: Any,
        timestamp: Any,
    ) -> BuiltDataset: ...
    def body_reader(self) -> SourceReader: ...
    def body_bytes(self) -> bytes: ...

@final
class BuiltDataset:
    @property
    def dataset(self) -> Any: ...
    @property
    def meta_converted(self) -> bool: ...
    @property
    def charset_set(self) -> bool: ...

@final
class SourceReader:
    def read(self, size: int | None = -1) -> bytes: ...
    def seek(self, offset: int, whence: int = 0) -> int: ...
    def tell(self) -> int: ...

@final
class ElementDict:
    def __len__(self) -> int: ...
    def pixel_region(self, tag: int) -> PixelRegion | None: ...
    def __contains__(self, key: object, /) -> bool: ...
    def __getitem__(self, key: int, /) -> Any: ...
    def __setitem__(self, key: int, value: Any, /) -> None: ...
    def __delitem__(self, key: int, /) -> None: ...
    def __iter__(self) -> Iterator[int]: ...
    def value_of(self, key: int, charset: Any, dataset: Any = None) -> Any: ...
    def element(self, key: Any, dataset: Any) -> Any: ...
    def dataset_elements(self, dataset: Any) -> DatasetElements: ...
    def walk_dataset(
        self, dataset: Any, callback: Any, recursive: bool, wrap: Any
    ) -> None: ...
    def get(self, key: int, default: Any = None) -> Any: ...
    def keys(self) -> Any: ...
    def values(self) -> Any: ...
    def items(self) -> Any: ...
    def pop(self, key: int, *default: Any) -> Any: ...
    def popitem(self) -> tuple[int, Any]: ...
    def setdefault(self, key: int, default: Any = None) -> Any: ...
    def update(self, other: Any = None, **kwargs: Any) -> None: ...
    def clear(self) -> None: ...
    def copy(self) -> dict[int, Any]: ...
    def __deepcopy__(self, memo: dict[int, Any], /) -> Self: ...

@final
class DatasetElements:
    def __iter__(self) -> Self: ...
    def __next__(self) -> Any: ...

@final
class KeywordAttribute:
    def __new__(cls, keyword: str, tag: int) -> Self: ...
    def __get__(self, instance: object, owner: type | None = None, /) -> Any: ...

@final
class Renderer:
    def __new__(cls, spec: Any) -> Self: ...
    def applies(self, ds: Any) -> bool: ...
    def pretty_str(self, ds: Any, indent: int, top_level_only: bool) -> str: ...
    def json_dict(
        self,
        ds: Any,
        bulk_data_threshold: int,
        bulk_data_element_handler: Callable[[Any], Any] | None,
        suppress_invalid_tags: bool,
    ) -> dict[str, Any]: ...
    def json_text(self, json_dict: Any) -> str | None: ...

@final
class DecodedFrame:
    @property
    def frame(self) -> bytearray | None: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def error(self) -> BaseException | None: ...

def rle_decode_frame(
    src: bytes,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    segment_order: str = ">",
) -> DecodedFrame: ...

@final
class ScanPlan:
    def __new__(
        cls,
        paths: list[tuple[list[tuple[int, int]], int]],
        options: ReadOptions,
        empty_text_is_none: bool,
    ) -> Self: ...

@final
class PendingValue:
    @property
    def column(self) -> int: ...
    @property
    def row(self) -> int: ...
    @property
    def tag(self) -> int: ...
    @property
    def vr(self) -> str | None: ...
    @property
    def value(self) -> bytes: ...
    @property
    def is_implicit_vr(self) -> bool: ...
    @property
    def is_little_endian(self) -> bool: ...

@final
class ScanOutcome:
    @property
    def columns(self) -> list[list[Any]]: ...
    @property
    def pending(self) -> list[PendingValue]: ...
    @property
    def charsets(self) -> dict[int, bytes]: ...
    @property
    def failures(self) -> dict[int, BaseException]: ...

def scan_paths(paths: list[str], plan: ScanPlan, workers: int) -> ScanOutcome: ...

@final
class PixelMap:
    """Owns the private mapping a native pixel array views (the array's base)."""

@final
class PixelRegion:
    def __len__(self) -> int: ...
    @property
    def vr(self) -> str | None: ...
    def array(self, start: int, length: int) -> NDArray[np.uint8]: ...
    def frame_ranges(
        self,
        number_of_frames: int,
        little: bool = True,
        *,
        offsets: list[int] | None = None,
        lengths: list[int] | None = None,
    ) -> list[tuple[int, int]] | None: ...
    def rle_decode(
        self,
        ranges: list[tuple[int, int]],
        rows: int,
        columns: int,
        samples_per_pixel: int,
        bits_allocated: int,
        out: NDArray[np.uint8],
        segment_order: str = ">",
        *,
        dtype: str | None = None,
        bits_stored: int | None = None,
    ) -> list[list[str]] | None: ...

def correct_unused_bits(
    data: NDArray[np.uint8], dtype: str, bits_stored: int
) -> None: ...
def stack_slices(
    src: NDArray[Any],
    volume: NDArray[Any],
    *,
    count: int,
    rows: int,
    columns: int,
    samples: int,
    swap: bool,
    slope: float | None = None,
    intercept: float = 0.0,
) -> None: ...

@final
class NativeLayout:
    @property
    def rows(self) -> int: ...
    @property
    def columns(self) -> int: ...
    @property
    def samples_per_pixel(self) -> int: ...
    @property
    def planar(self) -> bool: ...
    @property
    def dtype(self) -> str: ...
    @property
    def bits_allocated(self) -> int: ...
    @property
    def bits_stored(self) -> int: ...
    @property
    def unused_bits(self) -> bool: ...
    @property
    def number_of_frames(self) -> int: ...
    @property
    def frame_length(self) -> int: ...

def native_layout(
    *,
    rows: int | None,
    columns: int | None,
    samples_per_pixel: int | None,
    bits_allocated: int | None,
    bits_stored: int | None,
    pixel_representation: int | None,
    photometric_interpretation: str | None,
    planar_configuration: int | None,
    number_of_frames: int | None,
    little_endian: bool,
    pixel_vr: str | None,
    pixel_length: int,
) -> NativeLayout | None: ...

@final
class FrameInfo:
    @property
    def rows(self) -> int: ...
    @property
    def columns(self) -> int: ...
    @property
    def samples_per_pixel(self) -> int: ...
    @property
    def dtype(self) -> str: ...
    @property
    def number_of_frames(self) -> int: ...

def frame_info(path: str | PathLike[str]) -> FrameInfo | None: ...

@final
class RecentFiles: ...

@final
class BatchOutcome:
    @property
    def fallbacks(self) -> dict[int, str]: ...
    @property
    def warnings(self) -> dict[int, list[str]]: ...

def read_frames(
    items: list[tuple[str | PathLike[str], int]],
    out: NDArray[np.uint8] | NDArray[np.float32],
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    dtype: str | None,
    modality_lut: bool = False,
    voi_lut: bool = False,
    voi_index: int = 0,
    workers: int = 0,
    recent: RecentFiles | None = None,
) -> BatchOutcome: ...

# writer.rs
@final
class WriteCounts:
    @property
    def copied_bytes(self) -> int: ...
    @property
    def copies(self) -> int: ...
    @property
    def encoded(self) -> int: ...

def write_elements(
    elements: ElementDict,
    fp: Any,
    encode: Callable[[int], object],
    convert: Callable[[int], object],
    is_implicit_vr: bool,
    is_little_endian: bool,
    none_for_empty_text: bool,
) -> WriteCounts: ...

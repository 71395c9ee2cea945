"""Type stubs for the Rust extension ``dcmfast._core`` (checked against it by
``python -m mypy.stubtest dcmfast._core`` in .ci/run and tests/test_stubs.py)."""

from collections.abc import Iterator
from os import PathLike
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.errors import InvalidDicomError
from typing_extensions import Self, TypeAlias, final

__all__ = [
    "ElementDict",
    "FileIndex",
    "KeywordAttribute",
    "NotDicomError",
    "ParseError",
    "PixelMap",
    "PixelRegion",
    "Pydicom",
    "RecentFiles",
    "ScanPlan",
    "SourceReader",
    "charset_keeps_ascii",
    "charset_terms_defined",
    "detach_all",
    "detach_file",
    "frame_info",
    "live_mappings",
    "read_bytes",
    "read_frames",
    "read_path",
    "rle_decode_frame",
    "scan_paths",
]

class ParseError(ValueError):
    """The fast reader met bytes it does not describe exactly."""

class NotDicomError(InvalidDicomError):
    """No preamble and 'DICM' prefix, and force was not given."""

_Config: TypeAlias = tuple[bool, bool, bool]

def read_path(
    path: str | PathLike[str],
    force: bool,
    stop_before_pixels: bool,
    specific_tags: list[int] | None,
    defer_size: int | None,
    config: _Config,
) -> FileIndex: ...
def read_bytes(
    data: bytes,
    base: int,
    force: bool,
    stop_before_pixels: bool,
    specific_tags: list[int] | None,
    defer_size: int | None,
    config: _Config,
) -> FileIndex: ...

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
        self, factory: Any, pydicom: Pydicom, origin: tuple[Any, Any, Any, Any]
    ) -> tuple[Any, bool, bool]: ...
    def body_reader(self) -> SourceReader: ...
    def body_bytes(self) -> bytes: ...

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
    def convert(self, key: int, charset: Any) -> Any: ...
    def value_of(self, key: int, charset: Any) -> Any: ...
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

@final
class KeywordAttribute:
    def __new__(cls, keyword: str, tag: int) -> Self: ...
    def __get__(self, instance: object, owner: type | None = None, /) -> Any: ...

def rle_decode_frame(
    src: bytes,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    segment_order: str = ">",
) -> tuple[bytearray | None, list[str], Exception | None]: ...

@final
class ScanPlan:
    def __new__(
        cls,
        paths: list[tuple[list[tuple[int, int]], int]],
        force: bool,
        config: tuple[bool, bool, bool, bool],
    ) -> Self: ...

def scan_paths(
    paths: list[str], plan: ScanPlan, workers: int
) -> tuple[
    list[list[Any]],
    list[tuple[int, int, int, str | None, bytes, bool, bool]],
    list[tuple[int, bytes]],
    list[tuple[int, BaseException]],
]: ...

@final
class PixelMap:
    """Owns the private mapping a native pixel array views (the array's base)."""

@final
class PixelRegion:
    def __len__(self) -> int: ...
    @property
    def vr(self) -> str | None: ...
    def array(
        self,
        start: int,
        length: int,
        check: tuple[str, int] | None = None,
    ) -> tuple[NDArray[np.uint8], bool]: ...
    def frame_ranges(
        self,
        number_of_frames: int,
        little: bool = True,
        extended: tuple[list[int], list[int]] | None = None,
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
        correct: tuple[str, int] | None = None,
    ) -> list[list[str]] | None: ...

def frame_info(
    path: str | PathLike[str],
) -> tuple[int, int, int, str, int] | None: ...

@final
class RecentFiles: ...

def read_frames(
    items: list[tuple[str | PathLike[str], int]],
    out: NDArray[np.uint8] | NDArray[np.float32],
    geometry: tuple[int, int, int],
    dtype: str | None,
    processing: tuple[bool, bool, int],
    workers: int = 0,
    recent: RecentFiles | None = None,
) -> tuple[list[tuple[int, str]], list[tuple[int, list[str]]]]: ...

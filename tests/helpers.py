"""Helpers shared by the test modules (no test module imports another).

* ``CallOutcome``, ``call_outcome()`` and ``assert_same()``: what one call did (its
  value, warnings and exception) and a comparison of two such outcomes, pydicom's
  first. (``compare.Outcome`` is the richer record of one ``dcmread``.)
* An RLE encoder (PackBits) and frame and dataset builders, and the external tools
  that convert files to RLE.
* pydicom's reading of ``dcmfast.scan`` tag specs, the oracle of the scan tests.
* ``query()``: rows of the SQLite index.
* ``CT``: the path of pydicom's CT_small.dcm, the file most tests start from.
"""

from __future__ import annotations

import math
import shutil
import sqlite3
import struct
import subprocess
import warnings
from collections.abc import MutableSequence
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence
from pydicom.uid import RLELossless
from pydicom.valuerep import DA, DT, TM

CT = get_testdata_file("CT_small.dcm")


# --------------------------------------------------------------------------
# calls and their outcomes
# --------------------------------------------------------------------------
@dataclass
class CallOutcome:
    """What one call did."""

    # bytes, (dtype, shape, bytes), a list of those, or any value; None on error
    value: Any = None
    warnings: list = field(default_factory=list)  # messages, or (category, message)
    exc: tuple | None = None  # (class, message)
    extra: Any = None  # anything else both sides must agree on
    error: BaseException | None = None  # the exception itself, when kept

    def describe(self) -> str:
        value = self.value
        if isinstance(value, (bytes, bytearray)):
            value = f"<{len(value)} bytes {bytes(value[:16]).hex()}...>"
        elif isinstance(value, tuple):
            value = (value[0], value[1], f"<{len(value[2])} bytes>")
        elif isinstance(value, list):
            value = f"<{len(value)} arrays>"
        return f"value={value} warnings={self.warnings} exc={self.exc}"


def array_value(arr: np.ndarray) -> tuple[str, tuple[int, ...], bytes]:
    """(dtype, shape, bytes) of `arr`, in native byte order."""
    native = arr.dtype.newbyteorder("=")
    return native.str, arr.shape, arr.astype(native).tobytes()


def arrays_value(result: Any) -> list[tuple[str, tuple[int, ...], bytes]]:
    """(dtype, shape, bytes) of an array or of each array of a list, as stored."""
    arrays = result if isinstance(result, list) else [result]
    return [(a.dtype.str, a.shape, a.tobytes()) for a in arrays]


def call_outcome(
    func: Callable[[], Any], convert: Callable[[Any], Any] | None = None
) -> CallOutcome:
    """Call `func`: its value (through `convert`), the messages of the warnings it
    emitted (kept from the caller) and the exception it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = func()
            value = result if convert is None else convert(result)
        except Exception as e:  # noqa: BLE001 - compared with pydicom's
            messages = [str(w.message) for w in caught]
            return CallOutcome(None, messages, (type(e), str(e)), error=e)
    return CallOutcome(value, [str(w.message) for w in caught])


def arrays_outcome(func: Callable[[], Any]) -> CallOutcome:
    """``call_outcome`` of a call returning an array or a list of arrays."""
    return call_outcome(func, arrays_value)


def _assert_same_bytes(expected: bytes, actual: bytes, prefix: str) -> None:
    if actual != expected:
        n = min(len(expected), len(actual))
        first = next((i for i in range(n) if expected[i] != actual[i]), n)
        pytest.fail(
            f"{prefix}output differs ({len(actual)} vs. {len(expected)}"
            f" bytes), first at byte {first}"
        )


def assert_same(expected: CallOutcome, actual: CallOutcome, label: str = "") -> None:
    """Same exception, warnings and extra; same bytes (and dtype and shape)."""
    prefix = f"{label}: " if label else ""
    # pydicom's class or a subclass of it (dcmfast's NotDicomError), with its message.
    same_exc = (
        actual.exc == expected.exc
        if actual.exc is None or expected.exc is None
        else issubclass(actual.exc[0], expected.exc[0])
        and actual.exc[1:] == expected.exc[1:]
    )
    assert same_exc, (
        f"{prefix}exception differs\n  pydicom: {expected.describe()}\n"
        f"  dcmfast: {actual.describe()}"
    )
    assert actual.warnings == expected.warnings, f"{prefix}warnings differ"
    assert actual.extra == expected.extra, f"{prefix}{actual.extra} != {expected.extra}"
    if expected.value is None:
        assert actual.value is None
        return
    if isinstance(expected.value, list):
        assert len(actual.value) == len(expected.value), f"{prefix}array count"
        pairs = list(zip(expected.value, actual.value))
    else:
        pairs = [(expected.value, actual.value)]
    for want, got in pairs:
        if isinstance(want, tuple):
            (dt_e, shape_e, want), (dt_a, shape_a, got) = want, got
            assert (dt_a, shape_a) == (dt_e, shape_e), f"{prefix}dtype/shape differ"
        _assert_same_bytes(want, got, prefix)


# --------------------------------------------------------------------------
# a PackBits encoder and RLE frame and dataset builders
# --------------------------------------------------------------------------
def packbits(data: bytes) -> bytes:
    """PackBits-encode `data` (replicate runs of 2-128, literal runs of 1-128)."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        j = i + 1
        while j < n and j - i < 128 and data[j] == data[i]:
            j += 1
        if j - i >= 2:
            out += bytes((257 - (j - i), data[i]))
            i = j
            continue
        j = i
        while j < n and j - i < 128:
            if j + 2 < n and data[j] == data[j + 1] == data[j + 2]:
                break
            j += 1
        out.append(j - i - 1)
        out += data[i:j]
        i = j
    return bytes(out)


def header(offsets, count: int | None = None, size: int = 64) -> bytes:
    """An RLE header with `offsets`, its segment count `count` (default: the
    number of offsets), zero-filled (or cut) to `size` bytes."""
    count = len(offsets) if count is None else count
    raw = struct.pack(f"<{1 + len(offsets)}L", count, *offsets)
    return raw[:size].ljust(size, b"\x00")


def rle_frame(segments, count: int | None = None, pad: bytes | None = b"\x00") -> bytes:
    """Header + segments; odd-length segments get `pad` (None: left odd)."""
    if pad is not None:
        segments = [s + pad if len(s) % 2 else s for s in segments]
    offsets, position = [], 64
    for segment in segments:
        offsets.append(position)
        position += len(segment)
    return header(offsets, count) + b"".join(segments)


def segment_planes(arr: np.ndarray, order: str = ">") -> list[bytes]:
    """The byte planes of `arr` (rows, columns[, samples]) in segment order."""
    if arr.ndim == 2:
        arr = arr[..., None]
    rows, columns, spp = arr.shape
    size = arr.dtype.itemsize
    little = arr.astype(arr.dtype.newbyteorder("<"))
    planes = []
    for sample in range(spp):
        raw = np.ascontiguousarray(little[..., sample]).view(np.uint8)
        raw = raw.reshape(rows * columns, size)
        byte_order = range(size - 1, -1, -1) if order == ">" else range(size)
        planes += [raw[:, b].tobytes() for b in byte_order]
    return planes


def encode_frame(
    arr: np.ndarray, order: str = ">", by_row: bool = True, pad: bytes = b"\x00"
) -> bytes:
    """RLE-encode one frame; by_row=False lets runs cross row boundaries."""
    columns = arr.shape[1]
    segments = []
    for plane in segment_planes(arr, order):
        if by_row:
            rows = [plane[i : i + columns] for i in range(0, len(plane), columns)]
            segments.append(b"".join(packbits(r) for r in rows))
        else:
            segments.append(packbits(plane))
    return rle_frame(segments, pad=pad)


def rle_dataset(frames, rows, columns, spp, bits, signed=False) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = RLELossless
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, columns, spp
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.PixelRepresentation = int(signed)
    ds.PhotometricInterpretation = "RGB" if spp == 3 else "MONOCHROME2"
    if spp == 3:
        ds.PlanarConfiguration = 1
    ds.NumberOfFrames = len(frames)
    ds.PixelData = encapsulate(list(frames))
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return ds


def sample_image(rng, rows, columns, spp, bits) -> np.ndarray:
    """Plateaus (replicate runs, some crossing rows) mixed with noise (literals)."""
    dtype = np.dtype(f"<u{bits // 8}")
    top = np.iinfo(dtype).max
    shape = (rows, columns, spp) if spp > 1 else (rows, columns)
    arr = rng.integers(0, top, size=shape, dtype=dtype, endpoint=True)
    flat = arr.reshape(-1, *shape[2:])
    for _ in range(4):
        start = int(rng.integers(0, flat.shape[0]))
        flat[start : start + int(rng.integers(1, 3 * columns))] = rng.integers(
            0, top, dtype=dtype, endpoint=True
        )
    return arr


# The external encoders that convert a file to RLE Lossless: command, then the
# source and destination paths.
RLE_TOOLS = {"dcmtk": ["dcmcrle"], "gdcm": ["gdcmconv", "--rle"]}


def convert_with(command: list[str], src: str, dst: str) -> None:
    """Convert `src` to `dst` with `command`, skipping the test without the tool."""
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} not installed (apt-get install dcmtk libgdcm-tools)")
    proc = subprocess.run(
        [*command, src, dst],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (
        f"{command[0]} failed on {src}: {proc.stdout}{proc.stderr}"
    )


# --------------------------------------------------------------------------
# scan specs as pydicom reads them
# --------------------------------------------------------------------------
def expected_plain(value):
    """pydicom's value as the plain type scan documents (written independently of
    dcmfast's own conversion)."""
    if isinstance(value, Sequence):
        return None
    if isinstance(value, MutableSequence):
        return [expected_plain(v) for v in value]
    if isinstance(value, (DA, DT, TM)):
        return value.original_string
    if isinstance(value, str):
        return str(value)
    if isinstance(value, pydicom.valuerep.PersonName):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return value


def _spec_path(spec):
    """(steps, tag) of a spec, resolved with pydicom's own dictionary."""
    if isinstance(spec, tuple):
        return [], pydicom.tag.Tag(spec)
    if isinstance(spec, int):
        return [], pydicom.tag.Tag(spec)
    if spec.startswith("("):
        group, element = spec.strip("()").split(",")
        return [], pydicom.tag.Tag(int(group, 16), int(element, 16))
    steps = []
    *sequences, last = spec.split(".")
    for step in sequences:
        name, index = step.rstrip("]").split("[")
        steps.append((pydicom.tag.Tag(name), int(index)))
    return steps, pydicom.tag.Tag(last)


def pydicom_values(path, specs, force=False):
    """Each spec's value as pydicom reads it, or the exception pydicom raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=force)
        values = []
        for spec in specs:
            steps, tag = _spec_path(spec)
            current = ds
            for seq_tag, index in steps:
                elem = current.get(seq_tag)
                if elem is None or len(elem.value) <= index:
                    current = None
                    break
                current = elem.value[index]
            if current is not None and tag.group == 2 and not steps:
                current = ds.file_meta
            elem = None if current is None else current.get(tag)
            values.append(None if elem is None else expected_plain(elem.value))
        return values


def typed(value):
    """`value` with its type made part of equality (and NaN equal to NaN)."""
    if isinstance(value, list):
        return [typed(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return type(value).__name__, value


# --------------------------------------------------------------------------
# the SQLite index
# --------------------------------------------------------------------------
def query(db, sql: str) -> list[tuple]:
    """The rows `sql` selects from the index at `db`."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# pydicom test files an archive of tests is made of: every kind of image, an error
# row, and a DICOM file that is no instance (test_index, test_dask).
ARCHIVE_SOURCES = [
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_bigendian.dcm",
    "rtdose.dcm",
    "JPEG2000.dcm",
    "SC_rgb_rle.dcm",
    "image_dfl.dcm",
    "emri_small.dcm",
    "no_meta.dcm",  # not read without force: an error row
    "DICOMDIR",  # DICOM, but no instance of a series
]

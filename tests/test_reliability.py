"""Failure classes a drop-in must survive where pydicom does (issue 13).

- a file edited and saved in place while its dataset (and arrays from it) are alive;
- a file truncated by another process while its dataset and arrays are alive;
- trailing zero bytes (memory bounded by the real elements, not the file's size);
- a Transfer Syntax UID element written with another VR.

The scan and index failure classes are in ``test_reliability_scan.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import dcmfast
import numpy as np
import pydicom
import pytest
from compare import assert_same_dataset, assert_same_outcome, read_both
from dcmfast import _core
from helpers import CT, CallOutcome, call_outcome, encode_frame
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

PIXEL_TAGS = (0x7FE00008, 0x7FE00009, 0x7FE00010)


def _same(a: CallOutcome, b: CallOutcome) -> bool:
    """Both raised the same class, or both returned (equal arrays, if arrays)."""
    if (a.exc is None) != (b.exc is None):
        return False
    if a.exc is not None:
        return a.exc[0] == b.exc[0]
    if isinstance(a.value, np.ndarray):
        return isinstance(b.value, np.ndarray) and np.array_equal(a.value, b.value)
    return True


# --------------------------------------------------------------------------
# 1. edit and save in place
# --------------------------------------------------------------------------
def _edit_and_save(read: Any, path: Path) -> dict[str, Any]:
    """pydicom's most common workflow, on `path`: read, take the pixel array, change
    a tag, save over the file. Returns what each step gave."""
    steps: dict[str, Any] = {"read": call_outcome(lambda: read(path))}
    if steps["read"].exc is not None:
        return steps
    ds = steps["read"].value
    steps["array"] = call_outcome(lambda: ds.pixel_array)
    steps["edit"] = call_outcome(lambda: setattr(ds, "PatientName", "Edited^InPlace"))
    steps["save"] = call_outcome(lambda: ds.save_as(path, overwrite=True))
    steps["ds"] = ds
    return steps


def test_edit_and_save_in_place(dicom_file, tmp_path):
    ours, theirs = tmp_path / "ours.dcm", tmp_path / "theirs.dcm"
    shutil.copy(dicom_file, ours)
    shutil.copy(dicom_file, theirs)
    want = _edit_and_save(pydicom.dcmread, theirs)
    if want["read"].exc is not None:
        pytest.skip("pydicom cannot read this file")
    got = _edit_and_save(dcmfast.dcmread, ours)
    for step in ("read", "array", "edit", "save"):
        assert _same(want[step], got[step]), (step, want[step], got[step])
    # The file written is pydicom's, byte for byte.
    assert ours.read_bytes() == theirs.read_bytes()
    # The array taken before the file was rewritten keeps its values.
    if want["array"].exc is None:
        np.testing.assert_array_equal(got["array"].value, want["array"].value)
    # Every value of the dataset read before the save is still the one read.
    for attr in ("filename", "timestamp"):  # the two files' own
        setattr(want["ds"], attr, getattr(got["ds"], attr))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_dataset(want["ds"], got["ds"])
    # And the saved file reads as pydicom reads it.
    expected, actual = read_both(str(ours))
    assert_same_outcome(expected, actual, ours.name)


def _native_file(path: Path, frames: int = 40) -> Path:
    """A native file whose pixel data is large enough for dcmfast to map (and view)."""
    arr = np.arange(frames * 256 * 256, dtype=np.uint32).astype(np.uint16)
    ds = _image_dataset(ExplicitVRLittleEndian, frames)
    ds.PixelData = arr.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def _rle_file(path: Path, frames: int = 12) -> Path:
    """An RLE Lossless file over 1 MiB (so its pixel data stays mapped)."""
    rng = np.random.default_rng(5)
    frame = rng.integers(0, 65535, (256, 256), dtype=np.uint16)
    ds = _image_dataset(RLELossless, frames)
    ds.PixelData = encapsulate([encode_frame(frame)] * frames)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.save_as(path, enforce_file_format=True)
    assert path.stat().st_size > 1024 * 1024
    return path


def _image_dataset(tsyntax: str, frames: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = tsyntax
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", "1.2.3.4"
    ds.PatientID, ds.PatientName = "RELIABLE", "Doe^Jane"
    ds.Rows = ds.Columns = 256
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = frames
    return ds


@pytest.mark.parametrize("make", [_native_file, _rle_file], ids=["native", "rle"])
def test_arrays_and_values_survive_saving_over_their_file(tmp_path, make):
    path = make(tmp_path / "big.dcm")
    want = pydicom.dcmread(path)
    want_array = want.pixel_array
    ds = dcmfast.dcmread(path)
    whole = ds.pixel_array  # a view of the file when native
    frame = dcmfast.pixel_array(ds, index=3)
    assert _core.live_mappings() > 0
    ds.PatientID = "CHANGED"
    ds.save_as(path, overwrite=True)
    assert _core.live_mappings() == 0  # every mapping of the file was detached
    np.testing.assert_array_equal(whole, want_array)
    np.testing.assert_array_equal(frame, want_array[3])
    assert ds.PixelData == want.PixelData
    whole[0, 0, 0] = 1  # still writeable, still private
    assert pydicom.dcmread(path).pixel_array[0, 0, 0] == want_array[0, 0, 0]


def test_pydicom_dcmwrite_over_a_mapped_file_detaches_it(tmp_path):
    path = _native_file(tmp_path / "big.dcm")
    want = pydicom.dcmread(path).pixel_array
    arr = dcmfast.dcmread(path).pixel_array
    other = pydicom.dcmread(CT)
    pydicom.dcmwrite(path, other)  # pydicom's own writer, not patched by the user
    np.testing.assert_array_equal(arr, want)
    assert pydicom.dcmread(path).PatientID == other.PatientID


# --------------------------------------------------------------------------
# 2. truncation by another process
# --------------------------------------------------------------------------
def _truncate_elsewhere(path: Path, size: int) -> None:
    code = f"open({str(path)!r}, 'r+b').truncate({size})"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("make", [_native_file, _rle_file], ids=["native", "rle"])
def test_truncated_by_another_process(tmp_path, make):
    path = make(tmp_path / "big.dcm")
    want = pydicom.dcmread(path)
    ds = dcmfast.dcmread(path)
    frame = dcmfast.pixel_array(ds, index=1)  # read into memory: small
    _truncate_elsewhere(path, 2000)
    # Header values are the ones read, whatever the file holds now.
    for elem in want:
        if elem.tag not in PIXEL_TAGS:
            assert ds[elem.tag].value == elem.value, elem
    assert ds.PatientID == "RELIABLE" and ds.Rows == 256
    # Bulk data that would now be read from the changed file is refused, not invented.
    with pytest.raises(OSError, match="changed or truncated"):
        ds.PixelData  # noqa: B018
    with pytest.raises(OSError, match="changed or truncated"):
        ds.pixel_array  # noqa: B018
    np.testing.assert_array_equal(frame, want.pixel_array[1])


def test_deferred_values_of_a_large_file_read_as_pydicom_reads_them(tmp_path):
    path = _native_file(tmp_path / "big.dcm")
    want = pydicom.dcmread(path, defer_size=1024)
    ds = dcmfast.dcmread(path, defer_size=1024)
    assert ds["PixelData"].value == want["PixelData"].value
    np.testing.assert_array_equal(ds.pixel_array, want.pixel_array)


def test_file_like_reads_never_depend_on_the_file(tmp_path):
    path = _native_file(tmp_path / "big.dcm")
    want = pydicom.dcmread(path)
    with open(path, "rb") as f:
        ds = dcmfast.dcmread(f)
    _truncate_elsewhere(path, 0)
    np.testing.assert_array_equal(ds.pixel_array, want.pixel_array)


# --------------------------------------------------------------------------
# 6. trailing zero bytes
# --------------------------------------------------------------------------
def _with_zeros(path: Path, zeros: int, sparse: bool = False) -> Path:
    shutil.copy(CT, path)
    with open(path, "r+b") as f:
        f.seek(0, 2)
        if sparse:
            f.truncate(f.tell() + zeros)
        else:
            f.write(bytes(zeros))
    return path


def test_trailing_zeros_read_as_pydicom_reads_them(tmp_path):
    path = _with_zeros(tmp_path / "zeros.dcm", 2 * 1024 * 1024 + 8)
    expected, actual = read_both(str(path))
    assert_same_outcome(expected, actual, "zeros")


_PEAK = """
import resource, sys
import dcmfast
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ds = dcmfast.dcmread(sys.argv[1])
assert ds.PatientID == {patient!r}, ds.PatientID
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(grown // 1024)
"""


@pytest.mark.parametrize("sparse", [False, True], ids=["100MB", "sparse-2GB"])
def test_trailing_zeros_memory_is_bounded(tmp_path, sparse):
    size = 2 * 1024**3 if sparse else 100 * 1024**2
    path = _with_zeros(tmp_path / "zeros.dcm", size, sparse)
    patient = pydicom.dcmread(CT).PatientID
    run = subprocess.run(
        [sys.executable, "-c", _PEAK.format(patient=patient), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    # Peak memory grows by a few pages of the walk, not by the file's size.
    assert int(run.stdout) < 32, f"peak RSS grew by {run.stdout.strip()} MiB"


# --------------------------------------------------------------------------
# 7. a Transfer Syntax UID with another VR
# --------------------------------------------------------------------------
@pytest.mark.parametrize("vr", ["LO", "SH", "CS", "TM", "ST"])
def test_transfer_syntax_with_another_vr(tmp_path, vr):
    data = bytearray(Path(CT).read_bytes())
    at = data.find(b"\x02\x00\x10\x00UI")
    data[at + 4 : at + 6] = vr.encode()
    path = tmp_path / "ts.dcm"
    path.write_bytes(data)
    want = call_outcome(lambda: pydicom.dcmread(path).pixel_array)
    assert want.exc is None
    for got in (
        call_outcome(lambda: dcmfast.dcmread(path).pixel_array),
        call_outcome(lambda: dcmfast.pixel_array(path)),
        call_outcome(lambda: dcmfast.pixel_array(dcmfast.dcmread(path))),
        call_outcome(lambda: next(dcmfast.iter_pixels(path))),
        call_outcome(lambda: next(dcmfast.iter_pixels(dcmfast.dcmread(path)))),
    ):
        assert _same(want, got), got

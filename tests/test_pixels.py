"""Pixel data: ``dcmfast.dcmread(p).pixel_array``, ``dcmfast.pixel_array`` and
``dcmfast.iter_pixels`` against pydicom 3.0.2 on every test file, plus the zero-copy
properties of native arrays and the whole-array RLE path on synthetic data.

pydicom is the oracle: same dtype, shape and values, same warnings (in order), same
exception class and message. RLE files are compared with ``decoding_plugin="pydicom"``
on both sides, since pydicom's first choice may be another installed plugin
(pylibjpeg-rle) whose warnings differ from pydicom's own.
"""

from __future__ import annotations

import gc
import mmap
import shutil
import warnings
from pathlib import Path
from typing import Any, Callable

import dcmfast
import numpy as np
import pydicom
import pytest
from conftest import all_test_files, file_id
from dcmfast import _core
from helpers import (
    CT,
    RLE_TOOLS,
    arrays_outcome,
    assert_same,
    convert_with,
    encode_frame,
    header,
    packbits,
    rle_dataset,
    rle_frame,
    sample_image,
)
from pydicom.dataset import Dataset
from pydicom.pixels import iter_pixels as pydicom_iter_pixels
from pydicom.pixels import pixel_array as pydicom_pixel_array
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

pytestmark = pytest.mark.usefixtures("quiet_pydicom_logger")


def _assert_same_call(
    theirs: Callable[[], Any], ours: Callable[[], Any], label: str
) -> None:
    """pydicom's call and ours return the same arrays, warnings and exception."""
    assert_same(arrays_outcome(theirs), arrays_outcome(ours), label)


def _options(path: str) -> dict[str, str]:
    meta = pydicom.filereader.read_file_meta_info(path)
    ts = meta.get("TransferSyntaxUID")
    return {"decoding_plugin": "pydicom"} if ts == RLELossless else {}


def _dataset_array(read: Callable, path: str, **opts: Any) -> np.ndarray:
    ds = read(path)
    if opts:
        ds.pixel_array_options(**opts)
    return ds.pixel_array


def _safe_options(path: str) -> dict[str, str]:
    try:
        return _options(path)
    except Exception:  # noqa: BLE001 - no file meta: no plugin choice to make
        return {}


@pytest.fixture(params=all_test_files(), ids=file_id)
def any_file(request) -> str:
    return request.param


def test_dataset_pixel_array(any_file):
    opts = _safe_options(any_file)
    # a file that needs a codec numpy alone cannot provide fails the same way
    _assert_same_call(
        lambda: _dataset_array(pydicom.dcmread, any_file, **opts),
        lambda: _dataset_array(dcmfast.dcmread, any_file, **opts),
        any_file,
    )


def test_dataset_pixel_array_default_options(any_file):
    """Without options pydicom may choose another RLE plugin: values still match."""
    expected = arrays_outcome(lambda: pydicom.dcmread(any_file).pixel_array)
    if expected.exc is not None:
        pytest.skip("pydicom cannot decode this file with numpy alone")
    actual = arrays_outcome(lambda: dcmfast.dcmread(any_file).pixel_array)
    assert actual.exc is None
    assert actual.value == expected.value


def _frames(path: str) -> int | None:
    """Number of frames pydicom decodes, or None when it cannot decode the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = pydicom.dcmread(path).pixel_array
            ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:  # noqa: BLE001
        return None
    n = int(ds.get("NumberOfFrames") or 1)
    return n if n > 1 and arr.ndim > 2 and arr.shape[0] == n else 1


def test_frames_by_path(any_file):
    frames = _frames(any_file)
    if frames is None:
        pytest.skip("pydicom cannot decode this file with numpy alone")
    opts = _safe_options(any_file)
    for k in [*range(frames), frames]:  # and one past the end
        _assert_same_call(
            lambda k=k: pydicom_pixel_array(any_file, index=k, **opts),
            lambda k=k: dcmfast.pixel_array(any_file, index=k, **opts),
            f"{any_file} frame {k}",
        )
    _assert_same_call(
        lambda: pydicom_pixel_array(any_file, **opts),
        lambda: dcmfast.pixel_array(any_file, **opts),
        f"{any_file} whole",
    )


def test_iter_pixels(any_file):
    frames = _frames(any_file)
    if frames is None:
        pytest.skip("pydicom cannot decode this file with numpy alone")
    opts = _safe_options(any_file)
    for src in (any_file, Path(any_file)):
        _assert_same_call(
            lambda src=src: list(pydicom_iter_pixels(src, **opts)),
            lambda src=src: list(dcmfast.iter_pixels(src, **opts)),
            f"{any_file} iter",
        )
    if frames > 1:
        indices = [frames - 1, 0]
        _assert_same_call(
            lambda: list(
                pydicom_iter_pixels(pydicom.dcmread(any_file), indices=indices, **opts)
            ),
            lambda: list(
                dcmfast.iter_pixels(dcmfast.dcmread(any_file), indices=indices, **opts)
            ),
            f"{any_file} iter dataset",
        )


def test_frames_of_dataset_and_out(any_file):
    frames = _frames(any_file)
    if frames is None:
        pytest.skip("pydicom cannot decode this file with numpy alone")
    opts = _safe_options(any_file)
    ds = dcmfast.dcmread(any_file)
    for k in range(frames):
        want = pydicom_pixel_array(pydicom.dcmread(any_file), index=k, **opts)
        got = dcmfast.pixel_array(ds, index=k, **opts)
        assert (got.dtype, got.shape) == (want.dtype, want.shape)
        np.testing.assert_array_equal(got, want)
        out = np.full(want.shape, 7, dtype=want.dtype)
        assert dcmfast.pixel_array(ds, index=k, out=out, **opts) is out
        np.testing.assert_array_equal(out, want)


# --------------------------------------------------------------------------
# native arrays: views of private mappings
# --------------------------------------------------------------------------
def _map_of(arr: np.ndarray) -> Any:
    base = arr
    while base is not None and not isinstance(base, _core.PixelMap):
        base = getattr(base, "base", None)
    return base


def _pixel_offset(path: str) -> int:
    ds = pydicom.dcmread(path, defer_size=16)
    return ds["PixelData"].file_tell


def _large_native(tmp_path) -> Path:
    """A native multi-frame file whose pixel data is above the size dcmfast views."""
    arr = np.arange(40 * 256 * 256, dtype=np.uint32).astype(np.uint16)
    return _write_native(tmp_path, arr.reshape(40, 256, 256), 16, False, "large.dcm")


def test_large_native_array_views_the_file(tmp_path):
    path = str(_large_native(tmp_path))
    arr = dcmfast.dcmread(path).pixel_array
    assert not arr.flags.owndata
    assert arr.flags.writeable
    assert isinstance(_map_of(arr), _core.PixelMap)
    # The data pointer sits at the pixel data's file offset within a page: a mapping
    # of the file's pages, not a copy (which numpy would align to 16 bytes at most).
    assert arr.ctypes.data % mmap.PAGESIZE == _pixel_offset(path) % mmap.PAGESIZE
    np.testing.assert_array_equal(arr, pydicom.dcmread(path).pixel_array)


def test_small_native_array_is_read_into_memory():
    path = CT
    arr = dcmfast.dcmread(path).pixel_array
    assert _map_of(arr) is None
    assert arr.flags.writeable
    np.testing.assert_array_equal(arr, pydicom.dcmread(path).pixel_array)


@pytest.mark.parametrize("large", [False, True])
def test_writes_stay_private(tmp_path, large):
    path = tmp_path / "ct.dcm"
    shutil.copy(_large_native(tmp_path) if large else CT, path)
    before = path.read_bytes()
    ds = dcmfast.dcmread(path)
    first = ds.pixel_array
    ds.pixel_array_options()  # forget the cached array
    second = ds.pixel_array
    assert first is not second
    first[:] = 1234
    assert path.read_bytes() == before
    np.testing.assert_array_equal(second, pydicom.dcmread(path).pixel_array)
    np.testing.assert_array_equal(
        dcmfast.dcmread(path).pixel_array, pydicom.dcmread(path).pixel_array
    )
    assert ds["PixelData"].value == pydicom.dcmread(path).PixelData


def test_array_outlives_dataset():
    path = CT
    arr = dcmfast.dcmread(path).pixel_array[10:20]
    gc.collect()
    np.testing.assert_array_equal(arr, pydicom.dcmread(path).pixel_array[10:20])


def test_moved_file_is_copied(tmp_path):
    path = tmp_path / "ct.dcm"
    shutil.copy(_large_native(tmp_path), path)
    ds = dcmfast.dcmread(path)
    path.rename(tmp_path / "moved.dcm")
    shutil.copy(tmp_path / "moved.dcm", path)  # another file, same name and content
    arr = ds.pixel_array
    assert _map_of(arr) is None
    np.testing.assert_array_equal(arr, pydicom.dcmread(path).pixel_array)


def test_file_like_is_copied():
    with open(CT, "rb") as f:
        arr = dcmfast.dcmread(f).pixel_array
    assert _map_of(arr) is None
    np.testing.assert_array_equal(arr, pydicom.dcmread(CT).pixel_array)


def _write_native(tmp_path, arr, bits_stored, signed, name="n.dcm") -> Path:
    ds = Dataset()
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", "1.2.3.4"
    ds.Rows, ds.Columns = arr.shape[-2:]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored, ds.HighBit = bits_stored, bits_stored - 1
    ds.PixelRepresentation = int(signed)
    if arr.ndim == 3:
        ds.NumberOfFrames = arr.shape[0]
    ds.PixelData = arr.tobytes()
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("dirty", [False, True])
def test_bits_stored_correction(tmp_path, signed, dirty):
    rng = np.random.default_rng(1)
    dtype = np.int16 if signed else np.uint16
    arr = rng.integers(-2048 if signed else 0, 2048, (3, 16, 16)).astype(dtype)
    if dirty:
        arr[1, 2, 3] = 0x3000  # bits above Bits Stored set
    path = _write_native(tmp_path, arr, 12, signed)
    for index in (None, 1):
        want = pydicom_pixel_array(pydicom.dcmread(path), index=index)
        got = dcmfast.pixel_array(dcmfast.dcmread(path), index=index)
        assert (got.dtype, got.shape) == (want.dtype, want.shape)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dirty", [False, True])
def test_bits_stored_correction_of_a_view(tmp_path, dirty):
    arr = np.arange(40 * 256 * 256, dtype=np.uint32).astype(np.uint16) & 0x0FFF
    if dirty:
        arr[1234] = 0x3000  # bits above Bits Stored set
    path = _write_native(tmp_path, arr.reshape(40, 256, 256), 12, False)
    want = pydicom.dcmread(path).pixel_array
    got = dcmfast.dcmread(path).pixel_array
    np.testing.assert_array_equal(got, want)
    # The correction (applied in place when due) keeps the view.
    assert isinstance(_map_of(got), _core.PixelMap)


def test_cache_and_resets():
    path = CT
    steps: list[Callable[[Dataset], Any]] = [
        lambda ds: ds.pixel_array,
        lambda ds: ds.pixel_array,
        lambda ds: setattr(ds, "Rows", 64) or ds.pixel_array.shape,
        lambda ds: setattr(ds, "PixelData", bytes(64 * 128 * 2)) or ds.pixel_array,
        lambda ds: ds.pixel_array_options(index=None, raw=True) or ds.pixel_array,
        lambda ds: delattr(ds, "PixelData") or ds.pixel_array,
    ]
    ours, theirs = dcmfast.dcmread(path), pydicom.dcmread(path)
    previous: dict[str, Any] = {}
    for n, step in enumerate(steps):
        _assert_same_call(
            lambda step=step: step(theirs),
            lambda step=step: step(ours),
            f"step {n}",
        )
        if n == 1:
            assert ours.pixel_array is previous["array"]
        previous["array"] = ours.pixel_array if "PixelData" in ours else None


@pytest.mark.parametrize(
    "bad",
    [
        lambda s, d: np.zeros(s, np.float64),
        lambda s, d: np.zeros((1, *s), d),
        lambda s, d: np.zeros(s[::-1], d).T,
        lambda s, d: np.zeros(s, d).copy() if False else _read_only(np.zeros(s, d)),
        lambda s, d: list(np.zeros(s, d)),
    ],
    ids=["dtype", "shape", "order", "read-only", "list"],
)
def test_out_errors(bad):
    path = CT
    want = pydicom.dcmread(path).pixel_array
    with pytest.raises((TypeError, ValueError), match="'out'"):
        dcmfast.pixel_array(path, out=bad(want.shape, want.dtype))


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


# --------------------------------------------------------------------------
# RLE: the whole-array, parallel path on synthetic files
# --------------------------------------------------------------------------
def _save(ds: Dataset, path: Path) -> Path:
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", "1.2.3.4"
    ds.save_as(path, enforce_file_format=True)
    return path


def compare_rle_file(path: Path) -> None:
    label = path.name
    opts = {"decoding_plugin": "pydicom"}
    _assert_same_call(
        lambda: _dataset_array(pydicom.dcmread, str(path), **opts),
        lambda: _dataset_array(dcmfast.dcmread, str(path), **opts),
        label,
    )
    # Default options: pydicom may choose another plugin; values and errors agree.
    want_default = arrays_outcome(lambda: _dataset_array(pydicom.dcmread, str(path)))
    got = arrays_outcome(lambda: _dataset_array(dcmfast.dcmread, str(path)))
    assert got.exc == want_default.exc, label
    assert got.value == want_default.value, label
    n = int(pydicom.dcmread(path, stop_before_pixels=True).get("NumberOfFrames") or 1)
    for k in range(n):
        _assert_same_call(
            lambda k=k: pydicom_pixel_array(path, index=k, **opts),
            lambda k=k: dcmfast.pixel_array(path, index=k, **opts),
            f"{label} frame {k}",
        )


@pytest.mark.parametrize("bits", [8, 16, 32, 64])
@pytest.mark.parametrize("spp", [1, 3])
@pytest.mark.parametrize("by_row", [True, False], ids=["rows", "crossing"])
def test_rle_whole_array(tmp_path, bits, spp, by_row):
    rng = np.random.default_rng(bits * spp)
    rows, columns = 7, 9  # odd: odd-length segments get a pad byte
    images = [sample_image(rng, rows, columns, spp, bits) for _ in range(5)]
    frames = [encode_frame(a, by_row=by_row) for a in images]
    path = _save(rle_dataset(frames, rows, columns, spp, bits), tmp_path / "r.dcm")
    if spp * bits // 8 > 15:  # more segments than RLE allows: pydicom's error
        compare_rle_file(path)
        return
    ours = dcmfast.dcmread(path).pixel_array
    np.testing.assert_array_equal(ours, np.stack(images))
    assert ours.flags.c_contiguous
    compare_rle_file(path)


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("spp", [1, 3])
def test_rle_bits_stored_correction(tmp_path, signed, spp):
    rng = np.random.default_rng(7)
    images = [sample_image(rng, 6, 10, spp, 16) for _ in range(3)]
    images[1][:] &= 0x0FFF  # a frame the correction leaves alone
    frames = [encode_frame(a) for a in images]
    ds = rle_dataset(frames, 6, 10, spp, 16, signed=signed)
    ds.BitsStored, ds.HighBit = 12, 11
    compare_rle_file(_save(ds, tmp_path / "b.dcm"))


def _segments(value: int, pixels: int) -> bytes:
    return packbits(bytes([value]) * pixels)


RLE_CASES = {
    "no-op bytes": lambda p: rle_frame([b"\x80" + _segments(5, p) + b"\x80"]),
    "padding": lambda p: rle_frame([_segments(5, p + 3)]),
    "truncated segment": lambda p: rle_frame([_segments(5, p - 2)]),
    "run cut by the end": lambda p: rle_frame([bytes([p + 4]) + b"\x01" * 3], pad=None),
    "segment count": lambda p: rle_frame([_segments(5, p)] * 2),
    "too many segments": lambda p: header([64], count=16) + _segments(5, p),
    "offset out of range": lambda p: header([4096]) + _segments(5, p),
    "short header": lambda p: b"\x01\x00",
}


@pytest.mark.parametrize("case", RLE_CASES, ids=list(RLE_CASES))
@pytest.mark.parametrize("bad_frame", [0, 2])
def test_rle_edge_cases(tmp_path, case, bad_frame):
    rows, columns = 4, 5
    good = rle_frame([_segments(9, rows * columns)])
    frames = [good] * 4
    frames[bad_frame] = RLE_CASES[case](rows * columns)
    path = _save(rle_dataset(frames, rows, columns, 1, 8), tmp_path / "e.dcm")
    compare_rle_file(path)


def test_rle_frames_spanning_fragments_go_to_pydicom(tmp_path):
    rng = np.random.default_rng(3)
    images = [sample_image(rng, 6, 6, 1, 16) for _ in range(2)]
    frames = [encode_frame(a) for a in images]
    ds = rle_dataset(frames, 6, 6, 1, 16)
    from pydicom.encaps import encapsulate

    ds.PixelData = encapsulate(frames, fragments_per_frame=2, has_bot=True)
    path = _save(ds, tmp_path / "f.dcm")
    compare_rle_file(path)


@pytest.mark.parametrize("spp,bits", [(1, 16), (3, 8)])
def test_rle_into_out(tmp_path, spp, bits):
    rng = np.random.default_rng(5)
    images = [sample_image(rng, 8, 8, spp, bits) for _ in range(3)]
    frames = [encode_frame(a) for a in images]
    path = _save(rle_dataset(frames, 8, 8, spp, bits), tmp_path / "o.dcm")
    batch = np.zeros((3, *images[0].shape), images[0].dtype)
    for k in range(3):
        assert dcmfast.pixel_array(path, index=k, out=batch[k]) is batch[k] or True
    np.testing.assert_array_equal(batch, np.stack(images))


ENCODERS = {
    "dcmtk": (
        RLE_TOOLS["dcmtk"],
        ["emri_small.dcm", "SC_rgb_16bit_2frame.dcm", "rtdose.dcm"],
    ),
    "gdcm": (RLE_TOOLS["gdcm"], ["emri_small.dcm", "rtdose.dcm", "SC_rgb.dcm"]),
}


@pytest.mark.parametrize("tool", list(ENCODERS))
def test_rle_other_encoders(tmp_path, tool):
    command, names = ENCODERS[tool]
    for name in names:
        src = pydicom.data.get_testdata_file(name)
        dst = tmp_path / f"{tool}-{name}"
        convert_with(command, src, str(dst))
        compare_rle_file(dst)
        np.testing.assert_array_equal(
            dcmfast.dcmread(dst).pixel_array, pydicom.dcmread(src).pixel_array
        )


def test_threads_leave_warning_state_as_it_was(tmp_path):
    """Pixel reads that hold warnings back (the truncated file goes to pydicom after
    dcmfast's reader warned; the padded RLE file warns after decoding) and scans that
    silence pydicom's, from many threads at once: each result is right, and the
    interpreter's warning filters and ``showwarning`` end as they began."""
    from concurrent.futures import ThreadPoolExecutor

    rows, columns = 4, 5
    padded = rle_frame([_segments(5, rows * columns + 3)])
    rle = _save(rle_dataset([padded] * 3, rows, columns, 1, 8), tmp_path / "p.dcm")
    truncated = tmp_path / "t.dcm"
    truncated.write_bytes(Path(CT).read_bytes()[:-100])
    paths = [str(rle), str(truncated)]

    def result(read: Callable[[str], np.ndarray], path: str) -> tuple:
        try:
            arr = read(path)
            return arr.dtype.str, arr.shape, arr.tobytes()
        except Exception as e:  # noqa: BLE001 - compared with pydicom's
            return type(e), str(e)

    def work(n: int) -> None:
        path = paths[n % 2]
        assert result(dcmfast.pixel_array, path) == want[path], path
        assert dcmfast.scan(paths, ["PatientName", "Rows"])["Rows"] == [rows, 128]

    # Filters are the interpreter's: "ignore" set here holds in every thread.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = {path: result(pydicom_pixel_array, path) for path in paths}
        filters, show = list(warnings.filters), warnings.showwarning
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(work, range(400)))
        assert warnings.filters == filters
        assert warnings.showwarning is show

"""ML loaders: ``dcmfast.read_batch`` and ``dcmfast.FrameDataset`` against pydicom 3.0.2.

pydicom is the oracle: a raw frame equals ``pydicom.pixels.pixel_array(path, index=k)``
(values; dcmfast returns native byte order), a processed frame equals
``apply_voi_lut(apply_modality_lut(arr, ds), ds, index=i)`` (each step when asked for)
``.astype(np.float32)`` to the bit, and a frame pydicom fails on raises pydicom's
exception class with the path in the message. Checked on every test file and on a
matrix of generated files (transfer syntaxes, signedness, Bits Stored, rescale, window
values, VOI LUT functions), which also checks that the plain cases are decoded in Rust
and not handed back to pydicom. Then: batches across files and threads, ``out=``
validation, errors naming the file, pickling, a thread pool, spawned worker processes,
and torch's DataLoader contract (emulated; the README example runs when torch is
installed).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import re
import shutil
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import _loader_worker
import dcmfast
import numpy as np
import pydicom
import pytest
from conftest import all_test_files, file_id
from dcmfast import _core
from helpers import CallOutcome, array_value, call_outcome, encode_frame
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.pixels import pixel_array as pydicom_pixel_array
from pydicom.sequence import Sequence
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
    generate_uid,
)

pytestmark = pytest.mark.usefixtures("quiet_pydicom_logger")

PROCESSING = [
    {},
    {"modality_lut": True},
    {"voi_lut": True},
    {"modality_lut": True, "voi_lut": True},
]
PROCESSING_IDS = ["raw", "modality", "voi", "both"]


def expected(path: str, index: int, **options: Any) -> np.ndarray:
    """pydicom's frame, processed as `options` ask."""
    arr = pydicom_pixel_array(path, index=index)
    if options.get("modality_lut") or options.get("voi_lut"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if options.get("modality_lut"):
            arr = apply_modality_lut(arr, ds)
        if options.get("voi_lut"):
            arr = apply_voi_lut(
                arr,
                ds,
                index=options.get("voi_index", 0),
                prefer_lut=options.get("prefer_lut", True),
            )
        arr = arr.astype(np.float32)
    return arr


def outcome(func) -> CallOutcome:
    """A call returning one array: (dtype, shape, bytes) in native byte order."""
    return call_outcome(func, array_value)


def assert_like_pydicom(path: str, index: int, options: dict[str, Any]) -> None:
    want = outcome(lambda: expected(path, index, **options))
    got = outcome(lambda: dcmfast.read_batch([(path, index)], **options)[0])
    label = f"{file_id(path)}[{index}] {options}"
    if want.error is not None:
        assert got.error is not None, f"{label}: pydicom raised {want.error!r}, not us"
        assert isinstance(got.error, type(want.error)), (
            f"{label}: {got.error!r} vs {want.error!r}"
        )
        assert path in str(got.error) or getattr(got.error, "filename", None) == path
        return
    assert got.error is None, f"{label}: dcmfast raised {got.error!r}"
    dtype, shape, data = got.value
    assert (dtype, shape) == want.value[:2], label
    assert data == want.value[2], f"{label}: values differ"


def frames_of(path: str) -> list[int]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            n = pydicom.dcmread(path, stop_before_pixels=True).get("NumberOfFrames", 1)
    except Exception:  # noqa: BLE001 - the file is tried as it is
        return [0]
    n = n if isinstance(n, int) and n > 0 else 1
    return sorted({0, n - 1})


@pytest.mark.parametrize("options", PROCESSING, ids=PROCESSING_IDS)
def test_every_test_file_like_pydicom(dicom_file, options):
    for index in frames_of(dicom_file):
        assert_like_pydicom(dicom_file, index, options)


# Real files whose frames dcmfast decodes and processes itself (no pydicom fallback).
RUST_FILES = [
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_implicit.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_expb.dcm",
    "MR_small_RLE.dcm",
    "emri_small.dcm",
    "emri_small_RLE.dcm",
    "emri_small_big_endian.dcm",
    "SC_rgb_rle_16bit_2frame.dcm",
    "SC_rgb_rle_32bit_2frame.dcm",
    "OBXXXX1A_rle_2frame.dcm",
    "RG1_UNCR.dcm",
    "MR2_UNCR.dcm",
]


def fallbacks(items: list[tuple[str, int]], **options: Any) -> list[tuple[int, str]]:
    """The items `_core.read_frames` leaves to pydicom."""
    info = _core.frame_info(items[0][0])
    rows, columns, samples = info.rows, info.columns, info.samples_per_pixel
    dtype = info.dtype
    processed = bool(options.get("modality_lut") or options.get("voi_lut"))
    size = len(items) * rows * columns * samples
    if processed:
        out, dtype = np.empty(size, np.float32), None
    else:
        out = np.empty(size, dtype).view(np.uint8)
    outcome = _core.read_frames(
        items,
        out,
        rows=rows,
        columns=columns,
        samples_per_pixel=samples,
        dtype=dtype,
        modality_lut=bool(options.get("modality_lut")),
        voi_lut=bool(options.get("voi_lut")),
        voi_index=options.get("voi_index", 0),
        workers=2,
    )
    return list(outcome.fallbacks.items())


@pytest.mark.parametrize("name", RUST_FILES)
def test_plain_files_decoded_in_rust(name):
    path = pydicom.data.get_testdata_file(name)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    frames = list(range(ds.get("NumberOfFrames", 1) or 1))
    monochrome = ds.PhotometricInterpretation.startswith("MONOCHROME")
    for options in PROCESSING:
        if options.get("voi_lut") and not monochrome:
            continue  # pydicom raises for windowing colour data (if it has a window)
        assert fallbacks([(path, k) for k in frames], **options) == []
        for k in frames:
            assert_like_pydicom(path, k, options)


# --------------------------------------------------------------------------
# generated files: the rescale and windowing cases
# --------------------------------------------------------------------------
def write_image(
    path: Path,
    arr: np.ndarray,
    *,
    tsyntax=ExplicitVRLittleEndian,
    signed: bool = True,
    bits_stored: int | None = None,
    photometric: str = "MONOCHROME2",
    raw: np.ndarray | None = None,
    **attrs: Any,
) -> str:
    """A Part 10 file holding `arr` ((frames,) rows, columns[, samples]); `raw`, if
    given, is stored instead (e.g. with dirty unused high bits)."""
    arr = np.asarray(arr)
    samples = 3 if photometric == "RGB" else 1
    frames = arr.shape[0] if arr.ndim == (3 if samples == 1 else 4) else 1
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = tsyntax
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.Rows, ds.Columns = arr.shape[-3:-1] if samples == 3 else arr.shape[-2:]
    ds.SamplesPerPixel = samples
    if samples == 3:
        ds.PlanarConfiguration = attrs.pop("PlanarConfiguration", 0)
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits_stored or ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = int(signed)
    if frames > 1:
        ds.NumberOfFrames = frames
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. 'linear': pydicom warns, and keeps it
        for keyword, value in attrs.items():
            setattr(ds, keyword, value)
    data = arr if raw is None else raw
    if tsyntax == RLELossless:
        frames_data = data.reshape(-1, *data.shape[-(2 if samples == 1 else 3) :])
        ds.PixelData = encapsulate([encode_frame(f) for f in frames_data])
        ds["PixelData"].VR = "OB"
    else:
        if samples == 3 and ds.PlanarConfiguration == 1:
            data = np.moveaxis(data, -1, -3)
        order = ">" if tsyntax == ExplicitVRBigEndian else "<"
        ds.PixelData = (
            np.ascontiguousarray(data).astype(data.dtype.newbyteorder(order)).tobytes()
        )
    ds.save_as(path, enforce_file_format=True)
    return str(path)


def stored_values(signed: bool, bits_stored: int, shape, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lo, hi = (
        (-(2 ** (bits_stored - 1)), 2 ** (bits_stored - 1))
        if signed
        else (0, 2**bits_stored)
    )
    values = rng.integers(lo, hi, size=shape)
    flat = values.reshape(-1)
    # every value around the windows used below, and the extremes
    edges = np.arange(-300, 1700) if signed else np.arange(0, 2000)
    edges = edges[(edges >= lo) & (edges < hi)]
    flat[: len(edges)] = edges[: len(flat)]
    flat[-2:] = [lo, hi - 1]
    return values.astype(np.int16 if signed else np.uint16)


WINDOWS = {
    "none": {},
    "rescale": {"RescaleSlope": "1", "RescaleIntercept": "-1024"},
    "rescale-frac": {"RescaleSlope": "0.5", "RescaleIntercept": "0.3"},
    "slope-only": {"RescaleSlope": "2"},
    "window": {"WindowCenter": "40", "WindowWidth": "400"},
    "window-rescale": {
        "WindowCenter": "40.5",
        "WindowWidth": "401",
        "RescaleSlope": "1.25",
        "RescaleIntercept": "-1000",
    },
    "multi-window": {
        "WindowCenter": ["40", "300"],
        "WindowWidth": ["400", "1500"],
        "RescaleSlope": "1",
        "RescaleIntercept": "-1024",
    },
    "linear-exact": {
        "WindowCenter": "40",
        "WindowWidth": "1",
        "VOILUTFunction": "LINEAR_EXACT",
    },
    "sigmoid": {
        "WindowCenter": "100",
        "WindowWidth": "350",
        "VOILUTFunction": "SIGMOID",
        "RescaleSlope": "0.75",
        "RescaleIntercept": "-20",
    },
    "lower-case": {
        "WindowCenter": "40",
        "WindowWidth": "1",
        "VOILUTFunction": "linear",
    },
    "monochrome1": {
        "WindowCenter": "40",
        "WindowWidth": "400",
        "photometric": "MONOCHROME1",
    },
    # pydicom raises for these two; dcmfast must raise the same, naming the file
    "narrow": {"WindowCenter": "40", "WindowWidth": "0.5"},
    "unknown-function": {
        "WindowCenter": "40",
        "WindowWidth": "40",
        "VOILUTFunction": "LOG",
    },
}
RAISES = {"narrow", "unknown-function"}
SYNTAXES = {
    "explicit": ExplicitVRLittleEndian,
    "implicit": ImplicitVRLittleEndian,
    "big": ExplicitVRBigEndian,
    "rle": RLELossless,
}
# (signed, Bits Stored, dirty unused bits)
SAMPLES = [(True, 16, False), (True, 12, False), (False, 12, True), (False, 16, False)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[tuple[str, str, int], str]:
    root = tmp_path_factory.mktemp("generated")
    files = {}
    for s, tsyntax in SYNTAXES.items():
        for w, attrs in WINDOWS.items():
            for n, (signed, bits_stored, dirty) in enumerate(SAMPLES):
                values = stored_values(signed, bits_stored, (2, 24, 40), seed=n)
                raw = None
                if dirty:  # unused high bits set: pydicom masks them
                    raw = values | np.uint16(0xF000)
                attrs = dict(attrs)
                photometric = attrs.pop("photometric", "MONOCHROME2")
                files[s, w, n] = write_image(
                    root / f"{s}-{w}-{n}.dcm",
                    values,
                    tsyntax=tsyntax,
                    signed=signed,
                    bits_stored=bits_stored,
                    photometric=photometric,
                    raw=raw,
                    **attrs,
                )
    return files


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("window", WINDOWS)
def test_processing_matches_pydicom(generated, syntax, window):
    for n in range(len(SAMPLES)):
        path = generated[syntax, window, n]
        for options in [*PROCESSING, {"voi_lut": True, "voi_index": 1}]:
            for index in (0, 1):
                assert_like_pydicom(path, index, options)
            if window not in RAISES or not options.get("voi_lut"):
                # decoded and processed in Rust, not handed back
                assert fallbacks([(path, 0), (path, 1)], **options) == []


def _lut_item(data: list[int], **attrs: Any) -> Dataset:
    """A LUT Sequence item: 4096 entries from 0, 16-bit `data`."""
    item = Dataset()
    item.add_new(0x00283002, "US", [4096, 0, 16])  # LUT Descriptor
    item.add_new(0x00283006, "US", data)  # LUT Data
    for keyword, value in attrs.items():
        setattr(item, keyword, value)
    return item


def test_lut_sequences_use_pydicom(tmp_path):
    """Modality and VOI LUT Sequences are applied by pydicom, identically."""
    values = stored_values(False, 12, (24, 40))
    luts = {
        "voi.dcm": ("VOILUTSequence", _lut_item(list(range(0, 8192, 2)))),
        "mlut.dcm": (
            "ModalityLUTSequence",
            _lut_item(list(range(4096)), ModalityLUTType="HU"),
        ),
    }
    paths = [
        write_image(
            tmp_path / name,
            values,
            signed=False,
            bits_stored=12,
            **{keyword: Sequence([item])},
            WindowCenter="40",
            WindowWidth="400",
        )
        for name, (keyword, item) in luts.items()
    ]
    for path in paths:
        for options in PROCESSING + [{"voi_lut": True, "prefer_lut": False}]:
            assert_like_pydicom(path, 0, options)


def test_rgb_planar_and_8_32_bit(tmp_path):
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 65536, size=(2, 5, 7, 3)).astype(np.uint16)
    for planar in (0, 1):
        for s, tsyntax in SYNTAXES.items():
            path = write_image(
                tmp_path / f"rgb{planar}{s}.dcm",
                rgb,
                tsyntax=tsyntax,
                signed=False,
                photometric="RGB",
                PlanarConfiguration=planar,
                RescaleSlope="2",
                RescaleIntercept="1",
            )
            for options in PROCESSING[:2]:
                assert fallbacks([(path, 0), (path, 1)], **options) == []
                for index in (0, 1):
                    assert_like_pydicom(path, index, options)
    for dtype, bits_stored in (
        (np.int8, 7),
        (np.uint8, 8),
        (np.int32, 20),
        (np.uint32, 32),
    ):
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, size=(2, 6, 4), endpoint=True).astype(
            dtype
        )
        for s, tsyntax in SYNTAXES.items():
            path = write_image(
                tmp_path / f"{np.dtype(dtype).name}{s}.dcm",
                values,
                tsyntax=tsyntax,
                signed=info.min < 0,
                bits_stored=bits_stored,
                WindowCenter="10",
                WindowWidth="100",
            )
            for options in PROCESSING:
                assert fallbacks([(path, 0), (path, 1)], **options) == []
                for index in (0, 1):
                    assert_like_pydicom(path, index, options)


# --------------------------------------------------------------------------
# batches
# --------------------------------------------------------------------------
# Frames of the series: 24 KiB, so native frames are read from the file after its
# header (files up to 16 KiB are read whole).
SHAPE = (96, 128)


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> list[str]:
    """12 CT-like files (explicit, implicit, big endian, RLE) and a 6-frame RLE file,
    SHAPE frames."""
    root = tmp_path_factory.mktemp("series")
    paths = []
    for i in range(12):
        values = stored_values(True, 12, SHAPE, seed=i)
        paths.append(
            write_image(
                root / f"ct{i:02d}.dcm",
                values,
                tsyntax=list(SYNTAXES.values())[i % 4],
                bits_stored=12,
                RescaleSlope="1",
                RescaleIntercept="-1024",
                WindowCenter=["40", "400"],
                WindowWidth=["400", "2000"],
                PatientID=f"P{i % 3}",
                InstanceNumber=i + 1,
            )
        )
    multi = stored_values(True, 12, (6, *SHAPE), seed=99)
    paths.append(
        write_image(
            root / "multi.dcm",
            multi,
            tsyntax=RLELossless,
            bits_stored=12,
            RescaleSlope="1",
            RescaleIntercept="-1024",
            WindowCenter="40",
            WindowWidth="400",
            PatientID="PM",
        )
    )
    return paths


def all_frames(paths: list[str]) -> list[tuple[str, int]]:
    items = []
    for path in paths:
        items.extend((path, k) for k in frames_of_all(path))
    return items


def frames_of_all(path: str) -> range:
    return range(
        pydicom.dcmread(path, stop_before_pixels=True).get("NumberOfFrames", 1)
    )


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("options", PROCESSING, ids=PROCESSING_IDS)
def test_batch_across_files(series, workers, options):
    items = all_frames(series)
    items = items[::-1] + items[:5]  # any order, repeats
    got = dcmfast.read_batch(items, workers=workers, **options)
    want = np.stack([expected(p, k, **options) for p, k in items])
    assert got.dtype == want.dtype.newbyteorder("=")
    assert got.tobytes() == want.astype(got.dtype).tobytes()
    out = np.full_like(got, 7)
    assert dcmfast.read_batch(items, out=out, workers=workers, **options) is out
    assert out.tobytes() == got.tobytes()
    assert fallbacks(items, **options) == []


def test_batch_with_fallback_frames(series, tmp_path):
    """Frames pydicom must process (a VOI LUT Sequence) mix with frames decoded in
    Rust in one batch."""
    lut = Dataset()
    lut.add_new(0x00283002, "SS", [4096, -2048, 16])
    lut.add_new(0x00283006, "US", list(range(0, 8192, 2)))  # LUT Data
    values = stored_values(True, 12, SHAPE, seed=5)
    voi = write_image(
        tmp_path / "voi.dcm", values, bits_stored=12, VOILUTSequence=Sequence([lut])
    )
    items = [(series[0], 0), (voi, 0), (series[-1], 3), (voi, 0)]
    options = {"modality_lut": True, "voi_lut": True}
    assert [i for i, _ in fallbacks(items, **options)] == [1, 3]
    got = dcmfast.read_batch(items, workers=2, **options)
    want = np.stack([expected(p, k, **options) for p, k in items])
    assert got.tobytes() == want.tobytes()


def test_changed_multi_frame_file_is_read_again(tmp_path):
    """A FrameDataset keeps a multi-frame file's description for its next batch only
    while the path names the same, unchanged file."""
    path = tmp_path / "cine.dcm"
    versions = [stored_values(True, 12, (4, *SHAPE), seed=s) for s in (1, 2, 3)]
    frames = None
    for n, values in enumerate(versions):
        source = write_image(
            tmp_path / f"v{n}.dcm", values, tsyntax=RLELossless, bits_stored=12
        )
        if n == 1:  # replaced by another file
            os.replace(source, path)
        else:  # written first, then rewritten in place
            path.write_bytes(Path(source).read_bytes())
        frames = frames or dcmfast.FrameDataset([path])
        got = np.stack(frames.__getitems__(range(4)))
        assert got.tobytes() == values.tobytes()


def test_items_forms(series):
    path = Path(series[0])
    a = dcmfast.read_batch([path])
    b = dcmfast.read_batch([(str(path), 0)])
    c = dcmfast.read_batch(iter([(path, np.int64(0))]))
    assert a.tobytes() == b.tobytes() == c.tobytes()
    with pytest.raises(TypeError):
        dcmfast.read_batch(str(path))
    with pytest.raises(ValueError, match=">= 0"):
        dcmfast.read_batch([(path, -1)])
    with pytest.raises(ValueError, match="no frames"):
        dcmfast.read_batch([])
    empty = np.empty((0, *SHAPE), np.int16)
    assert dcmfast.read_batch([], out=empty) is empty


def test_out_is_validated(series):
    items = [(series[0], 0), (series[1], 0)]
    good = np.empty((2, *SHAPE), np.int16)
    dcmfast.read_batch(items, out=good)
    with pytest.raises(TypeError, match="dtype"):
        dcmfast.read_batch(items, out=np.empty((2, *SHAPE), np.float32))
    with pytest.raises(TypeError, match="float32"):
        dcmfast.read_batch(items, out=good, modality_lut=True)
    with pytest.raises(TypeError, match="dtype"):
        dcmfast.read_batch(items, out=np.empty((2, *SHAPE), np.uint16))
    with pytest.raises(ValueError, match="shape"):
        dcmfast.read_batch(items, out=np.empty((3, *SHAPE), np.int16))
    with pytest.raises(ValueError, match="shape"):
        dcmfast.read_batch(items, out=np.empty((2, *SHAPE[::-1]), np.int16))
    with pytest.raises(ValueError, match="C-contiguous"):
        dcmfast.read_batch(
            items, out=np.empty((2, *SHAPE[::-1]), np.int16).transpose(0, 2, 1)
        )
    readonly = np.empty((2, *SHAPE), np.int16)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        dcmfast.read_batch(items, out=readonly)
    with pytest.raises(TypeError, match="byte order"):
        dcmfast.read_batch(items, out=np.empty((2, *SHAPE), ">i2"))
    with pytest.raises(TypeError, match="ndarray"):
        dcmfast.read_batch(items, out=[[0]])


def test_errors_name_the_file(series, tmp_path):
    good = series[0]
    missing = str(tmp_path / "missing.dcm")
    with pytest.raises(FileNotFoundError) as info:
        dcmfast.read_batch([(good, 0), (missing, 0)])
    assert missing in str(info.value)

    text = tmp_path / "notes.txt"
    text.write_text("not DICOM")
    want = outcome(lambda: expected(str(text), 0))
    assert want.error is not None
    with pytest.raises(type(want.error), match=re.escape(str(text))):
        dcmfast.read_batch([(good, 0), (str(text), 0)])

    # pixel data cut short: pydicom's error, with the path
    data = Path(good).read_bytes()
    short = tmp_path / "short.dcm"
    short.write_bytes(data[: len(data) - 100])
    want = outcome(lambda: expected(str(short), 0))
    assert want.error is not None
    with pytest.raises(type(want.error), match=re.escape(str(short))):
        dcmfast.read_batch([(good, 0), (str(short), 0)])

    # a corrupt RLE frame: pydicom's error, with the path
    rle = next(p for p in series if "ct03" in p)
    raw = bytearray(Path(rle).read_bytes())
    at = raw.rfind(b"\xfe\xff\x00\xe0")  # the last fragment: an RLE header follows
    raw[at + 12 : at + 16] = (10**6).to_bytes(4, "little")  # a segment beyond it
    broken = tmp_path / "broken_rle.dcm"
    broken.write_bytes(bytes(raw))
    want = outcome(lambda: expected(str(broken), 0))
    assert want.error is not None
    with pytest.raises(type(want.error), match=re.escape(str(broken))):
        dcmfast.read_batch([(good, 0), (str(broken), 0)], workers=2)

    # a frame beyond the file
    with pytest.raises(Exception, match=re.escape(good)):
        dcmfast.read_batch([(good, 5)])

    # frames of another shape or sample type than the batch's
    other = write_image(tmp_path / "other.dcm", np.zeros((8, 8), np.int16))
    with pytest.raises(ValueError, match=re.escape(other)):
        dcmfast.read_batch([(good, 0), (other, 0)])
    unsigned = write_image(
        tmp_path / "unsigned.dcm", np.zeros(SHAPE, np.uint16), signed=False
    )
    with pytest.raises(TypeError, match=re.escape(unsigned)):
        dcmfast.read_batch([(good, 0), (unsigned, 0)])
    # ... which processing to float32 makes alike
    dcmfast.read_batch([(good, 0), (unsigned, 0)], modality_lut=True)


def test_rle_padding_warning_is_pydicoms(tmp_path):
    """A padded RLE segment warns as pydicom's own RLE decoder does."""
    values = stored_values(False, 8, (16, 16)).astype(np.uint8)
    path = write_image(tmp_path / "pad.dcm", values, tsyntax=RLELossless, signed=False)
    raw = bytearray(Path(path).read_bytes())
    # append a literal run of 2 bytes to the one segment, and fix the item lengths
    at = raw.rfind(b"\xfe\xff\x00\xe0")
    length = int.from_bytes(raw[at + 4 : at + 8], "little")
    end = at + 8 + length
    raw[end:end] = b"\x01\x00\x00\x00"
    raw[at + 4 : at + 8] = (length + 4).to_bytes(4, "little")
    Path(path).write_bytes(bytes(raw))
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        want = pydicom_pixel_array(path, index=0, decoding_plugin="pydicom")
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        got = dcmfast.read_batch([path])[0]
    assert np.array_equal(got, want)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert theirs  # the case is the one meant


# --------------------------------------------------------------------------
# FrameDataset
# --------------------------------------------------------------------------
def test_frame_dataset(series, tmp_path):
    ds = dcmfast.FrameDataset(series, tags=["PatientID", "InstanceNumber"])
    items = all_frames(series)
    assert len(ds) == len(items) == 18
    assert ds.paths == series
    for i, (path, k) in enumerate(items):
        assert ds.locate(i) == (path, k)
        frame, tags = ds[i]
        assert frame.tobytes() == expected(path, k).astype(frame.dtype).tobytes()
        assert tags == ds.tags(i)
    assert ds[17][1] == {"PatientID": "PM", "InstanceNumber": None}
    assert ds[0][1] == {"PatientID": "P0", "InstanceNumber": 1}
    assert ds[-1][0].tobytes() == ds[17][0].tobytes()
    with pytest.raises(IndexError):
        ds[18]
    with pytest.raises(TypeError):
        ds["0"]
    batch = ds.__getitems__([3, 17, 0])
    assert [t for _, t in batch] == [ds.tags(3), ds.tags(17), ds.tags(0)]
    for (frame, _), i in zip(batch, [3, 17, 0]):
        assert frame.tobytes() == ds[i][0].tobytes()

    # a directory, processed frames, no tags
    root = Path(series[0]).parent
    floats = dcmfast.FrameDataset(root, modality_lut=True, voi_lut=True, voi_index=1)
    assert len(floats) == 18
    for i in (0, 5, 12, 17):
        path, k = floats.locate(i)
        want = expected(path, k, modality_lut=True, voi_lut=True, voi_index=1)
        assert floats[i].tobytes() == want.tobytes()

    # files that are no DICOM images
    (tmp_path / "a.txt").write_text("hello")
    no_image = Dataset()
    no_image.PatientID = "X"
    no_image.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    no_image.SOPInstanceUID = generate_uid()
    no_image.file_meta = FileMetaDataset()
    no_image.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    no_image.save_as(tmp_path / "b.dcm", enforce_file_format=True)
    shutil.copy(series[0], tmp_path / "c.dcm")
    with pytest.raises(ValueError, match="2 files are not DICOM images"):
        dcmfast.FrameDataset(tmp_path)
    some = dcmfast.FrameDataset(tmp_path, skip_invalid=True)
    assert len(some) == 1 and [p for p, _ in some.skipped] == [
        str(tmp_path / "a.txt"),
        str(tmp_path / "b.dcm"),
    ]
    assert len(dcmfast.FrameDataset([])) == 0


def test_frame_dataset_says_what_it_found(series, tmp_path):
    """A missing path, a folder with no files or no images, and files whose frames
    differ (which torch's collate would fail on, naming no file) are said at once."""
    missing = tmp_path / "missing"
    with pytest.raises(FileNotFoundError) as raised:
        dcmfast.FrameDataset(missing)
    assert raised.value.filename == missing
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=f"no files in {empty}"):
        dcmfast.FrameDataset(empty)
    (empty / "a.txt").write_text("hello")
    with pytest.raises(ValueError, match="no DICOM images in .*1 files skipped"):
        dcmfast.FrameDataset(empty, skip_invalid=True)

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(series[0], mixed / "a.dcm")
    other = pydicom.data.get_testdata_file("MR_small.dcm")
    shutil.copy(other, mixed / "b.dcm")
    a_shape = dcmfast.read_batch([str(mixed / "a.dcm")]).shape[1:]
    b_shape = dcmfast.read_batch([str(mixed / "b.dcm")]).shape[1:]
    assert a_shape != b_shape
    with pytest.raises(ValueError, match="cannot be batched together") as raised:
        dcmfast.FrameDataset(mixed)
    assert "a.dcm" in str(raised.value) and "b.dcm" in str(raised.value)
    one = dcmfast.FrameDataset(mixed, shape=b_shape)
    assert one.paths == [str(mixed / "b.dcm")]
    assert [p for p, _ in one.skipped] == [str(mixed / "a.dcm")]
    assert one[0].shape == b_shape
    both = dcmfast.FrameDataset(mixed, shape="any")
    assert [f.shape for f in both.__getitems__(range(len(both)))][-1] == b_shape


def test_read_batch_says_which_argument_is_wrong(series):
    with pytest.raises(TypeError, match="not a tuple of 1"):
        dcmfast.read_batch([(series[0],)])
    frame = dcmfast.read_batch([series[0]])
    wrong = np.dtype(
        frame.dtype.str.replace("i", "u")
        if frame.dtype.kind == "i"
        else frame.dtype.str.replace("u", "i")
    )
    with pytest.raises(TypeError, match=f"'out' has dtype {wrong}, but frame 0 of"):
        dcmfast.read_batch([series[0]], out=np.empty(frame.shape, wrong))
    with pytest.raises(ValueError, match="'out' has shape"):
        dcmfast.read_batch([series[0]], out=np.empty((1, 3, 3), frame.dtype))


def test_batch_arrays_reused_only_when_released(series):
    """__getitems__ reuses a batch array of its own once no frame from it is alive, and
    never one whose frames are still held."""
    ds = dcmfast.FrameDataset(series, modality_lut=True)
    want = {i: ds[i].tobytes() for i in range(len(ds))}
    held = ds.__getitems__([0, 1, 2])
    batch = held[0].base  # the frames' batch
    for start in range(0, 15, 3):  # more batches than the pool keeps
        others = ds.__getitems__(list(range(start + 3, start + 6)))
        assert not any(np.shares_memory(f, batch) for f in others)
        assert [f.tobytes() for f in others] == [
            want[i] for i in range(start + 3, start + 6)
        ]
    assert [f.tobytes() for f in held] == [want[0], want[1], want[2]]
    start = held[0].ctypes.data
    del held, others, batch
    again = ds.__getitems__([5, 6])
    assert again[0].ctypes.data == start  # warm pages, reused
    assert [f.tobytes() for f in again] == [want[5], want[6]]


def test_frame_dataset_of_test_files():
    """Every frame of pydicom's image test files, through the dataset: the values of
    a frame that pydicom reads, or pydicom's exception class."""
    paths = [p for p in all_test_files() if p.endswith(".dcm")]
    with pytest.raises(ValueError, match="cannot be batched together"):
        dcmfast.FrameDataset(paths, skip_invalid=True, modality_lut=True)
    ds = dcmfast.FrameDataset(paths, skip_invalid=True, modality_lut=True, shape="any")
    assert len(ds.paths) > 100
    for i in range(0, len(ds), 7):
        path, k = ds.locate(i)
        want = outcome(lambda p=path, k=k: expected(p, k, modality_lut=True))
        got = outcome(lambda i=i: ds[i])
        if want.error is not None:
            assert isinstance(got.error, type(want.error)), path
        else:
            assert (got.error, got.value) == (None, want.value), path


def test_pickle_round_trip(series):
    ds = dcmfast.FrameDataset(series, tags=["PatientID"], voi_lut=True, workers=1)
    ds[0]  # reading leaves nothing behind that pickling would need
    copy = pickle.loads(pickle.dumps(ds))
    assert len(copy) == len(ds) and copy.paths == ds.paths
    assert copy.skipped == ds.skipped and copy.tag_names == ds.tag_names
    for i in range(len(ds)):
        a, b = ds[i], copy[i]
        assert a[0].tobytes() == b[0].tobytes() and a[1] == b[1]
    # small: no arrays or handles inside
    assert len(pickle.dumps(ds)) < 4096


def test_thread_pool(series):
    ds = dcmfast.FrameDataset(series, modality_lut=True, voi_lut=True)
    want = [ds[i].tobytes() for i in range(len(ds))]
    order = list(range(len(ds))) * 8
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda i: ds[i].tobytes(), order))
        batches = list(
            pool.map(lambda i: ds.__getitems__([i, (i + 5) % 18]), range(18))
        )
    assert got == [want[i] for i in order]
    for i, batch in enumerate(batches):
        assert [b.tobytes() for b in batch] == [want[i], want[(i + 5) % 18]]
    # read_batch from several threads at once, each on several threads
    items = all_frames(series)
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(lambda _: dcmfast.read_batch(items, workers=2).tobytes(), range(8))
        )
    assert len(set(results)) == 1


def test_spawned_workers(series):
    """The pickled dataset read in spawned processes, as torch's DataLoader workers
    would (fork is not needed: nothing is opened before a frame is read)."""
    ds = dcmfast.FrameDataset(series, tags=["PatientID"], modality_lut=True)
    want = [ds[i][0] for i in range(len(ds))]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        got = list(pool.map(_loader_worker.frame, [(ds, i) for i in range(len(ds))]))
    assert all(a.tobytes() == b.tobytes() for a, b in zip(got, want))


def test_dataloader_contract(series):
    """torch's DataLoader contract without torch: a sampler's index batches fetched by
    spawned workers, each holding its own unpickled copy of the dataset, then
    collated."""
    ds = dcmfast.FrameDataset(
        series, tags=["PatientID"], modality_lut=True, voi_lut=True, workers=1
    )
    order = np.random.default_rng(0).permutation(len(ds)).tolist()
    batches = [order[i : i + 4] for i in range(0, len(order), 4)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(
        2, initializer=_loader_worker.init_worker, initargs=(pickle.dumps(ds),)
    ) as pool:
        fetched = pool.map(_loader_worker.fetch_batch, batches)
    for indices, (images, tags) in zip(batches, fetched):
        assert images.dtype == np.float32 and images.shape == (len(indices), *SHAPE)
        for row, i in enumerate(indices):
            path, k = ds.locate(i)
            want = expected(path, k, modality_lut=True, voi_lut=True)
            assert images[row].tobytes() == want.tobytes()
        assert tags == {"PatientID": [ds.tags(i)["PatientID"] for i in indices]}


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
def test_every_16_bit_value(tmp_path, function):
    """All 65536 stored values through rescale and each window function, to the bit."""
    values = np.arange(-32768, 32768, dtype=np.int16).reshape(256, 256)
    for n, (slope, intercept, center, width) in enumerate(
        [
            ("1", "-1024", "40", "400"),
            ("0.37", "-7.1", "-123.45", "2.5"),
            ("3.3e-2", "0.5", "10", "1"),
        ]
    ):
        path = write_image(
            tmp_path / f"{function}{n}.dcm",
            values,
            RescaleSlope=slope,
            RescaleIntercept=intercept,
            WindowCenter=center,
            WindowWidth=width,
            VOILUTFunction=function,
        )
        for options in PROCESSING[1:]:
            assert fallbacks([(path, 0)], **options) == []
            assert_like_pydicom(path, 0, options)

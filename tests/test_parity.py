"""Parity of the reader under test with pydicom.dcmread on every test file."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pydicom
import pytest
from compare import (
    assert_same_dataset,
    assert_same_exception,
    assert_same_outcome,
    assert_same_raw_elements,
    describe_exc,
    pydicom_dcmread,
    read_both,
    run_reader,
)
from conftest import file_id
from helpers import CT
from pydicom.dataset import FileDataset
from pydicom.errors import InvalidDicomError

pytestmark = pytest.mark.usefixtures("quiet_pydicom_logger")

SPECIFIC_TAGS = ["PatientName", (0x0008, 0x0018), 0x00200013]


def _needs_force(path: str) -> bool:
    """True if pydicom rejects the file without ``force=True``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pydicom_dcmread(path, stop_before_pixels=True)
    except InvalidDicomError:
        return True
    except Exception:  # noqa: BLE001 - other failures are not about force
        return False
    return False


def _check(path: str, reader, **kwargs) -> None:
    expected, actual = read_both(path, reader, **kwargs)
    name = f"{file_id(path)} {kwargs or ''}".strip()
    assert_same_outcome(expected, actual, name)
    if expected.exc is None:
        assert isinstance(actual.ds, FileDataset), name
    # pydicom (the oracle) says what happens without force=True; when it
    # refuses the file, check the forced read as well
    if expected.exc is not None and not kwargs.get("force"):
        forced_exp, forced_act = read_both(path, reader, force=True, **kwargs)
        assert_same_outcome(forced_exp, forced_act, f"{name} force=True")


def test_default_read(dicom_file, reader):
    _check(dicom_file, reader)


def test_stop_before_pixels(dicom_file, reader):
    _check(dicom_file, reader, stop_before_pixels=True)


def test_specific_tags(dicom_file, reader):
    _check(dicom_file, reader, specific_tags=SPECIFIC_TAGS)


def test_defer_size(dicom_file, reader):
    _check(dicom_file, reader, defer_size=256)


def test_raw_elements_before_access(dicom_file, reader):
    """``get_item(..., keep_deferred=True)`` is public: same raw elements."""
    force = _needs_force(dicom_file)
    for kwargs in ({}, {"defer_size": 256}):
        expected = run_reader(
            pydicom_dcmread, dicom_file, touch=False, force=force, **kwargs
        )
        actual = run_reader(reader, dicom_file, touch=False, force=force, **kwargs)
        name = f"{file_id(dicom_file)} force={force} {kwargs}"
        assert_same_exception(expected, actual, name)
        if expected.exc is None:
            assert_same_raw_elements(expected.ds, actual.ds, name + ": ")
            assert_same_raw_elements(
                expected.ds.file_meta, actual.ds.file_meta, name + ": file_meta."
            )


def _save(ds) -> tuple[bytes | None, BaseException | None]:
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.save_as(buffer, enforce_file_format=False)
    except Exception as exc:  # noqa: BLE001 - compared below
        return None, exc
    return buffer.getvalue(), None


def test_save_as_roundtrip(dicom_file, reader):
    """Saving an untouched dataset gives byte-identical output."""
    expected = run_reader(pydicom_dcmread, dicom_file, touch=False, force=True)
    if expected.exc is not None:
        pytest.skip(f"pydicom cannot read it: {describe_exc(expected.exc)}")
    actual = run_reader(reader, dicom_file, touch=False, force=True)
    # nothing may be accessed before saving: raw elements are written as read
    assert_same_exception(expected, actual, file_id(dicom_file))

    exp_bytes, exp_exc = _save(expected.ds)
    act_bytes, act_exc = _save(actual.ds)
    name = file_id(dicom_file)
    if exp_exc is not None:
        assert act_exc is not None, (
            f"{name}: pydicom's save_as raised {describe_exc(exp_exc)}, "
            "the reader's dataset saved fine"
        )
        assert isinstance(act_exc, type(exp_exc)), (
            f"{name}: save_as raised {describe_exc(act_exc)}, "
            f"pydicom raised {describe_exc(exp_exc)}"
        )
        return
    assert act_exc is None, f"{name}: save_as raised {describe_exc(act_exc)}"
    assert act_bytes is not None and exp_bytes is not None
    if act_bytes != exp_bytes:
        first = next(
            (i for i, (a, b) in enumerate(zip(exp_bytes, act_bytes)) if a != b),
            min(len(exp_bytes), len(act_bytes)),
        )
        pytest.fail(
            f"{name}: save_as output differs (pydicom {len(exp_bytes)} bytes, "
            f"reader {len(act_bytes)} bytes), first difference at byte {first}: "
            f"{exp_bytes[first : first + 16].hex()} != {act_bytes[first : first + 16].hex()}"
        )


# --------------------------------------------------------------------------
# file-like and path-like input
# --------------------------------------------------------------------------
FILE_LIKE_FILES = [
    "CT_small.dcm",  # explicit VR little endian
    "MR_small_bigendian.dcm",  # explicit VR big endian
    "rtplan.dcm",  # sequences
    "image_dfl.dcm",  # deflated
    "no_meta.dcm",  # no preamble / file meta: needs force
    "MR_small_RLE.dcm",  # encapsulated pixel data
]


def _file_like_sources(path: str):
    data = Path(path).read_bytes()
    opened = []

    def open_file():
        handle = open(path, "rb")  # noqa: SIM115 - closed by the test
        opened.append(handle)
        return handle

    return (
        {
            "open": open_file,
            "bytesio": lambda: io.BytesIO(data),
            "pathlib": lambda: Path(path),
            "bytearray-io": lambda: io.BytesIO(bytearray(data)),
        },
        opened,
    )


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"defer_size": 64}, {"stop_before_pixels": True}],
    ids=["default", "defer64", "stop_before_pixels"],
)
@pytest.mark.parametrize("name", FILE_LIKE_FILES)
def test_file_like_input(name, kwargs, reader):
    path = pydicom.data.get_testdata_file(name)
    assert path is not None, f"{name} not found"
    force = _needs_force(path)
    sources, opened = _file_like_sources(path)
    try:
        for kind, factory in sources.items():
            expected, actual = read_both(factory, reader, force=force, **kwargs)
            label = f"{name} via {kind} force={force} {kwargs}"
            assert_same_outcome(expected, actual, label)
            assert expected.exc is None, f"{label}: pydicom failed, bad test file?"
            exp_src, act_src = expected.source, actual.source
            if hasattr(exp_src, "closed"):
                assert act_src.closed == exp_src.closed, (
                    f"{label}: caller's file object closed={act_src.closed}, "
                    f"pydicom leaves it closed={exp_src.closed}"
                )
                if not exp_src.closed:
                    assert act_src.tell() == exp_src.tell(), (
                        f"{label}: file position after read: pydicom "
                        f"{exp_src.tell()}, reader {act_src.tell()}"
                    )
    finally:
        for handle in opened:
            handle.close()


def _positioned(data: bytes, position: int):
    def make():
        buffer = io.BytesIO(data)
        buffer.seek(position)
        return buffer

    return make


@pytest.mark.parametrize("force", [True, False])
@pytest.mark.parametrize(
    "case", ["no_meta at its end", "no_meta after a dataset", "CT_small after bytes"]
)
def test_file_like_read_from_its_position(case, force, reader):
    """A stream read from a position that is not 0: pydicom reads from there when a
    preamble and 'DICM' follow, and without them (force=True) from the stream's
    start. (pydicom's own tests write a dataset then read the same DicomBytesIO.)"""
    no_meta = Path(pydicom.data.get_testdata_file("no_meta.dcm")).read_bytes()
    ct = Path(CT).read_bytes()
    data, position = {
        "no_meta at its end": (no_meta, len(no_meta)),
        "no_meta after a dataset": (no_meta + no_meta[:200], len(no_meta)),
        "CT_small after bytes": (no_meta[:300] + ct, 300),
    }[case]
    expected, actual = read_both(_positioned(data, position), reader, force=force)
    label = f"{case} force={force}"
    assert_same_outcome(expected, actual, label)
    if expected.exc is None:
        assert actual.source.tell() == expected.source.tell(), label


def test_file_like_matches_path_read(reader):
    """The same bytes read from a path and from a BytesIO give the same data."""
    path = CT
    from_path = run_reader(reader, path)
    from_buffer = run_reader(reader, Path(path).read_bytes())
    assert from_path.exc is None and from_buffer.exc is None
    for attr in ("filename", "fileobj_type", "timestamp"):
        # these legitimately differ between the two sources; the elements not
        setattr(from_buffer.ds, attr, getattr(from_path.ds, attr))
    from_buffer.ds.buffer = None
    assert_same_dataset(from_path.ds, from_buffer.ds, "CT_small path vs BytesIO: ")


# --------------------------------------------------------------------------
# argument handling and errors that are not about the file contents
# --------------------------------------------------------------------------
ARGUMENT_CASES = {
    "missing-file": (lambda tmp: str(tmp / "does-not-exist.dcm"), {}),
    "directory": (lambda tmp: str(tmp), {}),
    "none": (lambda tmp: None, {}),
    "int": (lambda tmp: 12345, {}),
    "empty-file": (lambda tmp: _write(tmp / "empty.dcm", b""), {}),
    "empty-file-force": (lambda tmp: _write(tmp / "empty.dcm", b""), {"force": True}),
    "empty-bytesio": (lambda tmp: lambda: io.BytesIO(b""), {"force": True}),
    "defer-size-str": (lambda tmp: CT, {"defer_size": "1 KB"}),
    "defer-size-float": (lambda tmp: CT, {"defer_size": 512.0}),
    "defer-size-zero": (lambda tmp: CT, {"defer_size": 0}),
    "defer-size-bad": (lambda tmp: CT, {"defer_size": "lots"}),
    "specific-tags-bad-keyword": (
        lambda tmp: CT,
        {"specific_tags": ["NotADicomKeyword"]},
    ),
    "specific-tags-empty": (lambda tmp: CT, {"specific_tags": []}),
    "specific-tags-pixeldata": (
        lambda tmp: CT,
        {"specific_tags": ["PixelData", "Rows"]},
    ),
    "specific-tags-and-stop": (
        lambda tmp: CT,
        {"specific_tags": ["PixelData", "Rows"], "stop_before_pixels": True},
    ),
    "path-str-with-pathlike": (lambda tmp: Path(CT), {}),
}


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("case", sorted(ARGUMENT_CASES))
def test_argument_parity(case, reader, tmp_path):
    make, kwargs = ARGUMENT_CASES[case]
    arg = make(tmp_path)  # made once: both readers see the very same file
    factory = arg if callable(arg) else lambda: arg
    expected, actual = read_both(factory, reader, **kwargs)
    assert_same_outcome(expected, actual, case)


def _image_file(path: Path, text: int, trailing: int, odd: bool) -> str:
    """A small CT-like file whose header holds `text` bytes of text (UT), ending with its
    pixel data, or with `trailing` bytes of padding after it; `odd`: 8-bit data of odd
    length."""
    import numpy as np
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = FileDataset(str(path), {}, file_meta=FileMetaDataset(), preamble=b"\0" * 128)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.PatientName = "Head^Read"
    ds.TextValue = "x" * text
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    rows, bits = (7, 8) if odd else (64, 16)
    ds.Rows, ds.Columns = rows, 3 if odd else 64
    ds.BitsAllocated = ds.BitsStored = bits
    ds.HighBit, ds.PixelRepresentation = bits - 1, 0
    arr = np.arange(ds.Rows * ds.Columns, dtype=f"u{bits // 8}").reshape(ds.Rows, -1)
    ds.PixelData = arr.tobytes()
    if odd:
        ds["PixelData"].VR = "OB"
    if trailing:
        ds.add_new(0xFFFCFFFC, "OB", b"\0" * trailing)
    ds.save_as(path, enforce_file_format=True)
    return str(path)


@pytest.mark.parametrize(
    "text, trailing, odd",
    [
        (100, 0, False),  # header in the first 8 KiB read
        (100, 0, True),  # odd-length pixel data (padded by the writer)
        (20_000, 0, False),  # header in the second, 64 KiB read
        (70_000, 0, False),  # header beyond both reads: the whole file mapped
        (100, 2, False),  # trailing padding: read from the end of the file
        (100, 70_000, False),  # more than 64 KiB of it: the whole file mapped
    ],
)
def test_header_from_the_first_bytes(tmp_path, reader, text, trailing, odd):
    """Files indexed from their first (and last) bytes, with the pixel data mapped
    untouched, read as pydicom reads them, and so do those that need the whole file."""
    import numpy as np

    path = _image_file(tmp_path / "image.dcm", text, trailing, odd)
    _check(path, reader)
    ds = reader(path)
    want = pydicom_dcmread(path)
    assert ds.PixelData == want.PixelData
    np.testing.assert_array_equal(ds.pixel_array, want.pixel_array)
    assert ds.preamble == want.preamble

"""The fast path is taken for every file pydicom reads without complaint, and dcmfast's
own surface (state, patching, CLI, pickling, threads) behaves as pydicom's."""

from __future__ import annotations

import copy
import importlib
import io
import pickle
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import dcmfast
import pydicom
import pytest
from conftest import all_test_files
from dcmfast import _core
from dcmfast.cli import main as cli_main
from helpers import CT
from pydicom.data import get_testdata_file
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.errors import InvalidDicomError


def _pydicom_complains(path: str) -> bool:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = pydicom.dcmread(path, force=True)
        except Exception:  # noqa: BLE001 - any exception is a complaint
            return True
    return bool(caught) or ds is None


@pytest.mark.parametrize("path", all_test_files(), ids=lambda p: p.rsplit("/", 1)[-1])
def test_fast_path_unless_pydicom_complains(path):
    """Only files pydicom warns about or rejects are handed to pydicom's reader."""
    try:
        _core.read_path(str(path), _core.ReadOptions(force=True))
    except _core.ParseError as exc:
        assert _pydicom_complains(str(path)), f"fell back without cause: {exc}"


def test_dataset_state_matches_pydicom():
    ours, theirs = dcmfast.dcmread(CT), pydicom.dcmread(CT)
    assert isinstance(ours, pydicom.dataset.FileDataset)
    assert sorted(vars(ours)) == sorted(vars(theirs))
    for name, value in vars(theirs).items():
        if name not in ("_dict", "file_meta"):
            assert vars(ours)[name] == value, name
    assert sorted(vars(ours.file_meta)) == sorted(vars(theirs.file_meta))
    for name, value in vars(theirs.file_meta).items():
        if name != "_dict":
            assert vars(ours.file_meta)[name] == value, name


def test_elements_are_made_only_when_accessed():
    ds = dcmfast.dcmread(CT)
    assert type(ds.get_item(0x00100010)) is RawDataElement
    assert str(ds.PatientName) == str(pydicom.dcmread(CT).PatientName)
    assert type(ds.get_item(0x00100010)) is DataElement
    assert type(ds.get_item(0x00100020)) is RawDataElement


@pytest.mark.parametrize("keyword", ["PatientID", "Rows", "SliceLocation", "ImageType"])
def test_keyword_value_is_the_stored_elements_value(keyword):
    """Keyword access converts a plain element for its value; the DataElement pydicom
    would have stored is made on first element access, around that same value."""
    ours, theirs = dcmfast.dcmread(CT), pydicom.dcmread(CT)
    value = getattr(ours, keyword)
    assert getattr(ours, keyword) is value
    elem = ours.data_element(keyword)
    assert type(elem) is DataElement
    assert elem.value is value
    assert ours.data_element(keyword) is elem
    assert ours._dict[elem.tag] is elem
    expected = theirs.data_element(keyword)
    assert vars(elem) == vars(expected)
    assert list(vars(elem)) == list(vars(expected))


def test_file_meta_is_converted_as_pydicoms_reader_leaves_it():
    ours, theirs = dcmfast.dcmread(CT), pydicom.dcmread(CT)
    for tag in theirs.file_meta._dict:
        assert type(ours.file_meta._dict[tag]) is type(theirs.file_meta._dict[tag])
    assert ours.file_meta == theirs.file_meta


def test_mutation_and_order_follow_pydicom():
    ours, theirs = dcmfast.dcmread(CT), pydicom.dcmread(CT)
    for ds in (ours, theirs):
        ds.PatientName = "Doe^Jane"
        del ds.PatientID
        ds.add_new(0x00091001, "LO", "new private")
        ds.AccessionNumber = "A1"
    assert list(ours.keys()) == list(theirs.keys())
    assert ours == theirs
    assert ours.to_json_dict() == theirs.to_json_dict()


def test_pickle_and_copies():
    ds = dcmfast.dcmread(CT)
    for clone in (pickle.loads(pickle.dumps(ds)), copy.deepcopy(ds), copy.copy(ds)):
        assert clone == pydicom.dcmread(CT)
        assert clone.file_meta == ds.file_meta


def test_save_as_is_byte_identical():
    ours, theirs = io.BytesIO(), io.BytesIO()
    dcmfast.dcmread(CT).save_as(ours)
    pydicom.dcmread(CT).save_as(theirs)
    assert ours.getvalue() == theirs.getvalue()


def test_file_like_read_mid_stream_keeps_positions():
    with open(CT, "rb") as f:
        data = f.read()
    ours_fp, theirs_fp = io.BytesIO(b"xyz" + data), io.BytesIO(b"xyz" + data)
    ours_fp.seek(3)
    theirs_fp.seek(3)
    ours, theirs = dcmfast.dcmread(ours_fp), pydicom.dcmread(theirs_fp)
    assert ours.buffer is ours_fp
    for tag in theirs.keys():  # noqa: SIM118 - iterating a Dataset yields elements
        assert ours[tag].file_tell == theirs[tag].file_tell


def test_argument_errors_are_pydicoms():
    with pytest.raises(TypeError):
        dcmfast.dcmread(b"DICM")
    with pytest.raises(TypeError):
        dcmfast.dcmread(None)
    with pytest.raises(InvalidDicomError):
        dcmfast.dcmread(get_testdata_file("no_meta.dcm"))
    with pytest.raises(FileNotFoundError):
        dcmfast.dcmread("/nonexistent/file.dcm")


def test_not_dicom_is_pydicoms_error_raised_as_is():
    path = get_testdata_file("no_meta.dcm")
    with pytest.raises(InvalidDicomError) as theirs:
        pydicom.dcmread(path)
    for source in (path, io.BytesIO(b"\0" * 300)):
        with pytest.raises(_core.NotDicomError) as ours:
            dcmfast.dcmread(source)
        assert str(ours.value) == str(theirs.value)
        # Crosses processes (a loader's workers) like pydicom's own exception.
        again = pickle.loads(pickle.dumps(ours.value))
        assert type(again) is _core.NotDicomError
        assert str(again) == str(ours.value)


def test_patch_pydicom_routes_and_undoes():
    original = pydicom.dcmread
    dcmfast.patch_pydicom()
    try:
        assert pydicom.dcmread is dcmfast.dcmread
        # Modules holding their own copy of the name, lazily imported ones too.
        for name in ("filereader", "fileset", "examples", "dicomio", "cli.main"):
            module = importlib.import_module("pydicom." + name)
            assert vars(module)["dcmread"] is dcmfast.dcmread, name
        assert type(pydicom.dcmread(CT)) is dcmfast.FileDataset
        # The fallback calls pydicom's real reader, not the patched name.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(get_testdata_file("SC_rgb_jpeg.dcm"))
        assert type(ds) is pydicom.dataset.FileDataset
    finally:
        dcmfast.unpatch_pydicom()
    assert pydicom.dcmread is original
    for name in ("filereader", "fileset", "examples", "dicomio", "cli.main"):
        assert vars(importlib.import_module("pydicom." + name))["dcmread"] is original


def test_dump_prints_pydicoms_str(capsys):
    assert cli_main(["dump", CT]) == 0
    assert capsys.readouterr().out == str(pydicom.dcmread(CT)) + "\n"
    assert cli_main(["dump", "/nonexistent.dcm"]) == 1


def test_reads_from_threads_agree():
    paths = [str(p) for p in all_test_files()[:60]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {p: _summary(p, pydicom.dcmread) for p in paths}
        with ThreadPoolExecutor(4) as pool:
            got = dict(
                zip(paths, pool.map(lambda p: _summary(p, dcmfast.dcmread), paths))
            )
    assert got == expected


def _summary(path, reader):
    try:
        ds = reader(path, force=True)
    except Exception as exc:  # noqa: BLE001 - compare the class
        return type(exc).__name__
    return [(e.tag, e.VR, repr(e.value)[:200]) for e in ds.iterall()]


def test_one_dataset_shared_by_threads():
    ds = dcmfast.dcmread(CT)
    barrier = threading.Barrier(4)

    def touch():
        barrier.wait()
        return [repr(ds[tag].value) for tag in list(ds.keys())]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: touch(), range(4)))
    assert all(r == results[0] for r in results)


def _state(value):
    """A value's type and full instance state, recursively for MultiValue/lists."""
    items = getattr(value, "_list", value if isinstance(value, list) else None)
    inner = [_state(v) for v in items] if items is not None else None
    # Converters made per call (closures) compare by name, not identity.
    attrs = {
        k: getattr(v, "__qualname__", v) if callable(v) else v
        for k, v in getattr(value, "__dict__", {}).items()
        if k != "_list"
    }
    return type(value), repr(value), attrs, inner


@pytest.mark.parametrize("path", all_test_files(), ids=lambda p: p.rsplit("/", 1)[-1])
def test_converted_elements_have_pydicoms_state(path):
    """Elements converted by dcmfast carry exactly the attributes pydicom's have."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = pydicom.dcmread(path, force=True)
        except Exception:  # noqa: BLE001 - unreadable files are covered elsewhere
            return
        ours = dcmfast.dcmread(path, force=True)
        for tag in theirs.keys():  # noqa: SIM118 - iterating a Dataset yields elements
            try:
                expected = theirs[tag]
            except Exception:  # noqa: BLE001, S112 - access errors are compared elsewhere
                continue
            got = ours[tag]
            if expected.VR == "SQ":
                continue
            assert vars(got).keys() == vars(expected).keys(), tag
            assert _state(got.value) == _state(expected.value), tag
            assert (got.VR, got.file_tell, got.validation_mode) == (
                expected.VR,
                expected.file_tell,
                expected.validation_mode,
            ), tag


@pytest.mark.parametrize("header_bytes", [1_000, 16_000, 16_384, 65_536, 200_000])
def test_stop_before_pixels_with_headers_of_any_size(tmp_path, header_bytes):
    """dcmfast reads only the first bytes of a file when they hold the header; headers
    around and past that size must read the same as pydicom."""
    ds = pydicom.dcmread(CT)
    ds.add_new(0x00091010, "LO", "DCMFAST")
    ds.add_new(0x00091011, "OB", b"\x01" * header_bytes)
    path = tmp_path / "big_header.dcm"
    ds.save_as(path)
    ours = dcmfast.dcmread(path, stop_before_pixels=True)
    theirs = pydicom.dcmread(path, stop_before_pixels=True)
    assert ours == theirs
    assert list(ours.keys()) == list(theirs.keys())
    assert "PixelData" not in ours


def test_keyword_attributes_behave_as_pydicoms():
    ours, theirs = dcmfast.dcmread(CT), pydicom.dcmread(CT)
    # copyreg caches __slotnames__ on a class once an instance is pickled.
    assert set(dir(ours)) - {"__slotnames__"} == set(dir(theirs)) - {"__slotnames__"}
    for keyword in ("PatientName", "Rows", "ImagePositionPatient", "PixelData"):
        assert getattr(ours, keyword) == getattr(theirs, keyword)
    for ds in (ours, theirs):
        del ds.PatientName
        ds.Rows = 7
        ds.AccessionNumber = "X1"
    assert not hasattr(ours, "PatientName")
    assert (ours.Rows, ours.AccessionNumber) == (7, "X1")
    with pytest.raises(AttributeError) as ours_error:
        ours.AcquisitionContextSequence  # noqa: B018 - the lookup is the test
    with pytest.raises(AttributeError) as theirs_error:
        theirs.AcquisitionContextSequence  # noqa: B018
    assert str(ours_error.value) == str(theirs_error.value)
    with pytest.raises(AttributeError):
        dcmfast.FileDataset.PatientName  # noqa: B018

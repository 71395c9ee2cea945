"""Self-tests of compare.py: the harness must notice every kind of difference.

Each "reader" here is pydicom's dcmread with one thing changed; comparing it
with pydicom must fail, and name what differs.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import pytest
from compare import (
    Outcome,
    assert_is_exception,
    assert_same_dataset,
    assert_same_outcome,
    normalise_message,
    pydicom_dcmread,
    read_both,
    touch_file_dataset,
)
from helpers import CT
from pydicom.data import get_testdata_file
from pydicom.dataelem import DataElement
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.valuerep import DSfloat

RTPLAN = get_testdata_file("rtplan.dcm")


def _mutated(change):
    def read(fp, **kwargs):
        ds = pydicom_dcmread(fp, **kwargs)
        change(ds)
        return ds

    return read


def _assert_detects(reader, path=CT, match=None, **kwargs):
    expected, actual = read_both(path, reader, **kwargs)
    with pytest.raises(AssertionError, match=match):
        assert_same_outcome(expected, actual, "self-test")


def test_identical_reads_pass():
    expected, actual = read_both(RTPLAN, pydicom_dcmread)
    assert expected.exc is None
    assert len(expected.ds) > 10
    assert_same_outcome(expected, actual, "self-test")


def test_detects_changed_value():
    def change(ds):
        ds.PatientName = "Someone^Else"

    _assert_detects(_mutated(change), match="PersonName")


def test_detects_changed_value_type():
    def change(ds):
        ds["Rows"]._value = float(ds.Rows)  # bypass the setter's validation

    _assert_detects(_mutated(change), match="value type")


def test_detects_changed_vr():
    def change(ds):
        elem = ds["PatientID"]
        ds["PatientID"] = DataElement(elem.tag, "SH", elem.value)

    _assert_detects(_mutated(change), match="VR")


def test_detects_missing_element_and_order():
    def drop(ds):
        del ds.PatientID

    _assert_detects(_mutated(drop), match="element tags differ")

    def reorder(ds):
        items = list(ds._dict.items())
        ds._dict.clear()
        ds._dict.update(reversed(items))

    _assert_detects(_mutated(reorder), match="file order")


def test_detects_nested_difference():
    def change(ds):
        ds.BeamSequence[0].BeamName = "other"

    _assert_detects(_mutated(change), path=RTPLAN, match=r"\(300A,00B0\)\[0\]")


def test_detects_file_meta_and_preamble():
    def meta(ds):
        ds.file_meta.ImplementationVersionName = "OTHER"

    _assert_detects(_mutated(meta), match="file_meta")

    def preamble(ds):
        ds.preamble = b"\x01" * 128

    _assert_detects(_mutated(preamble), match="preamble")


def test_detects_encoding_flags():
    def change(ds):
        ds._read_little = False

    _assert_detects(_mutated(change), match="original_encoding|_read_little")


def test_detects_original_string():
    def change(ds):
        ds["SliceThickness"].value = DSfloat("5.00000")

    _assert_detects(_mutated(change), match="original_string|value")


def test_detects_undefined_length_flag():
    def change(ds):
        ds["BeamSequence"].is_undefined_length = True

    _assert_detects(_mutated(change), path=RTPLAN, match="is_undefined_length")


def test_detects_missing_and_extra_warnings():
    def quiet(fp, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom_dcmread(fp, **kwargs)
            touch_file_dataset(ds, {})  # convert now, while suppressed
        return ds

    broken = Path(CT).read_bytes()[:168]  # pydicom warns about this one
    expected, actual = read_both(broken, quiet)
    assert expected.warnings, "self-test needs a file pydicom warns about"
    with pytest.raises(AssertionError, match="warnings differ"):
        assert_same_outcome(expected, actual, "self-test")

    def noisy(fp, **kwargs):
        warnings.warn("something else", UserWarning, stacklevel=1)
        return pydicom_dcmread(fp, **kwargs)

    _assert_detects(noisy, match="only reader")


def test_detects_exception_differences():
    def raises_other(fp, **kwargs):
        raise ValueError("not what pydicom raises")

    _assert_detects(raises_other, path=b"\x00" * 10, match="exception class")
    _assert_detects(raises_other, match="the reader raised")

    def never_raises(fp, **kwargs):
        return pydicom_dcmread(fp, force=True)

    _assert_detects(never_raises, path=b"\x00" * 10, match="returned a dataset")


def test_subclass_of_pydicoms_exception_is_accepted():
    class Narrower(InvalidDicomError):
        pass

    def raises_subclass(fp, **kwargs):
        raise Narrower("narrower")

    expected, actual = read_both(b"\x00" * 10, raises_subclass)
    assert isinstance(expected.exc, InvalidDicomError)
    assert_same_outcome(expected, actual, "self-test")


def test_base_exceptions_are_flagged():
    class PanicException(BaseException):
        pass

    out = Outcome(exc=PanicException("rust panicked"))
    with pytest.raises(AssertionError, match="non-Exception"):
        assert_is_exception(out, "self-test")
    assert_is_exception(Outcome(exc=ValueError("fine")), "self-test")


def test_nan_equals_nan_but_signs_and_types_matter():
    def dataset(values):
        ds = pydicom_dcmread(CT)
        ds["RescaleIntercept"] = DataElement(
            0x00281052, "FD", MultiValue(float, values)
        )
        return ds

    nan = math.nan
    assert_same_dataset(dataset([nan, 1.0]), dataset([nan, 1.0]), "nan: ")
    with pytest.raises(AssertionError):
        assert_same_dataset(dataset([0.0, 1.0]), dataset([-0.0, 1.0]), "sign: ")
    with pytest.raises(AssertionError):
        assert_same_dataset(dataset([nan, 1.0]), dataset([2.0, 1.0]), "nan: ")


def test_detects_source_handling():
    data = Path(CT).read_bytes()

    def copies_buffer(fp, **kwargs):
        ds = pydicom_dcmread(fp, **kwargs)
        ds.buffer = io.BytesIO(data)
        return ds

    _assert_detects(copies_buffer, path=data, match="buffer")


def test_normalise_message_strips_addresses_only():
    message = "bad <_io.BytesIO object at 0x7f3a2b1c4d50> at (0008,0016) 0x1A2B"
    assert normalise_message(message) == (
        "bad <_io.BytesIO object at 0x?> at (0008,0016) 0x1A2B"
    )

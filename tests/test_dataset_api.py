"""What users do with a dataset after reading it behaves as with pydicom's.

The reader may store elements differently (e.g. a lazy mapping in place of
pydicom's dict); everything reachable through the public Dataset API must
still give the same results: str(), ==, copies, pickling, JSON, slicing,
mutation followed by save_as.
"""

from __future__ import annotations

import copy
import io
import pickle
import warnings

import pytest
from compare import (
    assert_same_dataset,
    assert_same_exception,
    describe_exc,
    pydicom_dcmread,
    run_reader,
)
from conftest import file_id
from pydicom.data import get_testdata_file

pytestmark = pytest.mark.usefixtures("quiet_pydicom_logger")


def _both(path, reader, **kwargs):
    expected = run_reader(pydicom_dcmread, path, touch=False, force=True, **kwargs)
    if expected.exc is not None:
        pytest.skip(f"pydicom cannot read it: {describe_exc(expected.exc)}")
    actual = run_reader(reader, path, touch=False, force=True, **kwargs)
    assert_same_exception(expected, actual, file_id(path))
    return expected.ds, actual.ds


def _call(func):
    """(result, exception class) of func(), warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return func(), None
        except Exception as exc:  # noqa: BLE001 - compared by the caller
            return None, type(exc)


def _same_call(name, exp_func, act_func, compare=None):
    expected, exp_exc = _call(exp_func)
    actual, act_exc = _call(act_func)
    if exp_exc is not None:
        assert act_exc is not None and issubclass(act_exc, exp_exc), (
            f"{name}: pydicom raised {exp_exc.__name__}, reader gave "
            f"{act_exc.__name__ if act_exc else 'no exception'}"
        )
        return None, None
    assert act_exc is None, f"{name}: reader raised {act_exc.__name__}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if compare is None:
            assert expected == actual, f"{name} differs"
        else:
            compare(expected, actual)
    return expected, actual


def test_mapping_surface_before_access(dicom_file, reader):
    """keys/items/values/len/in/get on an untouched dataset."""
    exp, act = _both(dicom_file, reader)
    name = file_id(dicom_file)
    assert list(act.keys()) == list(exp.keys()), name
    assert len(act) == len(exp), name
    for tag in list(exp.keys())[:5]:
        assert tag in act, name
        assert int(tag) in act, name
    assert 0x7FFF0010 not in act, name
    with warnings.catch_warnings(record=True) as exp_warned:
        warnings.simplefilter("always")
        exp_has = "NotAKeyword" in exp
    with warnings.catch_warnings(record=True) as act_warned:
        warnings.simplefilter("always")
        act_has = "NotAKeyword" in act
    assert act_has is exp_has is False, name
    assert [str(w.message) for w in act_warned] == [
        str(w.message) for w in exp_warned
    ], f"{name}: warning of 'in' with a bad keyword"
    assert [type(v) for v in act.values()] == [type(v) for v in exp.values()], (
        f"{name}: raw value types of values()"
    )
    assert [k for k, _ in act.items()] == [k for k, _ in exp.items()], name
    assert act.get(0x7FFF0010, "dflt") == "dflt", name
    assert sorted(act.dir()) == sorted(exp.dir()), f"{name}: dir()"


@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm"])
def test_keys_is_a_dict_view(name, reader):
    """Dataset.keys() is pydicom's dict view: set operations, live updates."""
    exp, act = _both(get_testdata_file(name), reader)
    exp_type, act_type = type(exp.keys()).__name__, type(act.keys()).__name__
    assert act_type == exp_type, f"{name}: keys() is {act_type}, not {exp_type}"
    probe = {0x00080016, 0x7FFF0010}
    assert (act.keys() & probe) == (exp.keys() & probe), name
    assert act.keys() == exp.keys(), f"{name}: keys() views compare unequal"
    view = act.keys()
    act.add_new(0x00091010, "LO", "new")
    assert 0x00091010 in view, f"{name}: keys() view does not follow updates"


def test_str_eq_and_json(dicom_file, reader):
    exp, act = _both(dicom_file, reader, stop_before_pixels=True)
    name = file_id(dicom_file)
    _same_call(f"{name} str()", lambda: str(exp), lambda: str(act))
    equal, exc = _call(lambda: (exp == act, act == exp, act != exp))
    assert exc is None, f"{name}: comparing the datasets raised {exc.__name__}"
    assert equal == (True, True, False), f"{name}: ==/!= give {equal}"
    _same_call(f"{name} to_json_dict()", exp.to_json_dict, act.to_json_dict)


def test_copies_and_pickle(dicom_file, reader):
    exp, act = _both(dicom_file, reader, stop_before_pixels=True)
    name = file_id(dicom_file)

    def same(a, b):
        assert_same_dataset(a, b, f"{name} copy: ")

    _same_call(
        f"{name} deepcopy", lambda: copy.deepcopy(exp), lambda: copy.deepcopy(act), same
    )
    _same_call(f"{name} copy", lambda: copy.copy(exp), lambda: copy.copy(act), same)
    _same_call(
        f"{name} pickle",
        lambda: pickle.loads(pickle.dumps(exp)),
        lambda: pickle.loads(pickle.dumps(act)),
        same,
    )


API_FILES = ["CT_small.dcm", "rtplan.dcm", "MR_small_bigendian.dcm", "chrH31.dcm"]


def _apply(ds):
    """A typical edit session; returns what the calls returned."""
    results = []
    results.append(list(ds.group_dataset(0x0008).keys()))
    results.append(list(ds[0x00080000:0x00100000].keys()))
    results.append(ds.get("PatientName"))
    results.append(ds.pop(0x00080020, None))
    ds.PatientName = "Anon^Ymous"
    ds.add_new(0x00091010, "LO", "private value")
    ds.private_block(0x0011, "DCMFAST TEST", create=True).add_new(0x01, "SH", "x")
    if "PatientID" in ds:
        del ds.PatientID
    results.append(list(ds.keys()))
    ds.remove_private_tags()
    results.append(list(ds.keys()))
    results.append(sum(1 for _ in ds.iterall()))
    seen = []
    ds.walk(lambda d, e: seen.append((e.tag, e.VR)))
    results.append(seen)
    ds.update({"StudyDescription": "edited"})
    return results


@pytest.mark.parametrize("name", API_FILES)
def test_edit_then_save(name, reader):
    path = get_testdata_file(name)
    exp, act = _both(path, reader)
    _same_call(f"{name} edits", lambda: _apply(exp), lambda: _apply(act))
    assert_same_dataset(exp, act, f"{name} after edits: ")

    def save(ds):
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=False)
        return buffer.getvalue()

    _same_call(f"{name} save_as after edits", lambda: save(exp), lambda: save(act))
    # and what was saved reads back the same
    exp_bytes, act_bytes = save(exp), save(act)
    again_exp = run_reader(pydicom_dcmread, exp_bytes)
    again_act = run_reader(reader, act_bytes)
    assert_same_exception(again_exp, again_act, f"{name} re-read")
    assert_same_dataset(again_exp.ds, again_act.ds, f"{name} re-read: ")

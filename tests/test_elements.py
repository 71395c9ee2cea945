"""DataElements made by dcmfast are pydicom's, attribute for attribute.

For every test file pydicom reads, every element at every depth, reached by every
route (keys of each form, iteration, walk, deepcopy), has the type, the ``vars()``
and the value pydicom's own conversion gives it, with the same warnings.
"""

from __future__ import annotations

import copy
import pickle
import warnings
from typing import Any

import pytest
from compare import assert_same_value, fmt_tag, pydicom_dcmread, warning_set
from pydicom import config
from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

# What a dataset's vars() holds that is compared elsewhere or is bookkeeping.
_SKIPPED_DATASET_VARS = {"_dict", "_parent_seq", "_pixel_array", "_pixel_id"}


def _read(read: Any, path: str) -> tuple[Any, set]:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            ds = read(path)
        except Exception as exc:  # noqa: BLE001 - compared by the caller
            ds = exc
    return ds, warning_set(records)


def assert_same_element(expected: Any, actual: Any, where: str) -> None:
    """Same class and the same ``vars()``, values compared by type and value and
    sequences item by item."""
    assert type(actual) is type(expected), (where, type(expected), type(actual))
    if not isinstance(expected, DataElement):
        assert actual == expected, where  # a RawDataElement pydicom left raw
        return
    exp_vars, act_vars = vars(expected), vars(actual)
    assert set(act_vars) == set(exp_vars), (where, sorted(exp_vars), sorted(act_vars))
    for name, exp in exp_vars.items():
        act = act_vars[name]
        if name == "_value":
            assert_same_value_deep(exp, act, where)
        else:
            assert type(act) is type(exp), (where, name, type(exp), type(act))
            assert act == exp, (where, name, exp, act)


def assert_same_value_deep(expected: Any, actual: Any, where: str) -> None:
    if isinstance(expected, Sequence):
        assert type(actual) is type(expected), where
        assert (
            vars_without(actual, {"_list"}).keys()
            == vars_without(expected, {"_list"}).keys()
        ), where
        assert len(actual) == len(expected), where
        for index, (exp_item, act_item) in enumerate(zip(expected, actual)):
            assert_same_item(exp_item, act_item, f"{where}[{index}]")
        return
    assert_same_value(expected, actual, where)


def vars_without(obj: Any, skipped: set[str]) -> dict[str, Any]:
    return {k: v for k, v in vars(obj).items() if k not in skipped}


def assert_same_item(expected: Dataset, actual: Dataset, where: str) -> None:
    """A sequence item: its state, then each of its elements."""
    assert type(actual) is type(expected), where
    exp_vars = vars_without(expected, _SKIPPED_DATASET_VARS)
    act_vars = vars_without(actual, _SKIPPED_DATASET_VARS)
    assert act_vars.keys() == exp_vars.keys(), (where, exp_vars.keys(), act_vars.keys())
    for name, exp in exp_vars.items():
        if name == "_private_blocks":
            assert act_vars[name].keys() == exp.keys(), (where, name)
        else:
            assert type(act_vars[name]) is type(exp), (where, name)
            assert act_vars[name] == exp, (where, name, exp, act_vars[name])
    assert_same_elements(list(expected), list(actual), where + ".")


def assert_same_elements(expected: list, actual: list, where: str = "") -> None:
    assert [e.tag for e in actual] == [e.tag for e in expected], where
    for exp, act in zip(expected, actual):
        assert_same_element(exp, act, where + fmt_tag(exp.tag))


def _both(path: str) -> tuple[Any, Any]:
    from dcmfast import dcmread

    expected, exp_warnings = _read(pydicom_dcmread, path)
    actual, act_warnings = _read(dcmread, path)
    if isinstance(expected, Exception):
        pytest.skip("pydicom does not read it")
    assert act_warnings == exp_warnings
    return expected, actual


def _each(ds: Any, how: Any) -> tuple[list, set]:
    """`how(ds)` (a list of elements), the warnings it raised."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        out = how(ds)
    return out, warning_set(records)


def _elements_by_key(ds: Dataset, form: str) -> list:
    out = []
    for tag in sorted(ds._dict.keys()):
        key: Any = {
            "tag": tag,
            "int": int(tag),
            "tuple": (tag.group, tag.element),
            "keyword": keyword_for_tag(tag) or tag,
            "hex": f"{int(tag):08X}",
        }[form]
        try:
            out.append(ds[key])
        except Exception as exc:  # noqa: BLE001 - compared as its class
            out.append(type(exc))
    return out


def _compare_route(path: str, how: Any) -> None:
    expected, actual = _both(path)
    exp, exp_warnings = _each(expected, how)
    act, act_warnings = _each(actual, how)
    assert act_warnings == exp_warnings
    assert len(act) == len(exp)
    for e, a in zip(exp, act):
        if isinstance(e, type):
            assert a is e
        else:
            assert_same_element(e, a, fmt_tag(e.tag))


def test_iteration(dicom_file: str) -> None:
    """``list(ds)``: same elements, same order, same state, at every depth."""
    _compare_route(dicom_file, list)


@pytest.mark.parametrize("form", ["tag", "int", "tuple", "keyword", "hex"])
def test_key_forms(dicom_file: str, form: str) -> None:
    """``ds[key]`` for every key form pydicom accepts."""
    _compare_route(dicom_file, lambda ds: _elements_by_key(ds, form))


def _walked(ds: Dataset) -> list:
    seen: list = []
    ds.walk(lambda _, elem: seen.append(elem))
    return seen


def test_walk(dicom_file: str) -> None:
    """``walk`` visits the same elements in the same order, and leaves the same state."""
    expected, actual = _both(dicom_file)
    exp, exp_warnings = _each(expected, _walked)
    act, act_warnings = _each(actual, _walked)
    assert act_warnings == exp_warnings
    assert_same_elements(exp, act)
    assert_same_elements(list(expected), list(actual))


def test_iterall_and_accessors(dicom_file: str) -> None:
    """``iterall``, ``get``, ``values()``/``items()`` after access, and ``elements()``."""
    expected, actual = _both(dicom_file)
    assert_same_elements(list(expected.iterall()), list(actual.iterall()))
    for tag in expected._dict:
        assert_same_element(expected.get(tag), actual.get(tag), fmt_tag(tag))
    assert_same_elements(list(expected.elements()), list(actual.elements()))
    assert [type(v) for v in actual.values()] == [type(v) for v in expected.values()]
    assert [k for k, _ in actual.items()] == [k for k, _ in expected.items()]


def test_copies(dicom_file: str) -> None:
    """``copy.deepcopy`` and pickling keep every element as pydicom's do."""
    expected, actual = _both(dicom_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp_copy, act_copy = copy.deepcopy(expected), copy.deepcopy(actual)
        assert_same_elements(list(exp_copy), list(act_copy))
        exp_pickled = pickle.loads(pickle.dumps(expected))
        act_pickled = pickle.loads(pickle.dumps(actual))
        assert_same_elements(list(exp_pickled), list(act_pickled))
        assert actual == expected


def test_walk_exception_names_the_tag(dicom_file: str) -> None:
    """An exception in a walk callback is pydicom's, wrapped the way pydicom wraps it."""
    expected, actual = _both(dicom_file)
    if not len(expected):
        pytest.skip("empty dataset")

    def fail(_: Dataset, elem: DataElement) -> None:
        raise ValueError("callback failed")

    outcomes = []
    for ds in (expected, actual):
        with pytest.raises(ValueError) as info:
            ds.walk(fail)
        outcomes.append(str(info.value).splitlines()[0])
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize(
    "setting",
    [
        ("use_none_as_empty_text_VR_value", True),
        ("replace_un_with_known_vr", False),
        ("datetime_conversion", True),
    ],
)
def test_config(dicom_file: str, setting: tuple[str, bool]) -> None:
    """pydicom's settings decide the elements made here too."""
    name, value = setting
    before = getattr(config, name)
    setattr(config, name, value)
    try:
        _compare_route(dicom_file, list)
    finally:
        setattr(config, name, before)

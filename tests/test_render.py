"""str(ds), repr(ds), ds.top(), to_json_dict/to_json and ``dcmfast dump``: the same text,
JSON, warnings, log records and exceptions as pydicom's, on every test file pydicom reads,
and under pydicom's display settings and replaced code (where pydicom's code renders)."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pydicom
import pytest
from compare import pydicom_dcmread
from conftest import all_test_files, file_id
from dcmfast import cli
from helpers import CallOutcome, call_outcome
from hypothesis import given
from hypothesis import strategies as st
from pydicom import config
from pydicom.datadict import add_private_dict_entry
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence


def _read_both(path: str, reader: Callable[..., Any]) -> tuple[Dataset, Dataset]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = pydicom_dcmread(path)
        except Exception:  # noqa: BLE001 - only files pydicom reads are compared
            pytest.skip("pydicom cannot read it")
        return expected, reader(path)


def _bulk_uri(elem: DataElement) -> str:
    return f"https://example.org/bulk/{elem.tag:08X}/{len(elem.value)}"


# What a user renders a dataset with; each is run on pydicom's dataset and on dcmfast's.
RENDERINGS: dict[str, Callable[[Dataset], Any]] = {
    "str": str,
    "repr": repr,
    "top": lambda ds: ds.top(),
    "to_json_dict": lambda ds: ds.to_json_dict(),
    "to_json_dict bulk": lambda ds: ds.to_json_dict(
        bulk_data_threshold=8, bulk_data_element_handler=_bulk_uri
    ),
    "to_json_dict suppress": lambda ds: ds.to_json_dict(suppress_invalid_tags=True),
    "to_json": lambda ds: ds.to_json(),
    "to_json bulk indent": lambda ds: ds.to_json(
        bulk_data_threshold=0,
        bulk_data_element_handler=_bulk_uri,
        dump_handler=lambda d: json.dumps(d, indent=2, sort_keys=True),
    ),
}


def _items(ds: Dataset) -> Iterator[Dataset]:
    """Every sequence item, depth first (converting elements as iterating does)."""
    for elem in ds:
        if elem.VR == "SQ" and isinstance(elem.value, Sequence):
            for item in elem.value:
                yield item
                yield from _items(item)


def _outcome(func: Callable[[], Any], caplog: pytest.LogCaptureFixture) -> CallOutcome:
    caplog.clear()
    outcome = call_outcome(func)
    outcome.extra = [(r.levelname, r.getMessage()) for r in caplog.records]
    return outcome


def _assert_same_outcome(
    expected: CallOutcome, actual: CallOutcome, label: str
) -> None:
    assert actual.exc == expected.exc, (
        f"{label}: exception differs\n  pydicom: {expected.describe()}\n"
        f"  dcmfast: {actual.describe()}"
    )
    assert actual.warnings == expected.warnings, f"{label}: warnings differ"
    assert actual.extra == expected.extra, f"{label}: log records differ"
    assert actual.value == expected.value, f"{label}: output differs"


@pytest.mark.parametrize("rendering", list(RENDERINGS))
def test_rendering_matches_pydicom(dicom_file, reader, rendering, caplog):
    """Each rendering of a freshly read dataset: the elements are converted while
    rendering, so conversion warnings and errors come out in pydicom's order too."""
    expected_ds, actual_ds = _read_both(dicom_file, reader)
    render = RENDERINGS[rendering]
    with caplog.at_level(logging.INFO, logger="pydicom"):
        expected = _outcome(lambda: render(expected_ds), caplog)
        actual = _outcome(lambda: render(actual_ds), caplog)
    _assert_same_outcome(expected, actual, f"{file_id(dicom_file)} {rendering}")
    # Rendering again (elements now converted) gives the same.
    again = _outcome(lambda: render(actual_ds), caplog)
    expected_again = _outcome(lambda: render(expected_ds), caplog)
    _assert_same_outcome(
        expected_again, again, f"{file_id(dicom_file)} {rendering} again"
    )


def test_sequence_items_match_pydicom(dicom_file, reader):
    expected_ds, actual_ds = _read_both(dicom_file, reader)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected_items = list(_items(expected_ds))
        except Exception:  # noqa: BLE001
            pytest.skip("pydicom cannot convert every element")
        actual_items = list(_items(actual_ds))
        assert [str(item) for item in actual_items] == [
            str(item) for item in expected_items
        ]
        assert [item.to_json_dict() for item in actual_items] == [
            item.to_json_dict() for item in expected_items
        ]


def test_dump_prints_what_pydicom_prints(dicom_file, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = str(pydicom_dcmread(dicom_file))
        except Exception:  # noqa: BLE001
            pytest.skip("pydicom cannot read or print it")
        capsys.readouterr()
        status = cli.main(["dump", dicom_file])
    out = capsys.readouterr().out
    assert status == 0
    assert out == expected + "\n"


# A few files covering file meta, sequences (nested, undefined length), private blocks
# with and without dictionary entries, multi-valued numbers, long and binary values.
SETTINGS_FILES = [
    f
    for f in all_test_files()
    if file_id(f).rsplit("/", 1)[-1]
    in {
        "CT_small.dcm",
        "rtplan.dcm",
        "nested_priv_SQ.dcm",
        "MR_small.dcm",
        "SC_rgb.dcm",
        "image_dfl.dcm",
        "ExplVR_BigEnd.dcm",
        "chrSQEncoding.dcm",
        "rtstruct.dcm",
    }
]


def _element_subclass(ds: Dataset) -> None:
    class Shown(DataElement):
        def __repr__(self) -> str:
            return f"shown {self.tag}"

    elem = ds[0x00080016]
    ds[0x00080016] = Shown(elem.tag, elem.VR, elem.value)


SETTINGS: dict[str, Callable[[pytest.MonkeyPatch, Dataset], None]] = {
    "show_file_meta off": lambda mp, ds: mp.setattr(config, "show_file_meta", False),
    "showVR off": lambda mp, ds: mp.setattr(DataElement, "showVR", False),
    "maxBytesToDisplay 3": lambda mp, ds: mp.setattr(
        DataElement, "maxBytesToDisplay", 3
    ),
    "maxBytesToDisplay 0": lambda mp, ds: mp.setattr(
        DataElement, "maxBytesToDisplay", 0
    ),
    "descripWidth 12": lambda mp, ds: mp.setattr(DataElement, "descripWidth", 12),
    "indent_chars": lambda mp, ds: mp.setattr(Dataset, "indent_chars", "\t"),
    "indent_chars not text": lambda mp, ds: mp.setattr(Dataset, "indent_chars", 2),
    "element showVR": lambda mp, ds: setattr(ds[0x00080016], "showVR", False),
    "repval replaced": lambda mp, ds: mp.setattr(
        DataElement, "repval", property(lambda self: "<value>")
    ),
    "to_json_dict replaced": lambda mp, ds: mp.setattr(
        DataElement,
        "to_json_dict",
        lambda self, bulk_data_element_handler, bulk_data_threshold: {"vr": "??"},
    ),
    "element subclass": lambda mp, ds: _element_subclass(ds),
    "value types": lambda mp, ds: ds.__setitem__(
        0x00081030, DataElement(0x00081030, "LO", ["a", "b"])
    ),
}


@pytest.mark.parametrize("setting", list(SETTINGS))
@pytest.mark.parametrize("path", SETTINGS_FILES, ids=file_id)
def test_settings_and_replaced_code_match_pydicom(path, reader, setting, monkeypatch):
    expected_ds, actual_ds = _read_both(path, reader)
    if 0x00080016 not in expected_ds and "element" in setting:
        pytest.skip("no SOP Class UID")
    with monkeypatch.context() as mp:
        for ds in (expected_ds, actual_ds):
            SETTINGS[setting](mp, ds)
        for name, render in RENDERINGS.items():
            expected = call_outcome(partial(render, expected_ds))
            actual = call_outcome(partial(render, actual_ds))
            assert actual.exc == expected.exc, name
            assert actual.value == expected.value, name


def test_private_dictionary_entry_added_later(reader):
    """Names come from pydicom's private dictionary as it is when rendering."""
    path = next(f for f in SETTINGS_FILES if f.endswith("CT_small.dcm"))
    expected_ds, actual_ds = _read_both(path, reader)
    before = str(actual_ds)
    assert before == str(expected_ds)
    entries = pydicom.datadict.private_dictionaries["GEMS_IDEN_01"]
    original = entries.get("0009xx01")
    add_private_dict_entry("GEMS_IDEN_01", 0x00091001, "LO", "A Renamed Element")
    try:
        after = str(actual_ds)
        assert after == str(expected_ds)
        assert "[A Renamed Element]" in after
    finally:
        # pydicom's own entry is put back, for the tests that follow in this worker.
        if original is None:
            entries.pop("0009xx01", None)
        else:
            entries["0009xx01"] = original


def test_invalid_value_logged_and_dropped_with_suppress_invalid_tags(reader, caplog):
    """badVR.dcm's IS '1A': pydicom logs and drops it (suppress) or logs and raises."""
    path = next(f for f in all_test_files() if f.endswith("badVR.dcm"))
    outcomes = []
    for read in (pydicom_dcmread, reader):
        ds = read(path)
        with caplog.at_level(logging.WARNING, logger="pydicom"):
            suppressed = _outcome(
                partial(ds.to_json_dict, suppress_invalid_tags=True), caplog
            )
            raised = _outcome(ds.to_json_dict, caplog)
        outcomes.append((suppressed, raised))
    (expected_suppressed, expected_raised), (suppressed, raised) = outcomes
    assert expected_raised.exc is not None
    assert expected_suppressed.extra
    _assert_same_outcome(expected_suppressed, suppressed, "suppress_invalid_tags")
    _assert_same_outcome(expected_raised, raised, "raise")


def test_renderer_itself_matches_pydicom(dicom_file, reader):
    """The Rust renderer's own output (not pydicom's code it may fall back to) for every
    file pydicom renders without error."""
    from dcmfast._dataset import RENDERER

    expected_ds, actual_ds = _read_both(dicom_file, reader)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected_str = str(expected_ds)
            expected_top = expected_ds.top()
            expected_json = expected_ds.to_json_dict(8, _bulk_uri)
        except Exception:  # noqa: BLE001
            pytest.skip("pydicom raises: compared by test_rendering_matches_pydicom")
        assert RENDERER.applies(actual_ds)
        assert RENDERER.pretty_str(actual_ds, 0, False) == expected_str
        assert RENDERER.pretty_str(actual_ds, 0, True) == expected_top
        assert RENDERER.json_dict(actual_ds, 8, _bulk_uri, False) == expected_json


@pytest.mark.parametrize(
    "value",
    [
        {"b": [1, -2, 2**70, 1.5, 1e-05, 1e16, float("nan"), float("inf")], "a": None},
        {
            "vr": "PN",
            "Value": [{"Alphabetic": "Yamada^Tarou", "Ideographic": "山田^太郎"}],
        },
        {"s": 'quote " backslash \\ controls \n\r\t\b\f\x01\x7f emoji 😀 é'},
        {"nested": [[{}], [], {"z": [True, False]}], "": -0.0},
        {"é": 1, "e": 2, "f": 3, "E": 4},
    ],
)
def test_json_text_is_json_dumps_sorted(value):
    from dcmfast._dataset import RENDERER

    assert RENDERER.json_text(value) == json.dumps(value, sort_keys=True)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@given(_JSON_VALUES)
def test_json_text_is_json_dumps_for_any_json_value(value):
    """Written exactly as json.dumps(sort_keys=True), or left to it (lone surrogates)."""
    from dcmfast._dataset import RENDERER

    text = RENDERER.json_text(value)
    if text is not None:
        assert text == json.dumps(value, sort_keys=True)


@pytest.mark.parametrize(
    "value",
    [
        {1: "int key"},
        {"t": (1, 2)},
        {"o": object()},
        {"surrogate": "\udcff"},
    ],
)
def test_json_text_leaves_the_rest_to_json(value):
    from dcmfast._dataset import RENDERER

    assert RENDERER.json_text(value) is None


def _nest(ds: Dataset, depth: int) -> None:
    """An SQ of items nested `depth` deep, each with a value, added to `ds`."""
    item = Dataset()
    item.PatientID = "leaf"
    for level in range(depth):
        outer = Dataset()
        outer.SeriesNumber = level
        outer.add_new(0x00081115, "SQ", [item])
        item = outer
    ds.add_new(0x00081115, "SQ", [item])


@pytest.mark.parametrize("depth", [1, 200])
def test_deeply_nested_items_match_pydicom(reader, depth):
    path = next(f for f in SETTINGS_FILES if f.endswith("CT_small.dcm"))
    expected_ds, actual_ds = _read_both(path, reader)
    for ds in (expected_ds, actual_ds):
        _nest(ds, depth)
    assert str(actual_ds) == str(expected_ds)
    assert actual_ds.to_json_dict() == expected_ds.to_json_dict()
    assert actual_ds.to_json() == expected_ds.to_json()

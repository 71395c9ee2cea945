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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import config
from pydicom.datadict import keyword_for_tag, private_dictionaries
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


# --------------------------------------------------------------------------
# hand-built files: every VR kind, empty values, private blocks, sequences
# --------------------------------------------------------------------------
_LONG_HEADER_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT"}
_SYNTAXES = {
    "implicit": ("1.2.840.10008.1.2", True, "<"),
    "explicit": ("1.2.840.10008.1.2.1", False, "<"),
    "big": ("1.2.840.10008.1.2.2", False, ">"),
}


def _public_tag_for(vr: str) -> int:
    """A public tag whose dictionary VR is `vr` (implicit files take it from there)."""
    from pydicom.datadict import DicomDictionary

    for tag, entry in sorted(DicomDictionary.items()):
        if entry[0] == vr and tag > 0x00080000 and tag >> 16 not in (0x7FE0, 0x0028):
            return tag
    raise LookupError(vr)


_VRS = [
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB",
    "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SS", "ST", "SV", "TM", "UC",
    "UI", "UL", "UN", "UR", "US", "UT", "UV",
]  # fmt: skip
_TAG_FOR_VR = {vr: _public_tag_for(vr) for vr in _VRS}


def _element(tag: int, vr: str, value: bytes, syntax: str) -> bytes:
    import struct

    _, implicit, order = _SYNTAXES[syntax]
    head = struct.pack(order + "HH", tag >> 16, tag & 0xFFFF)
    if implicit:
        return head + struct.pack(order + "L", len(value)) + value
    if vr in _LONG_HEADER_VRS:
        return (
            head + vr.encode() + b"\0\0" + struct.pack(order + "L", len(value)) + value
        )
    return head + vr.encode() + struct.pack(order + "H", len(value)) + value


def _file(body: bytes, syntax: str) -> bytes:
    import io

    from pydicom.dataset import FileMetaDataset
    from pydicom.filewriter import write_file_meta_info

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    meta.TransferSyntaxUID = _SYNTAXES[syntax][0]
    out = io.BytesIO()
    out.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(out, meta, enforce_standard=True)
    return out.getvalue() + body


def _compare_bytes(data: bytes) -> None:
    """Read `data` with both; every element by iteration, by key and by walk."""
    import io

    from dcmfast import dcmread

    def read(reader: Any) -> Any:
        return lambda _: reader(io.BytesIO(data))

    expected, exp_warnings = _read(read(pydicom_dcmread), "")
    actual, act_warnings = _read(read(dcmread), "")
    assert isinstance(actual, type(expected))
    assert act_warnings == exp_warnings
    if isinstance(expected, Exception):
        assert type(actual) is type(expected)
        return
    for how in (list, _walked, lambda ds: _elements_by_key(ds, "int")):
        exp, exp_warnings = _each_or_error(expected, how)
        act, act_warnings = _each_or_error(actual, how)
        assert act_warnings == exp_warnings
        if isinstance(exp, type):
            assert act is exp
            continue
        assert len(act) == len(exp)
        for e, a in zip(exp, act):
            if isinstance(e, type):
                assert a is e
            else:
                assert_same_element(e, a, fmt_tag(e.tag))


def _each_or_error(ds: Any, how: Any) -> tuple[Any, set]:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            out = how(ds)
        except Exception as exc:  # noqa: BLE001 - compared as its class
            out = type(exc)
    return out, warning_set(records)


# Text of the characters that matter to conversion: separators, padding, digits,
# a sign and exponent, non-ASCII bytes.
_text_bytes = st.lists(
    st.sampled_from(
        [
            b"A",
            b"z",
            b"1",
            b"0",
            b".",
            b"-",
            b"e",
            b"\\",
            b" ",
            b"\0",
            b"^",
            b"=",
            b"\xe9",
        ]
    ),
    max_size=24,
).map(b"".join)
_value = st.one_of(st.binary(max_size=24), _text_bytes)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    syntax=st.sampled_from(sorted(_SYNTAXES)),
    values=st.lists(st.tuples(st.sampled_from(_VRS), _value), max_size=6),
)
def test_hand_built_values(syntax: str, values: list[tuple[str, bytes]]) -> None:
    """Any bytes of any VR (odd lengths, bad numbers, padding, non-ASCII): the
    same element, or the same warning or exception, as pydicom."""
    by_tag = {_TAG_FOR_VR[vr]: (vr, value) for vr, value in values}
    body = b"".join(
        _element(tag, vr, value, syntax) for tag, (vr, value) in sorted(by_tag.items())
    )
    _compare_bytes(_file(body, syntax))


@pytest.mark.parametrize("syntax", sorted(_SYNTAXES))
@pytest.mark.parametrize("none_for_empty", [False, True])
def test_empty_values(syntax: str, none_for_empty: bool) -> None:
    """An empty element of each VR, with either empty-text setting."""
    body = b"".join(
        _element(tag, vr, b"", syntax)
        for vr, tag in sorted(_TAG_FOR_VR.items(), key=lambda i: i[1])
    )
    before = config.use_none_as_empty_text_VR_value
    config.use_none_as_empty_text_VR_value = none_for_empty
    try:
        _compare_bytes(_file(body, syntax))
    finally:
        config.use_none_as_empty_text_VR_value = before


@pytest.mark.parametrize("syntax", sorted(_SYNTAXES))
@pytest.mark.parametrize(
    "creator",
    [b"GEMS_IDEN_01", b"NOT A KNOWN CREATOR", b"GEMS_IDEN_01\\SECOND ", b""],
)
def test_private_blocks(syntax: str, creator: bytes) -> None:
    """Private elements: VR from the creator's dictionary when implicit, the creator's
    value as ``private_creator``, unknown and multi-valued creators, elements outside
    any block, and a block without its creator."""
    body = b"".join(
        [
            _element(0x00090010, "LO", creator + b" " * (len(creator) % 2), syntax),
            _element(0x00091001, "LO", b"FULL", syntax),
            _element(0x00091002, "SH", b"SUITE ", syntax),
            _element(0x00091003, "US", b"\x01\x00", syntax),
            _element(0x00110001, "UL", b"\x01\x00\x00\x00", syntax),
            _element(0x00111001, "DS", b"1.5 ", syntax),
            _element(0x00131010, "LO", b"", syntax),
        ]
    )
    _compare_bytes(_file(body, syntax))


@pytest.mark.parametrize("syntax", sorted(_SYNTAXES))
def test_multi_valued(syntax: str) -> None:
    """Several values: AT tags, person names (and empty components), strings, numbers."""
    order = "<" if syntax != "big" else ">"
    import struct

    tags = struct.pack(order + "HHHH", 0x0010, 0x0010, 0x0020, 0x000D)
    values = {
        "AT": tags,
        "PN": b"Doe^John\\Roe^Jane=ROE\\\\ ",
        "CS": b"A\\B\\ C ",
        "DS": b"1.5\\-2e3\\ 7 ",
        "IS": b"1\\-2\\+3 ",
        "US": struct.pack(order + "HH", 1, 2),
        "FD": struct.pack(order + "dd", 1.5, -0.0),
        "UI": b"1.2.3\\1.2.4\0",
    }
    body = b"".join(
        _element(_TAG_FOR_VR[vr], vr, value, syntax)
        for vr, value in sorted(values.items(), key=lambda i: _TAG_FOR_VR[i[0]])
    )
    _compare_bytes(_file(body, syntax))


def _item(body: bytes, order: str, defined: bool = True) -> bytes:
    import struct

    if defined:
        return struct.pack(order + "HHL", 0xFFFE, 0xE000, len(body)) + body
    end = struct.pack(order + "HHL", 0xFFFE, 0xE00D, 0)
    return struct.pack(order + "HHL", 0xFFFE, 0xE000, 0xFFFFFFFF) + body + end


def _sequence(tag: int, items: bytes, syntax: str, defined: bool = True) -> bytes:
    import struct

    _, implicit, order = _SYNTAXES[syntax]
    if defined:
        return _element(tag, "SQ", items, syntax)
    head = struct.pack(order + "HH", tag >> 16, tag & 0xFFFF)
    head += b"" if implicit else b"SQ\0\0"
    end = struct.pack(order + "HHL", 0xFFFE, 0xE0DD, 0)
    return head + struct.pack(order + "L", 0xFFFFFFFF) + items + end


@pytest.mark.parametrize("syntax", sorted(_SYNTAXES))
@pytest.mark.parametrize("outer_defined", [True, False])
@pytest.mark.parametrize("inner_defined", [True, False])
def test_nested_sequences(
    syntax: str, outer_defined: bool, inner_defined: bool
) -> None:
    """Sequences in sequences, defined and undefined lengths, private and empty items."""
    order = _SYNTAXES[syntax][2]
    leaf = _element(0x00100020, "LO", b"ID1 ", syntax) + _element(
        0x00091001, "LO", b"X ", syntax
    )
    inner = _sequence(
        0x00081115,
        _item(leaf, order, inner_defined) + _item(b"", order, inner_defined),
        syntax,
        inner_defined,
    )
    outer_item = _element(0x00080005, "CS", b"ISO_IR 100", syntax) + inner
    body = _sequence(
        0x00081110, _item(outer_item, order, outer_defined), syntax, outer_defined
    )
    body += _element(0x00100010, "PN", b"Doe^John", syntax)
    _compare_bytes(_file(body, syntax))


@pytest.mark.parametrize("syntax", sorted(_SYNTAXES))
@pytest.mark.parametrize(
    "defect", ["lying item length", "missing delimiter", "truncated"]
)
def test_bad_sequences(syntax: str, defect: str) -> None:
    """Where pydicom warns or raises on a broken sequence, so does dcmfast."""
    import struct

    order = _SYNTAXES[syntax][2]
    leaf = _element(0x00100020, "LO", b"ID1 ", syntax)
    if defect == "lying item length":
        items = struct.pack(order + "HHL", 0xFFFE, 0xE000, len(leaf) + 6) + leaf
        body = _sequence(0x00081110, items, syntax, defined=False)
        body += _element(0x00100010, "PN", b"Doe^John", syntax)
    elif defect == "missing delimiter":
        body = _sequence(0x00081110, _item(leaf, order, False), syntax, False)[:-8]
    else:
        body = _sequence(0x00081110, _item(leaf, order), syntax)[:-3]
    _compare_bytes(_file(body, syntax))


@pytest.mark.parametrize("syntax", sorted(_SYNTAXES))
def test_plain_elements_are_made_without_pydicoms_converter(
    syntax: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Private, empty, AT, ASCII PN, number and text elements and regular sequences of
    both lengths are made by dcmfast itself (the same objects, as the tests above show):
    pydicom's converter and sequence reader are not called for them."""
    import io

    import pydicom.dataset
    import pydicom.filereader
    from dcmfast import _dataset, dcmread

    order = _SYNTAXES[syntax][2]
    leaf = _element(0x00100020, "LO", b"ID1 ", syntax)
    body = b"".join(
        [
            _element(0x00080005, "CS", b"ISO_IR 100", syntax),
            _element(0x00080020, "DA", b"", syntax),
            _sequence(0x00081110, _item(leaf, order), syntax),
            _sequence(0x00081115, _item(leaf, order, False), syntax, defined=False),
            _element(0x00090010, "LO", b"DCMFAST TEST", syntax),
            _element(0x00091001, "LO", b"FULL", syntax),
            _element(0x00100010, "PN", b"Doe^John\\Roe^Jane", syntax),
            _element(0x00200013, "IS", b"12", syntax),
            _element(
                0x00280010, "US", b"\x00\x02"[:: 1 if order == ">" else -1], syntax
            ),
            _element(0x00289503, "SS", b"\x00\x01", syntax),
            _element(_TAG_FOR_VR["AT"], "AT", b"\x10\x00\x10\x00", syntax),
        ]
    )
    calls: list[str] = []
    seen: list[Any] = []

    def refuse(name: str, real: Any) -> Any:
        def called(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            seen.append(args[0])
            return real(*args, **kwargs)

        return called

    # A creator of its own: other tests may edit pydicom's private dictionaries.
    monkeypatch.setitem(
        private_dictionaries, "DCMFAST TEST", {"0009xx01": ("LO", "1", "Full", "")}
    )
    monkeypatch.setattr(
        pydicom.dataset,
        "convert_raw_data_element",
        refuse("convert", pydicom.dataset.convert_raw_data_element),
    )
    monkeypatch.setattr(
        _dataset, "read_sequence", refuse("read_sequence", _dataset.read_sequence)
    )
    ds = dcmread(io.BytesIO(_file(body, syntax)))
    elements = list(ds)
    assert len(elements) == 11
    assert calls == [], seen
    # The items are pydicom Datasets of raw elements, converted by pydicom (as its own
    # items are) when walked.
    _walked(ds)
    assert calls == ["convert", "convert"]

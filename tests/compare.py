"""Helpers comparing what pydicom (the oracle) and the reader under test do.

``read_both()`` reads the same input with ``pydicom.dcmread`` and with the
reader under test, recording for each side the dataset or the exception, the
warnings emitted while reading *and* while every element is accessed
(converted), and the exceptions raised by element access.
``assert_same_outcome()`` then checks the two outcomes match and
``assert_same_dataset()`` compares two datasets recursively.
"""

from __future__ import annotations

import io
import math
import os
import re
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset
from pydicom.filereader import dcmread as _pydicom_dcmread
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.valuerep import PersonName

# The oracle, captured at import (before dcmfast is imported): dcmfast's
# patch_pydicom() rebinds pydicom.dcmread, which must never make the oracle
# compare the reader with itself.
ORACLE = _pydicom_dcmread


def pydicom_dcmread(*args: Any, **kwargs: Any) -> Any:
    """pydicom's own, unpatched dcmread."""
    if getattr(ORACLE, "__module__", "") != "pydicom.filereader":
        raise RuntimeError(f"the oracle is not pydicom's dcmread: {ORACLE!r}")
    return ORACLE(*args, **kwargs)


# set by conftest: returns the dcmread under test (keeps the env switch there)
READER_FACTORY: Callable[[], Callable[..., Any]] | None = None

_MISSING = object()


def reader_under_test() -> Callable[..., Any]:
    if READER_FACTORY is None:  # pragma: no cover - conftest always sets it
        raise RuntimeError("compare.READER_FACTORY not set (conftest not loaded?)")
    return READER_FACTORY()


# --------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------
def fmt_tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _short(value: Any, limit: int = 120) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        text = f"<{type(value).__name__} len={len(data)} {data[:24].hex()}"
        return text + ("...>" if len(data) > 24 else ">")
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - just for a message
        text = f"<unrepresentable {type(value).__name__}: {exc!r}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_exc(exc: BaseException | None) -> str:
    if exc is None:
        return "no exception"
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {_short(str(exc), 200)}"


# --------------------------------------------------------------------------
# warnings
# --------------------------------------------------------------------------
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{9,}\b")
_OBJECT_AT = re.compile(r" object at 0x[0-9a-fA-F]+")


def normalise_message(message: str) -> str:
    """Strip things that legitimately differ between two runs (addresses)."""
    message = _OBJECT_AT.sub(" object at 0x?", message)
    return _ADDRESS.sub("0x?", message)


def warning_set(records) -> set[tuple[str, str]]:
    # ResourceWarnings come from the garbage collector finalising objects that
    # earlier code leaked, at arbitrary times: not attributable to this read
    return {
        (r.category.__qualname__, normalise_message(str(r.message)))
        for r in records
        if not issubclass(r.category, ResourceWarning)
    }


# --------------------------------------------------------------------------
# reading and touching every element
# --------------------------------------------------------------------------
@dataclass
class Outcome:
    """What one ``dcmread`` call did."""

    ds: Any = None
    exc: BaseException | None = None
    warnings: set[tuple[str, str]] = field(default_factory=set)
    # element path -> exception class raised when accessing that element
    access_errors: dict[str, type] = field(default_factory=dict)
    elapsed: float = 0.0
    source: Any = None  # the object actually passed to dcmread


def touch_all(ds: Dataset, errors: dict[str, type], path: str = "") -> None:
    """Access (and so convert) every element of `ds`, recursively.

    Exceptions raised by the access of an element are recorded in `errors`
    keyed by the element's path instead of being propagated.
    """
    try:
        ds._character_set  # noqa: B018 - may warn about unknown charsets
    except Exception as exc:  # noqa: BLE001
        errors[path + "<charset>"] = type(exc)
    for tag in list(ds.keys()):
        where = path + fmt_tag(tag)
        try:
            elem = ds[tag]
            value = elem.value
            if isinstance(value, Sequence):
                for index, item in enumerate(value):
                    touch_all(item, errors, f"{where}[{index}].")
            elif isinstance(value, PersonName):
                str(value)  # person names decode lazily (and may warn then)
            elif isinstance(value, MultiValue):
                for item in value:
                    if isinstance(item, PersonName):
                        str(item)
        except RecursionError:
            raise
        except Exception as exc:  # noqa: BLE001
            errors[where] = type(exc)


def touch_file_dataset(ds: Any, errors: dict[str, type]) -> None:
    file_meta = getattr(ds, "file_meta", None)
    if isinstance(file_meta, Dataset):
        touch_all(file_meta, errors, "file_meta.")
    touch_all(ds, errors)


def run_reader(
    read: Callable[..., Any],
    source: Any,
    touch: bool = True,
    **kwargs: Any,
) -> Outcome:
    """Call ``read(source, **kwargs)`` and record everything it does.

    `source` is a path, ``bytes`` (a fresh ``BytesIO`` is made) or a
    zero-argument callable returning the object to pass.  Non-``Exception``
    ``BaseException``s (e.g. pyo3's PanicException) are recorded too, but
    KeyboardInterrupt/SystemExit are re-raised.
    """
    if isinstance(source, (bytes, bytearray)):
        arg = io.BytesIO(bytes(source))
    elif callable(source):
        arg = source()
    else:
        arg = source
    out = Outcome(source=arg)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            out.ds = read(arg, **kwargs)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - PanicException included
            out.exc = exc
        if out.ds is not None and touch:
            try:
                touch_file_dataset(out.ds, out.access_errors)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001
                out.access_errors["<walk>"] = type(exc)
    out.elapsed = time.perf_counter() - start
    out.warnings = warning_set(records)
    return out


def read_both(
    path: Any,
    reader: Callable[..., Any] | None = None,
    touch: bool = True,
    **kwargs: Any,
) -> tuple[Outcome, Outcome]:
    """Read `path` with pydicom and with the reader under test.

    Returns ``(expected, actual)`` outcomes.  `path` may be a path, ``bytes``
    or a zero-argument callable making a fresh file-like for each side.
    """
    if reader is None:
        reader = reader_under_test()
    expected = run_reader(pydicom_dcmread, path, touch=touch, **kwargs)
    actual = run_reader(reader, path, touch=touch, **kwargs)
    return expected, actual


def assert_is_exception(out: Outcome, name: str) -> None:
    """The reader may raise, but only ``Exception`` subclasses (no panics)."""
    if out.exc is not None and not isinstance(out.exc, Exception):
        raise AssertionError(
            f"{name}: raised a non-Exception BaseException "
            f"{describe_exc(out.exc)} (a Rust panic?)"
        )
    bad = {p: c for p, c in out.access_errors.items() if not issubclass(c, Exception)}
    if bad:
        raise AssertionError(f"{name}: element access raised non-Exception: {bad}")


def assert_same_outcome(
    expected: Outcome,
    actual: Outcome,
    name: str,
    compare_warnings: bool = True,
) -> None:
    """Same exception class, same warnings, and otherwise the same dataset."""
    assert_same_exception(expected, actual, name)
    if compare_warnings and expected.warnings != actual.warnings:
        missing = sorted(expected.warnings - actual.warnings)
        extra = sorted(actual.warnings - expected.warnings)
        raise AssertionError(
            f"{name}: warnings differ\n  only pydicom: {missing}\n"
            f"  only reader:  {extra}"
        )
    if expected.exc is not None:
        return
    _assert_same_access_errors(expected.access_errors, actual.access_errors, name)
    if "<walk>" in expected.access_errors:
        return  # e.g. too deep to walk: nothing more can be compared
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_dataset(expected.ds, actual.ds, f"{name}: ")
        _assert_same_source_handling(expected, actual, name)


def assert_same_exception(expected: Outcome, actual: Outcome, name: str) -> None:
    """Both raised (the reader an instance of pydicom's class) or neither."""
    assert_is_exception(actual, name)
    if expected.exc is not None:
        if actual.exc is None:
            raise AssertionError(
                f"{name}: pydicom raised {describe_exc(expected.exc)} "
                "but the reader returned a dataset"
            )
        if not isinstance(actual.exc, type(expected.exc)):
            raise AssertionError(
                f"{name}: exception class differs: pydicom raised "
                f"{describe_exc(expected.exc)}; reader raised "
                f"{describe_exc(actual.exc)}"
            )
    elif actual.exc is not None:
        raise AssertionError(
            f"{name}: pydicom read it, the reader raised {describe_exc(actual.exc)}"
        )


def _assert_same_access_errors(
    expected: dict[str, type], actual: dict[str, type], name: str
) -> None:
    problems = []
    for where, cls in expected.items():
        got = actual.get(where)
        if got is None or not issubclass(got, cls):
            got_name = "nothing" if got is None else got.__qualname__
            problems.append(
                f"{where}: pydicom raised {cls.__qualname__}, got {got_name}"
            )
    for where, cls in actual.items():
        if where not in expected:
            problems.append(f"{where}: only the reader raised {cls.__qualname__}")
    if problems:
        raise AssertionError(
            f"{name}: element access differs:\n  " + "\n  ".join(problems[:20])
        )


def _assert_same_source_handling(expected: Outcome, actual: Outcome, name: str) -> None:
    """FileDataset.buffer is the very object passed in (for buffers)."""
    exp_buffer = getattr(expected.ds, "buffer", None)
    act_buffer = getattr(actual.ds, "buffer", None)
    if exp_buffer is None:
        if act_buffer is not None:
            raise AssertionError(f"{name}: buffer should be None, got {act_buffer!r}")
    elif (exp_buffer is expected.source) != (act_buffer is actual.source):
        raise AssertionError(
            f"{name}: FileDataset.buffer should be the object passed to dcmread"
        )


# --------------------------------------------------------------------------
# recursive dataset comparison
# --------------------------------------------------------------------------
_FILE_DATASET_ATTRS = ("preamble", "filename", "fileobj_type", "timestamp")
_DATASET_ATTRS = (
    "original_encoding",
    "original_character_set",
    "_read_implicit",
    "_read_little",
    "_read_charset",
    "_is_implicit_VR",
    "_is_little_endian",
    "_parent_encoding",
    "is_undefined_length_sequence_item",
    "is_decompressed",
    "file_tell",
    "seq_item_tell",
)
_ELEMENT_ATTRS = ("is_undefined_length", "file_tell", "private_creator", "is_private")


def _fail(path: str, what: str, expected: Any, actual: Any) -> None:
    raise AssertionError(
        f"{path}: {what} differs\n  pydicom: {_short(expected)}\n"
        f"  reader:  {_short(actual)}"
    )


def _get_attr(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, _MISSING)
    except Exception as exc:  # noqa: BLE001 - compare the failure instead
        return ("<raised>", type(exc))


def _same_scalar(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        if math.isnan(expected) or math.isnan(actual):
            return math.isnan(expected) and math.isnan(actual)
        return expected == actual and math.copysign(1.0, expected) == math.copysign(
            1.0, actual
        )
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        return (
            isinstance(expected, np.ndarray)
            and isinstance(actual, np.ndarray)
            and expected.dtype == actual.dtype
            and expected.shape == actual.shape
            and np.array_equal(expected, actual, equal_nan=expected.dtype.kind in "fc")
        )
    result = expected == actual
    if not isinstance(result, bool):
        result = bool(np.all(result))
    return result


def assert_same_value(expected: Any, actual: Any, path: str) -> None:
    """Compare two element values: type, value and pydicom's value metadata."""
    if type(expected) is not type(actual):
        _fail(path, "value type", type(expected), type(actual))
    if isinstance(expected, Sequence):
        if len(expected) != len(actual):
            _fail(path, "number of sequence items", len(expected), len(actual))
        for attr in ("is_undefined_length",):
            exp_attr, act_attr = _get_attr(expected, attr), _get_attr(actual, attr)
            if exp_attr != act_attr:
                _fail(path, f"Sequence.{attr}", exp_attr, act_attr)
        for index, (exp_item, act_item) in enumerate(zip(expected, actual)):
            assert_same_dataset(exp_item, act_item, f"{path}[{index}].")
        return
    if isinstance(expected, (MultiValue, list, tuple)):
        if len(expected) != len(actual):
            _fail(
                path, f"length of {type(expected).__name__}", len(expected), len(actual)
            )
        for index, (exp_item, act_item) in enumerate(zip(expected, actual)):
            assert_same_value(exp_item, act_item, f"{path}[{index}]")
        return
    if isinstance(expected, (bytes, bytearray)):
        if expected != actual:
            _fail(path, "bytes value", expected, actual)
        return
    if isinstance(expected, PersonName):
        if str(expected) != str(actual):
            _fail(path, "PersonName", str(expected), str(actual))
    elif not _same_scalar(expected, actual):
        _fail(path, "value", expected, actual)
    if type(expected).__module__.startswith("pydicom") and hasattr(
        expected, "__dict__"
    ):
        # DSfloat/DSdecimal/IS/PersonName keep e.g. the original string
        exp_vars, act_vars = vars(expected), vars(actual)
        if set(exp_vars) != set(act_vars):
            _fail(path, "value attributes", sorted(exp_vars), sorted(act_vars))
        for key, exp_attr in exp_vars.items():
            act_attr = act_vars[key]
            if type(exp_attr) is not type(act_attr) or not _same_scalar(
                exp_attr, act_attr
            ):
                _fail(path, f"value attribute {key!r}", exp_attr, act_attr)


def _get_element(ds: Dataset, tag: int) -> tuple[Any, BaseException | None]:
    try:
        return ds[tag], None
    except Exception as exc:  # noqa: BLE001 - compared by the caller
        return None, exc


def assert_same_dataset(expected: Dataset, actual: Dataset, path: str = "") -> None:
    """Assert two datasets are identical, recursively, accessing all elements.

    `path` prefixes every message (e.g. the file name); the element path
    (``(0008,1115)[0].(0020,000E)``) is appended to it.
    """
    if not isinstance(actual, type(expected)):
        _fail(path or "<dataset>", "dataset type", type(expected), type(actual))
    exp_keys, act_keys = list(expected.keys()), list(actual.keys())
    if exp_keys != act_keys:
        exp_set, act_set = set(exp_keys), set(act_keys)
        only_exp = [fmt_tag(t) for t in exp_keys if t not in act_set]
        only_act = [fmt_tag(t) for t in act_keys if t not in exp_set]
        raise AssertionError(
            f"{path or '<dataset>'}: element tags differ (file order)\n"
            f"  only pydicom: {only_exp[:20]}\n  only reader:  {only_act[:20]}\n"
            f"  pydicom order: {[fmt_tag(t) for t in exp_keys][:40]}\n"
            f"  reader order:  {[fmt_tag(t) for t in act_keys][:40]}"
        )
    if sorted(exp_keys) != sorted(act_keys) or len(expected) != len(actual):
        _fail(path or "<dataset>", "sorted tags / len", exp_keys, act_keys)

    attrs = _DATASET_ATTRS
    if isinstance(expected, FileDataset):
        attrs = _FILE_DATASET_ATTRS + attrs
    for attr in attrs:
        exp_attr, act_attr = _get_attr(expected, attr), _get_attr(actual, attr)
        if exp_attr != act_attr or type(exp_attr) is not type(act_attr):
            _fail(f"{path}<{attr}>", f"dataset attribute {attr!r}", exp_attr, act_attr)
    exp_cs, act_cs = (
        _get_attr(expected, "_character_set"),
        _get_attr(actual, "_character_set"),
    )
    if exp_cs != act_cs:
        _fail(f"{path}<_character_set>", "_character_set", exp_cs, act_cs)

    for tag in exp_keys:
        where = path + fmt_tag(tag)
        exp_elem, exp_exc = _get_element(expected, tag)
        act_elem, act_exc = _get_element(actual, tag)
        if exp_exc is not None:
            if act_exc is None or not isinstance(act_exc, type(exp_exc)):
                _fail(
                    where,
                    "exception on access",
                    describe_exc(exp_exc),
                    describe_exc(act_exc),
                )
            continue
        if act_exc is not None:
            _fail(where, "element access", "no exception", describe_exc(act_exc))
        assert_same_element(exp_elem, act_elem, where)

    if isinstance(expected, FileDataset):
        exp_meta = _get_attr(expected, "file_meta")
        act_meta = _get_attr(actual, "file_meta")
        if isinstance(exp_meta, Dataset):
            if not isinstance(act_meta, Dataset):
                _fail(path + "file_meta", "file_meta", exp_meta, act_meta)
            assert_same_dataset(exp_meta, act_meta, path + "file_meta.")
        elif exp_meta != act_meta:
            _fail(path + "file_meta", "file_meta", exp_meta, act_meta)


def assert_same_element(expected: Any, actual: Any, where: str) -> None:
    if type(expected) is not type(actual):
        _fail(where, "element type", type(expected), type(actual))
    if expected.tag != actual.tag or type(expected.tag) is not type(actual.tag):
        _fail(where, "tag", expected.tag, actual.tag)
    if expected.VR != actual.VR:
        _fail(where, "VR", expected.VR, actual.VR)
    for attr in _ELEMENT_ATTRS:
        exp_attr, act_attr = _get_attr(expected, attr), _get_attr(actual, attr)
        if exp_attr != act_attr:
            _fail(where, f"element attribute {attr!r}", exp_attr, act_attr)
    exp_vm, act_vm = _get_attr(expected, "VM"), _get_attr(actual, "VM")
    if exp_vm != act_vm:
        _fail(where, "VM", exp_vm, act_vm)
    assert_same_value(expected.value, actual.value, where)


# --------------------------------------------------------------------------
# raw (unconverted) elements
# --------------------------------------------------------------------------
def assert_same_raw_elements(expected: Dataset, actual: Dataset, path: str) -> None:
    """Compare ``get_item(tag, keep_deferred=True)`` before any conversion."""
    if list(expected.keys()) != list(actual.keys()):
        _fail(path, "tags", list(expected.keys()), list(actual.keys()))
    for tag in expected.keys():  # noqa: SIM118 - iterating yields elements
        where = path + fmt_tag(tag)
        exp = expected.get_item(tag, keep_deferred=True)
        act = actual.get_item(tag, keep_deferred=True)
        if not isinstance(act, type(exp)):
            _fail(where, "type of get_item()", type(exp), type(act))
        if isinstance(exp, RawDataElement):
            for fname in exp._fields:
                exp_f, act_f = getattr(exp, fname), getattr(act, fname)
                if type(exp_f) is not type(act_f) or exp_f != act_f:
                    _fail(where, f"RawDataElement.{fname}", exp_f, act_f)
        else:
            assert_same_element(exp, act, where)


def file_size(path: str | os.PathLike) -> int:
    return os.stat(path).st_size

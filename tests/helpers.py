"""Helpers shared by the test modules (no test module imports another).

* pydicom's reading of ``dcmfast.scan`` tag specs, the oracle of the scan tests.
* ``query()``: rows of the SQLite index.
"""

from __future__ import annotations

import math
import sqlite3
import warnings
from collections.abc import MutableSequence

import pydicom
from pydicom.sequence import Sequence
from pydicom.valuerep import DA, DT, TM


# --------------------------------------------------------------------------
# scan specs as pydicom reads them
# --------------------------------------------------------------------------
def expected_plain(value):
    """pydicom's value as the plain type scan documents (written independently of
    dcmfast's own conversion)."""
    if isinstance(value, Sequence):
        return None
    if isinstance(value, MutableSequence):
        return [expected_plain(v) for v in value]
    if isinstance(value, (DA, DT, TM)):
        return value.original_string
    if isinstance(value, str):
        return str(value)
    if isinstance(value, pydicom.valuerep.PersonName):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return value


def _spec_path(spec):
    """(steps, tag) of a spec, resolved with pydicom's own dictionary."""
    if isinstance(spec, tuple):
        return [], pydicom.tag.Tag(spec)
    if isinstance(spec, int):
        return [], pydicom.tag.Tag(spec)
    if spec.startswith("("):
        group, element = spec.strip("()").split(",")
        return [], pydicom.tag.Tag(int(group, 16), int(element, 16))
    steps = []
    *sequences, last = spec.split(".")
    for step in sequences:
        name, index = step.rstrip("]").split("[")
        steps.append((pydicom.tag.Tag(name), int(index)))
    return steps, pydicom.tag.Tag(last)


def pydicom_values(path, specs, force=False):
    """Each spec's value as pydicom reads it, or the exception pydicom raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=force)
        values = []
        for spec in specs:
            steps, tag = _spec_path(spec)
            current = ds
            for seq_tag, index in steps:
                elem = current.get(seq_tag)
                if elem is None or len(elem.value) <= index:
                    current = None
                    break
                current = elem.value[index]
            if current is not None and tag.group == 2 and not steps:
                current = ds.file_meta
            elem = None if current is None else current.get(tag)
            values.append(None if elem is None else expected_plain(elem.value))
        return values


def typed(value):
    """`value` with its type made part of equality (and NaN equal to NaN)."""
    if isinstance(value, list):
        return [typed(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return type(value).__name__, value


# --------------------------------------------------------------------------
# the SQLite index
# --------------------------------------------------------------------------
def query(db, sql: str) -> list[tuple]:
    """The rows `sql` selects from the index at `db`."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()

"""The header workload shared by the pytest benchmarks and report_header.py.

Stdlib only, so importing it does not skew memory baselines of child processes.
"""

from __future__ import annotations

from collections.abc import MutableSequence

# What a typical indexing/sorting pass pulls out of each CT header.
TAGS = (
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "Modality",
    "InstanceNumber",
    "SliceLocation",
    "ImagePositionPatient",
    "Rows",
    "Columns",
)


def read_headers(dcmread, paths) -> list[tuple]:
    """Read each file's header with `dcmread` and collect the TAGS values."""
    out = []
    for path in paths:
        ds = dcmread(path, stop_before_pixels=True)
        out.append(tuple(getattr(ds, tag) for tag in TAGS))
    return out


def read_floor(paths) -> int:
    """The I/O floor: open + read(8192) + close, which covers these headers."""
    total = 0
    for path in paths:
        with open(path, "rb") as f:
            total += len(f.read(8192))
    return total


def typed(value):
    """Value plus its type(s), so a mismatch like DSfloat vs float is caught."""
    if isinstance(value, MutableSequence):  # list or pydicom MultiValue
        return type(value).__name__, [typed(v) for v in value]
    return type(value).__name__, value

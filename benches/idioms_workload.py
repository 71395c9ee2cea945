"""The pydicom idioms measured by report_idioms.py and test_bench_idioms.py.

Each idiom is what real pydicom code does after ``dcmread``: look elements up, iterate,
walk, dump, edit and save. A runner reads every file with the given ``dcmread`` and
applies the idiom; the time per file therefore includes the read, as a user pays it.
Every idiom returns a number made from the data it produced, so nothing is left
unread.

Stdlib only at import, so importing it does not skew memory baselines of children.
"""

from __future__ import annotations

import io
import os
import tempfile
from typing import Any, Callable

from workload import TAGS

# The same ten elements as the header workload, as keyword strings and as int tags.
KEYWORDS = TAGS
_TAG_NUMBERS = {
    "PatientID": 0x00100020,
    "StudyInstanceUID": 0x0020000D,
    "SeriesInstanceUID": 0x0020000E,
    "SOPInstanceUID": 0x00080018,
    "Modality": 0x00080060,
    "InstanceNumber": 0x00200013,
    "SliceLocation": 0x00201041,
    "ImagePositionPatient": 0x00200032,
    "Rows": 0x00280010,
    "Columns": 0x00280011,
}
INT_TAGS = tuple(_TAG_NUMBERS[k] for k in KEYWORDS)

_OUT_DIR = tempfile.mkdtemp(prefix="dcmfast-bench-idioms-")
OUT_PATH = os.path.join(_OUT_DIR, "out.dcm")


def _attributes(ds: Any) -> int:
    return len([getattr(ds, k) for k in KEYWORDS])


def _get(ds: Any) -> int:
    return len([ds.get(k) for k in KEYWORDS])


def _tag_value(ds: Any) -> int:
    return len([ds[t].value for t in INT_TAGS])


def _keyword_value(ds: Any) -> int:
    return len([ds[k].value for k in KEYWORDS])


def _iterate(ds: Any) -> int:
    return len([e.value for e in ds])


def _walk(ds: Any) -> int:
    seen = []
    ds.walk(lambda dataset, elem: seen.append(elem.value))
    return len(seen)


def _to_json_dict(ds: Any) -> int:
    return len(ds.to_json_dict())


def _str(ds: Any) -> int:
    return len(str(ds))


def edit(ds: Any) -> None:
    ds.PatientName = "Edited^Name"
    ds.PatientID = "EDITED01"


def _save_file(ds: Any) -> int:
    edit(ds)
    ds.save_as(OUT_PATH)
    return os.path.getsize(OUT_PATH)


def _save_bytesio(ds: Any) -> int:
    edit(ds)
    out = io.BytesIO()
    ds.save_as(out)
    return len(out.getvalue())


def _anonymise_names(dataset: Any, elem: Any) -> None:
    if elem.VR == "PN":
        elem.value = "Anonymous"


def _deidentify(ds: Any) -> int:
    ds.walk(_anonymise_names)
    ds.remove_private_tags()
    ds.save_as(OUT_PATH)
    return os.path.getsize(OUT_PATH)


# name -> (read with stop_before_pixels, the idiom, what the floor is)
IDIOMS: dict[str, tuple[bool, Callable[[Any], int], str]] = {
    "ds.Keyword x10": (True, _attributes, "objects"),
    "ds.get(keyword) x10": (True, _get, "objects"),
    "ds[tag].value x10": (True, _tag_value, "objects"),
    "ds[keyword].value x10": (True, _keyword_value, "objects"),
    "[e.value for e in ds]": (True, _iterate, "objects"),
    "ds.walk(callback)": (True, _walk, "objects"),
    "ds.to_json_dict()": (True, _to_json_dict, "objects"),
    "str(ds)": (True, _str, "objects"),
    "read, set 2, save_as(path)": (False, _save_file, "copy"),
    "read, set 2, save_as(BytesIO)": (False, _save_bytesio, "copy-bytesio"),
    "read, walk PN, remove_private_tags, save_as": (False, _deidentify, "copy"),
}


def run_idiom(name: str, dcmread: Callable[..., Any], paths: list[str]) -> int:
    header_only, idiom, _ = IDIOMS[name]
    total = 0
    for path in paths:
        ds = dcmread(path, stop_before_pixels=header_only)
        total += idiom(ds)
    return total


# Floors: the same bytes moved with bare I/O, and for element idioms as many plain
# Python objects made as the idiom makes elements.


def element_counts(paths: list[str]) -> list[int]:
    """Elements per header, at every depth (what iterating and walking make)."""
    import pydicom

    return [
        sum(1 for _ in pydicom.dcmread(p, stop_before_pixels=True).iterall())
        for p in paths
    ]


def floor_objects(paths: list[str], counts: list[int]) -> int:
    """open + read the header bytes, and make one small tuple per element."""
    total = 0
    for path, count in zip(paths, counts):
        with open(path, "rb") as f:
            data = f.read(8192)
        total += len([(i, data[i : i + 4]) for i in range(count)])
    return total


def _copy_each(paths: list[str], write: Callable[[bytes], int]) -> int:
    """open + read each whole file, then `write` its bytes."""
    total = 0
    for path in paths:
        with open(path, "rb") as f:
            total += write(f.read())
    return total


def _to_file(data: bytes) -> int:
    with open(OUT_PATH, "wb") as f:
        return f.write(data)


def _to_bytesio(data: bytes) -> int:
    out = io.BytesIO()
    out.write(data)
    return len(out.getvalue())


def floor_copy(paths: list[str]) -> int:
    """open + read each whole file, then write its bytes to a file."""
    return _copy_each(paths, _to_file)


def floor_copy_bytesio(paths: list[str]) -> int:
    """open + read each whole file, then write its bytes to a BytesIO."""
    return _copy_each(paths, _to_bytesio)

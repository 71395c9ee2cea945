"""The pydicom idioms after dcmread (lookups, iteration, walk, JSON, str, edit and
save): pydicom vs dcmfast in the same run, each idiom's result checked equal first.

Run:  python -m pytest benches/test_bench_idioms.py
      (DCMFAST_BENCH_FILES=N for the corpus size, DCMFAST_BENCH_ROUNDS=R)
For the ratios, the floors and memory, run benches/report_idioms.py.
"""

from __future__ import annotations

import io
import os

import dcmfast
import pydicom
import pytest
from idioms_workload import IDIOMS, OUT_PATH, edit, run_idiom

ROUNDS = int(os.environ.get("DCMFAST_BENCH_ROUNDS", "3"))
READERS = {"pydicom": pydicom.dcmread, "dcmfast": dcmfast.dcmread}


def _result(name: str, dcmread, path: str):
    """What the idiom produced for one file, in a comparable form."""
    header_only, idiom, _ = IDIOMS[name]
    ds = dcmread(path, stop_before_pixels=header_only)
    if name == "ds.to_json_dict()":
        return ds.to_json_dict()
    if name == "str(ds)":
        return str(ds)
    if "BytesIO" in name:
        edit(ds)
        out = io.BytesIO()
        ds.save_as(out)
        return out.getvalue()
    if name.startswith("read"):
        idiom(ds)  # saves to OUT_PATH
        with open(OUT_PATH, "rb") as f:
            return f.read()
    if name == "[e.value for e in ds]":
        return [(e.tag, e.VR, repr(e.value)) for e in ds]
    return idiom(ds)


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("name", list(IDIOMS))
def test_idiom(benchmark, ct_corpus, name, reader):
    benchmark.group = f"idiom: {name}"
    sample = ct_corpus[:: max(1, len(ct_corpus) // 10)]
    for path in sample:  # correctness, untimed
        want = _result(name, pydicom.dcmread, path)
        assert _result(name, READERS[reader], path) == want, path
    result = benchmark.pedantic(
        run_idiom,
        args=(name, READERS[reader], ct_corpus),
        rounds=ROUNDS,
        warmup_rounds=1,
    )
    assert result > 0

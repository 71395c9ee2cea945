"""Header-only read of the CT corpus: pydicom vs dcmfast, in the same run.

Run:  python -m pytest benches/test_bench_header.py
      (DCMFAST_BENCH_FILES=N for a smaller corpus, DCMFAST_BENCH_ROUNDS=R)
"""

from __future__ import annotations

import os

import pydicom
import pytest
from workload import TAGS, read_headers, typed

# Each round is a full pass over the corpus, so a few rounds are enough.
ROUNDS = int(os.environ.get("DCMFAST_BENCH_ROUNDS", "5"))


def _bench(benchmark, dcmread, paths) -> None:
    benchmark.group = "header"
    # The warmup round also warms the page cache, so neither side pays cold I/O.
    result = benchmark.pedantic(
        read_headers, args=(dcmread, paths), rounds=ROUNDS, warmup_rounds=1
    )
    assert len(result) == len(paths)


def _import_dcmfast():
    try:
        import dcmfast
    except ImportError as exc:
        pytest.skip(f"dcmfast is not importable ({exc}); build/install it first")
    if not hasattr(dcmfast, "dcmread"):
        # e.g. an empty source dir picked up as a namespace package
        pytest.skip(f"dcmfast at {list(dcmfast.__path__)} has no dcmread")
    return dcmfast


def test_header_pydicom(benchmark, ct_corpus, record_median):
    _bench(benchmark, pydicom.dcmread, ct_corpus)
    record_median("pydicom", benchmark)


def test_header_dcmfast(benchmark, ct_corpus, record_median):
    dcmfast = _import_dcmfast()

    # Correctness, untimed: the first 12 files cover every series and both
    # transfer syntaxes; an odd stride then spreads the rest of the sample.
    sample = ct_corpus[:12] + ct_corpus[12::37]
    expected = read_headers(pydicom.dcmread, sample)
    actual = read_headers(dcmfast.dcmread, sample)
    for path, want_row, got_row in zip(sample, expected, actual):
        for tag, want, got in zip(TAGS, want_row, got_row):
            assert typed(got) == typed(want), (
                f"{os.path.basename(path)} {tag}: dcmfast {got!r} != pydicom {want!r}"
            )

    _bench(benchmark, dcmfast.dcmread, ct_corpus)
    record_median("dcmfast", benchmark)

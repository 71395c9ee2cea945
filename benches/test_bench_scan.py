"""Bulk scan of the CT corpus: dcmfast.scan with 1 and 2 workers vs a pydicom loop.

Run:  python -m pytest benches/test_bench_scan.py
      (DCMFAST_BENCH_FILES=N for the corpus size, DCMFAST_BENCH_ROUNDS=R)
"""

from __future__ import annotations

import os

import dcmfast
import pydicom
import pytest
from workload import TAGS, read_headers

ROUNDS = int(os.environ.get("DCMFAST_BENCH_ROUNDS", "5"))


def _plain(value):
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        return [_plain(v) for v in value]
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def test_scan_pydicom_loop(benchmark, ct_corpus, record_median):
    benchmark.group = "scan"
    result = benchmark.pedantic(
        read_headers, args=(pydicom.dcmread, ct_corpus), rounds=1, warmup_rounds=0
    )
    assert len(result) == len(ct_corpus)
    record_median("scan-pydicom", benchmark)


@pytest.mark.parametrize("workers", [1, 2])
def test_scan_dcmfast(benchmark, ct_corpus, record_median, workers):
    benchmark.group = "scan"
    # Correctness, untimed: a sample against pydicom's values.
    sample = ct_corpus[:: max(1, len(ct_corpus) // 50)]
    expected = [list(map(_plain, row)) for row in read_headers(pydicom.dcmread, sample)]
    got = dcmfast.scan(sample, TAGS, workers=workers)
    assert [[got[tag][i] for tag in TAGS] for i in range(len(sample))] == expected

    result = benchmark.pedantic(
        dcmfast.scan,
        args=(ct_corpus, TAGS),
        kwargs={"workers": workers},
        rounds=ROUNDS,
        warmup_rounds=1,
    )
    assert not result.errors
    record_median(f"scan-{workers}", benchmark)

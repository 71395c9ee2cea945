"""Shared fixtures for the dcmfast benchmarks.

Environment:
    DCMFAST_BENCH_FILES   corpus size (default 1000)
    DCMFAST_BENCH_CORPUS  corpus directory (default: the benchmark cache, see cache.py)
"""

from __future__ import annotations

import os

import pydicom.data.data_manager
import pytest
from make_corpus import DEFAULT_OUTDIR, ensure_corpus


def _no_download(*args, **kwargs):
    raise RuntimeError("pydicom test-data download is disabled (no network)")


# There is no network: fail fast instead of hanging on a download attempt.
pydicom.data.data_manager.data_path_with_download = _no_download


@pytest.fixture(scope="session")
def ct_corpus() -> list[str]:
    count = int(os.environ.get("DCMFAST_BENCH_FILES", "1000"))
    outdir = os.environ.get("DCMFAST_BENCH_CORPUS", str(DEFAULT_OUTDIR))
    return ensure_corpus(outdir, count)


# Medians (seconds per corpus pass) by benchmark name, for the ratio summary.
_MEDIANS: dict[str, float] = {}


@pytest.fixture
def record_median():
    def record(name: str, benchmark) -> None:
        stats = getattr(benchmark, "stats", None)  # None with --benchmark-disable
        if stats is not None:
            _MEDIANS[name] = stats.stats.median

    return record


def pytest_terminal_summary(terminalreporter):
    # pytest-benchmark prints absolute times; the ratio from the same run is
    # the number that survives a noisy machine.
    ratios = [
        ("header", "pydicom", "dcmfast"),
        ("scan, 1 worker", "scan-pydicom", "scan-1"),
        ("scan, 2 workers over 1", "scan-1", "scan-2"),
        ("MONAI reader", "monai-pydicom", "monai-dcmfast"),
        ("Dask cluster over one process (<1: the cluster's cost)", "scan-2", "dask-2"),
    ]
    for what, slow, fast in ratios:
        if slow in _MEDIANS and fast in _MEDIANS:
            ratio = _MEDIANS[slow] / _MEDIANS[fast]
            terminalreporter.write_sep("-", f"{what}: {slow} / {fast} (median)")
            terminalreporter.write_line(
                f"{slow}/{fast} time ratio: {ratio:.2f} (>1 means {fast} is faster)"
            )

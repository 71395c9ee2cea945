"""Shared fixtures for the dcmfast benchmarks.

Environment:
    DCMFAST_BENCH_FILES   corpus size (default 1000)
    DCMFAST_BENCH_CORPUS  corpus directory (default benches/corpus/ct)
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
    if "pydicom" in _MEDIANS and "dcmfast" in _MEDIANS:
        ratio = _MEDIANS["pydicom"] / _MEDIANS["dcmfast"]
        terminalreporter.write_sep("-", "header: pydicom / dcmfast (median)")
        terminalreporter.write_line(
            f"pydicom/dcmfast time ratio: {ratio:.2f} (>1 means dcmfast is faster)"
        )

"""Pixel data: pydicom vs dcmfast (and pydicom+pylibjpeg-rle for RLE), in the same run.

Run:  python -m pytest benches/test_bench_pixels.py

Benchmarks (group "pixels-<job>"; jobs as in report_pixels.py): ``single``,
``whole-bs16``, ``whole-bs12``, ``frame``, ``rle``, ``rle-frame``. Each first checks
that the approach returns pydicom's array (dtype, shape, values). Speed-ups from the
same run are printed at the end. No timing assertions.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from pixels_workload import ensure_native_files
from report_pixels import _runner
from rle_workload import available, ensure_rle_files

ROUNDS = int(os.environ.get("DCMFAST_BENCH_ROUNDS", "5"))
_MEDIANS: dict[tuple[str, str], float] = {}


@pytest.fixture(scope="session")
def files() -> dict[str, str]:
    native = ensure_native_files()
    rle_multi, rle_single = ensure_rle_files()
    return {
        "single": str(native["single"]),
        "whole-bs16": str(native["multi16"]),
        "whole-bs12": str(native["multi12"]),
        "frame": str(native["multi12"]),
        "rle": str(rle_multi),
        "rle-frame": str(rle_single),
    }


CASES = [
    (job, name)
    for job in ("single", "whole-bs16", "whole-bs12", "frame", "rle", "rle-frame")
    for name in ("pydicom", "pylibjpeg", "dcmfast")
    if name != "pylibjpeg" or job.startswith("rle")
]


@pytest.mark.parametrize("job,name", CASES, ids=[f"{j}-{n}" for j, n in CASES])
def test_pixels(benchmark, files, job, name):
    if name == "pylibjpeg" and not available("pylibjpeg"):
        pytest.skip("pylibjpeg-rle is not installed")
    path = files[job]
    run = _runner(job, name, path)
    want = _runner(job, "pydicom", path)(path)
    got = run(path)
    assert (got.dtype, got.shape) == (want.dtype, want.shape)
    np.testing.assert_array_equal(got, want)
    benchmark.group = f"pixels-{job}"
    rounds = 2 if (job == "rle" and name == "pydicom") else ROUNDS
    benchmark.pedantic(run, args=(path,), rounds=rounds, warmup_rounds=1)
    stats = getattr(benchmark, "stats", None)  # None with --benchmark-disable
    if stats is not None:
        _MEDIANS[(job, name)] = stats.stats.median


@pytest.fixture(scope="session", autouse=True)
def _summary(request):
    class Summary:
        def pytest_terminal_summary(self, terminalreporter):
            if not _MEDIANS:
                return
            terminalreporter.write_sep("-", "pixels: speed-up of dcmfast (median)")
            for (job, name), slow in sorted(_MEDIANS.items()):
                fast = _MEDIANS.get((job, "dcmfast"))
                if fast and name != "dcmfast":
                    terminalreporter.write_line(
                        f"{job:<11} {name}/dcmfast: {slow / fast:8.2f}x"
                    )

    request.config.pluginmanager.register(Summary(), "dcmfast-pixels-summary")
    yield

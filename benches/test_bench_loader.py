"""ML loaders: frames/s of dcmfast vs a pydicom-based loader, in the same run.

Run:  python -m pytest benches/test_bench_loader.py
      (DCMFAST_BENCH_LOADER_FILES / _FRAMES for the workload, DCMFAST_BENCH_ROUNDS=R)

Benchmarks (group "loader-<job>", jobs ct-raw, ct-proc, rle-raw, rle-proc as in
report_loader.py): the pydicom loader (pydicom's own RLE decoder; "pylibjpeg" with
pylibjpeg-rle) on a sample of frames, dcmfast's FrameDataset batches over every frame,
and read_batch into one array with 1 and 2 threads. Each first checks dcmfast's frames
against pydicom's. Timings are per frame, so the printed ratios compare frames/s. No
timing assertions.
"""

from __future__ import annotations

import os

import dcmfast
import pytest
from loader_workload import (
    batch_loader,
    dcmfast_loader,
    ensure_loader_files,
    frame_table,
    pydicom_loader,
)
from rle_workload import available

ROUNDS = int(os.environ.get("DCMFAST_BENCH_ROUNDS", "5"))
PYDICOM_FRAMES = 20
_PER_FRAME: dict[tuple[str, str], float] = {}


@pytest.fixture(scope="session")
def workloads() -> dict[str, list[str]]:
    series, rle = ensure_loader_files()
    return {"ct": series, "rle": [rle]}


@pytest.fixture(scope="session")
def tables(workloads) -> dict[str, list[tuple[str, int]]]:
    return {job: frame_table(paths) for job, paths in workloads.items()}


CASES = [
    (f"{job}-{kind}", name)
    for job in ("ct", "rle")
    for kind in ("raw", "proc")
    for name in ("pydicom", "pylibjpeg", "dataset-2", "batch-1", "batch-2")
    if name != "pylibjpeg" or job == "rle"
]


@pytest.mark.parametrize("case,name", CASES, ids=[f"{c}-{n}" for c, n in CASES])
def test_loader(benchmark, workloads, tables, case, name):
    job, kind = case.split("-")
    processed = kind == "proc"
    table = tables[job]
    if name == "pylibjpeg" and not available("pylibjpeg"):
        pytest.skip("pylibjpeg-rle is not installed")
    step = max(1, len(table) // PYDICOM_FRAMES)
    sample = list(range(0, len(table), step))[:PYDICOM_FRAMES]
    load = pydicom_loader(table, processed)
    want = [load([i]) for i in sample[:3]]
    got = dcmfast.read_batch(
        [table[i] for i in sample[:3]], modality_lut=processed, voi_lut=processed
    )
    assert all(w.astype(g.dtype).tobytes() == g.tobytes() for w, g in zip(want, got))

    if name in ("pydicom", "pylibjpeg"):
        load, indices = pydicom_loader(table, processed, name), sample
        run, frames = (lambda: load(indices)), len(indices)
    elif name == "dataset-2":
        load, indices = dcmfast_loader(workloads[job], processed, 2), range(len(table))
        run, frames = (lambda: load(list(indices))), len(table)
    else:
        run, frames = batch_loader(table, processed, int(name[-1])), len(table)
    benchmark.group = f"loader-{case}"
    benchmark.extra_info["frames"] = frames
    rounds = 2 if name in ("pydicom", "pylibjpeg") else ROUNDS
    benchmark.pedantic(run, rounds=rounds, warmup_rounds=1)
    stats = getattr(benchmark, "stats", None)  # None with --benchmark-disable
    if stats is not None:
        _PER_FRAME[(case, name)] = stats.stats.median / frames


@pytest.fixture(scope="session", autouse=True)
def _summary(request):
    class Summary:
        def pytest_terminal_summary(self, terminalreporter):
            if not _PER_FRAME:
                return
            terminalreporter.write_sep("-", "loaders: frames/s ratios (median)")
            for case in sorted({c for c, _ in _PER_FRAME}):
                times = {n: t for (c, n), t in _PER_FRAME.items() if c == case}
                for fast, slow in (
                    ("dataset-2", "pydicom"),
                    ("batch-2", "pydicom"),
                    ("batch-2", "pylibjpeg"),
                    ("batch-2", "batch-1"),
                ):
                    if fast in times and slow in times:
                        terminalreporter.write_line(
                            f"{case:<9} {fast}/{slow}: "
                            f"{times[slow] / times[fast]:8.2f}x"
                        )

    request.config.pluginmanager.register(Summary(), "dcmfast-loader-summary")
    yield

"""RLE Lossless decoding: pydicom's plugin vs pylibjpeg-rle vs dcmfast, in the same run.

Run:  python -m pytest benches/test_bench_rle.py
      (DCMFAST_BENCH_RLE_FRAMES=N for a smaller file, DCMFAST_BENCH_ROUNDS=R)

Benchmarks (all in group "rle"):
* ``test_rle_file[...]``: ``pixel_array(path, decoding_plugin=...)`` on a multi-frame
  CT-like file (N frames of 512x512 16-bit, made by rle_workload.py and cached under
  rle/ of the benchmark cache); extra_info has MB/s decoded and the tracemalloc peak.
* ``test_rle_frame_core[...]``: the bare decoder on one 512x512 16-bit frame
  (``dcmfast._core.rle_decode_frame``, pydicom's ``_rle_decode_frame``, pylibjpeg-rle's
  ``rle.rle.decode_frame``); extra_info has GB/s.
* ``test_rle_frame_plugin[...]``: ``pixel_array(ds, decoding_plugin=...)`` on a
  single-frame dataset; extra_info has GB/s.

pylibjpeg is skipped when ``pip install pylibjpeg pylibjpeg-rle`` was not run. Speed-up
ratios from the same run are printed at the end. No timing assertions.
"""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.pixels import pixel_array
from rle_workload import (
    APPROACHES,
    COLUMNS,
    ROWS,
    available,
    core_decoders,
    ensure_rle_files,
    frame_bytes,
)

ROUNDS = int(os.environ.get("DCMFAST_BENCH_ROUNDS", "5"))
FRAME_BYTES = ROWS * COLUMNS * 2

# Medians (seconds) by (kind, approach), for the ratio summary.
_MEDIANS: dict[tuple[str, str], float] = {}


class _Summary:
    """Prints speed-ups against dcmfast after pytest-benchmark's tables."""

    def pytest_terminal_summary(self, terminalreporter):
        if not _MEDIANS:
            return
        terminalreporter.write_sep("-", "rle: speed-up of dcmfast (median time ratio)")
        for kind in ("file", "frame-core", "frame-plugin"):
            fast = _MEDIANS.get((kind, "dcmfast"))
            if fast is None:
                continue
            for name in APPROACHES:
                slow = _MEDIANS.get((kind, name))
                if slow is not None and name != "dcmfast":
                    terminalreporter.write_line(
                        f"{kind:<13} {name}/dcmfast: {slow / fast:6.2f}x"
                    )


@pytest.fixture(scope="session", autouse=True)
def _rle_summary(request):
    plugin = _Summary()
    request.config.pluginmanager.register(plugin, "dcmfast-rle-summary")
    yield
    # unregistered by pytest at exit; keep it for the terminal summary


def _require(name: str) -> None:
    if not available(name):  # registers dcmfast's plugin as a side effect
        pytest.skip(f"the {name!r} RLE decoding plugin is not available")


def _record(benchmark, kind: str, name: str, nbytes: int, unit: str) -> None:
    stats = getattr(benchmark, "stats", None)  # None with --benchmark-disable
    if stats is None:
        return
    median = stats.stats.median
    _MEDIANS[(kind, name)] = median
    if unit == "MB/s":
        benchmark.extra_info["MB/s"] = round(nbytes / median / 1e6, 1)
    else:
        benchmark.extra_info["GB/s"] = round(nbytes / median / 1e9, 3)


@pytest.fixture(scope="session")
def rle_files():
    return ensure_rle_files()


@pytest.fixture(scope="session")
def reference(rle_files):
    """pydicom's decoding of the multi-frame file (the oracle)."""
    return pixel_array(str(rle_files[0]), decoding_plugin="pydicom")


@pytest.mark.parametrize("name", APPROACHES)
def test_rle_file(benchmark, name, rle_files, reference):
    _require(name)
    path = str(rle_files[0])
    benchmark.group = "rle"

    # Correctness and peak Python memory, untimed.
    tracemalloc.start()
    arr = pixel_array(path, decoding_plugin=name)
    benchmark.extra_info["traced_peak_MiB"] = round(
        tracemalloc.get_traced_memory()[1] / 2**20, 1
    )
    tracemalloc.stop()
    assert arr.dtype == reference.dtype and arr.shape == reference.shape
    np.testing.assert_array_equal(arr, reference)
    del arr

    benchmark.pedantic(
        pixel_array,
        args=(path,),
        kwargs={"decoding_plugin": name},
        rounds=ROUNDS,
        warmup_rounds=1,
    )
    _record(benchmark, "file", name, reference.nbytes, "MB/s")


@pytest.mark.parametrize("name", APPROACHES)
def test_rle_frame_core(benchmark, name, rle_files):
    _require(name)
    decode = core_decoders().get(name)
    if decode is None:
        pytest.skip(f"no bare frame decoder for {name}")
    src = frame_bytes(rle_files[1])
    expected = pixel_array(str(rle_files[1]), decoding_plugin="pydicom")
    assert bytes(decode(src)) == expected.astype("<u2").tobytes()
    benchmark.group = "rle"
    benchmark(decode, src)
    _record(benchmark, "frame-core", name, FRAME_BYTES, "GB/s")


@pytest.mark.parametrize("name", APPROACHES)
def test_rle_frame_plugin(benchmark, name, rle_files):
    _require(name)
    ds = dcmread(rle_files[1])
    expected = pixel_array(ds, decoding_plugin="pydicom")
    np.testing.assert_array_equal(pixel_array(ds, decoding_plugin=name), expected)
    benchmark.group = "rle"
    benchmark(pixel_array, ds, decoding_plugin=name)
    _record(benchmark, "frame-plugin", name, FRAME_BYTES, "GB/s")

"""RLE Lossless decode report: pydicom's plugin vs pylibjpeg-rle vs dcmfast.

Usage: python benches/report_rle.py [--frames N] [--rounds R] [--corpus DIR]

Decodes a multi-frame CT-like RLE file (N frames of 512x512 16-bit, made once by
rle_workload.py under rle/ of the benchmark cache) with pydicom.pixels.pixel_array and each
RLE decoding plugin, in the same run: timing alternates the approaches within each
round (rotating who goes first) so machine noise hits all alike, and speed-ups are
medians of per-round ratios. Memory is measured in fresh spawned processes, one per
approach and metric, after the approach's imports. Then one 512x512 16-bit frame:
the bare decoding functions (dcmfast._core.rle_decode_frame, pydicom's
_rle_decode_frame, pylibjpeg-rle's decode_frame) and pixel_array on a single-frame
dataset, in GB/s of decoded output on one core.

Figures behind choices in rust/ (as measured when the choice was made; re-run to check):

- rust/pixels/rle.rs: frames decoded in runs of about 2 MiB of output per thread, so
  threads fault in separate huge pages: 7% faster for 100 frames of 512 KiB on 2
  threads.
"""

from __future__ import annotations

import argparse
import statistics

# Keep module-level imports stdlib-only (and rle_workload, which is light): spawned
# children re-import this file, and anything heavy here would pollute their baselines.
from measure import MIB, in_fresh_process, peak_memory, ratio_line, time_rounds
from rle_workload import (
    APPROACHES,
    COLUMNS,
    DEFAULT_DIR,
    FRAMES,
    ROWS,
    available,
    core_decoders,
    ensure_rle_files,
    frame_bytes,
)


def _load(name: str):
    """Import what `name` needs; return a callable decoding the path given to it."""
    from pydicom.pixels import pixel_array

    if not available(name):  # also registers dcmfast's plugin
        raise ImportError(f"the {name!r} RLE plugin is not available")
    return lambda src: pixel_array(src, decoding_plugin=name)


def _measure_memory(name: str, path: str, trace: bool) -> tuple[int, int]:
    """Runs in a fresh process: (baseline after imports, peak growth) for `name`."""
    run = _load(name)
    with open(path, "rb") as f:  # page cache warm, like the timed runs
        f.read()
    return peak_memory(run, path, trace)


def _check_same(runners: dict, arg) -> None:
    """Every approach decodes to pydicom's array (dtype, shape, values)."""
    import numpy as np

    def as_array(value):
        if isinstance(value, (bytes, bytearray)):  # a bare frame decoder's output
            return np.frombuffer(value, dtype=np.uint8)
        return value

    want = as_array(runners["pydicom"](arg))
    for name, run in runners.items():
        got = as_array(run(arg))
        if got.dtype != want.dtype or got.shape != want.shape:
            raise SystemExit(
                f"{name}: {got.dtype}{got.shape} != {want.dtype}{want.shape}"
            )
        if not np.array_equal(got, want):
            raise SystemExit(f"{name}: decoded values differ from pydicom's")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=FRAMES)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", default=str(DEFAULT_DIR))
    args = parser.parse_args(argv)

    multi, single = ensure_rle_files(args.corpus, args.frames)
    names = []
    for name in APPROACHES:
        if available(name):
            names.append(name)
        else:
            print(f"{name}: RLE plugin not available, left out")
    decoded = args.frames * ROWS * COLUMNS * 2

    # --- multi-frame pixel_array -----------------------------------------------
    runners = {name: _load(name) for name in names}
    _check_same(runners, str(multi))
    times = time_rounds(runners, str(multi), args.rounds)
    rss = {n: in_fresh_process(_measure_memory, n, str(multi), False) for n in names}
    traced = {n: in_fresh_process(_measure_memory, n, str(multi), True) for n in names}

    size = multi.stat().st_size
    print(
        f"\npixel_array of {multi.name}: {args.frames} frames of {ROWS}x{COLUMNS}"
        f" 16-bit, {size / MIB:.1f} MiB file, {decoded / MIB:.1f} MiB decoded,"
        f" {args.rounds} rounds\n"
    )
    header = (
        f"{'approach':<10} {'ms/file':>9} {'min':>9} {'max':>9} {'MB/s':>8}"
        f" {'speed-up':>9} {'base MiB':>9} {'RSS+ MiB':>9} {'traced MiB':>11}"
    )
    print(header)
    print("-" * len(header))
    base_time = statistics.median(times["pydicom"])
    for name in names:
        med = statistics.median(times[name])
        print(
            f"{name:<10} {med * 1e3:9.1f} {min(times[name]) * 1e3:9.1f}"
            f" {max(times[name]) * 1e3:9.1f} {decoded / med / 1e6:8.0f}"
            f" {base_time / med:8.2f}x"
            f" {rss[name][0] / MIB:9.1f} {rss[name][1] / MIB:9.1f}"
            f" {traced[name][1] / MIB:11.1f}"
        )
    print()
    for slow in names:
        if slow != "dcmfast" and "dcmfast" in names:
            print(ratio_line(times, slow, "dcmfast"))

    # --- one frame ---------------------------------------------------------------
    from pydicom import dcmread

    src = frame_bytes(single)
    frame_len = ROWS * COLUMNS * 2
    core = {name: f for name, f in core_decoders().items() if name in names}
    _check_same(core, src)
    core_times = time_rounds(core, src, args.rounds * 2, repeat=20)
    ds = dcmread(single)
    plugin_times = time_rounds(runners, ds, args.rounds * 2, repeat=10)
    _check_same(runners, ds)

    print(
        f"\none {ROWS}x{COLUMNS} 16-bit frame ({len(src) / 1024:.0f} KiB encoded,"
        f" {frame_len / 1024:.0f} KiB decoded), one thread\n"
    )
    header = (
        f"{'approach':<10} {'core us':>9} {'core GB/s':>10} {'speed-up':>9}"
        f" {'plugin us':>10} {'plugin GB/s':>12} {'speed-up':>9}"
    )
    print(header)
    print("-" * len(header))
    core_base = statistics.median(core_times["pydicom"])
    plugin_base = statistics.median(plugin_times["pydicom"])
    for name in names:
        c = statistics.median(core_times[name])
        p = statistics.median(plugin_times[name])
        print(
            f"{name:<10} {c * 1e6:9.0f} {frame_len / c / 1e9:10.2f}"
            f" {core_base / c:8.2f}x {p * 1e6:10.0f} {frame_len / p / 1e9:12.2f}"
            f" {plugin_base / p:8.2f}x"
        )
    print()
    if "dcmfast" in names:
        for slow in names:
            if slow != "dcmfast":
                print("core   " + ratio_line(core_times, slow, "dcmfast"))
                print("plugin " + ratio_line(plugin_times, slow, "dcmfast"))
    print(
        "\nspeed-up: pydicom's median time / the approach's. MB/s, GB/s: decoded bytes"
        " per second.\nbase: RSS after imports. RSS+: peak RSS growth over base while"
        " decoding.\ntraced: tracemalloc peak of Python allocations (Rust and C"
        " heaps are only in RSS+).\nMemory columns come from a fresh process per"
        " approach and metric.\ncore: the bare frame decoder (pylibjpeg: rle.rle."
        "decode_frame); plugin: pixel_array(ds, decoding_plugin=...) on a"
        " single-frame dataset."
    )


if __name__ == "__main__":
    main()

"""Pixel data report: pydicom vs pydicom+pylibjpeg-rle vs dcmfast, in the same run.

Usage: python benches/report_pixels.py [--rounds R] [--rle-frames N]

Jobs (files made once by pixels_workload.py and rle_workload.py in the benchmark cache, cache.py):

- single: ``dcmread(p).pixel_array`` of one native 512x512 16-bit CT-like frame;
- whole-bs16 / whole-bs12: ``dcmread(p).pixel_array`` of 200 such frames (100 MiB),
  Bits Stored 16 (nothing to check) and 12 (every value checked against pydicom's
  correction);
- frame: one frame of the 200-frame file, ``pydicom.pixels.pixel_array(p, index=k)``
  vs ``dcmfast.pixel_array(p, index=k)``;
- rle: ``pixel_array`` of an N-frame 512x512 16-bit RLE file with pydicom's own
  plugin, pydicom+pylibjpeg-rle, and ``dcmfast.dcmread(p).pixel_array``;
- rle-frame: one 512x512 16-bit RLE frame from a dataset, GB/s decoded on one core.

Every job then reads one byte of each page of the array it made, so a view's page
faults are counted where they happen.

Timing alternates approaches within each round (rotating who goes first); speed-ups
are medians of per-round ratios. Memory: peak RSS growth while running the job once,
in a fresh process per approach, after its imports, page cache warm.
"""

from __future__ import annotations

import argparse
import statistics

# stdlib-only module imports: spawned children re-import this file.
from measure import MIB, in_fresh_process, peak_memory, ratio_line, time_rounds

FRAME_INDEX = 123


def _runner(job: str, name: str, path: str):
    """A callable for `job` by approach `name`, taking the path; it reads one byte of
    every page of the array it makes (a view never read is not a result)."""
    make = _maker(job, name, path)

    def run(p):
        arr = make(p)
        arr.reshape(-1).view("u1")[::4096].sum()
        return arr

    return run


def _maker(job: str, name: str, path: str):
    import dcmfast
    import pydicom
    from pydicom.pixels import pixel_array

    if job == "frame":
        if name == "dcmfast":
            return lambda p: dcmfast.pixel_array(p, index=FRAME_INDEX)
        return lambda p: pixel_array(p, index=FRAME_INDEX)
    if job == "rle-frame":
        reader = dcmfast.dcmread if name == "dcmfast" else pydicom.dcmread
        ds = reader(path)
        if name == "dcmfast":
            return lambda p: dcmfast.pixel_array(ds)
        return lambda p: pixel_array(ds, decoding_plugin=name)
    if name == "dcmfast":
        return lambda p: dcmfast.dcmread(p).pixel_array
    if job == "rle":
        return lambda p: pixel_array(p, decoding_plugin=name)
    return lambda p: pydicom.dcmread(p).pixel_array


def _memory(job: str, name: str, path: str) -> tuple[int, int]:
    """Runs in a fresh process: (RSS baseline after imports, peak RSS growth)."""
    run = _runner(job, name, path)
    with open(path, "rb") as f:
        while f.read(1 << 24):  # page cache warm, like the timed runs
            pass
    return peak_memory(run, path, False)


def _check(runners: dict, path: str) -> None:
    import numpy as np

    want = runners["pydicom"](path)
    for name, run in runners.items():
        got = run(path)
        if got.dtype != want.dtype or got.shape != want.shape:
            raise SystemExit(
                f"{name}: {got.dtype}{got.shape} != {want.dtype}{want.shape}"
            )
        if not np.array_equal(got, want):
            raise SystemExit(f"{name}: values differ from pydicom's")


def _rle_names() -> list[str]:
    from rle_workload import available

    names = ["pydicom"]
    if available("pylibjpeg"):
        names.append("pylibjpeg")
    else:
        print("pylibjpeg-rle not installed: left out (pip install pylibjpeg-rle)")
    return [*names, "dcmfast"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rle-frames", type=int, default=100)
    args = parser.parse_args(argv)

    from pixels_workload import ensure_native_files
    from rle_workload import ensure_rle_files

    native = ensure_native_files()
    rle_multi, rle_single = ensure_rle_files(frames=args.rle_frames)
    rle_names = _rle_names()
    jobs = {
        "single": (str(native["single"]), ["pydicom", "dcmfast"], 20),
        "whole-bs16": (str(native["multi16"]), ["pydicom", "dcmfast"], 1),
        "whole-bs12": (str(native["multi12"]), ["pydicom", "dcmfast"], 1),
        "frame": (str(native["multi12"]), ["pydicom", "dcmfast"], 10),
        "rle": (str(rle_multi), rle_names, 3),
        "rle-frame": (str(rle_single), rle_names, 5),
    }
    header = (
        f"{'job':<11} {'approach':<10} {'ms':>9} {'min':>9} {'speed-up':>9}"
        f" {'base MiB':>9} {'RSS+ MiB':>9}"
    )
    print(header)
    print("-" * len(header))
    summary = []
    for job, (path, names, repeat) in jobs.items():
        runners = {name: _runner(job, name, path) for name in names}
        _check(runners, path)
        times = time_rounds(runners, path, args.rounds, repeat=repeat)
        base = statistics.median(times["pydicom"])
        for name in names:
            mem = in_fresh_process(_memory, job, name, path)
            med = statistics.median(times[name])
            print(
                f"{job:<11} {name:<10} {med * 1e3:9.3f} {min(times[name]) * 1e3:9.3f}"
                f" {base / med:8.1f}x {mem[0] / MIB:9.1f} {mem[1] / MIB:9.1f}"
            )
        for slow in names:
            if slow != "dcmfast":
                summary.append(f"{job:<11} " + ratio_line(times, slow, "dcmfast"))
        if job == "rle-frame":
            frame = 512 * 512 * 2
            med = statistics.median(times["dcmfast"])
            summary.append(f"{job:<11} dcmfast: {frame / med / 1e9:.2f} GB/s decoded")
    print()
    print("\n".join(summary))
    print(
        "\nspeed-up: pydicom's median time / the approach's. base: RSS after imports."
        "\nRSS+: peak RSS growth while running the job once (fresh process; for"
        " dcmfast's\nnative arrays this counts file pages touched through the"
        " mapping, e.g. by the\nBits Stored check of whole-bs12)."
    )


if __name__ == "__main__":
    main()

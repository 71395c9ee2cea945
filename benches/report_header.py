"""Header-read report: time and memory of pydicom vs dcmfast on the CT corpus.

Usage: python benches/report_header.py [--files N] [--rounds R] [--corpus DIR]

Timing alternates the approaches within each round (rotating who goes first)
so machine noise hits all of them alike; the speed-up is the median of the
per-round pydicom/dcmfast ratios. Memory is measured in fresh spawned
processes, one per approach and metric, after the approach's imports.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import resource
import statistics
import sys
import time
import tracemalloc

# Keep module-level imports stdlib-only: spawned children re-import this file,
# and anything heavy here would pollute their memory baselines.
from workload import read_floor, read_headers

APPROACHES = ("floor", "pydicom", "dcmfast")
MIB = 1024 * 1024


def _load(name: str):
    """Import what `name` needs and return a callable taking the path list."""
    if name == "floor":
        return read_floor
    if name == "pydicom":
        import pydicom

        return lambda paths: read_headers(pydicom.dcmread, paths)
    # ImportError also when dcmfast is an unbuilt namespace dir without dcmread.
    from dcmfast import dcmread

    return lambda paths: read_headers(dcmread, paths)


def _rss_bytes(field: str) -> int:
    """VmRSS (current) or VmHWM (peak) from /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def _maxrss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # Linux reports KiB


def _measure_memory(name: str, paths: list[str], trace: bool) -> tuple[int, int]:
    """Runs in a fresh process. Returns (baseline after imports, peak growth).

    The growth is peak RSS (or the tracemalloc peak if `trace`) in bytes.
    """
    run = _load(name)
    gc.collect()
    if trace:
        # Separate process from the RSS run: tracemalloc's own bookkeeping
        # would inflate RSS, and a second pass would find caches already warm.
        tracemalloc.start()
        run(paths)
        return 0, tracemalloc.get_traced_memory()[1]
    try:
        # Linux carries the parent's peak RSS across exec into a spawned
        # child's ru_maxrss, which would hide the child's own growth whenever
        # the parent is bigger. Reset the kernel's high-water mark instead.
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        base = _maxrss_bytes()  # not Linux: plain ru_maxrss delta
        run(paths)
        return base, _maxrss_bytes() - base
    base = _rss_bytes("VmRSS")
    run(paths)
    return base, _rss_bytes("VmHWM") - base


def _in_fresh_process(name: str, paths: list[str], trace: bool) -> tuple[int, int]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measure_memory, (name, paths, trace))


def _time_rounds(runners: dict, paths: list[str], rounds: int) -> dict:
    """Seconds per file for each approach, one entry per round."""
    for run in runners.values():  # warm the page cache and lazy imports
        run(paths)
    times = {name: [] for name in runners}
    names = list(runners)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.perf_counter()
            runners[name](paths)
            times[name].append((time.perf_counter() - t0) / len(paths))
    return times


def main(argv: list[str] | None = None) -> None:
    from make_corpus import DEFAULT_OUTDIR, ensure_corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", default=str(DEFAULT_OUTDIR))
    args = parser.parse_args(argv)

    paths = ensure_corpus(args.corpus, args.files)
    names = list(APPROACHES)
    try:
        _load("dcmfast")
    except ImportError as exc:
        print(f"dcmfast not importable ({exc}): reporting floor and pydicom only\n")
        names.remove("dcmfast")

    runners = {name: _load(name) for name in names}
    times = _time_rounds(runners, paths, args.rounds)
    rss = {name: _in_fresh_process(name, paths, trace=False) for name in names}
    traced = {name: _in_fresh_process(name, paths, trace=True) for name in names}

    print(f"{len(paths)} files from {args.corpus}, {args.rounds} rounds\n")
    header = (
        f"{'approach':<9} {'us/file':>9} {'min':>9} {'max':>9} {'x floor':>8}"
        f" {'base MiB':>9} {'RSS+ MiB':>9} {'traced MiB':>11}"
    )
    print(header)
    print("-" * len(header))
    floor = statistics.median(times["floor"])
    for name in names:
        med = statistics.median(times[name])
        print(
            f"{name:<9} {med * 1e6:9.1f} {min(times[name]) * 1e6:9.1f}"
            f" {max(times[name]) * 1e6:9.1f} {med / floor:8.1f}"
            f" {rss[name][0] / MIB:9.1f} {rss[name][1] / MIB:9.1f}"
            f" {traced[name][1] / MIB:11.1f}"
        )
    if "dcmfast" in names:
        ratios = [p / d for p, d in zip(times["pydicom"], times["dcmfast"])]
        print(
            f"\npydicom/dcmfast: {statistics.median(ratios):.2f}x"
            f" (median of {len(ratios)} rounds, range"
            f" {min(ratios):.2f}-{max(ratios):.2f})"
        )
    print(
        "\nbase: RSS after imports. RSS+: peak RSS growth over base while reading."
        "\ntraced: tracemalloc peak of Python allocations (a Rust heap is only in"
        " RSS+).\nMemory columns come from a fresh process per approach and metric."
    )


if __name__ == "__main__":
    main()

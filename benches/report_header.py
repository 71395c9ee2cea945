"""Header-read report: time and memory of pydicom vs dcmfast on the CT corpus.

Usage: python benches/report_header.py [--files N] [--rounds R] [--corpus DIR]

Timing alternates the approaches within each round (rotating who goes first)
so machine noise hits all of them alike; the speed-up is the median of the
per-round pydicom/dcmfast ratios. Memory is measured in fresh spawned
processes, one per approach and metric, after the approach's imports.
"""

from __future__ import annotations

import argparse
import statistics

# Keep module-level imports stdlib-only: spawned children re-import this file,
# and anything heavy here would pollute their memory baselines.
from measure import MIB, in_fresh_process, peak_memory, ratio_line, time_rounds
from workload import read_floor, read_headers

APPROACHES = ("floor", "pydicom", "dcmfast")


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


def _measure_memory(name: str, paths: list[str], trace: bool) -> tuple[int, int]:
    """Runs in a fresh process: (baseline after imports, peak growth) for `name`."""
    return peak_memory(_load(name), paths, trace)


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
    # Each runner reads every path: divide by their number for time per file.
    per_call = time_rounds(runners, paths, args.rounds)
    times = {name: [t / len(paths) for t in ts] for name, ts in per_call.items()}
    rss = {n: in_fresh_process(_measure_memory, n, paths, False) for n in names}
    traced = {n: in_fresh_process(_measure_memory, n, paths, True) for n in names}

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
        print("\n" + ratio_line(times, "pydicom", "dcmfast"))
    print(
        "\nbase: RSS after imports. RSS+: peak RSS growth over base while reading."
        "\ntraced: tracemalloc peak of Python allocations (a Rust heap is only in"
        " RSS+).\nMemory columns come from a fresh process per approach and metric."
    )


if __name__ == "__main__":
    main()

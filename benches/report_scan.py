"""Bulk-scan report: dcmfast.scan (1 and 2 workers) vs a pydicom loop, same run.

Usage: python benches/report_scan.py [--files N] [--rounds R] [--corpus DIR]

The workload is the header one: the 10 tags of workload.TAGS from every file. pydicom
reads each file with dcmread(stop_before_pixels=True); dcmfast.scan reads them all.
Timing alternates the approaches within each round; speed-ups are medians of the
per-round ratios. The fast approaches are timed warm: five calls after an untimed one
in each round (pydicom's one long pass warms itself). Memory comes from a fresh spawned
process per approach.

Figures behind choices in rust/ (as measured when the choice was made; re-run to check):

- rust/scan.rs ``scan_files``: dropping the other threads' outcomes file by file (the
  allocator then takes their locks) made 2 workers 1.4x as fast as one;
- rust/scan.rs ``Opener``: opening relative to the directory saved about 0.4 µs an
  open for paths six components deep, and took 2 workers from 1.5x to 2x one;
- rust/parse.rs ``skip_unwanted``: reading headers through the general ``header``
  cost 0.2 µs a scanned file;
- rust/values.rs UID check: a split per '.' cost the scan 2%;
- Cargo.toml ``smallvec``: a heap list for each split value cost the scan about 4%.
"""

from __future__ import annotations

import argparse
import statistics

# Stdlib-only module imports: spawned children re-import this file.
from measure import MIB, in_fresh_process, peak_memory, ratio_line, time_rounds
from workload import TAGS, read_floor, read_headers

APPROACHES = ("floor", "pydicom", "scan-1", "scan-2")


def _load(name: str):
    """Import what `name` needs and return a callable taking the path list."""
    if name == "floor":
        return read_floor
    if name == "pydicom":
        import pydicom

        return lambda paths: read_headers(pydicom.dcmread, paths)
    import dcmfast

    workers = int(name.rsplit("-", 1)[1])
    return lambda paths: dcmfast.scan(paths, TAGS, workers=workers)


def _measure_memory(name: str, paths: list[str]) -> tuple[int, int]:
    return peak_memory(_load(name), paths, trace=False)


def main(argv: list[str] | None = None) -> None:
    from make_corpus import DEFAULT_OUTDIR, ensure_corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", default=str(DEFAULT_OUTDIR))
    args = parser.parse_args(argv)

    paths = ensure_corpus(args.corpus, args.files)
    runners = {name: _load(name) for name in APPROACHES}
    # pydicom takes ~100x longer: one pass of it per round, several (warm) of the others.
    repeat = {"floor": 5, "scan-1": 5, "scan-2": 5}
    per_call = time_rounds(runners, paths, args.rounds, repeat)
    times = {name: [t / len(paths) for t in ts] for name, ts in per_call.items()}
    rss = {name: in_fresh_process(_measure_memory, name, paths) for name in APPROACHES}

    print(f"{len(paths)} files from {args.corpus}, {args.rounds} rounds, 10 tags\n")
    header = (
        f"{'approach':<9} {'us/file':>9} {'files/s':>10} {'x floor':>8}"
        f" {'base MiB':>9} {'RSS+ MiB':>9}"
    )
    print(header)
    print("-" * len(header))
    floor = statistics.median(times["floor"])
    for name in APPROACHES:
        med = statistics.median(times[name])
        print(
            f"{name:<9} {med * 1e6:9.2f} {1 / med:10,.0f} {med / floor:8.2f}"
            f" {rss[name][0] / MIB:9.1f} {rss[name][1] / MIB:9.1f}"
        )
    print()
    print(ratio_line(times, "pydicom", "scan-1"))
    print(ratio_line(times, "scan-1", "scan-2"))
    print(ratio_line(times, "floor", "scan-1"))
    print(
        "\nfloor: open + read(8192) + close of each file from Python."
        "\nbase: RSS after imports. RSS+: peak RSS growth over base while scanning."
    )


if __name__ == "__main__":
    main()

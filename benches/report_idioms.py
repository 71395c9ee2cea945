"""Idiom report: the pydicom idioms after dcmread, pydicom vs dcmfast, with floors.

Usage: python benches/report_idioms.py [--files N] [--rounds R] [--only NAME]...
                                        [--memory] [--corpus DIR]

For each idiom (benches/idioms_workload.py) every approach reads the same CT files
and applies it; times are per file and include the read. Approaches alternate within
each round (rotating who goes first) so machine noise hits them alike; a speed-up is
the median of the per-round ratios. The floor is the same bytes moved with bare I/O:
for element idioms, reading the header and making one plain tuple per element; for
the writer, reading the file and writing its bytes. For the two lookups the same run
also times keyword attribute access (``ds.Keyword``) with dcmfast, the mark they are
held to.

``--memory`` adds peak RSS growth of reading, iterating every element (touching each
value) and saving a 100 MiB multi-frame file, each approach in a fresh process.
"""

from __future__ import annotations

import argparse
import statistics

# Keep module-level imports stdlib-only: spawned children re-import this file.
from measure import MIB, in_fresh_process, peak_memory, time_rounds

FLOORS = {
    "objects": "read header + one tuple per element",
    "copy": "read file + write it to a file",
    "copy-bytesio": "read file + write it to a BytesIO",
}


def _runners(name: str, paths: list[str], counts: list[int]) -> dict:
    import dcmfast
    import idioms_workload as w
    import pydicom

    floor = w.IDIOMS[name][2]
    runners = {
        "floor": {
            "objects": lambda ps: w.floor_objects(ps, counts),
            "copy": w.floor_copy,
            "copy-bytesio": w.floor_copy_bytesio,
        }[floor],
        "pydicom": lambda ps: w.run_idiom(name, pydicom.dcmread, ps),
        "dcmfast": lambda ps: w.run_idiom(name, dcmfast.dcmread, ps),
    }
    if name in ("ds[tag].value x10", "ds[keyword].value x10"):
        runners["dcmfast ds.Keyword"] = lambda ps: w.run_idiom(
            "ds.Keyword x10", dcmfast.dcmread, ps
        )
    return runners


def _ratio(times: dict, slow: str, fast: str) -> tuple[float, float, float]:
    ratios = [s / f for s, f in zip(times[slow], times[fast])]
    return statistics.median(ratios), min(ratios), max(ratios)


def _iterate_and_save(args: tuple[str, str]) -> int:
    """Read a whole file, touch every element's value, save it (memory runs)."""
    approach, path = args
    import idioms_workload as w

    if approach == "floor":
        return w.floor_copy([path])
    if approach == "pydicom":
        from pydicom import dcmread
    else:
        from dcmfast import dcmread
    ds = dcmread(path)
    total = sum(len(e.value) if isinstance(e.value, bytes) else 1 for e in ds)
    ds.save_as(w.OUT_PATH)
    return total


def _measure_memory(approach: str, path: str) -> tuple[int, int]:
    if approach != "floor":  # imports belong to the baseline
        import pydicom  # noqa: F401

        if approach == "dcmfast":
            import dcmfast  # noqa: F401
    return peak_memory(_iterate_and_save, (approach, path), False)


def main(argv: list[str] | None = None) -> None:
    from idioms_workload import IDIOMS, element_counts
    from make_corpus import DEFAULT_OUTDIR, ensure_corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", default=str(DEFAULT_OUTDIR))
    parser.add_argument("--only", action="append", help="idiom name (repeatable)")
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args(argv)

    paths = ensure_corpus(args.corpus, args.files)
    counts = element_counts(paths)
    names = args.only or list(IDIOMS)
    print(
        f"{len(paths)} CT files from {args.corpus}, {args.rounds} rounds;"
        f" {statistics.mean(counts):.0f} elements per header\n"
    )
    header = (
        f"{'idiom':<44} {'pydicom us':>10} {'dcmfast us':>10} {'floor us':>9}"
        f" {'pydicom/dcmfast':>22} {'dcmfast/floor':>13}"
    )
    print(header)
    print("-" * len(header))
    notes = []
    for name in names:
        runners = _runners(name, paths, counts)
        per_call = time_rounds(runners, paths, args.rounds)
        times = {n: [t / len(paths) for t in ts] for n, ts in per_call.items()}
        med = {n: statistics.median(ts) * 1e6 for n, ts in times.items()}
        speedup, low, high = _ratio(times, "pydicom", "dcmfast")
        over_floor, _, _ = _ratio(times, "dcmfast", "floor")
        print(
            f"{name:<44} {med['pydicom']:10.1f} {med['dcmfast']:10.1f}"
            f" {med['floor']:9.1f} {speedup:8.1f}x ({low:5.1f}-{high:5.1f})"
            f" {over_floor:12.1f}x"
        )
        if "dcmfast ds.Keyword" in times:
            mark, _, _ = _ratio(times, "dcmfast", "dcmfast ds.Keyword")
            notes.append(f"{name}: {mark:.2f}x the time of ds.Keyword x10 (same run)")
    print("\nfloors: " + "; ".join(f"{k}: {v}" for k, v in FLOORS.items()))
    for note in notes:
        print(note)

    if args.memory:
        from pixels_workload import ensure_native_files

        path = str(ensure_native_files()["multi16"])
        print(f"\nPeak RSS growth: read, touch every value, save_as ({path}):")
        for approach in ("floor", "pydicom", "dcmfast"):
            base, peak = in_fresh_process(_measure_memory, approach, path)
            print(
                f"  {approach:<8} base {base / MIB:7.1f} MiB  peak growth"
                f" {peak / MIB:7.1f} MiB"
            )


if __name__ == "__main__":
    main()

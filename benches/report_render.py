"""Render report: str(ds), ds.to_json_dict() and ds.to_json() of converted datasets.

Usage: python benches/report_render.py [--files N] [--rounds R] [--corpus DIR]

report_idioms.py times these idioms end to end (read, convert every element, render);
this times the rendering alone: every header is read and rendered once first (so each
element is converted and stored, by pydicom's rules on both sides), then each round
renders every dataset again. Approaches alternate within each round; a speed-up is the
median of the per-round ratios. The floor makes one line of text per element from
plain tuples (`f"{tag:08X} {value!r}"`): the Python work of formatting as many lines.
"""

from __future__ import annotations

import argparse
import statistics

from measure import time_rounds

RENDERINGS = {
    "str(ds)": str,
    "ds.to_json_dict()": lambda ds: ds.to_json_dict(),
    "ds.to_json()": lambda ds: ds.to_json(),
}


def _floor_lines(rows: list[list[tuple[int, object]]]) -> int:
    return sum(
        len("\n".join([f"{tag:08X} {value!r}" for tag, value in elements]))
        for elements in rows
    )


def _render_all(render, datasets: list) -> int:
    # Each result is dropped before the next is made, as a loop writing them out would.
    return sum(len(render(ds)) for ds in datasets)


def main(argv: list[str] | None = None) -> None:
    import dcmfast
    import pydicom
    from make_corpus import DEFAULT_OUTDIR, ensure_corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", default=str(DEFAULT_OUTDIR))
    args = parser.parse_args(argv)

    paths = ensure_corpus(args.corpus, args.files)
    datasets = {
        "pydicom": [pydicom.dcmread(p, stop_before_pixels=True) for p in paths],
        "dcmfast": [dcmfast.dcmread(p, stop_before_pixels=True) for p in paths],
    }
    for group in datasets.values():
        for ds in group:
            str(ds)
    rows = [[(e.tag, e.value) for e in ds.iterall()] for ds in datasets["pydicom"]]
    print(f"{len(paths)} CT headers, converted; {args.rounds} rounds\n")
    header = (
        f"{'rendering':<20} {'pydicom us':>10} {'dcmfast us':>10} {'floor us':>9}"
        f" {'pydicom/dcmfast':>22}"
    )
    print(header)
    print("-" * len(header))
    for name, render in RENDERINGS.items():
        runners = {
            "floor": lambda _: _floor_lines(rows),
            "pydicom": lambda _, r=render: _render_all(r, datasets["pydicom"]),
            "dcmfast": lambda _, r=render: _render_all(r, datasets["dcmfast"]),
        }
        per_call = time_rounds(runners, None, args.rounds)
        times = {n: [t / len(paths) for t in ts] for n, ts in per_call.items()}
        med = {n: statistics.median(ts) * 1e6 for n, ts in times.items()}
        ratios = [p / f for p, f in zip(times["pydicom"], times["dcmfast"])]
        print(
            f"{name:<20} {med['pydicom']:10.1f} {med['dcmfast']:10.1f}"
            f" {med['floor']:9.1f} {statistics.median(ratios):8.1f}x"
            f" ({min(ratios):5.1f}-{max(ratios):5.1f})"
        )


if __name__ == "__main__":
    main()

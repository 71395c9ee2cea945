"""ML loader report: frames/s of dcmfast's loaders vs a pydicom-based loader, same run.

Usage: python benches/report_loader.py [--rounds R] [--files N] [--frames F]
                                       [--pydicom-frames K]

Workloads (loader_workload.py; files made once under loader/ of the benchmark cache):

- ct: N (500) 512x512 16-bit CT files, one frame each;
- rle: one F-frame (200) 512x512 RLE Lossless CT file;

each raw, and "proc": float32 after apply_modality_lut + apply_voi_lut (rescale and a
40/400 window).

Approaches (frames/s; pydicom reads K frames spread over the set per round, dcmfast
every frame):

- pydicom: pydicom per frame (dcmread + pixel_array, or pixel_array(path, index=k)),
  RLE decoded by pydicom's own decoder (what ``pip install pydicom`` gives);
- pylibjpeg: the same with pylibjpeg-rle installed (pydicom's first choice then);
- dataset-1 / dataset-2: ``dcmfast.FrameDataset.__getitems__`` on batches of 32 frames
  (fresh arrays, as torch's DataLoader fetches them), 1 and 2 threads;
- batch-1 / batch-2: ``dcmfast.read_batch`` of every frame into one reused array, 1 and
  2 threads.

Timing rotates the approaches within each round; speed-ups are medians (and ranges)
of per-round ratios, so machine noise that hits a whole round cancels.

Figures behind choices in rust/ (as measured when the choice was made; re-run to check):

- rust/loader.rs ``FileValue``: walking the items of a mapped 200-frame 512x512 RLE
  file faulted in about 3,200 pages, most of the 1.1 ms a ``read_batch`` call spent
  before its threads could start; reading only the item headers from the file avoids it.
"""

from __future__ import annotations

import argparse
import statistics

from measure import time_rounds


def _runners(job: str, processed: bool, paths: list[str], pydicom_frames: int):
    """name -> (callable, frames it reads) for one workload."""
    from loader_workload import (
        batch_loader,
        batch_out,
        dcmfast_loader,
        frame_table,
        pydicom_loader,
    )
    from rle_workload import available

    table = frame_table(paths)
    n = len(table)
    step = max(1, n // pydicom_frames)
    sample = list(range(0, n, step))[:pydicom_frames]
    every = list(range(n))
    runners = {}
    plugins = {"pydicom": "pydicom"}
    if job == "rle" and available("pylibjpeg"):
        plugins["pylibjpeg"] = "pylibjpeg"
    for name, plugin in plugins.items():
        load = pydicom_loader(table, processed, plugin)
        runners[name] = (lambda load=load: load(sample), len(sample))
    # One batch array for both thread counts: two arrays of 256 MiB can differ in how
    # the kernel backs them (huge pages or not), and that alone moved the ratio.
    out = batch_out(table, processed)
    for workers in (1, 2):
        load = dcmfast_loader(paths, processed, workers)
        runners[f"dataset-{workers}"] = (lambda load=load: load(every), n)
        runners[f"batch-{workers}"] = (batch_loader(table, processed, workers, out), n)
    _check(table, sample[:4], processed)
    return runners


def _check(table, indices, processed) -> None:
    """dcmfast's frames are pydicom's (processed frames to the bit)."""
    import dcmfast
    from loader_workload import pydicom_loader

    load = pydicom_loader(table, processed)
    want = [load([i]) for i in indices]
    got = dcmfast.read_batch(
        [table[i] for i in indices], modality_lut=processed, voi_lut=processed
    )
    for w, g in zip(want, got):
        if w.astype(g.dtype).tobytes() != g.tobytes():
            raise SystemExit("dcmfast's frames differ from pydicom's")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--pydicom-frames", type=int, default=40)
    args = parser.parse_args(argv)

    from loader_workload import ensure_loader_files

    series, rle = ensure_loader_files(files=args.files, frames=args.frames)
    workloads = {"ct": series, "rle": [rle]}
    header = (
        f"{'job':<9} {'approach':<10} {'frames/s':>9} {'min-max':>15}"
        f" {'x pydicom':>10} {'range':>13}"
    )
    print(
        f"{args.files} CT files, a {args.frames}-frame RLE file; {args.rounds} rounds;"
        f" pydicom reads {args.pydicom_frames} frames a round, dcmfast all\n"
    )
    print(header)
    print("-" * len(header))
    summary = []
    for job, paths in workloads.items():
        for processed in (False, True):
            label = f"{job}-{'proc' if processed else 'raw'}"
            runners = _runners(job, processed, paths, args.pydicom_frames)
            calls = {name: run for name, (run, _) in runners.items()}
            per_call = time_rounds(
                {k: _ignore(v) for k, v in calls.items()}, None, args.rounds
            )
            rates = {
                name: [runners[name][1] / t for t in per_call[name]] for name in runners
            }
            base = rates["pydicom"]
            for name, rate in rates.items():
                ratios = [r / b for r, b in zip(rate, base)]
                print(
                    f"{label:<9} {name:<10} {statistics.median(rate):9,.0f}"
                    f" {min(rate):7,.0f}-{max(rate):<7,.0f}"
                    f" {statistics.median(ratios):9.1f}x"
                    f" {min(ratios):6.1f}-{max(ratios):<6.1f}"
                )
            for slow in ("pydicom", "pylibjpeg"):
                if slow in rates:
                    for fast in ("dataset-2", "batch-2"):
                        summary.append(f"{label:<9} " + _ratio(rates, fast, slow))
            summary.append(f"{label:<9} " + _ratio(rates, "batch-2", "batch-1"))
    print()
    print("\n".join(summary))
    print(
        "\nframes/s: median over rounds (min-max); x pydicom: median of per-round"
        " ratios to\npydicom's frames/s (range). pylibjpeg: pydicom with"
        " pylibjpeg-rle decoding RLE."
    )


def _ignore(run):
    return lambda _: run()


def _ratio(rates: dict, fast: str, slow: str) -> str:
    ratios = [f / s for f, s in zip(rates[fast], rates[slow])]
    return (
        f"{fast}/{slow}: {statistics.median(ratios):.2f}x (median of {len(ratios)}"
        f" rounds, range {min(ratios):.2f}-{max(ratios):.2f})"
    )


if __name__ == "__main__":
    main()

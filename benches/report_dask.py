"""Dask report: dcmfast.dask.scan on a 2-worker local cluster vs dcmfast.scan with 2
threads, same files, same run; the cluster's overhead in files/s.

Usage: python benches/report_dask.py [--files 20000] [--rounds 5] [--partition N]

The files are small CT headers (the benchmark CT's header, 8x8 pixels) in folders of
100 (patient/series/instance), generated once under the benchmark cache. Both read the
10 tags of workload.TAGS and end with a pandas DataFrame on the driver:
``dcmfast.scan(paths, TAGS, workers=2).to_pandas()`` against
``dcmfast.dask.scan(paths, TAGS, files_per_partition=N).compute()`` on
``LocalCluster(n_workers=2, processes=True, threads_per_worker=1)`` (started once,
outside the timing, as a cluster is long-lived). Given a path list (a manifest) and
given the root folder (which the cluster lists in parallel, partitions of sub-folders,
and the single process lists itself). The floor is the same bytes with bare I/O: open,
read(8192), close of each file on 2 threads. Rounds alternate the approaches; ratios
are medians of per-round ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cache import announce, cache_dir
from measure import ratio_line, time_rounds
from workload import TAGS

PER_FOLDER = 100


def ensure_corpus(count: int) -> Path:
    """`count` small CT files under the cache, made once from the CT corpus header."""
    import numpy as np
    import pydicom
    from make_corpus import DEFAULT_OUTDIR
    from make_corpus import ensure_corpus as ensure_ct
    from pydicom.uid import generate_uid

    root = cache_dir("dask") / f"{count}"
    marker = root / ".complete"
    if marker.exists():
        return root
    announce(f"{count} small CT files", root)
    template = pydicom.dcmread(ensure_ct(DEFAULT_OUTDIR, 1)[0])
    template.Rows = template.Columns = 8
    template.PixelData = np.zeros((8, 8), np.int16).tobytes()
    study = generate_uid()
    for i in range(count):
        folder = root / f"p{i // 2000:03d}" / f"s{i // PER_FOLDER % 20:02d}"
        if i % PER_FOLDER == 0:
            folder.mkdir(parents=True, exist_ok=True)
            series = generate_uid()
        template.PatientID = f"P{i // 2000:03d}"
        template.StudyInstanceUID = study
        template.SeriesInstanceUID = series
        template.SOPInstanceUID = generate_uid()
        template.file_meta.MediaStorageSOPInstanceUID = template.SOPInstanceUID
        template.InstanceNumber = i % PER_FOLDER + 1
        template.save_as(folder / f"i{i:06d}.dcm")
    marker.touch()
    return root


def list_paths(root: Path) -> list[str]:
    return sorted(
        os.path.join(folder, name)
        for folder, _, names in os.walk(root)
        for name in names
        if name.endswith(".dcm")
    )


def floor(paths: list[str]) -> int:
    def read(chunk: list[str]) -> int:
        total = 0
        for path in chunk:
            with open(path, "rb") as f:
                total += len(f.read(8192))
        return total

    half = len(paths) // 2
    with ThreadPoolExecutor(2) as pool:
        return sum(pool.map(read, [paths[:half], paths[half:]]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--partition", type=int, default=10_000)
    parser.add_argument(
        "--times",
        type=int,
        default=1,
        help="scan the file list this many times over in each call (the root scans"
        " are then left out), to see how the per-call overhead is amortized",
    )
    args = parser.parse_args(argv)

    import dcmfast
    import dcmfast.dask
    from distributed import Client, LocalCluster

    root = ensure_corpus(args.files)
    paths = list_paths(root) * args.times
    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        Client(cluster),
    ):

        def dask_scan(source):
            return dcmfast.dask.scan(
                source, TAGS, files_per_partition=args.partition
            ).compute()

        def dask_scan_reduced(source):
            # Left on the workers, as a large scan's results are (written out from
            # there, or reduced): each partition's rows counted there, one int back.
            ddf = dcmfast.dask.scan(source, TAGS, files_per_partition=args.partition)
            return ddf.map_partitions(len, meta=(None, int)).sum().compute()

        def scan(source):
            return dcmfast.scan(source, TAGS, workers=2).to_pandas()

        # Same rows, same values: checked once before timing.
        want, got = scan(paths), dask_scan(paths)
        assert got.drop(columns="error").reset_index(drop=True).equals(want), "differ"
        runners = {
            "floor": lambda _: floor(paths),
            "scan-2": lambda _: scan(paths),
            "dask-2": lambda _: dask_scan(paths),
            "dask-2 reduced": lambda _: dask_scan_reduced(paths),
        }
        if args.times == 1:
            want, got = scan(str(root)), dask_scan(str(root))
            assert got.drop(columns="error").reset_index(drop=True).equals(want)
            runners["scan-2 root"] = lambda _: scan(str(root))
            runners["dask-2 root"] = lambda _: dask_scan(str(root))
        per_call = time_rounds(runners, None, args.rounds)
    times = {name: [t / len(paths) for t in ts] for name, ts in per_call.items()}

    print(
        f"{len(paths)} files ({args.times} x the files) under {root},"
        f" {args.rounds} rounds, 10 tags,"
        f" {args.partition} files per partition ({-(-len(paths) // args.partition)}"
        " partitions)\n"
    )
    header = f"{'approach':<15} {'us/file':>9} {'files/s':>10} {'x floor':>8}"
    print(header)
    print("-" * len(header))
    base = statistics.median(times["floor"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<15} {med * 1e6:9.2f} {1 / med:10,.0f} {med / base:8.2f}")
    print()
    pairs = [("scan-2", "dask-2"), ("scan-2", "dask-2 reduced")]
    if args.times == 1:
        pairs.append(("scan-2 root", "dask-2 root"))
    for fast, slow in pairs:
        overhead = [s / f - 1 for s, f in zip(times[slow], times[fast])]
        print(
            f"{slow} overhead over {fast}: {statistics.median(overhead):+.1%}"
            f" (rounds {min(overhead):+.1%} .. {max(overhead):+.1%})"
        )
    print(ratio_line(times, "dask-2", "floor"))
    print(
        "\nfloor: open + read(8192) + close of each file, 2 Python threads."
        "\nThe cluster is started before timing; each dask call includes building the"
        " graph,\nscheduling, the workers' scans and sending each partition's"
        " DataFrame to the driver;\n'reduced' leaves the rows on the workers and"
        " counts them there (one graph, one int back)."
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

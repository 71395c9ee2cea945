"""MONAI reader report: dcmfast.monai.DcmfastReader vs MONAI's PydicomReader, same run.

Usage: python benches/report_monai.py [--rounds R] [--slices N]

Workload: one series folder of N (200) 512x512 16-bit CT slices (make_corpus.py's
first series, hard-linked from the CT corpus into monai/ of the benchmark cache).

Approaches, seconds per series:

- reader-pydicom / reader-dcmfast: ``reader.get_data(reader.read(folder))``, the
  reader alone (a float64 volume: a DS rescale slope is a float64 to numpy);
- load-pydicom / load-dcmfast: ``LoadImage(reader=...)(folder)`` end to end (the
  MetaTensor, converted to float32 by LoadImage);
- load-dcmfast32: the same with ``DcmfastReader(dtype=np.float32)``, which gives
  LoadImage's float32 image without the float64 volume in between;
- floor: the same files' bytes read with bare I/O (``readinto``) into one buffer;
- volume: allocating and filling a float64 array of the volume's size, the least any
  reader pays to hand back PydicomReader's result.

Timing rotates the approaches within each round; speed-ups are medians (and ranges)
of per-round ratios, so machine noise that hits a whole round cancels.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import warnings
from pathlib import Path

import numpy as np
from cache import announce, cache_dir
from make_corpus import N_SERIES, ensure_corpus
from measure import ratio_line, time_rounds


def ensure_series(slices: int) -> Path:
    """A folder holding the first `slices` slices of the CT corpus' first series."""
    folder = cache_dir("monai") / f"series_{slices}"
    paths = ensure_corpus(count=N_SERIES * (slices - 1) + 1)[::N_SERIES][:slices]
    links = [folder / Path(p).name for p in paths]
    if all(link.exists() for link in links) and len(os.listdir(folder)) == slices:
        return folder
    announce(f"a {slices}-slice series (links to the CT corpus)", folder)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for path, link in zip(paths, links):
        try:
            os.link(path, link)
        except OSError:  # another file system: copy
            shutil.copyfile(path, link)
    return folder


def bare_io(paths: list[str]) -> bytearray:
    sizes = [os.path.getsize(p) for p in paths]
    buffer = bytearray(sum(sizes))
    view = memoryview(buffer)
    at = 0
    for path, size in zip(paths, sizes):
        with open(path, "rb", buffering=0) as f:
            at += f.readinto(view[at : at + size])
    return buffer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--slices", type=int, default=200)
    args = parser.parse_args(argv)

    warnings.simplefilter("ignore")  # MONAI's notes on optional readers
    from dcmfast.monai import DcmfastReader
    from monai.data import PydicomReader
    from monai.transforms import LoadImage

    folder = str(ensure_series(args.slices))
    paths = sorted(str(p) for p in Path(folder).iterdir())
    readers = {"pydicom": PydicomReader(), "dcmfast": DcmfastReader()}
    loaders = {name: LoadImage(reader=r) for name, r in readers.items()}
    loaders["dcmfast32"] = LoadImage(reader=DcmfastReader(dtype=np.float32))

    expected, actual = (r.get_data(r.read(folder)) for r in readers.values())
    assert expected[0].dtype == actual[0].dtype
    assert np.array_equal(expected[0], actual[0]), "the readers' arrays differ"
    assert np.array_equal(expected[1]["affine"], actual[1]["affine"])
    shape, dtype = expected[0].shape, expected[0].dtype
    del expected, actual
    expected, actual = (loaders[name](folder) for name in ("pydicom", "dcmfast32"))
    assert actual.dtype == expected.dtype and bool((actual == expected).all())
    del expected, actual

    def read_with(reader):
        return lambda _: reader.get_data(reader.read(folder))

    def load_with(loader):
        return lambda _: loader(folder)

    def volume(_):
        np.empty(shape, dtype).fill(1.0)

    runners = {
        "reader-pydicom": read_with(readers["pydicom"]),
        "reader-dcmfast": read_with(readers["dcmfast"]),
        "load-pydicom": load_with(loaders["pydicom"]),
        "load-dcmfast": load_with(loaders["dcmfast"]),
        "load-dcmfast32": load_with(loaders["dcmfast32"]),
        "floor": lambda _: bare_io(paths),
        "volume": volume,
    }
    size = sum(os.path.getsize(p) for p in paths) / 2**20
    print(
        f"{args.slices} slices of 512x512 int16 ({size:.0f} MiB of files), a"
        f" {'x'.join(map(str, shape))} {dtype} volume; {args.rounds} rounds;"
        f" {os.cpu_count()} CPUs\n"
    )
    times = time_rounds(runners, None, args.rounds)
    header = f"{'approach':<15} {'s/series':>9} {'min-max':>15}"
    print(header)
    print("-" * len(header))
    for name, seconds in times.items():
        print(
            f"{name:<15} {statistics.median(seconds):9.3f}"
            f" {min(seconds):7.3f}-{max(seconds):<7.3f}"
        )
    print()
    for slow, fast in [
        ("reader-pydicom", "reader-dcmfast"),
        ("load-pydicom", "load-dcmfast"),
        ("load-pydicom", "load-dcmfast32"),
        ("reader-dcmfast", "floor"),
        ("reader-dcmfast", "volume"),
    ]:
        print(ratio_line(times, slow, fast))


if __name__ == "__main__":
    main()

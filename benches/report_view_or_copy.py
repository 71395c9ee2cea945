"""Native pixel arrays: a copy (one positional read) or a view (a private mapping)?

Usage: python benches/report_view_or_copy.py [--rounds R]

For each size, the same bytes of a file in the page cache become a numpy array that is
then read once (a view never read is not a result), three ways, alternating in each
round:

- read: open, one ``preadv`` into a fresh array, close (what dcmfast does below
  ``VIEW_MIN`` in ``rust/py/pixels.rs``);
- view: open, a private copy-on-write ``mmap``, ``np.frombuffer``, close (above it);
- dcmfast: ``dcmfast.pixel_array(path)`` of a native file of that many pixel bytes.

The first two are the floor: bare I/O on the same bytes. The size where ``view`` starts
to beat ``read`` is where dcmfast should switch.
"""

from __future__ import annotations

import argparse
import mmap
import os
import statistics
import tempfile
import time
from pathlib import Path

import dcmfast
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

SIZES_MIB = (0.5, 1, 2, 4, 8, 16, 64)


def _native_file(path: Path, nbytes: int) -> int:
    """A 16-bit native file whose pixel data is `nbytes` long; its pixel offset."""
    frames = max(1, nbytes // (512 * 512 * 2))
    rows = nbytes // (512 * 2 * frames)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, 512, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    rng = np.random.default_rng(0)
    ds.PixelData = rng.integers(0, 4096, frames * rows * 512, np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return pydicom.dcmread(path, defer_size=16)["PixelData"].file_tell


def _read(path: Path, offset: int, nbytes: int) -> int:
    arr = np.empty(nbytes, np.uint8)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.preadv(fd, [arr], offset)
    finally:
        os.close(fd)
    return int(arr[::4096].sum())


def _view(path: Path, offset: int, nbytes: int) -> int:
    with open(path, "rb") as f:
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    arr = np.frombuffer(m, np.uint8, nbytes, offset)
    return int(arr[::4096].sum())


def _dcmfast(path: Path, offset: int, nbytes: int) -> int:
    arr = dcmfast.pixel_array(path).reshape(-1).view(np.uint8)
    return int(arr[::4096].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    ways = {"read": _read, "view": _view, "dcmfast": _dcmfast}
    print(f"{'MiB':>5} " + " ".join(f"{w + ' us':>11}" for w in ways) + "  view/read")
    with tempfile.TemporaryDirectory() as tmp:
        for mib in SIZES_MIB:
            nbytes = int(mib * 1024 * 1024)
            path = Path(tmp) / f"{mib}.dcm"
            offset = _native_file(path, nbytes)
            nbytes = os.path.getsize(path) - offset
            times: dict[str, list[float]] = {w: [] for w in ways}
            for r in range(args.rounds):
                order = list(ways)[r % 3 :] + list(ways)[: r % 3]
                for way in order:
                    start = time.perf_counter()
                    ways[way](path, offset, nbytes)
                    times[way].append(time.perf_counter() - start)
            med = {w: statistics.median(t) * 1e6 for w, t in times.items()}
            cells = " ".join(f"{med[w]:>11.1f}" for w in ways)
            print(f"{mib:>5} {cells}  {med['view'] / med['read']:>8.2f}x")
    print("us: median of rounds; each way touches every page of what it made.")


if __name__ == "__main__":
    main()

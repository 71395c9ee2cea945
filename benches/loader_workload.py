"""The ML loader workload, shared by report_loader.py and test_bench_loader.py.

Files (made once under loader/ of the benchmark cache, cache.py), from the existing
generators plus a Window Center/Width so that windowing has work to do:

- ``ct/``: N 512x512 16-bit CT files (make_corpus.py's, explicit and implicit VR
  little endian, Rescale Slope/Intercept), with Window Center 40 / Width 400;
- ``ct_rle_200x512x512.dcm``: rle_workload.py's 200-frame 512x512 RLE Lossless CT
  volume (12 bits stored, Rescale Slope/Intercept), with the same window.

Loaders, each a callable ``load(indices)`` over a frame table, returning the last frame
(or batch) it made. Like torch's DataLoader worker loop (which deletes a batch before
fetching the next), each drops what it read before reading more, so memory is reused
rather than growing with the number of frames read.

- ``pydicom``: per frame, what a map-style dataset built on pydicom does: ``dcmread``
  + ``pixel_array`` for single-frame files, ``pydicom.pixels.pixel_array(path,
  index=k, ds_out=ds)`` for a multi-frame one; with processing,
  ``apply_voi_lut(apply_modality_lut(arr, ds), ds).astype(np.float32)``. RLE frames are
  decoded by pydicom's first available plugin: "pydicom" (its own decoder, what
  ``pip install pydicom`` gives) or "pylibjpeg" (pylibjpeg-rle, when installed);
- ``dcmfast``: ``FrameDataset.__getitems__`` on batches of 32 frames (what torch's
  DataLoader calls), `workers` threads;
- ``batch``: ``read_batch`` of every frame into one reused array, `workers` threads.
"""

from __future__ import annotations

import os
from pathlib import Path

from cache import announce, cache_dir

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = cache_dir("loader")
FILES = int(os.environ.get("DCMFAST_BENCH_LOADER_FILES", "500"))
FRAMES = int(os.environ.get("DCMFAST_BENCH_LOADER_FRAMES", "200"))
BATCH = 32
WINDOW = ("40", "400")


def _windowed(src: str | Path, dst: Path) -> None:
    import pydicom

    ds = pydicom.dcmread(src)
    ds.WindowCenter, ds.WindowWidth = WINDOW
    tmp = dst.with_suffix(".tmp")
    ds.save_as(tmp)
    os.replace(tmp, dst)


def ensure_loader_files(
    outdir: str | Path = DEFAULT_DIR, files: int = FILES, frames: int = FRAMES
) -> tuple[list[str], str]:
    """(the CT series' paths, the multi-frame RLE file's path), made if missing."""
    from make_corpus import DEFAULT_OUTDIR, ensure_corpus, file_name
    from rle_workload import ensure_rle_files

    outdir = Path(outdir)
    series_dir = outdir / "ct"
    series_dir.mkdir(parents=True, exist_ok=True)
    series = [series_dir / file_name(i) for i in range(files)]
    if not all(p.exists() for p in series):
        announce(f"a {len(series)}-file CT series", series[0].parent)
        sources = ensure_corpus(DEFAULT_OUTDIR, files)
        for src, dst in zip(sources, series):
            if not dst.exists():
                _windowed(src, dst)
    rle = outdir / f"ct_rle_{frames}x512x512.dcm"
    if not rle.exists():
        multi, _ = ensure_rle_files(frames=frames)
        _windowed(multi, rle)
    return [str(p) for p in series], str(rle)


def frame_table(paths: list[str]) -> list[tuple[str, int]]:
    """(path, frame index) of every frame, as the loaders index them."""
    import pydicom

    table = []
    for path in paths:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        table.extend((path, k) for k in range(int(ds.get("NumberOfFrames", 1) or 1)))
    return table


def pydicom_loader(table: list[tuple[str, int]], processed: bool, plugin: str = ""):
    """A pydicom-based loader over `table` (see the module docstring)."""
    import numpy as np
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.pixels import apply_modality_lut, apply_voi_lut, pixel_array

    multi = len({path for path, _ in table}) < len(table)

    def frame(i: int):
        path, k = table[i]
        if multi:
            ds = Dataset()
            arr = pixel_array(path, index=k, ds_out=ds, decoding_plugin=plugin)
        else:
            ds = pydicom.dcmread(path)
            arr = ds.pixel_array
        if processed:
            arr = apply_voi_lut(apply_modality_lut(arr, ds), ds).astype(np.float32)
        return arr

    def load(indices):
        arr = None
        for i in indices:
            arr = None
            arr = frame(i)
        return arr

    return load


def dcmfast_loader(paths: list[str], processed: bool, workers: int):
    """dcmfast's FrameDataset over `paths`, read a batch at a time."""
    import dcmfast

    dataset = dcmfast.FrameDataset(
        paths, modality_lut=processed, voi_lut=processed, workers=workers
    )

    def load(indices):
        batch = None
        for start in range(0, len(indices), BATCH):
            batch = None
            batch = dataset.__getitems__(indices[start : start + BATCH])
        return batch

    return load


def batch_out(table: list[tuple[str, int]], processed: bool):
    """An array for every frame of `table`, as read_batch fills it."""
    import dcmfast
    import numpy as np

    first = dcmfast.read_batch(table[:1], modality_lut=processed, voi_lut=processed)
    return np.empty((len(table), *first.shape[1:]), first.dtype)


def batch_loader(table: list[tuple[str, int]], processed: bool, workers: int, out=None):
    """dcmfast.read_batch of every frame of `table` into one array (`out`, or a new
    one), reused call after call."""
    import dcmfast

    if out is None:
        out = batch_out(table, processed)

    def load():
        return dcmfast.read_batch(
            table, out=out, modality_lut=processed, voi_lut=processed, workers=workers
        )

    return load

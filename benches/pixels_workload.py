"""Files for the pixel data benchmarks, made once under pixels/ of the benchmark
cache (cache.py).

- ``ct_1x512x512.dcm``: one 512x512 16-bit CT-like frame (Bits Stored 12), native.
- ``ct_200x512x512_bs12.dcm``: 200 such frames (100 MiB of pixel data), Bits Stored 12:
  dcmfast must read every value to know pydicom's correction changes none.
- ``ct_200x512x512_bs16.dcm``: the same frames with Bits Stored 16: nothing to check.
RLE files come from rle_workload.py (under rle/).
"""

from __future__ import annotations

import os
from pathlib import Path

from cache import announce, cache_dir
from rle_workload import COLUMNS, ROWS, _dataset, ct_volume

DEFAULT_DIR = cache_dir("pixels")
FRAMES = int(os.environ.get("DCMFAST_BENCH_NATIVE_FRAMES", "200"))


def _write(arr, path: Path, bits_stored: int) -> None:
    ds = _dataset(arr)
    ds.BitsStored, ds.HighBit = bits_stored, bits_stored - 1
    tmp = path.with_suffix(".tmp")
    ds.save_as(tmp, enforce_file_format=True)
    os.replace(tmp, path)


def ensure_native_files(
    outdir: str | Path = DEFAULT_DIR, frames: int = FRAMES
) -> dict[str, Path]:
    """{"single", "multi12", "multi16"} -> path, made if missing."""
    import numpy as np

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {
        "single": outdir / f"ct_1x{ROWS}x{COLUMNS}.dcm",
        "multi12": outdir / f"ct_{frames}x{ROWS}x{COLUMNS}_bs12.dcm",
        "multi16": outdir / f"ct_{frames}x{ROWS}x{COLUMNS}_bs16.dcm",
    }
    if not all(p.exists() for p in paths.values()):
        announce("native pixel files (about 200 MB)", outdir)
        # 8 distinct slices repeated: realistic values, quick to make
        base = ct_volume(min(8, frames))
        volume = np.concatenate([base] * (frames // len(base) + 1))[:frames]
        if not paths["single"].exists():
            _write(volume[0], paths["single"], 12)
        for key, bits_stored in (("multi12", 12), ("multi16", 16)):
            if not paths[key].exists():
                _write(volume, paths[key], bits_stored)
    return paths

"""The RLE Lossless benchmark workload, shared by test_bench_rle.py and report_rle.py.

``ensure_rle_files()`` makes (once, under rle/ of the benchmark cache, cache.py)
a multi-frame CT-like RLE Lossless file, 512x512 16-bit (12 bits stored)
by default, and a single-frame file holding its first frame. The volume is a synthetic
torso phantom: an air-filled field of view padded with 0 outside, a body outline that
changes from slice to slice, lungs, a spine, and Gaussian noise everywhere in the field
of view, so both PackBits run types appear as they do in real CT (the low byte is
mostly literal runs, the high byte mostly replicate runs). Frames are encoded by
pydicom's own RLE encoder.

Imports stay light at module level (numpy and pydicom are imported on use), so
report_rle.py's spawned memory-measuring children start from a small baseline.
"""

from __future__ import annotations

import os
from pathlib import Path

from cache import announce, cache_dir

DEFAULT_DIR = cache_dir("rle")
FRAMES = int(os.environ.get("DCMFAST_BENCH_RLE_FRAMES", "100"))
ROWS = COLUMNS = 512
APPROACHES = ("pydicom", "pylibjpeg", "dcmfast")


def ct_volume(frames: int, rows: int = ROWS, columns: int = COLUMNS, seed: int = 0):
    """A (frames, rows, columns) uint16 CT-like volume, stored value = HU + 1024."""
    import numpy as np

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:rows, 0:columns].astype(np.float32)
    yy = (yy - rows / 2) / (rows / 2)
    xx = (xx - columns / 2) / (columns / 2)
    fov = xx**2 + yy**2 < 0.97**2
    volume = np.empty((frames, rows, columns), dtype=np.uint16)
    for z in range(frames):
        t = z / max(frames - 1, 1)
        a = 0.78 + 0.06 * np.sin(2 * np.pi * t)  # body half-width
        b = 0.58 + 0.04 * np.cos(2 * np.pi * t)  # body half-height
        hu = np.full((rows, columns), -1000.0, dtype=np.float32)
        body = (xx / a) ** 2 + (yy / b) ** 2 < 1
        hu[body] = -90.0  # subcutaneous fat
        inner = (xx / (a - 0.06)) ** 2 + (yy / (b - 0.06)) ** 2 < 1
        hu[inner] = 45.0  # soft tissue
        if t < 0.6:  # lungs in the upper slices
            for side in (-1, 1):
                lung = ((xx - side * 0.33) / 0.25) ** 2 + ((yy + 0.05) / 0.35) ** 2 < 1
                hu[lung & inner] = -850.0
        spine = (xx**2 + (yy - 0.38) ** 2) < 0.09**2
        hu[spine] = 650.0
        hu += rng.normal(0.0, 12.0, hu.shape).astype(np.float32)
        stored = np.clip(hu + 1024.0, 0, 4095).astype(np.uint16)
        stored[~fov] = 0
        volume[z] = stored
    return volume


def _dataset(arr):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "CT"
    ds.PatientName = "RLE^Bench"
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.set_pixel_data(arr, "MONOCHROME2", 12)
    return ds


def _write(arr, path: Path) -> None:
    from pydicom.uid import RLELossless

    ds = _dataset(arr)
    ds.compress(RLELossless, encoding_plugin="pydicom")
    tmp = path.with_suffix(".tmp")
    ds.save_as(tmp, enforce_file_format=True)
    os.replace(tmp, path)


def ensure_rle_files(
    outdir: str | Path = DEFAULT_DIR, frames: int = FRAMES
) -> tuple[Path, Path]:
    """Paths of the multi-frame file and the single-frame file, made if missing."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    multi = outdir / f"ct_rle_{frames}x{ROWS}x{COLUMNS}.dcm"
    single = outdir / f"ct_rle_1x{ROWS}x{COLUMNS}.dcm"
    if not multi.exists() or not single.exists():
        announce("RLE Lossless files", multi.parent)
        volume = ct_volume(frames)
        if not multi.exists():
            print(f"making {multi} (pydicom's RLE encoder, ~0.1 s/frame)...")
            _write(volume, multi)
        if not single.exists():
            _write(volume[0], single)
    return multi, single


def available(name: str) -> bool:
    """Whether pydicom can use the RLE decoding plugin `name` here."""
    if name == "dcmfast":
        try:
            import dcmfast
        except ImportError:
            return False
        dcmfast.register_decoder()
    from pydicom.pixels.decoders import RLELosslessDecoder

    return name in RLELosslessDecoder.available_plugins


def frame_bytes(path: str | Path) -> bytes:
    """The encoded first frame of `path`."""
    from pydicom import dcmread
    from pydicom.encaps import generate_frames

    ds = dcmread(path)
    return next(generate_frames(ds.PixelData, number_of_frames=1))


def core_decoders() -> dict:
    """name -> f(src) decoding one 512x512 16-bit frame with the bare function."""
    from pydicom.pixels.decoders.rle import _rle_decode_frame

    out = {
        "pydicom": lambda src: _rle_decode_frame(src, ROWS, COLUMNS, 1, 16),
    }
    try:
        from rle.rle import decode_frame as pylibjpeg_decode_frame
    except ImportError:
        pass
    else:
        out["pylibjpeg"] = lambda src: pylibjpeg_decode_frame(
            src, ROWS * COLUMNS, 16, "<"
        )
    try:
        from dcmfast._core import rle_decode_frame
    except ImportError:
        pass
    else:

        def dcmfast_core(src):
            decoded = rle_decode_frame(src, ROWS, COLUMNS, 1, 16)
            if decoded.error is not None:
                raise decoded.error
            return decoded.frame

        out["dcmfast"] = dcmfast_core
    return out

"""ML data loaders: every frame of a set of files, as numpy arrays, at memory speed.

``read_batch`` decodes many frames (native or RLE Lossless, from many files) into one
``(N, rows, columns[, samples])`` array in Rust, on several threads with the GIL
released. ``FrameDataset`` is a map-style dataset over every frame of a set of files
(multi-frame files expanded), built with :func:`dcmfast.scan`; it holds only plain data,
so it pickles and works with torch's ``DataLoader`` and worker processes.

Values are pydicom's: a raw frame equals ``pydicom.pixels.pixel_array(path, index=k)``
(in native byte order); with ``modality_lut``/``voi_lut`` a frame is float32 and equals
``apply_voi_lut(apply_modality_lut(arr, ds), ds, index=voi_index)`` (each step only when
asked for) cast with ``astype(np.float32)``, to the bit. Rust handles the plain cases
(rescale, Window Center/Width with LINEAR, LINEAR_EXACT or SIGMOID, in float64 as
numpy computes them); anything else (other codecs, YBR data, lookup-table sequences,
unusual values, broken files) is read by pydicom for that frame, so its results,
warnings and errors are pydicom's, the errors naming the file.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import threading
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any, Literal, Union

import numpy as np
from pydicom import config
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from dcmfast import _core
from dcmfast._pixel_functions import pixel_array
from dcmfast._reader import dcmread
from dcmfast._scan import TagSpec, column_specs, scan

PathArg = Union[str, "os.PathLike[str]"]
Item = Union[PathArg, tuple[PathArg, int]]

_FLOAT32 = np.dtype(np.float32)
# Batch arrays a FrameDataset keeps for reuse once nothing refers to them.
_POOL = 2
# The Image Pixel attributes a FrameDataset reads to size its frames.
_LAYOUT = (
    "NumberOfFrames",
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "BitsAllocated",
    "PixelRepresentation",
)


class _Options:
    """What to apply to frames: pydicom's modality LUT and/or VOI LUT (float32 out)."""

    __slots__ = ("modality_lut", "prefer_lut", "voi_index", "voi_lut")

    def __init__(
        self, modality_lut: bool, voi_lut: bool, voi_index: int, prefer_lut: bool
    ) -> None:
        if not isinstance(voi_index, int) or voi_index < 0:
            raise ValueError("voi_index must be an int >= 0")
        self.modality_lut = bool(modality_lut)
        self.voi_lut = bool(voi_lut)
        self.voi_index = voi_index
        self.prefer_lut = bool(prefer_lut)

    @property
    def as_float(self) -> bool:
        return self.modality_lut or self.voi_lut

    def __getstate__(self) -> tuple[bool, bool, int, bool]:
        return (self.modality_lut, self.voi_lut, self.voi_index, self.prefer_lut)

    def __setstate__(self, state: tuple[bool, bool, int, bool]) -> None:
        self.modality_lut, self.voi_lut, self.voi_index, self.prefer_lut = state


def read_batch(
    items: Iterable[Item],
    out: np.ndarray | None = None,
    *,
    modality_lut: bool = False,
    voi_lut: bool = False,
    voi_index: int = 0,
    prefer_lut: bool = True,
    workers: int | None = None,
) -> np.ndarray:
    """Frames of many files as one ``(N, rows, columns[, samples])`` array.

    `items` are ``(path, frame index)`` pairs, or paths (frame 0). Every frame must have
    the same shape (and, raw, the same sample type). Frames are read on `workers`
    threads (all cores by default) with the GIL released.

    Raw frames are pydicom's ``pixel_array(path, index=k)`` values in native byte
    order. With `modality_lut` and/or `voi_lut` they are float32:
    ``apply_modality_lut`` then ``apply_voi_lut(..., index=voi_index,
    prefer_lut=prefer_lut)`` as pydicom computes them, cast to float32.

    `out`, if given, is a writeable C-contiguous array of the batch's shape and dtype
    (float32 when processing, else the frames' integer dtype) that the frames are
    written into and which is returned.
    """
    requests = _requests(items)
    options = _Options(modality_lut, voi_lut, voi_index, prefer_lut)
    out_given = out is not None
    if out is None:
        if not requests:
            raise ValueError("no frames to read: give items or 'out'")
        shape, dtype = _frame_type(*requests[0], options)
        out = np.empty((len(requests), *shape), dtype)
    else:
        _check_batch(out, len(requests), options)
    if requests:
        _fill(requests, out, options, workers or 0, out_given=out_given)
    return out


def _requests(items: Iterable[Item]) -> list[tuple[str, int]]:
    if isinstance(items, (str, bytes, os.PathLike)):
        raise TypeError("items must be an iterable of paths or (path, index) pairs")
    requests = []
    for item in items:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise TypeError(
                    "items must be paths or (path, frame index) pairs, not a tuple"
                    f" of {len(item)}: {item!r}"
                )
            path, index = item
        else:
            path, index = item, 0
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"frame index must be an int, not {type(index).__name__}")
        if index < 0:
            raise ValueError(f"frame index must be >= 0, not {index}")
        path = path if type(path) is str else os.fsdecode(os.fspath(path))
        requests.append((path, int(index)))
    return requests


def _frame_type(
    path: str, index: int, options: _Options
) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype of frame `index` of `path` in a batch."""
    info = _core.frame_info(path)
    if info is None:
        arr = _pydicom_frame(path, index, options)
        return arr.shape, arr.dtype
    shape: tuple[int, ...] = (info.rows, info.columns)
    if info.samples_per_pixel != 1:
        shape = (*shape, info.samples_per_pixel)
    return shape, (_FLOAT32 if options.as_float else np.dtype(info.dtype))


def _check_batch(out: Any, count: int, options: _Options) -> None:
    if not isinstance(out, np.ndarray):
        raise TypeError(f"'out' must be a numpy.ndarray, not {type(out).__name__}")
    if options.as_float:
        if out.dtype != _FLOAT32:
            raise TypeError(f"'out' has dtype {out.dtype}, the frames are float32")
    elif out.dtype.kind not in "iu":
        raise TypeError(f"'out' has dtype {out.dtype}, the frames are integers")
    if not out.dtype.isnative:
        raise TypeError("'out' must be in native byte order")
    if out.ndim not in (3, 4) or out.shape[0] != count:
        raise ValueError(
            f"'out' has shape {out.shape}, the batch is ({count}, rows, columns"
            "[, samples])"
        )
    if not out.flags.c_contiguous:
        raise ValueError("'out' must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("'out' must be writeable")


def _fill(
    requests: list[tuple[str, int]],
    out: np.ndarray,
    options: _Options,
    workers: int,
    recent: _core.RecentFiles | None = None,
    out_given: bool = False,
) -> None:
    """Read `requests` into `out`; `out_given`: `out` is the caller's (so a frame that
    does not fit it is a wrong `out`, not a file unlike the first)."""
    rows, columns = out.shape[1:3]
    samples = out.shape[3] if out.ndim == 4 else 1
    flat = out.reshape(-1)
    if options.as_float:
        buffer, dtype = flat, None
    else:
        buffer, dtype = flat.view(np.uint8), out.dtype.str
    if options.as_float and config.use_DS_decimal:
        # pydicom's Decimal values take its own path (and raise there)
        fallbacks = dict.fromkeys(range(len(requests)), "use_DS_decimal")
        warned: dict[int, list[str]] = {}
    else:
        outcome = _core.read_frames(
            requests,
            buffer,
            rows=rows,
            columns=columns,
            samples_per_pixel=samples,
            dtype=dtype,
            modality_lut=options.modality_lut,
            voi_lut=options.voi_lut,
            voi_index=options.voi_index,
            workers=workers,
            recent=recent,
        )
        fallbacks, warned = outcome.fallbacks, outcome.warnings
    if warned:
        from pydicom.misc import warn_and_log

        for messages in warned.values():
            for message in messages:
                warn_and_log(message)
    for i in fallbacks:
        path, index = requests[i]
        arr = _pydicom_frame(path, index, options)
        target = out[i]
        if arr.shape != target.shape:
            raise ValueError(
                _misfit(path, index, "shape", arr.shape, target.shape, out_given)
            )
        if arr.dtype.newbyteorder("=") != target.dtype:
            raise TypeError(
                _misfit(path, index, "dtype", arr.dtype, target.dtype, out_given)
            )
        np.copyto(target, arr, casting="equiv")


def _misfit(
    path: str, index: int, what: str, frame: Any, batch: Any, out_given: bool
) -> str:
    """Why frame `index` of `path` does not fit the batch: blaming the caller's `out`
    when it was given, else the file (unlike the batch's first frame)."""
    if out_given:
        return (
            f"'out' has {what} {batch}, but frame {index} of {path} has {what} {frame}"
        )
    return f"{path}: frame {index} has {what} {frame}, the batch's frames are {batch}"


def _require_regular_file(path: str) -> None:
    """Raise OSError for a named pipe, socket or device: pydicom's open of one may
    block forever (a pipe with no writer). Anything else is left to pydicom."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # pydicom raises its own error
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    if stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a device"
    raise OSError(errno.EINVAL, f"not a regular file: {kind}", path)


def _pydicom_frame(path: str, index: int, options: _Options) -> np.ndarray:
    """Frame `index` of `path` the way pydicom makes it (native byte order); a failure
    is raised as pydicom's exception class with the path in its message."""
    _require_regular_file(path)
    try:
        arr = pixel_array(path, index=index)
        if options.as_float:
            ds = dcmread(path, stop_before_pixels=True)
            if options.modality_lut:
                arr = apply_modality_lut(arr, ds)
            if options.voi_lut:
                arr = apply_voi_lut(
                    arr, ds, index=options.voi_index, prefer_lut=options.prefer_lut
                )
            return arr.astype(_FLOAT32)
    except Exception as exc:
        named = _naming(exc, path, index)
        if named is exc:
            raise
        raise named from exc
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def _naming(exc: Exception, path: str, index: int) -> Exception:
    """`exc`, or one of its class whose message names the file and frame."""
    if isinstance(exc, OSError) and exc.filename is not None:
        return exc  # its message names the path already
    try:
        return type(exc)(f"{path} (frame {index}): {exc}")
    except Exception:  # noqa: BLE001 - a class that takes other arguments
        return exc


class FrameDataset:
    """A map-style dataset over every frame of a set of DICOM files.

    ``len(ds)`` is the number of frames (multi-frame files expanded, in file order);
    ``ds[i]`` is frame ``i`` as a numpy array, read from its file when asked for
    (raw: pydicom's values in native byte order; with `modality_lut`/`voi_lut`:
    float32, as :func:`read_batch` makes it). With `tags`, ``ds[i]`` is
    ``(frame, {name: value})``, the values those of :func:`dcmfast.scan` for the frame's
    file.

    `paths` is what :func:`dcmfast.scan` takes: files, directories (searched
    recursively), or an iterable of them. Files that are not DICOM or have no image
    (no Rows) raise ValueError, or are left out and listed in ``skipped`` with
    ``skip_invalid=True``.

    The dataset holds only plain data (paths, frame counts, tag values, options):
    construction is one parallel header scan, it pickles, and files are opened only
    when frames are read, in whichever process reads them, so torch's ``DataLoader``
    with worker processes works. ``ds.__getitems__(indices)`` (used by torch's
    ``DataLoader``) reads a batch of frames in one parallel call, into an array the
    dataset reuses once no frame from it is alive.

    Every frame must have one shape (and, raw, one sample type), so that batches
    collate: files that differ raise ValueError naming two of them, unless `shape`
    ``(rows, columns[, samples])`` chooses one, when the others are left out and listed
    in ``skipped``, or ``shape="any"`` accepts them all (frames are then read one by
    one or in batches of one shape: collate them yourself). A path that does not
    exist raises FileNotFoundError; paths with no files, or no images, raise
    ValueError.

    `workers`: threads for the scan and for batch reads (all cores by default; in
    DataLoader worker processes 1 is usually best).
    """

    def __init__(
        self,
        paths: PathArg | Iterable[PathArg],
        tags: Iterable[TagSpec] = (),
        *,
        modality_lut: bool = False,
        voi_lut: bool = False,
        voi_index: int = 0,
        prefer_lut: bool = True,
        workers: int | None = None,
        skip_invalid: bool = False,
        shape: Sequence[int] | Literal["any"] | None = None,
    ) -> None:
        self.options = _Options(modality_lut, voi_lut, voi_index, prefer_lut)
        self._start_process_state()
        self.workers = workers
        specs = column_specs(tags)
        given = _existing_paths(paths)
        result = scan(given, [*_LAYOUT, *specs], workers=workers)
        if given and not result.paths:
            raise ValueError(f"no files in {', '.join(map(str, given))}")
        if shape is None or shape == "any":
            chosen = None
        else:
            chosen = tuple(int(n) for n in shape)
        self.tag_names = list(specs)
        user = [result[name] for name in specs]
        layout = [result[name] for name in _LAYOUT]
        bad = dict(result.errors)
        self.paths: list[str] = []
        self.skipped: list[tuple[str, str]] = []
        self._ends: list[int] = []
        self._types: list[tuple[tuple[int, ...], str] | None] = []
        self._values: list[tuple[Any, ...]] = []
        other_shapes: list[tuple[str, str]] = []
        # Each kept file's frame kind: its shape, and raw its dtype where known.
        kinds: list[tuple[str, str]] = []
        total = 0
        for row, path in enumerate(result.paths):
            frames, rows, columns, samples, bits, signed = (c[row] for c in layout)
            reason = bad.get(path)
            if reason is None and rows is None:
                reason = "no Rows: not an image"
            if reason is not None:
                self.skipped.append((path, reason))
                continue
            frame_shape = (
                (rows, columns) if samples in (None, 1) else (rows, columns, samples)
            )
            if chosen is not None and frame_shape != chosen:
                other_shapes.append((path, f"frame shape {frame_shape}, not {chosen}"))
                continue
            # pydicom reads a missing, zero or empty Number of Frames as 1
            total += frames if type(frames) is int and frames > 0 else 1
            self.paths.append(path)
            self._ends.append(total)
            frame_type = _frame_type_of(rows, columns, samples, bits, signed)
            self._types.append(frame_type)
            self._values.append(tuple(c[row] for c in user))
            kind = str(frame_shape)
            if frame_type is not None and not self.options.as_float:
                kind += f" {np.dtype(frame_type[1]).name}"
            kinds.append((path, kind))
        if self.skipped and not skip_invalid:
            shown = "; ".join(f"{p}: {r}" for p, r in self.skipped[:5])
            more = len(self.skipped) - 5
            raise ValueError(
                f"{len(self.skipped)} files are not DICOM images ({shown}"
                + (f"; and {more} more" if more > 0 else "")
                + "); pass skip_invalid=True to leave them out"
            )
        # Files of another frame shape than the one chosen are left out, and listed.
        self.skipped.extend(other_shapes)
        if given and not self.paths:
            raise ValueError(
                f"no DICOM images in {', '.join(map(str, given))}"
                + (f" with frame shape {chosen}" if chosen else "")
                + f" ({len(self.skipped)} files skipped)"
            )
        if shape != "any":
            _check_one_kind(kinds)

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __repr__(self) -> str:
        return f"<FrameDataset: {len(self)} frames of {len(self.paths)} files>"

    def locate(self, i: int) -> tuple[str, int]:
        """``(path, frame index in that file)`` of frame `i`."""
        row, index = self._where(i)
        return self.paths[row], index

    def tags(self, i: int) -> dict[str, Any]:
        """The chosen tags' values for frame `i` (its file's)."""
        row, _ = self._where(i)
        return dict(zip(self.tag_names, self._values[row]))

    def _where(self, i: Any) -> tuple[int, int]:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"frame indices are ints, not {type(i).__name__}")
        n = len(self)
        i = int(i) + n if i < 0 else int(i)
        if not 0 <= i < n:
            raise IndexError(f"frame {i} is out of range for {n} frames")
        row = bisect_right(self._ends, i)
        return row, i - (self._ends[row - 1] if row else 0)

    def __getitem__(self, i: int) -> Any:
        row, index = self._where(i)
        return self._sample(row, self._read([(row, index)])[0])

    def __getitems__(self, indices: Sequence[int]) -> list[Any]:
        """Frames `indices` (read as one parallel batch when they share a shape and
        type), as ``ds[i]`` gives each."""
        where = [self._where(i) for i in indices]
        frames = self._read(where)
        return [self._sample(row, frame) for (row, _), frame in zip(where, frames)]

    def _sample(self, row: int, frame: np.ndarray) -> Any:
        if not self.tag_names:
            return frame
        return frame, dict(zip(self.tag_names, self._values[row]))

    def _read(self, where: list[tuple[int, int]]) -> list[np.ndarray]:
        requests = [(self.paths[row], index) for row, index in where]
        kinds = {self._types[row] for row, _ in where}
        kind = kinds.pop() if len(kinds) == 1 else None
        if kind is None:  # the table cannot tell: each file decides
            return [self._batch([r], None)[0] for r in requests]
        shape, dtype = kind
        dtype = _FLOAT32 if self.options.as_float else np.dtype(dtype)
        return list(self._batch(requests, self._buffer(len(requests), shape, dtype)))

    def _buffer(
        self, count: int, shape: tuple[int, ...], dtype: np.dtype
    ) -> np.ndarray:
        """An array for `count` frames: part of one this dataset made before that
        nothing refers to any more (no frame handed out from it is alive: each holds
        its base), so it is reused as malloc would reuse freed memory, but with its
        pages still mapped; else a new one. A fresh batch-sized array is often new
        pages from the kernel, zeroed and faulted in as they are written: slower than
        reading the frames."""
        with self._lock:
            for arr in self._pool:
                # references: the pool, `arr`, getrefcount's argument
                if (
                    arr.shape[1:] == shape
                    and arr.dtype == dtype
                    and len(arr) >= count
                    and sys.getrefcount(arr) == 3
                ):
                    return arr[:count]  # referring to it claims it
            arr = np.empty((count, *shape), dtype)
            if len(self._pool) < _POOL:
                self._pool.append(arr)
            return arr

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_pool"], state["_lock"], state["_recent"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._start_process_state()

    def _start_process_state(self) -> None:
        """What each process keeps for itself, never pickled: reusable batch arrays
        and the multi-frame files it read lately."""
        self._pool: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._recent = _core.RecentFiles()

    def _batch(
        self, requests: list[tuple[str, int]], out: np.ndarray | None
    ) -> np.ndarray:
        o = self.options
        if out is None:
            shape, dtype = _frame_type(*requests[0], o)
            out = np.empty((len(requests), *shape), dtype)
        _fill(requests, out, o, self.workers or 0, self._recent)
        return out


def _check_one_kind(kinds: list[tuple[str, str]]) -> None:
    """Frames batched together must share a shape (and raw, a sample type): say so
    now, naming two files that differ, rather than when collating fails."""
    first_path, first = kinds[0] if kinds else ("", "")
    for path, kind in kinds:
        if kind != first:
            raise ValueError(
                "these files' frames differ, so they cannot be batched together:"
                f" {first_path} is {first}, {path} is {kind}; pass"
                " shape=(rows, columns[, samples]) to keep the files of one shape"
                " (or make one FrameDataset per shape)"
            )


def _existing_paths(paths: PathArg | Iterable[PathArg]) -> list[PathArg]:
    """`paths` as a list, every one of which exists (else FileNotFoundError names it)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    given = list(paths)
    for path in given:
        if not os.path.exists(path):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    return given


def _frame_type_of(
    rows: Any, columns: Any, samples: Any, bits: Any, signed: Any
) -> tuple[tuple[int, ...], str] | None:
    """A frame's (shape, raw dtype) from its scanned Image Pixel values, when they are
    the plain values the Rust reader accepts; else None (the file decides)."""
    values = (rows, columns, samples, bits, signed)
    if any(type(v) is not int for v in values):
        return None
    if bits not in (8, 16, 32, 64) or signed not in (0, 1) or samples not in (1, 3):
        return None
    if not (0 < rows < 65536 and 0 < columns < 65536):
        return None
    shape = (rows, columns) if samples == 1 else (rows, columns, samples)
    return shape, f"{'|' if bits == 8 else '<'}{'ui'[signed]}{bits // 8}"

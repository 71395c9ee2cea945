"""Pixel data as pydicom 3.0.2 returns it, without copying what need not be copied.

``pixel_array`` and ``iter_pixels`` take pydicom's arguments and follow its pipeline
(``Decoder.as_array`` / ``iter_array``): pydicom's runner validates the options and
data, pydicom's functions convert colour spaces. dcmfast only replaces how the bytes
become an array, for the common cases:

- native data: a view of a private copy-on-write mapping of the file (writeable, and
  writes never reach the file), its unused bits corrected (in Rust, as pydicom's
  ``_correct_unused_bits``) only if the correction changes a value; the plainest data
  (Rust's ``native_layout`` says which) without pydicom's runner at all;
- RLE Lossless with one fragment per frame: decoded in Rust, frames in parallel, straight
  into the final array.

Anything else (other codecs, 1-bit or YBR_FULL_422 native data, ``view_only``, frames
spread over fragments, corrupt RLE frames, datasets not read by dcmfast) goes to
pydicom's own functions, so its results, warnings and errors are pydicom's.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from struct import unpack
from typing import Any

import numpy as np
from pydicom import config
from pydicom.datadict import keyword_dict
from pydicom.dataset import Dataset
from pydicom.pixels import get_decoder
from pydicom.pixels import iter_pixels as _pydicom_iter_pixels
from pydicom.pixels import pixel_array as _pydicom_pixel_array
from pydicom.pixels.decoders.base import DecodeRunner
from pydicom.pixels.utils import as_pixel_options, get_image_pixel_ids
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
)

from dcmfast._core import ElementDict, correct_unused_bits, native_layout
from dcmfast._warnings import caught_warnings

# pydicom's order of preference when a dataset has more than one.
_KEYWORDS = {
    keyword: keyword_dict[keyword]
    for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
}
_NUMBER_OF_FRAMES = keyword_dict["NumberOfFrames"]
# The RLE decoders whose results (values and warnings) dcmfast's match bit for bit.
_RLE_PLUGINS = ("", "dcmfast", "pydicom")


class _Fallback(Exception):
    """The data needs pydicom's own pipeline."""


@contextmanager
def _held_warnings() -> Iterator[None]:
    """Hold warnings back: re-emitted in order if the block finishes or raises,
    dropped on ``_Fallback`` (pydicom's pipeline then emits them itself)."""
    failure: BaseException | None = None
    with caught_warnings() as held:
        try:
            yield
        except _Fallback:
            raise
        except BaseException as exc:  # noqa: BLE001 - re-raised after the warnings
            failure = exc
    _emit(held)
    if failure is not None:
        raise failure


def _emit(held: list[warnings.WarningMessage]) -> None:
    for w in held:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


class _Source:
    """One dataset's pixel data value, set up as pydicom's decoder sets it up."""

    def __init__(
        self,
        ds: Dataset,
        path: str | None,
        from_file: bool,
        decoding_plugin: str,
        kwargs: dict[str, Any],
    ) -> None:
        elements = ds._dict
        if type(elements) is not ElementDict or kwargs.get("view_only"):
            raise _Fallback
        tsyntax = _uid(getattr(ds, "file_meta", {}).get("TransferSyntaxUID", None))
        present = [kw for kw, tag in _KEYWORDS.items() if tag in elements]
        if not tsyntax or not present or (len(present) > 1 and not from_file):
            raise _Fallback
        if from_file and tsyntax.is_deflated:
            raise _Fallback  # pydicom reads the file as it is, without inflating it
        # Reading a file, pydicom stops at the first pixel data element.
        keyword = min(present, key=_KEYWORDS.__getitem__) if from_file else present[0]
        region = elements.pixel_region(_KEYWORDS[keyword])
        if region is None:
            raise _Fallback
        try:
            decoder = get_decoder(tsyntax)
        except NotImplementedError:
            raise _Fallback from None
        rle = tsyntax == RLELossless
        if not (decoder.is_native or rle and decoding_plugin in _RLE_PLUGINS):
            raise _Fallback
        # Values pydicom warns about and replaces: left to pydicom.
        if _NUMBER_OF_FRAMES in elements and ds.get("NumberOfFrames") in (None, 0):
            raise _Fallback

        opts = as_pixel_options(ds, **kwargs)
        runner = DecodeRunner(tsyntax)
        runner.set_source(region)
        if not from_file:
            # What set_source(ds) does: options from the dataset, then its own.
            runner.set_options(**as_pixel_options(ds))
        runner.set_option("pixel_keyword", keyword)
        if region.vr is not None:
            runner.set_option("pixel_vr", region.vr)
        runner.set_options(**opts)
        runner.set_decoders(decoder._validate_plugins(decoding_plugin))
        if from_file:
            runner._validate_options()  # pydicom reads a file: no buffer to check
        else:
            runner.validate()

        self.runner = runner
        self.region = region
        self.path = path
        self.from_file = from_file
        self.native = decoder.is_native
        if self.native and (
            runner.bits_allocated == 1
            or runner.photometric_interpretation == "YBR_FULL_422"
            or runner._test_for("be_swap_ow")
        ):
            raise _Fallback
        if not self.native:
            self.ranges = self._frame_ranges()

    def _frame_ranges(self) -> list[tuple[int, int]]:
        runner = self.runner
        if runner.bits_allocated % 8:
            raise _Fallback
        offsets = lengths = None
        if runner.extended_offsets:
            offsets, lengths = runner.extended_offsets
            if isinstance(offsets, bytes):
                offsets = unpack(f"<{len(offsets) // 8}Q", offsets)
            if isinstance(lengths, bytes):
                lengths = unpack(f"<{len(lengths) // 8}Q", lengths)
            offsets, lengths = list(offsets), list(lengths)
        ranges = self.region.frame_ranges(
            runner.number_of_frames, True, offsets=offsets, lengths=lengths
        )
        if ranges is None:
            raise _Fallback
        return ranges

    def frame_shape(self) -> tuple[int, ...]:
        r = self.runner
        spp = r.samples_per_pixel
        return (r.rows, r.columns) if spp == 1 else (r.rows, r.columns, spp)

    def indices(self) -> range:
        return range(self.runner.number_of_frames)

    def array(self, index: int | None, raw: bool, out: Any = None) -> np.ndarray:
        """pydicom's ``Decoder.as_array`` for the frame at `index` (all when None)."""
        runner = self.runner
        as_frame = index is not None
        frames = 1 if as_frame else runner.number_of_frames
        shape = self.frame_shape() if frames == 1 else (frames, *self.frame_shape())
        if self.native:
            arr = runner.reshape(self._native(index), as_frame=as_frame)
        else:
            # Decoded straight into `out` when processing cannot change the values.
            target = None
            if out is not None and (raw or not _converts_colour(runner)):
                target = _checked_out(out, shape, runner.pixel_dtype)
            arr = self._rle(index, shape, target)
            if target is not None:
                return target
        if not raw:
            arr, _ = runner.process(arr)
        if out is not None:
            np.copyto(_checked_out(out, arr.shape, arr.dtype), arr, casting="no")
            return out
        return arr

    def _native(self, index: int | None) -> np.ndarray:
        runner = self.runner
        frame_bytes = runner.frame_length(unit="bytes")
        if index is None:
            start, length = 0, frame_bytes * runner.number_of_frames
        else:
            start, length = index * frame_bytes, frame_bytes
            available = (
                frame_bytes * runner.number_of_frames
                if self.from_file
                else len(self.region)
            )
            if start + length > available:
                raise ValueError(
                    f"There is insufficient pixel data to contain {index + 1} frames"
                )
        if start + length > len(self.region):
            raise _Fallback  # a short file: pydicom's reads decide what happens
        dtype = runner.pixel_dtype
        arr = self.region.array(start, length)
        if runner._test_for("shift_correction"):
            correct_unused_bits(arr, dtype.str, runner.bits_stored)
        return arr.view(dtype)

    def _rle(
        self, index: int | None, shape: tuple[int, ...], out: np.ndarray | None
    ) -> np.ndarray:
        runner = self.runner
        if index is None:
            ranges = self.ranges
        elif index < len(self.ranges):
            ranges = [self.ranges[index]]
        else:
            raise _Fallback
        arr = np.empty(shape, runner.pixel_dtype) if out is None else out
        # pydicom's _correct_unused_bits, applied to each frame as it is decoded
        bits_stored = None
        if runner._test_for("shift_correction"):
            bits_stored = runner.bits_stored
        padding = self.region.rle_decode(
            ranges,
            runner.rows,
            runner.columns,
            runner.samples_per_pixel,
            runner.bits_allocated,
            arr.reshape(-1).view(np.uint8),
            runner.get_option("rle_segment_order", ">"),
            dtype=arr.dtype.str,
            bits_stored=bits_stored,
        )
        if padding is None:
            raise _Fallback  # a frame pydicom's plugins must fail on, their way
        for messages in padding:
            for message in messages:
                _warn_and_log(message)
        return arr


# Uncompressed transfer syntaxes whose data dcmfast views (deflated: a dataset's
# inflated bytes, copied).
_NATIVE = frozenset(
    {
        ExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
        ExplicitVRBigEndian,
        DeflatedExplicitVRLittleEndian,
    }
)
_MODULE = (
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "SamplesPerPixel",
)


def _uid(value: Any) -> UID | None:
    """A Transfer Syntax UID value as pydicom's pixel pipeline takes it: an element
    written with another VR (LO, SH, CS, ...) holds a ``str``, which it makes a UID."""
    if type(value) is UID or not value or not isinstance(value, str):
        return value
    return UID(value)


def _plain_native(
    ds: Dataset, index: int | None, path: str | None, from_file: bool
) -> np.ndarray | None:
    """pydicom's array for the plainest native pixel data with default options, or
    None. "Plain" is decided in Rust (``native_layout``) from the dataset's values:
    where pydicom's pipeline validates silently and only reshapes and corrects unused
    bits, done here without its machinery."""
    elements = ds._dict
    if type(elements) is not ElementDict or _KEYWORDS["FloatPixelData"] in elements:
        return None
    if _KEYWORDS["DoubleFloatPixelData"] in elements:
        return None
    tsyntax = _uid(
        ds.file_meta.get("TransferSyntaxUID") if "file_meta" in ds.__dict__ else None
    )
    if (
        tsyntax not in _NATIVE
        or from_file
        and tsyntax == DeflatedExplicitVRLittleEndian
    ):
        return None
    region = elements.pixel_region(_KEYWORDS["PixelData"])
    if region is None:
        return None
    rows, columns, bits, stored, signed, spp = (getattr(ds, kw, None) for kw in _MODULE)
    photometric = getattr(ds, "PhotometricInterpretation", None)
    planar = None
    if spp == 3 and photometric == "RGB":
        # Read only where the layout depends on it: reading converts it (and may warn).
        planar = getattr(ds, "PlanarConfiguration", None)
    frames = 1  # pydicom's reading of an absent Number of Frames
    if _NUMBER_OF_FRAMES in elements:
        frames = getattr(ds, "NumberOfFrames", None)
        frames = frames if isinstance(frames, int) else None
    layout = native_layout(
        rows=_int(rows),
        columns=_int(columns),
        samples_per_pixel=_int(spp),
        bits_allocated=_int(bits),
        bits_stored=_int(stored),
        pixel_representation=_int(signed),
        photometric_interpretation=(
            photometric if isinstance(photometric, str) else None
        ),
        planar_configuration=_int(planar),
        number_of_frames=frames,
        little_endian=tsyntax.is_little_endian,
        pixel_vr=region.vr,
        pixel_length=len(region),
    )
    if layout is None:
        return None
    frames, frame_bytes = layout.number_of_frames, layout.frame_length
    if index is None:
        start, length = 0, frame_bytes * frames
    elif 0 <= index < frames:
        start, length, frames = index * frame_bytes, frame_bytes, 1
    else:
        return None
    arr = region.array(start, length)
    if layout.unused_bits:
        # pydicom's _correct_unused_bits, in the array's private pages
        correct_unused_bits(arr, layout.dtype, layout.bits_stored)
    arr = arr.view(layout.dtype)
    rows, columns, spp = layout.rows, layout.columns, layout.samples_per_pixel
    if spp == 1:
        arr = (
            arr.reshape(rows, columns)
            if frames == 1
            else arr.reshape(-1, rows, columns)
        )
    elif not layout.planar:
        shape = (rows, columns, spp)
        arr = arr.reshape(shape) if frames == 1 else arr.reshape(-1, *shape)
    elif frames == 1:
        arr = arr.reshape(spp, rows, columns).transpose(1, 2, 0)
    else:
        arr = arr.reshape(-1, spp, rows, columns).transpose(0, 2, 3, 1)
    return arr


def _int(value: Any) -> int | None:
    """An Image Pixel value as the layout rule takes it: a plain int, else None."""
    return value if type(value) is int else None


def _warn_and_log(message: str) -> None:
    from pydicom.misc import warn_and_log

    warn_and_log(message)


def _converts_colour(runner: DecodeRunner) -> bool:
    return bool(
        runner.get_option("force_rgb", False)
        or runner.get_option("force_ybr", False)
        or runner.photometric_interpretation in ("YBR_FULL", "YBR_FULL_422")
    )


def _checked_out(out: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """`out` if it can take an array of `shape` and `dtype` as is, else a clear error."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"'out' must be a numpy.ndarray, not {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"'out' has dtype {out.dtype}, the pixel data is {dtype}")
    if out.shape != tuple(shape):
        raise ValueError(
            f"'out' has shape {out.shape}, the pixel data is {tuple(shape)}"
        )
    if not out.flags.c_contiguous:
        raise ValueError("'out' must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("'out' must be writeable")
    return out


Read = Callable[[str], Dataset]


def _dataset_of(src: Any, read: Read | None) -> tuple[Dataset | None, str | None, bool]:
    """(dataset, path, from_file) for `src`, a path read with `read`; no dataset when
    pydicom must read it."""
    if isinstance(src, Dataset):
        path = getattr(src, "filename", None)
        return src, path if isinstance(path, str) else None, False
    if read is None or not isinstance(src, (str, os.PathLike)):
        return None, None, True
    path = os.fspath(src)
    with caught_warnings() as held:
        try:
            ds = read(path)
        except Exception:  # noqa: BLE001 - pydicom's reading raises its own way
            return None, None, True
    # Anything dcmfast's reader warns about, pydicom's reader decides about.
    return (None if held else ds), path, True


def _source(
    ds: Dataset, path: str | None, from_file: bool, plugin: str, kwargs: dict[str, Any]
) -> _Source | None:
    try:
        with _held_warnings():
            return _Source(ds, path, from_file, plugin, kwargs)
    except _Fallback:
        return None


def pixel_array(
    src: Any,
    read: Read | None,
    /,
    *,
    ds_out: Dataset | None = None,
    specific_tags: list[int] | None = None,
    index: int | None = None,
    raw: bool = False,
    decoding_plugin: str = "",
    out: np.ndarray | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """:func:`pydicom.pixels.pixel_array`, with the same arguments and results; a
    path is read with `read` (None: by pydicom). See ``dcmfast.pixel_array``."""
    if ds_out is None and (index is None or index >= 0):
        ds, path, from_file = _dataset_of(src, read)
        if ds is not None:
            arr = None
            if not kwargs and not raw:
                arr = _plain_native(ds, index, path, from_file)
            if arr is None:
                source = _source(ds, path, from_file, decoding_plugin, kwargs)
                if source is not None:
                    # Nothing in `array` warns before it can fall back: no holding.
                    try:
                        return source.array(index, raw, out)
                    except _Fallback:
                        pass
            elif out is None:
                return arr
            else:
                np.copyto(_checked_out(out, arr.shape, arr.dtype), arr, casting="no")
                return out
    arr = _pydicom_pixel_array(
        src,
        ds_out=ds_out,
        specific_tags=specific_tags,
        index=index,
        raw=raw,
        decoding_plugin=decoding_plugin,
        **kwargs,
    )
    if out is None:
        return arr
    np.copyto(_checked_out(out, arr.shape, arr.dtype), arr, casting="no")
    return out


def iter_pixels(
    src: Any,
    read: Read | None,
    /,
    *,
    ds_out: Dataset | None = None,
    specific_tags: list[int] | None = None,
    indices: Iterable[int] | None = None,
    raw: bool = False,
    decoding_plugin: str = "",
    **kwargs: Any,
) -> Iterator[np.ndarray]:
    """:func:`pydicom.pixels.iter_pixels`, with the same arguments and results; a
    path is read with `read` (None: by pydicom). See ``dcmfast.iter_pixels``."""
    source = None
    if ds_out is None:
        ds, path, from_file = _dataset_of(src, read)
        if ds is not None:
            source = _source(ds, path, from_file, decoding_plugin, kwargs)
    if source is None:
        yield from _pydicom_iter_pixels(
            src,
            ds_out=ds_out,
            specific_tags=specific_tags,
            indices=indices,
            raw=raw,
            decoding_plugin=decoding_plugin,
            **kwargs,
        )
        return
    wanted = list(indices) if indices else list(source.indices())
    for n, index in enumerate(wanted):
        try:
            arr = source.array(index, raw)
        except _Fallback:
            # pydicom decodes the rest (and raises for this frame its way).
            yield from _pydicom_iter_pixels(
                src,
                indices=wanted[n:],
                raw=raw,
                decoding_plugin=decoding_plugin,
                **kwargs,
            )
            return
        yield arr


def _pixel_ids(ds: Dataset) -> dict[str, int]:
    """``get_image_pixel_ids(ds)``, without reading pixel data still in the file: an
    unconverted value cannot have changed (changing it converts or replaces it)."""
    elements = ds._dict
    if type(elements) is not ElementDict:
        return get_image_pixel_ids(ds)
    ids = {}
    for keyword, tag in _ID_KEYWORDS:
        if tag not in elements:
            ids[keyword] = id(None)  # what getattr(ds, keyword, None) gives
        elif tag in _PIXEL_TAGS and elements.pixel_region(tag) is not None:
            ids[keyword] = 0
        else:
            ids[keyword] = id(getattr(ds, keyword, None))
    return ids


# The elements get_image_pixel_ids looks at, in its order.
_ID_KEYWORDS = tuple(
    (keyword, keyword_dict[keyword])
    for keyword in (
        "SamplesPerPixel",
        "PhotometricInterpretation",
        "PlanarConfiguration",
        "NumberOfFrames",
        "Rows",
        "Columns",
        "BitsAllocated",
        "BitsStored",
        "PixelRepresentation",
        "FloatPixelData",
        "DoubleFloatPixelData",
        "PixelData",
    )
)
_PIXEL_TAGS = frozenset(_KEYWORDS.values())


class PixelDataMixin:
    """``Dataset.convert_pixel_data`` (which ``pixel_array`` calls) through dcmfast's
    pixel path, with pydicom's caching and cache resets."""

    def convert_pixel_data(self, handler_name: str = "") -> None:
        opts = self._pixel_array_opts.copy()
        if config._use_future or handler_name or opts.get("use_pdh"):
            super().convert_pixel_data(handler_name)  # type: ignore[misc]
            return
        if self._pixel_array is not None and self._pixel_id == _pixel_ids(self):
            return
        del opts["use_pdh"]
        opts["decoding_plugin"] = opts.get("decoding_plugin", "")
        self._pixel_array = pixel_array(self, None, **opts)
        self._pixel_id = _pixel_ids(self)

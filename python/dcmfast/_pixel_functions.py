"""``pixel_array`` and ``iter_pixels``: pydicom.pixels' two functions, a path read by
dcmfast's ``dcmread`` (the pixel pipeline itself, in ``_pixels``, reads no files)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from dcmfast import _pixels
from dcmfast._reader import dcmread


def pixel_array(
    src: Any,
    *,
    ds_out: Dataset | None = None,
    specific_tags: list[int] | None = None,
    index: int | None = None,
    raw: bool = False,
    decoding_plugin: str = "",
    out: np.ndarray | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """:func:`pydicom.pixels.pixel_array`, with the same arguments and results.

    `out`, if given, is a writeable C-contiguous array of the result's dtype and shape
    that the pixel data is written into (and returned); RLE frames are decoded
    straight into it.
    """
    return _pixels.pixel_array(
        src,
        dcmread,
        ds_out=ds_out,
        specific_tags=specific_tags,
        index=index,
        raw=raw,
        decoding_plugin=decoding_plugin,
        out=out,
        **kwargs,
    )


def iter_pixels(
    src: Any,
    *,
    ds_out: Dataset | None = None,
    specific_tags: list[int] | None = None,
    indices: Iterable[int] | None = None,
    raw: bool = False,
    decoding_plugin: str = "",
    **kwargs: Any,
) -> Iterator[np.ndarray]:
    """:func:`pydicom.pixels.iter_pixels`, with the same arguments and results: one
    frame at a time, each read (or decoded) only when reached."""
    yield from _pixels.iter_pixels(
        src,
        dcmread,
        ds_out=ds_out,
        specific_tags=specific_tags,
        indices=indices,
        raw=raw,
        decoding_plugin=decoding_plugin,
        **kwargs,
    )

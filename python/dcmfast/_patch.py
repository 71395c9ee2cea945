"""``patch_pydicom()``: make code that calls ``pydicom.dcmread`` get dcmfast unedited.

pydicom modules that imported ``dcmread`` by name hold their own reference, so each
is rebound; the originals are kept for ``unpatch_pydicom()`` and for dcmfast's own
fallback, which always calls pydicom's real reader.
"""

from __future__ import annotations

import importlib
from typing import Any

from dcmfast._reader import _pydicom_dcmread, dcmread
from dcmfast._rle import register_decoder, unregister_decoder

# Modules whose ``dcmread`` attribute is pydicom's reader.
_MODULES = ("pydicom", "pydicom.filereader", "pydicom.fileset", "pydicom.pixels.utils")


def _targets() -> list[Any]:
    modules = []
    for name in _MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            continue
    return [
        m for m in modules if getattr(m, "dcmread", None) in (_pydicom_dcmread, dcmread)
    ]


def patch_pydicom() -> None:
    """Route ``pydicom.dcmread`` (and pydicom's internal uses of it) to dcmfast, and
    make dcmfast pydicom's first-choice RLE Lossless decoder."""
    for module in _targets():
        module.dcmread = dcmread
    register_decoder()


def unpatch_pydicom() -> None:
    """Undo :func:`patch_pydicom`."""
    for module in _targets():
        module.dcmread = _pydicom_dcmread
    unregister_decoder()


def is_patched() -> bool:
    """True while pydicom's ``dcmread`` is dcmfast's."""
    import pydicom

    return pydicom.dcmread is dcmread

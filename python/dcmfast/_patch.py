"""``patch_pydicom()``: make code that calls ``pydicom.dcmread`` get dcmfast unedited.

pydicom modules that imported ``dcmread`` by name hold their own reference
(``pydicom.fileset``, ``pydicom.examples``, ``pydicom.dicomio``, ``pydicom.cli.main``,
...), so each one loaded is rebound; modules imported later bind the patched
``pydicom.filereader.dcmread``. The originals are kept for ``unpatch_pydicom()`` and
for dcmfast's own fallback, which always calls pydicom's real reader.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from pydicom.filereader import dcmread as _pydicom_dcmread

from dcmfast._reader import dcmread
from dcmfast._rle import register_decoder, unregister_decoder

# Imported (if not yet) so that they are rebound even when loaded lazily later on.
_MODULES = ("pydicom", "pydicom.filereader", "pydicom.fileset")


def _targets() -> list[Any]:
    for name in _MODULES:
        importlib.import_module(name)
    modules = [
        module
        for name, module in list(sys.modules.items())
        if name == "pydicom" or name.startswith("pydicom.")
    ]
    # vars(): a module's __getattr__ (pydicom.examples has one) is not asked.
    return [m for m in modules if vars(m).get("dcmread") in (_pydicom_dcmread, dcmread)]


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

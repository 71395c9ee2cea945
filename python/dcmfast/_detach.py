"""Writing a file this process has mapped must not crash it or change what it read.

dcmfast keeps header values as owned bytes, but pixel data (and other bulk values) of a
file read by path may stay in a mapping of the file, and native pixel arrays may view
one. Truncating a mapped file (as ``open(path, "wb")`` does) would make the next touch
of those pages kill the process with SIGBUS. So before pydicom opens a path for writing
(``dcmwrite``, ``Dataset.save_as``, ``FileSet.write``), every live mapping of that file
is detached: its pages are replaced, at the same addresses, by private memory holding
the same bytes. This is installed when dcmfast is imported, whether or not
``patch_pydicom()`` is called, and changes nothing else about pydicom's writers.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable

import pydicom.dicomio  # loaded, so that its dcmwrite is wrapped too
import pydicom.filewriter
from pydicom.fileset import FileSet

from dcmfast import _core


def _detaching(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def dcmwrite(filename: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(filename, (str, os.PathLike)):
            _core.detach_file(os.fspath(filename))
        return write(filename, *args, **kwargs)

    dcmwrite.__dcmfast_detaching__ = write  # type: ignore[attr-defined]
    return dcmwrite


def _detaching_all(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def method(*args: Any, **kwargs: Any) -> Any:
        # A File-set moves and rewrites files it names only as it goes.
        _core.detach_all()
        return write(*args, **kwargs)

    method.__dcmfast_detaching__ = write  # type: ignore[attr-defined]
    return method


def install() -> None:
    """Wrap pydicom's writers (once): one wrapper of ``dcmwrite`` given to every loaded
    pydicom module that holds it by name (``Dataset.save_as`` looks it up on
    ``pydicom``; modules imported later take ``pydicom.filewriter``'s)."""
    write = pydicom.filewriter.dcmwrite
    if not hasattr(write, "__dcmfast_detaching__"):
        wrapped = _detaching(write)
        for name, module in list(sys.modules.items()):
            if (
                name.split(".")[0] == "pydicom"
                and vars(module).get("dcmwrite") is write
            ):
                module.dcmwrite = wrapped
    if not hasattr(FileSet.write, "__dcmfast_detaching__"):
        FileSet.write = _detaching_all(FileSet.write)  # type: ignore[method-assign]

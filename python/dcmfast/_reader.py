"""``dcmread``: pydicom's reader, with the element walk done in Rust.

Files the Rust walk describes exactly take the fast path. Anything it reports as
irregular (truncation inside a sequence, a VR switch pydicom warns about, a missing
delimiter, ...) is read by pydicom's own reader, so warnings and exceptions are
pydicom's by construction.
"""

from __future__ import annotations

import io
import math
import os
from typing import Any, BinaryIO

import pydicom.uid
from pydicom import config
from pydicom.charset import convert_encodings
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import dcmread as _pydicom_dcmread
from pydicom.fileutil import path_from_pathlike
from pydicom.misc import size_in_bytes
from pydicom.tag import Tag
from pydicom.values import convert_string

from dcmfast import _core
from dcmfast._dataset import PYDICOM, ElementFactory, FileDataset

_CHARSET = Tag("SpecificCharacterSet")
_TRANSFER_SYNTAX = Tag("TransferSyntaxUID")


def dcmread(
    fp: str | os.PathLike[str] | BinaryIO,
    defer_size: str | float | None = None,
    stop_before_pixels: bool = False,
    force: bool = False,
    specific_tags: list[Any] | None = None,
) -> FileDataset:
    """Read a DICOM file as :func:`pydicom.dcmread` does, with the same arguments.

    Returns a :class:`pydicom.dataset.FileDataset` (a dcmfast subclass) whose
    elements are converted only when accessed.
    """
    if type(fp) is not str:
        fp = path_from_pathlike(fp)
    if not isinstance(fp, str) and (
        fp is None
        or not hasattr(fp, "read")
        or not hasattr(fp, "seek")
        or not hasattr(fp, "tell")
    ):
        raise TypeError(
            "dcmread: Expected a file path, file-like or readable buffer, "
            f"but got {type(fp).__name__}"
        )
    tags = [Tag(t) for t in specific_tags] if specific_tags else None

    def pydicom_read() -> Any:
        return _pydicom_dcmread(fp, defer_size, stop_before_pixels, force, tags)

    defer = None if defer_size is None else _defer_limit(defer_size)
    if defer is False or pydicom.uid.PrivateTransferSyntaxes or config.debugging:
        # config.debug(True): the element-by-element log is what pydicom's reader writes.
        return pydicom_read()

    options = _core.ReadOptions(
        force=force,
        stop_before_pixels=stop_before_pixels,
        specific_tags=tags,
        defer_size=defer,
        infer_sq_for_un_vr=config.settings.infer_sq_for_un_vr,
        replace_un_with_known_vr=config.replace_un_with_known_vr,
        assume_implicit_vr_switch=config.assume_implicit_vr_switch,
    )
    start = 0
    try:
        if isinstance(fp, str):
            index = _core.read_path(fp, options)
        else:
            start = fp.tell()
            data = fp.read()
            if start and force and data[128:132] != b"DICM":
                # pydicom's read_preamble rewinds to the stream's start, not to
                # where reading began.
                fp.seek(0)
                start, data = 0, fp.read()
            index = _core.read_bytes(data, start, options)
    except (_core.ParseError, OSError):
        # pydicom decides: its warnings, its exceptions, or its reading.
        if not isinstance(fp, str):
            fp.seek(start)
        return pydicom_read()
    if not isinstance(fp, str):
        fp.seek(index.end)
    return _build(index, fp)


def _defer_limit(defer_size: Any) -> int | None | bool:
    """defer_size as a whole number of bytes; False if only pydicom can apply it."""
    size = size_in_bytes(defer_size)
    if size is None or size == math.inf:
        return None
    if isinstance(size, float) and not size.is_integer() or size < 0:
        return False
    return int(size)


def _build(index: Any, fp: Any) -> FileDataset:
    built = index.file_dataset(ElementFactory(index), PYDICOM, **_origin(fp, index))
    ds = built.dataset
    if not built.meta_converted:
        # pydicom converts the first meta element and the transfer syntax while
        # reading (converting may warn); here dcmfast could not, so pydicom does.
        file_meta = ds.file_meta
        for tag in (index.meta_first_tag, _TRANSFER_SYNTAX):
            if tag in file_meta._dict:
                file_meta[tag]
    if not built.charset_set:
        ds.__dict__["_read_charset"] = _character_set_like_reader(
            ds, index.is_little_endian
        )
    return ds


def _character_set_like_reader(ds: FileDataset, is_little: bool) -> Any:
    """``ds._character_set``, with the warnings of pydicom's reader, which interprets
    (0008,0005) twice before (in the element walk from its bytes, then as a converted
    element): those are repeated unless the value is plainly valid (which the Rust
    builder has already settled)."""
    raw = ds._dict.get(_CHARSET)
    if raw is None:
        return ds._parent_encoding
    if isinstance(raw, RawDataElement):
        if raw.VR in (None, "CS") and _core.charset_terms_defined(raw.value or b""):
            # What Dataset._character_set does, by the shorter path.
            return convert_encodings(ds[_CHARSET].value)
        convert_encodings(convert_string(raw.value or b"", is_little))
        convert_encodings(convert_raw_data_element(raw).value)
    return ds._character_set


def _origin(fp: Any, index: Any) -> dict[str, Any]:
    """filename, fileobj_type, buffer and timestamp as FileDataset.__init__ sets them."""
    path = fp if isinstance(fp, str) else None
    if index.deflated:
        # pydicom reads the inflated body from a DicomBytesIO named after the file.
        inflated = DicomBytesIO(index.body_bytes())
        inflated.name = fp if isinstance(fp, str) else getattr(fp, "name", None)
        fp = inflated
    if isinstance(fp, str):
        filename, fileobj_type, buffer = fp, open, None
    elif isinstance(fp, io.BufferedReader):
        filename, fileobj_type, buffer = fp.name, open, None
    else:
        filename, fileobj_type, buffer = None, type(fp), fp
        if getattr(fp, "name", None):
            filename = fp.name
        elif getattr(fp, "filename", None):
            filename = fp.filename
    if filename is not None and filename == path and index.mtime is not None:
        timestamp = index.mtime  # from the stat the Rust reader made
    elif filename and os.path.exists(filename):
        timestamp = os.stat(filename).st_mtime
    else:
        timestamp = None
    return {
        "filename": filename,
        "fileobj_type": fileobj_type,
        "buffer": buffer,
        "timestamp": timestamp,
    }

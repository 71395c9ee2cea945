"""The dataset side: pydicom's FileDataset over a lazy element dict.

The Rust ``ElementDict`` stands where pydicom keeps its ``_dict`` of raw elements, so
every pydicom method works unchanged; this module supplies what the dict cannot make
by itself (empty values, deferred values, undefined-length sequences) and a
``FileDataset`` subclass whose construction skips pydicom's per-attribute
``__setattr__`` checks.
"""

from __future__ import annotations

from typing import Any

from pydicom import config
from pydicom.charset import convert_encodings, default_encoding
from pydicom.datadict import keyword_dict
from pydicom.dataelem import DataElement, RawDataElement, empty_value_for_VR
from pydicom.dataset import FileDataset as _PydicomFileDataset
from pydicom.dataset import FileMetaDataset
from pydicom.filereader import read_sequence
from pydicom.tag import BaseTag
from pydicom.valuerep import VR
from pydicom.values import convert_string

_CHARSET = BaseTag(0x00080005)
_KEYWORD_TAGS = {keyword: BaseTag(tag) for keyword, tag in keyword_dict.items()}


class ElementFactory:
    """Makes the element values the Rust dict hands back to Python.

    One per file: it keeps the parsed file (and so its memory map) alive for as long
    as any dataset made from it.
    """

    raw_type = RawDataElement
    tag_type = BaseTag

    __slots__ = ("index",)

    def __init__(self, index: Any) -> None:
        self.index = index

    def special(
        self,
        elements: Any,
        tag: BaseTag,
        vr: str | None,
        length: int,
        value_tell: int,
        kind: str,
        is_implicit_VR: bool,
        is_little_endian: bool,
    ) -> RawDataElement | DataElement:
        if kind == "empty":
            value = empty_value_for_VR(vr, raw=True)
            return RawDataElement(
                tag, vr, 0, value, value_tell, is_implicit_VR, is_little_endian
            )
        if kind == "deferred":
            return RawDataElement(
                tag, vr, length, None, value_tell, is_implicit_VR, is_little_endian
            )
        # An undefined-length sequence, which pydicom's reader parses while reading:
        # parse it with pydicom's own sequence reader, once, and keep the result.
        reader = self.index.body_reader()
        reader.seek(value_tell)
        seq = read_sequence(
            reader,
            is_implicit_VR,
            is_little_endian,
            0xFFFFFFFF,
            _sequence_encoding(elements, is_little_endian),
        )
        elem = DataElement(tag, VR.SQ, seq, value_tell, is_undefined_length=True)
        elements[tag] = elem
        return elem


def _sequence_encoding(elements: Any, is_little_endian: bool) -> str | list[str]:
    """The character set pydicom's reader passes into a sequence it parses."""
    charset = elements.get(_CHARSET)
    if charset is None:
        return default_encoding
    if isinstance(charset, RawDataElement):
        return convert_encodings(convert_string(charset.value or b"", is_little_endian))
    return convert_encodings(charset.value)


class FileDataset(_PydicomFileDataset):
    """A :class:`pydicom.dataset.FileDataset` read by dcmfast.

    It holds exactly the state pydicom's does; only construction and keyword
    attribute access take shorter paths with the same results.
    """

    def __getattr__(self, name: str) -> Any:
        tag = _KEYWORD_TAGS.get(name)
        if tag is not None and tag in self._dict:
            return self[tag].value
        return _PydicomFileDataset.__getattr__(self, name)


def new_file_dataset(
    elements: Any,
    preamble: bytes | None,
    file_meta: FileMetaDataset,
    is_implicit_VR: bool,
    is_little_endian: bool,
    filename: str | None,
    fileobj_type: Any,
    buffer: Any,
    timestamp: float | None,
) -> FileDataset:
    """A FileDataset with the attributes ``FileDataset.__init__`` would set."""
    ds = FileDataset.__new__(FileDataset)
    ds.__dict__.update(
        _parent_encoding=default_encoding,
        _dict=elements,
        is_decompressed=False,
        _read_little=is_little_endian,
        _read_implicit=is_implicit_VR,
        _read_charset="",
        is_undefined_length_sequence_item=False,
        _private_blocks={},
        _pixel_array=None,
        _pixel_array_opts={"use_pdh": False},
        _pixel_id={},
        preamble=preamble,
        file_meta=file_meta,
        fileobj_type=fileobj_type,
        filename=filename,
        buffer=buffer,
        timestamp=timestamp,
    )
    if not config._use_future:
        ds.__dict__["_is_little_endian"] = is_little_endian
        ds.__dict__["_is_implicit_VR"] = is_implicit_VR
    return ds


__all__ = ["ElementFactory", "FileDataset", "new_file_dataset"]

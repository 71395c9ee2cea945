"""The dataset side: pydicom's FileDataset over a lazy element dict.

The Rust ``ElementDict`` stands where pydicom keeps its ``_dict`` of raw elements, so
every pydicom method works unchanged. It converts plain elements itself (numbers,
UIDs, DS/IS, ASCII text: values pydicom would make without a warning); this module
supplies the pydicom classes it needs, what it cannot make by itself (empty values,
deferred values, undefined-length sequences), and a ``FileDataset`` subclass whose
construction skips pydicom's per-attribute ``__setattr__`` checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from pydicom import config
from pydicom.charset import convert_encodings, default_encoding, python_encoding
from pydicom.datadict import keyword_dict
from pydicom.dataelem import (
    DataElement,
    RawDataElement,
    empty_value_for_VR,
)
from pydicom.dataset import FileDataset as _PydicomFileDataset
from pydicom.dataset import FileMetaDataset
from pydicom.filereader import read_sequence
from pydicom.hooks import hooks, raw_element_value, raw_element_vr
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID
from pydicom.valuerep import IS, VR, DSfloat
from pydicom.values import convert_string

from dcmfast._core import ElementDict, KeywordAttribute, Pydicom
from dcmfast._pixels import PixelDataMixin
from dcmfast._render import make_renderer

_CHARSET = Tag("SpecificCharacterSet")
_JSON_DUMPS = json.dumps


class ElementFactory:
    """Makes the element values the Rust dict hands back to Python.

    One per file: it keeps the parsed file (and so its memory map) alive for as long
    as any dataset made from it.
    """

    raw_type = RawDataElement
    tag_type = BaseTag
    # What the Rust converter reads to make elements exactly as pydicom does.
    config = config
    hooks = hooks
    default_hooks = (raw_element_vr, raw_element_value)
    data_element_type = DataElement
    uid_type = UID
    is_type = IS
    ds_type = DSfloat
    multivalue_type = MultiValue
    tuple_new = tuple.__new__
    object_new = object.__new__
    str_new = str.__new__
    int_new = int.__new__
    float_new = float.__new__
    object_setattr = object.__setattr__
    file_meta_type = FileMetaDataset
    default_encoding = default_encoding
    python_encoding = python_encoding
    convert_encodings = convert_encodings

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


class FileDataset(PixelDataMixin, _PydicomFileDataset):
    """A :class:`pydicom.dataset.FileDataset` read by dcmfast.

    It holds exactly the state pydicom's does; only construction, keyword attribute
    access and the conversion of plain elements take shorter paths with the same
    results.
    """

    def __getitem__(self, key: Any) -> Any:
        elements = self._dict
        if type(key) is BaseTag and type(elements) is ElementDict:
            try:
                elem = elements.convert(key, self._read_charset)
            except KeyError:
                pass  # pydicom raises its own KeyError
            else:
                if type(elem) is DataElement:
                    return elem
        return _PydicomFileDataset.__getitem__(self, key)

    def _pretty_str(self, indent: int = 0, top_level_only: bool = False) -> str:
        if RENDERER.applies(self):
            try:
                return RENDERER.pretty_str(self, indent, top_level_only)
            except Exception:  # noqa: BLE001, S110
                pass  # pydicom's code renders it and raises as it does
        return _PydicomFileDataset._pretty_str(self, indent, top_level_only)

    def to_json_dict(
        self,
        bulk_data_threshold: int = 1024,
        bulk_data_element_handler: Callable[[DataElement], str] | None = None,
        suppress_invalid_tags: bool = False,
    ) -> dict[str, Any]:
        if type(bulk_data_threshold) is not int or not (
            -(2**62) < bulk_data_threshold < 2**62 and RENDERER.applies(self)
        ):
            return _PydicomFileDataset.to_json_dict(
                self,
                bulk_data_threshold,
                bulk_data_element_handler,
                suppress_invalid_tags,
            )
        # pydicom's own reading mode for the conversions ds[key] makes.
        context = config.strict_reading() if suppress_invalid_tags else nullcontext()
        with context:
            return RENDERER.json_dict(
                self,
                bulk_data_threshold,
                bulk_data_element_handler,
                suppress_invalid_tags,
            )

    def to_json(
        self,
        bulk_data_threshold: int = 1024,
        bulk_data_element_handler: Callable[[DataElement], str] | None = None,
        dump_handler: Callable[[dict[str, Any]], str] | None = None,
        suppress_invalid_tags: bool = False,
    ) -> str:
        json_dataset = self.to_json_dict(
            bulk_data_threshold,
            bulk_data_element_handler,
            suppress_invalid_tags=suppress_invalid_tags,
        )
        if dump_handler is not None:
            return dump_handler(json_dataset)
        # pydicom's default handler is json.dumps(d, sort_keys=True), written in Rust
        # where the dict holds only what json's encoder writes plainly.
        text = RENDERER.json_text(json_dataset) if json.dumps is _JSON_DUMPS else None
        if text is None:
            return json.dumps(json_dataset, sort_keys=True)
        return text

    def __dir__(self) -> list[str]:
        # pydicom's listing: attributes plus the keywords present, not every keyword
        # this class answers for.
        names = set(object.__dir__(self)) - _KEYWORD_ATTRIBUTES
        return sorted(names | set(self.dir()))


# Keyword access (ds.PatientName) as class attributes: answered in Rust when the
# element converts without pydicom, else handed on to Dataset.__getattr__.
_KEYWORD_ATTRIBUTES = frozenset(
    keyword for keyword in keyword_dict if not hasattr(FileDataset, keyword)
)
for _keyword in _KEYWORD_ATTRIBUTES:
    setattr(
        FileDataset,
        _keyword,
        KeywordAttribute(_keyword, BaseTag(keyword_dict[_keyword])),
    )
del _keyword


# The instance state ``Dataset.__init__`` and ``set_original_encoding`` give a dataset,
# set without their per-attribute ``__setattr__`` checks (a test keeps this in step with
# pydicom). The Rust builder copies it and fills in each dataset's own values: the
# element dict, encoding, fresh mutable members, and what FileDataset.__init__ adds.
ElementFactory.state_template = {
    "_parent_encoding": default_encoding,
    "_dict": None,
    "is_decompressed": False,
    "_read_little": None,
    "_read_implicit": None,
    "_read_charset": "",
    "is_undefined_length_sequence_item": False,
    "_private_blocks": None,
    "_pixel_array": None,
    "_pixel_array_opts": None,
    "_pixel_id": None,
}

# The pydicom classes element dicts make values of, looked up once.
PYDICOM = Pydicom(ElementFactory, FileDataset)
RENDERER = make_renderer(FileDataset)


__all__ = [
    "PYDICOM",
    "ElementFactory",
    "FileDataset",
]

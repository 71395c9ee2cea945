"""A writer that copies: pydicom's ``write_dataset``, for a dataset read by dcmfast.

pydicom writes a dataset element by element: an element still as read (a raw element)
as its bytes, any other through its VR's encoder. For a dataset whose ``_dict`` is
dcmfast's ``ElementDict``, written in the encoding it was read in, the Rust side knows
which elements are still the source's bytes exactly (header and length included) and
writes each run of them with one ``fp.write``; the others, and every other case
(another encoding or character set, any other dataset), are pydicom's code. The output
is pydicom's byte for byte.

``write_dataset`` is a module global of ``pydicom.filewriter`` that ``dcmwrite``,
``write_file_meta_info`` and ``write_sequence_item`` look up when called, so replacing
it there covers ``save_as``, ``dcmwrite`` and the items of sequences.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable

import pydicom.filewriter as _filewriter
from pydicom import config
from pydicom.charset import default_encoding
from pydicom.tag import BaseTag, tag_in_exception

from dcmfast import _core

# The counts of the datasets written, while ``recording_counts()`` is active in this
# context (a context variable: each thread and task records its own writes).
_RECORDING: ContextVar[list[Any] | None] = ContextVar(
    "dcmfast_write_counts", default=None
)


@contextmanager
def recording_counts() -> Iterator[list[Any]]:
    """Within the block, what the copying writer did: one ``_core.WriteCounts`` (bytes
    copied, copies, elements encoded) per dataset it wrote, in order. A debug hook: the
    tests check with it that the copying path was taken."""
    log: list[Any] = []
    token = _RECORDING.set(log)
    try:
        yield log
    finally:
        _RECORDING.reset(token)


_pydicom_write_dataset: Callable[..., int] = _filewriter.write_dataset


def write_dataset(
    fp: Any, dataset: Any, parent_encoding: str | list[str] = default_encoding
) -> int:
    """pydicom's ``write_dataset``; copies unchanged elements of a dcmfast dataset."""
    elements = dataset.__dict__.get("_dict")
    if type(elements) is not _core.ElementDict:
        return _pydicom_write_dataset(fp, dataset, parent_encoding)

    # pydicom's choice of encoding, in its order of priority.
    fp_encoding = (
        getattr(fp, "_implicit_vr", None),
        getattr(fp, "_little_endian", None),
    )
    ds_encoding: tuple[Any, Any] = (None, None)
    if not config._use_future:
        ds_encoding = (dataset.is_implicit_VR, dataset.is_little_endian)
    or_encoding = dataset.original_encoding
    if None in fp_encoding and None in ds_encoding and None in or_encoding:
        return _pydicom_write_dataset(fp, dataset, parent_encoding)  # it raises
    if None in fp_encoding:
        if None not in ds_encoding:
            fp_encoding = ds_encoding
        elif None not in or_encoding:
            fp_encoding = or_encoding
    if fp_encoding != or_encoding:
        # Another encoding: every element is converted and encoded anew.
        return _pydicom_write_dataset(fp, dataset, parent_encoding)

    fp.is_implicit_VR, fp.is_little_endian = fp_encoding
    if dataset.original_character_set != dataset._character_set:
        return _write_recoded(fp, dataset, parent_encoding)

    dataset_encoding = dataset.get("SpecificCharacterSet", parent_encoding)
    start = fp.tell()

    def encode(tag: BaseTag) -> None:
        with tag_in_exception(tag):
            _filewriter.write_data_element(fp, dataset.get_item(tag), dataset_encoding)

    counts = _core.write_elements(
        elements,
        fp,
        encode,
        dataset.__getitem__,
        *fp_encoding,
        config.use_none_as_empty_text_VR_value,
    )
    log = _RECORDING.get()
    if log is not None:
        log.append(counts)
    return fp.tell() - start


def _write_recoded(fp: Any, dataset: Any, parent_encoding: str | list[str]) -> int:
    """The rest of pydicom's ``write_dataset`` when the character set changed (its
    encoding already set on `fp`, and the character set already compared, which
    pydicom's own function would repeat with its warnings)."""
    dataset = _filewriter.correct_ambiguous_vr(dataset, fp.is_little_endian)
    dataset_encoding = dataset.get("SpecificCharacterSet", parent_encoding)
    start = fp.tell()
    for tag in sorted(dataset.keys()):
        if tag.element == 0 and tag.group > 6:
            continue
        with tag_in_exception(tag):
            _filewriter.write_data_element(fp, dataset[tag], dataset_encoding)
    return fp.tell() - start


def install() -> None:
    """Put the copying ``write_dataset`` in ``pydicom.filewriter`` (once)."""
    if _filewriter.write_dataset is _pydicom_write_dataset:
        _filewriter.write_dataset = write_dataset

"""The character-set policy, one rule in the core, derived from pydicom itself.

The core decodes SH, LO, UC, ST, LT, UT and PN values of ASCII bytes only where the
dataset's Specific Character Set makes pydicom decode them to the same text; everywhere
else pydicom decodes them. Here every defined term pydicom knows (and sets of them, and
terms it does not know) is checked against pydicom's own decoding of every ASCII
character, and dcmread and scan are compared with pydicom on files in those character
sets.
"""

from __future__ import annotations

import io
import itertools
import struct
import warnings
from contextlib import contextmanager

import dcmfast
import pytest
from compare import assert_same_outcome, read_both
from dcmfast import _core
from helpers import pydicom_values, typed
from pydicom import config
from pydicom.charset import convert_encodings, default_encoding, python_encoding
from pydicom.datadict import DicomDictionary
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.dataset import FileMetaDataset
from pydicom.filewriter import write_file_meta_info
from pydicom.tag import BaseTag
from pydicom.uid import ExplicitVRLittleEndian
from pydicom.values import convert_string

DEFINED = list(python_encoding)
# Terms pydicom does not define: unknown, misspelt (pydicom corrects them with a
# warning), spaced, and Python codec names (which pydicom uses as they are).
UNDEFINED = [
    "ISO_IR 999",
    "ISO 2022 IR 999",
    "ISO-IR 100",
    "ISO 2022-IR 87",
    " ISO_IR 100",
    "ISO_IR 100 ",
    "latin_1",
    "ascii",
    "utf_16",
    "cp037",
]
TERM_SETS = (
    [[term] for term in DEFINED + UNDEFINED]
    + [list(pair) for pair in itertools.product(DEFINED, repeat=2)]
    + [["", term] for term in UNDEFINED]
    + [[term, "ISO 2022 IR 87"] for term in UNDEFINED]
    + [["", "ISO 2022 IR 87", "ISO 2022 IR 159"], ["ISO 2022 IR 6", "", "GBK"]]
)

# The VRs pydicom decodes with the dataset's character set.
TEXT_VRS = ["SH", "LO", "UC", "ST", "LT", "UT", "PN"]
MULTI_VALUED = {"SH", "LO", "UC", "PN"}
# pydicom's length limits (longer values warn whatever the character set).
MAX_LENGTH = {"SH": 16, "LO": 64}
PRINTABLE = bytes(range(0x20, 0x7F))
# Control characters text may hold (ESC starts an ISO 2022 escape: never plain).
CONTROLS = bytes(b for b in range(0x01, 0x20) if b != 0x1B)


def ascii_values(vr: str) -> list[bytes]:
    """ASCII values of `vr` holding every printable character (backslash and tilde
    included), single and multi-valued, within pydicom's length limits."""
    if vr not in MULTI_VALUED:
        # One value: backslashes are text.
        return [PRINTABLE, b"a" + CONTROLS + b"~\\z", b"\\~ "]
    size = MAX_LENGTH.get(vr, 16)
    chars = PRINTABLE.replace(b"\\", b"")
    chunks = [chars[i : i + size] for i in range(0, len(chars), size)]
    return [*chunks, b"\\".join(chunks), b"\\", b"~\\~", b"a\\\\b "]


def _tag_of(vr: str) -> BaseTag:
    """A public tag whose dictionary VR is `vr`."""
    tags = (tag for tag, entry in DicomDictionary.items() if entry[0] == vr)
    return BaseTag(next(tag for tag in tags if tag >> 16 >= 8))


def _decoded(value: bytes, vr: str, encodings) -> tuple:
    """pydicom's text of a `vr` value of `value` in `encodings`, and its warnings."""
    raw = RawDataElement(_tag_of(vr), vr, len(value), value, 0, False, True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        elem = convert_raw_data_element(raw, encoding=encodings)
        text = [str(v) for v in elem.value] if elem.VM > 1 else str(elem.value)
    return text, [str(w.message) for w in caught]


@contextmanager
def _validation(mode: int):
    old = config.settings.reading_validation_mode
    config.settings.reading_validation_mode = mode
    try:
        yield
    finally:
        config.settings.reading_validation_mode = old


def pydicom_keeps_ascii(value: bytes, vr: str) -> bool:
    """True when pydicom decodes every ASCII value of `vr` to itself in a dataset whose
    (0008,0005) value is `value`: its character set is not refused in RAISE mode, and
    each value's text (and warnings) are those of the default character set."""
    terms = convert_string(value, True)
    with warnings.catch_warnings():
        # convert_encodings warns about stand-alone sets while reading (once).
        warnings.simplefilter("ignore")
        with _validation(config.RAISE):
            try:
                convert_encodings(terms)
            except LookupError:
                return False
        encodings = convert_encodings(terms)
    return all(
        _decoded(text, vr, encodings) == _decoded(text, vr, [default_encoding])
        for text in ascii_values(vr)
    )


def _value(terms: list[str]) -> bytes:
    value = "\\".join(terms).encode("latin-1")
    return value + b" " if len(value) % 2 else value


@pytest.mark.parametrize("vr", TEXT_VRS)
def test_core_decodes_ascii_only_where_pydicom_gives_the_same_text(vr):
    wrong = [
        terms
        for terms in TERM_SETS
        if _core.charset_keeps_ascii(_value(terms), vr)
        and not pydicom_keeps_ascii(_value(terms), vr)
    ]
    assert not wrong


@pytest.mark.parametrize("vr", TEXT_VRS)
def test_the_core_decodes_ascii_wherever_pydicom_gives_it_in_defined_terms(vr):
    """Not stricter than it need be: in every set of defined terms where pydicom gives
    ASCII text as itself (its first codec decodes text without escapes), so does the
    core."""
    for terms in TERM_SETS:
        # The terms as pydicom reads them back (trailing padding removed).
        read = convert_string(_value(terms), True)
        read = [read] if isinstance(read, str) else list(read)
        defined = all(term in python_encoding for term in read)
        assert _core.charset_terms_defined(_value(terms)) == defined, terms
        if defined:
            keeps = pydicom_keeps_ascii(_value(terms), vr)
            assert _core.charset_keeps_ascii(_value(terms), vr) == keeps, terms


def test_pydicom_refuses_or_garbles_ascii_in_some_character_sets():
    """The tests above can tell: pydicom's text or warnings are not ASCII's here."""
    for terms, vr in [
        (["utf_16"], "LO"),
        (["cp037"], "ST"),
        (["ISO_IR 999"], "SH"),
        (["ISO 2022 IR 87"], "PN"),
        (["ISO 2022 IR 159", "ISO 2022 IR 87"], "PN"),
    ]:
        assert not pydicom_keeps_ascii(_value(terms), vr), terms


# --------------------------------------------------------------------------
# dcmread and scan against pydicom on files in these character sets
# --------------------------------------------------------------------------
# Sets the two former policies disagreed on, or that either had wrong: the binding
# layer's took one Python codec of 13, the scan's took "ISO_IR n" and "ISO 2022 IR n"
# names but n = 13 (and any unknown n), GB18030 and GBK.
CHANGED = [
    ["ISO_IR 13"],
    ["ISO 2022 IR 13"],
    ["ISO 2022 IR 87"],
    ["ISO 2022 IR 149"],
    ["ISO 2022 IR 159"],
    ["ISO 2022 IR 58"],
    ["GBK"],
    ["ISO 2022 GBK"],
    ["ISO 2022 58"],
    ["", "ISO 2022 IR 87"],
    ["ISO 2022 IR 6", "ISO 2022 IR 149"],
    ["ISO 2022 IR 13", "ISO 2022 IR 87"],
    ["ISO_IR 192", "GB18030"],
    ["ISO_IR 100", "ISO_IR 192"],
    ["ISO_IR 999"],
    ["ISO 2022 IR 999"],
    ["ISO-IR 100"],
    ["ISO_IR 100 ", "GBK"],
    ["latin_1"],
    ["utf_16"],
]
FILE_SETS = [[term] for term in DEFINED] + CHANGED
TEXT_ELEMENTS = {vr: _tag_of(vr) for vr in TEXT_VRS}
TEXT_ELEMENTS["CS"] = BaseTag(0x00080008)  # ImageType


def _element(tag: int, vr: str, value: bytes) -> bytes:
    if len(value) % 2:
        value += b" "
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr.encode()
    if vr in ("UC", "UT"):
        return head + struct.pack("<HL", 0, len(value)) + value
    return head + struct.pack("<H", len(value)) + value


def charset_file(terms: list[str]) -> bytes:
    """A Part 10 file in the character set `terms`, with ASCII values of every text VR."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buffer = io.BytesIO()
    buffer.write(b"\x00" * 128 + b"DICM")
    write_file_meta_info(buffer, meta, enforce_standard=True)
    elements = [(0x00080005, "CS", _value(terms))]
    for vr, tag in TEXT_ELEMENTS.items():
        values = ascii_values(vr) if vr != "CS" else [b"ORIGINAL\\PRIMARY"]
        elements.append((tag, vr, values[-2] if vr in MULTI_VALUED else values[0]))
    for tag, vr, value in sorted(elements):
        buffer.write(_element(tag, vr, value))
    return buffer.getvalue()


def _name(terms: list[str]) -> str:
    return "\\".join(terms) or "<empty>"


@pytest.mark.parametrize("terms", FILE_SETS, ids=_name)
def test_dcmread_gives_pydicoms_values_and_warnings(terms, reader):
    data = charset_file(terms)
    expected, actual = read_both(data, reader)
    assert_same_outcome(expected, actual, _name(terms))


@pytest.mark.parametrize("terms", FILE_SETS, ids=_name)
def test_dcmread_decodes_ascii_text_in_the_core_where_the_policy_says(terms):
    """The binding layer asks the one policy, of the codecs pydicom made of the terms."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = dcmfast.dcmread(io.BytesIO(charset_file(terms)))
        codecs = convert_encodings(convert_string(_value(terms), True))
    keeps_ascii = codecs[0] in set(python_encoding.values())
    # (The binding layer leaves person names to pydicom's PersonName.)
    for vr in ("SH", "LO", "UC", "ST", "LT", "UT"):
        value = ds._dict.value_of(TEXT_ELEMENTS[vr], ds._read_charset)
        assert (value is not NotImplemented) == keeps_ascii, (terms, vr)


def test_scan_gives_pydicoms_values(tmp_path):
    specs = ["SpecificCharacterSet"] + [
        f"{tag:#010x}" for tag in TEXT_ELEMENTS.values()
    ]
    paths = []
    for i, terms in enumerate(FILE_SETS):
        path = tmp_path / f"{i:03d}.dcm"
        path.write_bytes(charset_file(terms))
        paths.append(str(path))
    result = dcmfast.scan(paths, specs, workers=2)
    assert not result.errors
    for row, path in enumerate(paths):
        for spec, want in zip(specs, pydicom_values(path, specs)):
            assert typed(result[spec][row]) == typed(want), (FILE_SETS[row], spec)

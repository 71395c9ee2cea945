"""Robustness of the reader under test on damaged and hostile input.

Every case must end with a dataset, an exception or a warning, in bounded
time, without crashing the process; pydicom is the oracle for which of those
it is (same exception class, same warnings, same elements).
"""

from __future__ import annotations

import faulthandler
import io
import json
import os
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from compare import (
    Outcome,
    assert_is_exception,
    assert_same_outcome,
    pydicom_dcmread,
    read_both,
    run_reader,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file
from pydicom.dataelem import RawDataElement
from pydicom.dataset import FileMetaDataset
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

pytestmark = pytest.mark.usefixtures("quiet_pydicom_logger")

TIME_LIMIT = 10.0  # seconds for reading (and accessing) one file
WATCHDOG = 240  # hard limit for one test: a hang is turned into a crash + trace
MAX_RSS_GROWTH_KB = 200 * 1024
WORKER = Path(__file__).resolve().parent / "_worker.py"

SMALL_FILES = [
    "CT_small.dcm",  # explicit VR little endian, private OB, SQ
    "MR_small.dcm",  # explicit VR little endian, OW pixel data
    "rtplan.dcm",  # implicit VR, nested sequences
    "MR_small_implicit.dcm",  # implicit VR, pixel data
    "MR_small_RLE.dcm",  # encapsulated (undefined length) pixel data
    "image_dfl.dcm",  # deflated explicit VR little endian
]
# more structure, checked a little more sparsely
EXTRA_FILES = [
    "DICOMDIR",  # many sequence items, (0004,xxxx) offsets
    "nested_priv_SQ.dcm",  # private sequences inside private sequences
    "MR_small_bigendian.dcm",  # explicit VR big endian
    "reportsi.dcm",  # SR: deep content sequences
    "rtstruct.dcm",  # explicit VR, nested sequences
    "JPEG2000.dcm",  # encapsulated fragments
]


@pytest.fixture(autouse=True)
def _watchdog():
    """Kill the process (printing all tracebacks) if one test hangs."""
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def _data(name: str) -> bytes:
    path = get_testdata_file(name)
    assert path is not None, f"test file {name} not found"
    return Path(path).read_bytes()


class Mismatches:
    """Collects failures of many variants to report them together."""

    def __init__(self, name: str, limit: int = 12) -> None:
        self.name, self.limit = name, limit
        self.robustness: list[str] = []
        self.parity: list[str] = []
        self.count = 0

    def check(self, expected: Outcome, actual: Outcome, label: str) -> None:
        self.count += 1
        if actual.elapsed > TIME_LIMIT:
            self.robustness.append(f"{label}: took {actual.elapsed:.1f}s")
        try:
            assert_is_exception(actual, label)
        except AssertionError as exc:
            self.robustness.append(str(exc))
            return
        try:
            assert_same_outcome(expected, actual, label)
        except (AssertionError, RecursionError) as exc:
            self.parity.append(str(exc).split("\n  reader")[0][:600])

    def assert_none(self) -> None:
        assert self.count > 0, f"{self.name}: no variant was checked"
        if self.robustness:
            pytest.fail(
                f"{self.name}: {len(self.robustness)} of {self.count} variants "
                "not robust:\n" + "\n".join(self.robustness[: self.limit])
            )
        if self.parity:
            pytest.fail(
                f"{self.name}: {len(self.parity)} of {self.count} variants differ "
                "from pydicom:\n" + "\n".join(self.parity[: self.limit])
            )


# --------------------------------------------------------------------------
# (a) every prefix truncation
# --------------------------------------------------------------------------
ALL_PREFIXES_UP_TO = 2000
REST_SAMPLES = 60  # prefix lengths sampled past ALL_PREFIXES_UP_TO
FORCE_STRIDE = 11  # also read every 11th short prefix with force=True


TRUNCATION_CASES = [(name, 1) for name in SMALL_FILES]
TRUNCATION_CASES += [(name, 3) for name in EXTRA_FILES]


@pytest.mark.parametrize(("name", "step"), TRUNCATION_CASES)
def test_truncated_prefixes(name, step, reader, tmp_path):
    """All prefixes (step 1) of the first 2,000 bytes, then a stride."""
    data = _data(name)
    found = Mismatches(f"{name} truncated")
    head = range(0, min(ALL_PREFIXES_UP_TO, len(data) + 1), step)
    for size in head:
        prefix = data[:size]
        found.check(*read_both(prefix, reader), f"{name}[:{size}]")
        if size % (FORCE_STRIDE * step) == 0:
            found.check(
                *read_both(prefix, reader, force=True), f"{name}[:{size}] force=True"
            )
    # a stride over the rest, read from a real file (the path code path)
    rest = len(data) - ALL_PREFIXES_UP_TO
    if rest > 0:
        stride = max(1, rest // REST_SAMPLES)
        target = tmp_path / "prefix.dcm"
        for size in range(ALL_PREFIXES_UP_TO, len(data) + 1, stride):
            target.write_bytes(data[:size])
            found.check(*read_both(str(target), reader), f"{name}[:{size}] (path)")
            found.check(
                *read_both(data[:size], reader, defer_size=128),
                f"{name}[:{size}] defer_size=128",
            )
    found.assert_none()


# --------------------------------------------------------------------------
# (b) random byte corruption
# --------------------------------------------------------------------------
VARIANTS = 300


def _corrupt(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    hot = min(len(out), 2048)  # mostly hit the header, not the pixels
    for _ in range(rng.randint(1, 8)):
        if rng.random() < 0.8:
            pos = rng.randrange(hot)
        else:
            pos = rng.randrange(len(out))
        kind = rng.random()
        if kind < 0.6:
            out[pos] ^= rng.randrange(1, 256)
        elif kind < 0.8:
            out[pos] = 0xFF
        else:
            out[pos] = 0x00
    return bytes(out)


@pytest.mark.parametrize("name", SMALL_FILES + EXTRA_FILES)
def test_random_corruption(name, reader, tmp_path):
    data = _data(name)
    rng = random.Random(f"dcmfast-{name}")
    found = Mismatches(f"{name} corrupted")
    target = tmp_path / "corrupt.dcm"
    for index in range(VARIANTS):
        variant = _corrupt(data, rng)
        label = f"{name} variant {index}"
        if index % 10 == 0:  # sometimes via a real file, sometimes forced
            target.write_bytes(variant)
            found.check(*read_both(str(target), reader, force=True), label + " path")
        else:
            found.check(*read_both(variant, reader), label)
    found.assert_none()


# --------------------------------------------------------------------------
# helpers running the reader in a child process
# --------------------------------------------------------------------------
def run_in_worker(jobs: list[dict], timeout: float = 120) -> list[dict]:
    """Run jobs in a fresh interpreter; fail the test if it crashes or hangs."""
    try:
        proc = subprocess.run(
            [sys.executable, str(WORKER)],
            input=json.dumps(jobs),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(os.environ),
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"reader did not finish {len(jobs)} job(s) in {timeout}s")
    if proc.returncode != 0:
        pytest.fail(
            f"reader process died: return code {proc.returncode} "
            f"(negative = killed by signal)\nstderr tail:\n{proc.stderr[-3000:]}"
        )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT:")]
    assert lines, f"no result from worker; stderr:\n{proc.stderr[-3000:]}"
    results = json.loads(lines[-1][len("RESULT:") :])
    assert len(results) == len(jobs)
    return results


def assert_robust(result: dict, label: str) -> None:
    assert result["exc_is_exception"], (
        f"{label}: raised non-Exception {result['exc_module']}."
        f"{result['exc_type']}: {result['exc_message']}"
    )
    assert result["access_errors_are_exceptions"], (
        f"{label}: element access raised non-Exception: {result['access_errors']}"
    )
    assert result["elapsed"] < TIME_LIMIT, f"{label}: took {result['elapsed']:.1f}s"


# --------------------------------------------------------------------------
# (c) absurd element lengths
# --------------------------------------------------------------------------
def _value_tell(path: str, tag: int, meta: bool = False) -> int:
    ds = pydicom_dcmread(path, force=True)
    elem = (ds.file_meta if meta else ds).get_item(tag, keep_deferred=True)
    if isinstance(elem, RawDataElement):
        return elem.value_tell
    return elem.file_tell


# (file, tag, in file meta?, byte order, offset of the 4-byte length field
#  relative to the element's value position)
LENGTH_SITES = {
    "explicit-SQ": ("CT_small.dcm", 0x00101002, False, "<", -4),
    "explicit-OB-private": ("CT_small.dcm", 0x00431028, False, "<", -4),
    "explicit-OW-pixels": ("CT_small.dcm", 0x7FE00010, False, "<", -4),
    "meta-OB": ("CT_small.dcm", 0x00020001, True, "<", -4),
    "implicit-pixels": ("MR_small_implicit.dcm", 0x7FE00010, False, "<", -4),
    "implicit-SQ": ("rtplan.dcm", 0x300A0010, False, "<", -4),
    "implicit-string": ("rtplan.dcm", 0x00100010, False, "<", -4),
    "bigendian-OW-pixels": ("MR_small_bigendian.dcm", 0x7FE00010, False, ">", -4),
    # length of the first item (basic offset table) of encapsulated pixels
    "encapsulated-item": ("MR_small_RLE.dcm", 0x7FE00010, False, "<", 4),
}
HUGE_LENGTHS = (0xFFFFFFFE, 0xFFFFFFFF, 0x7FFFFFFF)


@pytest.mark.parametrize("site", sorted(LENGTH_SITES))
def test_huge_lengths(site, reader, tmp_path):
    name, tag, meta, order, delta = LENGTH_SITES[site]
    path = get_testdata_file(name)
    data = Path(path).read_bytes()
    where = _value_tell(path, tag, meta) + delta
    original = struct.unpack(order + "L", data[where : where + 4])[0]
    assert original not in HUGE_LENGTHS or site == "encapsulated-item", (
        f"{site}: offset {where} does not hold a plausible length ({original:#x})"
    )
    variants = {}
    for length in HUGE_LENGTHS:
        patched = bytearray(data)
        patched[where : where + 4] = struct.pack(order + "L", length)
        target = tmp_path / f"len_{length:08x}.dcm"
        target.write_bytes(patched)
        variants[length] = str(target)
    jobs = [
        {"path": p, "mode": mode, "kwargs": {}}
        for p in variants.values()
        for mode in ("path", "bytes")
    ]
    # crash/memory/time first, in a child process ...
    for job, result in zip(jobs, run_in_worker(jobs)):
        label = f"{site} {Path(job['path']).name} via {job['mode']}"
        assert_robust(result, label)
        assert result["rss_growth_kb"] < MAX_RSS_GROWTH_KB, (
            f"{label}: peak memory grew by {result['rss_growth_kb'] / 1024:.0f} MB"
        )
    # ... then parity: raise or warn whenever pydicom does, else same dataset
    found = Mismatches(f"{site} huge lengths")
    for length, target in variants.items():
        found.check(*read_both(target, reader), f"{site} length={length:#x} path")
        found.check(
            *read_both(Path(target).read_bytes(), reader),
            f"{site} length={length:#x} BytesIO",
        )
    found.assert_none()


# --------------------------------------------------------------------------
# (d) sequences nested 10,000 deep
# --------------------------------------------------------------------------
DEPTH = 10_000
SQ_TAG = (0x0008, 0x1115)  # Referenced Series Sequence


def file_meta_bytes(transfer_syntax: str = ExplicitVRLittleEndian) -> bytes:
    """128-byte preamble, 'DICM' and a valid File Meta Information group."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.2.1143.1"
    meta.TransferSyntaxUID = transfer_syntax
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.2.1143.2"
    buffer = io.BytesIO()
    buffer.write(b"\x00" * 128 + b"DICM")
    write_file_meta_info(buffer, meta, enforce_standard=True)
    return buffer.getvalue()


def _tag(group: int, elem: int) -> bytes:
    return struct.pack("<HH", group, elem)


def _sq_header(length: int, implicit: bool) -> bytes:
    if implicit:
        return _tag(*SQ_TAG) + struct.pack("<L", length)
    return _tag(*SQ_TAG) + b"SQ\x00\x00" + struct.pack("<L", length)


ITEM = _tag(0xFFFE, 0xE000)
ITEM_END = _tag(0xFFFE, 0xE00D) + b"\x00" * 4
SEQ_END = _tag(0xFFFE, 0xE0DD) + b"\x00" * 4
LEAF = _tag(0x0010, 0x0010) + b"PN\x04\x00Deep"
LEAF_IMPLICIT = _tag(0x0010, 0x0010) + struct.pack("<L", 4) + b"Deep"
FIRST = _tag(0x0008, 0x0060) + b"CS\x02\x00OT"
FIRST_IMPLICIT = _tag(0x0008, 0x0060) + struct.pack("<L", 2) + b"OT"


def nested_undefined(depth: int, closed: bool, implicit: bool = False) -> bytes:
    undefined = 0xFFFFFFFF
    opening = _sq_header(undefined, implicit) + ITEM + struct.pack("<L", undefined)
    parts = [FIRST_IMPLICIT if implicit else FIRST, opening * depth]
    parts.append(LEAF_IMPLICIT if implicit else LEAF)
    if closed:
        parts.append((ITEM_END + SEQ_END) * depth)
    else:
        parts.append((ITEM_END + SEQ_END) * (depth // 2))  # stops half-way
    return b"".join(parts)


def nested_defined(depth: int) -> bytes:
    # level i wraps the content of level i-1: item header 8, SQ header 12
    inner = len(LEAF)
    headers = []
    for _ in range(depth):
        item_len = inner
        seq_len = 8 + item_len
        headers.append(_sq_header(seq_len, False) + ITEM + struct.pack("<L", item_len))
        inner = 12 + seq_len
    return FIRST + b"".join(reversed(headers)) + LEAF


DEEP_CASES = {
    "undefined-closed": lambda: file_meta_bytes() + nested_undefined(DEPTH, True),
    "undefined-unclosed": lambda: file_meta_bytes() + nested_undefined(DEPTH, False),
    "undefined-truncated": lambda: (file_meta_bytes() + nested_undefined(DEPTH, False))[
        : 128 + DEPTH * 10
    ],
    "implicit-undefined-closed": lambda: (
        file_meta_bytes(ImplicitVRLittleEndian)
        + nested_undefined(DEPTH, True, implicit=True)
    ),
    "defined-closed": lambda: file_meta_bytes() + nested_defined(DEPTH),
    "defined-truncated": lambda: (file_meta_bytes() + nested_defined(DEPTH))[
        : 128 + DEPTH * 10
    ],
}


def test_deep_builders_are_valid():
    """The builders make what they claim: pydicom reads a shallow version."""
    for data in (
        file_meta_bytes() + nested_undefined(5, True),
        file_meta_bytes() + nested_defined(5),
        file_meta_bytes(ImplicitVRLittleEndian) + nested_undefined(5, True, True),
    ):
        ds = pydicom_dcmread(io.BytesIO(data))
        depth, item = 0, ds
        while "ReferencedSeriesSequence" in item:
            item = item.ReferencedSeriesSequence[0]
            depth += 1
        assert depth == 5
        assert item.PatientName == "Deep"
        assert ds.Modality == "OT"


@pytest.mark.parametrize("case", sorted(DEEP_CASES))
def test_deep_nesting(case, tmp_path):
    target = tmp_path / f"{case}.dcm"
    target.write_bytes(DEEP_CASES[case]())
    jobs = [
        {"path": str(target), "mode": "path", "kwargs": {}},
        {"path": str(target), "mode": "bytes", "kwargs": {"defer_size": 64}},
    ]
    for job, result in zip(jobs, run_in_worker(jobs)):
        label = f"{case} via {job['mode']}"
        assert_robust(result, label)
        assert result["ok"] or result["exc_type"], label


# --------------------------------------------------------------------------
# (e) hypothesis: arbitrary bytes after a valid start
# --------------------------------------------------------------------------
HYPOTHESIS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PREAMBLE = b"\x00" * 128 + b"DICM"
META = {
    "explicit-le": file_meta_bytes(ExplicitVRLittleEndian),
    "implicit-le": file_meta_bytes(ImplicitVRLittleEndian),
    "explicit-be": file_meta_bytes(ExplicitVRBigEndian),
    "deflated": file_meta_bytes(DeflatedExplicitVRLittleEndian),
}
VRS = [
    b"AE",
    b"AS",
    b"AT",
    b"CS",
    b"DA",
    b"DS",
    b"DT",
    b"FD",
    b"FL",
    b"IS",
    b"LO",
    b"LT",
    b"OB",
    b"OD",
    b"OF",
    b"OL",
    b"OV",
    b"OW",
    b"PN",
    b"SH",
    b"SL",
    b"SQ",
    b"SS",
    b"ST",
    b"SV",
    b"TM",
    b"UC",
    b"UI",
    b"UL",
    b"UN",
    b"UR",
    b"US",
    b"UT",
    b"UV",
    b"XX",
]
# VRs with a 4-byte length after two reserved bytes (explicit VR)
LONG_VRS = set(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())
TAGS = [
    (0x0008, 0x0005),
    (0x0008, 0x0016),
    (0x0008, 0x1115),
    (0x0010, 0x0010),
    (0x0018, 0x0050),
    (0x0020, 0x0013),
    (0x0028, 0x0010),
    (0x0028, 0x0103),
    (0x0029, 0x0010),
    (0x0029, 0x1010),
    (0x7FE0, 0x0010),
    (0xFFFE, 0xE000),
    (0xFFFE, 0xE00D),
    (0xFFFE, 0xE0DD),
    (0x0002, 0x0010),
]


@st.composite
def element_soup(draw) -> bytes:
    """Roughly element-shaped explicit VR LE bytes (lengths often wrong)."""
    out = []
    for _ in range(draw(st.integers(0, 12))):
        group, elem = draw(st.sampled_from(TAGS))
        vr = draw(st.sampled_from(VRS))
        value = draw(st.binary(max_size=24))
        length = draw(
            st.one_of(
                st.just(len(value)),
                st.sampled_from([0, 1, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFE]),
                st.integers(0, 64),
            )
        )
        long_vr = vr in LONG_VRS
        if group == 0xFFFE:
            header = _tag(group, elem) + struct.pack("<L", length & 0xFFFFFFFF)
        elif long_vr:
            header = (
                _tag(group, elem)
                + vr
                + b"\x00\x00"
                + struct.pack("<L", length & 0xFFFFFFFF)
            )
        else:
            header = _tag(group, elem) + vr + struct.pack("<H", length & 0xFFFF)
        out.append(header + value)
    return b"".join(out)


def _check_robust(read, data: bytes, **kwargs) -> Outcome:
    out = run_reader(read, data, **kwargs)
    assert_is_exception(out, f"{len(data)} bytes {data[:200].hex()}")
    assert out.elapsed < TIME_LIMIT, f"took {out.elapsed:.1f}s"
    return out


def _check_parity(read, data: bytes) -> None:
    expected, actual = read_both(data, read)
    assert_same_outcome(expected, actual, f"{len(data)} bytes {data.hex()[:400]}")


@HYPOTHESIS
@given(body=st.binary(max_size=600))
def test_fuzz_after_preamble_robust(reader, body):
    out = _check_robust(reader, PREAMBLE + body)
    assert out.ds is not None or out.exc is not None


@HYPOTHESIS
@given(meta=st.sampled_from(sorted(META)), body=st.binary(max_size=600))
def test_fuzz_after_meta_robust(reader, meta, body):
    out = _check_robust(reader, META[meta] + body)
    assert out.ds is not None or out.exc is not None


@HYPOTHESIS
@given(soup=element_soup(), tail=st.binary(max_size=16))
def test_fuzz_element_soup_robust(reader, soup, tail):
    out = _check_robust(reader, META["explicit-le"] + soup + tail)
    assert out.ds is not None or out.exc is not None
    out = _check_robust(reader, soup + tail, force=True)
    assert out.ds is not None or out.exc is not None


@HYPOTHESIS
@given(body=st.binary(max_size=400))
def test_fuzz_after_preamble_parity(reader, body):
    _check_parity(reader, PREAMBLE + body)


@HYPOTHESIS
@given(meta=st.sampled_from(sorted(META)), body=st.binary(max_size=400))
def test_fuzz_after_meta_parity(reader, meta, body):
    _check_parity(reader, META[meta] + body)


@HYPOTHESIS
@given(soup=element_soup())
def test_fuzz_element_soup_parity(reader, soup):
    _check_parity(reader, META["explicit-le"] + soup)


STRAY_DELIMITER = _tag(0xFFFE, 0xE00D) + b"\x01\x00\x00\x00"
OB_DELIMITER = _tag(0xFFFE, 0xE00D) + b"OB\x00\x00" + b"\x00" * 4
COMMAND = _tag(0x0000, 0x0100) + struct.pack("<L", 2) + b"\x30\x00"
AFTER_META = {
    # pydicom's file meta read ends at an item delimiter, consuming its header; its
    # command set read then consumes a stray one or a partial header left there.
    "delimiter, 1 byte": STRAY_DELIMITER + b"\x00",
    "delimiter, 7 bytes": STRAY_DELIMITER + b"\x08\x00\x60\x00CS\x02",
    "delimiter, dataset": STRAY_DELIMITER + FIRST,
    "delimiter, delimiter, dataset": STRAY_DELIMITER + ITEM_END + FIRST,
    "delimiter x3, dataset": STRAY_DELIMITER + ITEM_END * 2 + FIRST,
    "delimiter, command set": STRAY_DELIMITER + COMMAND + FIRST,
    "delimiter with an OB VR": OB_DELIMITER + FIRST,
    "delimiter, implicit dataset": STRAY_DELIMITER + FIRST_IMPLICIT,
    "command set, delimiter, dataset": COMMAND + ITEM_END + FIRST,
    "3 bytes": b"\x08\x00\x60",
    "6 bytes": b"\x08\x00\x60\x00CS",
}


@pytest.mark.parametrize("meta", ["explicit-le", "implicit-le"])
@pytest.mark.parametrize("case", sorted(AFTER_META))
def test_what_follows_the_file_meta(case, meta, reader):
    _check_parity(reader, META[meta] + AFTER_META[case])

"""RLE Lossless: dcmfast's decoder against pydicom 3.0.2's own RLE plugin.

pydicom is the oracle everywhere: the same output bytes (and so dtype, shape and
values of ``pixel_array``), the same warnings (messages, in order) and the same
exceptions (class and message), compared at three levels:

* ``dcmfast._core.rle_decode_frame`` against ``pydicom.pixels.decoders.rle.
  _rle_decode_frame`` (both segment orders);
* the plugin functions, ``dcmfast._rle._decode_frame`` against pydicom's
  ``_decode_frame``, with a real ``DecodeRunner``;
* ``pydicom.pixels.pixel_array(..., decoding_plugin="dcmfast")`` against
  ``decoding_plugin="pydicom"``, whole arrays and every frame via ``index=``.

Inputs: every RLE file pydicom finds offline, synthetic frames from the PackBits
encoder in helpers.py and hand-made segments, hypothesis-generated frames, and files
converted to RLE at test time by DCMTK's ``dcmcrle`` and GDCM's ``gdcmconv --rle``
(skipped when the tool is missing: ``apt-get install dcmtk libgdcm-tools``).

With ``DCMFAST_TEST_STANDIN=pydicom`` the side under test is pydicom's own RLE
code (registered as the "dcmfast" plugin), which checks the harness itself.
"""

from __future__ import annotations

import os
import struct
import warnings
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
import pydicom.pixels.decoders.rle as pydicom_rle
import pytest
from conftest import all_test_files, file_id, using_standin
from helpers import (
    RLE_TOOLS,
    CallOutcome,
    assert_same,
    convert_with,
    encode_frame,
    header,
    packbits,
    rle_dataset,
    rle_frame,
    sample_image,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import dcmread
from pydicom.filereader import read_file_meta_info
from pydicom.pixels import pixel_array
from pydicom.pixels.decoders import RLELosslessDecoder
from pydicom.pixels.decoders.base import DecodeRunner
from pydicom.uid import RLELossless

pytestmark = pytest.mark.usefixtures("quiet_pydicom_logger", "dcmfast_plugin")

PLUGIN = "dcmfast"


# --------------------------------------------------------------------------
# the side under test
# --------------------------------------------------------------------------
def _standin_decode_frame(src, rows, columns, spp, bits, segment_order=">"):
    """pydicom's function with dcmfast's calling convention (harness check)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pydicom_rle._rle_decode_frame(
                src, rows, columns, spp, bits, segment_order
            )
        except Exception as exc:  # noqa: BLE001 - handed back like dcmfast does
            return SimpleNamespace(
                frame=None, warnings=[str(w.message) for w in caught], error=exc
            )
    return SimpleNamespace(
        frame=frame, warnings=[str(w.message) for w in caught], error=None
    )


if using_standin():
    core_decode_frame = _standin_decode_frame
    PLUGIN_TARGET = ("pydicom.pixels.decoders.rle", "_decode_frame")
    plugin_decode_frame = pydicom_rle._decode_frame
else:
    import dcmfast
    import dcmfast._rle
    from dcmfast._core import rle_decode_frame as core_decode_frame

    PLUGIN_TARGET = None
    plugin_decode_frame = dcmfast._rle._decode_frame


@pytest.fixture(scope="module")
def dcmfast_plugin():
    """dcmfast's plugin registered with pydicom for this module's tests."""
    if PLUGIN_TARGET is not None:
        RLELosslessDecoder.add_plugin(PLUGIN, PLUGIN_TARGET)
        yield
        RLELosslessDecoder.remove_plugin(PLUGIN)
        return
    registered = PLUGIN in RLELosslessDecoder.available_plugins
    dcmfast.register_decoder()
    yield
    if not registered:
        dcmfast.unregister_decoder()


# --------------------------------------------------------------------------
# outcomes
# --------------------------------------------------------------------------
def _messages(caught) -> list:
    return [(w.category, str(w.message)) for w in caught]


def _exc(exc: BaseException) -> tuple:
    return (type(exc), str(exc))


def pydicom_frame(src, rows, columns, spp, bits, order=">") -> CallOutcome:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pydicom_rle._rle_decode_frame(src, rows, columns, spp, bits, order)
        except Exception as exc:  # noqa: BLE001 - the oracle's outcome
            return CallOutcome(None, [m for _, m in _messages(caught)], _exc(exc))
    assert isinstance(frame, bytearray)
    return CallOutcome(bytes(frame), [m for _, m in _messages(caught)], None)


def dcmfast_frame(src, rows, columns, spp, bits, order=">") -> CallOutcome:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            decoded = core_decode_frame(src, rows, columns, spp, bits, order)
            frame, messages, error = decoded.frame, decoded.warnings, decoded.error
        except BaseException as exc:  # noqa: BLE001 - a Rust panic is a BaseException
            return CallOutcome(None, [], ("raised", *_exc(exc)))
    assert not caught, "rle_decode_frame must hand warnings back, not emit them"
    assert isinstance(messages, list)
    if error is None:
        assert isinstance(frame, bytearray), type(frame)
        return CallOutcome(bytes(frame), messages, None)
    assert frame is None
    assert isinstance(error, Exception), error
    return CallOutcome(None, messages, _exc(error))


def runner_for(rows, columns, spp, bits, order=None) -> DecodeRunner:
    runner = DecodeRunner(RLELossless)
    runner.set_option("rows", rows)
    runner.set_option("columns", columns)
    runner.set_option("samples_per_pixel", spp)
    runner.set_option("bits_allocated", bits)
    if order is not None:
        runner.set_option("rle_segment_order", order)
    return runner


def plugin_outcome(func: Callable, src, rows, columns, spp, bits, order) -> CallOutcome:
    runner = runner_for(rows, columns, spp, bits, order)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = func(src, runner)
        except Exception as exc:  # noqa: BLE001 - compared with the oracle's
            planar = runner.get_option("planar_configuration")
            return CallOutcome(None, _messages(caught), _exc(exc), planar)
    planar = runner.get_option("planar_configuration")
    return CallOutcome((type(frame), (), bytes(frame)), _messages(caught), None, planar)


def check_frame(src, rows, columns, spp, bits, orders=(">", "<")) -> list[CallOutcome]:
    """Compare the core function and the plugin function with pydicom's."""
    results = []
    for order in orders:
        label = f"{rows}x{columns} spp={spp} bits={bits} order={order!r}"
        expected = pydicom_frame(src, rows, columns, spp, bits, order)
        assert_same(
            expected, dcmfast_frame(src, rows, columns, spp, bits, order), label
        )
        results.append(expected)
        assert_same(
            plugin_outcome(
                pydicom_rle._decode_frame, src, rows, columns, spp, bits, order
            ),
            plugin_outcome(plugin_decode_frame, src, rows, columns, spp, bits, order),
            f"plugin {label}",
        )
    return results


def array_outcome(src, plugin: str, **kwargs) -> CallOutcome:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            arr = pixel_array(src, decoding_plugin=plugin, **kwargs)
        except Exception as exc:  # noqa: BLE001 - compared with the oracle's
            # pydicom names the failing plugin in its RuntimeError
            message = str(exc).replace(f"{plugin}: ", "<plugin>: ")
            return CallOutcome(None, _messages(caught), (type(exc), message))
    return CallOutcome((arr.dtype, arr.shape, arr.tobytes()), _messages(caught), None)


def check_arrays(src, label: str, **kwargs) -> CallOutcome:
    expected = array_outcome(src, "pydicom", **kwargs)
    actual = array_outcome(src, PLUGIN, **kwargs)
    assert_same(expected, actual, f"{label} {kwargs or ''}".strip())
    return expected


def check_file(path, label: str, orders=(None,)) -> int:
    """Whole array and every frame (via ``index=``); returns the frame count."""
    ds = dcmread(path, stop_before_pixels=True, force=True)
    frames = int(ds.get("NumberOfFrames") or 1)
    for order in orders:
        opts = {} if order is None else {"rle_segment_order": order}
        whole = check_arrays(path, label, **opts)
        if order is not None:
            continue
        for index in range(frames):
            one = check_arrays(path, label, index=index, **opts)
            if whole.exc is None and frames > 1:
                # every frame is the matching slice of the whole array
                data = whole.value[2]
                step = len(data) // frames
                assert one.value[2] == data[index * step : (index + 1) * step]
    return frames


# --------------------------------------------------------------------------
# the PackBits encoder
# --------------------------------------------------------------------------
def unpackbits(data: bytes) -> bytes:
    """Reference PackBits decoder for checking the encoder."""
    return bytes(pydicom_rle._rle_decode_segment(data))


def test_packbits_round_trip():
    rng = np.random.default_rng(0)
    cases = [b"", b"\x01", b"\x01\x01", b"\x00" * 300, bytes(range(256)) * 2]
    cases += [rng.integers(0, 3, size=n, dtype=np.uint8).tobytes() for n in (7, 500)]
    for data in cases:
        assert unpackbits(packbits(data)) == data


# --------------------------------------------------------------------------
# RLE files pydicom finds offline
# --------------------------------------------------------------------------
@cache
def rle_test_files() -> tuple[str, ...]:
    found = []
    for path in all_test_files():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                meta = read_file_meta_info(path)
        except Exception:  # noqa: BLE001, S112 - not a Part 10 file
            continue
        if meta.get("TransferSyntaxUID") == RLELossless:
            found.append(path)
    return tuple(found)


def test_rle_files_found():
    names = {Path(p).name for p in rle_test_files()}
    assert {"MR_small_RLE.dcm", "SC_rgb_rle_32bit_2frame.dcm"} <= names, names


@pytest.mark.parametrize(
    "rle_file", rle_test_files(), ids=[file_id(p) for p in rle_test_files()]
)
def test_rle_file(rle_file):
    check_file(rle_file, file_id(rle_file), orders=(None, "<"))


@pytest.mark.parametrize(
    "rle_file", rle_test_files(), ids=[file_id(p) for p in rle_test_files()]
)
def test_rle_file_frames(rle_file):
    """Each encoded frame, straight through both decoding functions."""
    from pydicom.encaps import generate_frames

    ds = dcmread(rle_file, force=True)
    frames = int(ds.get("NumberOfFrames") or 1)
    shape = (ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated)
    for frame in generate_frames(ds.PixelData, number_of_frames=frames):
        results = check_frame(frame, *shape)
        assert results[0].exc is None


def test_registered_first_and_dataset_pixel_array():
    """register_decoder() makes dcmfast pydicom's first choice for RLE."""
    if using_standin():
        pytest.skip("register_decoder is dcmfast's")
    assert RLELosslessDecoder.available_plugins[0] == PLUGIN
    path = next(p for p in rle_test_files() if p.endswith("SC_rgb_rle_2frame.dcm"))
    ds = dcmread(path)
    arr = ds.pixel_array  # dcmfast, as the first available plugin
    expected = pixel_array(path, decoding_plugin="pydicom")
    assert arr.dtype == expected.dtype and arr.shape == expected.shape
    np.testing.assert_array_equal(arr, expected)
    # and a dataset read by dcmfast.dcmread decodes the same
    ds = dcmfast.dcmread(path)
    np.testing.assert_array_equal(pixel_array(ds, decoding_plugin=PLUGIN), expected)


# --------------------------------------------------------------------------
# synthetic frames
# --------------------------------------------------------------------------
@pytest.mark.parametrize("spp", [1, 3])
@pytest.mark.parametrize("bits", [8, 16, 32, 64])
@pytest.mark.parametrize("by_row", [True, False], ids=["by-row", "across-rows"])
def test_synthetic(bits, spp, by_row):
    rng = np.random.default_rng(bits * 10 + spp)
    rows, columns, nframes = 7, 13, 3  # odd: odd-length planes and segments
    images = [sample_image(rng, rows, columns, spp, bits) for _ in range(nframes)]
    frames = [encode_frame(img, by_row=by_row) for img in images]
    for frame in frames:
        check_frame(frame, rows, columns, spp, bits)
    ds = rle_dataset(frames, rows, columns, spp, bits)
    label = f"synthetic {bits}-bit spp={spp}"
    whole = check_arrays(ds, label)
    if bits * spp <= 15 * 8:
        # the encoder's own input comes back (at most 15 segments)
        assert whole.exc is None, whole.describe()
        expected = np.stack(images).reshape(-1)
        got = np.frombuffer(whole.value[2], dtype=whole.value[0])
        np.testing.assert_array_equal(got, expected.astype(got.dtype))
    for index in range(nframes):
        check_arrays(ds, label, index=index)
    check_arrays(ds, label, rle_segment_order="<")


@pytest.mark.parametrize("bits", [8, 16, 32])
def test_synthetic_little_endian_segments(bits):
    rng = np.random.default_rng(bits)
    img = sample_image(rng, 5, 6, 3, bits)
    frame = encode_frame(img, order="<")
    results = check_frame(frame, 5, 6, 3, bits, orders=("<",))
    assert results[0].exc is None
    ds = rle_dataset([frame], 5, 6, 3, bits)
    check_arrays(ds, "little-endian segments", rle_segment_order="<")
    check_arrays(ds, "little-endian segments read as big")


def test_signed_16_bit():
    rng = np.random.default_rng(16)
    img = rng.integers(-2000, 3000, size=(9, 11), dtype=np.int16)
    frame = encode_frame(img.view(np.uint16))
    ds = rle_dataset([frame, frame], 9, 11, 1, 16, signed=True)
    whole = check_arrays(ds, "signed 16-bit")
    assert whole.value[0] == np.int16
    check_arrays(ds, "signed 16-bit", index=1)


def test_ct_like_512():
    """One realistic frame: a 512x512 16-bit CT-like slice."""
    yy, xx = np.mgrid[-256:256, -256:256]
    body = (xx / 200.0) ** 2 + (yy / 160.0) ** 2 < 1
    rng = np.random.default_rng(512)
    img = np.where(body, 1040 + rng.normal(0, 12, body.shape), 0).astype(np.uint16)
    frame = encode_frame(img)
    assert check_frame(frame, 512, 512, 1, 16, orders=(">",))[0].exc is None
    check_arrays(rle_dataset([frame], 512, 512, 1, 16), "ct-like")


# --------------------------------------------------------------------------
# hand-made segments
# --------------------------------------------------------------------------
H = header
CASES = {
    # (src, rows, columns, samples, bits)
    "literal-and-replicate": (rle_frame([b"\x01\x01\x02\xfd\x09"]), 2, 3, 1, 8),
    "odd-segment-zero-pad": (rle_frame([b"\x02\x01\x02\x03"], pad=b"\x00"), 1, 3, 1, 8),
    "odd-segment-noop-pad": (rle_frame([b"\x02\x01\x02\x03"], pad=b"\x80"), 1, 3, 1, 8),
    "odd-segment-replicate-pad": (
        rle_frame([b"\x02\x01\x02\x03"], pad=b"\xff"),
        1,
        3,
        1,
        8,
    ),
    "pad-that-decodes": (rle_frame([b"\x02\x01\x02\x03\x00\x09"]), 1, 3, 1, 8),
    "odd-segments-16-bit": (rle_frame([b"\x02\x01\x02\x03", b"\xfe\x07"]), 1, 3, 1, 16),
    "noop-headers": (rle_frame([b"\x80\x00\x05\x80\x80\xff\x06\x80"]), 1, 3, 1, 8),
    "noop-only": (rle_frame([b"\x80" * 8]), 1, 3, 1, 8),
    "run-across-rows": (rle_frame([b"\xfa\x05\x01\x01\x02"]), 3, 3, 1, 8),
    "literal-across-rows": (rle_frame([bytes([8]) + bytes(range(9))]), 3, 3, 1, 8),
    "max-replicate": (rle_frame([b"\x81\x05\x81\x06"]), 16, 16, 1, 8),
    "max-literal": (rle_frame([b"\x7f" + bytes(range(128))]), 8, 16, 1, 8),
    "rgb-16-bit": (
        rle_frame(
            [
                b"\xff\x01",
                b"\x01\x02\x03",
                b"\xff\x04",
                b"\xff\x05",
                b"\x01\x06\x07",
                b"\xff\x08",
            ]
        ),
        1,
        2,
        3,
        16,
    ),
    # too short: ValueError
    "short-segment": (rle_frame([b"\x00\x07"]), 1, 2, 1, 8),
    "empty-segment": (rle_frame([b""]), 1, 2, 1, 8),
    "literal-cut-by-end": (rle_frame([b"\x05\x01\x02"], pad=None), 2, 3, 1, 8),
    "replicate-without-value": (rle_frame([b"\x00\x01\xfe"], pad=None), 1, 4, 1, 8),
    "short-second-segment": (rle_frame([b"\xfe\x01", b"\x00\x02"]), 1, 3, 1, 16),
    # too long: a padding warning per segment
    "long-segment": (rle_frame([b"\xfd\x07"]), 1, 2, 1, 8),
    "long-every-segment": (rle_frame([b"\xfd\x07", b"\xfc\x08"]), 1, 2, 1, 16),
    # ">" decodes the LSB segment (the second) first, "<" the first
    "long-then-short": (rle_frame([b"\x00\x08", b"\xfd\x07"]), 1, 2, 1, 16),
    "long-then-short-little": (rle_frame([b"\xfd\x07", b"\x00\x08"]), 1, 2, 1, 16),
    "replicate-past-end": (rle_frame([b"\x81\x01"]), 2, 2, 1, 8),
    # segment counts
    "zero-segments": (H([]) + b"\x00\x01", 1, 1, 1, 8),
    "two-for-one": (rle_frame([b"\x00\x01", b"\x00\x02"]), 1, 1, 1, 8),
    "one-for-two": (rle_frame([b"\x00\x01"]), 1, 1, 1, 16),
    "two-for-three": (rle_frame([b"\x00\x01", b"\x00\x02"]), 1, 1, 3, 8),
    "fifteen-for-24": (rle_frame([b"\x00\x01"] * 15), 1, 1, 3, 64),
    "fifteen-for-15": (rle_frame([b"\x00\x01"] * 15), 1, 1, 15, 8),
    "sixteen-segments": (H([64] * 15, count=16) + b"\x00\x01", 1, 1, 1, 8),
    "max-u32-segments": (H([], count=2**32 - 1) + b"\x00\x01", 1, 1, 1, 8),
    "count-16-short-header": (H([], count=16, size=4), 1, 1, 1, 8),
    # offsets
    "offset-past-end": (H([1000]) + b"\xfd\x05", 2, 2, 1, 8),
    "offsets-out-of-order": (H([68, 64]) + b"\xfe\x01\x00\x00\xfe\x02", 1, 3, 1, 16),
    "offsets-equal": (H([64, 64]) + b"\xfe\x01\x00\x00", 1, 3, 1, 16),
    "offset-into-header": (H([0]) + b"\xfd\x05", 2, 2, 1, 8),
    "offset-zero-16-bit": (H([0, 64]) + b"\xfd\x05", 2, 2, 1, 16),
    "offset-max-u32": (H([2**32 - 1]) + b"\xfd\x05", 2, 2, 1, 8),
    "offset-at-end": (H([66]) + b"\xfd\x05", 2, 2, 1, 8),
    # the header
    "no-data": (b"", 1, 1, 1, 8),
    "header-63-bytes": (rle_frame([b"\x00\x01"])[:63], 1, 1, 1, 8),
    "header-only": (H([64]), 1, 1, 1, 8),
    "header-only-no-segments": (H([]), 1, 1, 1, 0),
    # bits allocated
    "bits-12": (rle_frame([b"\x00\x01", b"\x00\x01"]), 1, 1, 1, 12),
    "bits-1": (rle_frame([b"\x00\x01"]), 1, 1, 1, 1),
    "bits-12-no-data": (b"", 1, 1, 1, 12),
    "bits-24": (rle_frame([b"\x00\x01", b"\x00\x02", b"\x00\x03"]), 1, 1, 1, 24),
    "bits-0": (H([]), 1, 1, 1, 0),
    "bits-0-with-segment": (rle_frame([b"\x00\x01"]), 1, 1, 1, 0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_handmade(case):
    check_frame(*CASES[case])


def test_handmade_outcomes():
    """The cases above hit the outcomes they are named for (checked on pydicom)."""

    def outcome(case):
        return pydicom_frame(*CASES[case])

    assert outcome("short-segment").exc[0] is ValueError
    assert outcome("long-every-segment").warnings == [
        f"The decoded RLE segment contains non-conformant padding - {n} vs. 2 bytes"
        " expected"
        for n in (5, 4)
    ]
    little = pydicom_frame(*CASES["long-then-short-little"], "<")
    assert len(little.warnings) == 1 and little.exc[0] is ValueError
    assert len(outcome("long-then-short").warnings) == 1
    assert outcome("long-then-short").exc[0] is ValueError
    assert outcome("sixteen-segments").exc == (
        ValueError,
        "The RLE header specifies an invalid number of segments (16)",
    )
    assert outcome("header-63-bytes").exc == (
        ValueError,
        "The RLE header can only be 64 bytes long",
    )
    assert outcome("bits-12").exc[0] is NotImplementedError
    assert outcome("odd-segment-zero-pad").warnings == []
    assert outcome("odd-segment-replicate-pad").warnings == []
    assert len(outcome("pad-that-decodes").warnings) == 1
    assert outcome("run-across-rows").exc is None


def test_handmade_in_datasets():
    """A few hand-made frames through pixel_array (warnings and errors included)."""
    for case in (
        "run-across-rows",
        "long-every-segment",
        "short-segment",
        "two-for-one",
        "offsets-out-of-order",
        "noop-headers",
    ):
        src, rows, columns, spp, bits = CASES[case]
        ds = rle_dataset([src, src], rows, columns, spp, bits)
        check_arrays(ds, case)
        check_arrays(ds, case, index=1)


# --------------------------------------------------------------------------
# zero-sized and oversized frames, other segment orders
# --------------------------------------------------------------------------
@pytest.mark.parametrize("rows,columns", [(0, 1), (1, 0), (0, 0)])
@pytest.mark.parametrize("bits", [16, 32])
def test_zero_sized_frame(rows, columns, bits):
    segments = [b"\x00\x05"] * (bits // 8)
    check_frame(rle_frame(segments), rows, columns, 1, bits)


@pytest.mark.parametrize("rows,columns", [(0, 1), (1, 0)])
def test_zero_sized_frame_8_bit(rows, columns):
    check_frame(rle_frame([b"\x00\x05"]), rows, columns, 1, 8)
    check_frame(rle_frame([b"\x00\x05"] * 3), rows, columns, 3, 8)


@pytest.mark.parametrize("order", ["=", "", "big"])
def test_other_segment_order(order):
    check_frame(rle_frame([b"\x00\x05", b"\x00\x06"]), 1, 1, 1, 16, orders=(order,))


def test_oversized_frame_error_precedence():
    big = 2**32 - 1
    check_frame(b"", big, big, big, 64, orders=(">",))


# --------------------------------------------------------------------------
# hypothesis: random frames against pydicom's function
# --------------------------------------------------------------------------
EXAMPLES = int(os.environ.get("DCMFAST_RLE_EXAMPLES", "1500"))
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# rows/columns start at 1: zero-sized frames are test_zero_sized_frame's
shapes = st.tuples(
    st.integers(1, 6),
    st.integers(1, 6),
    st.sampled_from([1, 3]),
    st.sampled_from([8, 16, 24, 32, 64, 12, 0]),
)
orders = st.sampled_from([">", "<"])


@HYPOTHESIS
@given(
    head=st.binary(min_size=64, max_size=64) | st.binary(max_size=63),
    body=st.binary(max_size=300),
    shape=shapes,
    order=orders,
)
def test_random_bytes(head, body, shape, order):
    src = head + body if len(head) == 64 else head
    assert_same(pydicom_frame(src, *shape, order), dcmfast_frame(src, *shape, order))


@st.composite
def structured_frames(draw):
    rows, columns, spp, bits = shape = draw(shapes)
    expected = spp * max(bits, 0) // 8
    segments = []
    for _ in range(draw(st.integers(0, 15))):
        if draw(st.booleans()):
            size = draw(st.integers(0, rows * columns + 3))
            segments.append(packbits(draw(st.binary(min_size=size, max_size=size))))
        else:
            segments.append(draw(st.binary(max_size=40)))
    body = b"".join(segments)
    # offsets: mostly where the segments start, sometimes anywhere
    starts, position = [], 64
    for segment in segments:
        starts.append(position)
        position += len(segment)
    count = draw(
        st.sampled_from([expected, len(segments)])
        | st.integers(0, 16)
        | st.integers(0, 2**32 - 1)
    )
    offsets = []
    for i in range(min(count, 15)):
        nominal = starts[i] if i < len(starts) else 64 + len(body)
        offsets.append(
            draw(
                st.just(nominal)
                | st.integers(0, 64 + len(body) + 4)
                | st.integers(0, 2**32 - 1)
            )
        )
    head = struct.pack(f"<{1 + len(offsets)}L", count, *offsets).ljust(64, b"\x00")
    cut = draw(st.none() | st.integers(0, len(body)))
    src = head + (body if cut is None else body[:cut])
    return src, shape


@HYPOTHESIS
@given(frame=structured_frames(), order=orders)
def test_structured_frames(frame, order):
    src, shape = frame
    assert_same(pydicom_frame(src, *shape, order), dcmfast_frame(src, *shape, order))


# --------------------------------------------------------------------------
# files written by other encoders (DCMTK, GDCM), converted at test time
# --------------------------------------------------------------------------
NATIVE = [
    "CT_small.dcm",  # 16-bit signed
    "MR_small.dcm",  # 16-bit
    "MR_small_bigendian.dcm",
    "SC_rgb.dcm",  # 8-bit RGB
    "SC_rgb_2frame.dcm",
    "SC_rgb_16bit.dcm",
    "SC_rgb_16bit_2frame.dcm",
    "SC_rgb_32bit.dcm",
    "SC_rgb_small_odd.dcm",  # 3x3: odd-length segments
    "US1_UNCR.dcm",  # 480x640 RGB
    "OBXXXX1A.dcm",  # 600x800 8-bit palette
    "rtdose.dcm",  # 32-bit, 15 frames
    "emri_small.dcm",  # 16-bit, 10 frames
]
ENCODERS = {
    "dcmtk": (RLE_TOOLS["dcmtk"], NATIVE),
    # several fragments per frame (1 KiB each)
    "dcmtk-fragments": (
        [*RLE_TOOLS["dcmtk"], "+fs", "1"],
        ["CT_small.dcm", "SC_rgb_2frame.dcm", "rtdose.dcm", "emri_small.dcm"],
    ),
    # and an empty Basic Offset Table (single frames only: without one, pydicom
    # cannot tell where the frames of a multi-frame file start)
    "dcmtk-fragments-nobot": (
        [*RLE_TOOLS["dcmtk"], "+fs", "1", "-ot"],
        ["CT_small.dcm", "US1_UNCR.dcm"],
    ),
    # gdcmconv fails on these two (an assertion on the 3x3 file, a write
    # failure on the other)
    "gdcm": (
        RLE_TOOLS["gdcm"],
        [
            n
            for n in NATIVE
            if n not in ("SC_rgb_small_odd.dcm", "SC_rgb_16bit_2frame.dcm")
        ],
    ),
}
ENCODED = [(tool, name) for tool, (_, names) in ENCODERS.items() for name in names]


def _native_file(name: str) -> str:
    from pydicom.data import get_testdata_file

    try:
        path = get_testdata_file(name)
    except Exception:  # noqa: BLE001 - the downloader is stubbed out
        path = None
    if path is None:
        pytest.skip(f"{name} is not available offline")
    return str(path)


@pytest.fixture(scope="module")
def encoded_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("rle-encoders")


@pytest.mark.parametrize("tool,name", ENCODED, ids=[f"{t}-{n}" for t, n in ENCODED])
def test_other_encoders(tool, name, encoded_dir):
    command, _ = ENCODERS[tool]
    src = _native_file(name)
    dst = encoded_dir / f"{tool}-{name}"
    convert_with(command, src, str(dst))
    assert dst.stat().st_size > 0, f"{command[0]} wrote nothing for {name}"
    meta = read_file_meta_info(dst)
    assert meta.TransferSyntaxUID == RLELossless
    label = f"{tool} {name}"
    check_file(dst, label)
    whole = array_outcome(dst, "pydicom")
    assert whole.exc is None, whole.describe()
    # and the encoder was lossless, as pydicom decodes it
    native = pixel_array(src)
    decoded = np.frombuffer(whole.value[2], dtype=whole.value[0]).reshape(
        whole.value[1]
    )
    assert decoded.shape == native.shape, (decoded.shape, native.shape)
    np.testing.assert_array_equal(decoded, native)

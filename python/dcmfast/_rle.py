"""dcmfast's RLE Lossless decoder as a pydicom decoding plugin.

pydicom calls ``_decode_frame`` for each frame; the frame is decoded in Rust with the
GIL released and comes back in the layout pydicom's own RLE plugin returns, so
pydicom's pipeline (shape, dtype, colour handling) is unchanged.
"""

from __future__ import annotations

from typing import Any

from pydicom.misc import warn_and_log
from pydicom.pixels.decoders import RLELosslessDecoder
from pydicom.uid import RLELossless

from dcmfast._core import rle_decode_frame

DECODER_DEPENDENCIES = {RLELossless: ()}
PLUGIN = "dcmfast"


def is_available(uid: str) -> bool:
    """True for the transfer syntaxes this plugin decodes."""
    return uid in DECODER_DEPENDENCIES


def _decode_frame(src: bytes, runner: Any) -> bytearray:
    decoded = rle_decode_frame(
        src,
        runner.rows,
        runner.columns,
        runner.samples_per_pixel,
        runner.bits_allocated,
        runner.get_option("rle_segment_order", ">"),
    )
    for message in decoded.warnings:
        warn_and_log(message)
    if decoded.error is not None:
        raise decoded.error
    runner.set_option("planar_configuration", 1)
    return decoded.frame


def register_decoder() -> None:
    """Add dcmfast as pydicom's first-choice RLE Lossless decoder."""
    if PLUGIN not in RLELosslessDecoder.available_plugins:
        RLELosslessDecoder.add_plugin(PLUGIN, (__name__, "_decode_frame"))
    # pydicom tries plugins in the order they were added, and offers no public way to
    # reorder them: put dcmfast first.
    plugins = RLELosslessDecoder._available
    RLELosslessDecoder._available = {
        PLUGIN: plugins[PLUGIN],
        **{label: func for label, func in plugins.items() if label != PLUGIN},
    }


def unregister_decoder() -> None:
    """Undo :func:`register_decoder`."""
    if PLUGIN in RLELosslessDecoder.available_plugins:
        RLELosslessDecoder.remove_plugin(PLUGIN)

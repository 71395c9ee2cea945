"""FrameDataset under torch's DistributedSampler on 2 CPU ranks (gloo): the runnable
example in examples/, run as a user would, and its reads checked."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import dcmfast
import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("torch.distributed")

EXAMPLE = (
    Path(__file__).resolve().parent.parent / "examples" / "distributed_training.py"
)


@pytest.fixture
def example(monkeypatch):
    """The example as a module importable by name (spawned ranks import it so)."""
    monkeypatch.syspath_prepend(str(EXAMPLE.parent))
    return importlib.import_module(EXAMPLE.stem)


def test_every_frame_read_once_per_epoch_across_ranks(example, tmp_path):
    folder = tmp_path / "ct"
    example.make_series(folder, files=10, frames=6, size=32)  # 16 frames
    report = tmp_path / "report.json"
    assert (
        example.main(
            [str(folder), "--ranks", "2", "--epochs", "2", "--report", str(report)]
        )
        == 0
    )
    result = json.loads(report.read_text())
    frames = dcmfast.FrameDataset(folder)
    assert result["frames"] == len(frames) == 16
    assert result["epochs"] == 2
    # Each epoch: every frame read exactly once across the two ranks, and what a rank
    # got for an index was that frame (the example checks the sums against ds[i]).
    assert result["reads"] == [[1] * 16, [1] * 16]
    assert result["each_frame_once"] and result["repeated"] == [0, 0]


def test_padding_is_reported(example):
    """With an odd frame count DistributedSampler repeats a frame to even the ranks:
    the check says so rather than claiming each frame was read once."""

    frames = [np.full((2, 2), i, np.int16) for i in range(3)]
    sums = [[float(frames[i].sum()) for i in idx] for idx in ([0, 2], [1, 0])]
    epochs = [
        [{"indices": [0, 2], "sums": sums[0]}, {"indices": [1, 0], "sums": sums[1]}]
    ]
    result = example.check(frames, epochs)
    assert result["reads"] == [[2, 1, 1]]
    assert not result["each_frame_once"] and result["repeated"] == [1]
    with pytest.raises(AssertionError, match="frame 2"):
        example.check(frames, [[{"indices": [2], "sums": [0.0]}]])

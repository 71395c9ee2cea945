"""Distributed training on the frames of a DICOM folder: torch DDP on CPU ranks (gloo).

    python examples/distributed_training.py [FOLDER] [--ranks 2] [--epochs 2]

Each rank builds the same ``dcmfast.FrameDataset`` (one header scan; the dataset holds
only paths and frame counts), and torch's ``DistributedSampler`` gives each rank its
share of the frame indices, shuffled anew each epoch; the rank's ``DataLoader`` reads
those frames (decoded in Rust, rescaled to HU) and a small network trains on them with
``DistributedDataParallel``. After each epoch the ranks gather which frames they read,
and rank 0 checks that every frame was read exactly once.

Without FOLDER, a CT-like series of 32 frames (16 single-frame files and a 16-frame
file) is generated in a temporary folder. DistributedSampler pads the ranks to equal
length by repeating frames when the frame count is not a multiple of the rank count;
the check then reports those repeats.

Needs torch (``pip install dcmfast[torch]``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np


def make_series(
    folder: Path, files: int = 16, frames: int = 16, size: int = 64
) -> None:
    """`files` single-frame CT slices and one `frames`-frame file, `size` square."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files + 1):
        count = frames if i == files else 1
        pixels = rng.integers(0, 2000, (count, size, size), dtype=np.int16)
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
        ds.Modality = "CT"
        ds.PatientID = f"P{i % 4}"
        ds.InstanceNumber = i + 1
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleSlope, ds.RescaleIntercept = "1", "-1024"
        if count > 1:
            ds.NumberOfFrames = count
        ds.PixelData = (pixels if count > 1 else pixels[0]).tobytes()
        ds.save_as(folder / f"ct{i:03d}.dcm", enforce_file_format=True)


def train(
    rank: int,
    world: int,
    folder: str,
    epochs: int,
    port: int,
    loader_workers: int,
    report: str | None,
) -> None:
    """One rank's run; rank 0 checks the reads and prints (and writes `report`)."""
    import dcmfast
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler

    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    try:
        # workers=1: each rank (and each of its loader workers) reads on one thread.
        frames = dcmfast.FrameDataset(folder, modality_lut=True, workers=1)
        sampler = DistributedSampler(frames, num_replicas=world, rank=rank, seed=0)
        loader = DataLoader(
            frames,
            batch_size=4,
            sampler=sampler,
            num_workers=loader_workers,
            persistent_workers=loader_workers > 0,  # the sampler is read each epoch
        )
        torch.manual_seed(0)
        model = DistributedDataParallel(
            torch.nn.Sequential(
                torch.nn.Conv2d(1, 4, 3, padding=1),
                torch.nn.ReLU(),
                torch.nn.AdaptiveAvgPool2d(1),
                torch.nn.Flatten(),
                torch.nn.Linear(4, 1),
            )
        )
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
        epochs_read = []
        for epoch in range(epochs):
            sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
            indices = list(sampler)  # the order the loader reads in
            sums: list[float] = []
            for images in loader:  # float32 (batch, rows, columns), HU
                sums.extend(images.double().sum(dim=(1, 2)).tolist())
                loss = model(images.unsqueeze(1)).pow(2).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            gathered: list = [None] * world
            dist.all_gather_object(gathered, {"indices": indices, "sums": sums})
            epochs_read.append(gathered)
        if rank == 0:
            result = check(frames, epochs_read)
            print(json.dumps({k: v for k, v in result.items() if k != "reads"}))
            if report:
                Path(report).write_text(json.dumps(result))
    finally:
        dist.destroy_process_group()


def check(frames, epochs_read: list[list[dict]]) -> dict:
    """How often each frame was read per epoch, across ranks; and whether what a rank
    got for an index is that frame."""
    reads = []
    for gathered in epochs_read:
        counts = Counter(i for rank in gathered for i in rank["indices"])
        reads.append([counts.get(i, 0) for i in range(len(frames))])
        for rank in gathered:
            for index, total in zip(rank["indices"], rank["sums"]):
                want = float(frames[index].astype(np.float64).sum())
                if total != want:
                    raise AssertionError(f"frame {index}: sum {total}, not {want}")
    return {
        "frames": len(frames),
        "epochs": len(reads),
        "each_frame_once": all(set(r) == {1} for r in reads),
        "repeated": [sum(c - 1 for c in r if c > 1) for r in reads],
        "reads": reads,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", help="DICOM files (default: generated)")
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--loader-workers", type=int, default=1)
    parser.add_argument("--report", help="write rank 0's check as JSON here")
    args = parser.parse_args(argv)
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder
        if folder is None:
            folder = os.path.join(scratch, "ct")
            make_series(Path(folder))
        mp.spawn(
            train,
            args=(
                args.ranks,
                folder,
                args.epochs,
                free_port(),
                args.loader_workers,
                args.report,
            ),
            nprocs=args.ranks,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Functions run in spawned worker processes by test_loader.py (importable by name).

``collate`` and ``fetch`` follow torch's DataLoader contract for a map-style dataset
without needing torch: a worker process receives the pickled dataset, fetches a batch
of indices (``__getitems__`` when the dataset has it, as torch's fetcher does) and
collates the samples (numpy arrays stacked, dicts collated key by key, tuples
position by position, other values gathered in lists).
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np


def collate(samples: list[Any]) -> Any:
    first = samples[0]
    if isinstance(first, np.ndarray):
        return np.stack(samples)
    if isinstance(first, dict):
        return {key: collate([s[key] for s in samples]) for key in first}
    if isinstance(first, tuple):
        return tuple(collate(list(parts)) for parts in zip(*samples))
    return list(samples)


def fetch(dataset: Any, indices: list[int]) -> Any:
    getitems = getattr(dataset, "__getitems__", None)
    samples = getitems(indices) if getitems else [dataset[i] for i in indices]
    return collate(samples)


_DATASET: Any = None


def init_worker(payload: bytes) -> None:
    """Pool initializer: each worker unpickles its own copy of the dataset."""
    global _DATASET
    _DATASET = pickle.loads(payload)


def fetch_batch(indices: list[int]) -> Any:
    return fetch(_DATASET, indices)


def frame(args: tuple[Any, int]) -> np.ndarray:
    dataset, index = args
    sample = dataset[index]
    return sample[0] if isinstance(sample, tuple) else sample

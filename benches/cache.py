"""Where the benchmarks keep the files they generate: a cache outside the source tree.

``$DCMFAST_BENCH_CACHE`` if set, else ``$XDG_CACHE_HOME/dcmfast-bench`` (by default
``~/.cache/dcmfast-bench``). The full set is about 1.6 GB; each generator says where it
writes before it starts. Stdlib only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def cache_root() -> Path:
    chosen = os.environ.get("DCMFAST_BENCH_CACHE")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dcmfast-bench"


def cache_dir(name: str) -> Path:
    """The folder of one generated set (ct, pixels, rle, loader)."""
    return cache_root() / name


def announce(what: str, where: Path) -> None:
    """Say, before writing, what a generator writes and where."""
    print(
        f"generating {what} in {where} (set DCMFAST_BENCH_CACHE to put it elsewhere)",
        file=sys.stderr,
    )

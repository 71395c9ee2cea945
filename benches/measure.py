"""Timing and memory measurement shared by the report_*.py scripts.

Stdlib only, so importing it does not skew memory baselines of child processes.
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
import statistics
import sys
import time
import tracemalloc
from typing import Any, Callable

MIB = 1024 * 1024


def _rss_bytes(field: str) -> int:
    """VmRSS (current) or VmHWM (peak) from /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def _maxrss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # Linux reports KiB


def peak_memory(run: Callable[[Any], Any], arg: Any, trace: bool) -> tuple[int, int]:
    """Call `run(arg)` once; return (baseline, peak growth) in bytes.

    The growth is peak RSS, or the tracemalloc peak if `trace` (measure the two in
    separate processes: tracemalloc's bookkeeping inflates RSS, and a second pass
    would find caches already warm).
    """
    gc.collect()
    if trace:
        tracemalloc.start()
        run(arg)
        return 0, tracemalloc.get_traced_memory()[1]
    try:
        # Linux carries the parent's peak RSS across exec into a spawned child's
        # ru_maxrss, which would hide the child's own growth whenever the parent is
        # bigger. Reset the kernel's high-water mark instead.
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        base = _maxrss_bytes()  # not Linux: plain ru_maxrss delta
        run(arg)
        return base, _maxrss_bytes() - base
    base = _rss_bytes("VmRSS")
    run(arg)
    return base, _rss_bytes("VmHWM") - base


def in_fresh_process(func: Callable[..., Any], *args: Any) -> Any:
    """`func(*args)` in a freshly spawned interpreter (`func` must be importable)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(func, args)


def time_rounds(runners: dict, arg: Any, rounds: int, repeat: int | dict = 1) -> dict:
    """Seconds per call of each runner on `arg`, one entry per round; the order of
    runners rotates from round to round, so drift on a noisy machine evens out.

    `repeat` (a number, or one per runner name) times a runner that many times in a
    row and reports the mean; a runner repeated more than once also runs once untimed
    first in each round, so a call of a few milliseconds is timed warm, not just
    after another approach has emptied the caches.
    """
    for run in runners.values():  # warm the page cache and lazy imports
        run(arg)
    times: dict = {name: [] for name in runners}
    names = list(runners)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            run = runners[name]
            count = repeat.get(name, 1) if isinstance(repeat, dict) else repeat
            if count > 1:
                run(arg)
            t0 = time.perf_counter()
            for _ in range(count):
                run(arg)
            times[name].append((time.perf_counter() - t0) / count)
    return times


def ratio_line(times: dict, slow: str, fast: str) -> str:
    """The per-round ratio slow/fast: median and range."""
    ratios = [s / f for s, f in zip(times[slow], times[fast])]
    return (
        f"{slow}/{fast}: {statistics.median(ratios):.2f}x (median of {len(ratios)}"
        f" rounds, range {min(ratios):.2f}-{max(ratios):.2f})"
    )

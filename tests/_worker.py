"""Run the reader under test in a child process (used by test_bad_input.py).

A crash of the reader (stack overflow, abort on a failed allocation...) must
not take the test session down with it, and peak memory is only measurable
per process.  Usage: ``python _worker.py`` with a JSON list of jobs on stdin::

    [{"path": "/tmp/x.dcm", "mode": "path" | "bytes", "kwargs": {...}}, ...]

Prints one line ``RESULT:<json list>`` with, for each job, what happened.
"""

from __future__ import annotations

import faulthandler
import json
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the peak RSS (VmHWM) to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def run_job(read, job: dict) -> dict:
    import compare

    source = job["path"]
    if job.get("mode") == "bytes":
        source = Path(job["path"]).read_bytes()
    can_reset = _reset_peak()
    rss_before = _status_kb("VmRSS") or 0
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    out = compare.run_reader(read, source, **job.get("kwargs", {}))
    elapsed = time.perf_counter() - start
    maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hwm = _status_kb("VmHWM")
    if can_reset and hwm is not None:
        growth_kb = hwm - rss_before
    else:
        growth_kb = maxrss_after - maxrss_before
    exc = out.exc
    return {
        "ok": exc is None,
        "exc_type": None if exc is None else type(exc).__qualname__,
        "exc_module": None if exc is None else type(exc).__module__,
        "exc_is_exception": exc is None or isinstance(exc, Exception),
        "exc_message": None if exc is None else str(exc)[:300],
        "warnings": sorted(out.warnings),
        "access_errors": {k: v.__qualname__ for k, v in out.access_errors.items()},
        "access_errors_are_exceptions": all(
            issubclass(v, Exception) for v in out.access_errors.values()
        ),
        "elapsed": elapsed,
        "rss_growth_kb": growth_kb,
        "maxrss_growth_kb": maxrss_after - maxrss_before,
    }


def main() -> None:
    faulthandler.enable()
    sys.path.insert(0, str(HERE))
    import conftest

    read = conftest.load_reader()
    jobs = json.loads(sys.stdin.read())
    results = [run_job(read, job) for job in jobs]
    sys.stdout.write("\nRESULT:" + json.dumps(results) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

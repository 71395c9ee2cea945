"""Run pydicom's own test-suite twice, with pydicom's dcmread and with dcmfast's.

    python3 tools/pydicom_suite.py

Downloads pydicom's sdist once (pip, cached under ``.pydicom-suite/``), unpacks its
``tests/``, runs the modules below with plain pydicom, then again with every
``dcmread`` routed to dcmfast (tools/pydicom_suite_plugin.py, ``--dcmfast``). Exits
non-zero listing each test that passed with pydicom and did not pass with dcmfast
(failed, errored, crashed or missing), unless tools/pydicom_suite_allowlist.txt
names it. Both runs use pytest-xdist, so a crashing test fails alone and its worker
is restarted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pydicom

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"
ALLOWLIST = TOOLS / "pydicom_suite_allowlist.txt"
MODULES = (
    "test_filereader.py",
    "test_dataset.py",
    "test_dataelem.py",
    "test_filewriter.py",
    "test_rle_pixel_data.py",
    "test_numpy_pixel_data.py",
    "test_charset.py",
    "test_sequence.py",
    "test_valuerep.py",
    "test_multival.py",
    "test_encaps.py",
    "test_overlay_np.py",
    "test_waveform.py",
    "test_fileset.py",
    "test_json.py",
    "pixels",
)


def unpack_tests(cache: Path, version: str) -> Path:
    """``tests/`` of pydicom's sdist, downloaded and unpacked once into ``cache``."""
    top = cache / f"pydicom-{version}"
    if (top / "tests" / "conftest.py").exists():
        return top
    sdist = cache / f"pydicom-{version}.tar.gz"
    if not sdist.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps"]
            + ["--no-binary", ":all:", f"pydicom=={version}", "-d", str(cache)],
            check=True,
        )
    with tarfile.open(sdist) as tar:
        prefix = f"pydicom-{version}/tests/"
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(cache, members=members, **extra)
    return top


def run(top: Path, name: str, dcmfast: bool, jobs: int, extra: list[str]) -> Path:
    """One pytest run over MODULES; returns its JUnit XML report."""
    report = top.parent / f"{name}.xml"
    env = dict(os.environ, PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(TOOLS), env.get("PYTHONPATH")) if p
    )
    cmd = [sys.executable, "-m", "pytest", "-p", "pydicom_suite_plugin"]
    cmd += ["-p", "no:cacheprovider", "-q", "-rN"]
    cmd += ["-n", str(jobs), "--max-worker-restart=1000"]
    cmd += ["--junitxml", str(report), "-o", "junit_family=xunit2"]
    cmd += ["--dcmfast"] if dcmfast else []
    cmd += [f"tests/{m}" for m in MODULES] + extra
    start = time.monotonic()
    proc = subprocess.run(
        cmd, check=False, cwd=top, env=env, capture_output=True, text=True
    )
    took = time.monotonic() - start
    summary = proc.stdout.strip().splitlines()[-1:] or ["(no output)"]
    print(f"{name}: {summary[0]} [{took:.0f} s]", flush=True)
    if not report.exists():
        sys.stdout.write(proc.stdout[-5000:] + proc.stderr[-5000:])
        raise SystemExit(f"{name}: pytest wrote no report (exit {proc.returncode})")
    return report


def outcomes(report: Path) -> dict[str, str]:
    """Test id -> passed / failed / error / skipped, from a JUnit XML report."""
    result = {}
    for case in ET.parse(report).iter("testcase"):
        # classname is the dotted path from the rootdir: keep it from "tests." on.
        classname = case.get("classname", "")
        classname = classname[classname.find("tests.") :]
        test = f"{classname}::{case.get('name')}"
        kinds = {child.tag: child.get("message") or "" for child in case}
        outcome = "passed"
        for kind in ("error", "failure", "skipped"):
            if kind in kinds:
                outcome = {"failure": "failed"}.get(kind, kind)
                # pytest-xdist reports a worker that died (SIGSEGV, SIGBUS) this way.
                if "crashed while running" in kinds[kind]:
                    outcome = "crashed"
                break
        # A test can appear twice (a teardown error after a pass): the worst counts.
        if result.get(test, "passed") == "passed":
            result[test] = outcome
    return result


def allowed() -> dict[str, str]:
    """Allowlisted test ids -> reason (``test id  # reason`` per line)."""
    entries = {}
    if ALLOWLIST.exists():
        for line in ALLOWLIST.read_text().splitlines():
            test, _, reason = line.partition("#")
            if test.strip():
                if not reason.strip():
                    raise SystemExit(f"{ALLOWLIST.name}: no reason for {test.strip()}")
                entries[test.strip()] = reason.strip()
    return entries


def counts(result: dict[str, str]) -> str:
    kinds = ("passed", "failed", "error", "crashed", "skipped")
    return ", ".join(f"{sum(v == k for v in result.values())} {k}" for k in kinds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=ROOT / ".pydicom-suite")
    parser.add_argument(
        "--jobs", "-n", type=int, default=2, help="pytest-xdist workers"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="compare the reports of the last runs instead of running again",
    )
    parser.add_argument("pytest_args", nargs="*", help="passed on to both runs")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    top = unpack_tests(args.cache, pydicom.__version__)
    if args.reuse:
        reports = [top.parent / "pydicom.xml", top.parent / "dcmfast.xml"]
    else:
        reports = [
            run(top, name, name == "dcmfast", args.jobs, args.pytest_args)
            for name in ("pydicom", "dcmfast")
        ]
    base, ours = (outcomes(r) for r in reports)
    print(f"pydicom: {counts(base)}\ndcmfast: {counts(ours)}")
    allow = allowed()
    regressions = sorted(
        t for t, o in base.items() if o == "passed" and ours.get(t) != "passed"
    )
    failing = [t for t in regressions if t not in allow]
    for test in failing:
        print(f"  {ours.get(test, 'missing'):8} {test}")
    stale = sorted(set(allow) - set(regressions))
    for test in stale:
        print(f"  allowlisted but passing (remove it): {test}")
    if failing or stale:
        print(f"{len(failing)} tests pass with pydicom and not with dcmfast")
        return 1
    print(f"every test passing with pydicom passes with dcmfast ({len(allow)} allowed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

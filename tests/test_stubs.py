"""The extension's stub file describes exactly what the built extension exports.

mypy's stubtest imports ``dcmfast._core`` and compares every name, class, method,
parameter (name, kind, default) and ``@final`` against ``_core.pyi``, from the
signatures PyO3 records; .ci/run runs the same command. mypy comes with the
``test`` extra.
"""

import subprocess
import sys
from pathlib import Path

import dcmfast

STUB = Path(dcmfast.__file__).with_name("_core.pyi")


def test_stub_matches_extension():
    run = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "dcmfast._core"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_package_is_typed():
    assert STUB.with_name("py.typed").exists()

"""Shared fixtures for the dcmfast test-suite.

* pydicom's test-data downloader is stubbed out at import time (there is no
  network here, and ``get_testdata_file`` must never hang).
* ``load_reader()`` / the ``reader`` fixture give the ``dcmread`` under test:
  ``dcmfast.dcmread`` by default, or ``pydicom.dcmread`` when the environment
  variable ``DCMFAST_TEST_STANDIN=pydicom`` is set (to check the harness
  itself: pydicom against pydicom must always pass).
* ``all_test_files()`` lists every data file pydicom can find offline.
"""

from __future__ import annotations

import logging
import os
import sys
from functools import cache
from pathlib import Path

import pydicom
import pydicom.data
import pydicom.data.data_manager as _data_manager
import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    # make ``import compare`` work whatever pytest's import mode is
    sys.path.insert(0, str(TESTS_DIR))


def _no_download(*args, **kwargs):
    raise RuntimeError("dcmfast tests: downloading pydicom test data is disabled")


_data_manager.data_path_with_download = _no_download

STANDIN_ENV = "DCMFAST_TEST_STANDIN"


def using_standin() -> bool:
    """True when the suite runs pydicom against itself."""
    return os.environ.get(STANDIN_ENV, "").strip().lower() == "pydicom"


def load_reader():
    """Return the ``dcmread`` under test (raises ImportError if unavailable)."""
    if using_standin():
        return pydicom.dcmread
    import dcmfast

    return dcmfast.dcmread


def _register_reader_with_compare() -> None:
    import compare

    compare.READER_FACTORY = load_reader


_register_reader_with_compare()


@pytest.fixture(scope="session")
def reader():
    """The ``dcmread`` callable under test."""
    try:
        return load_reader()
    except ImportError as exc:  # pragma: no cover - depends on the build
        pytest.fail(
            f"cannot import the reader under test ({exc!r}); build dcmfast or "
            f"set {STANDIN_ENV}=pydicom to check the harness against pydicom"
        )


@pytest.fixture(scope="module")
def quiet_pydicom_logger():
    """Silence pydicom's logger: thousands of damaged files log a lot, and
    pytest's log capturing of it costs time. (Warnings are not affected.)"""
    logger = logging.getLogger("pydicom")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    yield
    logger.setLevel(level)


# --------------------------------------------------------------------------
# test files
# --------------------------------------------------------------------------
SKIP_SUFFIXES = {".py", ".pyc", ".json", ".txt", ".gz", ".bz2", ".xz", ".md"}
DATA_ROOT = Path(_data_manager.DATA_ROOT).resolve()


def _wanted(path: Path) -> bool:
    if not path.is_file():
        return False
    if path.suffix.lower() in SKIP_SUFFIXES:
        return False
    return not (path.name.startswith("__init__") or "__pycache__" in path.parts)


def _pydicom_data_root() -> Path | None:
    """Directory of the pydicom-data package's files (if installed)."""
    for source in _data_manager.external_data_sources().values():
        root = getattr(source, "data_path", None)
        if root is not None:
            return Path(root).resolve()
    return None


def file_id(path: str | Path) -> str:
    """Short, unique, stable name of a test file (used as the pytest id)."""
    path = Path(path).resolve()
    if path.is_relative_to(DATA_ROOT):
        return path.relative_to(DATA_ROOT).as_posix()
    ext = _pydicom_data_root()
    if ext is not None and path.is_relative_to(ext):
        return "pydicom-data/" + path.relative_to(ext).as_posix()
    return path.as_posix()


@cache
def _all_test_files() -> tuple[str, ...]:
    found: dict[Path, None] = {}
    # everything shipped inside the pydicom wheel's data directory
    for sub in ("test_files", "charset_files", "palettes"):
        for path in sorted((DATA_ROOT / sub).rglob("*")):
            if _wanted(path):
                found[path.resolve()] = None
    # plus whatever pydicom.data reports, including pydicom-data's files
    listed = (
        pydicom.data.get_testdata_files()
        + pydicom.data.get_charset_files()
        + pydicom.data.get_palette_files()
    )
    for name in listed:
        path = Path(name)
        if _wanted(path):
            found[path.resolve()] = None
    return tuple(sorted((str(p) for p in found), key=file_id))


def all_test_files() -> list[str]:
    """Absolute paths of every file pydicom can find offline, sorted, no dups."""
    return list(_all_test_files())


def pytest_generate_tests(metafunc):
    """Tests asking for ``dicom_file`` run once per file of all_test_files()."""
    if "dicom_file" in metafunc.fixturenames:
        files = all_test_files()
        metafunc.parametrize("dicom_file", files, ids=[file_id(f) for f in files])

"""pytest plugin for running pydicom's own test-suite (see tools/pydicom_suite.py).

Loaded with ``-p pydicom_suite_plugin``. Always: pydicom's test-data downloads fail at
once (there is no network in CI, and a test module that asks for a file pydicom would
download must not hang on a timeout). With ``--dcmfast``: every ``dcmread`` pydicom
and its tests reach is dcmfast's, through :func:`dcmfast.patch_pydicom`.
"""

from __future__ import annotations

import sys

import pydicom.data.data_manager
import pydicom.data.download
import pytest

# pydicom's own reader, bound before pytest_configure patches it.
from pydicom.filereader import dcmread as _pydicom_dcmread


def _no_download(*args, **kwargs):
    raise RuntimeError("pydicom test-suite: downloading test data is disabled")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--dcmfast",
        action="store_true",
        help="route pydicom.dcmread (and every module's copy of it) to dcmfast.dcmread",
    )


def pytest_configure(config: pytest.Config) -> None:
    for module in (pydicom.data.data_manager, pydicom.data.download):
        module.data_path_with_download = _no_download
    pydicom.data.download.download_with_progress = _no_download
    if config.getoption("dcmfast"):
        import dcmfast

        # Before collection, so test modules' ``from pydicom import dcmread`` binds
        # dcmfast's.
        dcmfast.patch_pydicom()


def pytest_report_header(config: pytest.Config) -> str:
    return "dcmread: " + ("dcmfast" if config.getoption("dcmfast") else "pydicom")


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Check the routing: no loaded module may still hold pydicom's own reader."""
    if not config.getoption("dcmfast"):
        return
    missed = [
        name
        for name, module in list(sys.modules.items())
        if vars(module).get("dcmread") is _pydicom_dcmread
    ]
    if missed:
        raise pytest.UsageError(
            "pydicom's dcmread is still reachable from: " + ", ".join(sorted(missed))
        )

"""Every Python example in README.md runs as written, on the files it names.

The README's examples read ``ct.dcm``, ``cine.dcm`` (100 frames or more) and the folders
``archive/`` and ``ct_series/``; each block runs in a fresh namespace in a folder that
holds such files. A block that imports a package not installed here is skipped, and says
which.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)


def _cine(path: Path, frames: int = 100) -> None:
    """A multi-frame file of `frames` frames, RLE Lossless, made from a test file."""
    ds = pydicom.dcmread(get_testdata_file("emri_small_RLE.dcm"))
    arr = ds.pixel_array  # (10, 64, 64)
    ds.NumberOfFrames = frames
    ds.compress(
        pydicom.uid.RLELossless,
        np.concatenate([arr] * (frames // len(arr))),
        generate_instance_uid=False,
    )
    ds.save_as(path)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme")
    shutil.copy(get_testdata_file("CT_small.dcm"), root / "ct.dcm")
    _cine(root / "cine.dcm")
    (root / "archive").mkdir()
    for name in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "SC_rgb_rle.dcm"):
        shutil.copy(get_testdata_file(name), root / "archive" / name)
    (root / "ct_series").mkdir()
    for i in range(32):
        shutil.copy(get_testdata_file("CT_small.dcm"), root / "ct_series" / f"{i}.dcm")
    return root


def _missing_import(code: str) -> str | None:
    for name in re.findall(r"^(?:from|import) (\w+)", code, re.MULTILINE):
        if importlib.util.find_spec(name) is None:
            return name
    return None


def test_readme_has_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, workdir, monkeypatch):
    code = BLOCKS[index]
    missing = _missing_import(code)
    if missing:
        pytest.skip(f"needs {missing}")
    if "to_pandas" in code and importlib.util.find_spec("pandas") is None:
        pytest.skip("needs pandas")
    monkeypatch.chdir(workdir)
    namespace: dict = {"__name__": "__readme__"}
    try:
        # The README's own code, run as a reader would run it.
        exec(compile(code, f"README.md block {index + 1}", "exec"), namespace)  # noqa: S102
    finally:
        import dcmfast

        if dcmfast.is_patched():
            dcmfast.unpatch_pydicom()
        dcmfast.unregister_decoder()
    assert os.getcwd() == str(workdir)

"""The benchmarks' generated files go to a cache outside the checkout, never into it."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHES = ROOT / "benches"


@pytest.fixture
def cache(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHES))
    return importlib.import_module("cache")


def test_default_cache_is_outside_the_checkout(cache, monkeypatch):
    monkeypatch.delenv("DCMFAST_BENCH_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/tmp/xdg")
    assert cache.cache_dir("ct") == Path("/var/tmp/xdg/dcmfast-bench/ct")
    monkeypatch.delenv("XDG_CACHE_HOME")
    root = cache.cache_root().resolve()
    assert root == (Path.home() / ".cache" / "dcmfast-bench").resolve()
    assert ROOT not in root.parents


def test_cache_can_be_moved(cache, monkeypatch, tmp_path):
    monkeypatch.setenv("DCMFAST_BENCH_CACHE", str(tmp_path))
    assert cache.cache_dir("rle") == tmp_path / "rle"


def test_no_generator_writes_under_benches():
    """Every generated set is placed by cache_dir, and announced before it is made."""
    for script in BENCHES.glob("*.py"):
        text = script.read_text()
        assert not re.search(r"Path\(__file__\)[^\n]*(corpus|cache)", text), script
        if "cache_dir(" in text and "def cache_dir" not in text:
            assert "announce(" in text or "ensure_" in text, script

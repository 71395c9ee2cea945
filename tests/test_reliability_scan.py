"""Reliability of the bulk scanner and the index (issue 13): one bad file is one error
row, tags in any order are found as pydicom finds them, non-regular files never block,
and a root that does not exist is an error that changes nothing."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import dcmfast
import pydicom
import pytest
from dcmfast import _index
from dcmfast.cli import main as cli_main
from helpers import CT, pydicom_values, query, typed
from pydicom.data import get_testdata_file

# Generous: each subprocess imports dcmfast and scans a few files (well under 2 s).
TIMEOUT = 60

ROWS_EXPLICIT = b"\x28\x00\x10\x00US\x02\x00"


def _ct_bytes(implicit: bool = False) -> bytes:
    if not implicit:
        return Path(CT).read_bytes()
    ds = pydicom.dcmread(CT)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    out = io.BytesIO()
    ds.save_as(out)
    return out.getvalue()


def _once(data: bytes, pattern: bytes) -> int:
    at = data.find(pattern)
    assert at > 0 and data.find(pattern, at + 1) == -1, pattern
    return at


def _retag(data: bytes, old: int, new: int, rest: bytes = b"") -> bytes:
    """`data` with the element header of tag `old` (followed by `rest`, e.g. its VR)
    given the tag `new`; lengths are unchanged."""
    pattern = _tag_bytes(old) + rest
    at = _once(data, pattern)
    return data[:at] + _tag_bytes(new) + data[at + 4 :]


def _tag_bytes(tag: int) -> bytes:
    return (tag >> 16).to_bytes(2, "little") + (tag & 0xFFFF).to_bytes(2, "little")


def _bad_rows_file(path: Path) -> Path:
    """CT_small with a 1-byte Rows value (its second byte dropped)."""
    data = _ct_bytes()
    at = _once(data, ROWS_EXPLICIT)
    path.write_bytes(
        data[:at]
        + b"\x28\x00\x10\x00US\x01\x00"
        + data[at + 8 : at + 9]
        + data[at + 10 :]
    )
    return path


def _run(code: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter; a hang fails the test instead of the run."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _indexed(db, column: str) -> tuple[dict[str, object], set[str]]:
    """`column` of the files table by path, and the paths of the instances table."""
    files = dict(query(db, f"SELECT path, {column} FROM files"))
    instances = {p for (p,) in query(db, "SELECT path FROM instances")}
    return files, instances


class TestOneBadValueIsOneFilesError:
    """Finding 4: a value pydicom's converter raises on makes its file an error row."""

    TAGS = ("PatientID", "Rows", "Columns", "Modality")

    @pytest.fixture
    def folder(self, tmp_path):
        shutil.copy(CT, tmp_path / "a_good.dcm")
        _bad_rows_file(tmp_path / "b_bad_rows.dcm")
        shutil.copy(CT, tmp_path / "c_good.dcm")
        return tmp_path

    def _check(self, result, folder, tags=TAGS):
        bad = str(folder / "b_bad_rows.dcm")
        assert result.paths == sorted(str(p) for p in folder.iterdir())
        errors = dict(result.errors)
        assert list(errors) == [bad]
        assert errors[bad].startswith("BytesLengthException: ")
        assert "(0028,0010)" in errors[bad]
        row = result.paths.index(bad)
        assert [result[t][row] for t in tags] == [None] * len(tags)
        good = pydicom_values(CT, tags)
        for path in (folder / "a_good.dcm", folder / "c_good.dcm"):
            row = result.paths.index(str(path))
            assert [result[t][row] for t in tags] == good

    def test_scan(self, folder):
        self._check(dcmfast.scan(folder, self.TAGS, workers=2), folder)

    def test_iter_scan(self, folder):
        batches = list(dcmfast.iter_scan(folder, self.TAGS, batch_size=1, workers=1))
        self._check(dcmfast.ScanResult.concat(batches), folder)

    def test_a_file_pydicom_reads_whole_has_its_error_too(self, folder):
        # Implicit VR and an ambiguous VR ("US or SS") wanted: pydicom reads the
        # whole file, and the bad Rows is converted from its dataset.
        data = _ct_bytes(implicit=True)
        at = _once(data, b"\x28\x00\x10\x00\x02\x00\x00\x00")
        bad = data[:at] + b"\x28\x00\x10\x00\x01\x00\x00\x00" + data[at + 8 : at + 9]
        (folder / "b_bad_rows.dcm").write_bytes(bad + data[at + 10 :])
        tags = [*self.TAGS, "PixelPaddingValue"]
        self._check(dcmfast.scan(folder, tags, workers=1), folder, tags)

    def test_index(self, folder, tmp_path_factory, capsys):
        db = tmp_path_factory.mktemp("db") / "index.sqlite"
        assert cli_main(["index", str(folder), "--db", str(db), "--quiet"]) == 0
        assert "1 errors" in capsys.readouterr().out
        files, instances = _indexed(db, "error")
        bad = str(folder / "b_bad_rows.dcm")
        assert files[bad].startswith("BytesLengthException: ")
        assert instances == {str(folder / "a_good.dcm"), str(folder / "c_good.dcm")}
        # A re-run has nothing left to do.
        assert _index.index([folder], db).read == 0

    def test_index_with_a_value_sqlite_cannot_hold(self, folder, tmp_path_factory):
        # Rows as UV 2**64 - 1: a value pydicom reads, too big for an SQLite integer.
        data = _ct_bytes()
        at = _once(data, ROWS_EXPLICIT)
        huge = b"\x28\x00\x10\x00UV\x00\x00\x08\x00\x00\x00" + b"\xff" * 8
        (folder / "b_bad_rows.dcm").write_bytes(data[:at] + huge + data[at + 10 :])
        assert pydicom.dcmread(folder / "b_bad_rows.dcm").Rows == 2**64 - 1
        db = tmp_path_factory.mktemp("db") / "index.sqlite"
        summary = _index.index([folder], db)
        assert not summary.errors
        rows, instances = _indexed(db, "rows")
        assert rows[str(folder / "b_bad_rows.dcm")] is None
        assert rows[str(folder / "a_good.dcm")] == 128
        assert len(instances) == 3


class TestTagsInAnyOrder:
    """Finding 5: the values pydicom reads from files whose tags do not ascend."""

    TAGS = (
        "SpecificCharacterSet",
        "PatientID",
        "PatientName",
        "Modality",
        "Rows",
        "Columns",
        "SliceLocation",
        "(0029,0005)",
    )

    def _check(self, path, tags=TAGS):
        result = dcmfast.scan([str(path)], tags, workers=1)
        assert not result.errors
        got = [result[t][0] for t in tags]
        assert typed(got) == typed(pydicom_values(str(path), tags))
        return got

    @pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
    def test_a_late_tag_first(self, tmp_path, implicit):
        # (0008,0005), the first element, made (0029,0005): every later tag is lower.
        data = _retag(_ct_bytes(implicit), 0x00080005, 0x00290005)
        (tmp_path / "f.dcm").write_bytes(data)
        got = self._check(tmp_path / "f.dcm")
        assert got[1:4] == ["1CT1", "CompressedSamples^CT1", "CT"]
        # Only the wanted tags before the first out-of-order one.
        got = self._check(tmp_path / "f.dcm", ["Modality", "Rows"])
        assert got == ["CT", 128]

    @pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
    def test_a_repeated_tag_takes_the_later_value(self, tmp_path, implicit):
        # The last element before the pixel data, (0043,104E) FL, made (0028,0010):
        # pydicom's Rows is the later element's value (the FL's bytes read as US).
        rest = b"" if implicit else b"FL"
        data = _retag(_ct_bytes(implicit), 0x0043104E, 0x00280010, rest)
        (tmp_path / "f.dcm").write_bytes(data)
        got = self._check(tmp_path / "f.dcm")
        assert got[4] != 128

    def test_a_wanted_tag_past_a_long_header(self, tmp_path):
        # A 100 KiB private value before an element renamed to PatientID: the scan
        # needs the whole header to find it.
        ds = pydicom.dcmread(CT)
        ds.add_new(0x00290010, "LO", "DCMFAST")
        ds.add_new(0x00291000, "OB", b"\0" * 100_000)
        out = io.BytesIO()
        ds.save_as(out)
        data = _retag(out.getvalue(), 0x00431027, 0x00100020, b"SH")
        (tmp_path / "f.dcm").write_bytes(data)
        got = self._check(tmp_path / "f.dcm")
        assert got[1] == "/1.0:1"

    def test_character_set_after_the_text(self, tmp_path):
        # (0008,0005) moved after the name it decodes: pydicom decodes with it.
        ds = pydicom.dcmread(CT)
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.PatientName = "Müller"
        ds.add_new(0x00431027, "SH", "x")
        out = io.BytesIO()
        ds.save_as(out)
        data = out.getvalue().replace("Müller".encode("latin-1"), b"M\xfcller")
        data = _retag(data, 0x00080005, 0x00290005, b"CS")
        data = _retag(data, 0x00431027, 0x00080005, b"SH")
        (tmp_path / "f.dcm").write_bytes(data)
        self._check(tmp_path / "f.dcm")

    def test_ascending_files_are_unchanged(self, tmp_path):
        shutil.copy(CT, tmp_path / "f.dcm")
        self._check(tmp_path / "f.dcm")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
class TestNonRegularFiles:
    """Finding 8: named pipes are never opened blocking by scan, index or the loader."""

    @pytest.fixture
    def folder(self, tmp_path):
        shutil.copy(CT, tmp_path / "a.dcm")
        os.mkfifo(tmp_path / "b.fifo")
        shutil.copy(CT, tmp_path / "c.dcm")
        return tmp_path

    def test_scan_of_a_directory_and_of_the_pipe(self, folder):
        fifo = str(folder / "b.fifo")
        done = _run(
            f"""
            import dcmfast
            # Skipped in a directory, as `find -type f` would.
            result = dcmfast.scan({str(folder)!r}, ["Modality"], workers=2)
            assert [p[-5:] for p in result.paths] == ["a.dcm", "c.dcm"], result.paths
            assert result["Modality"] == ["CT", "CT"] and not result.errors
            result = dcmfast.scan([{fifo!r}, {CT!r}], ["Modality"], workers=1)
            assert result["Modality"] == [None, "CT"], result["Modality"]
            assert [p for p, _ in result.errors] == [{fifo!r}], result.errors
            print(result.errors[0][1])
            batches = list(dcmfast.iter_scan([{fifo!r}], ["Modality"]))
            assert batches[0].errors, batches[0].errors
            """
        )
        assert done.returncode == 0, done.stderr
        assert "not a regular file" in done.stdout

    def test_index(self, folder, tmp_path_factory):
        db = tmp_path_factory.mktemp("db") / "index.sqlite"
        for paths in ([str(folder)], [str(folder / "b.fifo")]):
            done = _run(
                f"""
                import sys
                from dcmfast.cli import main
                sys.exit(main(["index", *{paths!r}, "--db", {str(db)!r}, "--quiet"]))
                """
            )
            assert done.returncode == 0, done.stderr
        errors, instances = _indexed(db, "error")
        assert instances == {str(folder / "a.dcm"), str(folder / "c.dcm")}
        assert "not a regular file" in errors[str(folder / "b.fifo")]

    def test_loader(self, folder):
        fifo = str(folder / "b.fifo")
        done = _run(
            f"""
            import dcmfast
            frames = dcmfast.FrameDataset({str(folder)!r})
            assert len(frames) == 2, len(frames)
            assert frames.locate(1)[0].endswith("c.dcm")
            for items in ([{fifo!r}], [{CT!r}, ({fifo!r}, 0)]):
                try:
                    dcmfast.read_batch(items, workers=2)
                except OSError as exc:
                    print(type(exc).__name__, exc)
                else:
                    raise AssertionError("read_batch read a pipe")
            """
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("not a regular file") == 2
        assert fifo in done.stdout


class TestMissingRoot:
    """Finding 9: a root that does not exist is an error, and nothing is removed."""

    @pytest.fixture
    def indexed(self, tmp_path):
        root = tmp_path / "archive"
        root.mkdir()
        for name in ("CT_small.dcm", "MR_small.dcm"):
            shutil.copy(get_testdata_file(name), root / name)
        db = tmp_path / "index.sqlite"
        _index.index([root], db)
        return root, db

    def _files(self, db):
        return set(query(db, "SELECT * FROM files"))

    @pytest.mark.parametrize("extra", [False, True], ids=["alone", "with-a-good-root"])
    def test_cli(self, indexed, capsys, extra):
        root, db = indexed
        before = self._files(db)
        assert len(before) == 2
        missing = str(root) + "-typo"
        paths = [str(root), missing] if extra else [missing]
        status = cli_main(["index", *paths, "--db", str(db), "--quiet"])
        assert status != 0
        captured = capsys.readouterr()
        assert missing in captured.err
        assert "removed" not in captured.out
        assert self._files(db) == before

    def test_api(self, indexed):
        root, db = indexed
        before = self._files(db)
        missing = root / "gone"
        with pytest.raises(FileNotFoundError, match="gone"):
            _index.index([missing], db)
        assert self._files(db) == before

    def test_a_removed_file_inside_a_root_is_still_dropped(self, indexed):
        root, db = indexed
        os.remove(root / "MR_small.dcm")
        assert _index.index([root], db).removed == 1
        assert len(self._files(db)) == 1

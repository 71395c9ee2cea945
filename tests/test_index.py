"""``dcmfast index``: the database matches the files (as pydicom reads them), re-runs
read only new and changed files, and an interrupted run leaves a consistent database."""

from __future__ import annotations

import os
import shutil
import warnings

import pydicom
import pytest
from dcmfast import _index
from dcmfast.cli import main as cli_main
from helpers import query
from pydicom.data import get_testdata_file

SOURCES = [
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_bigendian.dcm",
    "rtdose.dcm",
    "JPEG2000.dcm",
    "SC_rgb_rle.dcm",
    "image_dfl.dcm",
    "emri_small.dcm",
    "no_meta.dcm",  # not read without force: an error row
    "DICOMDIR",  # DICOM, but no instance of a series
]


@pytest.fixture
def archive(tmp_path):
    root = tmp_path / "archive"
    for i, name in enumerate(SOURCES):
        folder = root / f"d{i % 3}" / ("deep" if i % 2 else "")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(get_testdata_file(name), folder / f"{i:02d}_{name}")
    (root / "notes.txt").write_text("not DICOM")
    return root


def _tables(db) -> dict[str, set[tuple]]:
    return {table: set(query(db, f"SELECT * FROM {table}")) for table in _index.TABLES}


def _text(value):
    if value is None:
        return None
    if isinstance(value, pydicom.multival.MultiValue):
        return "\\".join(str(v) for v in value)
    return str(value)


def _expected(root) -> dict[str, set[tuple]]:
    """The tables, built from pydicom's reading of every file."""
    files, instances, series, studies, patients = set(), set(), {}, {}, {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            st = os.stat(path)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ds = pydicom.dcmread(path, stop_before_pixels=True)
            except Exception as exc:  # noqa: BLE001
                files.add((path, st.st_size, st.st_mtime_ns) + (None,) * 5 + (exc,))
                continue
            get = ds.get
            frames = get("NumberOfFrames")
            files.add(
                (
                    path,
                    st.st_size,
                    st.st_mtime_ns,
                    _text(ds.file_meta.get("TransferSyntaxUID")),
                    _text(get("SOPClassUID")),
                    None if frames is None else int(frames),
                    get("Rows"),
                    get("Columns"),
                    None,
                )
            )
            if get("SeriesInstanceUID") is None:
                continue
            pid = _text(get("PatientID")) or ""
            suid = _text(get("StudyInstanceUID")) or ""
            patients[pid] = (
                pid,
                _text(get("PatientName")),
                _text(get("PatientBirthDate")),
                _text(get("PatientSex")),
            )
            studies[suid] = (
                suid,
                pid,
                _text(get("StudyDate")),
                _text(get("StudyTime")),
                _text(get("AccessionNumber")),
                _text(get("StudyID")),
                _text(get("StudyDescription")),
            )
            number = get("SeriesNumber")
            series[_text(get("SeriesInstanceUID"))] = (
                _text(get("SeriesInstanceUID")),
                suid,
                _text(get("Modality")),
                None if number is None else int(number),
                _text(get("SeriesDescription")),
                _text(get("BodyPartExamined")),
            )
            number = get("InstanceNumber")
            instances.add(
                (
                    path,
                    _text(get("SOPInstanceUID")),
                    _text(get("SOPClassUID")),
                    _text(get("SeriesInstanceUID")),
                    None if number is None else int(number),
                )
            )
    return {
        "patients": set(patients.values()),
        "studies": set(studies.values()),
        "series": set(series.values()),
        "instances": instances,
        "files": files,
    }


def _assert_matches(db, root):
    got, want = _tables(db), _expected(root)
    for table in ("patients", "studies", "series", "instances"):
        assert got[table] == want[table], table
    # Errors: the scan's message where pydicom raised; the rest equal.
    errors = {row[0] for row in want["files"] if isinstance(row[-1], Exception)}
    assert {row[0] for row in got["files"] if row[-1] is not None} == errors
    assert {r for r in got["files"] if r[0] not in errors} == {
        r for r in want["files"] if r[0] not in errors
    }


def test_index_matches_pydicom(archive, tmp_path):
    db = tmp_path / "index.sqlite"
    summary = _index.index([archive], db)
    assert summary.new == len(SOURCES) + 1
    assert summary.counts["files"] == len(SOURCES) + 1
    assert summary.counts["instances"] == len(SOURCES) - 2
    assert len(summary.errors) == 2  # no_meta.dcm and notes.txt
    _assert_matches(db, archive)


def test_rerun_reads_only_changed_files(archive, tmp_path, monkeypatch):
    db = tmp_path / "index.sqlite"
    _index.index([archive], db)
    files = sorted(
        os.path.join(d, n) for d, _, names in os.walk(archive) for n in names
    )
    changed = next(f for f in files if f.endswith("CT_small.dcm"))
    ds = pydicom.dcmread(changed)
    ds.PatientName = "Changed^Name"
    ds.PatientID = "NEW-ID"
    ds.save_as(changed)
    removed = next(f for f in files if f.endswith("MR_small.dcm"))
    os.remove(removed)
    added = os.path.join(archive, "d1", "added.dcm")
    shutil.copy(get_testdata_file("MR_small_RLE.dcm"), added)

    read = []
    scan = _index.iter_scan

    def recording_scan(paths, *args, **kwargs):
        read.extend(paths)
        return scan(paths, *args, **kwargs)

    monkeypatch.setattr(_index, "iter_scan", recording_scan)
    summary = _index.index([archive], db)
    assert sorted(read) == sorted([changed, added])
    assert (summary.new, summary.changed, summary.removed) == (1, 1, 1)
    assert summary.unchanged == len(files) - 2
    _assert_matches(db, archive)
    # Nothing changed: nothing read.
    read.clear()
    assert _index.index([archive], db).read == 0
    assert read == []


def test_interrupted_run_is_consistent_and_resumable(archive, tmp_path, monkeypatch):
    db = tmp_path / "index.sqlite"
    monkeypatch.setattr(_index, "BATCH", 3)
    write = _index._write_batch
    calls = []

    def interrupting(*args):
        calls.append(1)
        if len(calls) == 2:
            write(*args)  # the batch is half written when Ctrl-C arrives
            raise KeyboardInterrupt
        write(*args)

    monkeypatch.setattr(_index, "_write_batch", interrupting)
    summary = _index.index([archive], db)
    assert summary.interrupted
    tables = _tables(db)
    assert len(tables["files"]) == 3  # the first batch only: the second rolled back
    indexed = {row[0] for row in tables["files"]}
    assert {row[0] for row in tables["instances"]} <= indexed
    monkeypatch.setattr(_index, "_write_batch", write)
    summary = _index.index([archive], db)
    assert not summary.interrupted
    assert summary.unchanged == 3
    _assert_matches(db, archive)


def test_cli_index_and_export(archive, tmp_path, capsys):
    db = str(tmp_path / "cli.sqlite")
    out = tmp_path / "export"
    status = cli_main(
        ["index", str(archive), "--db", db, "--quiet", "--export", str(out)]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert f"{len(SOURCES) - 2} instances" in printed
    assert "2 errors" in printed
    for table in _index.TABLES:
        lines = (out / f"{table}.csv").read_text().splitlines()
        assert len(lines) == 1 + len(_tables(db)[table])
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return
    assert (
        cli_main(
            [
                "index",
                str(archive),
                "--db",
                db,
                "--quiet",
                "--export",
                str(out),
                "--format",
                "parquet",
            ]
        )
        == 0
    )
    assert pq.read_table(out / "series.parquet").num_rows == len(_tables(db)["series"])

"""``dcmfast index``: the database matches the files (as pydicom reads them), re-runs
read only new and changed files, and an interrupted run leaves a consistent database."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import dcmfast
import pydicom
import pytest
from dcmfast import _index
from dcmfast.cli import main as cli_main
from helpers import ARCHIVE_SOURCES, query
from pydicom.data import get_testdata_file

SOURCES = ARCHIVE_SOURCES


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
    # The summary counts what was written, and what was not.
    assert summary.new == 3 and summary.changed == 0
    assert summary.not_read == len(_files_under(archive)) - 3
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
    assert "files without a preamble are read with --force" in printed
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


def _files_under(root) -> list[str]:
    return [os.path.join(d, n) for d, _, names in os.walk(root) for n in names]


def test_interrupted_walk_removes_and_reads_nothing(archive, tmp_path, monkeypatch):
    db = tmp_path / "index.sqlite"
    _index.index([archive], db)
    before = _tables(db)
    walk = _index._walk_files

    def interrupted_walk(roots):
        for i, found in enumerate(walk(roots)):
            if i == 2:
                raise KeyboardInterrupt
            yield found

    monkeypatch.setattr(_index, "_walk_files", interrupted_walk)
    (archive / "notes.txt").write_text("changed, but not reached")
    summary = _index.index([archive], db)
    assert summary.interrupted
    # The walk did not finish: no file it had not reached counts as gone.
    assert (summary.removed, summary.read) == (0, 0)
    assert _tables(db) == before


def test_force_reads_files_without_preamble_and_retries_failures(archive, tmp_path):
    db = tmp_path / "index.sqlite"
    summary = _index.index([archive], db)
    failed = {path for path, _ in summary.errors}
    assert any(p.endswith("no_meta.dcm") for p in failed)
    summary = _index.index([archive], db, force=True)
    # The unchanged files that failed are read again, now with force.
    assert summary.changed == len(failed)
    assert not any(p.endswith("no_meta.dcm") for p, _ in summary.errors)
    rows = query(db, "SELECT path, error FROM files WHERE path LIKE '%no_meta.dcm'")
    assert rows and rows[0][1] is None


def test_progress_without_a_terminal_is_one_line(archive, tmp_path):
    stream = io.StringIO()
    summary = _index.index([archive], tmp_path / "index.sqlite", progress=stream)
    text = stream.getvalue()
    assert "\r" not in text and text.count("\n") == 1
    assert f"{summary.read}/{summary.read} files" in text
    # The summary's rate is the bar's: files read over the time reading took.
    assert 0 < summary.read_seconds <= summary.seconds
    out = io.StringIO()
    _index.print_summary(summary, "db", out)
    assert f"read in {summary.read_seconds:.2f} s" in out.getvalue()


def test_cli_exports_an_existing_database_alone(archive, tmp_path, capsys):
    db = str(tmp_path / "cli.sqlite")
    assert cli_main(["index", str(archive), "--db", db, "--quiet"]) == 0
    out = tmp_path / "export"
    assert cli_main(["index", "--db", db, "--export", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{t}.csv" for t in _index.TABLES
    )
    missing = str(tmp_path / "missing.sqlite")
    assert cli_main(["index", "--db", missing, "--export", str(out)]) == 2
    assert "no database" in capsys.readouterr().err
    assert not os.path.exists(missing)
    with pytest.raises(SystemExit) as exited:
        cli_main(["index", "--db", db])
    assert exited.value.code == 2
    assert "--export" in capsys.readouterr().err


def test_cli_export_to_a_file_is_a_clear_error(archive, tmp_path, capsys):
    db = str(tmp_path / "cli.sqlite")
    target = tmp_path / "a_file"
    target.write_text("in the way")
    status = cli_main(
        ["index", str(archive), "--db", db, "--quiet", "--export", str(target)]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert f"cannot export to {target}" in err and "Traceback" not in err


def test_cli_help_and_version(capsys):
    for argv in (["--version"], ["--help"], ["index", "--help"]):
        with pytest.raises(SystemExit) as exited:
            cli_main(argv)
        assert exited.value.code == 0
    out = capsys.readouterr().out
    assert f"dcmfast {dcmfast.__version__}" in out
    assert "``" not in out  # plain text, not reStructuredText
    assert "--force" in out and "(default: csv" in out


def test_cli_dump_into_a_closed_pipe_is_quiet():
    """`dcmfast dump FILE | head`: no BrokenPipeError traceback."""
    files = [get_testdata_file("CT_small.dcm")] * 200  # far more than a pipe holds
    code = "import sys; from dcmfast.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "dump", *files],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100)
    proc.stdout.close()  # as `head` does once it has its lines
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_cli_dump_errors_name_pydicoms_exception_and_the_option(tmp_path, capsys):
    """A file that is not DICOM is named with pydicom's InvalidDicomError (what a
    pydicom user catches), and the hint names --force, not force=True."""
    text = tmp_path / "notes.txt"
    text.write_text("not DICOM")
    no_preamble = tmp_path / "no_preamble.dcm"
    no_preamble.write_bytes(Path(get_testdata_file("CT_small.dcm")).read_bytes()[132:])
    assert cli_main(["dump", str(text), str(no_preamble)]) == 1
    err = capsys.readouterr().err
    assert f"{text}: InvalidDicomError: File is missing" in err
    assert "files without a preamble are read with --force" in err
    assert cli_main(["dump", "--force", str(no_preamble)]) == 0
    out, err = capsys.readouterr()
    assert "CompressedSamples^CT1" in out and not err

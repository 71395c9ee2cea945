"""``dcmfast.dask``: on a 2-worker local cluster, ``scan`` equals the single-process
scan (values, dtypes, order, error rows) for every kind of input, projection reads
only the projected tags, and ``index`` equals the SQLite index table by table, on a
first run and on incremental re-runs."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

import dcmfast
import dcmfast.dask as dcmfast_dask
from dcmfast import _index, _scan
from dcmfast.cli import main as cli_main
from helpers import ARCHIVE_SOURCES
from pydicom.data import get_testdata_file

TAGS = [
    "PatientID",
    "PatientName",
    "Rows",
    "SeriesNumber",
    "PixelSpacing",
    "(0008,0016)",
    (0x0020, 0x0013),
    "ReferencedImageSequence[0].ReferencedSOPInstanceUID",
]
SOURCES = [
    *ARCHIVE_SOURCES,
    "rtplan.dcm",
    "ExplVR_BigEndNoMeta.dcm",
]


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _make_tree(root) -> None:
    """pydicom's files in nested folders (patients / studies), a non-DICOM file, a
    truncated file and an empty folder."""
    for i, name in enumerate(SOURCES * 2):
        folder = root / f"patient{i % 4}" / f"study{i % 3}"
        if i % 5 == 0:
            folder = folder / "series"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(get_testdata_file(name), folder / f"{i:02d}_{name}")
    (root / "notes.txt").write_text("not DICOM")
    data = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    (root / "patient1" / "broken.dcm").write_bytes(data[:700])  # cut in an element
    (root / "empty").mkdir()
    # Links back up the tree: a walk does not follow them (nor may its parts).
    (root / "patient1" / "up").symlink_to(root, target_is_directory=True)
    (root / "patient2" / "study0" / "here").symlink_to(
        root / "patient2", target_is_directory=True
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask") / "archive"
    _make_tree(root)
    return root


def _files(root) -> list[str]:
    return [entry.path for entry in _scan.walk_entries(str(root))]


def _expected(paths, force=False) -> pd.DataFrame:
    """The single-process scan's frame, with the error column the Dask one adds."""
    result = dcmfast.scan(paths, TAGS, force=force)
    frame = result.to_pandas()
    errors = dict(result.errors)
    frame["error"] = pd.Series([errors.get(p) for p in result.paths], dtype=object)
    return frame


def _assert_same_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    got = got.reset_index(drop=True)
    assert list(got.columns) == list(want.columns)
    assert got.dtypes.tolist() == want.dtypes.tolist() == [object] * len(want.columns)
    assert got.to_dict("list") == want.to_dict("list")


def _manifest(tmp_path, kind: str, paths: list[str], column: str = "path"):
    """A manifest of `paths` of `kind`, with paths relative to its folder."""
    folder = tmp_path / "manifests"
    folder.mkdir(exist_ok=True)
    relative = [os.path.relpath(p, folder) for p in paths]
    if kind == "txt":
        target = folder / "files.txt"
        target.write_text("\n".join(relative[:3] + [""] + relative[3:]) + "\n\n")
    elif kind == "lst":
        target = folder / "files.lst"
        target.write_text("\r\n".join(relative))
    elif kind == "csv":
        target = folder / "files.csv"
        pd.DataFrame({"n": range(len(paths)), column: relative}).to_csv(
            target, index=False
        )
    else:
        target = folder / "files.parquet"
        pq.write_table(
            pa.table({"n": list(range(len(paths))), column: relative}), target
        )
    return target


# --------------------------------------------------------------------------
# scan
# --------------------------------------------------------------------------
@pytest.mark.parametrize("files_per_partition", [10_000, 4, 20])
def test_scan_of_a_directory_equals_the_single_process_scan(
    client, tree, files_per_partition
):
    ddf = dcmfast_dask.scan(tree, TAGS, files_per_partition=files_per_partition)
    want = _expected(tree)
    assert want["error"].notna().sum() >= 3  # notes.txt, broken.dcm, no_meta.dcm
    _assert_same_frame(ddf.compute(), want)
    if files_per_partition == 4:
        assert ddf.npartitions >= 6


def test_written_from_the_workers_as_parquet_with_a_schema(client, tree, tmp_path):
    """docs/scaling.md's recipe: object columns need their Arrow types declared (Dask
    cannot infer them from its meta), then the workers write the rows as they are."""
    tags = ["PatientID", "ImagePositionPatient", "Rows"]
    ddf = dcmfast_dask.scan(tree, tags, files_per_partition=5)
    schema = pa.schema(
        {
            "path": pa.string(),
            "PatientID": pa.string(),
            "ImagePositionPatient": pa.list_(pa.float64()),
            "Rows": pa.int64(),
            "error": pa.string(),
        }
    )
    ddf.to_parquet(tmp_path / "scan", schema=schema, write_index=False)
    got = pq.read_table(tmp_path / "scan").to_pydict()
    want = dcmfast.scan(tree, tags).to_pandas()
    for name in ("path", *tags):
        assert got[name] == want[name].tolist()
    errors = dict(dcmfast.scan(tree, tags).errors)
    assert got["error"] == [errors.get(p) for p in want["path"]]
    assert any(got["error"]) and isinstance(
        pd.read_parquet(tmp_path / "scan"), pd.DataFrame
    )


def test_force_and_threads_are_the_single_process_scans(client, tree):
    ddf = dcmfast_dask.scan(
        tree, TAGS, files_per_partition=9, force=True, threads_per_partition=2
    )
    want = _expected(tree, force=True)
    assert want["error"].notna().sum() < _expected(tree)["error"].notna().sum()
    _assert_same_frame(ddf.compute(), want)


@pytest.mark.parametrize("files_per_partition", [6, 8, 20])
def test_a_directory_is_listed_by_the_tasks_in_groups(tree, files_per_partition):
    """The driver lists the top levels only; the groups' walks, in order, are the
    single-process walk (links back up the tree not followed in either)."""
    units, estimate = dcmfast_dask.plan_directory(str(tree), files_per_partition)
    assert any(kind == dcmfast_dask.TREE for _, kind, _ in units)
    assert 0 < estimate <= files_per_partition // 4
    groups = dcmfast_dask._groups(units, files_per_partition, estimate)
    assert len(groups) > 1
    walked = [list(dcmfast_dask._scan_paths(group)) for group in groups]
    assert [p for paths in walked for p in paths] == _files(tree)
    # Big folders are listed further on the driver; a partition of one file each
    # lists nothing itself.
    assert all(
        kind != dcmfast_dask.TREE
        for _, kind, _ in dcmfast_dask.plan_directory(str(tree), 1)[0]
    )


@pytest.mark.parametrize("kind", ["list", "txt", "lst", "parquet", "csv", "series"])
def test_scan_of_each_input_kind_equals_the_single_process_scan(
    client, tree, tmp_path, kind
):
    files = _files(tree)
    if kind == "list":
        # Files and a folder, as dcmfast.scan takes them.
        source = [*files[:3], str(tree / "patient2"), *files[-4:]]
        want = _expected(source)
    elif kind == "series":
        source = pd.Series([*files[:2], None, *files[2:], float("nan")])  # gaps skipped
        want = _expected(files)
    else:
        column = "file" if kind == "csv" else "path"
        source = _manifest(tmp_path, kind, files, column)
        ddf = dcmfast_dask.scan(source, TAGS, files_per_partition=5, path_column=column)
        _assert_same_frame(ddf.compute(), _expected(files))
        return
    ddf = dcmfast_dask.scan(source, TAGS, files_per_partition=5)
    assert ddf.npartitions > 1
    _assert_same_frame(ddf.compute(), want)


def test_projection_reads_only_the_projected_tags(client, tree, monkeypatch):
    ddf = dcmfast_dask.scan(tree, TAGS, files_per_partition=8)
    projected = ddf[["PatientID"]]
    want = _expected(tree)
    _assert_same_frame(projected.compute(), want[["PatientID"]])
    assert ddf["Rows"].compute().tolist() == want["Rows"].tolist()
    # The optimized graph reads its partitions with columns=["PatientID"] ...
    (node,) = [
        n
        for n in projected.optimize().expr.walk()
        if type(n).__name__ == "FromMapProjectable"
    ]
    assert node.kwargs["columns"] == ["PatientID"]
    # ... and a partition read so asks the scan for that tag only.
    asked = []
    scan = _scan.scan

    def spy(paths, tags, **kwargs):
        asked.append(list(tags))
        return scan(paths, tags, **kwargs)

    monkeypatch.setattr(_scan, "scan", spy)
    part = node.func(node.iterables[0][0], **node.kwargs)
    assert asked == [["PatientID"]]
    assert list(part.columns) == ["PatientID"] and len(part) > 0


def test_empty_inputs_give_an_empty_frame_of_the_declared_dtypes(client, tmp_path):
    want = _expected([])
    assert want.dtypes.tolist() == [object] * (len(TAGS) + 2)
    _assert_same_frame(dcmfast_dask.scan(tmp_path, TAGS).compute(), want)
    _assert_same_frame(dcmfast_dask.scan([], TAGS).compute(), want)


def test_bad_inputs_are_refused_at_call_time(tmp_path):
    missing = tmp_path / "nowhere"
    for source in (
        missing,
        str(missing),
        tmp_path / "gone.txt",
        tmp_path / "x.parquet",
    ):
        with pytest.raises(FileNotFoundError):
            dcmfast_dask.scan(source, TAGS)
    with pytest.raises(FileNotFoundError):
        dcmfast_dask.index(missing, tmp_path / "out")
    table = tmp_path / "table.parquet"
    pq.write_table(pa.table({"file": ["a"], "n": [1]}), table)
    with pytest.raises(ValueError, match=r"no column 'path' \(its columns: file, n\)"):
        dcmfast_dask.scan(table, TAGS)
    sheet = tmp_path / "table.csv"
    sheet.write_text("file,n\na,1\n")
    with pytest.raises(ValueError, match=r"its columns: file, n"):
        dcmfast_dask.scan(sheet, TAGS)
    with pytest.raises(ValueError, match="files_per_partition"):
        dcmfast_dask.scan(tmp_path, TAGS, files_per_partition=0)
    with pytest.raises(TypeError, match="manifest"):
        dcmfast_dask.scan(42, TAGS)
    with pytest.raises(TypeError, match="paths are str or os.PathLike, not 3"):
        dcmfast_dask.scan([str(tmp_path), 3], TAGS)
    with pytest.raises(ValueError, match="not a DICOM keyword"):
        dcmfast_dask.scan(tmp_path, ["NoSuchKeyword"])
    not_parquet = tmp_path / "fake.parquet"
    not_parquet.write_text("text")
    with pytest.raises(ValueError, match="not a Parquet file"):
        dcmfast_dask.scan(not_parquet, TAGS)


def test_import_without_dask_names_the_extra():
    code = (
        "import sys; sys.modules['dask'] = None\n"
        "try:\n    import dcmfast.dask\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "pip install dcmfast[dask]" in out


# --------------------------------------------------------------------------
# index
# --------------------------------------------------------------------------
def _sqlite_tables(db) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {
            t: sorted(conn.execute(f"SELECT * FROM {t}"), key=repr)
            for t in _index.TABLES
        }
    finally:
        conn.close()


def _parquet_tables(out) -> dict[str, list[tuple]]:
    tables = {}
    for name in _index.TABLES:
        table = pq.read_table(os.path.join(out, name))
        assert table.schema.equals(
            dcmfast_dask.arrow_schema(_index.TABLE[name]), check_metadata=False
        )
        parts = sorted(os.listdir(os.path.join(out, name)))
        assert parts == [f"part-{i:05d}.parquet" for i in range(len(parts))]
        rows = zip(*(column.to_pylist() for column in table.columns))
        tables[name] = sorted(rows, key=repr)
    return tables


def _assert_same_index(out, db, dask_summary, sqlite_summary) -> None:
    assert _parquet_tables(out) == _sqlite_tables(db)
    for count in ("new", "changed", "unchanged", "removed"):
        assert getattr(dask_summary, count) == getattr(sqlite_summary, count), count
    assert sorted(dask_summary.errors) == sorted(sqlite_summary.errors)
    assert dask_summary.counts == sqlite_summary.counts
    assert sorted(os.listdir(out)) == sorted(_index.TABLES)  # nothing staged left


def test_index_equals_the_sqlite_index_and_reruns_incrementally(client, tmp_path):
    root = tmp_path / "archive"
    _make_tree(root)
    out, db = tmp_path / "parquet", tmp_path / "index.sqlite"

    def both(**options):
        got = dcmfast_dask.index(root, out, files_per_partition=8, **options)
        want = _index.index([root], db, **options)
        _assert_same_index(out, db, got, want)
        return got

    first = both()
    assert first.new == len(_files(root)) and first.errors
    assert first.counts["instances"] > 0 and first.counts["patients"] > 1
    parts = sorted(str(p) for p in out.rglob("*.parquet"))
    written = {p: os.stat(p).st_mtime_ns for p in parts}
    assert both().read == 0  # nothing changed: nothing read,
    assert {p: os.stat(p).st_mtime_ns for p in parts} == written  # nor written

    # Changed, added and removed files, and a folder gone.
    changed = next(p for p in _files(root) if p.endswith("CT_small.dcm"))
    shutil.copy(get_testdata_file("MR_small.dcm"), changed)
    (root / "patient0" / "notes.txt").write_text("still not DICOM, longer now")
    added = root / "patient9" / "study0"
    added.mkdir(parents=True)
    for name in ("CT_small.dcm", "rtstruct.dcm"):
        shutil.copy(get_testdata_file(name), added / name)
    os.remove(next(p for p in _files(root) if p.endswith("rtdose.dcm")))
    shutil.rmtree(root / "patient3")
    second = both()
    assert second.new == 3 and second.changed == 1 and second.removed > 1
    # With force, the files that failed are read again (no_meta.dcm now reads).
    failed = [row for row in _sqlite_tables(db)["files"] if row[-1] is not None]
    third = both(force=True)
    assert (third.new, third.changed) == (0, len(failed))
    assert len(third.errors) < len(failed)


def test_index_of_a_manifest_and_of_several_roots(client, tree, tmp_path):
    files = _files(tree)
    manifest = _manifest(tmp_path, "txt", files[:10])
    out, db = tmp_path / "from-manifest", tmp_path / "manifest.sqlite"
    got = dcmfast_dask.index(manifest, out, files_per_partition=3)
    _assert_same_index(out, db, got, _index.index(files[:10], db))
    roots = [tree / "patient1", files[0]]
    out, db = tmp_path / "from-roots", tmp_path / "roots.sqlite"
    got = dcmfast_dask.index(roots, out, files_per_partition=3)
    _assert_same_index(out, db, got, _index.index(roots, db))


def test_an_interrupted_index_run_leaves_the_previous_index(
    client, tmp_path, monkeypatch
):
    root = tmp_path / "archive"
    _make_tree(root)
    out, db = tmp_path / "parquet", tmp_path / "index.sqlite"
    dcmfast_dask.index(root, out)
    before = _parquet_tables(out)
    shutil.rmtree(root / "patient2")
    # Ctrl-C while the new tables are written: the old ones stay.
    write = dcmfast_dask._write_parquet

    def interrupted(*args):
        write(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(dcmfast_dask, "_write_parquet", interrupted)
    with pytest.raises(KeyboardInterrupt):
        dcmfast_dask.index(root, out)
    assert _parquet_tables(out) == before
    # Ctrl-C while they are swapped in: the next run completes the swap first.
    monkeypatch.setattr(dcmfast_dask, "_write_parquet", write)
    rename, moves = os.rename, []

    def interrupted_rename(source, target):
        moves.append(target)
        if len(moves) == 3:
            raise KeyboardInterrupt
        rename(source, target)

    monkeypatch.setattr(dcmfast_dask.os, "rename", interrupted_rename)
    with pytest.raises(KeyboardInterrupt):
        dcmfast_dask.index(root, out)
    monkeypatch.setattr(dcmfast_dask.os, "rename", rename)
    assert os.path.exists(out / ".swap")
    summary = dcmfast_dask.index(root, out)
    assert summary.read == 0
    _index.index([root], db)
    assert _parquet_tables(out) == _sqlite_tables(db)


def test_the_index_inside_its_archive_is_not_indexed(client, tmp_path):
    root = tmp_path / "archive"
    _make_tree(root)
    out = root / "index"
    first = dcmfast_dask.index(root, out, files_per_partition=5)
    again = dcmfast_dask.index(root, out, files_per_partition=5)
    assert first.new == len(_files(root)) - len(_files(out))
    assert (again.read, again.removed) == (0, 0)
    paths = pq.read_table(out / "files").column("path").to_pylist()
    assert paths and not any(p.startswith(str(out)) for p in paths)


def test_an_unrelated_parquet_folder_is_refused(client, tree, tmp_path):
    out = tmp_path / "out"
    (out / "files").mkdir(parents=True)
    pq.write_table(pa.table({"x": [1]}), out / "files" / "part-00000.parquet")
    with pytest.raises(ValueError, match="not a table of a dcmfast index"):
        dcmfast_dask.index(tree / "patient0", out)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------
def test_cli_indexes_on_the_cluster(client, tree, tmp_path, capsys):
    out, db = tmp_path / "parquet", tmp_path / "index.sqlite"
    address = client.scheduler.address
    status = cli_main(
        ["index", str(tree), "--dask", address, "--parquet", str(out), "--quiet"]
    )
    assert status == 0
    printed = capsys.readouterr().out
    sqlite_summary = _index.index([tree], db)
    assert printed.startswith(
        f"{out}: {sqlite_summary.counts['patients']} patients,"
        f" {sqlite_summary.counts['studies']} studies"
    )
    assert f"{len(sqlite_summary.errors)} errors" in printed
    assert "files without a preamble are read with --force" in printed
    assert _parquet_tables(out) == _sqlite_tables(db)
    # Again on a local cluster of its own: nothing to read.
    status = cli_main(["index", str(tree), "--dask", "local", "--parquet", str(out)])
    assert status == 0
    files = sqlite_summary.counts["files"]
    assert f"this run: 0 new, 0 changed, 0 removed, {files} unchanged" in (
        capsys.readouterr().out
    )
    assert _parquet_tables(out) == _sqlite_tables(db)


def test_cli_errors(client, tree, tmp_path, capsys, monkeypatch):
    out = str(tmp_path / "out")
    for args in (["--dask", "local"], ["--parquet", out]):
        with pytest.raises(SystemExit) as exit:
            cli_main(["index", str(tree), *args])
        assert exit.value.code == 2
        assert "--dask and --parquet go together" in capsys.readouterr().err
    address = client.scheduler.address
    assert (
        cli_main(["index", str(tmp_path / "gone"), "--dask", address, "--parquet", out])
        == 2
    )
    assert "gone: No such file or directory" in capsys.readouterr().err
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    status = cli_main(
        ["index", str(tree), "--dask", address, "--parquet", str(blocked)]
    )
    assert status == 2
    assert capsys.readouterr().err == f"dcmfast index: {blocked}: File exists\n"
    manifest = tmp_path / "table.csv"
    manifest.write_text("file\na.dcm\n")
    status = cli_main(["index", str(manifest), "--dask", address, "--parquet", out])
    assert status == 2
    assert "has no column 'path' (its columns: file)" in capsys.readouterr().err
    monkeypatch.setattr("dcmfast.cli.CONNECT_TIMEOUT", "0.5s")
    status = cli_main(
        ["index", str(tree), "--dask", "tcp://127.0.0.1:9", "--parquet", out]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("dcmfast index: cannot reach the Dask scheduler at tcp://")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    monkeypatch.setitem(sys.modules, "dcmfast.dask", None)  # as if dask were absent
    assert cli_main(["index", str(tree), "--dask", address, "--parquet", out]) == 2
    assert "--dask needs Dask" in capsys.readouterr().err
    assert not os.path.exists(out)

"""Dask bridge: :func:`scan` and :func:`index` for archives beyond one machine.

``scan`` is :func:`dcmfast.scan` as a lazy ``dask.dataframe.DataFrame``; ``index``
is ``dcmfast index`` written as partitioned Parquet. Both list and read files in
the cluster's tasks: a directory root is cut, on the driver, into groups of
sub-folders and files (the driver lists only its top levels), and each task lists
its group and reads its files, so no one process lists or reads everything.

Inputs (``paths_or_manifest``, ``root_or_manifest``):

* a directory (str or PathLike): listed in parallel as above;
* a list or tuple of paths: for ``scan``, taken as they are (no file is looked at
  on the driver; a directory among them is walked by the task of its partition);
  for ``index``, roots that must exist, a directory among them listed in parallel;
* a manifest: a text file ending ``.txt`` or ``.lst`` (one path per line, blank
  lines skipped), or a table ending ``.parquet`` or ``.csv`` (the paths in its
  `path_column`); a relative path in a manifest is taken relative to the
  manifest's folder;
* a pandas Series of paths.

Paths are read by the workers: give absolute paths, or paths valid where the
workers run. Needs ``pip install dcmfast[dask]``; runs on the current Dask
scheduler (a ``distributed.Client`` when one is active).
"""

from __future__ import annotations

import csv
import errno
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from itertools import chain, islice
from typing import Any, Union

try:
    import dask
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"dcmfast.dask needs Dask, pandas and pyarrow ({exc.name} is missing):"
        " pip install dcmfast[dask]"
    ) from exc

from dcmfast import _index, _scan
from dcmfast._index import IndexSummary

PathArg = Union[str, "os.PathLike[str]"]

MANIFEST_SUFFIXES = (".txt", ".lst", ".parquet", ".csv")

# A unit of work is a path given by the caller, a file or a directory walked as the
# single-process scan and index walk it (a plain str: lists of them are most of what
# is sent to the tasks); or, found by listing a root, (path, kind, within): a folder
# walked by the task (TREE) as the walk of the root `within` walks it (None for the
# root itself), or a file (ENTRY).
TREE, ENTRY = "tree", "entry"
Unit = Union[str, tuple[str, str, Union[str, None]]]

# How deep the driver lists a directory root at most, whatever the estimate says:
# a bound on the driver's own listing (the folders below are left to the tasks).
MAX_PLAN_DEPTH = 8
# Folders walked to estimate the files under a folder.
ESTIMATE_SAMPLES = 3


def scan(
    paths_or_manifest: Any,
    tags: Any,
    *,
    files_per_partition: int = 10_000,
    force: bool = False,
    threads_per_partition: int = 1,
    path_column: str = "path",
) -> dd.DataFrame:
    """:func:`dcmfast.scan` of `paths_or_manifest` as a Dask DataFrame.

    One row per file with a ``path`` column, a column per tag in `tags` and an
    ``error`` column (the file's error message, None when it was read); the rows
    are in the order, and hold the values, of
    ``dcmfast.scan(paths, tags).to_pandas()``, every column of dtype ``object``
    (each partition's index starts at 0: ``compute().reset_index(drop=True)``
    gives the single-process frame). Selecting columns (``ddf[["PatientID"]]``)
    reads only their tags.

    Partitions: a list or manifest is cut into partitions of `files_per_partition`
    paths; a directory into groups of sub-folders and files of about that many
    files (see :func:`plan_directory` for the estimate). Each partition is read on
    `threads_per_partition` threads with pydicom's `force`.

    A missing root or manifest raises FileNotFoundError; a table manifest without
    `path_column` raises ValueError.
    """
    _check_sizes(files_per_partition, threads_per_partition)
    specs = _scan.column_specs(tags)  # checks the tags now, not in a task
    units, estimate = _units(paths_or_manifest, path_column, files_per_partition)
    groups = _groups(units, files_per_partition, estimate) or [Part([])]
    read = ScanPartition(list(specs), force, threads_per_partition)
    # Dask would convert object columns holding strings to its pyarrow string
    # dtype; the columns hold ints, bytes and lists too, exactly as the scan's.
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(
            read, groups, meta=read.meta(), label="dcmfast-scan", enforce_metadata=False
        )


class ScanPartition:
    """Reads one partition of :func:`scan`: lists its group of units and scans the
    files with the wanted tags. ``columns=`` (Dask's column projection) narrows
    the tags read to the columns asked for."""

    def __init__(self, names: list[str], force: bool, threads: int) -> None:
        self.names, self.force, self.threads = names, force, threads

    def meta(self) -> pd.DataFrame:
        """The empty frame every partition's frame looks like."""
        return _scan.pandas_frame({name: [] for name in self.columns()})

    def columns(self) -> list[str]:
        """The frame's columns, in order."""
        return ["path", *self.names, "error"]

    def tags_for(self, columns: Sequence[str] | None) -> list[str]:
        """The tags to read for `columns` (all columns when None)."""
        if columns is None:
            return list(self.names)
        return [name for name in self.names if name in columns]

    def __call__(self, group: Part, columns: Any = None) -> pd.DataFrame:
        if isinstance(columns, str):
            columns = [columns]
        tags = self.tags_for(columns)
        result = _scan.scan(
            list(_scan_paths(group)), tags, workers=self.threads, force=self.force
        )
        errors = dict(result.errors)
        values = {
            **result.to_dict(),
            "error": [errors.get(path) for path in result.paths]
            if errors
            else [None] * len(result.paths),
        }
        wanted = self.columns() if columns is None else list(columns)
        return _scan.pandas_frame({name: values[name] for name in wanted})

    def __dask_tokenize__(self) -> tuple:
        return (type(self).__name__, self.names, self.force, self.threads)


def _scan_paths(group: Part) -> Iterator[str]:
    """The paths to scan for a group: folders walked, the rest as they are (the
    scan walks a directory given by the caller in place)."""
    for unit in group:
        if type(unit) is str:
            yield unit
            continue
        path, kind, within = unit
        if kind == TREE:
            yield from (entry.path for entry in _scan.walk_entries(path, within))
        else:
            yield path


def index(
    root_or_manifest: Any,
    out_dir: PathArg,
    *,
    files_per_partition: int = 10_000,
    force: bool = False,
    threads_per_partition: int = 1,
    path_column: str = "path",
) -> IndexSummary:
    """``dcmfast index`` of `root_or_manifest` written as partitioned Parquet:
    ``out_dir/<table>/part-NNNNN.parquet`` for the tables patients, studies,
    series, instances and files, with the SQLite index's columns and types and
    the content :func:`dcmfast.index` gives for the same files (paths absolute).

    Re-runs are incremental as the SQLite index's: only new files and files whose
    size or mtime changed (with `force`, also files that failed before) are read;
    indexed files under the roots that are gone are dropped; a file outside the
    roots (or, for a manifest, not named in it) is kept. The listing and the
    reading run in the cluster's tasks, which send back the rows; the driver
    merges them into the previous index with the SQLite index's own rules (in a
    scratch SQLite database) and writes the new tables beside the old ones, then
    swaps them in: an interrupted run leaves the previous complete index. One run
    at a time per `out_dir`.

    A missing root raises FileNotFoundError (a missing file named in a manifest is
    a file gone). Files under `out_dir` are not indexed. Returns a summary, as
    :func:`dcmfast.index` does.
    """
    started = time.perf_counter()
    _check_sizes(files_per_partition, threads_per_partition)
    roots, units, estimate = _index_units(
        root_or_manifest, path_column, files_per_partition
    )
    out_dir = os.path.abspath(os.fspath(out_dir))
    os.makedirs(out_dir, exist_ok=True)
    _finish_swap(out_dir)  # a run interrupted while swapping, completed
    staging = os.path.join(out_dir, ".staging")
    shutil.rmtree(staging, ignore_errors=True)  # a run interrupted before it
    os.makedirs(staging)
    summary = IndexSummary()
    conn = sqlite3.connect(os.path.join(staging, "index.sqlite"))
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        # Scratch: an interrupted run starts again from the Parquet tables.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(_index.SCHEMA)
        _load_parquet(conn, out_dir)
        changes = _index.Changes(conn, roots, force)
        groups = _groups(units, files_per_partition, estimate)
        listed = dask.compute(*[dask.delayed(_list_group)(g) for g in groups])
        # The index's own files are not part of the archive, even when under it.
        inside = out_dir + os.sep
        changes.sort(
            (
                row
                for row in chain.from_iterable(listed)
                if not row[0].startswith(inside)
            ),
            summary,
        )
        changes.remove_gone(conn, summary)
        todo, stats = changes.todo, changes.stats
        reading = time.perf_counter()
        chunks = [
            [(path, *stats[path]) for path in chunk]
            for chunk in _chunks(list(todo), files_per_partition)
        ]
        read = dask.compute(
            *[
                dask.delayed(_read_files)(Part(chunk), force, threads_per_partition)
                for chunk in chunks
            ]
        )
        summary.read_seconds = time.perf_counter() - reading
        for rows in read:  # in path order: the last file read wins, as in SQLite
            with conn:
                _index.write_rows(conn, rows)
            summary.errors.extend(rows.errors)
        summary.new = sum(todo.values())
        summary.changed = len(todo) - summary.new
        with conn:
            _index.drop_orphans(conn)
        summary.counts = _index.table_counts(conn)
        # Nothing read or gone: the tables on disk are already the index.
        unchanged = not todo and not summary.removed and _has_tables(out_dir)
        if not unchanged:
            _write_parquet(conn, staging, files_per_partition)
    finally:
        conn.close()
    os.remove(os.path.join(staging, "index.sqlite"))
    if unchanged:
        shutil.rmtree(staging, ignore_errors=True)
    else:
        _swap(out_dir)
    summary.seconds = time.perf_counter() - started
    return summary


def _list_group(group: Part) -> list[tuple[str, int, int]]:
    """(path, size, mtime_ns) of the files of a group, walked as the SQLite index
    walks its roots."""
    found = []
    for unit in group:
        if type(unit) is str:
            found.extend(_index._walk_files([unit]))
            continue
        path, kind, within = unit
        if kind == TREE:
            found.extend(_index._walk_directory(path, within))
        elif kind == ENTRY:
            row = _index.listed_file(path)
            if row is not None:
                found.append(row)
    return found


def _read_files(chunk: Part, force: bool, threads: int) -> _index.Rows:
    """The index's rows of the files of `chunk` (path, size, mtime_ns)."""
    stats = {path: (size, mtime_ns) for path, size, mtime_ns in chunk}
    batch = _scan.scan(
        [path for path, _, _ in chunk],
        list(_index.TAGS.values()),
        workers=threads,
        force=force,
    )
    return _index.batch_rows(batch, stats)


# --------------------------------------------------------------------------
# the Parquet index on disk
# --------------------------------------------------------------------------
_ARROW_TYPES = {"TEXT": pa.string(), "INTEGER": pa.int64()}


def arrow_schema(table: _index.Table) -> pa.Schema:
    """The Parquet schema of one of the index's tables."""
    return pa.schema(
        [
            pa.field(name, _ARROW_TYPES[kind], nullable="NOT NULL" not in constraint)
            for name, kind, constraint in table.columns
        ]
    )


def _has_tables(out_dir: str) -> bool:
    """Whether `out_dir` holds every table of an index."""
    return all(os.path.isdir(os.path.join(out_dir, t)) for t in _index.TABLES)


def _table_files(out_dir: str, table: str) -> list[str]:
    """The Parquet parts of `table` in the index in `out_dir`, in order."""
    folder = os.path.join(out_dir, table)
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    return [os.path.join(folder, n) for n in names if n.endswith(".parquet")]


def _load_parquet(conn: sqlite3.Connection, out_dir: str) -> None:
    """The tables of the Parquet index in `out_dir` (if any) into `conn`."""
    # Files before instances: an instance refers to its file.
    for table in (_index.FILES, *_index.HIERARCHY, _index.INSTANCES):
        insert = table.insert_sql()
        for part in _table_files(out_dir, table.name):
            reader = pq.ParquetFile(part)
            if reader.schema_arrow.names != table.names:
                raise ValueError(
                    f"{part} is not a table of a dcmfast index: its columns are"
                    f" {reader.schema_arrow.names}, not {table.names}"
                )
            with conn:
                for batch in reader.iter_batches():
                    columns = [column.to_pylist() for column in batch.columns]
                    conn.executemany(insert, zip(*columns))


def _write_parquet(conn: sqlite3.Connection, staging: str, part_rows: int) -> None:
    """Each table of `conn`, sorted by its key, as Parquet parts of at most
    `part_rows` rows under `staging` (an empty table as one empty part)."""
    for table in (_index.TABLE[name] for name in _index.TABLES):
        folder = os.path.join(staging, table.name)
        os.makedirs(folder)
        schema = arrow_schema(table)
        cursor = conn.execute(f"SELECT * FROM {table.name} ORDER BY {table.key}")
        number = 0
        while True:
            rows = cursor.fetchmany(part_rows)
            if rows or number == 0:
                columns = list(zip(*rows)) if rows else [[] for _ in table.columns]
                pq.write_table(
                    pa.Table.from_arrays(
                        [pa.array(c, type=f.type) for c, f in zip(columns, schema)],
                        schema=schema,
                    ),
                    os.path.join(folder, f"part-{number:05d}.parquet"),
                )
                number += 1
            if len(rows) < part_rows:
                break


def _swap(out_dir: str) -> None:
    """Swap the staged tables in for the old ones. The journal (``.swap``) is
    written once every staged table is complete, and names what to move, so a run
    interrupted while moving is completed by the next (:func:`_finish_swap`)."""
    journal = os.path.join(out_dir, ".swap")
    with open(journal + ".tmp", "w", encoding="utf-8") as f:
        json.dump({"tables": list(_index.TABLES)}, f)
    os.replace(journal + ".tmp", journal)
    _finish_swap(out_dir)


def _finish_swap(out_dir: str) -> None:
    """Complete a swap whose journal is written: move each staged table in (the old
    one aside), then remove the journal and what was set aside."""
    journal = os.path.join(out_dir, ".swap")
    staging = os.path.join(out_dir, ".staging")
    previous = os.path.join(out_dir, ".previous")
    if not os.path.exists(journal):
        # Swapped, and interrupted while cleaning up (or never swapped).
        shutil.rmtree(previous, ignore_errors=True)
        return
    os.makedirs(previous, exist_ok=True)
    for table in _index.TABLES:
        staged = os.path.join(staging, table)
        if not os.path.isdir(staged):
            continue  # moved in before the interruption
        current = os.path.join(out_dir, table)
        if os.path.exists(current):
            shutil.rmtree(os.path.join(previous, table), ignore_errors=True)
            os.rename(current, os.path.join(previous, table))
        os.rename(staged, current)
    os.remove(journal)
    shutil.rmtree(previous, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


# --------------------------------------------------------------------------
# inputs and their partitions
# --------------------------------------------------------------------------
def _check_sizes(files_per_partition: int, threads_per_partition: int) -> None:
    for name, value in (
        ("files_per_partition", files_per_partition),
        ("threads_per_partition", threads_per_partition),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, not {value!r}")


def _missing(path: str) -> FileNotFoundError:
    return FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)


def _units(
    source: Any, path_column: str, files_per_partition: int
) -> tuple[list[Unit], float | None]:
    """The units of work of an input, in the order the single-process scan reads
    them, and the estimated files of a folder among them (None when none is)."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fsdecode(os.fspath(source))
        if _is_manifest(path):
            return read_manifest(path, path_column), None
        if os.path.isdir(path):
            return plan_directory(path, files_per_partition)
        if not os.path.exists(path):
            raise _missing(path)
        return [path], None
    if isinstance(source, pd.Series):
        return _series_paths(source), None
    if isinstance(source, (list, tuple)):
        # Not looked at here (a stat each would cost a good part of reading them): a
        # missing file is the scan's error row, a directory walked in its task.
        if type(source) is list and all(type(item) is str for item in source):
            return source, None
        return [_path_text(item) for item in source], None
    raise TypeError(
        "paths_or_manifest is a directory, a manifest file (.txt, .lst, .parquet,"
        f" .csv), a list of paths or a pandas Series of paths, not {source!r}"
    )


def _index_units(
    source: Any, path_column: str, files_per_partition: int
) -> tuple[list[str], list[Unit], float | None]:
    """The roots of an index run (absolute: the files table holds absolute paths),
    its units, and the estimated files of a folder among them (the largest of the
    roots'; None when there is no folder). Roots given directly must exist, as for
    the SQLite index; the files a manifest names are roots that may be gone."""
    if isinstance(source, (str, os.PathLike)) and _is_manifest(source):
        roots = [os.path.abspath(p) for p in read_manifest(source, path_column)]
        return roots, list(roots), None
    if isinstance(source, pd.Series):
        roots = [os.path.abspath(p) for p in _series_paths(source)]
        return roots, list(roots), None
    if isinstance(source, (str, os.PathLike)):
        source = [source]
    if not isinstance(source, (list, tuple)):
        raise TypeError(
            "root_or_manifest is a directory, a manifest file (.txt, .lst, .parquet,"
            f" .csv), a list of paths or a pandas Series of paths, not {source!r}"
        )
    roots = _index.existing_roots(source)
    units: list[Unit] = []
    estimates = []
    for root in roots:
        if os.path.isdir(root):
            planned, estimate = plan_directory(root, files_per_partition)
            units.extend(planned)
            estimates.append(estimate)
        else:
            units.append(root)
    return roots, units, max(estimates, default=None)


def _is_manifest(source: PathArg) -> bool:
    """Whether `source` names a manifest (by its suffix) rather than a root."""
    path = os.fsdecode(os.fspath(source))
    return path.lower().endswith(MANIFEST_SUFFIXES) and not os.path.isdir(path)


def _series_paths(series: pd.Series) -> list[str]:
    return [_path_text(p) for p in series if not _blank(p)]


def _blank(value: Any) -> bool:
    """Whether a manifest's cell is empty: blank text, None, NaN, pandas' NA."""
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, os.PathLike):
        return False
    return value is None or bool(pd.isna(value))


def read_manifest(manifest: PathArg, path_column: str = "path") -> list[str]:
    """The paths a manifest names: the lines of a ``.txt`` or ``.lst`` file (blank
    lines skipped), or the `path_column` of a ``.parquet`` or ``.csv`` table (empty
    cells skipped); a relative path is taken relative to the manifest's folder
    (and normalized: ``a/../b`` is ``b``)."""
    path = os.fsdecode(os.fspath(manifest))
    if not os.path.isfile(path):
        raise _missing(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix in (".txt", ".lst"):
        with open(path, encoding="utf-8") as f:
            names = [line.rstrip("\r\n") for line in f]
    elif suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            if path_column not in header:
                raise _no_column(path, path_column, header)
            at = header.index(path_column)
            names = [row[at] if at < len(row) else "" for row in reader]
    elif suffix == ".parquet":
        try:
            columns = pq.read_schema(path).names
        except (OSError, pa.ArrowInvalid) as exc:
            raise ValueError(f"{path} is not a Parquet file: {exc}") from exc
        if path_column not in columns:
            raise _no_column(path, path_column, columns)
        names = pq.read_table(path, columns=[path_column])[path_column].to_pylist()
    else:
        raise ValueError(
            f"{path}: a manifest ends with one of {', '.join(MANIFEST_SUFFIXES)}"
        )
    folder = os.path.dirname(os.path.abspath(path))
    return [
        name if os.path.isabs(name) else os.path.normpath(os.path.join(folder, name))
        for name in (str(n) for n in names if not _blank(n))
    ]


def _no_column(path: str, column: str, columns: list[str]) -> ValueError:
    return ValueError(
        f"{path} has no column {column!r} (its columns: {', '.join(columns) or 'none'});"
        " name the column of paths with path_column="
    )


def plan_directory(root: str, files_per_partition: int) -> tuple[list[Unit], float]:
    """A directory as units whose concatenated walks are the walk of `root` (the
    single-process scan's sorted order), listing only its top levels; and the
    estimated files of a folder among the units.

    The driver lists `root`, then the folders found, level by level, while a folder
    is estimated to hold more than a quarter of a partition's files (so that a
    partition is made of a few folders) and for at most MAX_PLAN_DEPTH levels.
    The estimate of a folder's files is the mean count of ESTIMATE_SAMPLES folders
    of the level (first, middle, last), each walked up to a quarter of
    `files_per_partition` files (past that the folder is listed in turn, so the
    estimate of the units kept is exact to that bound): enough to tell small folders
    from big ones at a bounded cost. The units are then cut into partitions of
    contiguous units adding up to at most `files_per_partition` files, a file
    counting one and a folder the estimate."""
    units: list[Unit] = [(root, TREE, None)]
    quarter = files_per_partition // 4
    for _ in range(MAX_PLAN_DEPTH):
        estimate = _folder_estimate(units, quarter + 1)
        if estimate <= quarter:
            break
        expanded: list[Unit] = []
        for path, kind, within in units:
            if kind == TREE:
                expanded.extend(_listed_units(path, within, root))
            else:
                expanded.append((path, kind, within))
        units = expanded
    else:
        estimate = _folder_estimate(units, quarter + 1)
    return units, estimate


def _listed_units(directory: str, within: str | None, root: str) -> list[Unit]:
    """The units of `directory`'s entries, a folder of `root`'s tree."""
    return [
        (entry.path, TREE, root) if is_dir else (entry.path, ENTRY, None)
        for entry, is_dir in _scan.listing(directory, within)
    ]


def _folder_estimate(units: list[Unit], cap: int) -> float:
    """The estimated number of files under a folder of `units` (0 when none)."""
    folders = [(u[0], u[2]) for u in units if type(u) is tuple and u[1] == TREE]
    if not folders:
        return 0.0
    picks = {0, len(folders) // 2, len(folders) - 1}
    counts = [
        sum(1 for _ in islice(_scan.walk_entries(*folders[i]), cap))
        for i in sorted(picks)[:ESTIMATE_SAMPLES]
    ]
    return sum(counts) / len(counts)


def _groups(
    units: list[Unit], files_per_partition: int, estimate: float | None
) -> list[Part]:
    """Contiguous groups of units of about `files_per_partition` files each: a file
    counts one, a folder `estimate` (its planning's)."""
    if all(type(unit) is str for unit in units):
        # Paths given (a list or manifest): cut, with no step per unit.
        step = files_per_partition
        return [Part(units[i : i + step]) for i in range(0, len(units), step)]
    estimate = max(estimate or 0.0, 1.0)
    groups: list[list[Unit]] = []
    group: list[Unit] = []
    weight = 0.0
    for unit in units:
        cost = estimate if type(unit) is tuple and unit[1] == TREE else 1.0
        if group and weight + cost > files_per_partition:
            groups.append(group)
            group, weight = [], 0.0
        group.append(unit)
        weight += cost
    if group:
        groups.append(group)
    return [Part(group) for group in groups]


class Part:
    """The items (units, or files) of one task, in order.

    Its Dask token is unique to the object: a scan or index reads the file system as
    it is when it runs, so two calls on the same paths must not be taken for one
    (files may have changed in between), and hashing the items would cost about as
    much as reading a good part of the files."""

    __slots__ = ("items", "token")

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.token = uuid.uuid4().hex

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __dask_tokenize__(self) -> str:
        return self.token


def _path_text(item: Any) -> str:
    if not isinstance(item, (str, os.PathLike)):
        raise TypeError(f"paths are str or os.PathLike, not {item!r}")
    return item if type(item) is str else os.fsdecode(os.fspath(item))


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

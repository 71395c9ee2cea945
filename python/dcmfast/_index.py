"""``dcmfast index``: a DICOM archive as an SQLite database of its hierarchy.

Tables: ``patients``, ``studies``, ``series`` and ``instances`` (Patient > Study >
Series > Instance), and ``files`` (path, size, mtime, transfer syntax, SOP class,
frames, rows, columns, error; one row per file seen, DICOM or not). A re-run reads only
files whose size or mtime changed, or that are new, and drops files that are gone.
Each batch of files is written in one transaction, so an interrupted run leaves a
consistent database that the next run completes.
"""

from __future__ import annotations

import csv
import errno
import os
import sqlite3
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from dcmfast._scan import ScanResult, iter_scan, walk_entries


@dataclass(frozen=True)
class Table:
    """One table of the index: its name and its columns as (name, SQL type,
    constraint); the first column is the key. The SQLite schema and the Parquet
    index's column types are both made from these."""

    name: str
    columns: tuple[tuple[str, str, str], ...]

    @property
    def key(self) -> str:
        """The key column."""
        return self.columns[0][0]

    @property
    def names(self) -> list[str]:
        """The column names, in order."""
        return [name for name, _, _ in self.columns]

    def create_sql(self) -> str:
        """The table's CREATE statement."""
        columns = ",\n    ".join(
            f"{name} {kind} {constraint}".rstrip()
            for name, kind, constraint in self.columns
        )
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n    {columns}\n);"

    def insert_sql(self) -> str:
        """Insert a row (all columns, in order)."""
        return f"INSERT INTO {self.name} VALUES ({', '.join('?' * len(self.columns))})"

    def upsert_sql(self) -> str:
        """Insert a row, or replace the values of the row with its key."""
        names = self.names
        updates = ", ".join(f"{name} = excluded.{name}" for name in names[1:])
        return (
            f"INSERT INTO {self.name} ({', '.join(names)})"
            f" VALUES ({', '.join('?' * len(names))})"
            f" ON CONFLICT({self.key}) DO UPDATE SET {updates}"
        )


FILES = Table(
    "files",
    (
        ("path", "TEXT", "PRIMARY KEY"),
        ("size", "INTEGER", "NOT NULL"),
        ("mtime_ns", "INTEGER", "NOT NULL"),
        ("transfer_syntax", "TEXT", ""),
        ("sop_class_uid", "TEXT", ""),
        ("frames", "INTEGER", ""),
        ("rows", "INTEGER", ""),
        ("columns", "INTEGER", ""),
        ("error", "TEXT", ""),
    ),
)
PATIENTS = Table(
    "patients",
    (
        ("patient_id", "TEXT", "PRIMARY KEY"),
        ("patient_name", "TEXT", ""),
        ("birth_date", "TEXT", ""),
        ("sex", "TEXT", ""),
    ),
)
STUDIES = Table(
    "studies",
    (
        ("study_uid", "TEXT", "PRIMARY KEY"),
        ("patient_id", "TEXT", "NOT NULL"),
        ("study_date", "TEXT", ""),
        ("study_time", "TEXT", ""),
        ("accession_number", "TEXT", ""),
        ("study_id", "TEXT", ""),
        ("description", "TEXT", ""),
    ),
)
SERIES = Table(
    "series",
    (
        ("series_uid", "TEXT", "PRIMARY KEY"),
        ("study_uid", "TEXT", "NOT NULL"),
        ("modality", "TEXT", ""),
        ("series_number", "INTEGER", ""),
        ("description", "TEXT", ""),
        ("body_part", "TEXT", ""),
    ),
)
INSTANCES = Table(
    "instances",
    (
        ("path", "TEXT", "PRIMARY KEY REFERENCES files(path) ON DELETE CASCADE"),
        ("sop_instance_uid", "TEXT", ""),
        ("sop_class_uid", "TEXT", ""),
        ("series_uid", "TEXT", "NOT NULL"),
        ("instance_number", "INTEGER", ""),
    ),
)

# The hierarchy's tables: a row per key, the last file read with that key wins.
HIERARCHY = (PATIENTS, STUDIES, SERIES)

SCHEMA = "\n".join(
    [
        *(table.create_sql() for table in (FILES, *HIERARCHY, INSTANCES)),
        "CREATE INDEX IF NOT EXISTS instances_series ON instances(series_uid);",
        "CREATE INDEX IF NOT EXISTS series_study ON series(study_uid);",
        "CREATE INDEX IF NOT EXISTS studies_patient ON studies(patient_id);",
    ]
)

TABLES = ("patients", "studies", "series", "instances", "files")
TABLE = {table.name: table for table in (FILES, *HIERARCHY, INSTANCES)}

# Column -> tag read for it.
TAGS = {
    "patient_id": "PatientID",
    "patient_name": "PatientName",
    "birth_date": "PatientBirthDate",
    "sex": "PatientSex",
    "study_uid": "StudyInstanceUID",
    "study_date": "StudyDate",
    "study_time": "StudyTime",
    "accession_number": "AccessionNumber",
    "study_id": "StudyID",
    "study_description": "StudyDescription",
    "series_uid": "SeriesInstanceUID",
    "modality": "Modality",
    "series_number": "SeriesNumber",
    "series_description": "SeriesDescription",
    "body_part": "BodyPartExamined",
    "sop_instance_uid": "SOPInstanceUID",
    "sop_class_uid": "SOPClassUID",
    "instance_number": "InstanceNumber",
    "transfer_syntax": "TransferSyntaxUID",
    "frames": "NumberOfFrames",
    "rows": "Rows",
    "columns": "Columns",
}

BATCH = 2000


@dataclass
class IndexSummary:
    """What one run did, and what the database holds after it."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    read_seconds: float = 0.0
    interrupted: bool = False
    not_read: int = 0

    @property
    def read(self) -> int:
        """Files read in this run."""
        return self.new + self.changed


def index(
    paths: Iterable[str | os.PathLike[str]],
    db: str | os.PathLike[str],
    *,
    workers: int | None = None,
    progress: TextIO | None = None,
    force: bool = False,
) -> IndexSummary:
    """Index the DICOM files under `paths` (files or directories) into the SQLite
    database `db`; only new or changed files are read. Returns a summary.

    `force` reads files without a preamble too (pydicom's ``force=True``), and reads
    again the files that failed before. A root that does not exist raises
    FileNotFoundError before the database is touched: a mistyped or unmounted path
    must not read as "every file under it is gone". Interrupted (Ctrl-C), it keeps
    what it wrote and says so in the summary."""
    started = time.perf_counter()
    summary = IndexSummary()
    roots = existing_roots(paths)
    conn = sqlite3.connect(os.fspath(db))
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.executescript(SCHEMA)
        changes = Changes(conn, roots, force)
        try:
            changes.sort(_walk_files(roots), summary)
        except KeyboardInterrupt:
            # The walk did not finish: nothing is known to be gone, nothing is read.
            summary.interrupted = True
            summary.not_read = len(changes.todo)
            changes.known.clear()
            changes.todo.clear()
        changes.remove_gone(conn, summary)
        todo, stats = changes.todo, changes.stats
        bar = _Progress(progress, len(todo))
        try:
            for batch in iter_scan(
                list(todo),
                list(TAGS.values()),
                batch_size=BATCH,
                workers=workers,
                force=force,
            ):
                with conn:
                    _write_batch(conn, batch, stats, summary)
                for path in batch.paths:
                    if todo.pop(path):
                        summary.new += 1
                    else:
                        summary.changed += 1
                bar.advance(len(batch))
        except KeyboardInterrupt:
            summary.interrupted = True
            summary.not_read += len(todo)
        finally:
            bar.close()
            summary.read_seconds = bar.seconds()
        with conn:
            drop_orphans(conn)
        summary.counts = table_counts(conn)
    finally:
        conn.close()
    summary.seconds = time.perf_counter() - started
    return summary


def existing_roots(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """`paths` as absolute paths; FileNotFoundError for one that does not exist."""
    roots = [os.path.abspath(os.fspath(p)) for p in paths]
    for root in roots:
        if not os.path.exists(root):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), root)
    return roots


class Changes:
    """What a run must do, found by comparing the files on disk with the index:
    the files to read (`todo`: path -> True when new, False when changed or, with
    `force`, failed before) and the indexed files under the roots not seen on disk
    (what is left of `known` once the listing is sorted: gone)."""

    def __init__(self, conn: sqlite3.Connection, roots: list[str], force: bool):
        self.known = _known_files(conn, roots)
        self.failed = _failed_files(conn, roots) if force else set()
        self.todo: dict[str, bool] = {}
        self.stats: dict[str, tuple[int, int]] = {}

    def sort(
        self, listed: Iterable[tuple[str, int, int]], summary: IndexSummary
    ) -> None:
        """Sort the listed (path, size, mtime_ns) into new, changed and unchanged."""
        known, todo, stats = self.known, self.todo, self.stats
        for path, size, mtime_ns in listed:
            stats[path] = (size, mtime_ns)
            before = known.pop(path, None)
            if before is None:
                todo[path] = True
            elif before != (size, mtime_ns) or path in self.failed:
                todo[path] = False
            else:
                summary.unchanged += 1

    def remove_gone(self, conn: sqlite3.Connection, summary: IndexSummary) -> None:
        """Delete the indexed files that are gone from disk."""
        with conn:
            conn.executemany(
                "DELETE FROM files WHERE path = ?", ((p,) for p in self.known)
            )
        summary.removed = len(self.known)


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """The number of rows of each table."""
    return {
        table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in TABLES
    }


def _under(
    conn: sqlite3.Connection, roots: list[str], columns: str, condition: str = ""
) -> Iterator[tuple]:
    """`columns` of the indexed files under `roots` (and meeting `condition`)."""
    for root in roots:
        # A file root itself, or everything below a directory root.
        below = root.rstrip(os.sep) + os.sep
        yield from conn.execute(
            f"SELECT {columns} FROM files"
            f" WHERE (path = ? OR (path >= ? AND path < ?)){condition}",
            (root, below, below[:-1] + chr(ord(os.sep) + 1)),
        )


def _known_files(
    conn: sqlite3.Connection, roots: list[str]
) -> dict[str, tuple[int, int]]:
    """The indexed files under `roots`: path -> (size, mtime_ns)."""
    rows = _under(conn, roots, "path, size, mtime_ns")
    return {path: (size, mtime) for path, size, mtime in rows}


def _failed_files(conn: sqlite3.Connection, roots: list[str]) -> set[str]:
    """The indexed files under `roots` that could not be read."""
    return {path for (path,) in _under(conn, roots, "path", " AND error IS NOT NULL")}


def _walk_files(roots: list[str]) -> Iterator[tuple[str, int, int]]:
    """(path, size, mtime_ns) of each file under `roots`, in sorted order."""
    for root in roots:
        if os.path.isdir(root):
            yield from _walk_directory(root)
        else:
            try:
                st = os.stat(root)
            except OSError:
                continue
            yield root, st.st_size, st.st_mtime_ns


def _walk_directory(
    directory: str, within: str | None = None
) -> Iterator[tuple[str, int, int]]:
    for entry in walk_entries(directory, within):
        found = listed_file(entry)
        if found is not None:
            yield found


def listed_file(entry: os.DirEntry | str) -> tuple[str, int, int] | None:
    """(path, size, mtime_ns) of a file found in a directory (a directory entry or
    its path); None when it is not a regular file (a link is followed) or is gone."""
    try:
        if isinstance(entry, os.DirEntry):
            if not entry.is_file():
                return None
            st, path = entry.stat(), entry.path
        else:
            st, path = os.stat(entry), entry
            if not stat.S_ISREG(st.st_mode):
                return None
    except OSError:
        return None
    return path, st.st_size, st.st_mtime_ns


def _text(value: Any) -> str | None:
    """A value for a TEXT column: several values joined as DICOM does."""
    if isinstance(value, list):
        return "\\".join(str(v) for v in value)
    return None if value is None else str(value)


# SQLite's INTEGER range: a value outside it (a UV, say) is stored as NULL, not an
# OverflowError that would stop the whole batch.
_INT_RANGE = range(-(2**63), 2**63)


def _number(value: Any) -> int | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, int) and value in _INT_RANGE else None


@dataclass
class Rows:
    """A scanned batch of files as rows of each table, in the order of its paths.

    ``files`` has a row per file; ``instances`` one per instance of a series. The
    hierarchy's tables (``patients``, ``studies``, ``series``) have a row per
    instance, applied in order over the index's rows with the same key, so the last
    file read wins."""

    files: list[tuple] = field(default_factory=list)
    instances: list[tuple] = field(default_factory=list)
    patients: list[tuple] = field(default_factory=list)
    studies: list[tuple] = field(default_factory=list)
    series: list[tuple] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def batch_rows(batch: ScanResult, stats: dict[str, tuple[int, int]]) -> Rows:
    """The rows of `batch` (a scan of :data:`TAGS`), the files' (size, mtime_ns)
    taken from `stats`: the one mapping from DICOM values to the index's rows."""
    columns = {name: batch[tag] for name, tag in TAGS.items()}
    errors = dict(batch.errors)
    rows = Rows(errors=list(batch.errors))
    for row, path in enumerate(batch.paths):
        value = {name: values[row] for name, values in columns.items()}
        size, mtime_ns = stats[path]
        error = errors.get(path)
        rows.files.append(
            (
                path,
                size,
                mtime_ns,
                _text(value["transfer_syntax"]),
                _text(value["sop_class_uid"]),
                _number(value["frames"]),
                _number(value["rows"]),
                _number(value["columns"]),
                error,
            )
        )
        if error is not None or value["series_uid"] is None:
            continue  # not DICOM, or no instance of a series (a DICOMDIR, say)
        patient_id = _text(value["patient_id"]) or ""
        study_uid = _text(value["study_uid"]) or ""
        series_uid = _text(value["series_uid"])
        rows.patients.append(
            (
                patient_id,
                _text(value["patient_name"]),
                _text(value["birth_date"]),
                _text(value["sex"]),
            )
        )
        rows.studies.append(
            (
                study_uid,
                patient_id,
                _text(value["study_date"]),
                _text(value["study_time"]),
                _text(value["accession_number"]),
                _text(value["study_id"]),
                _text(value["study_description"]),
            )
        )
        rows.series.append(
            (
                series_uid,
                study_uid,
                _text(value["modality"]),
                _number(value["series_number"]),
                _text(value["series_description"]),
                _text(value["body_part"]),
            )
        )
        rows.instances.append(
            (
                path,
                _text(value["sop_instance_uid"]),
                _text(value["sop_class_uid"]),
                series_uid,
                _number(value["instance_number"]),
            )
        )
    return rows


def write_rows(conn: sqlite3.Connection, rows: Rows) -> None:
    """Write `rows` into the database: files replaced (which drops their old
    instances, ON DELETE CASCADE), hierarchy rows upserted in order, instances
    added."""
    conn.executemany("DELETE FROM files WHERE path = ?", ((r[0],) for r in rows.files))
    conn.executemany(FILES.insert_sql(), rows.files)
    for table in HIERARCHY:
        conn.executemany(table.upsert_sql(), getattr(rows, table.name))
    conn.executemany(INSTANCES.insert_sql(), rows.instances)


def _write_batch(
    conn: sqlite3.Connection,
    batch: ScanResult,
    stats: dict[str, tuple[int, int]],
    summary: IndexSummary,
) -> None:
    rows = batch_rows(batch, stats)
    write_rows(conn, rows)
    summary.errors.extend(rows.errors)


def drop_orphans(conn: sqlite3.Connection) -> None:
    """Series, studies and patients no instance refers to any more."""
    conn.execute(
        "DELETE FROM series WHERE series_uid NOT IN (SELECT series_uid FROM instances)"
    )
    conn.execute(
        "DELETE FROM studies WHERE study_uid NOT IN (SELECT study_uid FROM series)"
    )
    conn.execute(
        "DELETE FROM patients WHERE patient_id NOT IN (SELECT patient_id FROM studies)"
    )


def export(db: str | os.PathLike[str], directory: str, fmt: str) -> list[str]:
    """Write each table of the database `db` to `directory` as CSV or Parquet (which
    needs pyarrow); returns the files written."""
    os.makedirs(directory, exist_ok=True)
    conn = sqlite3.connect(os.fspath(db))
    written = []
    try:
        for table in TABLES:
            cursor = conn.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            path = os.path.join(directory, f"{table}.{fmt}")
            if fmt == "csv":
                with open(path, "w", newline="", encoding="utf-8") as f:
                    writer = csv.writer(f)
                    writer.writerow(names)
                    writer.writerows(rows)
            else:
                import pyarrow as pa
                import pyarrow.parquet as pq

                columns = {
                    name: [row[i] for row in rows] for i, name in enumerate(names)
                }
                pq.write_table(pa.table(columns), path)
            written.append(path)
    finally:
        conn.close()
    return written


class _Progress:
    """A one-line progress bar with files/s, redrawn at most a few times a second on
    a terminal; elsewhere (a pipe, a log file) one line when reading ends."""

    def __init__(self, stream: TextIO | None, total: int) -> None:
        self.stream, self.total, self.done = stream, total, 0
        self.started = self.drawn = time.perf_counter()
        self.ended: float | None = None
        isatty = getattr(stream, "isatty", None)
        self.redraw = bool(isatty and isatty())

    def advance(self, count: int) -> None:
        self.done += count
        now = time.perf_counter()
        if self.stream is not None and self.redraw and now - self.drawn > 0.2:
            self.drawn = now
            self._draw(now, "\r")

    def seconds(self) -> float:
        """How long reading took (so far, or until `close`)."""
        return (self.ended or time.perf_counter()) - self.started

    def _draw(self, now: float, start: str) -> None:
        if self.stream is None:
            return
        width = 30
        filled = width * self.done // self.total if self.total else width
        rate = self.done / max(now - self.started, 1e-9)
        self.stream.write(
            f"{start}[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
            f" files {rate:,.0f} files/s"
        )
        self.stream.flush()

    def close(self) -> None:
        self.ended = time.perf_counter()
        if self.stream is not None and self.total:
            self._draw(self.ended, "\r" if self.redraw else "")
            self.stream.write("\n")
            self.stream.flush()


def print_summary(summary: IndexSummary, db: str, out: TextIO | None = None) -> None:
    """The end-of-run report: counts per level, what this run did, its errors."""
    out = out or sys.stdout
    counts = summary.counts
    # The rate of reading, as the progress bar gives it (the walk and the database
    # work are in the run's total time).
    rate = summary.read / summary.read_seconds if summary.read_seconds else 0.0
    print(
        f"{db}: {counts.get('patients', 0)} patients, {counts.get('studies', 0)} studies,"
        f" {counts.get('series', 0)} series, {counts.get('instances', 0)} instances"
        f" in {counts.get('files', 0)} files",
        file=out,
    )
    print(
        f"this run: {summary.new} new, {summary.changed} changed, {summary.removed} removed,"
        f" {summary.unchanged} unchanged; {summary.read} read in"
        f" {summary.read_seconds:.2f} s ({rate:,.0f} files/s, {summary.seconds:.2f} s"
        f" in all); {len(summary.errors)} errors",
        file=out,
    )
    for path, message in summary.errors[:10]:
        print(f"  {path}: {message}", file=out)
    if len(summary.errors) > 10:
        print(
            f"  ... and {len(summary.errors) - 10} more (see the files table)", file=out
        )
    if summary.interrupted:
        print(
            f"interrupted: what was read is saved; {summary.not_read} files not read;"
            " run again to finish",
            file=out,
        )

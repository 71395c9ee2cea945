"""dcmfast: dump DICOM files as pydicom prints them, and index archives into SQLite."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from typing import Any

from pydicom.errors import InvalidDicomError

from dcmfast import __version__
from dcmfast._index import export, index, print_summary
from dcmfast._reader import dcmread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dcmfast", description=__doc__)
    parser.add_argument("--version", action="version", version=f"dcmfast {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    dump = commands.add_parser("dump", help="print a file as pydicom's str(ds) does")
    dump.add_argument("files", nargs="+", metavar="FILE")
    dump.add_argument(
        "--force", action="store_true", help="read files without a preamble"
    )
    dump.add_argument(
        "--stop-before-pixels", action="store_true", help="do not read pixel data"
    )
    build = commands.add_parser(
        "index",
        help="index DICOM files into an SQLite database (patients, studies, series,"
        " instances, files); re-runs read only new and changed files",
        description="Index DICOM files into an SQLite database; re-runs read only new"
        " and changed files. With --export and no PATH, export an existing database."
        " With --dask ADDRESS --parquet OUT_DIR, list and read the files on a Dask"
        " cluster and write the tables as Parquet.",
    )
    build.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or directories to index"
    )
    build.add_argument(
        "--db", default="index.sqlite", help="the database (default: index.sqlite)"
    )
    build.add_argument(
        "--workers",
        type=int,
        default=None,
        help="threads (default: all cores; with --dask, per partition, default 1)",
    )
    build.add_argument(
        "--force",
        action="store_true",
        help="read files without a preamble too, and read again files that failed",
    )
    build.add_argument(
        "--export", metavar="DIR", help="write each table to DIR in --format"
    )
    build.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="the format of --export (default: csv; parquet needs pyarrow)",
    )
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="index on a Dask cluster: a scheduler address (tcp://host:8786) or"
        " 'local' for a local cluster; with --parquet (needs dcmfast[dask])",
    )
    build.add_argument(
        "--parquet",
        metavar="OUT_DIR",
        help="with --dask: write the index as Parquet tables in OUT_DIR"
        " (OUT_DIR/<table>/part-NNNNN.parquet), instead of --db; a single PATH may"
        " be a manifest (.txt, .lst, .parquet or .csv)",
    )
    args = parser.parse_args(argv)
    if args.command == "index":
        if (args.dask is None) != (args.parquet is None):
            build.error("--dask and --parquet go together")
        if args.dask is not None:
            if not args.paths:
                build.error("give PATHs to index")
            if args.export:
                build.error(
                    "--export is for the SQLite index (--parquet writes Parquet)"
                )
            return _index_on_dask(args)
        if not args.paths and not args.export:
            build.error("give PATHs to index, or --export DIR to export the database")
        return _index(args)
    return _dump(args)


def _index(args: argparse.Namespace) -> int:
    if args.export and args.format == "parquet":
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            print("dcmfast index: --format parquet needs pyarrow", file=sys.stderr)
            return 2
    if args.paths:
        try:
            summary = index(
                args.paths,
                args.db,
                workers=args.workers,
                progress=None if args.quiet else sys.stderr,
                force=args.force,
            )
        except FileNotFoundError as exc:
            # Nothing was indexed or removed.
            print(f"dcmfast index: {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 2
        print_summary(summary, args.db)
        _hint_force(args.force, [e for _, e in summary.errors])
        if summary.interrupted:
            return 130
    elif not os.path.isfile(args.db):
        print(f"dcmfast index: no database {args.db} to export", file=sys.stderr)
        return 2
    if args.export:
        try:
            written = export(args.db, args.export, args.format)
        except OSError as exc:
            print(
                f"dcmfast index: cannot export to {args.export}: {exc.strerror or exc}",
                file=sys.stderr,
            )
            return 2
        for path in written:
            print(f"wrote {path}")
    return 0


# How long to wait for a scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = "5s"


def _index_on_dask(args: argparse.Namespace) -> int:
    try:
        import distributed

        dcmfast_dask = importlib.import_module("dcmfast.dask")
    except ImportError as exc:
        print(f"dcmfast index: --dask needs Dask: {exc}", file=sys.stderr)
        return 2
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:  # said before a cluster is started
        print(
            f"dcmfast index: {missing[0]}: No such file or directory", file=sys.stderr
        )
        return 2
    # One PATH may be a manifest; several are roots.
    source = args.paths[0] if len(args.paths) == 1 else args.paths
    with contextlib.ExitStack() as stack:
        try:
            _connect(stack, distributed, args.dask)
        except (OSError, TimeoutError, ValueError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            print(
                f"dcmfast index: cannot reach the Dask scheduler at {args.dask}:"
                f" {message}",
                file=sys.stderr,
            )
            return 2
        try:
            summary = dcmfast_dask.index(
                source,
                args.parquet,
                force=args.force,
                threads_per_partition=args.workers or 1,
            )
        except (OSError, ValueError, TypeError) as exc:
            # A missing root, an unwritable OUT_DIR, a bad manifest: one line.
            text = f"{exc.filename}: {exc.strerror}" if _names_a_file(exc) else exc
            print(f"dcmfast index: {text}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(
                f"interrupted: the previous index in {args.parquet} is unchanged",
                file=sys.stderr,
            )
            return 130
    print_summary(summary, args.parquet)
    _hint_force(args.force, [e for _, e in summary.errors])
    return 0


def _connect(stack: contextlib.ExitStack, distributed: Any, address: str) -> Any:
    """A client of the scheduler at `address`, or of a new local cluster for
    'local', closed with `stack`."""
    if address == "local":
        # Its dashboard on a free port: another cluster may hold Dask's 8787.
        cluster = stack.enter_context(
            distributed.LocalCluster(processes=True, dashboard_address=":0")
        )
        return stack.enter_context(distributed.Client(cluster))
    return stack.enter_context(distributed.Client(address, timeout=CONNECT_TIMEOUT))


def _hint_force(force: bool, messages: list[str], file: Any = None) -> None:
    """Name the --force option when a message names pydicom's ``force=True`` (its
    keyword argument; here it is an option)."""
    if not force and any("force=True" in m for m in messages):
        print("files without a preamble are read with --force", file=file)


def _names_a_file(exc: Exception) -> bool:
    return isinstance(exc, OSError) and exc.filename is not None and bool(exc.strerror)


def _dump(args: argparse.Namespace) -> int:
    status = 0
    failures: list[str] = []
    try:
        for path in args.files:
            try:
                ds = dcmread(
                    path, force=args.force, stop_before_pixels=args.stop_before_pixels
                )
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the rest
                # dcmfast's NotDicomError is pydicom's InvalidDicomError: named so.
                name = (
                    "InvalidDicomError"
                    if isinstance(exc, InvalidDicomError)
                    else type(exc).__name__
                )
                print(f"{path}: {name}: {exc}", file=sys.stderr)
                failures.append(str(exc))
                status = 1
                continue
            if len(args.files) > 1:
                print(f"# {path}")
            print(ds)
        sys.stdout.flush()
        _hint_force(args.force, failures, sys.stderr)
    except BrokenPipeError:
        # The reader went away (`dcmfast dump FILE | head`): stop quietly, and keep
        # Python's exit-time flush from failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return status


if __name__ == "__main__":
    sys.exit(main())

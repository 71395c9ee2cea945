"""dcmfast: dump DICOM files as pydicom prints them, and index archives into SQLite."""

from __future__ import annotations

import argparse
import os
import sys

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
        " and changed files. With --export and no PATH, export an existing database.",
    )
    build.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or directories to index"
    )
    build.add_argument(
        "--db", default="index.sqlite", help="the database (default: index.sqlite)"
    )
    build.add_argument(
        "--workers", type=int, default=None, help="threads (default: all cores)"
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
    args = parser.parse_args(argv)
    if args.command == "index":
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
        if not args.force and any("force=True" in e for _, e in summary.errors):
            # pydicom's message names its keyword argument; here it is an option.
            print("files without a preamble are read with --force")
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


def _dump(args: argparse.Namespace) -> int:
    status = 0
    hint = False
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
                hint = hint or (not args.force and "force=True" in str(exc))
                status = 1
                continue
            if len(args.files) > 1:
                print(f"# {path}")
            print(ds)
        sys.stdout.flush()
        if hint:
            # pydicom's message names its keyword argument; here it is an option.
            print("files without a preamble are read with --force", file=sys.stderr)
    except BrokenPipeError:
        # The reader went away (`dcmfast dump FILE | head`): stop quietly, and keep
        # Python's exit-time flush from failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return status


if __name__ == "__main__":
    sys.exit(main())

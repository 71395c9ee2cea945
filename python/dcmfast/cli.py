"""The ``dcmfast`` command line."""

from __future__ import annotations

import argparse
import sys

from dcmfast._index import export, index, print_summary
from dcmfast._reader import dcmread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dcmfast", description=__doc__)
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
    )
    build.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    build.add_argument("--db", default="index.sqlite", help="database (index.sqlite)")
    build.add_argument("--workers", type=int, default=None, help="threads (all cores)")
    build.add_argument(
        "--export", metavar="DIR", help="also write each table to DIR as --format"
    )
    build.add_argument("--format", choices=("csv", "parquet"), default="csv")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.command == "index":
        return _index(args)
    return _dump(args)


def _index(args: argparse.Namespace) -> int:
    if args.export and args.format == "parquet":
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            print("--format parquet needs pyarrow", file=sys.stderr)
            return 2
    try:
        summary = index(
            args.paths,
            args.db,
            workers=args.workers,
            progress=None if args.quiet else sys.stderr,
        )
    except FileNotFoundError as exc:
        # Nothing was indexed or removed.
        print(f"dcmfast index: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    print_summary(summary, args.db)
    if summary.interrupted:
        return 130
    if args.export:
        for path in export(args.db, args.export, args.format):
            print(f"wrote {path}")
    return 0


def _dump(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            ds = dcmread(
                path, force=args.force, stop_before_pixels=args.stop_before_pixels
            )
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the rest
            print(f"{path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            status = 1
            continue
        if len(args.files) > 1:
            print(f"# {path}")
        print(ds)
    return status


if __name__ == "__main__":
    sys.exit(main())

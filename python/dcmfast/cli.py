"""The ``dcmfast`` command line."""

from __future__ import annotations

import argparse
import sys

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
    args = parser.parse_args(argv)

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

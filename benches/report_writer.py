"""Writer report: what the copying writer copies, and peak RSS of read + save_as.

Usage: python benches/report_writer.py [--corpus DIR] [--files N]

For the idioms that save (benches/idioms_workload.py times them against pydicom and the
floor), this shows what dcmfast's writer did per file: bytes copied from the source,
copies made, elements pydicom's encoder wrote. Then the peak RSS growth of reading a
100 MiB multi-frame file and saving it (unchanged, and with one element set), pydicom
against dcmfast, each in a fresh process.
"""

from __future__ import annotations

import argparse

# Keep module-level imports stdlib-only: spawned children re-import this file.
from measure import MIB, in_fresh_process, peak_memory


def _read_save(args: tuple[str, str, bool, str]) -> int:
    approach, path, edit, out = args
    if approach == "pydicom":
        from pydicom import dcmread
    else:
        from dcmfast import dcmread
    ds = dcmread(path)
    if edit:
        ds.PatientName = "Edited^Name"
    ds.save_as(out)
    return 0


def _measure_memory(approach: str, path: str, edit: bool, out: str) -> tuple[int, int]:
    import pydicom  # noqa: F401 - imports belong to the baseline

    if approach == "dcmfast":
        import dcmfast  # noqa: F401
    return peak_memory(_read_save, (approach, path, edit, out), False)


def _counts(paths: list[str]) -> None:
    import io

    import idioms_workload as w
    from dcmfast import dcmread
    from dcmfast._writer import recording_counts

    print("per file, the dataset (not the file meta) as dcmfast's writer wrote it:")
    for name, (_, idiom, _) in w.IDIOMS.items():
        if not name.startswith("read,"):
            continue
        totals = [0, 0, 0]
        for path in paths:
            with recording_counts() as log:
                ds = dcmread(path)
                if "walk" in name:
                    ds.walk(w._anonymise_names)
                    ds.remove_private_tags()
                    ds.save_as(io.BytesIO())
                else:
                    idiom(ds)
            counts = log[-1]
            totals[0] += counts.copied_bytes
            totals[1] += counts.copies
            totals[2] += counts.encoded
        n = len(paths)
        print(
            f"  {name:<45} {totals[0] / n:10.0f} bytes copied in"
            f" {totals[1] / n:4.1f} copies, {totals[2] / n:5.1f} elements encoded"
        )


def main(argv: list[str] | None = None) -> None:
    import os
    import tempfile

    from make_corpus import DEFAULT_OUTDIR, ensure_corpus
    from pixels_workload import ensure_native_files

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--corpus", default=str(DEFAULT_OUTDIR))
    args = parser.parse_args(argv)

    _counts(ensure_corpus(args.corpus, args.files))

    path = str(ensure_native_files()["multi16"])
    out = os.path.join(tempfile.mkdtemp(prefix="dcmfast-bench-writer-"), "out.dcm")
    print(f"\nPeak RSS growth of read + save_as ({path}):")
    for edit in (False, True):
        for approach in ("pydicom", "dcmfast"):
            base, peak = in_fresh_process(_measure_memory, approach, path, edit, out)
            label = "set 1 element" if edit else "unchanged"
            print(
                f"  {label:<14} {approach:<8} base {base / MIB:6.1f} MiB"
                f"  peak growth {peak / MIB:6.1f} MiB"
            )


if __name__ == "__main__":
    main()

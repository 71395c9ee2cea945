"""``scan``: chosen elements of many files, read in parallel, as columns.

The Rust scanner reads each file's header (up to its pixel data), on all
cores with the GIL released, and makes plain Python values of what its bytes alone
decide. Values it cannot make exactly as pydicom would (other character sets, values
pydicom corrects) are converted by pydicom here, and files the fast walk does not
describe exactly are read by pydicom, so every value is pydicom's.

Values are plain types: ``str`` (also for UI, PN, DA, TM, DT), ``int`` (IS, binary
integers, AT), ``float`` (DS, FL, FD), ``bytes`` (OB, OW, UN, ...), a ``list`` of them
for more than one value, and ``None`` for an absent element or an absent sequence item.
A string or number that repeats from one file to the next (a series' patient, study
and series values) is one shared object, which keeps large results small; every list
is the file's own.
Sequences themselves are not values: name an element inside them, e.g.
``"ReferencedSeriesSequence[0].SeriesInstanceUID"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, Union

from pydicom import config
from pydicom.charset import convert_encodings
from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.filereader import dcmread as _pydicom_dcmread
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.valuerep import DA, DT, TM, PersonName
from pydicom.values import convert_string

from dcmfast import _core
from dcmfast._warnings import caught_warnings

TagSpec = Union[str, int, tuple[int, int]]
PathArg = Union[str, "os.PathLike[str]"]

DEFAULT_BATCH = 10_000


class ScanResult:
    """The values of a scan, one column per wanted tag, in the order of the paths.

    ``result["PatientID"]`` is a list with a value (or None) per file;
    ``result.paths`` lists the files, ``result.errors`` the ``(path, message)`` of
    files that are not DICOM, could not be read, or hold a wanted value pydicom's
    converter raises on (the message names the exception); their values are None.
    """

    def __init__(
        self,
        paths: list[str],
        columns: dict[str, list[Any]],
        errors: list[tuple[str, str]],
        specs: dict[str, tuple[tuple[tuple[int, int], ...], int]],
    ) -> None:
        self.paths = paths
        self.columns = columns
        self.errors = errors
        self._specs = specs

    def __getitem__(self, key: TagSpec) -> list[Any]:
        if isinstance(key, str) and key in self.columns:
            return self.columns[key]
        path = _parse_spec(key)
        for name, spec in self._specs.items():
            if spec == path:
                return self.columns[name]
        raise KeyError(key)

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return (
            f"<ScanResult: {len(self.paths)} files, columns {list(self.columns)}, "
            f"{len(self.errors)} errors>"
        )

    def keys(self) -> list[str]:
        """The column names."""
        return list(self.columns)

    def to_dict(self) -> dict[str, list[Any]]:
        """``{"path": paths, column: values, ...}``."""
        return {"path": list(self.paths), **self.columns}

    def to_pandas(self) -> Any:
        """A pandas DataFrame with a ``path`` column and one column per tag, each of
        dtype ``object`` holding the values exactly as the scan returns them (see
        :func:`pandas_frame`)."""
        return pandas_frame(self.to_dict())

    def to_arrow(self) -> Any:
        """A pyarrow Table with a ``path`` column and one column per tag."""
        import pyarrow as pa

        return pa.table(self.to_dict())

    @classmethod
    def concat(cls, parts: list[ScanResult]) -> ScanResult:
        """One result of several, in order."""
        first = parts[0]
        columns = {name: [] for name in first.columns}
        paths: list[str] = []
        errors: list[tuple[str, str]] = []
        for part in parts:
            paths.extend(part.paths)
            errors.extend(part.errors)
            for name, values in part.columns.items():
                columns[name].extend(values)
        return cls(paths, columns, errors, first._specs)


def pandas_frame(columns: dict[str, list[Any]]) -> Any:
    """`columns` as a pandas DataFrame whose every column is of dtype ``object``.

    The dtype is declared, not inferred from the values: an inferred one depends on
    the data (an int column with a None becomes float64 and loses large ints; an
    empty one is float64; pandas 3 infers its string dtype), so two parts of one
    scan could disagree, and no dtype declared ahead of reading (Dask's meta) could
    match. ``object`` holds every plain value exactly, None where absent."""
    import pandas as pd

    return pd.DataFrame(columns, dtype=object)


def scan(
    paths: PathArg | Iterable[PathArg],
    tags: Iterable[TagSpec],
    *,
    workers: int | None = None,
    force: bool = False,
) -> ScanResult:
    """Read `tags` from every file in `paths` (files, directories searched
    recursively, or an iterable of them) on `workers` threads (all cores by default).

    A broken or non-DICOM file never stops the scan: its values are None and it is
    listed in ``errors``. For bounded memory over millions of files use
    :func:`iter_scan`.
    """
    specs = column_specs(tags)  # once: `tags` may be an iterator
    parts = list(iter_scan(paths, list(specs), workers=workers, force=force))
    if not parts:
        return ScanResult([], {name: [] for name in specs}, [], specs)
    if len(parts) == 1:
        return parts[0]
    return ScanResult.concat(parts)


def iter_scan(
    paths: PathArg | Iterable[PathArg],
    tags: Iterable[TagSpec],
    *,
    batch_size: int = DEFAULT_BATCH,
    workers: int | None = None,
    force: bool = False,
) -> Iterator[ScanResult]:
    """:func:`scan` in batches of `batch_size` files, so memory stays bounded."""
    specs = column_specs(tags)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    workers = workers or os.cpu_count() or 1
    plan = _core.ScanPlan(
        [(list(items), tag) for items, tag in specs.values()],
        _core.ReadOptions(
            force=force,
            infer_sq_for_un_vr=config.settings.infer_sq_for_un_vr,
            replace_un_with_known_vr=config.replace_un_with_known_vr,
            assume_implicit_vr_switch=config.assume_implicit_vr_switch,
        ),
        config.use_none_as_empty_text_VR_value,
    )
    yield from _scan_all(
        _batches(paths, batch_size), plan, specs, batch_size, workers, force
    )


Specs = dict[str, tuple[tuple[tuple[int, int], ...], int]]


def _flatten(paths: PathArg | Iterable[PathArg]) -> Iterator[str]:
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    for path in paths:
        yield path if type(path) is str else os.fsdecode(os.fspath(path))


def _batches(paths: PathArg | Iterable[PathArg], size: int) -> Iterator[list[str]]:
    """`paths` as lists of at most `size` path strings."""
    if type(paths) is list and all(type(p) is str for p in paths):
        # Already strings: sliced, with no step per path.
        for start in range(0, len(paths), size):
            yield paths[start : start + size]
        return
    items = _flatten(paths)
    while batch := list(islice(items, size)):
        yield batch


def _scan_all(
    batches: Iterator[list[str]],
    plan: Any,
    specs: Specs,
    batch_size: int,
    workers: int,
    force: bool,
) -> Iterator[ScanResult]:
    """Scan `batches` one at a time; a directory among them is replaced, in place, by
    the files under it (found by the scan itself: no stat per path)."""
    for batch in batches:
        columns, errors, directories = _scan_batch(batch, plan, specs, force, workers)
        if not directories:
            # The whole batch as it is: nothing to cut out.
            named = dict(zip(specs, columns))
            yield ScanResult(batch, named, [(p, m) for _, p, m in errors], specs)
            continue
        start = 0
        for row in [*directories, len(batch)]:
            if row > start:
                yield ScanResult(
                    batch[start:row],
                    {name: column[start:row] for name, column in zip(specs, columns)},
                    [
                        (path, message)
                        for r, path, message in errors
                        if start <= r < row
                    ],
                    specs,
                )
            if row < len(batch):
                files = _batches(_walk(batch[row]), batch_size)
                yield from _scan_all(files, plan, specs, batch_size, workers, force)
            start = row + 1


def walk_entries(directory: str, within: str | None = None) -> Iterator[os.DirEntry]:
    """The files under `directory`, searched recursively in sorted order, as
    ``os.DirEntry`` objects (their type and, on first ask, their stat come cheaply);
    unreadable directories are skipped, and so are named pipes, sockets and devices
    (a read of one may block or never end). A symbolic link is followed, and left for
    the scan to report when it names no regular file; a link (or bind mount) to a
    directory that contains it, a loop, is not followed, as ``find -L`` does, so two
    such links cannot make the walk endless.

    `within`, a folder above `directory`: list `directory` exactly as a walk of
    `within` lists that part of it (the folders between them count as containing
    it), so that parts of one tree can be listed separately, in parallel."""
    yield from _walk_entries(directory, _ancestors(directory, within))


def listing(
    directory: str, within: str | None = None
) -> list[tuple[os.DirEntry, bool]]:
    """The entries of `directory` itself (not below it) that
    ``walk_entries(directory, within)`` walks, in its order, each with whether it is
    a folder to descend into (True) or a file; empty if `directory` cannot be read."""
    level = _level(directory, _ancestors(directory, within))
    return level[1] if level is not None else []


def _ancestors(directory: str, within: str | None) -> frozenset[tuple[int, int]]:
    """(device, inode) of the folders from `directory`'s parent up to `within`."""
    ancestors: set[tuple[int, int]] = set()
    if within is not None:
        top = os.path.normpath(within)
        folder = os.path.dirname(os.path.normpath(directory))
        while True:
            try:
                st = os.stat(folder)
                ancestors.add((st.st_dev, st.st_ino))
            except OSError:
                pass
            if folder == top or os.path.dirname(folder) == folder:
                break
            folder = os.path.dirname(folder)
    return frozenset(ancestors)


def _walk_entries(
    directory: str, ancestors: frozenset[tuple[int, int]]
) -> Iterator[os.DirEntry]:
    level = _level(directory, ancestors)
    if level is None:
        return
    inside, entries = level
    for entry, is_dir in entries:
        if is_dir:
            yield from _walk_entries(entry.path, inside)
        else:
            yield entry


def _level(
    directory: str, ancestors: frozenset[tuple[int, int]]
) -> tuple[frozenset[tuple[int, int]], list[tuple[os.DirEntry, bool]]] | None:
    """The folders containing `directory`'s entries (`ancestors` and itself), and its
    entries the walk takes, sorted by name; None if it cannot be read."""
    try:
        st = os.stat(directory)
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return None
    inside = ancestors | {(st.st_dev, st.st_ino)}
    found = []
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
            if is_dir:
                target = entry.stat(follow_symlinks=True)
                if (target.st_dev, target.st_ino) in inside:
                    continue  # a loop back to a folder this walk is inside
        except OSError:
            continue
        if is_dir:
            found.append((entry, True))
        elif entry.is_symlink() or entry.is_file(follow_symlinks=False):
            found.append((entry, False))
    return inside, found


def _walk(directory: str) -> Iterator[str]:
    return (entry.path for entry in walk_entries(directory))


def _scan_batch(
    paths: list[str], plan: Any, specs: Specs, force: bool, workers: int
) -> tuple[list[list[Any]], list[tuple[int, str, str]], list[int]]:
    """Columns, errors as (row, path, message), and the rows that are directories."""
    found = _core.scan_paths(paths, plan, workers)
    columns = found.columns
    # Rows whose values only pydicom's reading of the whole dataset decides.
    reread = {
        p.row
        for p in found.pending
        if p.vr is None and " or " in (_dictionary_vr(p.tag) or "")
    }
    # Rows with a value pydicom's converter raises on: the file's error, not the scan's.
    broken: dict[int, str] = {}
    if found.pending:
        charsets = found.charsets
        for p in found.pending:
            if p.row in reread or p.row in broken:
                continue
            raw = RawDataElement(
                BaseTag(p.tag),
                p.vr,
                len(p.value),
                p.value,
                0,
                p.is_implicit_vr,
                p.is_little_endian,
            )
            try:
                columns[p.column][p.row] = _pydicom_value(
                    raw, charsets.get(p.row), p.is_little_endian
                )
            except Exception as exc:  # noqa: BLE001 - one file's error, reported
                broken[p.row] = _describe(exc)
    errors = []
    directories = []
    # The scan's failures are exceptions; rows pydicom rereads or whose values broke are
    # this function's own.
    failed = found.failures
    for row in sorted(failed.keys() | reread | broken.keys()):
        path = paths[row]
        failure = failed.get(row)
        if isinstance(failure, IsADirectoryError):
            directories.append(row)
            continue
        if row in broken:
            message = broken[row]
        elif row in reread or isinstance(failure, _core.ParseError):
            # pydicom reads what the fast walk does not describe exactly.
            try:
                values = _read_with_pydicom(path, specs, force)
            except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
                message = _describe(exc)
            else:
                for column, value in zip(columns, values):
                    column[row] = value
                continue
        else:
            message = _failure_text(failure, path)
        errors.append((row, path, message))
        for column in columns:
            column[row] = None  # a file with an error has no values
    return columns, errors, directories


def _failure_text(failure: BaseException, path: str) -> str:
    """The scan's failure for `path` as its error message: an OS error as Python words
    it (``[Errno 2] No such file or directory: 'path'``), others as they are."""
    if isinstance(failure, OSError) and failure.errno is not None:
        return str(type(failure)(failure.errno, failure.strerror, path))
    return str(failure)


def _describe(exc: BaseException) -> str:
    """An exception as a file's error message: its type and message."""
    return f"{type(exc).__name__}: {exc}"


def _pydicom_value(raw: RawDataElement, charset: bytes | None, little: bool) -> Any:
    with caught_warnings("ignore"):
        encodings = convert_encodings(
            convert_string(charset, little) if charset is not None else None
        )
        return plain(convert_raw_data_element(raw, encoding=encodings).value)


def _read_with_pydicom(path: str, specs: Specs, force: bool) -> list[Any]:
    with caught_warnings("ignore"):
        ds = _pydicom_dcmread(path, stop_before_pixels=True, force=force)
        return [_value_at(ds, items, tag) for items, tag in specs.values()]


def _value_at(ds: Any, items: tuple[tuple[int, int], ...], tag: int) -> Any:
    for seq_tag, index in items:
        seq = ds.get(seq_tag)
        if (
            seq is None
            or not isinstance(seq.value, Sequence)
            or len(seq.value) <= index
        ):
            return None
        ds = seq.value[index]
    dataset = ds.file_meta if tag >> 16 == 2 and not items else ds
    elem = dataset.get(tag) if dataset is not None else None
    return None if elem is None else plain(elem.value)


def plain(value: Any) -> Any:
    """A pydicom value as the plain type the scan returns it as."""
    if isinstance(value, (MultiValue, list)):
        return [plain(v) for v in value]
    if value is None or type(value) in (str, int, float, bytes):
        return value
    if isinstance(value, Sequence):
        return None
    if isinstance(value, (DA, DT, TM)):
        return value.original_string
    if isinstance(value, (PersonName, str)):
        return str(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    try:
        return float(value)  # DSdecimal, numpy scalars
    except (TypeError, ValueError):
        return value


def column_specs(
    tags: Iterable[TagSpec],
) -> dict[str, tuple[tuple[tuple[int, int], ...], int]]:
    """Column name -> (sequence steps, tag) for each wanted tag, in order."""
    if isinstance(tags, (str, int)) or _is_tag_pair(tags):
        tags = [tags]  # one tag given bare
    specs: dict[str, tuple[tuple[tuple[int, int], ...], int]] = {}
    for spec in tags:
        path = _parse_spec(spec)
        name = spec if isinstance(spec, str) else _tag_name(path[1])
        specs.setdefault(name, path)
    return specs


def _is_tag_pair(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int) for v in value)
    )


def _tag_name(tag: int) -> str:
    return keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _parse_spec(spec: Any) -> tuple[tuple[tuple[int, int], ...], int]:
    """A tag spec as (steps, tag): keyword, int, (group, element), a hex string such as
    "(0010,0010)", or a dotted path of them with item indices, e.g.
    "ReferencedSeriesSequence[0].SeriesInstanceUID"."""
    if _is_tag_pair(spec):
        return (), _checked_tag((spec[0] << 16) | spec[1], spec)
    if isinstance(spec, int) and not isinstance(spec, bool):
        return (), _checked_tag(spec, spec)
    if not isinstance(spec, str):
        raise TypeError(f"tags are keywords, ints or (group, element) pairs: {spec!r}")
    parts = spec.split(".")
    steps = []
    for part in parts[:-1]:
        name, sep, rest = part.partition("[")
        if not sep or not rest.endswith("]") or not rest[:-1].isdigit():
            raise ValueError(
                f"{spec!r}: a sequence step needs an item index, e.g. '{name}[0]'"
            )
        steps.append((_tag_of(name, spec), int(rest[:-1])))
    tag = _tag_of(parts[-1], spec)
    if _dictionary_vr(tag) == "SQ":
        raise ValueError(
            f"{spec!r} is a sequence: name an element inside one of its items"
        )
    return tuple(steps), tag


def _tag_of(name: str, spec: Any) -> int:
    tag = tag_for_keyword(name)
    if tag is not None:
        return tag
    text = name.strip().strip("()").replace(",", "")
    if text.lower().startswith("0x"):
        text = text[2:]
    if len(text) == 8:
        try:
            return _checked_tag(int(text, 16), spec)
        except ValueError:
            pass
    raise ValueError(f"{spec!r}: {name!r} is not a DICOM keyword or tag")


def _checked_tag(tag: int, spec: Any) -> int:
    if not 0 <= tag <= 0xFFFFFFFF:
        raise ValueError(f"{spec!r} is not a DICOM tag")
    return tag


def _dictionary_vr(tag: int) -> str | None:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None

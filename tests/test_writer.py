"""The copying writer: ``save_as``/``dcmwrite`` of a dataset read by dcmfast writes
exactly what pydicom's own ``save_as`` writes of the same dataset read by pydicom and
edited the same way, and copies the unchanged elements' source bytes to do it.

Every pydicom and pydicom-data test file pydicom reads, under a set of edits (none;
set, replace, add and delete top-level elements; an edit inside a sequence item;
items added and removed; a private block; ``remove_private_tags``; pixel data replaced;
``walk``-based de-identification; another transfer syntax), written with
``enforce_file_format`` both ways, to BytesIO and to a path; plus random edits, writing
over the file read, and reads with ``defer_size``, ``stop_before_pixels`` and
``specific_tags``. ``recording_counts`` (the writer's debug hook) shows the copying path
was taken where it should be.
"""

from __future__ import annotations

import copy
import io
import random
import shutil
import warnings
from pathlib import Path
from typing import Any, Callable

import dcmfast
import pydicom
import pytest
from compare import pydicom_dcmread
from dcmfast import _core
from dcmfast._writer import recording_counts
from helpers import CT, CallOutcome, assert_same, call_outcome
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

pytestmark = pytest.mark.usefixtures("quiet_pydicom_logger")


# --------------------------------------------------------------------------
# edits, applied alike to pydicom's dataset and dcmfast's
# --------------------------------------------------------------------------
def _public_tags(ds: Dataset) -> list[int]:
    return [int(t) for t in sorted(ds.keys()) if t.group % 2 == 0 and t.group > 2]


def _first_sequence(ds: Dataset) -> Any:
    for elem in ds:
        if elem.VR == "SQ" and len(elem.value):
            return elem.value
    return None


def edit_none(ds: Dataset) -> None:
    pass


def edit_set_two(ds: Dataset) -> None:
    ds.PatientName = "Edited^Name"
    ds.PatientID = "EDITED-ID"


def edit_replace(ds: Dataset) -> None:
    ds[0x00081030] = DataElement(0x00081030, "LO", "replaced study")


def edit_delete(ds: Dataset) -> None:
    tags = _public_tags(ds)
    if tags:
        del ds[tags[len(tags) // 2]]


def edit_in_item(ds: Dataset) -> None:
    seq = _first_sequence(ds)
    if seq is not None:
        seq[0].add_new(0x0008103E, "LO", "in an item")


def edit_items(ds: Dataset) -> None:
    seq = _first_sequence(ds)
    if seq is not None:
        item = Dataset()
        item.add_new(0x00081150, "UI", "1.2.3.4")
        seq.append(item)
        del seq[0]


def edit_private_block(ds: Dataset) -> None:
    block = ds.private_block(0x0011, "dcmfast writer test", create=True)
    block.add_new(0x01, "LO", "private value")


def edit_remove_private(ds: Dataset) -> None:
    ds.remove_private_tags()


def edit_pixels(ds: Dataset) -> None:
    if "PixelData" in ds:
        value = ds.PixelData
        if value is not None and not ds["PixelData"].is_undefined_length:
            ds.PixelData = bytes(reversed(value))


def edit_deidentify(ds: Dataset) -> None:
    def anonymize(dataset: Dataset, elem: DataElement) -> None:
        if elem.VR == "PN":
            elem.value = "Anonymous"

    ds.walk(anonymize)
    ds.remove_private_tags()


EDITS: dict[str, Callable[[Dataset], None]] = {
    "none": edit_none,
    "set_two": edit_set_two,
    "replace": edit_replace,
    "delete": edit_delete,
    "in_item": edit_in_item,
    "items": edit_items,
    "private_block": edit_private_block,
    "remove_private": edit_remove_private,
    "pixels": edit_pixels,
    "deidentify": edit_deidentify,
}

SYNTAXES = {
    "implicit": ImplicitVRLittleEndian,
    "explicit": ExplicitVRLittleEndian,
    "big_endian": ExplicitVRBigEndian,
}


def _to_syntax(uid: str) -> Callable[[Dataset], dict[str, Any]]:
    def edit(ds: Dataset) -> dict[str, Any]:
        meta = getattr(ds, "file_meta", None)
        if meta is not None and "TransferSyntaxUID" in meta:
            meta.TransferSyntaxUID = uid
            return {}
        return {
            "implicit_vr": uid == ImplicitVRLittleEndian,
            "little_endian": uid != ExplicitVRBigEndian,
        }

    return edit


# --------------------------------------------------------------------------
# writing with both
# --------------------------------------------------------------------------
def _save(ds: Dataset, target: Any, **kwargs: Any) -> bytes:
    ds.save_as(target, **kwargs)
    if isinstance(target, io.BytesIO):
        return target.getvalue()
    return Path(target).read_bytes()


def _write_outcome(
    read: Callable[[], Dataset],
    edit: Callable[[Dataset], Any],
    target: Callable[[], Any],
    **kwargs: Any,
) -> tuple[CallOutcome, Dataset | None]:
    """Read, edit and save: the bytes written (or the exception, and the warnings)."""
    kept: list[Dataset] = []

    def run() -> bytes:
        ds = read()
        kept.append(ds)
        extra = edit(ds) or {}
        return _save(ds, target(), **kwargs, **extra)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reading warnings are test_parity's
        try:
            read()
        except Exception:  # noqa: BLE001 - a file pydicom cannot read is not written
            return CallOutcome(), None
    return call_outcome(run), (kept[0] if kept else None)


# What dcmfast's writer recorded in the last _compare: one count per dataset written.
WRITTEN: list[Any] = []


def _compare(
    path: str,
    edit: Callable[[Dataset], Any],
    target: Callable[[], Any] = io.BytesIO,
    label: str = "",
    read_kwargs: dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[CallOutcome, Dataset | None]:
    read_kwargs = read_kwargs or {}
    want, _ = _write_outcome(
        lambda: pydicom_dcmread(path, force=True, **read_kwargs), edit, target, **kwargs
    )
    with recording_counts() as log:
        got, ds = _write_outcome(
            lambda: dcmfast.dcmread(path, force=True, **read_kwargs),
            edit,
            target,
            **kwargs,
        )
    WRITTEN[:] = log
    assert_same(want, got, label)
    return got, ds


def _copies(ds: Dataset | None) -> bool:
    """True when `ds` was read by dcmfast's fast path (its elements in Rust)."""
    return ds is not None and type(ds.__dict__.get("_dict")) is _core.ElementDict


@pytest.mark.parametrize("enforce", [False, True], ids=["as_is", "file_format"])
def test_edits_write_what_pydicom_writes(dicom_file: str, enforce: bool) -> None:
    for name, edit in EDITS.items():
        got, ds = _compare(dicom_file, edit, label=name, enforce_file_format=enforce)
        if got.exc is None and _copies(ds) and len(ds) > 1 and name == "none":
            # The copying path was taken: bytes were copied, not encoded. (A dataset
            # of one element is a text or a truncated file read with force=True.)
            assert WRITTEN, "the copying writer was not used"
            assert WRITTEN[-1].copied_bytes > 0, "nothing was copied"


def test_transfer_syntax_changes_write_what_pydicom_writes(dicom_file: str) -> None:
    for name, uid in SYNTAXES.items():
        _compare(dicom_file, _to_syntax(uid), label=name)


def test_writing_to_a_path(dicom_file: str, tmp_path: Path) -> None:
    counter = iter(range(1000))
    for name in ("none", "set_two", "deidentify"):
        _compare(
            dicom_file,
            EDITS[name],
            target=lambda: tmp_path / f"out{next(counter)}.dcm",
            label=name,
        )


# --------------------------------------------------------------------------
# the copying path, counted
# --------------------------------------------------------------------------
def _written() -> tuple[Any, Any]:
    """The counts of the file meta and of the dataset last written."""
    meta, dataset = WRITTEN[-2:]
    return meta, dataset


def test_unchanged_dataset_is_one_copy() -> None:
    got, ds = _compare(CT, edit_none)
    assert _copies(ds)
    meta, dataset = _written()
    # The file meta (then given its new group length by pydicom) and the dataset:
    # nothing encoded. dcmwrite converts the pixel data, whose header is copied with the
    # elements before it and value written as it is, then the trailing padding copied.
    assert (meta.copies, meta.encoded) == (1, 0)
    assert (dataset.copies, dataset.encoded) == (2, 0)
    meta_end = 144 + int.from_bytes(got.value[140:144], "little")
    assert meta.copied_bytes == meta_end - 132
    assert dataset.copied_bytes == len(got.value) - meta_end


def test_a_run_longer_than_a_write_piece_is_copied(tmp_path: Path) -> None:
    """A mapped file whose unchanged run (a 3 MiB private OB value before the pixel
    data) is written in several pieces: still pydicom's bytes, all of it copied."""
    ds = pydicom_dcmread(CT)
    block = ds.private_block(0x0043, "DCMFAST TEST", create=True)
    block.add_new(0x01, "OB", bytes(range(256)) * (3 * 4096))
    path = tmp_path / "long_run.dcm"
    ds.save_as(path)
    got, written = _compare(str(path), edit_none)
    assert got.exc is None and _copies(written)
    dataset = _written()[1]
    assert dataset.copied_bytes > 3 << 20 and dataset.encoded == 0


def test_two_set_elements_are_encoded_between_copies() -> None:
    _compare(CT, edit_set_two)
    # (0010,0010) and (0010,0020) are neighbours: one copy before them, one after (up
    # to the pixel data's value), one of the padding after it.
    dataset = _written()[1]
    assert (dataset.encoded, dataset.copies) == (2, 3)


def test_elements_read_but_unchanged_are_still_copied() -> None:
    def touch(ds: Dataset) -> None:
        for elem in ds:
            elem.value  # noqa: B018 - converting every element is the point

    _compare(CT, touch)
    # Sequences are encoded item by item: pydicom's encoder writes them; every other
    # element (names too, made by dcmfast from canonical bytes) is copied.
    assert _written()[1].encoded == _sequences(CT)


def test_a_value_changed_in_place_is_encoded() -> None:
    def change(ds: Dataset) -> None:
        ds.ImageType[0] = "DERIVED"
        ds.ImagePositionPatient[2] = 1.5

    _compare(CT, change)
    assert _written()[1].encoded == 2


def _sequences(path: str) -> int:
    return sum(elem.VR == "SQ" for elem in pydicom_dcmread(path))


def _names_and_sequences(path: str) -> int:
    return sum(elem.VR in ("PN", "SQ") for elem in pydicom_dcmread(path))


def test_deidentification_encodes_only_names() -> None:
    _compare(CT, edit_deidentify)
    assert 0 < _written()[1].encoded == _names_and_sequences(CT)


def test_another_encoding_is_pydicom_writing() -> None:
    _compare(CT, _to_syntax(ImplicitVRLittleEndian))
    # Only the file meta (explicit VR little endian whatever the syntax) was copied.
    assert len(WRITTEN) == 1


# --------------------------------------------------------------------------
# reading options, the file read, files without meta
# --------------------------------------------------------------------------
READ_OPTIONS = {
    "defer_size": {"defer_size": 256},
    "stop_before_pixels": {"stop_before_pixels": True},
    "specific_tags": {"specific_tags": ["PatientName", "Rows", 0x00200032]},
}


@pytest.mark.parametrize("option", READ_OPTIONS, ids=list(READ_OPTIONS))
@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "MR_small_bigendian.dcm", "rtplan.dcm", "emri_small.dcm"]
)
def test_read_options(option: str, name: str) -> None:
    path = pydicom.data.get_testdata_file(name)
    for edit in ("none", "set_two", "deidentify"):
        _compare(path, EDITS[edit], label=edit, read_kwargs=READ_OPTIONS[option])


@pytest.mark.parametrize(
    "name", ["ExplVR_LitEndNoMeta.dcm", "ExplVR_BigEndNoMeta.dcm", "no_meta.dcm"]
)
def test_files_without_meta(name: str) -> None:
    path = pydicom.data.get_testdata_file(name)
    for edit in ("none", "set_two", "remove_private"):
        for enforce in (False, True):
            _compare(path, EDITS[edit], label=edit, enforce_file_format=enforce)


@pytest.mark.parametrize("name", ["CT_small.dcm", "emri_small.dcm", "SC_rgb_rle.dcm"])
def test_writing_over_the_file_read(name: str, tmp_path: Path) -> None:
    source = pydicom.data.get_testdata_file(name)
    expected = io.BytesIO()
    ds = pydicom_dcmread(source)
    edit_set_two(ds)
    ds.save_as(expected)

    path = tmp_path / name
    shutil.copy(source, path)
    ds = dcmfast.dcmread(path)
    edit_set_two(ds)
    ds.save_as(path)
    assert path.read_bytes() == expected.getvalue()
    # The dataset still reads what it read: its bytes were kept when the file went.
    ds.save_as(path)
    assert path.read_bytes() == expected.getvalue()


def test_fuzz_random_edits() -> None:
    """Random edits on random files: always pydicom's output."""
    from conftest import all_test_files

    rng = random.Random(15)
    files = all_test_files()
    names = list(EDITS)
    for _ in range(60):
        path = rng.choice(files)
        chosen = rng.sample(names, 3)

        def edit(ds: Dataset, chosen: list[str] = chosen) -> None:
            for name in chosen:
                EDITS[name](ds)

        _compare(path, edit, label=f"{Path(path).name} {chosen}")


def test_sequence_items_written_alike() -> None:
    """An item added to a sequence read by dcmfast is encoded, the rest copied."""
    path = pydicom.data.get_testdata_file("rtplan.dcm")

    def edit(ds: Dataset) -> None:
        ds.BeamSequence.append(Dataset())
        ds.ReferencedRTPlanSequence = Sequence([Dataset()])

    _compare(path, edit)


@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "rtplan.dcm", "MR_small_bigendian.dcm"]
)
def test_deep_copies_write_what_pydicom_writes(name: str) -> None:
    """A deep copy of a dataset read by dcmfast (its element dict copied lazily) is
    written like pydicom's deep copy, and neither it nor the original sees the other's
    edits."""
    path = pydicom.data.get_testdata_file(name)

    def outputs(read: Callable[..., Dataset]) -> tuple[bytes, bytes]:
        ds = read(path)
        ds.PatientID  # noqa: B018 - a converted element is copied too
        copied = copy.deepcopy(ds)
        copied.PatientName = "Copy^Name"
        edit_in_item(copied)
        ds.PatientID = "ORIGINAL"
        return _save(copied, io.BytesIO()), _save(ds, io.BytesIO())

    assert outputs(dcmfast.dcmread) == outputs(pydicom_dcmread)

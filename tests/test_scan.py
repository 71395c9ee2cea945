"""dcmfast.scan against pydicom: the same values (as plain types) for every offline test
file and a generated archive; broken and non-DICOM files are reported, never fatal."""

from __future__ import annotations

import math
import os
import shutil
import warnings
from pathlib import Path

import dcmfast
import pydicom
import pytest
from conftest import all_test_files, file_id
from dcmfast._scan import walk_entries
from helpers import CT, pydicom_values, typed
from pydicom.data import get_testdata_file
from pydicom.errors import InvalidDicomError

TAGS = [
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "SOPClassUID",
    "Modality",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "StudyDescription",
    "SeriesDescription",
    "SeriesNumber",
    "InstanceNumber",
    "ImageType",
    "SliceLocation",
    "SliceThickness",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "Rows",
    "Columns",
    "BitsAllocated",
    "PixelRepresentation",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "NumberOfFrames",
    "WindowCenter",
    "RescaleSlope",
    "Manufacturer",
    "InstitutionName",
    "SpecificCharacterSet",
    "FrameIncrementPointer",
    "TransferSyntaxUID",
    "MediaStorageSOPClassUID",
    "ReferencedImageSequence[0].ReferencedSOPInstanceUID",
    "ReferencedImageSequence[1].ReferencedSOPClassUID",
    "ReferencedStudySequence[0].ReferencedSOPClassUID",
    "SourceImageSequence[0].ReferencedSOPInstanceUID",
    "(0008,0070)",
    0x00280010,
    (0x0028, 0x0011),
    "0x00200013",
]


@pytest.fixture(scope="module")
def corpus_scan():
    files = all_test_files()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the scan itself never warns
        return files, dcmfast.scan(files, TAGS, workers=2)


def test_scan_matches_pydicom_on_every_test_file(corpus_scan, quiet_pydicom_logger):
    files, result = corpus_scan
    assert result.paths == files
    errors = dict(result.errors)
    mismatches = []
    for row, path in enumerate(files):
        try:
            expected = pydicom_values(path, TAGS)
        except Exception:  # noqa: BLE001 - pydicom refuses the file
            if path not in errors:
                mismatches.append(f"{file_id(path)}: pydicom raises, scan does not")
            continue
        if path in errors:
            mismatches.append(f"{file_id(path)}: scan error {errors[path]}")
            continue
        for spec, want in zip(TAGS, expected):
            got = result[spec][row]
            if typed(got) != typed(want):
                mismatches.append(f"{file_id(path)} {spec}: {got!r} != {want!r}")
    assert not mismatches, "\n".join(mismatches[:40])
    assert len(errors) < len(files) // 4  # the corpus is mostly readable


def test_columns_answer_to_every_spelling(corpus_scan):
    _, result = corpus_scan
    assert result["Rows"] is result[0x00280010] is result[(0x0028, 0x0010)]
    assert result["(0008,0070)"] == result["Manufacturer"]
    assert result[(0x0028, 0x0011)] == result["Columns"]
    with pytest.raises(KeyError):
        result["PatientWeight"]


def test_bad_tag_specs_are_refused():
    for spec, error in [
        ("NoSuchKeyword", ValueError),
        ("ReferencedImageSequence.ReferencedSOPInstanceUID", ValueError),
        ("ReferencedImageSequence", ValueError),
        (1.5, TypeError),
        (-1, ValueError),
    ]:
        with pytest.raises(error):
            dcmfast.scan([CT], [spec])


def test_broken_and_foreign_files_are_reported_not_fatal(tmp_path):
    data = Path(CT).read_bytes()
    (tmp_path / "truncated.dcm").write_bytes(data[:700])
    (tmp_path / "garbage.dcm").write_bytes(os.urandom(5000))
    (tmp_path / "empty.dcm").write_bytes(b"")
    (tmp_path / "text.txt").write_text("not DICOM")
    (tmp_path / "lying.dcm").write_bytes(data[:400] + b"\xff" * 8 + data[408:])
    shutil.copy(CT, tmp_path / "good.dcm")
    paths = sorted(str(p) for p in tmp_path.iterdir()) + [str(tmp_path / "missing")]
    result = dcmfast.scan(paths, ["PatientID", "Rows"], workers=2)
    assert result.paths == paths
    errors = dict(result.errors)
    good = paths.index(str(tmp_path / "good.dcm"))
    assert result["PatientID"][good] == pydicom.dcmread(CT).PatientID
    for row, path in enumerate(paths):
        try:
            expected = pydicom_values(path, ["PatientID", "Rows"])
        except Exception:  # noqa: BLE001
            assert path in errors, path
            assert [result["PatientID"][row], result["Rows"][row]] == [None, None]
        else:
            assert path not in errors, (path, errors.get(path))
            assert [result["PatientID"][row], result["Rows"][row]] == expected
    # An OS error worded as Python words it (as pydicom's dcmread raises it).
    missing = str(tmp_path / "missing")
    assert errors[missing] == str(FileNotFoundError(2, os.strerror(2), missing))


def test_directories_are_searched_in_place(tmp_path):
    mr = get_testdata_file("MR_small.dcm")
    (tmp_path / "b" / "c").mkdir(parents=True)
    shutil.copy(CT, tmp_path / "a.dcm")
    shutil.copy(mr, tmp_path / "b" / "c" / "mr.dcm")
    shutil.copy(CT, tmp_path / "b" / "ct.dcm")
    result = dcmfast.scan([mr, tmp_path, CT], ["Modality"], workers=1)
    assert result.paths == [
        mr,
        str(tmp_path / "a.dcm"),
        str(tmp_path / "b" / "c" / "mr.dcm"),
        str(tmp_path / "b" / "ct.dcm"),
        CT,
    ]
    assert result["Modality"] == ["MR", "CT", "MR", "CT", "CT"]
    assert dcmfast.scan(tmp_path, ["Modality"]).paths == result.paths[1:4]


def test_symlink_loops_end_and_other_links_are_followed(tmp_path):
    """Links back to a folder the walk is inside are not followed (two of them would
    make the walk exponential); a link to a folder elsewhere is listed under its name,
    as `find -L` lists it; a part of the tree is listed, `within` it, as in the whole."""
    root = tmp_path / "archive"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    shutil.copy(CT, root / "a" / "ct.dcm")
    shutil.copy(CT, root / "b" / "ct.dcm")
    for name in ("loop1", "loop2"):
        (root / "a" / name).symlink_to(root / "a")
    (root / "a" / "up").symlink_to(root)
    (root / "to_b").symlink_to(root / "b")
    want = [
        str(root / "a" / "ct.dcm"),
        str(root / "b" / "ct.dcm"),
        str(root / "to_b" / "ct.dcm"),
    ]
    result = dcmfast.scan(root, ["Modality"], workers=1)
    assert result.paths == want and result["Modality"] == ["CT"] * 3
    # On its own, "a" contains its link up to the archive, which is followed.
    alone = [str(root / "a" / "ct.dcm"), str(root / "a" / "up" / "b" / "ct.dcm")]
    alone.append(str(root / "a" / "up" / "to_b" / "ct.dcm"))
    assert dcmfast.scan(root / "a", ["Modality"]).paths == alone
    parts = [str(root / "a"), str(root / "b"), str(root / "to_b")]
    listed = [e.path for part in parts for e in walk_entries(part, within=str(root))]
    assert listed == want
    frames = dcmfast.FrameDataset(root)
    assert frames.paths == want


def test_batches_workers_and_concatenation_agree(corpus_scan):
    files, whole = corpus_scan
    batches = list(dcmfast.iter_scan(files, TAGS, batch_size=37, workers=1))
    assert all(len(b) <= 37 for b in batches)
    joined = dcmfast.ScanResult.concat(batches)
    assert joined.paths == whole.paths
    assert joined.errors == whole.errors
    for spec in TAGS:
        assert typed(joined[spec]) == typed(whole[spec]), spec


def test_force_reads_files_without_preamble():
    path = get_testdata_file("no_meta.dcm")
    with pytest.raises(InvalidDicomError) as theirs:
        pydicom.dcmread(path)
    assert dcmfast.scan([path], ["PatientName"]).errors == [(path, str(theirs.value))]
    forced = dcmfast.scan([path], ["PatientName"], force=True)
    assert not forced.errors
    assert forced["PatientName"] == pydicom_values(path, ["PatientName"], force=True)


def test_table_exports():
    result = dcmfast.scan([CT, CT], ["PatientID", "Rows"])
    assert result.to_dict() == {
        "path": [CT, CT],
        "PatientID": result["PatientID"],
        "Rows": result["Rows"],
    }
    try:
        import pandas  # noqa: F401
    except ImportError:
        pass
    else:
        frame = result.to_pandas()
        assert list(frame.columns) == ["path", "PatientID", "Rows"]
        assert frame["Rows"].tolist() == result["Rows"]
        assert frame.dtypes.tolist() == [object] * 3
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        pass
    else:
        table = result.to_arrow()
        assert table.column_names == ["path", "PatientID", "Rows"]
        assert table.column("Rows").to_pylist() == result["Rows"]


def test_pandas_columns_are_declared_object_not_inferred(tmp_path):
    """Whatever the values (ints with a None, none at all, strings under pandas'
    string dtype), each column is object and holds the scan's values exactly."""
    pd = pytest.importorskip("pandas")
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.add_new(0x00540081, "UV", 2**64 - 1)  # no float holds it exactly
    ds.PatientID = "P"
    ds.save_as(tmp_path / "big.dcm", enforce_file_format=True)
    (tmp_path / "notes.txt").write_text("not DICOM")
    tags = ["NumberOfSlices", "PatientID"]
    result = dcmfast.scan(tmp_path, tags)
    assert result["NumberOfSlices"] == [2**64 - 1, None]
    frame = result.to_pandas()
    assert frame.dtypes.tolist() == [object] * 3
    assert frame["NumberOfSlices"].tolist() == [2**64 - 1, None]
    assert frame["PatientID"].tolist() == ["P", None]
    empty = dcmfast.scan([], tags).to_pandas()
    assert list(empty.columns) == ["path", *tags] and len(empty) == 0
    assert empty.dtypes.tolist() == [object] * 3
    assert isinstance(frame, pd.DataFrame)


def _archive(tmp_path, count=40):
    """A generated archive: CT and MR headers with varied values, transfer syntaxes and
    character sets."""
    from pydicom.uid import (
        ExplicitVRBigEndian,
        ExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
        generate_uid,
    )

    syntaxes = [ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian]
    names = ["Doe^Jane", "Müller^Jürgen", "", "Yamada^Tarou=山田^太郎", "A^B\\C^D"]
    charsets = [None, "ISO_IR 100", "ISO_IR 100", "ISO_IR 192", "ISO_IR 100"]
    paths = []
    for i in range(count):
        source = "CT_small.dcm" if i % 2 else "MR_small.dcm"
        ds = pydicom.dcmread(get_testdata_file(source))
        ds.file_meta.TransferSyntaxUID = syntaxes[i % 3]
        k = i % len(names)
        if charsets[k] is None:
            ds.pop("SpecificCharacterSet", None)
        else:
            ds.SpecificCharacterSet = charsets[k]
        ds.PatientName = names[k]
        ds.PatientID = f"P{i:04d}" if i % 7 else ""
        ds.SeriesInstanceUID = generate_uid()
        ds.InstanceNumber = i
        ds.SliceLocation = f"{i * 1.25:.2f}"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"][: 1 + i % 3]
        ds.WindowCenter = [40, 400] if i % 3 else 40
        ref = pydicom.Dataset()
        ref.ReferencedSOPClassUID = ds.SOPClassUID
        ref.ReferencedSOPInstanceUID = generate_uid()
        ds.ReferencedImageSequence = [ref] * (i % 3)
        path = tmp_path / f"{i:03d}.dcm"
        pydicom.dcmwrite(
            path,
            ds,
            implicit_vr=i % 3 == 0,
            little_endian=i % 3 != 2,
            force_encoding=True,
        )
        paths.append(str(path))
    return paths


def test_scan_matches_pydicom_on_a_generated_archive(tmp_path):
    paths = _archive(tmp_path)
    result = dcmfast.scan(tmp_path, TAGS, workers=2)
    assert result.paths == paths
    assert not result.errors
    for row, path in enumerate(paths):
        for spec, want in zip(TAGS, pydicom_values(path, TAGS)):
            assert typed(result[spec][row]) == typed(want), (path, spec)


def test_empty_text_follows_pydicoms_setting(tmp_path):
    from pydicom import config

    paths = _archive(tmp_path, count=8)
    old = config.use_none_as_empty_text_VR_value
    config.use_none_as_empty_text_VR_value = True
    try:
        result = dcmfast.scan(paths, ["PatientID", "PatientName"])
        expected = [pydicom_values(p, ["PatientID", "PatientName"]) for p in paths]
    finally:
        config.use_none_as_empty_text_VR_value = old
    assert [
        list(r) for r in zip(result["PatientID"], result["PatientName"])
    ] == expected
    assert None in result["PatientID"]


def test_ambiguous_vrs_are_resolved_as_pydicoms_dataset_does(tmp_path):
    """Implicit VR files leave 'US or SS' to the dataset (PixelRepresentation)."""
    paths = []
    for pixel_rep, value in [(0, 65000), (1, -300)]:
        ds = pydicom.dcmread(CT)
        ds.PixelRepresentation = pixel_rep
        ds.SmallestImagePixelValue = value
        ds.LargestImagePixelValue = abs(value)
        ref = pydicom.Dataset()
        ref.PixelPaddingValue = value
        ds.ReferencedImageSequence = [ref]
        path = tmp_path / f"rep{pixel_rep}.dcm"
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
        pydicom.dcmwrite(path, ds, implicit_vr=True, little_endian=True)
        paths.append(str(path))
    specs = [
        "SmallestImagePixelValue",
        "LargestImagePixelValue",
        "ReferencedImageSequence[0].PixelPaddingValue",
        "Rows",
    ]
    result = dcmfast.scan(paths, specs)
    assert not result.errors
    for row, path in enumerate(paths):
        assert [result[s][row] for s in specs] == pydicom_values(path, specs)
    assert result["SmallestImagePixelValue"] == [65000, -300]


def test_values_repeated_from_file_to_file_are_exact_and_lists_are_not_shared(tmp_path):
    """Repeated scalars may share one object; their values, and signed zeros, stay exact,
    and every row gets its own list."""
    ds = pydicom.dcmread(CT)
    paths = []
    for i, (location, x) in enumerate(
        [("0.0", 1.5), ("-0.0", 1.5), ("-0.0", -0.0), ("0.0", 0.0), ("0.0", 0.0)]
    ):
        ds.SliceLocation = location
        ds.ImagePositionPatient = [x, x, float(i)]
        ds.InstanceNumber = 7
        path = tmp_path / f"{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(str(path))
    tags = [
        "SliceLocation",
        "ImagePositionPatient",
        "InstanceNumber",
        "StudyInstanceUID",
    ]
    result = dcmfast.scan(paths, tags, workers=1)
    for row, path in enumerate(paths):
        for tag, want in zip(tags, pydicom_values(path, tags)):
            got = result[tag][row]
            assert typed(got) == typed(want), (row, tag)
            for g, w in zip(*(v if isinstance(v, list) else [v] for v in (got, want))):
                if isinstance(w, float):
                    assert math.copysign(1, g) == math.copysign(1, w), (row, tag)
    positions = result["ImagePositionPatient"]
    assert len({id(p) for p in positions}) == len(positions)
    positions[0].append(99.0)
    assert len(positions[1]) == 3
    # One string object for the study all rows share.
    assert len({id(u) for u in result["StudyInstanceUID"]}) == 1

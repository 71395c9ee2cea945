"""dcmfast.monai.DcmfastReader against MONAI's PydicomReader, case by case.

Every comparison also proves that dcmfast's reader ran (MONAI's LoadImage falls back
to other readers when one raises, logging at INFO only): a spy counts its calls.
"""

import gc
import pickle
import random
import sys
import threading
import warnings

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("monai")

import dcmfast.monai
import pydicom
import torch
from dcmfast.monai import DcmfastReader, DicomSeries
from monai.data import PydicomReader
from monai.transforms import LoadImage, LoadImaged
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

SLICES = 6


def make_series(folder, slices=SLICES, slope="1", intercept="-1024", edit=None):
    """A CT series from pydicom's CT_small.dcm: each slice moved along z, numbered,
    with pixels of its own, saved under shuffled names so that sorting matters."""
    folder.mkdir()
    template = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    pixels = template.pixel_array
    names = [f"img_{k:03d}.dcm" for k in range(slices)]
    random.Random(16).shuffle(names)
    for k in range(slices):
        ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
        ds.InstanceNumber = k + 1
        x, y, z = ds.ImagePositionPatient
        ds.ImagePositionPatient = [x, y, f"{z + 2.5 * k:.2f}"]
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.PixelData = np.roll(pixels, 7 * k).astype(pixels.dtype).tobytes()
        for keyword, value in (
            ("RescaleSlope", slope),
            ("RescaleIntercept", intercept),
        ):
            if value is None:
                delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
        if edit is not None:
            edit(k, ds)
        ds.save_as(folder / names[k], enforce_file_format=True)
    return folder


@pytest.fixture(autouse=True)
def _collect_garbage():
    """Collect what a test leaves in reference cycles (an exception's traceback
    holding the datasets get_data failed on, sequence items and their parents), so
    the file mappings those datasets hold are gone before the next test counts the
    live mappings."""
    yield
    gc.collect()


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    return make_series(tmp_path_factory.mktemp("ct") / "series")


@pytest.fixture
def spy(monkeypatch):
    """Calls of DcmfastReader.get_data and of the Rust stacking, by name."""
    calls = []

    def wrap(owner, name):
        original = getattr(owner, name)

        def spied(*args, **kwargs):
            calls.append(name)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, spied)

    wrap(DcmfastReader, "get_data")
    wrap(dcmfast.monai._core, "stack_slices")
    return calls


def assert_same_value(expected, actual, key=""):
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, torch.Tensor), key
        assert expected.dtype == actual.dtype, key
        assert torch.equal(expected, actual), key
    elif isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), key
        assert expected.dtype == actual.dtype, key
        np.testing.assert_array_equal(actual, expected, err_msg=key)
    elif isinstance(expected, float) and np.isnan(expected):
        assert isinstance(actual, float) and np.isnan(actual), key
    else:
        assert type(expected) is type(actual), key
        assert expected == actual, key


def assert_same_metadata(expected, actual):
    assert list(expected) == list(actual)
    for key in expected:
        assert_same_value(expected[key], actual[key], key)


def both(data, **options):
    """(PydicomReader's, DcmfastReader's) get_data results and warnings."""
    results = []
    for reader in (PydicomReader(**options), DcmfastReader(**options)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            array, metadata = reader.get_data(reader.read(data))
        messages = [str(w.message) for w in caught]
        results.append((array, metadata, messages))
    return results


def assert_same_reading(data, spy, rust=True, **options):
    (exp_array, exp_meta, exp_warn), (act_array, act_meta, act_warn) = both(
        data, **options
    )
    assert_same_value(exp_array, act_array, "array")
    assert act_array.flags.c_contiguous
    assert_same_metadata(exp_meta, act_meta)
    assert act_warn == exp_warn
    assert spy.count("get_data") == 1
    assert spy.count("stack_slices") == int(rust)
    return act_array, act_meta, act_warn


OPTIONS = [
    {},
    {"swap_ij": False},
    {"affine_lps_to_ras": False},
    {"prune_metadata": False},
    {"channel_dim": 0},
    {"channel_dim": "no_channel"},
    {"fname_regex": None},
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: str(o) or "defaults")
def test_series_folder(series, spy, options):
    array, _, _ = assert_same_reading(str(series), spy, **options)
    assert array.shape[-1] == SLICES
    assert array.dtype == np.float64  # a DS slope is a float64 to numpy


@pytest.mark.parametrize(
    "slope, intercept",
    [("0.7", "-1024.3"), ("2", "0"), (None, "-1000.5"), ("1.5", None), (None, None)],
)
def test_series_rescale(tmp_path, spy, slope, intercept):
    folder = make_series(tmp_path / "s", slope=slope, intercept=intercept)
    for swap_ij in (True, False):
        spy.clear()
        array, _, _ = assert_same_reading(str(folder), spy, swap_ij=swap_ij)
    rescaled = slope is not None or intercept is not None
    assert array.dtype == (np.float64 if rescaled else np.int16)


@pytest.mark.parametrize("name", ["SC_rgb.dcm", "SC_rgb_16bit.dcm", "MR_small.dcm"])
def test_series_of_other_images(tmp_path, spy, name):
    """Colour (a samples axis before the slices), 8 and 16-bit, no rescale, and
    without a position (PydicomReader's identity affine and its warning)."""
    folder = tmp_path / "s"
    folder.mkdir()
    for k in range(4):
        ds = pydicom.dcmread(get_testdata_file(name))
        ds.InstanceNumber = 4 - k
        ds.PixelData = np.roll(ds.pixel_array, 5 * k).tobytes()
        ds.save_as(folder / f"{k}.dcm")
    for swap_ij in (True, False):
        spy.clear()
        array, _, messages = assert_same_reading(str(folder), spy, swap_ij=swap_ij)
        assert array.shape[-1] == 4
        first = pydicom.dcmread(folder / "0.dcm")
        assert array.dtype == first.pixel_array.dtype
        if "ImagePositionPatient" not in first:
            assert any("defaults to the identity" in m for m in messages)


def test_series_rescale_numpy_arithmetic():
    """Rescales numpy computes in float32 (a Python float slope and intercept) are left
    to numpy, with PydicomReader's expression, in either layout."""
    raw = np.arange(3 * 4 * 5, dtype=np.int16).reshape(3, 4, 5) * 37
    rescale = (0.1, -3.3)
    expected = np.stack([r.astype(np.float32) * 0.1 + -3.3 for r in raw], axis=-1)
    assert dcmfast.monai._float64_rescale(*rescale) is None
    for swap_ij in (True, False):
        # np.stack's result, held so that the swap PydicomReader makes is contiguous.
        stacked = dcmfast.monai._stacked(raw, rescale, swap_ij)
        assert stacked.dtype == np.float32
        np.testing.assert_array_equal(stacked, expected)
        final = np.swapaxes(stacked, 0, 1) if swap_ij else stacked
        assert final.flags.c_contiguous


def test_series_empty_rescale_slope_fails_alike(tmp_path):
    def edit(k, ds):
        ds["RescaleSlope"].value = None

    folder = make_series(tmp_path / "s", edit=edit)
    errors = []
    for reader in (PydicomReader(), DcmfastReader()):
        with pytest.raises(TypeError) as info:
            reader.get_data(reader.read(str(folder)))
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_series_numpy_path_equals_rust_path(series, monkeypatch):
    """The row-by-row numpy stacking (for samples Rust does not take) gives the same
    volume as the Rust one."""
    reader = DcmfastReader()
    rust = reader.get_data(reader.read(str(series)))
    monkeypatch.setattr(dcmfast.monai, "_stacked_in_rust", lambda *args: None)
    numpy_made = reader.get_data(reader.read(str(series)))
    assert_same_value(rust[0], numpy_made[0])
    assert_same_metadata(rust[1], numpy_made[1])


def test_series_rescale_differs_per_slice(tmp_path, spy):
    def edit(k, ds):
        ds.RescaleSlope = f"{1 + k / 4}"

    folder = make_series(tmp_path / "s", edit=edit)
    assert_same_reading(str(folder), spy, rust=False)


def test_series_slice_without_instance_number(tmp_path, spy):
    def edit(k, ds):
        if k == 2:
            del ds.InstanceNumber

    folder = make_series(tmp_path / "s", edit=edit)
    (_, _, messages) = both(str(folder))[1]
    assert any("does not have InstanceNumber" in m for m in messages)
    spy.clear()
    assert_same_reading(str(folder), spy, rust=False)


def test_series_equal_instance_numbers_keep_listing_order(tmp_path, spy):
    def edit(k, ds):
        ds.InstanceNumber = k // 2

    folder = make_series(tmp_path / "s", edit=edit)
    assert_same_reading(str(folder), spy)


def test_series_different_spacing_warns(tmp_path, spy):
    def edit(k, ds):
        if k == 3:
            ds.PixelSpacing = ["0.5", "0.5"]

    folder = make_series(tmp_path / "s", edit=edit)
    _, _, messages = assert_same_reading(str(folder), spy)
    assert any("different spacings" in m for m in messages)


def test_series_different_shapes(tmp_path):
    def edit(k, ds):
        if k == 1:
            ds.Rows, ds.Columns = 32, 32
            ds.PixelData = ds.PixelData[: 32 * 32 * 2]

    folder = make_series(tmp_path / "s", edit=edit)
    errors = []
    for reader in (PydicomReader(), DcmfastReader()):
        with pytest.warns(UserWarning, match="different shapes"):
            info = pytest.raises(ValueError, reader.get_data, reader.read(str(folder)))
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_series_folder_with_non_dicom_file(tmp_path, spy):
    folder = make_series(tmp_path / "s")
    (folder / "notes.txt").write_text("not DICOM")
    _, _, messages = both(str(folder))[1]
    assert any("Failed to read" in m and "notes.txt" in m for m in messages)
    spy.clear()
    assert_same_reading(str(folder), spy)
    spy.clear()
    assert_same_reading(str(folder), spy, fname_regex=None)
    spy.clear()
    assert_same_reading(str(folder), spy, fname_regex=r".*\.dcm$")


def test_series_folders_as_channels(tmp_path, spy):
    first = make_series(tmp_path / "a")
    second = make_series(tmp_path / "b")
    array, metadata, _ = assert_same_reading([str(first), str(second)], spy, rust=2)
    assert array.shape[0] == 2 and metadata["original_channel_dim"] == 0


def test_series_files_as_channels(series):
    """A list of slice files is several images to PydicomReader, not a series: their
    affines differ, so both readers refuse to stack them, with the same message."""
    paths = sorted(str(p) for p in series.iterdir())
    errors = []
    for reader in (PydicomReader(), DcmfastReader()):
        with pytest.raises(RuntimeError, match="affine matrix") as info:
            reader.get_data(reader.read(paths))
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_same_slice_files_as_channels(spy):
    path = get_testdata_file("CT_small.dcm")
    assert_same_reading([path, path], spy, rust=False)


@pytest.mark.parametrize(
    "name",
    [
        "CT_small.dcm",
        "MR_small.dcm",
        "MR_small_bigendian.dcm",
        "emri_small.dcm",
        "rtdose.dcm",
        "eCT_Supplemental.dcm",
        "SC_rgb_2frame.dcm",
    ],
)
def test_single_file(name, spy):
    path = get_testdata_file(name)
    assert_same_reading(path, spy, rust=False)
    spy.clear()
    assert_same_reading(path, spy, rust=False, swap_ij=False, prune_metadata=False)


def test_segmentation(spy):
    path = get_testdata_file("liver.dcm")  # pydicom-data's
    if path is None:
        pytest.skip("liver.dcm (pydicom-data) is not available")
    _, metadata, _ = assert_same_reading(path, spy, rust=False)
    assert metadata["labels"]
    spy.clear()
    assert_same_reading(path, spy, rust=False, label_dict={"Liver": 0, "Other": 1})


def test_segmentation_of_one_frame_fails_alike():
    """PydicomReader cannot read a one-frame SEG file (its frames lose their axis);
    nor can this reader, with the same error."""
    path = get_testdata_file("liver_1frame.dcm")
    errors = []
    for reader in (PydicomReader(), DcmfastReader()):
        with pytest.raises(ValueError, match="could not broadcast") as info:
            reader.get_data(reader.read(path))
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_folder_of_one_file(tmp_path, spy):
    folder = make_series(tmp_path / "s", slices=1)
    assert not isinstance(DcmfastReader().read(str(folder)), DicomSeries)
    assert_same_reading(str(folder), spy, rust=False)


@pytest.mark.parametrize("options", [{}, {"swap_ij": False}, {"channel_dim": -1}])
def test_load_image(series, spy, options):
    path = get_testdata_file("emri_small.dcm")
    for data in (str(series), path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = LoadImage(reader=PydicomReader(**options), image_only=True)(data)
            actual = LoadImage(reader=DcmfastReader(**options), image_only=True)(data)
        assert_same_value(expected.as_tensor(), actual.as_tensor())
        assert_same_metadata(expected.meta, actual.meta)
    assert spy.count("get_data") == 2


@pytest.mark.parametrize("slope", ["0.7", None])
def test_load_image_with_reader_dtype(tmp_path, spy, slope):
    """DcmfastReader(dtype=np.float32) gives LoadImage's float32 image directly."""
    folder = make_series(tmp_path / "s", slope=slope)
    inputs = [str(folder), get_testdata_file("emri_small.dcm"), [str(folder)] * 2]
    for data in inputs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = LoadImage(reader=PydicomReader())(data)
            reader = DcmfastReader(dtype=np.float32)
            actual = LoadImage(reader=reader)(data)
            array, _ = reader.get_data(reader.read(data))
        assert array.dtype == np.float32
        assert_same_value(expected.as_tensor(), actual.as_tensor())
        assert_same_metadata(expected.meta, actual.meta)
    assert spy.count("stack_slices") == 2 * (1 + 2)


def test_load_image_by_dotted_path_and_dictionary(series, spy):
    load = LoadImage(reader="dcmfast.monai.DcmfastReader", swap_ij=False)
    assert isinstance(load.readers[-1], DcmfastReader)
    assert load.readers[-1].swap_ij is False
    image = load(str(series))
    assert spy.count("get_data") == 1
    loaded = LoadImaged(
        keys="image", reader="dcmfast.monai.DcmfastReader", swap_ij=False
    )({"image": str(series)})
    assert spy.count("get_data") == 2
    assert_same_value(image.as_tensor(), loaded["image"].as_tensor())
    expected = LoadImage(reader=PydicomReader(swap_ij=False))(str(series))
    assert_same_value(expected.as_tensor(), image.as_tensor())
    assert_same_metadata(expected.meta, image.meta)


def test_get_data_repeats(series):
    reader = DcmfastReader()
    image = reader.read(str(series))
    first = reader.get_data(image)
    second = reader.get_data(image)
    assert_same_value(first[0], second[0])
    assert_same_metadata(first[1], second[1])


def test_pickles(series):
    reader = DcmfastReader(swap_ij=False, prune_metadata=False, defer_size=4096)
    copy = pickle.loads(pickle.dumps(reader))
    assert isinstance(copy, DcmfastReader)
    assert vars(copy) == vars(reader)
    for data in (str(series), get_testdata_file("CT_small.dcm")):
        image = reader.read(data)
        restored = pickle.loads(pickle.dumps(image))
        assert type(restored) is type(image)
        if isinstance(image, DicomSeries):
            assert restored.read_kwargs == image.read_kwargs == {"defer_size": 4096}
        expected = reader.get_data(image)
        actual = copy.get_data(restored)
        assert_same_value(expected[0], actual[0])
        assert_same_metadata(expected[1], actual[1])


def test_one_reader_several_threads(tmp_path, series):
    """read and get_data share no state: one reader, inputs read concurrently."""
    other = make_series(tmp_path / "other", slices=4)
    inputs = [str(series), str(other), get_testdata_file("CT_small.dcm")] * 2
    reader = DcmfastReader()
    expected = [reader.get_data(reader.read(data)) for data in inputs]
    results = [None] * len(inputs)

    def work(i):
        results[i] = reader.get_data(reader.read(inputs[i]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for (exp_array, exp_meta), (act_array, act_meta) in zip(expected, results):
        assert_same_value(exp_array, act_array)
        assert_same_metadata(exp_meta, act_meta)


def test_bad_inputs(tmp_path):
    not_dicom = tmp_path / "not.dcm"
    not_dicom.write_bytes(b"\x00" * 300)
    for data, error in [
        (str(not_dicom), pydicom.errors.InvalidDicomError),
        (str(tmp_path / "missing.dcm"), FileNotFoundError),
    ]:
        for reader in (PydicomReader(), DcmfastReader()):
            with pytest.raises(error):
                reader.read(data)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no DICOM files could be read"):
        DcmfastReader().read(str(empty))
    (empty / "a.txt").write_text("text")
    with pytest.warns(UserWarning, match="Failed to read"):
        info = pytest.raises(ValueError, DcmfastReader().read, str(empty))
    assert "no DICOM files could be read" in str(info.value)
    with pytest.raises(RuntimeError, match="cannot find a suitable reader"):
        LoadImage(reader=DcmfastReader())(str(not_dicom))


def test_file_without_pixels(tmp_path):
    path = get_testdata_file("rtplan.dcm")
    errors = []
    for reader in (PydicomReader(), DcmfastReader()):
        with pytest.raises(ValueError, match="does not have pixel_array") as info:
            reader.get_data(reader.read(path))
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_stop_before_pixels_series_is_not_batch_read(series, spy):
    for reader in (PydicomReader(), DcmfastReader()):
        with pytest.raises(ValueError, match="does not have pixel_array"):
            reader.get_data(reader.read(str(series), stop_before_pixels=True))
    assert spy.count("stack_slices") == 0


def test_to_gpu_warns_and_reads_on_cpu(series):
    with pytest.warns(UserWarning, match="falling back to CPU"):
        reader = DcmfastReader(to_gpu=True)
    array, _ = reader.get_data(reader.read(str(series)))
    assert isinstance(array, np.ndarray)


def test_import_error_without_monai(monkeypatch):
    for name in [m for m in sys.modules if m == "monai" or m.startswith("monai.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "dcmfast.monai")
    with pytest.raises(ImportError, match=r"pip install dcmfast\[monai\]"):
        import dcmfast.monai  # noqa: F401


def test_one_read_result_stacked_by_several_threads(series):
    """Stacking appends the slice spacing to the first slice's PixelSpacing (as
    PydicomReader does, so the metadata shows it) and restores it: threads given the
    same `read` result take turns, so each sees one appended value."""
    reader = DcmfastReader()
    image = reader.read(str(series))
    expected = reader.get_data(image)
    results: list = [None] * 8
    barrier = threading.Barrier(len(results))

    def work(i):
        barrier.wait()
        results[i] = reader.get_data(image)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(results))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for array, meta in results:
        assert_same_value(expected[0], array)
        assert_same_metadata(expected[1], meta)
    assert len(image[0].PixelSpacing) == 2  # restored

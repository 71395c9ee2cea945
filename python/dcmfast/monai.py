"""MONAI's ``PydicomReader``, read by dcmfast.

``DcmfastReader`` takes PydicomReader's arguments and gives its arrays, affines and
metadata: it is a PydicomReader subclass that keeps MONAI's own code for geometry
(affine, spacing), metadata (``to_json_dict``, pruning) and SEG files, and replaces
how files are read: headers by :func:`dcmfast.dcmread`, pixels by dcmfast's pixel
path, and a series' slices read together into one array by :func:`dcmfast.read_batch`
(several threads, the GIL released), then rescaled and laid out in one pass.

Unlike PydicomReader it keeps no state between ``read`` and ``get_data``: ``read``
returns what ``get_data`` needs (a :class:`pydicom.dataset.FileDataset` per file, a
:class:`DicomSeries` per series folder), so one reader serves several threads, and the
reader and what ``read`` returns pickle.

Use it as ``LoadImage(reader=DcmfastReader())`` or
``LoadImage(reader="dcmfast.monai.DcmfastReader")``.

Where PydicomReader fails oddly, this reader says what happened instead: a folder
with no readable DICOM file raises ValueError (PydicomReader: IndexError); a list
mixing files and series folders gives one image per entry (PydicomReader combines
them wrongly); folder names are matched literally (glob metacharacters escaped).
"""

from __future__ import annotations

import glob
import os
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Union

import numpy as np
from numpy.typing import DTypeLike
from pydicom.errors import InvalidDicomError
from pydicom.misc import is_dicom
from pydicom.multival import MultiValue

try:
    from monai.data import PydicomReader
    from monai.data.image_reader import _copy_compatible_dict, _stack_images
    from monai.data.utils import affine_to_spacing
    from monai.utils import MetaKeys, SpaceKeys, ensure_tuple
except ImportError as exc:  # pragma: no cover - exercised without MONAI installed
    raise ImportError(
        "dcmfast.monai needs MONAI and torch: pip install dcmfast[monai]"
    ) from exc

from dcmfast import _core
from dcmfast._dataset import FileDataset
from dcmfast._loader import read_batch
from dcmfast._reader import dcmread

__all__ = ["DcmfastReader", "DicomSeries"]

PathLike = Union[str, "os.PathLike[str]"]

# dcmread arguments that leave a dataset's pixel data as in the file, so that a batch
# read from the paths equals each dataset's pixel_array.
_PIXEL_NEUTRAL_KWARGS = frozenset({"force", "defer_size"})
# Sample types the Rust stacking reads (numpy dtype kind and size).
_RUST_SAMPLES = frozenset({"u1", "i1", "u2", "i2", "u4", "i4"})
# An attribute a dataset does not have (None is the value of an empty one).
_ABSENT = object()
# Swapping the first two axes as an affine (PydicomReader's swap_ij).
_SWAP_IJ = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])


class DicomSeries(list):
    """The slices of one series folder, as read (a list of datasets), and the
    dcmread arguments they were read with.

    ``DcmfastReader.get_data`` sorts them by InstanceNumber and stacks them on a new
    last axis; a plain list stands for several images, as with PydicomReader.
    """

    __slots__ = ("read_kwargs", "stacking")

    def __init__(self, slices: Sequence[Any] = (), read_kwargs: dict | None = None):
        super().__init__(slices)
        self.read_kwargs = dict(read_kwargs or {})
        # Held while stacking changes the first slice's PixelSpacing and restores it,
        # so threads given the same series take turns.
        self.stacking = threading.Lock()

    def __getstate__(self) -> dict:
        return {"read_kwargs": self.read_kwargs}

    def __setstate__(self, state: dict) -> None:
        self.read_kwargs = state["read_kwargs"]
        self.stacking = threading.Lock()

    @property
    def filenames(self) -> list[str]:
        """The slices' paths, in the order read."""
        return [ds.filename for ds in self]


class DcmfastReader(PydicomReader):
    """:class:`monai.data.PydicomReader` with dcmfast's reading, and no state.

    Arguments are PydicomReader's; `kwargs` go to :func:`dcmfast.dcmread`. `to_gpu`
    is accepted for compatibility: dcmfast reads into host memory, so (as
    PydicomReader does without CuPy and kvikio) it warns and reads on the CPU.

    `dtype`, if given, is the array's dtype, converted as LoadImage's `dtype`
    converts it: ``LoadImage(reader=DcmfastReader(dtype=np.float32))`` gives
    LoadImage's float32 image with no float64 volume made on the way (a series
    rescaled by RescaleSlope is float64 in PydicomReader's result).
    """

    def __init__(
        self,
        channel_dim: str | int | None = None,
        affine_lps_to_ras: bool = True,
        swap_ij: bool = True,
        prune_metadata: bool = True,
        label_dict: dict | None = None,
        fname_regex: str | None = "",
        to_gpu: bool = False,
        dtype: DTypeLike | None = None,
        **kwargs: Any,
    ) -> None:
        self.dtype = None if dtype is None else np.dtype(dtype)
        if to_gpu:
            warnings.warn(
                "DcmfastReader: GPU loading is not supported, falling back to CPU "
                "loading.",
                stacklevel=2,
            )
        super().__init__(
            channel_dim=channel_dim,
            affine_lps_to_ras=affine_lps_to_ras,
            swap_ij=swap_ij,
            prune_metadata=prune_metadata,
            label_dict=label_dict,
            fname_regex=fname_regex,
            to_gpu=False,
            **kwargs,
        )

    def read(self, data: Sequence[PathLike] | PathLike, **kwargs: Any) -> Any:
        """Read a file, a series folder, or a list of them (one image each).

        Returns a dataset per file and a :class:`DicomSeries` per folder of more than
        one DICOM file (a folder of one gives that file's dataset); a list of those
        for several inputs. `kwargs` override the constructor's dcmread arguments.
        """
        read_kwargs = {**self.kwargs, **kwargs}
        images = [self._read_one(f"{name}", read_kwargs) for name in ensure_tuple(data)]
        return images[0] if len(images) == 1 else images

    def _read_one(self, name: str, read_kwargs: dict[str, Any]) -> Any:
        if not Path(name).is_dir():
            return dcmread(name, **read_kwargs)
        # PydicomReader's selection: fname_regex matched against the whole path, or
        # pydicom's DICOM test when it is None; glob's order, which the stable sort by
        # InstanceNumber keeps for equal numbers.
        paths = glob.glob(os.path.join(glob.escape(name), "*"))
        if self.fname_regex is not None:
            paths = [p for p in paths if re.match(self.fname_regex, p)]
        else:
            paths = [p for p in paths if is_dicom(p)]
        series = DicomSeries(read_kwargs=read_kwargs)
        for path in paths:
            try:
                series.append(dcmread(path, **read_kwargs))
            except InvalidDicomError as e:
                warnings.warn(
                    f"Failed to read {path} with exception: \n{e}.", stacklevel=3
                )
        if not series:
            raise ValueError(f"no DICOM files could be read in the folder {name!r}")
        return series if len(series) > 1 else series[0]

    def get_data(self, img: Any) -> tuple[np.ndarray, dict]:
        """The image array and its metadata, as ``PydicomReader.get_data`` gives them.

        `img` is what :meth:`read` returned: a dataset, a :class:`DicomSeries`, or a
        list of those (stacked on a new first axis as channels).
        """
        images = img if type(img) is list else [img]
        img_array: list[np.ndarray] = []
        compatible_meta: dict = {}
        # PydicomReader.get_data's loop, but the series stacking below already gives
        # the swapped, contiguous array (a view of it that the swap undoes for free).
        for image in images:
            data_array, metadata = self._array_and_metadata(image)
            if self.swap_ij:
                data_array = np.swapaxes(data_array, 0, 1)
            data_array = np.ascontiguousarray(data_array)
            if self.dtype is not None:
                data_array = np.asarray(data_array, dtype=self.dtype)
            img_array.append(data_array)
            affine = self._get_affine(metadata, self.affine_lps_to_ras)
            metadata[MetaKeys.SPACE] = (
                SpaceKeys.RAS if self.affine_lps_to_ras else SpaceKeys.LPS
            )
            if self.swap_ij:
                affine = affine @ _SWAP_IJ
                sp_size = list(metadata[MetaKeys.SPATIAL_SHAPE])
                sp_size[0], sp_size[1] = sp_size[1], sp_size[0]
                metadata[MetaKeys.SPATIAL_SHAPE] = ensure_tuple(sp_size)
            metadata[MetaKeys.ORIGINAL_AFFINE] = affine
            metadata[MetaKeys.AFFINE] = affine.copy()
            if self.channel_dim is None:
                same_rank = len(data_array.shape) == len(
                    metadata[MetaKeys.SPATIAL_SHAPE]
                )
                metadata[MetaKeys.ORIGINAL_CHANNEL_DIM] = (
                    float("nan") if same_rank else -1
                )
            else:
                metadata[MetaKeys.ORIGINAL_CHANNEL_DIM] = self.channel_dim
            metadata["spacing"] = affine_to_spacing(
                metadata[MetaKeys.ORIGINAL_AFFINE],
                r=len(metadata[MetaKeys.SPATIAL_SHAPE]),
            )
            _copy_compatible_dict(metadata, compatible_meta)
        return _stack_images(img_array, compatible_meta), compatible_meta

    def _array_and_metadata(self, image: Any) -> tuple[np.ndarray, dict]:
        if isinstance(image, DicomSeries):
            with image.stacking, _pixel_spacing_kept(image):
                stacked = self._stack_series(image)
                if stacked is None:
                    stacked = self._combine_dicom_series(image, image.filenames)
            return stacked
        filename = getattr(image, "filename", None)
        if hasattr(image, "SegmentSequence"):
            return self._get_seg_data(image, filename)
        data_array = self._get_array_data(image, filename)
        metadata = self._get_meta_dict(image)
        metadata[MetaKeys.SPATIAL_SHAPE] = data_array.shape
        return data_array, metadata

    def _stack_series(self, series: DicomSeries) -> tuple[np.ndarray, dict] | None:
        """``_combine_dicom_series`` with the slices read in one batch; None where
        that would not be exactly PydicomReader's result (its own code then runs)."""
        if (
            len(series) < 2
            or not _PIXEL_NEUTRAL_KWARGS.issuperset(series.read_kwargs)
            or not all(_is_plain_slice(ds) for ds in series)
        ):
            return None
        # sorted() is stable: slices with equal numbers stay in the order read.
        slices = sorted(series, key=lambda ds: ds.InstanceNumber)
        rescale = _common_rescale(slices)
        if rescale is False:
            return None
        try:
            raw = read_batch([ds.filename for ds in slices])
        except Exception:  # noqa: BLE001 - PydicomReader's path raises as it does
            return None

        # PydicomReader._combine_dicom_series from here on, with the arrays known.
        first_slice = slices[0]
        shape = raw.shape[1:]
        spacing = getattr(first_slice, "PixelSpacing", [1.0] * len(shape))
        prev_pos = getattr(first_slice, "ImagePositionPatient", (0.0, 0.0, 0.0))[2]
        average_distance = 0.0
        for idx in range(1, len(slices)):
            slc_spacing = getattr(slices[idx], "PixelSpacing", [1.0] * len(shape))
            slc_pos = getattr(
                slices[idx], "ImagePositionPatient", (0.0, 0.0, float(idx))
            )[2]
            # (allclose of equal values is True: most slices skip it)
            if slc_spacing != spacing and not np.allclose(slc_spacing, spacing):
                warnings.warn(
                    "the list contains slices that have different spacings "
                    f"{spacing} and {slc_spacing}."
                )
            average_distance += abs(prev_pos - slc_pos)
            prev_pos = slc_pos
        average_distance /= len(slices) - 1
        # The first slice's own PixelSpacing value, as PydicomReader appends to it: its
        # metadata (to_json_dict) shows three values.
        spacing.append(average_distance)
        stack_metadata = self._get_meta_dict(first_slice)
        stack_metadata["spacing"] = np.asarray(spacing)
        stack_array = _stacked(raw, rescale, self.swap_ij, self.dtype)
        if hasattr(slices[-1], "ImagePositionPatient"):
            stack_metadata["lastImagePositionPatient"] = np.asarray(
                slices[-1].ImagePositionPatient
            )
        stack_metadata[MetaKeys.SPATIAL_SHAPE] = (*shape, len(slices))
        return stack_array, stack_metadata


@contextmanager
def _pixel_spacing_kept(series: DicomSeries) -> Iterator[None]:
    """Undo, on leaving, what stacking appends to a slice's PixelSpacing (the slice
    spacing, which the metadata shows), so the slices can be stacked again."""
    values = [
        (value, len(value))
        for value in (getattr(ds, "PixelSpacing", None) for ds in series)
        if isinstance(value, MultiValue)
    ]
    try:
        yield
    finally:
        for value, length in values:
            del value[length:]


def _is_plain_slice(ds: Any) -> bool:
    """A single-frame image with an InstanceNumber, read with its pixel data."""
    return (
        isinstance(ds, FileDataset)
        and isinstance(ds.filename, str)
        and "PixelData" in ds
        and hasattr(ds, "InstanceNumber")
        and getattr(ds, "NumberOfFrames", None) in (None, 1)
    )


def _common_rescale(slices: list[Any]) -> tuple[Any, Any] | None | bool:
    """The (slope, intercept) every slice is rescaled with, as PydicomReader's
    ``_get_array_data`` takes them; None if no slice is rescaled; False if the
    slices differ (each slice is then rescaled on its own)."""
    pairs = []
    for ds in slices:
        slope = getattr(ds, "RescaleSlope", _ABSENT)
        offset = getattr(ds, "RescaleIntercept", _ABSENT)
        if slope is _ABSENT and offset is _ABSENT:
            pairs.append(None)
        else:
            pairs.append(
                (
                    1.0 if slope is _ABSENT else slope,
                    0.0 if offset is _ABSENT else offset,
                )
            )
    first = pairs[0]
    for pair in pairs[1:]:
        if first is None or pair is None:
            if pair is not first:
                return False
        elif not all(type(a) is type(b) and a == b for a, b in zip(pair, first)):
            return False
    return first


def _stacked(
    raw: np.ndarray,
    rescale: tuple[Any, Any] | None,
    swap_ij: bool,
    dtype: np.dtype | None = None,
) -> np.ndarray:
    """The slices of `raw` (slice, row, column[, sample]) rescaled as
    PydicomReader's ``_get_array_data`` does and stacked on the last axis, held in
    the layout PydicomReader ends with (rows and columns swapped if `swap_ij`): the
    result is a view of that array which ``np.swapaxes(.., 0, 1)`` makes contiguous.
    The rescaled values are rounded to float32 as they are stored if `dtype` is
    float32 (else the caller converts them).
    """
    volume = _stacked_in_rust(raw, rescale, swap_ij, dtype == np.float32)
    if volume is None:
        volume = _stacked_in_numpy(raw, rescale, swap_ij)
    return np.swapaxes(volume, 0, 1) if swap_ij else volume


def _stacked_in_rust(
    raw: np.ndarray,
    rescale: tuple[Any, Any] | None,
    swap_ij: bool,
    float32: bool = False,
) -> np.ndarray | None:
    """The volume, made in Rust where its arithmetic is numpy's exactly: integer
    samples, and a rescale numpy does in float64 (see `_float64_rescale`), its
    results stored as float32 if `float32`."""
    if not raw.dtype.isnative or raw.dtype.str[1:] not in _RUST_SAMPLES:
        return None
    slope: float | None = None
    intercept = 0.0
    if rescale is not None:
        floats = _float64_rescale(*rescale)
        if floats is None:
            return None
        slope, intercept = floats
    count, rows, columns = raw.shape[:3]
    plane = (columns, rows) if swap_ij else (rows, columns)
    if slope is None:
        dtype = raw.dtype
    else:
        dtype = np.dtype(np.float32 if float32 else np.float64)
    volume = np.empty((*plane, *raw.shape[3:], count), dtype)
    _core.stack_slices(
        raw.reshape(-1),
        volume.reshape(-1),
        count=count,
        rows=rows,
        columns=columns,
        samples=raw.shape[3] if raw.ndim == 4 else 1,
        swap=swap_ij,
        slope=slope,
        intercept=intercept,
    )
    return volume


def _float64_rescale(slope: Any, intercept: Any) -> tuple[float, float] | None:
    """`slope` and `intercept` as floats if numpy computes
    ``x.astype(float32) * slope + intercept`` in float64 from the float32 values: the
    product in float64 (a DS value is a float64 to numpy), or a product by 1 (exact in
    float32), then a float64 sum. None otherwise (a Python float or a float32 scalar
    slope, Decimal values): numpy computes those itself."""
    try:
        product = np.ones(1, np.float32) * slope
        total = product + intercept
    except Exception:  # noqa: BLE001 - numpy raises it again, as PydicomReader does
        return None
    if total.dtype != np.float64 or (product.dtype != np.float64 and slope != 1):
        return None
    return float(slope), float(intercept)


def _stacked_in_numpy(
    raw: np.ndarray, rescale: tuple[Any, Any] | None, swap_ij: bool
) -> np.ndarray:
    """The volume, made by numpy: PydicomReader's expressions, row by row."""
    rows = raw.shape[1]
    volume = None  # made once the first row gives the result's dtype
    # One image row at a time: a (slice, column) block that stays in cache while it
    # is written across the volume, where writing the whole stack at once would
    # stride through memory.
    for i in range(rows):
        block = raw[:, i : i + 1]
        if rescale is not None:
            slope, offset = rescale
            block = block.astype(np.float32) * slope + offset
        block = np.moveaxis(block, 0, -1)  # (1, column[, sample], slice)
        if swap_ij:
            block = np.swapaxes(block, 0, 1)
        if volume is None:
            shape = list(block.shape)
            shape[1 if swap_ij else 0] = rows
            volume = np.empty(shape, block.dtype)
        if swap_ij:
            volume[:, i : i + 1] = block
        else:
            volume[i : i + 1] = block
    assert volume is not None
    return volume

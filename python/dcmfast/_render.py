"""What the Rust ``Renderer`` reads to render datasets as pydicom does.

``str(ds)``, ``repr(ds)``, ``ds.top()`` and ``ds.to_json_dict()`` of a dcmfast dataset are
made in Rust from pydicom's own objects; the renderer defers to pydicom's code for any
element, item or setting it does not reproduce exactly (see ``rust/py/render.rs``).
"""

from __future__ import annotations

from typing import Any

import pydicom.dataelem
import pydicom.dataset
from pydicom import config, jsonrep
from pydicom._private_dict import private_dictionaries
from pydicom._uid_dict import UID_dictionary
from pydicom.datadict import DicomDictionary
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.dataset import FileDataset as _PydicomFileDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import UID
from pydicom.valuerep import IS, DSfloat, PersonName

from dcmfast._core import Renderer


def _identity(d: Any) -> Any:
    return d


# The code whose behaviour the renderer reproduces; replacing any of it (a patched method,
# a property) makes pydicom's own code render instead.
_REPRODUCED_NAMES: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (
        DataElement,
        (
            "__str__",
            "__repr__",
            "repval",
            "name",
            "VM",
            "is_empty",
            "is_buffered",
            "value",
            "to_json_dict",
        ),
    ),
    (Sequence, ("__iter__", "__len__")),
    (MultiValue, ("__iter__", "__len__", "__str__", "__repr__")),
    (DSfloat, ("__str__", "__repr__")),
    (PersonName, ("__bool__", "__len__", "__repr__", "components")),
    (IS, ("__str__", "__repr__")),
    (UID, ("name",)),
    (BaseTag, ("__str__", "__format__")),
    (jsonrep, ("convert_to_python_number",)),
)
_DATASET_NAMES = (
    "__iter__",
    "__getitem__",
    "keys",
    "_pretty_str",
    "to_json",
    "to_json_dict",
)


class PydicomRendering:
    """pydicom's classes and dictionaries, as the renderer takes them."""

    data_element = DataElement
    sequence = Sequence
    multivalue = MultiValue
    uid = UID
    is_type = IS
    ds_type = DSfloat
    tag_type = BaseTag
    person_name = PersonName
    int_type = int
    float_type = float
    dicom_dictionary = DicomDictionary
    private_dictionaries = private_dictionaries
    uid_dictionary = UID_dictionary
    config = config
    dataset_module = pydicom.dataset
    dataelem_module = pydicom.dataelem
    identity = staticmethod(_identity)

    def __init__(self, datasets: tuple[type, ...]) -> None:
        self.datasets = datasets
        # Instance attributes: as class attributes these would bind to the instance.
        self.int_repr = int.__repr__
        self.float_repr = float.__repr__
        owners = list(_REPRODUCED_NAMES) + [(cls, _DATASET_NAMES) for cls in datasets]
        self.reproduced = [
            (owner, name, getattr(owner, name))
            for owner, names in owners
            for name in names
        ]


def make_renderer(file_dataset: type) -> Renderer:
    """The renderer for pydicom's dataset classes and dcmfast's ``file_dataset``."""
    datasets = (Dataset, FileMetaDataset, _PydicomFileDataset, file_dataset)
    return Renderer(PydicomRendering(datasets))


__all__ = ["make_renderer"]

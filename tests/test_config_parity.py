"""Parity with pydicom under non-default pydicom configuration and hooks.

The reader under test may convert values itself; whatever pydicom's config
says about value types (DS as Decimal or numpy, dates as datetime, None for
empty text...), VR handling and validation, and any registered hooks, must be
honoured exactly as pydicom's reader does.
"""

from __future__ import annotations

import contextlib
import logging

import pydicom.data
import pydicom.valuerep
import pytest
from compare import assert_same_outcome, pydicom_dcmread, read_both
from conftest import file_id
from helpers import CT
from pydicom import config
from pydicom.hooks import (
    hooks,
    raw_element_value,
    raw_element_value_fix_separator,
    raw_element_value_retry,
    raw_element_vr,
)
from pydicom.valuerep import PersonName

pytestmark = pytest.mark.usefixtures("quiet_pydicom_logger")

_MODULE_FLAGS = (
    "use_DS_decimal",
    "use_DS_numpy",
    "use_IS_numpy",
    "datetime_conversion",
    "use_none_as_empty_text_VR_value",
    "replace_un_with_known_vr",
    "convert_wrong_length_to_UN",
    "assume_implicit_vr_switch",
)


@contextlib.contextmanager
def pydicom_config(**changes):
    """Apply config changes (and hooks), restoring everything afterwards."""
    saved = {name: getattr(config, name) for name in _MODULE_FLAGS}
    saved_mode = config.settings.reading_validation_mode
    saved_infer = config.settings.infer_sq_for_un_vr
    saved_ds_class = pydicom.valuerep.DSclass
    saved_hooks = (
        hooks.raw_element_value,
        hooks.raw_element_vr,
        dict(hooks.raw_element_kwargs),
    )
    try:
        for name, value in changes.items():
            if name == "reading_validation_mode":
                config.settings.reading_validation_mode = value
            elif name == "infer_sq_for_un_vr":
                config.settings.infer_sq_for_un_vr = value
            elif name == "DS_decimal":
                config.DS_decimal(value)  # also switches valuerep.DSclass
            elif name == "DS_numpy":
                config.DS_numpy(value)
            elif name in ("raw_element_value", "raw_element_vr"):
                hooks.register_callback(name, value)
            elif name == "raw_element_kwargs":
                hooks.register_kwargs(name, value)
            else:
                assert name in _MODULE_FLAGS, name
                setattr(config, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(config, name, value)
        config.settings.reading_validation_mode = saved_mode
        config.settings.infer_sq_for_un_vr = saved_infer
        pydicom.valuerep.DSclass = saved_ds_class
        hooks.raw_element_value, hooks.raw_element_vr = saved_hooks[:2]
        hooks.raw_element_kwargs = saved_hooks[2]


def _vr_everything_un_for_private(raw, data, **kwargs):
    """A user hook: private data elements (not creators) are read as UN."""
    raw_element_vr(raw, data, **kwargs)
    tag = raw.tag
    if tag.is_private and (tag & 0xFFFF) >= 0x1000 and data["VR"] != "SQ":
        data["VR"] = "UN"


def _value_upper_names(raw, data, **kwargs):
    """A user hook changing values: person names are upper-cased."""
    raw_element_value(raw, data, **kwargs)
    value = data.get("value")
    if data.get("VR") == "PN" and isinstance(value, PersonName):
        data["value"] = PersonName(str(value).upper())


CONFIGS = {
    "DS_decimal": {"DS_decimal": True},
    "DS_IS_numpy": {"DS_numpy": True, "use_IS_numpy": True},
    "datetime_conversion": {"datetime_conversion": True},
    "none_as_empty_text": {"use_none_as_empty_text_VR_value": True},
    "keep_UN": {"replace_un_with_known_vr": False},
    "no_infer_sq_for_UN": {"infer_sq_for_un_vr": False},
    "validation_raise": {"reading_validation_mode": config.RAISE},
    "validation_ignore": {"reading_validation_mode": config.IGNORE},
    "wrong_length_to_UN": {"convert_wrong_length_to_UN": True},
    "no_implicit_switch": {"assume_implicit_vr_switch": False},
    "hook_fix_separator": {
        "raw_element_value": raw_element_value_fix_separator,
        "raw_element_kwargs": {"target_VRs": ("DS", "IS"), "separator": b","},
    },
    "hook_retry": {
        "raw_element_value": raw_element_value_retry,
        "raw_element_kwargs": {"target_VRs": {"DS": ("US", "SS")}},
    },
    "hook_private_UN": {"raw_element_vr": _vr_everything_un_for_private},
    "hook_upper_names": {"raw_element_value": _value_upper_names},
}


def test_config_context_restores_everything():
    before = (
        [getattr(config, n) for n in _MODULE_FLAGS],
        config.settings.reading_validation_mode,
        hooks.raw_element_value,
    )
    with pydicom_config(**CONFIGS["DS_decimal"], **CONFIGS["hook_upper_names"]):
        assert config.use_DS_decimal is True
        assert pydicom.valuerep.DSclass is pydicom.valuerep.DSdecimal
        assert hooks.raw_element_value is _value_upper_names
    after = (
        [getattr(config, n) for n in _MODULE_FLAGS],
        config.settings.reading_validation_mode,
        hooks.raw_element_value,
    )
    assert after == before
    assert pydicom.valuerep.DSclass is pydicom.valuerep.DSfloat


@pytest.mark.parametrize("variant", sorted(CONFIGS))
def test_config_parity(variant, dicom_file, reader):
    with pydicom_config(**CONFIGS[variant]):
        expected, actual = read_both(dicom_file, reader, force=True)
        assert_same_outcome(expected, actual, f"{file_id(dicom_file)} [{variant}]")


def test_variants_take_effect_in_pydicom():
    """The variants are not no-ops: spot checks on pydicom's own output."""
    from compare import pydicom_dcmread
    from pydicom.valuerep import DA, DSdecimal

    path = CT
    with pydicom_config(**CONFIGS["DS_decimal"]):
        assert isinstance(pydicom_dcmread(path).SliceThickness, DSdecimal)
    with pydicom_config(**CONFIGS["DS_IS_numpy"]):
        assert type(pydicom_dcmread(path).ImagePositionPatient).__name__ == "ndarray"
    with pydicom_config(**CONFIGS["datetime_conversion"]):
        assert isinstance(pydicom_dcmread(path).StudyDate, DA)
    with pydicom_config(**CONFIGS["hook_upper_names"]):
        name = str(pydicom_dcmread(path).PatientName)
        assert name == name.upper() and name != name.lower()
    with pydicom_config(**CONFIGS["hook_private_UN"]):
        assert pydicom_dcmread(path)[0x00431028].VR == "UN"
    assert pydicom_dcmread(path)[0x00431028].VR == "OB"


@pytest.mark.parametrize("defer_size", [None, 2000])
@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm", "no_meta.dcm"])
def test_debug_log_matches_pydicom(name, defer_size, reader, caplog):
    """config.debug(True): the 'pydicom' logger gets the records pydicom's reader
    writes (pydicom's test_values_identical looks for "Defer size exceeded")."""
    path = pydicom.data.get_testdata_file(name)
    logger = logging.getLogger("pydicom")
    level = logger.level
    logs = []
    config.debug(True, default_handler=False)
    try:
        for read in (pydicom_dcmread, reader):
            caplog.clear()
            with caplog.at_level(logging.DEBUG, logger="pydicom"):
                read(path, defer_size=defer_size, force=True)
            logs.append([(r.levelno, r.getMessage()) for r in caplog.records])
    finally:
        config.debug(False, default_handler=False)
        logger.setLevel(level)
    assert logs[0], "pydicom logged nothing: is debugging on?"
    assert logs[1] == logs[0]

"""The extension's stub file names exactly what the extension exports."""

import ast
import inspect
from pathlib import Path

import dcmfast
from dcmfast import _core

STUB = Path(dcmfast.__file__).with_name("_core.pyi")


def _stub_names() -> dict[str, set[str]]:
    tree = ast.parse(STUB.read_text())
    names: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = {
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name != "__new__"
            }
        elif isinstance(node, ast.FunctionDef):
            names[node.name] = set()
    return names


def _public(cls: type) -> set[str]:
    own = set(vars(cls)) - set(vars(object))
    return {n for n in own if not n.startswith("_") or n in _DUNDERS}


_DUNDERS = {
    "__len__",
    "__contains__",
    "__getitem__",
    "__setitem__",
    "__delitem__",
    "__iter__",
    "__get__",
}


def test_stub_matches_extension():
    stub = _stub_names()
    exported = {n for n in dir(_core) if not n.startswith("_")}
    assert set(stub) == exported
    for name, members in stub.items():
        obj = getattr(_core, name)
        if inspect.isclass(obj) and not issubclass(obj, Exception):
            assert members == _public(obj), name


def test_package_is_typed():
    assert STUB.with_name("py.typed").exists()

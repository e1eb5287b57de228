"""The hand-written stubs (btp/_native/__init__.pyi and one file per
submodule: eval, synthetic, hazmat) list exactly what the native module and
its submodules export, `__all__` included; the public names of the package
are gathered from each module's `__all__`; the package ships the stubs with
py.typed, and the package and the example type-check with mypy --strict."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
import types
from pathlib import Path

import pytest

import btp
from btp import _native

PACKAGE = Path(btp.__file__).resolve().parent
STUBS = PACKAGE / "_native"
SUBMODULES = ("eval", "synthetic", "hazmat")
REPO = Path(__file__).resolve().parents[2]
MODULE_DUNDERS = {"__doc__", "__file__", "__loader__", "__name__", "__package__", "__spec__", "__all__"}
# Members every class has, or that pyo3 adds, and that a stub need not list.
IMPLICIT = {"__doc__", "__module__", "__repr__", "__new__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"}


def stub_tree(name: str = "__init__") -> ast.Module:
    return ast.parse((STUBS / f"{name}.pyi").read_text())


def stubbed_modules():
    """(stub tree, runtime module) of the native module and each submodule."""
    yield stub_tree(), _native
    for name in SUBMODULES:
        yield stub_tree(name), importlib.import_module(f"btp._native.{name}")


def stub_all(tree: ast.Module) -> list:
    for node in tree.body:
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"]:
            return ast.literal_eval(node.value)
    raise AssertionError("the stub has no __all__")


def stub_names(tree: ast.Module) -> set:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_package_ships_stubs_and_marker():
    assert (PACKAGE / "py.typed").is_file()
    assert (STUBS / "__init__.pyi").is_file()
    for name in SUBMODULES:
        assert (STUBS / f"{name}.pyi").is_file()


def test_module_names_match():
    submodules = {n for n in dir(_native) if isinstance(getattr(_native, n), types.ModuleType)}
    assert submodules == set(SUBMODULES)
    runtime = {n for n in dir(_native) if n not in MODULE_DUNDERS} - submodules
    assert stub_names(stub_tree()) == runtime
    assert set(_native.__all__) <= runtime
    for name in SUBMODULES:
        module = importlib.import_module(f"btp._native.{name}")
        assert module is getattr(_native, name)
        runtime = {n for n in dir(module) if n not in MODULE_DUNDERS}
        assert stub_names(stub_tree(name)) == runtime, name


def test_public_names_are_listed_once():
    """`_native.__all__` is exactly the stub's; `btp.__all__` is gathered
    from the modules' own lists, without repeats, and every name in it
    exists; private helpers and the submodules stay out of the lists."""
    assert sorted(stub_all(stub_tree())) == sorted(_native.__all__)
    assert not [n for n in _native.__all__ if n.startswith("_") and n != "__version__"]
    assert not set(_native.__all__) & set(SUBMODULES)
    assert len(btp.__all__) == len(set(btp.__all__))
    assert set(_native.__all__) | set(btp._types.__all__) <= set(btp.__all__)
    for n in btp.__all__:
        assert hasattr(btp, n), n
    assert len(btp.eval.__all__) == len(set(btp.eval.__all__))
    assert set(btp._eval_types.__all__) <= set(btp.eval.__all__)


def test_class_members_match():
    for node in stub_tree().body:
        if not isinstance(node, ast.ClassDef):
            continue
        cls = getattr(_native, node.name)
        stub_bases = [ast.unparse(b) for b in node.bases]
        if issubclass(cls, BaseException):
            assert stub_bases == [b.__name__ for b in cls.__bases__], node.name
            continue
        listed = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
        listed = {"__new__" if n == "__init__" else n for n in listed}
        runtime = set(vars(cls))
        assert listed - runtime == set(), f"{node.name}: stubbed but missing"
        assert runtime - listed - IMPLICIT == set(), f"{node.name}: exported but not stubbed"
        if "__init__" in {n.name for n in node.body if isinstance(n, ast.FunctionDef)}:
            assert cls.__new__ is not object.__new__


def test_stub_signatures_match_parameter_names():
    """For functions pyo3 gives a text signature, the stub has the same
    parameter names, in order."""
    for tree, module in stubbed_modules():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                fn = getattr(module, node.name)
                params = list(inspect.signature(fn).parameters)
                assert [a.arg for a in node.args.args + node.args.kwonlyargs] == params, node.name
    for node in stub_tree().body:
        if isinstance(node, ast.ClassDef) and not issubclass(getattr(_native, node.name), BaseException):
            cls = getattr(_native, node.name)
            for f in node.body:
                if not isinstance(f, ast.FunctionDef) or f.name.startswith("__"):
                    continue
                member = inspect.getattr_static(cls, f.name)
                if isinstance(member, (staticmethod, classmethod)):
                    member = getattr(cls, f.name)
                try:
                    sig = inspect.signature(member)
                except (TypeError, ValueError):
                    continue  # properties
                stub = [a.arg for a in f.args.args + f.args.kwonlyargs]
                if stub and stub[0] in ("self", "cls"):
                    stub = stub[1:]
                got = [p for p in sig.parameters if p not in ("self", "cls", "$self", "$cls")]
                assert stub == got, f"{node.name}.{f.name}: {stub} != {got}"


def test_mypy_strict(request, tmp_path):
    pytest.importorskip("mypy")
    cache = request.config.cache.mkdir("mypy") if getattr(request.config, "cache", None) else tmp_path
    targets = [str(REPO / "python" / "btp"), str(REPO / "examples" / "python" / "notebook_example.py")]
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), *targets],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr

"""The type stub ``_core.pyi`` says what the compiled extension really has.

mypy trusts the stub, so a stub that drifts from the extension hides bugs. The
extension's functions carry their real signatures (``__text_signature__``, set
by PyO3); this test compares names, parameters and defaults with the stub.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any, Optional, Union

import nextword
import pytest
from nextword import _core

STUB = Path(nextword.__file__).with_name("_core.pyi")
Node = Union[ast.FunctionDef, ast.AnnAssign, ast.ClassDef]


def stub_members(body: list[ast.stmt]) -> dict[str, Node]:
    out: dict[str, Node] = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
    return out


def stub_params(fn: ast.FunctionDef) -> list[tuple[str, bool]]:
    """(name, has a default) of each parameter, ``self`` left out."""
    args = fn.args
    positional = args.posonlyargs + args.args
    first_default = len(positional) - len(args.defaults)
    params = [(a.arg, i >= first_default) for i, a in enumerate(positional)]
    params += [(a.arg, d is not None) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    return [p for p in params if p[0] not in ("self", "cls")]


def runtime_params(obj: Any) -> Optional[list[tuple[str, bool]]]:
    text = getattr(obj, "__text_signature__", None)
    if not text:
        return None
    text = text.replace("($self, ", "(").replace("($self)", "()").replace("$cls, ", "")
    ns: dict[str, Any] = {}
    exec(f"def f{text}: pass", ns)  # a signature, never code from a file
    sig = inspect.signature(ns["f"])
    return [
        (p.name, p.default is not inspect.Parameter.empty)
        for p in sig.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


TREE = stub_members(ast.parse(STUB.read_text(encoding="utf-8")).body)


def public(obj: Any) -> set[str]:
    return {n for n in vars(obj) if not n.startswith("_") or n in ("__len__", "__contains__")}


def test_every_runtime_name_is_in_the_stub() -> None:
    missing = {n for n in dir(_core) if not n.startswith("_")} - set(TREE)
    assert not missing, f"in nextword._core but not in _core.pyi: {sorted(missing)}"
    for name, node in TREE.items():
        if isinstance(node, ast.ClassDef):
            members = stub_members(node.body)
            extra = {n for n in public(getattr(_core, name)) if not n.startswith("__")}
            assert not extra - set(members), f"{name}: not in the stub: {extra - set(members)}"


def stub_functions() -> list[tuple[Optional[str], str, ast.FunctionDef]]:
    """(class or None, name, node) of every function and method in the stub."""
    out: list[tuple[Optional[str], str, ast.FunctionDef]] = []
    for name, node in TREE.items():
        if isinstance(node, ast.FunctionDef):
            out.append((None, name, node))
        elif isinstance(node, ast.ClassDef):
            for member, m in stub_members(node.body).items():
                if isinstance(m, ast.FunctionDef) and not member.startswith("__"):
                    out.append((name, member, m))
    return out


@pytest.mark.parametrize(
    ("cls", "name", "node"), stub_functions(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_stub_signatures_match_the_extension(
    cls: Optional[str], name: str, node: ast.FunctionDef
) -> None:
    owner = _core if cls is None else getattr(_core, cls)
    where = f"{cls or '_core'}.{name}"
    assert hasattr(owner, name), f"the stub has {where}, the extension does not"
    if any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list):
        return  # a getter: no parameters to compare
    got = runtime_params(getattr(owner, name))
    assert got is not None, f"{where} has no signature at run time"
    assert stub_params(node) == got, where

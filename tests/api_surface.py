"""Prints, as JSON, the public surface of ``stable_retro`` in the interpreter that runs it.

Run by tests/test_stable_retro_api.py under this project and under stable-retro
1.0.1 in its own virtualenv: for each public module, its public names; for
each function and method, its parameters (name, kind, default) where Python
can tell them (pybind11's compiled classes give only their method names).
A module that cannot be imported (no display, a missing optional package) is
read from its source instead: its top-level functions and classes and the
methods each class defines, with their parameters.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import sys
import types
from typing import Any

MODULES = [
    "stable_retro", "stable_retro.data", "stable_retro.enums", "stable_retro.retro_env", "stable_retro.rendering",
    "stable_retro.testing", "stable_retro.testing.tools", "stable_retro.scripts.playback_movie",
    "stable_retro.scripts.import_path", "stable_retro.scripts.import_sega_classics",
    "stable_retro.examples.discretizer", "stable_retro.examples.interactive", "stable_retro.examples.random_agent",
    "stable_retro.examples.retro_interactive", "stable_retro.examples.trivial_random_agent",
    "stable_retro.examples.trivial_random_agent_multiplayer", "stable_retro.examples.brute",
    "stable_retro.examples.determinism", "stable_retro.examples.ppo",
]


def params(fn: Any) -> list[list[Any]] | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    out = []
    for p in sig.parameters.values():
        default = None if p.default is inspect.Parameter.empty else repr(p.default)
        out.append([p.name, p.kind.name, default])
    return out


def public(names: Any) -> list[str]:
    return sorted(n for n in names if not n.startswith("_"))


def describe(module: types.ModuleType) -> dict[str, Any]:
    names = getattr(module, "__all__", None) or [
        n for n, v in vars(module).items()
        if not isinstance(v, types.ModuleType)
        and str(getattr(v, "__module__", module.__name__)).split(".")[0] in ("stable_retro", "retro")]
    out: dict[str, Any] = {}
    for name in public(names):
        value = getattr(module, name, None)
        if inspect.isclass(value):
            members = {}
            for attr in public(dir(value)):
                if attr in dir(object) or attr in ("np_random", "unwrapped"):
                    continue
                member = inspect.getattr_static(value, attr, None)
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if callable(member) and not inspect.isclass(member):
                    members[attr] = ["method", params(member)]
                else:
                    members[attr] = ["attribute", None]
            out[name] = ["class", params(value.__init__) if "__init__" in vars(value) else None, members]
        elif callable(value):
            out[name] = ["function", params(value)]
        elif value is None and not hasattr(module, name):
            out[name] = ["missing", None]
        else:
            out[name] = ["value", type(value).__name__]
    return out


def source_params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[list[Any]]:
    """A function's parameters as ``params`` gives them, read from its source (a default shows as ``"..."``)."""
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[Any] = [None] * (len(positional) - len(a.defaults)) + ["..."] * len(a.defaults)
    out = [[p.arg, "POSITIONAL_ONLY" if i < len(a.posonlyargs) else "POSITIONAL_OR_KEYWORD", defaults[i]]
           for i, p in enumerate(positional)]
    if a.vararg:
        out.append([a.vararg.arg, "VAR_POSITIONAL", None])
    out += [[p.arg, "KEYWORD_ONLY", None if d is None else "..."] for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        out.append([a.kwarg.arg, "VAR_KEYWORD", None])
    return out


def describe_source(name: str) -> dict[str, Any]:
    """The public top-level functions and classes of module ``name``, read from its source without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        return {}
    with open(spec.origin, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    out: dict[str, Any] = {}
    for node in tree.body:
        if node.name.startswith("_") if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else True:
            continue
        if isinstance(node, ast.FunctionDef):
            out[node.name] = ["function", source_params(node)]
        else:
            methods = {m.name: m for m in node.body if isinstance(m, ast.FunctionDef)}
            init = methods.get("__init__")
            out[node.name] = ["class", source_params(init) if init else None,
                              {n: ["method", source_params(m)] for n, m in methods.items() if not n.startswith("_")}]
    return out


def main() -> None:
    result: dict[str, Any] = {}
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except Exception as e:  # noqa: BLE001 - a module of theirs that cannot import here (no display, pyglet)
            result[name] = ["unimportable", f"{type(e).__name__}: {e}", describe_source(name)]
            continue
        result[name] = ["module", describe(module)]
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()

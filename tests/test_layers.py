"""The package's imports: no module of ``retro/`` reaches itself through its imports, and layers point down.

Every import is counted, wherever it is written (at the top, inside a function,
under ``TYPE_CHECKING``): a circle through a lazy import is still a circle in
the design. Python modules are read with ``ast``; Cython modules (``.pyx``,
``.pxd``) by their ``import``, ``from ... import`` and ``cimport`` lines.
Importing ``retro.a.b`` runs ``retro/__init__.py`` and ``retro/a/__init__.py``
too, but only the module named is counted as imported: otherwise every module
would import the whole public surface through ``retro/__init__.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "retro"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> dict[str, Path]:
    """Every module of ``retro/`` by name (a Cython module by its ``.pyx``, else its ``.pxd``)."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix not in (".py", ".pyx", ".pxd") or "__pycache__" in path.parts:
            continue
        name = module_name(path)
        if path.suffix == ".pxd" and name in found:
            continue
        found[name] = path
    return found


MODULES = sources()


def resolve(name: str, current: str, is_package: bool, level: int = 0) -> str | None:
    """The module of ``retro/`` an import of ``name`` names (relative to ``current`` at ``level``), or None."""
    if level:
        base = current.split(".") if is_package else current.split(".")[:-1]
        base = base[:len(base) - (level - 1)]
        name = ".".join([*base, name] if name else base)
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(name: str, path: Path) -> set[str]:
    """The modules of ``retro/`` that module ``name`` imports."""
    is_package = path.stem == "__init__"
    out: set[str] = set()

    def add(target: str | None) -> None:
        if target is not None and target != name:
            out.add(target)

    if path.suffix == ".py":
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(resolve(alias.name, name, is_package))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                for alias in node.names:  # ``from retro import paths``: the module retro.paths
                    full = f"{base}.{alias.name}" if base else alias.name
                    add(resolve(full, name, is_package, node.level) if (
                        resolve(full, name, is_package, node.level) or "").endswith(alias.name)
                        else resolve(base, name, is_package, node.level))
        return out
    for line in path.read_text().splitlines():
        m = re.match(r"\s*from\s+(\.*)([\w.]*)\s+c?import\s+(.+)", line)
        if m:
            level, base = len(m.group(1)), m.group(2)
            for item in m.group(3).replace("(", " ").replace(")", " ").split(","):
                word = item.split()[0] if item.split() else ""
                full = f"{base}.{word}" if base else word
                target = resolve(full, name, is_package, level)
                add(target if target and target.endswith(word) else resolve(base, name, is_package, level))
            continue
        m = re.match(r"\s*c?import\s+([\w.]+)", line)
        if m:
            add(resolve(m.group(1), name, is_package))
    return out


GRAPH = {name: imports_of(name, path) for name, path in MODULES.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_walk_sees_imports_of_every_kind() -> None:
    """The reader finds top-level, lazy, TYPE_CHECKING, relative and Cython imports (else the test below is void)."""
    assert "retro._core" in GRAPH["retro.emulator"]  # from retro._core import Emulator
    assert "retro.paths" in GRAPH["retro.emulator"]  # from retro import _state_probe, paths
    assert "retro.profiles.stella" in GRAPH["retro.profiles"]  # from retro.profiles import ale, ..., stella
    assert "retro._program" in GRAPH["retro._core"]  # a cimport in a .pyx
    assert len(MODULES) > 80 and sum(map(len, GRAPH.values())) > 200


def test_the_circle_finder_finds_circles() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_retro_imports_itself_through_others() -> None:
    found = circles(GRAPH)
    assert found == [], "import circles in retro/ (each list reaches itself): " + "; ".join(
        " -> ".join(c) for c in found)


#: Layers, lowest first: a module may import its own layer and those below, never one above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("retro.errors", "retro.enums", "retro.paths", "retro.systems", "retro._fileutil", "retro.policy")),
    ("frontend", ("retro._core", "retro._libretro", "retro._preprocess", "retro._program", "retro._values",
                  "retro._bk2", "retro._buttons", "retro._workers")),
    ("emulator", ("retro.emulator", "retro.cores", "retro.profiles", "retro._state_probe", "retro._statecmp")),
]


def layer_of(module: str) -> int | None:
    for rank, (_name, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return None


@pytest.mark.parametrize("rank", range(len(LAYERS)), ids=[name for name, _ in LAYERS])
def test_the_lower_layers_import_only_downwards(rank: int) -> None:
    """The base modules, the frontend and the emulator layer never import a layer above them (or the rest)."""
    upward = {m: sorted(t for t in targets if (layer_of(t) is None or layer_of(t) > rank))  # type: ignore[operator]
              for m, targets in GRAPH.items() if layer_of(m) == rank}
    upward = {m: t for m, t in upward.items() if t}
    assert upward == {}, f"the {LAYERS[rank][0]} layer imports upwards: {upward}"

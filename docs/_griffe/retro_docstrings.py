"""A griffe extension: docstrings that static analysis alone does not see, taken from the code.

1. Compiled modules. retro's compiled modules (``retro/_core.pyx``, ``retro/_workers.pyx``, ...) are described
to type checkers by stubs (``_core.pyi``) that carry no docstrings; the docstrings live in
the ``.pyx`` beside them. The API reference is built statically (nothing is imported), so
this extension reads the ``.pyx`` as text and gives every object of the stub that has no
docstring the one its Cython definition has: the module's, each class's, each function's,
method's and property's.

2. Delegated properties. ``RetroEnv``'s attributes that are its session's (``em``, ``data``,
``statename``, ...) are made by ``_delegate(name, doc)``, which gives each property its
docstring at run time; this extension gives the attribute the same ``doc``.

3. Sphinx roles. Docstrings here name other objects with reStructuredText roles
(``:class:`RetroEnv```, ``:meth:`~GameData.reset```); Markdown shows them as code
(```RetroEnv```, ```reset```).

One source for each docstring, so the reference cannot drift from the code.

Used by ``mkdocs.yml`` (mkdocstrings' python handler, ``extensions``).
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import griffe

_CLASS = re.compile(r"^(?:cdef\s+|cpdef\s+)?class\s+(\w+)")
_DEF = re.compile(r"^(\s*)(?:async\s+)?(?:def|cpdef|cdef)\s+(?:[\w\[\]\*\s,.]+?\s+)?(\w+)\s*\(")
_QUOTES = ('"""', "'''")
_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|attr|data|exc|obj|const):`(~?)([^`]+)`")


def _role_as_code(match: re.Match[str]) -> str:
    target = match.group(2).strip()
    if "<" in target and target.endswith(">"):  # :class:`text <target>`
        return "`" + target[: target.index("<")].strip() + "`"
    return "`" + (target.rsplit(".", 1)[-1] if match.group(1) else target) + "`"


def _string_at(lines: list[str], i: int) -> str | None:
    """The triple-quoted string that starts on line ``i`` (after blank lines), if any."""
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        return None
    text = lines[i].strip()
    if text[:1] in "rRuU":
        text = text[1:]
    quote = text[:3]
    if quote not in _QUOTES:
        return None
    body = text[3:]
    if quote in body:
        return inspect.cleandoc(body[: body.index(quote)])
    parts = [body]
    for line in lines[i + 1:]:
        if quote in line:
            parts.append(line[: line.index(quote)])
            return inspect.cleandoc("\n".join(parts))
        parts.append(line)
    return None


def _signature_end(lines: list[str], i: int) -> int:
    """The index of the line that ends the definition starting on line ``i`` (its colon)."""
    depth = 0
    for j in range(i, len(lines)):
        code = lines[j].split("#", 1)[0]
        depth += code.count("(") + code.count("[") - code.count(")") - code.count("]")
        if depth <= 0 and code.rstrip().endswith(":"):
            return j
    return i


def pyx_docstrings(source: str) -> dict[str, str]:
    """Docstrings of a Cython source by dotted name: ``""`` the module, ``"C"``, ``"C.m"``, ``"f"``."""
    lines = source.splitlines()
    found: dict[str, str] = {}
    module_doc = _string_at(lines, 0)
    if module_doc is not None:
        found[""] = module_doc
    cls: str | None = None
    for i, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            cls = None
            m = _CLASS.match(line)
            if m:
                cls = m.group(1)
                doc = _string_at(lines, _signature_end(lines, i) + 1)
                if doc is not None:
                    found[cls] = doc
                continue
        m = _DEF.match(line)
        if m is None:
            continue
        name = m.group(2)
        if indent == 0:
            key = name
        elif cls is not None and indent == 4:
            key = f"{cls}.{name}"
        else:
            continue
        doc = _string_at(lines, _signature_end(lines, i) + 1)
        if doc is not None:
            found.setdefault(key, doc)
    return found


class RetroDocstrings(griffe.Extension):
    """Fill missing docstrings: from the ``.pyx`` beside a stub, and from ``_delegate(name, doc)``."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        self._walk(pkg, loader)
        self._roles(pkg)

    def _roles(self, obj: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_role_as_code, obj.docstring.value)
        for member in obj.members.values():
            if not member.is_alias:
                self._roles(member)

    def on_attribute_instance(self, *, attr: griffe.Attribute, agent: Any, **kwargs: Any) -> None:
        value = attr.value
        if attr.docstring is not None or not isinstance(value, griffe.ExprCall):
            return
        if str(value.function) != "_delegate" or len(value.arguments) < 2:
            return
        try:
            doc = ast.literal_eval(str(value.arguments[1]))
        except (ValueError, SyntaxError):
            return
        if isinstance(doc, str) and doc:
            attr.docstring = griffe.Docstring(doc, parent=attr, parser=agent.docstring_parser,
                                              parser_options=agent.docstring_options)
            attr.labels.add("property")

    def _walk(self, module: griffe.Module, loader: griffe.GriffeLoader) -> None:
        for member in module.modules.values():
            if not member.is_alias:
                self._walk(member, loader)
        path = module.filepath
        if not isinstance(path, Path) or path.suffix != ".pyi":
            return
        pyx = path.with_suffix(".pyx")
        if not pyx.is_file():
            return
        docs = pyx_docstrings(pyx.read_text(encoding="utf-8"))
        self._fill(module, "", docs, loader)
        for name, obj in module.members.items():
            if obj.is_alias:
                continue
            self._fill(obj, name, docs, loader)
            if obj.is_class:
                for attr, sub in obj.members.items():
                    if not sub.is_alias:
                        self._fill(sub, f"{name}.{attr}", docs, loader)

    @staticmethod
    def _fill(obj: Any, key: str, docs: dict[str, str], loader: griffe.GriffeLoader) -> None:
        if obj.docstring is not None and obj.docstring.value.strip():
            return
        text = docs.get(key)
        if text:
            obj.docstring = griffe.Docstring(text, parent=obj, parser=loader.docstring_parser,
                                             parser_options=loader.docstring_options)

"""Sections of docs/benchmarks.md that a benchmark script other than peers.py owns.

A section runs from ``<!-- section NAME -->`` to ``<!-- end NAME -->``. Its
script replaces it in place (or appends it); ``peers.py``, which writes the
rest of the page, keeps every section when it rewrites the page.
"""

from __future__ import annotations

import re
from pathlib import Path

_SECTION = re.compile(r"<!-- section (?P<name>[\w-]+) -->\n.*?<!-- end (?P=name) -->\n?", re.S)


def sections(text: str) -> str:
    """Every owned section of a page, in order, a blank line apart."""
    return "\n".join(m.group(0) if m.group(0).endswith("\n") else m.group(0) + "\n" for m in _SECTION.finditer(text))


def replace_section(doc: Path, name: str, markdown: str) -> None:
    """Put ``markdown`` as section ``name`` of ``doc``: where it was, else at the end."""
    block = f"<!-- section {name} -->\n{markdown.rstrip()}\n<!-- end {name} -->\n"
    text = doc.read_text() if doc.exists() else ""
    pattern = re.compile(rf"<!-- section {re.escape(name)} -->\n.*?<!-- end {re.escape(name)} -->\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text, count=1)
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block
    doc.write_text(text)

"""The notebooks in docs/notebooks run top to bottom, and what their cells end with displays."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "docs" / "notebooks").glob("*.ipynb"))

# Runs a notebook's code cells in order in one namespace, as a kernel would; the value of a
# cell's last expression is "displayed" through the display protocol and its kind reported.
RUNNER = r'''
import ast, json, sys
cells = json.loads(sys.stdin.read())
scope = {"__name__": "__main__"}
shown = []
for source in cells:
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), scope)
    if last is None:
        shown.append(None)
        continue
    value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), scope)
    if hasattr(value, "_repr_html_") and value._repr_html_():
        shown.append("html:" + value._repr_html_()[:40])
    elif hasattr(value, "_repr_png_") and value._repr_png_():
        shown.append("png")
    else:
        shown.append("repr:" + repr(value)[:200])
print(json.dumps(shown))
'''


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    if path.stem in ("sb3", "pettingzoo"):
        pytest.importorskip("stable_baselines3" if path.stem == "sb3" else "pettingzoo")
    doc = json.loads(path.read_text())
    assert doc["nbformat"] == 4
    cells = ["".join(c["source"]) for c in doc["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") for c in doc["cells"] if c["cell_type"] == "code"), "commit notebooks without outputs"
    out = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", RUNNER], input=json.dumps(cells),
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    shown = json.loads(out.stdout.splitlines()[-1])
    if path.stem == "quickstart":
        assert shown[1] == "png" and shown[2].startswith("html:<video") and shown[3].startswith("html:<video")
    elif path.stem == "sb3":
        assert shown[1].startswith("repr:(2048, [") and shown[2].startswith("html:<video")
    else:
        assert "Pong-Atari2600" in shown[0] and shown[3].startswith("html:<video")

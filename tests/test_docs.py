"""The documentation: the site builds strictly, every code block runs, the maps stay whole.

- ``mkdocs build --strict`` builds the site (``mkdocs.yml``) into a temporary folder, with
  its API reference generated from the docstrings by static analysis: building it imports
  none of the heavy optional libraries, and every public name has its entry.
- Every fenced code block of ``README.md`` and ``docs/**/*.md`` is executed, one test per
  block (named by file and line): ``python`` blocks in a fresh interpreter, ``sh``/``bash``
  blocks (``retro ...`` and ``python3 ...`` commands only) in ``bash``, each in a new
  temporary working directory, with ``RETRO_HOME`` as the other tests have it.
- A block that cannot run here is marked just above it, with the reason, which the test
  report shows::

      <!-- docs-test: skip (needs a display) -->

  A block may run with a part replaced (a smaller size, say), stated the same way; the
  text it replaces must be in the block, so the marker cannot outlive it::

      <!-- docs-test: replace `learn(1_000_000)` with `learn(1_024)` (one short update) -->

  A block that goes on from the one before it (a movie recorded above, rendered here) says
  so; its test runs that block first, in the same folder::

      <!-- docs-test: continues the block above -->

- ``docs/architecture.md`` names every module and folder of ``retro/``; README.md has at
  most 200 lines.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MARKDOWN = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]

RUNNABLE = {"python": "python", "py": "python", "sh": "sh", "bash": "sh", "shell": "sh", "console": "sh"}
BLOCK_TIMEOUT = 180  # seconds; a block that takes longer is a bug in the block or in retro
HEAVY_MODULES = ("ray", "torch", "stable_baselines3", "pettingzoo")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_MARK = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")
_SKIP = re.compile(r"^skip\s*\((?P<reason>.*\S.*)\)$")
_CONTINUES = re.compile(r"^continues the block above$")
_REPLACE = re.compile(r"^replace\s+`(?P<old>[^`]+)`\s+with\s+`(?P<new>[^`]*)`\s*\((?P<reason>.*\S.*)\)$")
# a block that trains must say what it costs, in the text just above it
_TRAINS = re.compile(r"\.learn\(|\.train\(")
_COST = re.compile(r"\babout\b[^.]*?\b\d[\d,.]*\s*(?:seconds?|minutes?|hours?|s|min|h)\b", re.I)
_STARTS_PROCESSES = re.compile(r"SubprocVecEnv|multiprocessing|mode=[\"']process[\"']|start_method|ProcessPool")


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    before: str  # the text of the lines above the block (for the cost check)
    skip: str | None = None
    previous: "Block | None" = None  # the block this one continues
    replacements: list[tuple[str, str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def parse_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a markdown file, with the markers above each."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        fence, indent = m.group("fence"), m.group("indent")
        lang = (m.group("info").strip().split() or [""])[0].lower()
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not (lines[j].strip().startswith(fence[0] * len(fence))
                                      and lines[j].strip().strip(fence[0]) == ""):
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j].lstrip())
            j += 1
        block = Block(path, i + 1, lang, "\n".join(body) + "\n", "\n".join(lines[max(0, i - 15):i]))
        if j >= len(lines):
            block.errors.append("the block is not closed")
        if not lang:
            block.errors.append("the fence names no language (```python, ```sh, ```text, ...)")
        # markers: the comment lines right above the fence (blank lines between are allowed)
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        while k >= 0 and _MARK.match(lines[k]):
            spec = _MARK.match(lines[k]).group("body")  # type: ignore[union-attr]
            if (s := _SKIP.match(spec)) is not None:
                block.skip = s.group("reason").strip()
            elif _CONTINUES.match(spec):
                runnable = [b for b in blocks if b.lang in RUNNABLE]
                if runnable:
                    block.previous = runnable[-1]
                else:
                    block.errors.append(f"line {k + 1}: there is no block above to continue")
            elif (r := _REPLACE.match(spec)) is not None:
                block.replacements.append((r.group("old"), r.group("new"), r.group("reason").strip()))
            else:
                block.errors.append(f"line {k + 1}: a docs-test marker is `skip (REASON)`, "
                                    f"`replace `OLD` with `NEW` (REASON)` or `continues the block above`, "
                                    f"not {spec!r}")
            k -= 1
        blocks.append(block)
        i = j + 1
    return blocks


BLOCKS = [b for path in MARKDOWN for b in parse_blocks(path)]
RUN_BLOCKS = [b for b in BLOCKS if b.lang in RUNNABLE]


def _env() -> dict[str, str]:
    env = dict(os.environ)  # RETRO_HOME and the rest as the other tests have them
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["NO_MKDOCS_2_WARNING"] = "1"
    return env


def _shell_commands(code: str) -> list[str]:
    """The command lines of a shell block (comments and blank lines dropped, continuations joined)."""
    commands, current = [], ""
    for raw in code.splitlines():
        line = raw.rstrip()
        if current:
            current += " " + line.strip()
        elif line.strip() and not line.lstrip().startswith("#"):
            current = line.strip()
        if current.endswith("\\"):
            current = current[:-1]
            continue
        if current:
            commands.append(current)
            current = ""
    return commands


def _program(command: str) -> str:
    """The program a command line runs (past leading ``NAME=value`` assignments)."""
    for word in shlex.split(command, comments=True):
        if "=" in word and re.match(r"^[A-Za-z_]\w*=", word):
            continue
        return word
    return ""


def test_markers_and_fences_are_well_formed() -> None:
    problems = [f"{b.name}: {e}" for b in BLOCKS for e in b.errors]
    for b in BLOCKS:
        for old, _new, _reason in b.replacements:
            if old not in b.code:
                problems.append(f"{b.name}: the marker replaces `{old}`, which the block does not contain")
        if b.lang not in RUNNABLE and (b.skip or b.replacements or b.previous):
            problems.append(f"{b.name}: a {b.lang or 'plain'} block is never run, so it takes no docs-test marker")
        if b.previous is not None and b.previous.skip and not b.skip:
            problems.append(f"{b.name}: it continues {b.previous.name}, which is skipped: skip it too")
    assert not problems, "\n".join(problems)


def test_blocks_that_train_say_what_they_cost() -> None:
    silent = [b.name for b in RUN_BLOCKS if _TRAINS.search(b.code) and not _COST.search(b.before)]
    assert not silent, ("these blocks train, and the text above them does not say how long that takes "
                        f"(\"about N minutes on 2 cores\"): {silent}")


def test_blocks_that_start_processes_run_as_pasted() -> None:
    unguarded = [b.name for b in RUN_BLOCKS if b.lang in ("python", "py") and _STARTS_PROCESSES.search(b.code)
                 and 'if __name__ == "__main__":' not in b.code]
    assert not unguarded, f"these blocks start processes without an `if __name__ == \"__main__\":` guard: {unguarded}"


def test_shell_blocks_run_only_retro_and_python() -> None:
    """A shell block that is run holds ``retro ...`` and ``python3 ...`` commands; anything else is marked."""
    wrong = []
    for b in RUN_BLOCKS:
        if RUNNABLE[b.lang] != "sh" or b.skip:
            continue
        others = [c for c in _shell_commands(b.code) if _program(c) not in ("retro", "python3")]
        if others:
            wrong.append(f"{b.name}: {others}")
    assert not wrong, ("shell blocks run only `retro ...` and `python3 ...` commands; mark the others "
                       "<!-- docs-test: skip (REASON) -->:\n" + "\n".join(wrong))


def _run(block: Block, folder: Path) -> None:
    """Run one block in ``folder`` (after the block it continues, if any); fail the test if it fails."""
    if block.previous is not None:
        _run(block.previous, folder)
    code = block.code
    for old, new, _reason in block.replacements:
        assert old in code, f"the marker replaces `{old}`, which the block does not contain"
        code = code.replace(old, new)
    if RUNNABLE[block.lang] == "python":
        script = folder / f"block-{block.line}.py"
        script.write_text(code)
        argv = [sys.executable, script.name]
    else:
        argv = ["bash", "-e", "-o", "pipefail", "-c", code]
    try:
        # datasets a block writes go to its own folder, not the user's Minari folder
        env = dict(_env(), MINARI_DATASETS_PATH=str(folder / "minari-datasets"))
        done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True,
                              timeout=BLOCK_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{block.name} ran for more than {BLOCK_TIMEOUT} s\n{e.stdout or ''}{e.stderr or ''}")
    if done.returncode != 0:
        pytest.fail(f"{block.name} failed (exit status {done.returncode}):\n"
                    f"{textwrap.indent(code, '    ')}\n--- stdout\n{done.stdout[-4000:]}\n"
                    f"--- stderr\n{done.stderr[-4000:]}")


@pytest.mark.parametrize("block", RUN_BLOCKS, ids=[b.name for b in RUN_BLOCKS])
def test_code_block_runs(block: Block, tmp_path: Path) -> None:
    if block.errors:
        pytest.fail("; ".join(block.errors))
    if block.skip:
        pytest.skip(f"{block.name}: {block.skip}")
    _run(block, tmp_path)


# -- the site ------------------------------------------------------------------------------------------

_BUILD = """
import json, sys
from mkdocs.__main__ import cli

cli.main(["build", "--strict", "--quiet", "--site-dir", sys.argv[1]], standalone_mode=False)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print("HEAVY=" + json.dumps(sorted({{m.split(".")[0] for m in heavy}})))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The site, built as ``mkdocs build --strict`` builds it, and the heavy modules the build imported."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-c", _BUILD.format(heavy=set(HEAVY_MODULES)), str(out)], cwd=ROOT,
                          env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
    heavy = re.search(r"^HEAVY=(.*)$", done.stdout, re.M)
    assert heavy is not None, done.stdout
    import json

    return out, json.loads(heavy.group(1))


def test_site_builds_strictly(site: tuple[Path, list[str]]) -> None:
    out, _heavy = site
    assert (out / "index.html").is_file()
    assert (out / "api" / "retro" / "index.html").is_file()


def test_site_build_imports_no_heavy_library(site: tuple[Path, list[str]]) -> None:
    """The API reference is made by static analysis: Ray, torch, SB3 and PettingZoo are never imported."""
    _out, heavy = site
    assert heavy == [], f"building the docs imported {heavy}"


def _inventory(path: Path) -> set[str]:
    """The object names in a site's ``objects.inv`` (Sphinx's inventory format, version 2)."""
    raw = path.read_bytes()
    header_end = 0
    for _ in range(4):
        header_end = raw.index(b"\n", header_end) + 1
    names = set()
    for line in zlib.decompress(raw[header_end:]).decode("utf-8").splitlines():
        if line.strip():
            names.add(line.split(" ", 1)[0])
    return names


PUBLIC_MODULES = ["retro.data", "retro.vector", "retro.movie", "retro.ale", "retro.sb3", "retro.pettingzoo",
                  "retro.ray", "retro.notebook", "retro.errors", "retro.enums", "retro.actions", "retro.cores",
                  "retro.systems", "retro.session", "retro.paths"]


def _exports(module: str) -> list[str]:
    """A module's ``__all__``, read from its source (without importing it: some need optional libraries)."""
    import ast

    source = (ROOT / (module.replace(".", "/") + ".py"))
    if not source.exists():
        source = ROOT / module.replace(".", "/") / "__init__.py"
    for node in ast.parse(source.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []


def test_api_reference_covers_every_public_name(site: tuple[Path, list[str]]) -> None:
    out, _heavy = site
    names = _inventory(out / "objects.inv")
    missing = []
    for name in _exports("retro"):
        candidates = {f"retro.{name}"} | {f"{module}.{name}" for module in PUBLIC_MODULES}
        if not candidates & names:
            missing.append(f"retro.{name}")
    for module in PUBLIC_MODULES:
        if module not in names:
            missing.append(module)
        for name in _exports(module):
            if f"{module}.{name}" not in names:
                missing.append(f"{module}.{name}")
    assert not missing, f"the API reference has no entry for: {missing}"


def test_public_names_have_docstrings() -> None:
    """Every exported name, and every public method and property of an exported class, says what it is."""
    griffe = pytest.importorskip("griffe")
    extensions = griffe.load_extensions(f"{DOCS / '_griffe' / 'retro_docstrings.py'}:RetroDocstrings")
    loader = griffe.GriffeLoader(search_paths=[str(ROOT)], allow_inspection=False, extensions=extensions)
    loader.load("retro")
    loader.resolve_aliases(implicit=False, external=False)
    seen, bare = set(), []
    for module in ["retro", *PUBLIC_MODULES]:
        mod = loader.modules_collection[module]
        if not (mod.docstring and mod.docstring.value.strip()):
            bare.append(module)
        for name in _exports(module):
            obj = mod[name]
            obj = obj.final_target if obj.is_alias else obj
            items = [obj]
            if obj.is_class:
                items += [m for n, m in obj.members.items() if not n.startswith("_") and not m.is_alias
                          and (m.is_function or "property" in m.labels or m.parent.is_module
                               or any(str(b).endswith(("Enum", "Flag")) for b in obj.bases))]
            for item in items:
                if item.path in seen:
                    continue
                seen.add(item.path)
                if not (item.docstring and item.docstring.value.strip()):
                    bare.append(item.path)
    assert not bare, f"these public names have no docstring: {bare}"


# -- the maps ------------------------------------------------------------------------------------------


def retro_modules() -> list[str]:
    """Every module and folder of ``retro/``, as ``docs/architecture.md`` names them.

    A module is a ``.py``, ``.pyx``, ``.h``, ``.cpp`` or ``.pxd`` file (a ``.pxd`` or ``.pyi`` beside a
    ``.pyx`` of the same name belongs to it); a folder is named with a trailing slash and stands for
    its ``__init__.py``. Generated C files are not modules.
    """
    package = ROOT / "retro"
    out = []
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(ROOT).as_posix()
        if "__pycache__" in path.parts or any(p.endswith(".egg-info") for p in path.parts):
            continue
        if path.is_dir():
            out.append(rel + "/")
        elif path.name == "__init__.py":
            continue  # its folder
        elif path.suffix in (".py", ".pyx", ".h", ".cpp"):
            out.append(rel)
        elif path.suffix == ".pxd" and not path.with_suffix(".pyx").exists():
            out.append(rel)
    return out


def test_architecture_names_every_module() -> None:
    text = (DOCS / "architecture.md").read_text()
    missing = [m for m in retro_modules() if f"`{m}`" not in text]
    assert not missing, f"docs/architecture.md does not name these modules of retro/ (as `path`): {missing}"


def test_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; at most 200 (the rest belongs in docs/)"


def test_docs_spell_commands_as_retro_command() -> None:
    """Commands are spelled ``retro COMMAND``, not ``python3 -m retro COMMAND`` or ``python3 -m retro.import``."""
    old = re.compile(r"python3? -m retro(?: |\.import\b|\.provision\b|\.cores\b)")
    found = [f"{p.relative_to(ROOT)}:{n}" for p in MARKDOWN
             for n, line in enumerate(p.read_text().splitlines(), 1) if old.search(line)]
    assert not found, f"spell these as `retro COMMAND`: {found}"
    seed = [f"{p.relative_to(ROOT)}:{n}" for p in MARKDOWN
            for n, line in enumerate(p.read_text().splitlines(), 1) if "-m retro.scripts.playback_movie" in line]
    assert len(seed) <= 1, f"`retro playback` is mentioned as Gym Retro's playback_movie more than once: {seed}"

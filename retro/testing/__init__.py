"""``retro.testing``: pytest helpers for checking integrations, as Gym Retro's tests use them.

``from retro.testing import game, handle`` gives a test the ``game``
fixture, parametrised over every integration folder: ``(game id,
Integrations flag)`` with ids such as ``Airstriker_Genesis`` (stable),
``Name_System_exp`` (experimental), ``Name_System_contrib`` (contributed),
``Name_System_custom`` (custom folders) and ``Name_System_all`` (every kind,
for a game with more than one). :func:`handle` reports a check's
``(warnings, errors)`` (see :mod:`retro.testing.tools`): each warning as a
Python warning, and fails the test if there are errors; everything is also
collected in :data:`warnings` and :data:`errors`. The ``testenv`` fixture
makes envs of the ROMs in a folder of test ROMs (``RETRO_TEST_ROMS``).

Gym Retro's tests::

    from retro.testing import game, handle
    import retro.testing.tools

    def test_data(game):
        warnings, errors = retro.testing.tools.verify_data(*game)
        handle(warnings, errors)

Importing this module imports pytest and lists every integration.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import warnings as _w
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import retro
import retro.data
from retro.data import Integrations
from retro.systems import EMU_EXTENSIONS
from retro.testing import tools

__all__ = ["warnings", "errors", "games", "all_games", "inttypes", "game", "error", "warn", "handle",
           "branch_new", "testenv", "game_params", "test_roms", "tools"]

warnings: list[tuple[str, str]] = []
"""Every warning :func:`handle` reported in this process, as ``(file or game, message)``."""
errors: list[tuple[str, str]] = []
"""Every error :func:`handle` reported in this process, as ``(file or game, message)``."""

inttypes = {
    "exp": Integrations.EXPERIMENTAL_ONLY,
    "contrib": Integrations.CONTRIB_ONLY,
    "custom": Integrations.CUSTOM_ONLY,
    "all": Integrations.ALL,
}
"""A ``game`` parameter's suffix -> the integration kinds it checks (no suffix: ``STABLE``)."""


def game_params() -> dict[str, tuple[str, Integrations]]:
    """``{parameter id: (game, flag)}`` for every integration folder, as the ``game`` fixture is parametrised.

    The id is the game id with ``-`` as ``_``, and for a folder that is not
    a stable one the kind's suffix (see :data:`inttypes`); a game with
    folders of several kinds also gets ``_all``.
    """
    params: dict[str, tuple[str, Integrations]] = {}
    for name in retro.data.list_games(Integrations.ALL):
        kinds = tools._kinds(name)
        base = name.replace("-", "_")
        for suffix, flag in kinds:
            params[base + ("_" + suffix if suffix else "")] = (name, flag)
        if len(kinds) > 1:
            params[base + "_all"] = (name, Integrations.ALL)
    return params


_PARAMS = game_params()
games: list[str] = retro.data.list_games(Integrations.ALL)
"""Every integration's game id (any kind), when this module was imported."""
all_games: list[str] = [name + pid[len(name):].replace("_", "-") for pid, (name, _flag) in _PARAMS.items()]
"""The ``game`` fixture's parameters in Gym Retro's spelling: ``Game-System``, ``Game-System-exp``, ..."""


@pytest.fixture(params=list(_PARAMS))
def game(request: Any) -> tuple[str, Integrations]:
    """``(game id, Integrations flag)`` of one integration folder (see :func:`game_params`)."""
    return _PARAMS[request.param]


def error(test: str, info: str) -> None:
    """Record an error (see :data:`errors`)."""
    errors.append((test, info))


def warn(test: str, info: str) -> None:
    """Record a warning (see :data:`warnings`) and issue it as a Python ``UserWarning``."""
    _w.warn(f"{test}: {info}", stacklevel=2)
    warnings.append((test, info))


def handle(warnings: list[tuple[str, str]], errors: list[tuple[str, str]]) -> None:
    """Report a check's result: each warning with :func:`warn`, each error with :func:`error`; fail if any error."""
    for warning in warnings:
        warn(*warning)
    for err in errors:
        error(*err)
    assert not errors, "; ".join(f"{f}: {m}" for f, m in errors)


def branch_new(upstream: str = "master", downstream: str | None = None) -> list[str]:
    """The ``game`` parameter ids (``Name_System``) of integrations whose files git says differ between branches.

    ``git diff --name-only upstream [downstream]`` in the working directory;
    an empty list where git fails.
    """
    branches = [upstream] + ([downstream] if downstream else [])
    try:
        diffs = subprocess.check_output(["git", "diff", "--name-only", *branches], stderr=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        return []
    changed = set()
    for name in diffs.decode("utf-8", "replace").splitlines():
        for part in Path(name).parts:
            if "-" in part:
                changed.add(part.replace("-", "_"))
                break
    return sorted(changed)


def test_roms() -> list[Path]:
    """The ROM files of the test-ROM folder: ``RETRO_TEST_ROMS``, else ``tests/roms`` of a source checkout.

    Files whose extension tells a system; none where the folder does not exist.
    """
    env = os.environ.get("RETRO_TEST_ROMS")
    folder = Path(env) if env else Path(__file__).resolve().parent.parent.parent / "tests" / "roms"
    try:
        files = sorted(folder.iterdir())
    except OSError:
        return []
    return [f for f in files if f.is_file() and f.suffix.lower() in EMU_EXTENSIONS]


test_roms.__test__ = False  # type: ignore[attr-defined]  # not a test, though its name starts so


def _integrate(rom: Path, root: Path) -> str:
    """A custom integration of ``rom`` under ``root``, with no variables; its game id."""
    system = EMU_EXTENSIONS[rom.suffix.lower()]
    game = f"{rom.stem.replace('-', '').replace('_', '')}-{system}"
    folder = root / game
    folder.mkdir(parents=True)
    data = rom.read_bytes()
    shutil.copyfile(rom, folder / ("rom" + rom.suffix.lower()))
    body = data[16:] if system == "Nes" else data
    (folder / "rom.sha").write_text(hashlib.sha1(body).hexdigest() + "\n")
    (folder / "data.json").write_text(json.dumps({"info": {}}))
    (folder / "scenario.json").write_text(json.dumps({"done": {"variables": {}}, "reward": {"variables": {}}}))
    (folder / "metadata.json").write_text(json.dumps({}))
    return game


@pytest.fixture(params=[r.stem for r in test_roms()])
def testenv(request: Any) -> Iterator[Callable[..., Any]]:
    """``create(state=retro.State.NONE, *args, **kwargs)``, which makes an env of one test ROM (closed afterwards).

    Each ROM of :func:`test_roms` gets a temporary custom integration with no
    variables (a ``done`` that never holds, a reward of 0).
    """
    rom = next(r for r in test_roms() if r.stem == request.param)
    root = Path(tempfile.mkdtemp(prefix="retro-testenv-"))
    game_id = _integrate(rom, root)
    saved = Integrations.custom_paths()
    Integrations.add_custom_path(str(root))
    made: list[Any] = []

    def create(state: Any = retro.State.NONE, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("inttype", Integrations.CUSTOM_ONLY)
        env = retro.make(game_id, state, *args, **kwargs)
        made.append(env)
        return env

    try:
        yield create
    finally:
        for env in made:
            env.close()
        Integrations.clear_custom_paths()
        for folder in saved:
            Integrations.add_custom_path(folder)
        shutil.rmtree(root, ignore_errors=True)

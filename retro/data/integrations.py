"""Where integrations live and how games, states and scenarios are found.

An integration is a directory ``<Game>-<System>`` holding ``data.json``,
``scenario.json``, ``metadata.json``, ``rom.sha`` and ``*.state`` files. The
data root (:func:`path`) has one folder per kind: ``stable``,
``experimental`` and ``contrib``; custom integrations live anywhere
(:meth:`Integrations.add_custom_path`). The data root is ``RETRO_DATA_PATH``
if set, else the ``integrations`` folder of a source checkout (next to the
``retro`` package), else one inside the package.

Which kinds are searched is an :class:`Integrations` flag. The search order
is always contrib, experimental, custom paths (in the order added), stable;
the first hit wins. ``Integrations.DEFAULT`` stands for the process default
(initially ``STABLE``), resolved whenever it is used, so it works as a
default argument; :func:`add_integrations`, :func:`add_custom_integration`
and :meth:`DefaultIntegrations.reset` change it.

Game ids may carry stable-retro's ``-v0`` suffix (``Airstriker-Genesis-v0``):
it is an alias of the plain id, and a directory of either spelling is found.
"""

from __future__ import annotations

import glob
import json
import os
from enum import Flag
from pathlib import Path
from typing import Any, Iterator, Optional

from retro.errors import GameNotFoundError
from retro.systems import EMU_EXTENSIONS

__all__ = [
    "Integrations", "DefaultIntegrations", "add_integrations", "add_custom_integration",
    "path", "DATA_PATH", "get_file_path", "get_romfile_path", "list_games", "list_states",
    "list_scenarios", "canonical_game", "game_system", "imported_games_dir", "integration_dirs",
]

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_DEFAULT_BIT = 16


def _default_data_path() -> str:
    for candidate in (_PACKAGE_DIR.parent / "integrations", _PACKAGE_DIR / "integrations"):
        if candidate.is_dir():
            return str(candidate)
    return str(_PACKAGE_DIR.parent / "integrations")


#: The data root of this installation (``RETRO_DATA_PATH`` aside).
DATA_PATH = _default_data_path()


class Integrations(Flag):
    """Which kinds of integration to search (a ``Flag``: combine with ``|``).

    ``DEFAULT`` is the process default (see the module docs): every
    operation on it (``.paths``, ``str``, ``|``, ``&``, ``in``) uses the
    default of the moment.
    """

    STABLE = 1
    EXPERIMENTAL_ONLY = 2
    CONTRIB_ONLY = 4
    CUSTOM_ONLY = 8
    EXPERIMENTAL = 3
    CONTRIB = 5
    CUSTOM = 9
    ALL = 15
    DEFAULT = _DEFAULT_BIT

    # -- the dynamic DEFAULT -------------------------------------------------------------

    def resolve(self) -> "Integrations":
        """This flag with ``DEFAULT`` replaced by the current process default."""
        if self._value_ & _DEFAULT_BIT:
            rest = self._value_ & ~_DEFAULT_BIT
            return Integrations(DefaultIntegrations.DEFAULT._value_ | rest)
        return self

    def __or__(self, other: Any) -> "Integrations":
        if not isinstance(other, Integrations):
            return NotImplemented
        return Integrations(self.resolve()._value_ | other.resolve()._value_)

    def __and__(self, other: Any) -> "Integrations":
        if not isinstance(other, Integrations):
            return NotImplemented
        return Integrations(self.resolve()._value_ & other.resolve()._value_)

    def __xor__(self, other: Any) -> "Integrations":
        if not isinstance(other, Integrations):
            return NotImplemented
        return Integrations(self.resolve()._value_ ^ other.resolve()._value_)

    __ror__ = __or__
    __rand__ = __and__
    __rxor__ = __xor__

    def __sub__(self, other: Any) -> "Integrations":
        if not isinstance(other, Integrations):
            return NotImplemented
        return Integrations(self.resolve()._value_ & ~other.resolve()._value_)

    def __invert__(self) -> "Integrations":
        return Integrations(Integrations.ALL._value_ & ~self.resolve()._value_)

    def __contains__(self, other: Any) -> bool:
        if not isinstance(other, Integrations):
            raise TypeError(f"unsupported operand type for 'in': {type(other).__name__}")
        mine, theirs = self.resolve()._value_, other.resolve()._value_
        return mine & theirs == theirs

    def __bool__(self) -> bool:
        return bool(self.resolve()._value_)

    # -- search order ----------------------------------------------------------------------

    @property
    def paths(self) -> list[str]:
        """Folders to search, relative to the data root unless absolute, in search order."""
        value = self.resolve()._value_
        out = []
        if value & Integrations.CONTRIB_ONLY._value_:
            out.append("contrib")
        if value & Integrations.EXPERIMENTAL_ONLY._value_:
            out.append("experimental")
        if value & Integrations.CUSTOM_ONLY._value_:
            out.extend(_CUSTOM_PATHS)
        if value & Integrations.STABLE._value_:
            out.append("stable")
        return out

    def __str__(self) -> str:
        value = self.resolve()._value_
        if value == Integrations.ALL._value_:
            return "all"
        if value == Integrations.STABLE._value_:
            return ""
        names = []
        for member, name in ((Integrations.STABLE, "stable"), (Integrations.CONTRIB_ONLY, "contrib"),
                             (Integrations.EXPERIMENTAL_ONLY, "experimental"),
                             (Integrations.CUSTOM_ONLY, "custom")):
            if value & member._value_:
                names.append(name)
        return "|".join(names)

    @classmethod
    def add_custom_path(cls, path: str | os.PathLike[str]) -> None:
        """Add a folder of custom integrations (absolute, or relative to the data root)."""
        _CUSTOM_PATHS.append(os.fspath(path))

    @classmethod
    def clear_custom_paths(cls) -> None:
        del _CUSTOM_PATHS[:]

    @classmethod
    def custom_paths(cls) -> list[str]:
        return list(_CUSTOM_PATHS)


_CUSTOM_PATHS: list[str] = []


class DefaultIntegrations:
    """Holds the process default that ``Integrations.DEFAULT`` stands for."""

    DEFAULT: Integrations = Integrations.STABLE

    @classmethod
    def add(cls, extra: Integrations) -> None:
        cls.DEFAULT = Integrations(cls.DEFAULT._value_ | extra.resolve()._value_)

    @classmethod
    def reset(cls) -> None:
        cls.DEFAULT = Integrations.STABLE


def add_integrations(flags: Integrations) -> None:
    """Add kinds of integration to the process default."""
    DefaultIntegrations.add(flags)


def add_custom_integration(path: str | os.PathLike[str]) -> None:
    """Search a folder of custom integrations by default."""
    DefaultIntegrations.add(Integrations.CUSTOM_ONLY)
    Integrations.add_custom_path(path)


# -- data root and lookups ------------------------------------------------------------------

def path(hint: Optional[str | os.PathLike[str]] = None) -> str:
    """The data root: ``RETRO_DATA_PATH``, else the ``integrations`` folder.

    With ``hint``, the first ``integrations`` folder found walking up from
    ``hint`` is used instead of this installation's. Not cached, unlike Gym
    Retro, so setting ``RETRO_DATA_PATH`` takes effect at once.
    """
    env = os.environ.get("RETRO_DATA_PATH")
    if env:
        return env
    if hint is not None:
        here = Path(os.fspath(hint)).resolve()
        for d in (here, *here.parents):
            if d.name == "integrations" and d.is_dir():
                return str(d)
            if (d / "integrations").is_dir():
                return str(d / "integrations")
    return _default_data_path()


def canonical_game(game: str) -> str:
    """The game id without stable-retro's ``-v0`` suffix."""
    return game[:-3] if game.endswith("-v0") else game


def _spellings(game: str) -> tuple[str, ...]:
    base = canonical_game(game)
    return (game, base) if game != base else (game, game + "-v0")


def game_system(game: str) -> Optional[str]:
    """The system named by a game id's suffix (``Airstriker-Genesis`` -> ``Genesis``)."""
    base = canonical_game(game)
    systems = sorted(set(EMU_EXTENSIONS.values()), key=len, reverse=True)
    for system in systems:
        if base.endswith("-" + system):
            return system
    return None


def integration_dirs(inttype: Integrations = Integrations.DEFAULT) -> list[str]:
    """Absolute folders searched for ``inttype``, in search order."""
    root = path()
    return [os.path.join(root, p) for p in inttype.paths]


def _game_dirs(game: str, inttype: Integrations) -> Iterator[str]:
    for base in integration_dirs(inttype):
        for name in _spellings(game):
            d = os.path.join(base, name)
            if os.path.isdir(d):
                yield d


def get_file_path(game: str, file: str, inttype: Integrations = Integrations.DEFAULT) -> Optional[str]:
    """The path of ``file`` in the first integration of ``game`` that has it, else None."""
    for d in _game_dirs(game, inttype):
        candidate = os.path.join(d, file)
        if os.path.exists(candidate):
            return candidate
    return None


def imported_games_dir() -> Path:
    """Where :func:`~retro.data.merge` puts imported ROMs: ``$RETRO_HOME/games``."""
    from retro import paths

    return paths.retro_home() / "games"


def _rom_extensions(game: str) -> list[str]:
    system = game_system(game)
    exts = [ext for ext, sys in EMU_EXTENSIONS.items() if system is None or sys == system]
    return exts


def get_romfile_path(game: str, inttype: Integrations = Integrations.DEFAULT) -> str:
    """The ROM of ``game``: ``rom.<ext>`` in its integration folders, then in the imported-ROM store.

    Raises :class:`~retro.errors.GameNotFoundError` (a ``FileNotFoundError``)
    ``"No romfiles found for game: <game>"`` if there is none.
    """
    exts = _rom_extensions(game)
    for d in _game_dirs(game, inttype):
        for ext in exts:
            candidate = os.path.join(d, "rom" + ext)
            if os.path.isfile(candidate):
                return candidate
    store = imported_games_dir()
    for name in _spellings(game):
        for ext in exts:
            imported = store / name / ("rom" + ext)
            if imported.is_file():
                return str(imported)
    raise GameNotFoundError(f"No romfiles found for game: {game}")


def list_games(inttype: Integrations = Integrations.DEFAULT) -> list[str]:
    """Sorted ids of the integrations (folders with a ``rom.sha``); ROMs need not be present."""
    games = set()
    for base in integration_dirs(inttype):
        for sha in glob.glob(os.path.join(glob.escape(base), "*", "rom.sha")):
            games.add(os.path.basename(os.path.dirname(sha)))
    return sorted(games)


def list_states(game: str, inttype: Integrations = Integrations.DEFAULT) -> list[str]:
    """Sorted names of ``game``'s save states (without ``.state``; names starting ``_`` hidden)."""
    states = set()
    for d in _game_dirs(game, inttype):
        for f in os.listdir(d):
            if f.endswith(".state") and not f.startswith("_"):
                states.add(f[: -len(".state")])
    return sorted(states)


def list_scenarios(game: str, inttype: Integrations = Integrations.DEFAULT) -> list[str]:
    """Sorted names of ``game``'s scenarios: JSON files with a ``reward``, ``rewards`` or ``done`` key."""
    scens = set()
    for d in _game_dirs(game, inttype):
        for f in os.listdir(d):
            if not f.endswith(".json"):
                continue
            try:
                with open(os.path.join(d, f), encoding="utf-8") as fh:
                    doc = json.load(fh)
            except (OSError, ValueError):
                continue
            if isinstance(doc, dict) and ({"reward", "rewards", "done"} & doc.keys()):
                scens.add(f[: -len(".json")])
    return sorted(scens)

"""Where integrations live and how games, states and scenarios are found.

An integration is a directory ``<Game>-<System>`` holding ``data.json``,
``scenario.json``, ``metadata.json``, ``rom.sha`` and ``*.state`` files.
Integrations come from three sources, searched in this order for each game:

1. custom paths (:meth:`Integrations.add_custom_path`), when the flag
   includes ``CUSTOM_ONLY``;
2. the game library: stable-retro's integration folders, which set-up
   provisions read-only into ``RETRO_HOME/library`` (``stable/<Game>-v0``,
   ``experimental/<Game>``, ``contrib/<Game>``). A game id finds its folders
   exactly as stable-retro's ``get_file_path`` does (kinds in the order
   contrib, experimental, stable, as the flag allows), by its exact name
   first; the folders of the other spelling (``-v0`` added or removed)
   follow, for files the exact ones lack. So ``Pong-Atari2600-v0`` and
   ``Pong-Atari2600`` name the same game, and a stable-retro id never reads
   an experimental folder's files in place of its own. (38 experimental
   folders hold only a ``data.json`` for a stable game: the Gym Retro
   spelling with experimental integrations searched reads it, over the
   stable game's other files, as Gym Retro layered them);
3. this project's own integrations: the data root (:func:`path`, with
   ``stable``, ``experimental`` and ``contrib`` folders). For a game the
   library has, they are named variants (files whose names the library's
   folder does not use, such as a ``retro.json`` scenario and
   ``retro.*.state`` states): the library's ``data.json``,
   ``scenario.json``, ``metadata.json`` and ``rom.sha`` are never replaced
   by this project's. For other games they are the integration.

The data root is ``RETRO_DATA_PATH`` if set, else the ``integrations`` folder
of a source checkout (next to the ``retro`` package), else one inside the
package; the library is ``RETRO_LIBRARY_PATH`` if set, else
``RETRO_HOME/library``.

A game is played with a scenario (``scenario.json``, or a variant such as
``retro.json``), variables (``data.json``, or the scenario's own ``info``),
its ``metadata.json`` and its ``rom.sha``; a scenario may also give the
keys of :data:`VARIANT_KEYS`, which then take the place of
``metadata.json``'s (:func:`with_variant`). :meth:`GameFiles.open` finds
these files and reads the scenario and the metadata strictly (a bad file is
an :class:`~retro.errors.IntegrationError`), as a game being played does;
:func:`read_metadata` reads one folder's ``metadata.json`` (its state
recipes); :func:`read_or_empty`, :func:`game_metadata`, :func:`declared_in`
and :func:`declared` read for listings, where a file that cannot be read
declares nothing. Every one parses with :func:`read_json_object`, whose
numbers :mod:`retro.data.numbers` range-checks.

Which kinds are searched is an :class:`Integrations` flag.
``Integrations.DEFAULT`` stands for the process default (initially
``STABLE``), resolved whenever it is used, so it works as a default
argument; :func:`add_integrations`, :func:`add_custom_integration` and
:meth:`DefaultIntegrations.reset` change it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import EnumMeta, Flag
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

from retro._fileutil import read_regular
from retro.data.numbers import check_input_routes
from retro.errors import GameNotFoundError, IntegrationError
from retro.policy import GYM_RETRO, ApiPolicy
from retro.systems import EMU_EXTENSIONS, SYSTEM_ALIASES, canonical_system

__all__ = [
    "Integrations", "DefaultIntegrations", "add_integrations", "add_custom_integration",
    "path", "DATA_PATH", "ale_variants", "get_file_path", "get_romfile_path", "list_games", "list_states",
    "list_scenarios", "canonical_game", "game_system", "imported_games_dir", "integration_dirs",
    "library_path", "game_dirs", "STANDARD_FILES", "read_json_object", "get_original_romfile_path",
    "original_rom_name", "VARIANT_KEYS", "GameFiles", "json_path", "read_metadata", "with_variant", "read_or_empty",
    "game_metadata", "declared_in", "declared",
]

#: The files that define an integration; for a game the library has, only its folders supply them.
STANDARD_FILES = frozenset({"data.json", "scenario.json", "metadata.json", "rom.sha"})
_KINDS = (("contrib", 4), ("experimental", 2), ("stable", 1))

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_DEFAULT_BIT = 16


def _default_data_path() -> str:
    for candidate in (_PACKAGE_DIR.parent / "integrations", _PACKAGE_DIR / "integrations"):
        if candidate.is_dir():
            return str(candidate)
    return str(_PACKAGE_DIR.parent / "integrations")


DATA_PATH = _default_data_path()
"""The data root of this installation (``RETRO_DATA_PATH`` aside)."""


class _IntegrationsType(EnumMeta):
    """``Integrations``' metaclass: gives the class Gym Retro's ``CUSTOM_PATHS`` list."""

    @property
    def CUSTOM_PATHS(cls) -> list[str]:
        """The folders of custom integrations, in search order: the list itself, so appending adds one."""
        return _CUSTOM_PATHS

    @CUSTOM_PATHS.setter
    def CUSTOM_PATHS(cls, paths: list[str]) -> None:
        _CUSTOM_PATHS[:] = [os.fspath(p) for p in paths]


class Integrations(Flag, metaclass=_IntegrationsType):
    """Which kinds of integration to search (a ``Flag``: combine with ``|``).

    ``DEFAULT`` is the process default (see the module docs): every
    operation on it (``.paths``, ``str``, ``|``, ``&``, ``in``) uses the
    default of the moment. ``Integrations.CUSTOM_PATHS`` is the list of
    custom folders (Gym Retro's class attribute), the one
    :meth:`add_custom_path` appends to.
    """

    STABLE = 1
    """stable-retro's stable integrations (``stable/``), and this project's."""
    EXPERIMENTAL_ONLY = 2
    """Experimental integrations only."""
    CONTRIB_ONLY = 4
    """Contributed integrations only."""
    CUSTOM_ONLY = 8
    """The folders added with :meth:`add_custom_path` only."""
    EXPERIMENTAL = 3
    """Stable and experimental."""
    CONTRIB = 5
    """Stable and contributed."""
    CUSTOM = 9
    """Stable and custom."""
    ALL = 15
    """Every kind: stable, experimental, contributed and custom."""
    DEFAULT = _DEFAULT_BIT
    """The process default of the moment (see :class:`DefaultIntegrations`)."""

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
    def named(cls, value: Any) -> "Integrations":
        """``value`` as an ``Integrations``: one already, a member's name (``"ALL"``, any case), or None (``STABLE``).

        Names let Gymnasium's registry (and any JSON config) carry an
        ``inttype``; anything else is a ``ValueError`` that lists the names.
        """
        if value is None:
            return cls.STABLE
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        raise IntegrationError(f"inttype must be a retro.data.Integrations or one of its names "
                               f"{sorted(cls.__members__)}, got {value!r}")

    @classmethod
    def add_custom_path(cls, path: str | os.PathLike[str]) -> None:
        """Add a folder of custom integrations (absolute, or relative to the data root)."""
        _CUSTOM_PATHS.append(os.fspath(path))

    @classmethod
    def clear_custom_paths(cls) -> None:
        """Forget every folder :meth:`add_custom_path` added."""
        del _CUSTOM_PATHS[:]

    @classmethod
    def custom_paths(cls) -> list[str]:
        """The folders of custom integrations, in the order they are searched."""
        return list(_CUSTOM_PATHS)

    @property
    def CUSTOM_PATHS(self) -> list[str]:
        """The folders of custom integrations (``Integrations.CUSTOM_PATHS``, read through a member)."""
        return _CUSTOM_PATHS


_CUSTOM_PATHS: list[str] = []


class DefaultIntegrations:
    """Holds the process default that ``Integrations.DEFAULT`` stands for."""

    DEFAULT: Integrations = Integrations.STABLE

    @classmethod
    def add(cls, extra: Integrations) -> None:
        """Add the kinds in ``extra`` to the process default."""
        cls.DEFAULT = Integrations(cls.DEFAULT._value_ | extra.resolve()._value_)

    @classmethod
    def reset(cls) -> None:
        """Make the process default ``Integrations.STABLE`` again."""
        cls.DEFAULT = Integrations.STABLE


def add_integrations(integrations: Optional[Integrations] = None, *, flags: Optional[Integrations] = None) -> None:
    """Add kinds of integration to the process default (``flags=`` is the same argument, by its former name)."""
    if (integrations is None) == (flags is None):
        raise TypeError("add_integrations() takes one Integrations flag: integrations=")
    DefaultIntegrations.add(Integrations.named(integrations if integrations is not None else flags))


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
    """The system named by a game id's suffix (``Airstriker-Genesis`` -> ``Genesis``; an alias gives its system)."""
    base = canonical_game(game)
    systems = sorted({*EMU_EXTENSIONS.values(), *SYSTEM_ALIASES}, key=len, reverse=True)
    for system in systems:
        if base.endswith("-" + system):
            return canonical_system(system)
    return None


def read_json_object(path: str | os.PathLike[str]) -> dict[str, Any]:
    """An integration's JSON file that must hold an object (``IntegrationError`` otherwise).

    The numbers of ``input_routes`` are checked here (:mod:`retro.data.numbers`).
    """
    try:
        doc = json.loads(read_regular(path))
    except OSError as e:
        raise IntegrationError(f"cannot read {os.fspath(path)}: {e.strerror or e}") from e
    except (ValueError, RecursionError) as e:
        raise IntegrationError(f"{os.fspath(path)}: not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise IntegrationError(f"{os.fspath(path)}: expected a JSON object, got {type(doc).__name__}")
    if "input_routes" in doc:  # the numbers of metadata.json and scenario variants the session reads
        check_input_routes(doc["input_routes"], f"{os.fspath(path)}: input_routes")
    return doc


def library_path() -> str:
    """The game library's root: ``RETRO_LIBRARY_PATH``, else ``RETRO_HOME/library``."""
    env = os.environ.get("RETRO_LIBRARY_PATH")
    if env:
        return env
    from retro import paths

    return str(paths.library_dir())


def _custom_roots(value: int) -> list[str]:
    """The custom folders: an absolute one as is; a relative one in the game library's root, then in :func:`path`.

    Gym Retro and stable-retro resolve a relative custom path in their one data
    root, which holds ``stable/``; here that root is two, the library's and this
    project's, searched in that order as the kinds themselves are.
    """
    if not value & Integrations.CUSTOM_ONLY._value_:
        return []
    roots = [library_path(), path()]
    out: list[str] = []
    for p in _CUSTOM_PATHS:
        out += [p] if os.path.isabs(p) else [os.path.join(root, p) for root in roots]
    return out


def integration_dirs(inttype: Integrations = Integrations.DEFAULT) -> list[str]:
    """Absolute folders of integrations searched for ``inttype``, in search order.

    Custom paths, then the library's kinds, then this project's own kinds.
    """
    value = inttype.resolve()._value_
    library, own = library_path(), path()
    kinds = [kind for kind, bit in _KINDS if value & bit]
    return (_custom_roots(value) + [os.path.join(library, k) for k in kinds]
            + [os.path.join(own, k) for k in kinds])


def _library_dirs(game: str, value: int) -> list[str]:
    root = library_path()
    kinds = [kind for kind, bit in _KINDS if value & bit]
    # the exact name first, as stable-retro looks it up; the other spelling only after it
    return [d for name in _spellings(game) for d in (os.path.join(root, k, name) for k in kinds)
            if os.path.isdir(d)]


#: Longest file name (bytes) a game id or an integration file name may have: a folder's name limit.
MAX_NAME_BYTES = 255


def is_plain_name(name: str) -> bool:
    """Whether ``name`` names a game or a file inside an integration folder, not a path elsewhere.

    A name has no path separator or NUL, is not ``.`` or ``..``, and fits in
    a folder entry (:data:`MAX_NAME_BYTES`).
    """
    return (isinstance(name, str) and bool(name) and name not in (".", "..")
            and not any(c in name for c in "/\\\0")
            and len(name.encode("utf-8", "surrogateescape")) <= MAX_NAME_BYTES)


def game_dirs(game: str, inttype: Integrations = Integrations.DEFAULT) -> list[tuple[str, str]]:
    """``[(source, folder)]`` of ``game`` in search order; source is ``custom``, ``library`` or ``retro``.

    A game id is a name (``Pong-Atari2600``), never a path: one with a path
    separator has no folders. The empty id names the integration folders
    themselves (``get_file_path("", file)`` is ``file`` beside the games, as
    Gym Retro's and stable-retro's ``os.path.join`` make it).
    """
    value = inttype.resolve()._value_
    if game == "":
        sources = {d: "custom" for d in _custom_roots(value)}
        library = library_path()
        return [(sources.get(d) or ("library" if d.startswith(os.path.join(library, "")) else "retro"), d)
                for d in integration_dirs(inttype) if os.path.isdir(d)]
    if not is_plain_name(game):
        return []
    out = [("custom", d) for base in _custom_roots(value) for name in _spellings(game)
           if os.path.isdir(d := os.path.join(base, name))]
    out += [("library", d) for d in _library_dirs(game, value)]
    own = path()
    out += [("retro", d) for kind, bit in _KINDS if value & bit for name in _spellings(game)
            if os.path.isdir(d := os.path.join(own, kind, name))]
    return out


def _game_dirs(game: str, inttype: Integrations, file: Optional[str] = None) -> Iterator[str]:
    dirs = game_dirs(game, inttype)
    in_library = any(source == "library" for source, _ in dirs)
    for source, d in dirs:
        if source == "retro" and in_library and file in STANDARD_FILES:
            continue  # the library's integration is the game's; this project's files are variants
        yield d


def get_file_path(game: str, file: str, inttype: Integrations = Integrations.DEFAULT) -> Optional[str]:
    """The path of ``file`` in the first integration folder of ``game`` that has it, else None.

    ``file`` is a name inside the folder: one with a path separator is in none.
    """
    if not is_plain_name(file):
        return None
    for d in _game_dirs(game, inttype, file):
        candidate = os.path.join(d, file)
        if os.path.exists(candidate):  # readers refuse what is not a regular file, with a clear error
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
    if not is_plain_name(game):
        raise GameNotFoundError(f"No romfiles found for game: {game[:80]!r} is not a game id (a game id is a "
                                f"folder's name, like 'Pong-Atari2600', not a path)")
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


def original_rom_name(game: str, inttype: Integrations = Integrations.DEFAULT) -> Optional[str]:
    """The ``original_rom_name`` of ``game``'s ``metadata.json`` (an arcade set's file name), if a plain name."""
    name = game_metadata(game, inttype).get("original_rom_name")
    return name if isinstance(name, str) and is_plain_name(name) else None


def get_original_romfile_path(game: str, inttype: Integrations = Integrations.DEFAULT) -> str:
    """The ROM of ``game`` under its original file name, if its metadata names one; else :func:`get_romfile_path`.

    stable-retro's ``get_original_romfile_path``: FBNeo identifies an arcade
    ROM set by its file name (``mk2.zip``), which ``metadata.json`` gives as
    ``original_rom_name``. The file is looked for in the game's integration
    folders, then in the imported-ROM store (where :func:`~retro.data.merge`
    puts it beside ``rom.zip``).
    """
    name = original_rom_name(game, inttype)
    if name is not None:
        found = get_file_path(game, name, inttype)
        if found is not None and os.path.isfile(found):
            return found
        for spelling in _spellings(game):
            imported = imported_games_dir() / spelling / name
            if imported.is_file():
                return str(imported)
    return get_romfile_path(game, inttype)


def list_games(inttype: Integrations = Integrations.DEFAULT, *, policy: ApiPolicy = GYM_RETRO) -> list[str]:
    """Sorted ids of the integrations (folders with a ``rom.sha``), in Gym Retro's spelling (no ``-v0``).

    ROMs need not be present. Each id is listed once, whichever sources have it.
    With ``policy=STABLE_RETRO`` (:mod:`retro.policy`), the ids are the
    custom and library folders' names as stable-retro lists them
    (``Pong-Atari2600-v0``), without this project's own integrations.
    """
    games = set()
    own = {os.path.join(path(), kind) for kind, _bit in _KINDS}
    for base in integration_dirs(inttype):
        if not os.path.isdir(base) or (not policy.own_variants and base in own):
            continue
        for name in os.listdir(base):
            if os.path.isfile(os.path.join(base, name, "rom.sha")):
                games.add(name if policy.versioned_ids else canonical_game(name))
    return sorted(games)


def _listed_dirs(game: str, inttype: Integrations, policy: ApiPolicy) -> Iterator[str]:
    """The folders whose states and scenarios ``list_states``/``list_scenarios`` list, under ``policy``.

    Gym Retro's: every folder of the game (both spellings, this project's
    variants included). stable-retro's: the custom and library folders
    named exactly ``game``.
    """
    if policy.own_variants:
        yield from _game_dirs(game, inttype)
        return
    for source, d in game_dirs(game, inttype):
        if source != "retro" and os.path.basename(d) == game:
            yield d


def ale_variants() -> list[str]:
    """Atari 2600 games with this project's ``retro`` variant (``scenario="retro"``), which plays on the ALE core.

    Their start states carry recipes, so they are made on whichever core
    plays them; these games get Gymnasium's ``RetroALE/<Name>-v5`` ids.
    """
    root = os.path.join(path(), "stable")
    try:
        names = os.listdir(root)
    except OSError:
        return []
    return sorted(canonical_game(n) for n in names
                  if n.endswith("-Atari2600") and os.path.isfile(os.path.join(root, n, "retro.json")))


def list_states(game: str, inttype: Integrations = Integrations.DEFAULT, *,
                policy: ApiPolicy = GYM_RETRO) -> list[str]:
    """Sorted names of ``game``'s save states (without ``.state``; names starting ``_`` hidden)."""
    states = set()
    for d in _listed_dirs(game, inttype, policy):
        for f in os.listdir(d):
            if f.endswith(".state") and not f.startswith("_"):
                states.add(f[: -len(".state")])
    return sorted(states)


def list_scenarios(game: str, inttype: Integrations = Integrations.DEFAULT, *,
                   policy: ApiPolicy = GYM_RETRO) -> list[str]:
    """Sorted names of ``game``'s scenarios: JSON files with a ``reward``, ``rewards`` or ``done`` key."""
    scens = set()
    for d in _listed_dirs(game, inttype, policy):
        for f in os.listdir(d):
            if not f.endswith(".json"):
                continue
            try:
                doc = json.loads(read_regular(os.path.join(d, f)))
            except (OSError, ValueError, RecursionError):
                continue
            if isinstance(doc, dict) and ({"reward", "rewards", "done"} & doc.keys()):
                scens.add(f[: -len(".json")])
    return sorted(scens)


# -- a game's files, as a scenario variant sees them ------------------------------------------

#: The keys of ``metadata.json`` that a scenario variant gives in its place.
VARIANT_KEYS = ("input_routes", "default_state", "default_player_state")


def json_path(game: str, name: str, inttype: Integrations = Integrations.DEFAULT) -> Optional[str]:
    """A JSON file of ``game`` by name (``"data"``, ``"retro"``), or ``name`` itself if it is a path ending ``.json``.

    None if the game has no such file.
    """
    if name.endswith(".json"):
        return name
    return get_file_path(game, name + ".json", inttype)


def read_metadata(path: Optional[str | os.PathLike[str]]) -> dict[str, Any]:
    """A ``metadata.json`` as an object (:func:`read_json_object`); empty if ``path`` is None or names nothing."""
    if path is None or not os.path.exists(path):
        return {}
    return read_json_object(path)


def with_variant(metadata: Mapping[str, Any], variant: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata`` with the :data:`VARIANT_KEYS` that ``variant`` (a scenario) gives in place of its own."""
    out = dict(metadata)
    out.update((key, variant[key]) for key in VARIANT_KEYS if key in variant)
    return out


@dataclass(frozen=True)
class GameFiles:
    """The files a game is played with under one scenario (:meth:`open`).

    ``scenario_path`` and ``info_path`` are the scenario and variables files
    (None if there is none); ``metadata`` is ``metadata.json`` with the
    scenario's :data:`VARIANT_KEYS` in place of its own.
    """

    game: str
    inttype: Integrations
    scenario_path: Optional[str]
    info_path: Optional[str]
    metadata: dict[str, Any]

    @classmethod
    def open(cls, game: str, scenario: Optional[str] = None, info: Optional[str] = None,
             inttype: Integrations = Integrations.DEFAULT) -> "GameFiles":
        """Find and read ``game``'s files under ``scenario`` (default ``scenario.json``) and ``info`` (``data.json``).

        ``scenario`` and ``info`` are names (``"retro"``) or paths ending
        ``.json``. Without ``info``, a scenario that has its own ``info`` is
        the variables file. An unknown ``scenario`` or ``info`` is a
        :class:`~retro.errors.GameNotFoundError`; a game with neither
        variables nor a scenario, or a malformed file, an
        :class:`~retro.errors.IntegrationError`.
        """
        scenario_path = json_path(game, scenario or "scenario", inttype)
        if scenario is not None and scenario_path is None:
            known = list_scenarios(game, inttype)
            raise GameNotFoundError(f"unknown scenario {scenario!r} for {game}; its scenarios are {known}")
        variant = read_json_object(scenario_path) if scenario_path else {}
        metadata = with_variant(read_metadata(get_file_path(game, "metadata.json", inttype)), variant)
        if info is None and "info" in variant:
            info_path: Optional[str] = scenario_path
        else:
            info_path = json_path(game, info or "data", inttype)
            if info is not None and info_path is None:
                raise GameNotFoundError(f"no data file {info!r} for {game}")
        if info_path is None and scenario_path is None:
            folders = [d for _source, d in game_dirs(game, inttype)]
            raise IntegrationError(
                f"{game} has no data.json or scenario.json in {folders}; if it is a game of "
                f"stable-retro's library, `retro provision` provisions the library")
        return cls(game, inttype, scenario_path, info_path, metadata)

    @property
    def rom_sha_path(self) -> Optional[str]:
        """The ``rom.sha`` the ROM is checked against: the one beside the scenario in use, else the game's."""
        beside = os.path.join(os.path.dirname(self.scenario_path), "rom.sha") if self.scenario_path else None
        if beside and os.path.isfile(beside):
            return beside
        return get_file_path(self.game, "rom.sha", self.inttype)


def read_or_empty(path: Optional[str]) -> dict[str, Any]:
    """An integration's JSON file as an object; an empty one if there is none or it cannot be read.

    For listings, which show what they can of a broken integration.
    """
    try:
        return read_metadata(path)
    except IntegrationError:
        return {}


def game_metadata(game: str, inttype: Integrations = Integrations.DEFAULT) -> dict[str, Any]:
    """``game``'s ``metadata.json`` as :func:`read_or_empty` reads it."""
    return read_or_empty(get_file_path(game, "metadata.json", inttype))


def declared_in(path: Optional[str], key: str) -> Any:
    """``key`` of an integration's JSON file as :func:`read_or_empty` reads it, or None.

    A file whose bytes do not name ``key`` is not parsed, so a listing that
    looks through every file of every game reads most of them only once.
    """
    if path is None:
        return None
    try:
        if key.encode() not in read_regular(path):
            return None
    except OSError:
        return None
    return read_or_empty(path).get(key)


def declared(game: str, key: str, variant_path: Optional[str] = None,
             inttype: Integrations = Integrations.DEFAULT,
             accept: Callable[[Any], bool] = lambda value: True) -> Any:
    """``key`` as ``game`` declares it under the scenario at ``variant_path``, read as :func:`declared_in` reads.

    The scenario's value of a :data:`VARIANT_KEYS` key takes the place of
    ``metadata.json``'s (:func:`with_variant`); a value ``accept`` refuses
    counts as none. None if neither file declares one.
    """
    def value(path: Optional[str]) -> dict[str, Any]:
        found = declared_in(path, key)
        return {key: found} if found is not None and accept(found) else {}

    return with_variant(value(get_file_path(game, "metadata.json", inttype)), value(variant_path)).get(key)

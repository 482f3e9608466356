"""retro: console games as reinforcement-learning environments, through libretro cores.

The names here are the public API; everything else is reached through its
module (``retro.data``, ``retro.cores``, ...).
"""

from __future__ import annotations

import os

try:
    from retro import _core  # noqa: F401 - the compiled frontend must be there
except ImportError as e:  # pragma: no cover - only without a build
    raise ImportError(
        "retro's compiled extension (retro._core) is not built or does not load: "
        f"{e}. In a source checkout run `pip install -e .` (or `bash scripts/setup.sh`), "
        "which compiles it with Cython."
    ) from e

from retro.errors import (
    ContentLoadError,
    CoreLoadError,
    CoreNotFoundError,
    EmulatorClosedError,
    GameNotFoundError,
    IntegrationError,
    MovieFormatError,
    OutputExistsError,
    ProvisionError,
    ConfigurationError,
    InvalidActionError,
    ResetNeededError,
    RetroError,
    RomMismatchError,
    RomNotFoundError,
    WorkerDiedError,
    RemoteEnvError,
    StateError,
    UnmappedAddressError,
    UnknownSystemError,
)
from retro.cores import core_path
from retro.emulator import RetroEmulator, StepPool
from retro.enums import Actions, Observations, State
from retro.systems import EMU_CORES, EMU_EXTENSIONS, EMU_INFO, get_system_info, system_for_rom

from retro import data  # noqa: E402  (after the emulator: data uses it)
from retro.env import RetroEnv, make, movie_snapshots  # noqa: E402
from retro.snapshot import Snapshot  # noqa: E402
from retro.movie import Movie  # noqa: E402
from retro import retro_env  # noqa: E402,F401  (Gym Retro's module of RetroEnv)

__version__ = "0.1.0"
ROOT_DIR = os.path.dirname(os.path.abspath(__file__))

__all__ = [
    "make",
    "RetroEnv",
    "Movie",
    "Snapshot",
    "movie_snapshots",
    "State",
    "Actions",
    "Observations",
    "data",
    "RetroEmulator",
    "StepPool",
    "RetroError",
    "CoreNotFoundError",
    "CoreLoadError",
    "ContentLoadError",
    "RomNotFoundError",
    "UnknownSystemError",
    "StateError",
    "EmulatorClosedError",
    "IntegrationError",
    "GameNotFoundError",
    "MovieFormatError",
    "ProvisionError",
    "ConfigurationError",
    "InvalidActionError",
    "ResetNeededError",
    "RomMismatchError",
    "OutputExistsError",
    "WorkerDiedError",
    "RemoteEnvError",
    "UnmappedAddressError",
    "core_path",
    "get_core_path",
    "get_romfile_system",
    "get_system_info",
    "get_fbneo_rom_name",
    "is_fbneo_game",
    "EMU_CORES",
    "EMU_EXTENSIONS",
    "EMU_INFO",
]


def get_romfile_system(rom_path: str) -> str:
    """The system of a ROM file, told by its extension."""
    return system_for_rom(rom_path)


def get_core_path(corename: str) -> str:
    """Path of the core library that runs system ``corename`` on this machine (Gym Retro's ``get_core_path``).

    ``corename`` is a system name (``"Genesis"``, or an alias such as
    ``"FBNeo"``), as in Gym Retro, whose ``EMU_CORES`` it indexes; a core's
    own name (``"fceumm"``) is taken too. The core is found as
    ``RetroEmulator`` finds it (:mod:`retro.cores`): an unknown system raises
    :class:`UnknownSystemError` (a ``KeyError``), a core installed nowhere
    :class:`CoreNotFoundError`, which names the command that installs it.
    """
    from retro.cores import core_for_system, find_core
    from retro.systems import SYSTEM_ALIASES, SYSTEMS

    if corename not in SYSTEMS and corename not in SYSTEM_ALIASES:
        found = find_core(corename) if isinstance(corename, str) and corename.isidentifier() else None
        if found is not None:
            return found.path
    return core_for_system(corename).path


def get_fbneo_rom_name(game: str, inttype: "data.Integrations" = data.Integrations.DEFAULT) -> str | None:
    """The arcade ROM set's own file name (``"mk2.zip"``) of an FBNeo game, from its ``metadata.json``.

    stable-retro's ``get_fbneo_rom_name``: the ``original_rom_name`` of the
    game's metadata, or None if it has none (or no readable metadata).
    """
    name = data.integrations.game_metadata(game, inttype).get("original_rom_name")
    return name if isinstance(name, str) else None


def is_fbneo_game(game: str, inttype: "data.Integrations" = data.Integrations.DEFAULT) -> bool:
    """Whether ``game``'s ``metadata.json`` says it runs on FBNeo (``"system": "FBNeo"``), as stable-retro tells."""
    return data.integrations.game_metadata(game, inttype).get("system") == "FBNeo"


def _register_gymnasium_envs() -> None:
    """Register every integration as ``retro/<Game>-<System>-v0`` with Gymnasium (ids already there are kept).

    The ids also go into ``RETRO_HOME``'s index, from which
    ``retro-gymnasium.pth`` registers them in processes that import Gymnasium
    without importing retro (spawned children), at no cost to the others.
    """
    import _retro_gymnasium

    games = data.list_games(data.Integrations.ALL)
    ale_games = data.ale_variants()
    _retro_gymnasium.register_ids(games, ale_games)
    _retro_gymnasium.write_index(games, ale_games)


_register_gymnasium_envs()

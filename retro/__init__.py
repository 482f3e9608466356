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
from retro.emulator import RetroEmulator, StepPool
from retro.enums import Actions, Observations, State
from retro.systems import EMU_CORES, EMU_EXTENSIONS, EMU_INFO, get_system_info, system_for_rom

from retro import data  # noqa: E402  (after the emulator: data uses it)
from retro.env import RetroEnv, make  # noqa: E402
from retro.movie import Movie  # noqa: E402

__version__ = "0.1.0"
ROOT_DIR = os.path.dirname(os.path.abspath(__file__))

__all__ = [
    "make",
    "RetroEnv",
    "Movie",
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
    "get_core_path",
    "get_romfile_system",
    "get_system_info",
    "EMU_CORES",
    "EMU_EXTENSIONS",
    "EMU_INFO",
]


def get_romfile_system(rom_path: str) -> str:
    """The system of a ROM file, told by its extension."""
    return system_for_rom(rom_path)


def get_core_path(system: str) -> str:
    """Path of the core library that runs ``system`` on this machine."""
    from retro.cores import core_for_system

    return core_for_system(system).path


def _register_gymnasium_envs() -> None:
    """Register every integration as ``retro/<Game>-<System>-v0`` with Gymnasium.

    The specs go straight into Gymnasium's registry: ``gymnasium.register``
    checks each new id against the whole registry, which for a thousand
    games would make ``import retro`` ten times slower. Ids already there
    are left alone.
    """
    from gymnasium.envs.registration import EnvSpec, registry

    for game in data.list_games(data.Integrations.ALL):
        env_id = f"retro/{game}-v0"
        if env_id not in registry:
            # by stable-retro's id, so a stable game is never given an experimental folder's data
            registry[env_id] = EnvSpec(id=env_id, entry_point="retro.env:RetroEnv",
                                       vector_entry_point="retro.vector:RetroVectorEnv",
                                       kwargs={"game": f"{game}-v0", "api": "gymnasium",
                                               "inttype": data.Integrations.ALL})


_register_gymnasium_envs()

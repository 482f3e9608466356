"""stable-retro 1.0.1's API on retro's engine: ``import stable_retro`` runs stable-retro code unchanged.

``import retro`` speaks Gym Retro 0.8's API (the classic 4-tuple step);
``import stable_retro`` speaks stable-retro's: the Gymnasium API by
default, ``env.multi_rewards``, ``render_mode="human"`` by default, ``-v0``
game ids from ``data.list_games()``, only the library's own states and
scenarios listed, ``RetroEmulator.set_state`` returning False for a state
the core refuses, and resets from power-on that play on as stable-retro's
do. Both are one engine: the differences are :data:`retro.policy.STABLE_RETRO`,
applied by the thin classes and functions of this package. Everything of
``retro`` that stable-retro lacks (``core=``, ``frameskip``, vector envs,
...) is there too.
"""

from __future__ import annotations

import os
from typing import Any

import retro as _retro
import stable_retro.data
from retro.movie import Movie
from retro.policy import STABLE_RETRO
from stable_retro.enums import Actions, Observations, State
from stable_retro.retro_env import RetroEnv

__all__ = [
    "Movie",
    "RetroEmulator",
    "Actions",
    "State",
    "Observations",
    "get_core_path",
    "get_romfile_system",
    "get_system_info",
    "get_fbneo_rom_name",
    "is_fbneo_game",
    "make",
    "RetroEnv",
]

from retro import core_path as core_path, get_fbneo_rom_name, is_fbneo_game  # noqa: E402 - the same functions

ROOT_DIR = os.path.abspath(os.path.dirname(__file__))
__version__ = _retro.__version__


class RetroEmulator(_retro.RetroEmulator):
    """:class:`retro.RetroEmulator` under stable-retro's conventions: ``set_state`` of a refused state is False."""

    policy = STABLE_RETRO


def get_core_path(corename: str) -> str:
    """Path of the libretro core that runs the system ``corename`` on this machine."""
    return _retro.get_core_path(corename)


def get_romfile_system(rom_path: str) -> str:
    """The system of a ROM file, told by its extension."""
    return _retro.get_romfile_system(rom_path)


def get_system_info(system: str) -> Any:
    """What retro knows of ``system`` (its buttons, ...); a ``KeyError`` for a system it does not know."""
    try:
        return _retro.get_system_info(system)
    except _retro.UnknownSystemError as e:
        raise KeyError(f"Unsupported system type: {system}") from e


def make(game: str, state: Any = State.DEFAULT, inttype: Any = stable_retro.data.Integrations.DEFAULT,
         **kwargs: Any) -> RetroEnv:
    """Create a :class:`RetroEnv` for ``game`` (``FileNotFoundError`` if it or its ROM is missing)."""
    env = _retro.env.make(game, state, inttype, env_class=RetroEnv, **kwargs)
    assert isinstance(env, RetroEnv)
    return env

"""``stable_retro.data``: :mod:`retro.data` as stable-retro 1.0.1 spells and lists it.

The same classes and functions (``GameData``, ``Integrations``,
``get_file_path``, ``get_romfile_path``, ...), with stable-retro's listings
(:data:`retro.policy.STABLE_RETRO`): :func:`list_games` gives the library's
folder names (``Pong-Atari2600-v0``), :func:`list_states` and
:func:`list_scenarios` list the states and scenarios of the folder named
exactly so (without this project's own variants), and :func:`path` is the
folder that holds ``stable/``, ``experimental/`` and ``contrib/``: the game
library that set-up provisions from stable-retro's own wheel.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any

import retro.data as _retro_data
from retro.data import *  # noqa: F401,F403 - the same names as retro.data; the listings below are stable-retro's
from retro.data import __all__ as _names
from retro.data import Integrations, library_path
from retro.data import list_games as _list_games
from retro.data import list_scenarios as _list_scenarios
from retro.data import list_states as _list_states
from retro.policy import STABLE_RETRO

__all__ = [*_names]

#: The folder of the package (stable-retro's ``DATA_PATH``): the default hint of :func:`path`.
DATA_PATH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def path(hint: Any = DATA_PATH) -> str:  # type: ignore[no-redef]
    """The folder holding the integrations' ``stable/``, ``experimental/`` and ``contrib/`` folders.

    That is the game library set-up provisions (``RETRO_HOME/library``, or
    ``RETRO_LIBRARY_PATH``), where stable-retro's own is inside its package.
    """
    return library_path()


def list_games(inttype: Integrations = Integrations.DEFAULT) -> list[str]:  # type: ignore[no-redef]
    """Sorted game ids (``Pong-Atari2600-v0``): the folders with a ``rom.sha`` searched for ``inttype``."""
    return _list_games(inttype, policy=STABLE_RETRO)


def list_states(game: str, inttype: Integrations = Integrations.DEFAULT) -> list[str]:  # type: ignore[no-redef]
    """Sorted names of the save states (without ``.state``) in the folders named ``game``."""
    return _list_states(game, inttype, policy=STABLE_RETRO)


def list_scenarios(game: str, inttype: Integrations = Integrations.DEFAULT) -> list[str]:  # type: ignore[no-redef]
    """Sorted names of the scenario files (JSON with a reward or done) in the folders named ``game``."""
    return _list_scenarios(game, inttype, policy=STABLE_RETRO)


#: The names this module shares with :mod:`retro.data` (the same objects), which the engine looks up there.
_SHARED = frozenset(n for n in _names if globals().get(n) is getattr(_retro_data, n, None))


class _DataModule(types.ModuleType):
    """This module, whose shared names stay the engine's: setting one sets it in :mod:`retro.data` too.

    stable-retro's env reads ``stable_retro.data.get_romfile_path`` (and the
    rest) when it runs, so code that replaces one of them (its own tests do)
    changes what the env finds; the engine here reads :mod:`retro.data`.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in _SHARED:
            setattr(_retro_data, name, value)


sys.modules[__name__].__class__ = _DataModule

"""retro's errors: one hierarchy rooted at :class:`RetroError`.

Each subclass also inherits the built-in exception a Python user would expect
(``FileNotFoundError``, ``ValueError``, ``OSError``), so existing ``except``
clauses keep working.
"""

from __future__ import annotations

from typing import Any

__all__ = [
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
]


class RetroError(Exception):
    """Base class of every error retro raises on purpose."""


class CoreNotFoundError(RetroError, FileNotFoundError):
    """No libretro core for a system was found in any provider."""


class CoreLoadError(RetroError, OSError):
    """A libretro core could not be loaded: not a core, missing symbols, wrong API."""


class ContentLoadError(RetroError, ValueError):
    """The core rejected the game, or the ROM file could not be read."""


class RomNotFoundError(RetroError, FileNotFoundError):
    """A ROM file does not exist."""


class UnknownSystemError(RetroError, ValueError, KeyError):
    """A system name is unknown, or a ROM's system could not be told from its file name.

    Also a ``KeyError``, what Gym Retro's and stable-retro's
    ``get_system_info`` raise for an unknown system, and a ``ValueError``,
    what retro raised before; its message reads as a sentence (not quoted, as
    a plain ``KeyError``'s is).
    """

    def __str__(self) -> str:
        return Exception.__str__(self)


class StateError(RetroError, ValueError):
    """A save state is malformed, of the wrong size, or rejected by the core."""


class EmulatorClosedError(RetroError, RuntimeError):
    """The emulator was used after ``close()``."""


class IntegrationError(RetroError, ValueError):
    """An integration file (data.json, scenario.json, metadata.json) is malformed."""


class GameNotFoundError(RetroError, FileNotFoundError):
    """An unknown game, state or scenario was asked for."""


class MovieFormatError(RetroError, ValueError):
    """A movie file (.bk2, .fm2) is malformed or unsupported."""


class ProvisionError(RetroError, RuntimeError):
    """Set-up could not fetch or verify a core or ROM from its package registry."""


class ConfigurationError(RetroError, ValueError):
    """An environment was asked for with arguments that cannot work."""


class InvalidActionError(RetroError, ValueError):
    """An action is not in the environment's action space."""


class ResetNeededError(RetroError, RuntimeError):
    """``step()`` was called before ``reset()``."""


class WorkerDiedError(RetroError, RuntimeError):
    """A vector env's worker process died; ``env_indices`` and ``exitcodes`` say which and how.

    ``last`` maps each dead env's index to its last ``(observation, info)``
    as the vector env returned them (``(None, {})`` before the first reset).
    """

    def __init__(self, message: str, env_indices: list[int], exitcodes: list[int | None],
                 last: dict[int, tuple[Any, dict[str, Any]]] | None = None) -> None:
        super().__init__(message)
        self.env_indices = env_indices
        self.exitcodes = exitcodes
        self.last = last or {}


class OutputExistsError(RetroError, FileExistsError):
    """A file retro would write is already there, and replacing it was not asked for."""


class RomMismatchError(RetroError, ValueError):
    """The ROM's SHA-1 is not one the integration was made for."""


class RemoteEnvError(RetroError, RuntimeError):
    """An env running in another process or on another machine (a Ray actor) failed or died.

    ``env_indices`` are the vector env's indices of the envs concerned, ``node`` the address of
    the machine they ran on (or None when unknown).
    """

    def __init__(self, message: str, env_indices: "list[int] | tuple[int, ...]" = (), node: str | None = None) -> None:
        super().__init__(message)
        self.env_indices = list(env_indices)
        self.node = node

    def __reduce__(self) -> tuple[type, tuple[str, list[int], str | None]]:
        # crosses process boundaries (Ray ships it back from the actor that raised it)
        return type(self), (str(self.args[0]) if self.args else "", self.env_indices, self.node)


class UnmappedAddressError(RetroError, IndexError):
    """A variable's address is in no memory block of the game (Gym Retro's ``IndexError('No known mapping')``)."""

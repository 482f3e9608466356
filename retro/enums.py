"""Gym Retro's enums, with its names and values."""

from __future__ import annotations

from enum import Enum

__all__ = ["State", "Observations", "Actions"]


class State(Enum):
    """Which save state an environment starts from (a string names a state)."""

    DEFAULT = -1
    """The integration's default: ``metadata.json``'s ``default_state`` (or ``default_player_state[players - 1]``)."""
    NONE = 0
    """No state: the game is powered on (and power-cycled on every reset)."""


class Observations(Enum):
    """What an observation is."""

    IMAGE = 0
    """The screen, ``(H, W, 3)`` uint8, cropped by the scenario."""
    RAM = 1
    """The RAM blocks concatenated in address order, uint8."""


class Actions(Enum):
    """How actions map to buttons."""

    ALL = 0
    """``MultiBinary`` over every button, unfiltered."""
    FILTERED = 1
    """``MultiBinary``, passed through the combo groups (impossible combinations are dropped)."""
    DISCRETE = 2
    """One ``Discrete`` over every combination of combos (mixed radix)."""
    MULTI_DISCRETE = 3
    """``MultiDiscrete``: one choice per combo group."""

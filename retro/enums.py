"""Gym Retro's enums, with its names and values."""

from __future__ import annotations

from enum import Enum

__all__ = ["State", "Observations", "Actions"]


class State(Enum):
    """Which save state an environment starts from (a string names a state)."""

    DEFAULT = -1  # metadata.json's default_state (or default_player_state[players-1])
    NONE = 0  # power-on


class Observations(Enum):
    """What an observation is."""

    IMAGE = 0  # the screen, (H, W, 3) uint8, cropped by the scenario
    RAM = 1  # the RAM blocks concatenated in address order, uint8


class Actions(Enum):
    """How actions map to buttons."""

    ALL = 0  # MultiBinary over every button, unfiltered
    FILTERED = 1  # MultiBinary, passed through the combo groups
    DISCRETE = 2  # one Discrete over every combination of combos (mixed radix)
    MULTI_DISCRETE = 3  # one choice per combo group

"""``stable_retro.enums``: the same ``State``, ``Actions`` and ``Observations`` as :mod:`retro.enums`."""

from retro.enums import Actions, Observations, State

__all__ = ["State", "Observations", "Actions"]

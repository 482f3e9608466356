"""Action spaces: Gym Retro's construction, with lookup tables for the step path.

Combo groups come from the system's (or the scenario's) ``actions``: each
group is a list of combos of button names; a combo becomes a button bitmask
(bit ``i`` for the first button called that name), a group becomes ``(mask,
sorted distinct combo masks)`` where ``mask`` is the OR of its combos, and
groups are ordered by ascending mask. When two groups have the same mask the
first one is kept and the later one ignored (Gym Retro keeps them in a
``std::map`` filled with ``emplace``). These orders define what DISCRETE and
MULTI_DISCRETE indices mean, exactly as in Gym Retro.

:func:`combo_groups` is the one builder of groups: ``GameData.valid_actions``
and ``GameData.filter_action`` and the environment's action tables
(:func:`filter_table`, :func:`discrete_table`, :func:`multi_discrete_table`)
all come from what it builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Sequence

import numpy as np

from retro.errors import IntegrationError

__all__ = ["ComboGroups", "combo_groups", "filter_table", "discrete_table", "multi_discrete_table"]


@dataclass(frozen=True)
class ComboGroups:
    """Sorted combo groups: ``groups[i]`` is the ascending list of combo masks of group i."""

    groups: tuple[tuple[int, ...], ...]

    @cached_property
    def masks(self) -> tuple[int, ...]:
        """Each group's mask: the OR of its combos' button masks."""
        out = []
        for group in self.groups:
            m = 0
            for combo in group:
                m |= combo
            out.append(m)
        return tuple(out)

    @property
    def sizes(self) -> tuple[int, ...]:
        """How many combos each group holds (a MULTI_DISCRETE space's sizes)."""
        return tuple(len(g) for g in self.groups)

    @property
    def discrete_size(self) -> int:
        """How many DISCRETE actions there are: the product of the group sizes."""
        n = 1
        for s in self.sizes:
            n *= s
        return n

    def as_lists(self) -> list[list[int]]:
        """The groups as lists of combo masks (Gym Retro's ``valid_actions`` layout)."""
        return [list(g) for g in self.groups]

    def filter(self, action: int) -> int:
        """``action`` with each group's bits kept only if they form an allowed combo (see :func:`filter_table`)."""
        width = max((m.bit_length() for m in self.masks), default=0)
        return int(filter_table(self, width)[action & ((1 << width) - 1)])


def combo_groups(buttons: Sequence[str | None], actions: Sequence[Sequence[Sequence[str]]],
                 where: str = "actions") -> ComboGroups:
    """Groups of combos (lists of button names) as sorted bitmask groups (see the module docs).

    A button name the system does not have raises :class:`IntegrationError`
    naming ``where``.
    """
    index: dict[str, int] = {}
    for i, name in enumerate(buttons):
        if name:
            index.setdefault(name, i)
    by_mask: dict[int, tuple[int, ...]] = {}
    for group in actions:
        combos = set()
        for combo in group:
            bits = 0
            for name in combo:
                if name not in index:
                    raise IntegrationError(
                        f"{where}: unknown button {name!r}; this system's buttons are {list(index)}")
                bits |= 1 << index[name]
            combos.add(bits)
        mask = 0
        for c in combos:
            mask |= c
        by_mask.setdefault(mask, tuple(sorted(combos)))  # the first group of a mask wins
    return ComboGroups(tuple(by_mask[m] for m in sorted(by_mask)))


@lru_cache(maxsize=64)
def filter_table(groups: ComboGroups, num_buttons: int) -> np.ndarray:
    """``table[mask]`` = the mask with every group's bits kept only if they form an allowed combo.

    Bits in no group are dropped (START, SELECT, ... unless a scenario allows
    them), as Gym Retro's ``filter_action`` does. The table is shared by
    every caller with the same groups, so it is read-only.
    """
    masks = np.arange(1 << num_buttons, dtype=np.int64)
    out = np.zeros_like(masks)
    for group, gmask in zip(groups.groups, groups.masks):
        part = masks & gmask
        out |= np.where(np.isin(part, np.array(group, dtype=np.int64)), part, 0)
    table = out.astype(np.uint16 if num_buttons <= 16 else np.uint32)
    table.flags.writeable = False
    return table


def discrete_table(groups: ComboGroups) -> np.ndarray:
    """``table[a]`` = button mask of DISCRETE action ``a`` for one player (mixed radix,
    first group least significant)."""
    n = groups.discrete_size
    out = np.zeros(n, dtype=np.int64)
    a = np.arange(n, dtype=np.int64)
    for group in groups.groups:
        size = len(group)
        out |= np.array(group, dtype=np.int64)[a % size]
        a //= size
    return out


def multi_discrete_table(groups: ComboGroups) -> list[np.ndarray]:
    """Per group, the combo mask of each choice."""
    return [np.array(g, dtype=np.int64) for g in groups.groups]

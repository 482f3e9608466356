"""Action spaces: Gym Retro's construction, with lookup tables for the step path.

Combo groups come from the system's (or the scenario's) ``actions``: each
group is a list of combos of button names; a combo becomes a button bitmask,
a group becomes ``(mask, sorted combo masks)``, and groups are ordered by
ascending mask. These orders define what DISCRETE and MULTI_DISCRETE indices
mean, exactly as in Gym Retro.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["ComboGroups", "combo_groups", "filter_table", "discrete_table", "multi_discrete_table"]


@dataclass(frozen=True)
class ComboGroups:
    """Sorted combo groups: ``groups[i]`` is the ascending list of combo masks of group i."""

    groups: tuple[tuple[int, ...], ...]

    @property
    def masks(self) -> tuple[int, ...]:
        out = []
        for group in self.groups:
            m = 0
            for combo in group:
                m |= combo
            out.append(m)
        return tuple(out)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(len(g) for g in self.groups)

    @property
    def discrete_size(self) -> int:
        n = 1
        for s in self.sizes:
            n *= s
        return n

    def as_lists(self) -> list[list[int]]:
        return [list(g) for g in self.groups]


def combo_groups(buttons: Sequence[str | None], actions: Sequence[Sequence[Sequence[str]]]) -> ComboGroups:
    """Groups of combos (lists of button names) as sorted bitmask groups."""
    index = {name: i for i, name in enumerate(buttons) if name}
    by_mask: dict[int, set[int]] = {}
    for group in actions:
        combos = set()
        for combo in group:
            bits = 0
            for name in combo:
                if name not in index:
                    raise ValueError(f"unknown button {name!r} in actions; buttons are {[b for b in buttons if b]}")
                bits |= 1 << index[name]
            combos.add(bits)
        mask = 0
        for c in combos:
            mask |= c
        by_mask.setdefault(mask, set()).update(combos)
    return ComboGroups(tuple(tuple(sorted(by_mask[m])) for m in sorted(by_mask)))


def filter_table(groups: ComboGroups, num_buttons: int) -> np.ndarray:
    """``table[mask]`` = the mask with every group's bits kept only if they form an allowed combo.

    Bits in no group are dropped (START, SELECT, ... unless a scenario allows
    them), as Gym Retro's ``filter_action`` does.
    """
    masks = np.arange(1 << num_buttons, dtype=np.int64)
    out = np.zeros_like(masks)
    for group, gmask in zip(groups.groups, groups.masks):
        part = masks & gmask
        out |= np.where(np.isin(part, np.array(group, dtype=np.int64)), part, 0)
    return out.astype(np.uint16 if num_buttons <= 16 else np.uint32)


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

"""Start states made from recipes: power a game on and play a recipe's presses on an emulator.

The recipes themselves (``state_recipes`` in an integration's
``metadata.json``) are read and checked by :mod:`retro.data.recipes`; this
module runs them. A core that cannot load an integration's state files (the
ALE core and Stella states) gets its start states here
(:func:`state_from_recipe`), and ``python3 -m retro.scripts.make_state``
makes state files with :func:`run_recipe`.
"""

from __future__ import annotations

from typing import Sequence

from retro.data.recipes import Press, button_id
from retro.emulator import RetroEmulator

__all__ = ["run_recipe", "state_from_recipe"]


def run_recipe(em: RetroEmulator, presses: Sequence[Press], frames: int) -> None:
    """Run ``frames`` frames from where ``em`` is, holding buttons as ``presses`` say."""
    system = em.system
    if system is None:
        raise ValueError("the emulator's system is unknown, so button names cannot be resolved")
    ids = [[button_id(system, b) for b in p.buttons] for p in presses]
    players = max([p.player for p in presses], default=0) + 1
    # Frame boundaries where some mask changes; run whole stretches in between.
    cuts = sorted({0, frames, *(p.frame for p in presses), *(p.end for p in presses)})
    cuts = [c for c in cuts if 0 <= c <= frames]
    for start, stop in zip(cuts, cuts[1:]):
        for player in range(players):
            mask = 0
            for p, bids in zip(presses, ids):
                if p.player == player and p.frame <= start < p.end:
                    for b in bids:
                        mask |= 1 << b
            em.set_button_mask(mask, player)
        em.step(stop - start)
    for player in range(players):
        em.set_button_mask(0, player)


_MADE: dict[tuple[str, str, tuple[str, ...], int], bytes] = {}


def state_from_recipe(rom: str, core: str, presses: Sequence[Press], frames: int) -> bytes:
    """The state ``core`` is in after powering ``rom`` on and running a recipe (kept for the process)."""
    key = (rom, core, tuple(str(p) for p in presses), frames)
    state = _MADE.get(key)
    if state is None:
        with RetroEmulator(rom, core=core, first_frame=False) as em:  # frames count from power-on
            run_recipe(em, presses, frames)
            state = _MADE[key] = em.get_state()
    return state

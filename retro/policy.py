"""The two APIs one engine speaks: Gym Retro 0.8's (``import retro``) and stable-retro 1.0.1's (``stable_retro``).

Both packages run the same emulators, sessions, envs and data code; what
differs between them is declared here, once, as an :class:`ApiPolicy`, and
read where it applies: :class:`retro.RetroEnv` (step API, render mode,
rewards of several players, what a reset does from power-on),
:mod:`stable_retro.data` (game ids and which states and scenarios are
listed) and :class:`stable_retro.RetroEmulator` (a refused state).

- :data:`GYM_RETRO`: the seed API. ``reset()`` returns ``obs`` and
  ``step()`` ``(obs, rew, done, info)``; no window unless asked; a reward
  per player (a list) with several players; ``State.NONE`` powers the game
  on again at every reset (Gym Retro played on from wherever the last
  episode ended); games are listed in Gym Retro's spelling
  (``Pong-Atari2600``) with this project's own variants; a state the core
  refuses is a :class:`retro.StateError`.
- :data:`STABLE_RETRO`: stable-retro 1.0.1's. Gymnasium's API by default,
  ``render_mode="human"`` by default (where no display exists: one
  warning and no window, where stable-retro's pyglet would fail), player
  1's reward alone unless ``env.multi_rewards = True``, resets from
  power-on that play on as stable-retro's do, ``-v0`` ids, only the
  library's states and scenarios listed, ``reset()`` returning an empty
  info, and ``set_state`` returning ``False`` for a state the core refuses.

Both packages have every extra of this project (``core=``, ``frameskip``,
vector envs, ...): the policy changes defaults and spellings, never what a
frame is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ApiPolicy", "GYM_RETRO", "STABLE_RETRO"]


@dataclass(frozen=True)
class ApiPolicy:
    """What one API does where Gym Retro 0.8 and stable-retro 1.0.1 differ."""

    #: The package users import for this API.
    package: str
    #: ``RetroEnv``'s default step API: ``"classic"`` (4-tuples) or ``"gymnasium"`` (5-tuples, ``(obs, info)``).
    api: Literal["classic", "gymnasium"]
    #: ``RetroEnv``'s default ``render_mode``.
    render_mode: str | None
    #: ``env.multi_rewards`` at first: with several players, True gives a list of rewards, False player 1's.
    multi_rewards: bool
    #: With ``State.NONE``, later resets power the game on again (True) or play on from where it is (False).
    power_cycle_on_reset: bool
    #: ``list_games()`` spells ids as stable-retro's folders are named (``Pong-Atari2600-v0``).
    versioned_ids: bool
    #: ``list_states()``/``list_scenarios()`` include this project's own variants (``retro.*`` states, ``retro``).
    own_variants: bool
    #: ``RetroEmulator.set_state`` of a state the core refuses raises ``StateError`` (else returns False).
    state_errors_raise: bool
    #: With the Gymnasium API, ``reset()``'s info holds the game's variables (True) or is empty (stable-retro's).
    reset_info: bool


GYM_RETRO = ApiPolicy(package="retro", api="classic", render_mode=None, multi_rewards=True,
                      power_cycle_on_reset=True, versioned_ids=False, own_variants=True, state_errors_raise=True,
                      reset_info=True)

STABLE_RETRO = ApiPolicy(package="stable_retro", api="gymnasium", render_mode="human", multi_rewards=False,
                         power_cycle_on_reset=False, versioned_ids=True, own_variants=False,
                         state_errors_raise=False, reset_info=False)

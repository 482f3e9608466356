"""``stable_retro.retro_env``: :class:`RetroEnv` with stable-retro 1.0.1's defaults (:data:`retro.policy.STABLE_RETRO`).

It is :class:`retro.RetroEnv` itself, the same engine and code; only the
defaults and conventions that stable-retro has differ, as its policy
declares: the Gymnasium API, ``render_mode="human"``, player 1's reward
alone with several players unless ``env.multi_rewards = True``, and resets
from power-on that play on as stable-retro's do.
"""

from __future__ import annotations

from typing import Any

import retro.env
from retro.data import Integrations
from retro.enums import Actions, Observations, State
from retro.policy import STABLE_RETRO

__all__ = ["RetroEnv"]


class RetroEnv(retro.env.RetroEnv):
    """Gym Retro environment class: a game as a Gymnasium environment, one frame a step.

    stable-retro 1.0.1's signature and defaults; every extra of
    :class:`retro.RetroEnv` (``core=``, ``frameskip``, ``api="classic"``,
    ...) is accepted as a keyword.
    """

    policy = STABLE_RETRO

    def __init__(
        self,
        game: str,
        state: Any = State.DEFAULT,
        scenario: str | None = None,
        info: str | None = None,
        use_restricted_actions: Actions = Actions.FILTERED,
        record: Any = False,
        players: int = 1,
        inttype: Any = Integrations.STABLE,
        obs_type: Any = Observations.IMAGE,
        render_mode: str | None = "human",
        **kwargs: Any,
    ) -> None:
        super().__init__(game, state, scenario, info, use_restricted_actions, record, players, inttype, obs_type,
                         render_mode, **kwargs)

"""Run in a spawn/forkserver child: imports nothing of retro, so only retro-gymnasium.pth can register its games."""

from __future__ import annotations

import sys
from typing import Any


def make_retro_env(queue: Any, env_id: str) -> None:
    before = "retro" in sys.modules
    import gymnasium

    env = gymnasium.make(env_id)
    obs, _ = env.reset(seed=0)
    env.close()
    queue.put({"retro_before_gymnasium": before, "obs_shape": obs.shape, "hook": "_retro_gymnasium" in sys.modules})

"""The Arcade Learning Environment (ale-py) under measurement; run with our own interpreter.

ale-py imports as ``ale_py`` and ships its own Stella and Pong ROM, so it
lives in our environment without a clash.
"""

from __future__ import annotations

import sys

from common import run_for, serve, time_vector_steps  # type: ignore[import-not-found]

import ale_py  # noqa: E402
import gymnasium  # noqa: E402
import numpy as np  # noqa: E402
from ale_py import roms  # noqa: E402

ACTIONS = 4096


def info() -> dict:
    return {"ale-py": ale_py.__version__, "numpy": np.__version__, "gymnasium": gymnasium.__version__,
            "python": sys.version.split()[0]}


def raw(game: str, duration: float) -> dict:
    """``ALEInterface.act`` with frameskip 1: one emulated frame per call, random minimal-set actions."""
    ale = ale_py.ALEInterface()
    ale.setLoggerMode(ale_py.LoggerMode.Error)
    ale.setInt("random_seed", 0)
    ale.setInt("frame_skip", 1)
    ale.setFloat("repeat_action_probability", 0.0)
    rom = roms.get_rom_path(game)
    if rom is None:
        raise FileNotFoundError(f"ale-py has no ROM named {game!r}")
    ale.loadROM(rom)
    legal = ale.getMinimalActionSet()
    acts = [legal[i] for i in np.random.default_rng(0).integers(0, len(legal), ACTIONS)]
    act, over, reset = ale.act, ale.game_over, ale.reset_game
    pos = 0

    def body(k: int) -> None:
        nonlocal pos
        for i in range(pos, pos + k):
            act(acts[i % ACTIONS])
            if over():
                reset()
        pos += k

    body(256)
    return run_for(duration, body)


def gym(env_id: str, duration: float) -> dict:
    """``gymnasium.make(env_id, frameskip=1, repeat_action_probability=0)``: RGB obs, 5-tuple API."""
    gymnasium.register_envs(ale_py)
    env = gymnasium.make(env_id, frameskip=1, repeat_action_probability=0.0)
    try:
        env.reset(seed=0)
        n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
        acts = [int(a) for a in np.random.default_rng(0).integers(0, n_actions, ACTIONS)]
        step, reset = env.step, env.reset
        pos = 0

        def body(k: int) -> None:
            nonlocal pos
            for i in range(pos, pos + k):
                _, _, term, trunc, _ = step(acts[i % ACTIONS])
                if term or trunc:
                    reset()
            pos += k

        body(256)
        return run_for(duration, body)
    finally:
        env.close()


def vector(game: str, n: int, duration: float) -> dict:
    """``AtariVectorEnv(game, n)`` with its default preprocessing (frameskip 4, 84x84 gray, max-pool, stack 4)."""
    env = ale_py.vector_env.AtariVectorEnv(game, n, num_threads=n)
    try:
        env.reset(seed=0)
        n_actions = int(env.single_action_space.n)  # type: ignore[attr-defined]
        acts = np.random.default_rng(0).integers(0, n_actions, (ACTIONS, n))
        return time_vector_steps(env.step, acts, n, duration, 4)
    finally:
        env.close()


if __name__ == "__main__":
    serve({"raw": raw, "gym": gym, "vector": vector}, info)

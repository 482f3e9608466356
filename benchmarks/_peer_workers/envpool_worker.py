"""EnvPool under measurement; run with its own virtualenv's interpreter.

EnvPool pulls in matplotlib, dm-env, MuJoCo assets and more, so it gets a
virtualenv of its own rather than our environment.
"""

from __future__ import annotations

import sys

from common import serve, time_vector_steps  # type: ignore[import-not-found]

import envpool  # noqa: E402
import numpy as np  # noqa: E402

ACTIONS = 4096


def info() -> dict:
    return {"envpool": envpool.__version__, "numpy": np.__version__, "python": sys.version.split()[0]}


def vector(task: str, n: int, duration: float, num_threads: int = 2) -> dict:
    """``envpool.make(task, "gymnasium", num_envs=n, num_threads=...)``, default Atari preprocessing, sync steps."""
    env = envpool.make(task, env_type="gymnasium", num_envs=n, num_threads=num_threads, seed=0)
    try:
        env.reset()
        acts = np.random.default_rng(0).integers(0, env.action_space.n, (ACTIONS, n))
        return time_vector_steps(env.step, acts, n, duration, int(env.config["frame_skip"]))
    finally:
        env.close()


if __name__ == "__main__":
    serve({"vector": vector}, info)

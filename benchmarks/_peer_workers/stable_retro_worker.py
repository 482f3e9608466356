"""stable-retro 1.0.1 under measurement; run only with its own virtualenv's interpreter.

Its wheel ships a top-level ``retro`` package too, so it never shares an
environment (or a process) with ours. It allows one emulator per process:
the 2-core configurations use two processes, either plain worker processes
each stepping its own env, or Gymnasium's ``AsyncVectorEnv``.

    <venv>/bin/python benchmarks/_peer_workers/stable_retro_worker.py              # request loop
    <venv>/bin/python benchmarks/_peer_workers/stable_retro_worker.py memory GAME  # one-shot memory reading
"""

from __future__ import annotations

import sys
import time

from common import answer, pss_mb, rss_mb, run_for, run_processes, serve, time_vector_steps  # type: ignore[import-not-found]

import numpy as np  # noqa: E402

import stable_retro  # noqa: E402

ACTIONS = 4096


def info() -> dict:
    import gymnasium
    from importlib.metadata import version

    return {"stable-retro": version("stable-retro"), "numpy": np.__version__,
            "gymnasium": gymnasium.__version__, "python": sys.version.split()[0],
            "file": stable_retro.__file__}


def _make(game: str):
    return stable_retro.make(game, render_mode=None)


def _play(env, duration: float, seed: int = 0) -> dict:
    acts = np.random.default_rng(seed).integers(0, 2, (ACTIONS, env.action_space.n), dtype=np.int8)
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


def single(game: str, duration: float) -> dict:
    """One env in this process: IMAGE obs, random MultiBinary actions, 5-tuple API."""
    env = _make(game)
    try:
        env.reset(seed=0)
        return _play(env, duration)
    finally:
        env.close()


def _child(game: str, duration: float, seed: int, barrier, conn) -> None:
    env = _make(game)
    env.reset(seed=seed)
    acts = np.random.default_rng(seed).integers(0, 2, (ACTIONS, env.action_space.n), dtype=np.int8)
    for a in acts[:256]:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset()
    barrier.wait()
    conn.send(_play(env, duration, seed))
    env.close()


def processes(game: str, duration: float, n: int = 2) -> dict:
    """``n`` worker processes, each stepping its own env as fast as it can; summed env-steps/s."""
    return run_processes(_child, game, n, duration)


def async_vector(game: str, duration: float, n: int = 2) -> dict:
    """Gymnasium's ``AsyncVectorEnv`` over ``n`` envs (one process each, shared memory)."""
    from gymnasium.vector import AsyncVectorEnv

    env = AsyncVectorEnv([lambda: _make(game) for _ in range(n)])
    try:
        env.reset(seed=0)
        nb = env.single_action_space.n
        acts = np.random.default_rng(0).integers(0, 2, (ACTIONS, n, nb), dtype=np.int8)
        return time_vector_steps(env.step, acts, n, duration, 1)
    finally:
        env.close()


def reset_ms(game: str, count: int, gap: int = 1) -> dict:
    """Median ``env.reset()`` time in ms, with ``gap`` steps (not timed) before each reset."""
    env = _make(game)
    try:
        env.reset(seed=0)
        noop = np.zeros(env.action_space.n, np.int8)
        times = []
        for _ in range(count):
            for _ in range(gap):
                env.step(noop)
            t = time.perf_counter()
            env.reset()
            times.append((time.perf_counter() - t) * 1e3)
        times.sort()
        return {"rate": times[len(times) // 2], "min": times[0]}
    finally:
        env.close()


def memory(game: str) -> dict:
    """RSS of a process holding one env: what each extra stable-retro env costs (one process each)."""
    base = rss_mb()
    env = _make(game)
    env.reset(seed=0)
    noop = np.zeros(env.action_space.n, np.int8)
    for _ in range(30):
        env.step(noop)
    out = {"rss_base": base, "rss_1": rss_mb(), "pss_1": pss_mb()}
    env.close()
    out["rate"] = out["rss_1"]
    return out


OPS = {"single": single, "processes": processes, "async_vector": async_vector, "reset_ms": reset_ms}

if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "memory":
        answer(memory(sys.argv[2]))
    else:
        serve(OPS, info)

"""retro (this repository) under measurement; run with our own interpreter.

    python3 benchmarks/_peer_workers/retro_worker.py            # request loop (see common.py)
    python3 benchmarks/_peer_workers/retro_worker.py memory GAME  # one-shot memory reading
"""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path
from typing import Any

from common import answer, rss_mb, run_for, run_processes, serve, spin, time_vector_steps  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import retro  # noqa: E402
import retro.vector  # noqa: E402

ACTIONS = 4096  # pre-generated actions, cycled


def info() -> dict:
    import gymnasium

    return {"retro": getattr(retro, "__version__", "?"), "retro_file": retro.__file__,
            "numpy": np.__version__, "gymnasium": gymnasium.__version__,
            "python": sys.version.split()[0]}


def _core_kwargs(core: str | None) -> dict:
    """The ALE core plays this project's variants (their start states are made on it by their recipes)."""
    return {"core": core, "scenario": "retro"} if core else {}


def env_single(game: str, duration: float, core: str | None = None) -> dict:
    """``retro.make(game)``: IMAGE obs, random MultiBinary actions, classic 4-tuple API."""
    env = retro.make(game, **_core_kwargs(core))
    try:
        env.reset()
        return _play(env, duration, 0)
    finally:
        env.close()


def _play(env: Any, duration: float, seed: int, barrier: Any = None) -> dict:
    acts = np.random.default_rng(seed).integers(0, 2, (ACTIONS, env.action_space.n), dtype=np.int8)
    step, reset = env.step, env.reset
    pos = 0

    def body(k: int) -> None:
        nonlocal pos
        for i in range(pos, pos + k):
            if step(acts[i % ACTIONS])[2]:
                reset()
        pos += k

    body(256)
    if barrier is not None:
        barrier.wait()
    return run_for(duration, body)


def free_threads(game: str, n: int, duration: float) -> dict:
    """``n`` threads in this process, each stepping its own ``retro.make`` env as fast as it can (no lock-step)."""
    import threading

    envs = [retro.make(game) for _ in range(n)]
    barrier = threading.Barrier(n)
    results: list[dict] = [{} for _ in range(n)]

    def run(i: int) -> None:
        envs[i].reset()
        results[i] = _play(envs[i], duration, i, barrier)

    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for env in envs:
            env.close()
    return {"rate": sum(r["rate"] for r in results), "steps": sum(r["steps"] for r in results),
            "seconds": max(r["seconds"] for r in results)}


def _proc_child(game: str, duration: float, seed: int, barrier: Any, conn: Any) -> None:
    env = retro.make(game)
    env.reset()
    conn.send(_play(env, duration, seed, barrier))
    env.close()


def free_processes(game: str, n: int, duration: float) -> dict:
    """``n`` worker processes, each stepping its own ``retro.make`` env as fast as it can (no lock-step)."""
    return run_processes(_proc_child, game, n, duration)


def _default_state(game: str, core: str | None = None) -> bytes | None:
    env = retro.make(game, **_core_kwargs(core))
    try:
        return env.initial_state
    finally:
        env.close()


def _minimal_masks(game: str, core: str | None) -> list[int]:
    """The joypad masks of ALE's minimal action set for the game (what ``ALEInterface.act`` is given)."""
    env = retro.make(game, full_action_space=False, **_core_kwargs(core))
    try:
        masks = env.session.action_masks
        assert masks is not None
        return masks
    finally:
        env.close()


def emulator(game: str, duration: float, core: str | None = None, video: bool = True, minimal: bool = False) -> dict:
    """``RetroEmulator.step()``: the emulator alone, from the env's start state, a random joypad mask per frame;
    with ``video=False`` no picture is converted (``video_enabled = False``); with ``minimal`` the masks are
    random actions of ALE's minimal action set (no console switches), as the ALE's own measurement uses."""
    state = _default_state(game, core)
    choices = _minimal_masks(game, core) if minimal else None
    em = retro.RetroEmulator(retro.data.get_romfile_path(game), core=core)
    try:
        if state:
            em.set_state(state)
        em.video_enabled = video
        rng = np.random.default_rng(0)
        if choices is None:
            masks = [int(m) for m in rng.integers(0, 1 << 12, ACTIONS)]
        else:
            masks = [choices[i] for i in rng.integers(0, len(choices), ACTIONS)]
        step, press = em.step, em.set_button_mask
        pos = 0

        def body(k: int) -> None:
            nonlocal pos
            for i in range(pos, pos + k):
                press(masks[i % ACTIONS])
                step()
            pos += k

        body(256)
        return run_for(duration, body)
    finally:
        em.close()


def vector(game: str, n: int, duration: float, mode: str = "thread", frameskip: int = 1,
           preprocess: bool = False, core: str | None = None) -> dict:
    """``RetroVectorEnv(game, n)``: env-steps/s over all envs (autoreset inside)."""
    kwargs: dict = {"mode": mode, "frameskip": frameskip, **_core_kwargs(core)}
    if preprocess:
        kwargs.update(max_pool=True, grayscale=True, resize=(84, 84))
    env = retro.vector.RetroVectorEnv(game, n, **kwargs)
    try:
        env.reset(seed=0)
        nb = env.single_action_space.n
        acts = np.random.default_rng(0).integers(0, 2, (ACTIONS, n, nb), dtype=np.int8)
        return time_vector_steps(env.step, acts, n, duration, frameskip)
    finally:
        env.close()


def reset_ms(game: str, count: int, gap: int = 1) -> dict:
    """Median ``env.reset()`` time in ms, with ``gap`` steps (not timed) before each reset."""
    env = retro.make(game)
    try:
        env.reset()
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


def memory(game: str, extra: int = 8) -> dict:
    """RSS after one env and after ``1 + extra`` envs, each reset and stepped."""
    envs = []

    def add() -> None:
        env = retro.make(game)
        env.reset()
        noop = np.zeros(env.action_space.n, np.int8)
        for _ in range(30):
            env.step(noop)
        envs.append(env)

    base = rss_mb()
    add()
    gc.collect()
    one = rss_mb()
    for _ in range(extra):
        add()
    gc.collect()
    many = rss_mb()
    for env in envs:
        env.close()
    return {"rss_base": base, "rss_1": one, f"rss_{1 + extra}": many, "rate": (many - one) / extra}


def cores(games: list[str]) -> dict:
    """Which libretro core (name and version) runs each game."""
    out = {}
    for game in games:
        with retro.RetroEmulator(retro.data.get_romfile_path(game)) as em:
            out[game] = f"{em.library_name} {em.library_version} ({os.path.basename(em.core.path)})"
    return out


OPS: dict[str, Any] = {
    "env_single": env_single, "emulator": emulator, "vector": vector, "reset_ms": reset_ms,
    "free_threads": free_threads, "free_processes": free_processes, "spin": spin, "cores": cores,
}

if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "memory":
        answer(memory(sys.argv[2]))
    else:
        serve(OPS, info)

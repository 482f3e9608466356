"""SB3 PPO steps/s on retro's vector env through ``retro.sb3.VecEnv`` against SB3's own vector envs.

    python3 benchmarks/sb3_ppo.py [--game Pong-Atari2600] [--num-envs 2] [--steps 4096] [--rounds 5] [--write]

Every configuration plays the same game with the same Atari preprocessing
(frameskip 4, max-pooling, 84x84 grayscale, done in C by retro) and trains
the same PPO (``CnnPolicy``, SB3's Atari settings: ``n_steps=128``,
``batch_size=256``, ``n_epochs=4``):

- ``retro.sb3.VecEnv(RetroVectorEnv(...))``: the envs step together on retro's step pool;
- SB3's ``SubprocVecEnv``: one worker process per env, each a ``retro.vector.Preprocessing``
  env made by ``gymnasium.make("retro/...")``;
- SB3's ``DummyVecEnv``: the same envs, one after the other in this process.

Two numbers per configuration: PPO ``learn()`` steps/s (rollouts and
updates), and the vector env alone (``step()`` with random actions, no
learner). Each configuration is built once; rounds are interleaved, in a
new random order each round, and the table shows medians and (min-max).
``--write`` puts the table into its section of ``docs/benchmarks.md``.
Measure on a quiet machine: other jobs change the numbers.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

PRE = dict(frameskip=4, max_pool=True, grayscale=True, resize=(84, 84))
PPO_ARGS = dict(n_steps=128, batch_size=256, n_epochs=4, learning_rate=2.5e-4, clip_range=0.1, ent_coef=0.01)


def make_single(game: str) -> Callable[[], Any]:
    """A picklable factory of one preprocessed env (for SB3's SubprocVecEnv and DummyVecEnv)."""
    return _Factory(game)


class _Factory:
    def __init__(self, game: str) -> None:
        self.game = game

    def __call__(self) -> Any:
        import gymnasium

        import retro  # noqa: F401 - registers the retro/... ids
        from retro.vector import Preprocessing

        env = gymnasium.make(f"retro/{self.game}-v0")
        return _ChannelLast(Preprocessing(env, **PRE))


def _ChannelLast(env: Any) -> Any:
    """(84, 84) grayscale observations as (84, 84, 1), as retro.sb3.VecEnv hands them out."""
    from gymnasium.wrappers import ReshapeObservation

    return ReshapeObservation(env, (*env.observation_space.shape, 1))


def build(kind: str, game: str, n: int) -> Any:
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecMonitor

    if kind == "adapter":
        import retro.sb3
        from retro.vector import RetroVectorEnv

        venv: Any = retro.sb3.VecEnv(RetroVectorEnv(game, n, **PRE))
    elif kind == "subproc":
        venv = SubprocVecEnv([make_single(game) for _ in range(n)])
    else:
        venv = DummyVecEnv([make_single(game) for _ in range(n)])
    return VecMonitor(venv)


LABELS = {
    "adapter": "retro.sb3.VecEnv(RetroVectorEnv)",
    "subproc": "SB3 SubprocVecEnv",
    "dummy": "SB3 DummyVecEnv",
}


def env_rate(venv: Any, seconds: float, rng: np.random.Generator) -> float:
    n = venv.num_envs
    actions = rng.integers(0, 2, (64, n, *venv.action_space.shape)).astype(np.int8)
    venv.reset()
    steps, i = 0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        venv.step(actions[i % 64])
        steps += n
        i += 1
    return steps / (time.perf_counter() - start)


def ppo_rate(model: Any, steps: int) -> float:
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    return steps / (time.perf_counter() - start)


def machine() -> list[str]:
    import gymnasium
    import stable_baselines3
    import torch

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return [f"CPU: {cpu}, {os.cpu_count()} cores; Linux {platform.release()}",
            f"Python {platform.python_version()}, numpy {np.__version__}, gymnasium {gymnasium.__version__}, "
            f"torch {torch.__version__} ({torch.get_num_threads()} thread(s)), "
            f"stable-baselines3 {stable_baselines3.__version__}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--game", default="Pong-Atari2600")
    parser.add_argument("--num-envs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4096, help="PPO env-steps per round (default 4096)")
    parser.add_argument("--seconds", type=float, default=3.0, help="vector-env-only time per round (default 3)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch's threads (default 1: the envs get the other cores)")
    parser.add_argument("--kinds", default="adapter,subproc,dummy")
    parser.add_argument("--write", action="store_true", help="write the table into docs/benchmarks.md")
    args = parser.parse_args(argv)

    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(args.torch_threads)
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = set(kinds) - set(LABELS)
    if unknown:
        parser.error(f"unknown --kinds {sorted(unknown)}; choose from {sorted(LABELS)}")
    load_start = os.getloadavg()
    started = time.perf_counter()
    venvs = {k: build(k, args.game, args.num_envs) for k in kinds}
    models = {k: PPO("CnnPolicy", venvs[k], seed=0, device="cpu", verbose=0, **PPO_ARGS) for k in kinds}
    rates: dict[tuple[str, str], list[float]] = {(k, what): [] for k in kinds for what in ("ppo", "env")}
    rng = np.random.default_rng(0)
    try:
        for k in kinds:  # warm-up: one rollout and update each, and a moment of stepping
            ppo_rate(models[k], PPO_ARGS["n_steps"] * args.num_envs)
            env_rate(venvs[k], 0.2, rng)
        for r in range(args.rounds):
            order = [(k, what) for k in kinds for what in ("ppo", "env")]
            random.Random(r).shuffle(order)
            for k, what in order:
                rate = ppo_rate(models[k], args.steps) if what == "ppo" else env_rate(venvs[k], args.seconds, rng)
                rates[(k, what)].append(rate)
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                f"{k} {what} {rates[(k, what)][-1]:,.0f}" for k in kinds for what in ("ppo", "env")), flush=True)
    finally:
        for venv in venvs.values():
            venv.close()
    elapsed = time.perf_counter() - started
    load_end = os.getloadavg()

    def cell(k: str, what: str) -> str:
        values = rates[(k, what)]
        return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"

    lines = [f"| {args.game}, {args.num_envs} envs | PPO `learn()` steps/s | vector env alone, steps/s |",
             "|---|---:|---:|"]
    for k in kinds:
        lines.append(f"| {LABELS[k]} | {cell(k, 'ppo')} | {cell(k, 'env')} |")
    ratios = []
    if "adapter" in kinds:
        for base in (b for b in ("subproc", "dummy") if b in kinds):
            for what, label in (("ppo", "PPO"), ("env", "vector env alone")):
                ratio = statistics.median(rates[("adapter", what)]) / statistics.median(rates[(base, what)])
                ratios.append(f"- {label}: retro.sb3.VecEnv / {LABELS[base]} = **{ratio:.2f}x**")
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    doc = "\n".join([
        "## Stable-Baselines3 PPO: retro's vector env through `retro.sb3.VecEnv` vs SB3's vector envs",
        "",
        f"Written by `python3 benchmarks/sb3_ppo.py --write` on {when} (retro commit {commit}), "
        f"in {elapsed / 60:.1f} minutes: {args.rounds} interleaved rounds of {args.steps} PPO steps and "
        f"{args.seconds:g} s of vector-env stepping per configuration; medians and (min-max).",
        "",
        *[f"- {m}" for m in machine()],
        f"- Load average at start {', '.join(f'{x:.2f}' for x in load_start)}, "
        f"at end {', '.join(f'{x:.2f}' for x in load_end)}.",
        "",
        "Same game, same preprocessing (frameskip 4, max-pool, 84x84 grayscale, in C) and the same PPO "
        "(`CnnPolicy`, n_steps 128, batch 256, 4 epochs) in every row; only the vector env differs.",
        "",
        *lines,
        "",
        *ratios,
    ])
    print()
    print(doc)
    if args.write:
        import _doc

        target = ROOT / "docs" / "benchmarks.md"
        _doc.replace_section(target, "sb3-ppo", doc)
        print(f"\nwrote its section of {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What recording every episode to ``.bk2`` costs: env-steps/s with and without, interleaved.

    python3 benchmarks/recording.py [--seconds 3] [--rounds 7]

Two set-ups on the ALE core (Pong, this project's ``retro`` scenario, frame
skip 4): a ``RetroVectorEnv`` of 4 envs with Atari preprocessing (max-pool,
grayscale, 84x84), and a single ``RetroEnv``. Each round runs each set-up
for ``--seconds`` with random actions, recording (``record=`` a temporary
folder) and not, in alternating order; the table shows the medians and the
ratio recording / not recording.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import retro  # noqa: E402
from retro.vector import RetroVectorEnv  # noqa: E402


def vector(record: str | None) -> Any:
    return RetroVectorEnv("Pong-Atari2600", 4, scenario="retro", core="ale", frameskip=4, max_pool=True,
                          grayscale=True, resize=(84, 84), record=record)


def single(record: str | None) -> Any:
    return retro.make("Pong-Atari2600", scenario="retro", core="ale", frameskip=4, api="gymnasium",
                      record=record if record is not None else False)


def run(make: Callable[[str | None], Any], record: bool, seconds: float) -> float:
    """Env-steps per second of ``seconds`` of random play (one warm-up second not counted)."""
    with tempfile.TemporaryDirectory(prefix="retro-bench-record-") as folder:
        env = make(folder if record else None)
        n = getattr(env, "num_envs", 1)
        rng = np.random.default_rng(0)
        space = env.single_action_space if n > 1 else env.action_space
        actions = [rng.integers(0, 2, size=(n, *space.shape)) if n > 1 else rng.integers(0, 2, size=space.shape)
                   for _ in range(64)]
        env.reset(seed=0)
        steps, start, counted = 0, time.perf_counter(), None
        while True:
            result = env.step(actions[steps % 64])
            steps += 1
            if n == 1 and (result[2] or result[3]):
                env.reset()
            now = time.perf_counter()
            if counted is None and now - start >= 1.0:
                counted, start, steps = 0, now, 0
            elif counted is not None and now - start >= seconds:
                break
        env.close()
        return steps * n / (now - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    setups = {"vector, 4 envs, Atari preprocessing": vector, "single env": single}
    results: dict[tuple[str, bool], list[float]] = {(name, rec): [] for name in setups for rec in (False, True)}
    for r in range(args.rounds):
        for name, make in setups.items():
            for rec in ((False, True) if r % 2 == 0 else (True, False)):
                results[(name, rec)].append(run(make, rec, args.seconds))
    print("| set-up (ALE core, Pong, frame skip 4) | not recording | recording | ratio |")
    print("|---|---:|---:|---:|")
    for name in setups:
        plain, rec = statistics.median(results[(name, False)]), statistics.median(results[(name, True)])
        print(f"| {name} | {plain:,.0f} | {rec:,.0f} | {rec / plain:.2f}x |")
    print(f"\nenv-steps/s, medians of {args.rounds} interleaved rounds of {args.seconds:g} s")


if __name__ == "__main__":
    main()

"""What recording every episode to ``.bk2`` costs: env-steps/s with and without, interleaved.

    python3 benchmarks/recording.py [--seconds 3] [--rounds 7]

Two set-ups on the ALE core (Pong, this project's ``retro`` scenario, frame
skip 4): a ``RetroVectorEnv`` of 4 envs with Atari preprocessing (max-pool,
grayscale, 84x84), and a single ``RetroEnv``. Each round runs each set-up
for ``--seconds`` with random actions, not recording, recording without the
game's digests, and recording (``record=`` a temporary folder; movies carry
per-frame digests for ``retro verify``), in alternating order; the table
shows the medians, the ratio recording / not recording, and what the
digests cost (recording with them against recording without); and
recording a Minari dataset's episodes (``retro.datasets.DatasetRecorder``,
kept in memory) against not recording.
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
from retro.datasets import DatasetRecorder  # noqa: E402
from retro.vector import RetroVectorEnv  # noqa: E402


def vector(record: str | None) -> Any:
    return RetroVectorEnv("Pong-Atari2600", 4, scenario="retro", core="ale", frameskip=4, max_pool=True,
                          grayscale=True, resize=(84, 84), record=record)


def single(record: str | None) -> Any:
    return retro.make("Pong-Atari2600", scenario="retro", core="ale", frameskip=4, api="gymnasium",
                      record=record if record is not None else False)


MODES = ("not recording", "recording, no digests", "recording", "recording a dataset")


def run(make: Callable[[str | None], Any], mode: str, seconds: float) -> float:
    """Env-steps per second of ``seconds`` of random play (one warm-up second not counted).

    ``mode`` is one of :data:`MODES`; "recording, no digests" turns the
    emulators' digests off before every step (what recording cost before
    movies carried them).
    """
    with tempfile.TemporaryDirectory(prefix="retro-bench-record-") as folder:
        env = make(folder if mode.startswith("recording") and mode != "recording a dataset" else None)
        n = getattr(env, "num_envs", 1)
        ems = [e.em for e in env.envs] if n > 1 else [env.em]
        if mode == "recording a dataset":  # episodes kept in memory as a Minari dataset's (not written)
            env = DatasetRecorder(env)
        no_digests = mode == "recording, no digests"
        rng = np.random.default_rng(0)
        space = env.single_action_space if n > 1 else env.action_space
        actions = [rng.integers(0, 2, size=(n, *space.shape)) if n > 1 else rng.integers(0, 2, size=space.shape)
                   for _ in range(64)]
        env.reset(seed=0)
        steps, start, counted = 0, time.perf_counter(), None
        while True:
            if no_digests:
                for em in ems:
                    em.digests_on = False
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
    results: dict[tuple[str, str], list[float]] = {(name, mode): [] for name in setups for mode in MODES}
    for r in range(args.rounds):
        for name, make in setups.items():
            for mode in (MODES if r % 2 == 0 else MODES[::-1]):
                results[(name, mode)].append(run(make, mode, args.seconds))
    print("| set-up (ALE core, Pong, frame skip 4) | not recording | recording, no digests | recording (with "
          "digests) | recording / not | digests' cost | recording a dataset | dataset / not |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in setups:
        plain, bare, rec, data = (statistics.median(results[(name, mode)]) for mode in MODES)
        print(f"| {name} | {plain:,.0f} | {bare:,.0f} | {rec:,.0f} | {rec / plain:.2f}x | {1 - rec / bare:+.1%} "
              f"| {data:,.0f} | {data / plain:.2f}x |")
    print(f"\nenv-steps/s, medians of {args.rounds} interleaved rounds of {args.seconds:g} s")


if __name__ == "__main__":
    main()

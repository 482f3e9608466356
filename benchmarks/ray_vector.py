"""``retro.ray.RayVectorEnv`` on 1 and 2 Ray nodes against a local ``RetroVectorEnv``, in one run.

    python3 benchmarks/ray_vector.py                          # 7 rounds of 1.5 s per measurement
    python3 benchmarks/ray_vector.py --rounds 2 --seconds 0.3 # a quick look

Starts a two-node Ray cluster on this machine's loopback addresses (``retro.ray.LoopbackCluster``:
``ray start --head`` and a second ``ray start`` joining it) and stops it at the end. The same
number of envs, the same game and preprocessing are measured three ways: a local
``RetroVectorEnv`` (thread mode), a ``RayVectorEnv`` whose one actor is on the head node, and a
``RayVectorEnv`` with one actor on each node. Every round measures each once, in a new random
order, stepping for a fixed time with pre-generated random actions after a warm-up; printed are
medians over the rounds (min-max) in env-steps/s and the ratios to the local env.

Both nodes run on this one machine, so the 2-node numbers show what Ray's per-step round trips
and the transfer of observations cost, and how the work spreads over this machine's cores; across
machines, each node adds its own cores. Nothing here is part of the test suite.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import retro.ray  # noqa: E402
from retro.vector import RetroVectorEnv  # noqa: E402


def measure(env: Any, actions: list[Any], seconds: float, warmup: int = 5) -> float:
    """env-steps/s of ``env.step`` over ``seconds`` (after ``warmup`` steps)."""
    for i in range(warmup):
        env.step(actions[i % len(actions)])
    steps = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        env.step(actions[steps % len(actions)])
        steps += 1
        if time.perf_counter() >= deadline:
            break
    return steps * env.num_envs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--game", default="Pong-Atari2600")
    parser.add_argument("--envs", type=int, default=4, help="envs in every configuration (default 4)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.5, help="stepping time per measurement")
    parser.add_argument("--cpus-per-actor", type=int, default=1,
                        help="CPUs (and step threads) each actor takes (default 1); each node offers twice that, "
                             "since both Ray envs keep an actor on the head")
    parser.add_argument("--raw", action="store_true",
                        help="one frame per step and RGB observations (default: frameskip 4, 84x84 grayscale)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    kwargs: dict[str, Any] = {} if args.raw else {"frameskip": 4, "max_pool": True, "grayscale": True,
                                                   "resize": (84, 84)}
    rng = random.Random(args.seed)
    started = time.time()
    cpus = 2 * args.cpus_per_actor
    with retro.ray.LoopbackCluster(nodes=2, num_cpus=cpus, init_kwargs={"log_to_driver": False}) as c:
        head = c.node_addresses[0]
        envs = {
            "RetroVectorEnv (local, threads)": RetroVectorEnv(args.game, args.envs, **kwargs),
            "RayVectorEnv, 1 node": retro.ray.RayVectorEnv(args.game, args.envs, nodes=[head], num_actors=1,
                                                           num_cpus_per_actor=args.cpus_per_actor, **kwargs),
            "RayVectorEnv, 2 nodes": retro.ray.RayVectorEnv(args.game, args.envs, num_actors=2,
                                                            num_cpus_per_actor=args.cpus_per_actor, **kwargs),
        }
        try:
            space = envs["RetroVectorEnv (local, threads)"].action_space
            space.seed(args.seed)
            actions = [space.sample() for _ in range(256)]
            for env in envs.values():
                env.reset(seed=args.seed)
            rates: dict[str, list[float]] = {name: [] for name in envs}
            for r in range(args.rounds):
                order = list(envs)
                rng.shuffle(order)
                for name in order:
                    rates[name].append(measure(envs[name], actions, args.seconds))
                print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{n}: {rates[n][-1]:,.0f}" for n in envs),
                      file=sys.stderr)
        finally:
            for env in envs.values():
                env.close()

    what = "one frame per step, RGB" if args.raw else "frameskip 4, max-pool, 84x84 grayscale"
    print(f"\n{args.game}, {args.envs} envs, {what}; {args.rounds} interleaved rounds of {args.seconds} s; "
          f"Ray actors on loopback nodes with {args.cpus_per_actor} CPU(s) each; "
          f"{time.time() - started:.0f} s in all\n")
    base = statistics.median(rates["RetroVectorEnv (local, threads)"])
    print("| | env-steps/s, median (min-max) | vs local |")
    print("|---|---:|---:|")
    for name, values in rates.items():
        med = statistics.median(values)
        print(f"| {name} | {med:,.0f} ({min(values):,.0f}-{max(values):,.0f}) | {med / base:.2f}x |")
    two, one = (statistics.median(rates[f"RayVectorEnv, {n}"]) for n in ("2 nodes", "1 node"))
    print(f"\nRayVectorEnv 2 nodes / 1 node: {two / one:.2f}x")


if __name__ == "__main__":
    main()

"""How fast a game runs here: ``retro bench GAME``.

Measures, for ``--seconds`` each after a short warm-up and over
``--rounds`` interleaved rounds (the table shows the median and the range):

- ``emulator``: ``env.em.step()``, the emulator alone (frames/s);
- ``env``: ``retro.make(GAME).step()`` with random actions, resetting when an episode ends;
- ``vector``: ``RetroVectorEnv(GAME, N)`` with random actions, for each N in ``--num-envs``,
  with ``--frameskip`` and the Atari preprocessing flags if given.

``--core NAME`` runs the game on another core than its system's default
(``retro bench Pong-Atari2600 --core ale``); ``--state`` and ``--scenario``
choose the start state and scenario (a name in the game's folder, or a file).

Numbers depend on what else the machine runs: measure on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np

from retro import _cli

__all__ = ["main", "measure"]


def _rate(run: Callable[[], int], seconds: float) -> float:
    """Calls of ``run`` for ``seconds`` (after one warm-up tenth); returns the steps per second it reports."""
    deadline = time.perf_counter() + seconds / 10
    while time.perf_counter() < deadline:
        run()
    steps = 0
    start = time.perf_counter()
    end = start + seconds
    now = start
    while now < end:
        steps += run()
        now = time.perf_counter()
    return steps / (now - start)


def measure(game: str, *, state: Any = None, seconds: float = 2.0, rounds: int = 3,
            num_envs: tuple[int, ...] = (1, 2), frameskip: int = 1, atari: bool = False,
            mode: str = "thread", seed: int = 0, core: str | None = None,
            scenario: str | None = None) -> list[dict[str, Any]]:
    """The measurements as rows: ``name``, ``unit``, per-round ``rates`` and their ``median``.

    ``core`` (a core name or path) and ``scenario`` are passed to every env built.
    """
    import retro
    from retro.vector import RetroVectorEnv

    state = retro.State.DEFAULT if state is None else state
    options: dict[str, Any] = dict(inttype=retro.data.Integrations.ALL, core=core, scenario=scenario)
    env = retro.make(game, state, **options)
    rng = np.random.default_rng(seed)
    shape = tuple(env.action_space.shape or ())
    actions = rng.integers(0, 2, (512, *shape)).astype(np.int8)
    env.reset()
    em = env.em
    tick = {"i": 0}

    def emulator() -> int:
        for _ in range(64):
            em.step()
        return 64

    def single() -> int:
        i = tick["i"]
        for k in range(64):
            _obs, _rew, done, _info = env.step(actions[(i + k) % 512])
            if done:
                env.reset()
        tick["i"] = i + 64
        return 64

    pre: dict[str, Any] = dict(frameskip=frameskip)
    if atari:
        pre.update(max_pool=True, grayscale=True, resize=(84, 84))
    vectors = []
    for n in num_envs:
        venv = RetroVectorEnv(game, n, state=state, mode=mode, **options, **pre)
        venv.reset(seed=seed)
        batch = rng.integers(0, 2, (16, n, *shape)).astype(np.int8)

        def vector(venv: Any = venv, batch: Any = batch, n: int = n) -> int:
            for k in range(16):
                venv.step(batch[k])
            return 16 * n

        vectors.append((n, venv, vector))

    runs: list[tuple[str, str, Callable[[], int]]] = [
        ("emulator: env.em.step()", "frames/s", emulator),
        ("env: retro.make(game).step()", "steps/s", single),
    ]
    skip = f", frameskip {frameskip}" if frameskip > 1 else ""
    what = ", Atari preprocessing" if atari else ""
    for n, _venv, vector in vectors:
        runs.append((f"vector: RetroVectorEnv, {n} env{'s' if n > 1 else ''} ({mode}s{skip}{what})",
                     "env-steps/s", vector))
    rates: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    try:
        for r in range(rounds):
            order = list(range(len(runs)))
            np.random.default_rng(seed + r).shuffle(order)
            for j in order:
                name, _unit, run = runs[j]
                rates[name].append(_rate(run, seconds))
    finally:
        env.close()
        for _n, venv, _ in vectors:
            venv.close()
    rows = []
    for name, unit, _ in runs:
        values = rates[name]
        row: dict[str, Any] = {"name": name, "unit": unit, "rates": values, "median": statistics.median(values)}
        if name.startswith("vector") and frameskip > 1:
            row["frames_per_second"] = row["median"] * frameskip
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    """``retro bench``: its exit status (errors are one line on stderr)."""
    return _cli.run("retro bench", lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    parser = _cli.ArgumentParser(prog="retro bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    _cli.add_game_argument(parser, "a game whose ROM is imported (retro list shows them)")
    parser.add_argument("--core", default=None,
                        help="a core name (e.g. ale for Atari 2600) or path, instead of the system's default")
    parser.add_argument("--state", default=None, help="start state (default: the game's)")
    parser.add_argument("--scenario", default=None, help="scenario (default: the game's)")
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per run (default 2)")
    parser.add_argument("--rounds", type=_cli.positive_int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--num-envs", default="1,2", help="vector env sizes, comma-separated (default 1,2)")
    parser.add_argument("--frameskip", type=_cli.positive_int, default=1,
                        help="frames per vector env step (default 1)")
    parser.add_argument("--atari", action="store_true", help="vector env with max-pooling, grayscale, 84x84")
    parser.add_argument("--mode", choices=("thread", "process"), default="thread", help="vector env mode")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args(argv)
    try:
        sizes = tuple(int(n) for n in args.num_envs.split(",") if n.strip())
        if not sizes or min(sizes) < 1:
            raise ValueError(args.num_envs)
    except ValueError:
        parser.error(f"argument --num-envs: takes positive whole numbers separated by commas, "
                     f"got {args.num_envs!r}")
    if not args.seconds > 0:
        parser.error(f"argument --seconds: must be more than 0, got {args.seconds:g}")
    game = _cli.known_game(_cli.game_argument(parser, args) or "", need_rom=True)
    rows = measure(game, state=args.state, seconds=args.seconds, rounds=args.rounds, num_envs=sizes,
                   frameskip=args.frameskip, atari=args.atari, mode=args.mode, core=args.core,
                   scenario=args.scenario)
    if args.json:
        print(json.dumps({"game": game, "core": args.core, "rounds": args.rounds, "seconds": args.seconds,
                          "rows": rows}))
        return 0
    width = max(len(row["name"]) for row in rows)
    on = f" on the {args.core} core" if args.core else ""
    print(f"{game}{on}: median of {args.rounds} round(s) of {args.seconds:g} s each (min-max)")
    for row in rows:
        lo, hi = min(row["rates"]), max(row["rates"])
        extra = f"  ({row['frames_per_second']:,.0f} frames/s)" if "frames_per_second" in row else ""
        print(f"  {row['name']:<{width}}  {row['median']:>10,.0f} {row['unit']:<12} ({lo:,.0f}-{hi:,.0f}){extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

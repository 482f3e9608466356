"""Branching speed: return 8 lanes to one saved game and step them, against the ALE doing the same.

    python3 benchmarks/branching.py [--seconds 2] [--rounds 7] [--game Pong]

The pattern of Go-Explore and tree searches: go back to a saved state,
then explore from it. One iteration here is

- retro: ``RetroVectorEnv.restore([snap] * 8, range(8))`` (the eight
  cores read the state together on the step pool, the GIL released), then
  one ``step`` of the 8 lanes with frame skip 4, observing the RAM (what
  Go-Explore's cells are made of; ``--obs rgb`` observes pictures instead);
- the ALE (ale-py, installed into this environment if missing): 8
  ``ALEInterface`` s, each ``restoreState(saved)`` then 4 ``act`` s, in one
  Python thread (the ALE has no vector API with per-lane states).

Both on the ALE's Stella (retro's ALE core), the same game and ROM, random
actions of the game's minimal set. A control measures how much of the second
core this run had (pure-Python loops in 1 and 2 processes; 2.0x when both were
free); a run with a control under 1.9x says so. Each round runs each side for
``--seconds`` in alternating order; the table shows medians of iterations/s
(and env-steps/s: 8 per iteration) and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from retro import paths  # noqa: E402
from retro.vector import RetroVectorEnv  # noqa: E402

LANES = 8
FRAMESKIP = 4
GAMES = {"Pong": ("Pong-Atari2600", "pong"), "Breakout": ("Breakout-Atari2600", "breakout"),
         "MontezumaRevenge": ("MontezumaRevenge-Atari2600", "montezuma_revenge")}


def timed(body: Callable[[], None], seconds: float) -> float:
    """Iterations of ``body`` per second over ``seconds`` (after a quarter second of warm-up)."""
    end = time.perf_counter() + 0.25
    while time.perf_counter() < end:
        body()
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(8):
            body()
        n += 8
        now = time.perf_counter()
        if now - start >= seconds:
            return n / (now - start)


def retro_side(game: str, obs_type: str) -> tuple[Callable[[], None], Callable[[], None]]:
    venv = RetroVectorEnv(game, LANES, scenario="retro", core="ale", frameskip=FRAMESKIP, obs_type=obs_type)
    venv.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(30):  # into the game
        venv.step(rng.integers(0, 2, size=(LANES, *venv.single_action_space.shape)))
    [snap] = venv.snapshot([0])
    snaps, lanes = [snap] * LANES, list(range(LANES))
    actions = [rng.integers(0, 2, size=(LANES, *venv.single_action_space.shape)) for _ in range(64)]
    k = [0]

    def body() -> None:
        venv.restore(snaps, lanes)
        venv.step(actions[k[0] & 63])
        k[0] += 1

    return body, venv.close


def ale_side(rom_name: str) -> tuple[Callable[[], None], Callable[[], None]]:
    import ale_py

    rom = str(paths.roms_dir() / "ale-py" / f"{rom_name}.a26")
    ales = []
    for i in range(LANES):
        ale = ale_py.ALEInterface()
        ale.setLoggerMode(ale_py.LoggerMode.Error)
        ale.setInt("random_seed", i)
        ale.setInt("frame_skip", 1)
        ale.setFloat("repeat_action_probability", 0.0)
        ale.loadROM(rom)
        ales.append(ale)
    minimal = ales[0].getMinimalActionSet()
    rng = np.random.default_rng(0)
    for _ in range(120):
        ales[0].act(minimal[rng.integers(len(minimal))])
    saved = ales[0].cloneState()
    actions = [[minimal[j] for j in rng.integers(len(minimal), size=LANES)] for _ in range(64)]
    k = [0]

    def body() -> None:
        acts = actions[k[0] & 63]
        for ale, a in zip(ales, acts):
            ale.restoreState(saved)
            for _ in range(FRAMESKIP):
                ale.act(a)
        k[0] += 1

    return body, lambda: None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--game", default="Pong", choices=sorted(GAMES))
    parser.add_argument("--obs", default="ram", choices=("ram", "rgb"),
                        help="retro's observations: the RAM (what Go-Explore's cells read; default) or RGB pictures")
    args = parser.parse_args(argv)
    from peers import BUILD, ensure_ale  # noqa: E402  (installs ale-py here if it is missing)
    from _peer_workers.common import spin  # noqa: E402

    BUILD.mkdir(parents=True, exist_ok=True)
    ensure_ale(BUILD / "branching-setup.log")
    game, rom = GAMES[args.game]
    ours, close_ours = retro_side(game, args.obs)
    theirs, close_theirs = ale_side(rom)
    rates: dict[str, list[float]] = {"retro": [], "ale": [], "control": []}
    try:
        for r in range(args.rounds):
            order = [("retro", ours), ("ale", theirs)]
            if r % 2:
                order.reverse()
            for name, body in order:
                rates[name].append(timed(body, args.seconds))
            rates["control"].append(spin(2, 1.0)["rate"] / spin(1, 1.0)["rate"])
    finally:
        close_ours()
        close_theirs()
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"branching, {args.game} on the ALE's Stella: restore {LANES} lanes to one state + one step "
          f"(frame skip {FRAMESKIP}, retro observing {args.obs}); {args.rounds} rounds of {args.seconds:g} s, medians")
    print("| | iterations/s | env-steps/s | range |\n|---|---|---|---|")
    for name, label in (("retro", f"retro RetroVectorEnv restore + step ({LANES} lanes, step pool)"),
                        ("ale", f"ale-py {LANES} ALEInterfaces restoreState + {FRAMESKIP} acts (one thread)")):
        lo, hi = min(rates[name]), max(rates[name])
        print(f"| {label} | {med[name]:,.0f} | {med[name] * LANES:,.0f} | {lo:,.0f}-{hi:,.0f} |")
    print(f"\nretro / ale: {med['retro'] / med['ale']:.2f}x   (control, 2 processes / 1: {med['control']:.2f}x"
          f"{'' if med['control'] >= 1.9 else ' - under 1.9x: the second core was busy, the ratio is not valid'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A random agent playing Airstriker: ``python3 -m retro.examples.trivial_random_agent``."""

from __future__ import annotations

import argparse

import retro


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--game", default="Airstriker-Genesis")
    parser.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: play forever)")
    parser.add_argument("--render", action="store_true", help="show the game in a window")
    args = parser.parse_args(argv)
    env = retro.make(game=args.game, render_mode="human" if args.render else None)
    env.reset()
    steps = 0
    while args.steps == 0 or steps < args.steps:
        _obs, _rew, done, _info = env.step(env.action_space.sample())
        steps += 1
        if args.render:
            env.render()
        if done:
            env.reset()
    env.close()


if __name__ == "__main__":
    main()

"""Two random players in Pong: ``python3 -m retro.examples.trivial_random_agent_multiplayer``."""

from __future__ import annotations

import argparse

import retro


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: play forever)")
    parser.add_argument("--render", action="store_true")
    args = parser.parse_args(argv)
    env = retro.make(game="Pong-Atari2600", players=2, render_mode="human" if args.render else None)
    env.reset()
    steps = 0
    while args.steps == 0 or steps < args.steps:
        # the action space is MultiBinary(16): the low half is player 1, the high half player 2
        _obs, rew, done, _info = env.step(env.action_space.sample())
        # rew is a list: [player 1's reward, player 2's reward]
        steps += 1
        if args.render:
            env.render()
        if done:
            env.reset()
    env.close()


if __name__ == "__main__":
    main()

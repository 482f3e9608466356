"""A random agent playing Airstriker: ``python3 -m retro.examples.trivial_random_agent``.

It plays one episode (``--episodes N`` for more, at most ``--steps`` steps in
all) and prints each episode's length and total reward.
"""

from __future__ import annotations

import argparse

import retro


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--game", default="Airstriker-Genesis")
    parser.add_argument("--episodes", type=int, default=1, help="episodes to play (default 1)")
    parser.add_argument("--steps", type=int, default=10_000, help="stop after this many steps in all (default 10000)")
    parser.add_argument("--render", action="store_true", help="show the game in a window")
    args = parser.parse_args(argv)
    env = retro.make(game=args.game, render_mode="human" if args.render else None)
    steps = 0
    for episode in range(1, args.episodes + 1):
        env.reset()
        done, length, total_reward = False, 0, 0.0
        while not done and steps < args.steps:
            _obs, rew, done, _info = env.step(env.action_space.sample())
            length += 1
            steps += 1
            total_reward += rew
            if args.render:
                env.render()
        print(f"episode {episode}: {length} steps, total reward {total_reward:g}"
              + ("" if done else " (stopped: --steps reached)"))
        if not done:
            break
    env.close()


if __name__ == "__main__":
    main()

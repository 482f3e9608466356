"""Two random players in Pong: ``python3 -m retro.examples.trivial_random_agent_multiplayer``.

It plays one episode (``--episodes N`` for more, at most ``--steps`` steps in
all) and prints each episode's length and both players' total rewards.
"""

from __future__ import annotations

import argparse

import retro


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=1, help="episodes to play (default 1)")
    parser.add_argument("--steps", type=int, default=10_000, help="stop after this many steps in all (default 10000)")
    parser.add_argument("--render", action="store_true", help="show the game in a window")
    args = parser.parse_args(argv)
    env = retro.make(game="Pong-Atari2600", players=2, render_mode="human" if args.render else None)
    steps = 0
    for episode in range(1, args.episodes + 1):
        env.reset()
        done, length, totals = False, 0, [0.0, 0.0]
        while not done and steps < args.steps:
            # the action space is MultiBinary(16): the low half is player 1, the high half player 2
            _obs, rew, done, _info = env.step(env.action_space.sample())
            # rew is a list: [player 1's reward, player 2's reward]
            totals = [total + r for total, r in zip(totals, rew)]
            length += 1
            steps += 1
            if args.render:
                env.render()
        print(f"episode {episode}: {length} steps, total rewards: player 1 {totals[0]:g}, player 2 {totals[1]:g}"
              + ("" if done else " (stopped: --steps reached)"))
        if not done:
            break
    env.close()


if __name__ == "__main__":
    main()

"""A random agent with options: ``python3 -m retro.examples.random_agent --game Pong-Atari2600``.

It plays one episode (``--episodes N`` for more; an episode ends by itself or
after ``--max-steps`` steps), printing each reward and each episode's total.
"""

from __future__ import annotations

import argparse

import retro


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--game", default="Airstriker-Genesis", help="the game to run")
    parser.add_argument("--state", default=retro.State.DEFAULT,
                        help="the initial state file to load, minus the extension")
    parser.add_argument("--scenario", "-s", default="scenario", help="the scenario file to load, minus the extension")
    parser.add_argument("--record", "-r", action="store_true", help="record .bk2 movies in the working directory")
    parser.add_argument("--verbose", "-v", action="count", default=1, help="more output")
    parser.add_argument("--quiet", "-q", action="count", default=0, help="less output")
    parser.add_argument("--obs-type", "-o", default="image", choices=["image", "ram"], help="the observation type")
    parser.add_argument("--players", "-p", type=int, default=1, help="number of players/agents")
    parser.add_argument("--episodes", type=int, default=1, help="episodes to play (default 1; 0: forever)")
    parser.add_argument("--max-steps", type=int, default=10_000,
                        help="end an episode after this many steps (default 10000; 0: never)")
    args = parser.parse_args(argv)

    obs_type = retro.Observations.IMAGE if args.obs_type == "image" else retro.Observations.RAM
    env = retro.make(args.game, args.state or retro.State.NONE, scenario=args.scenario, record=args.record,
                     players=args.players, obs_type=obs_type)
    verbosity = args.verbose - args.quiet
    episodes = 0
    try:
        while args.episodes == 0 or episodes < args.episodes:
            env.reset()
            t = 0
            totrew = [0.0] * args.players
            while True:
                ac = env.action_space.sample()
                _ob, rew, done, info = env.step(ac)
                t += 1
                if t % 10 == 0 and verbosity > 1:
                    print("t=%i %s" % (t, ", ".join("%s=%i" % (k, v) for k, v in sorted(info.items()))))
                rews = rew if isinstance(rew, list) else [rew]
                for i, r in enumerate(rews):
                    totrew[i] += r
                    if verbosity > 0 and r:
                        print("t=%i p=%i got reward: %g, current reward: %g" % (t, i, r, totrew[i]))
                if done or (args.max_steps and t >= args.max_steps):
                    if verbosity >= 0:
                        shown = "%g" % totrew[0] if args.players == 1 else ", ".join("%g" % r for r in totrew)
                        print("done! total reward: time=%i, reward=%s" % (t, shown)
                              + ("" if done else " (stopped: --max-steps reached)"))
                    break
            episodes += 1
    except KeyboardInterrupt:  # Ctrl-C stops it
        pass
    finally:
        env.close()


if __name__ == "__main__":
    main()

"""retro's main job: an agent plays a bundled game, the play is recorded and rendered to video.

``python3 -m retro.scripts.demo [--game Airstriker-Genesis] [--out retro-demo] [--max-steps N]``

1. A random agent plays one episode of the game through ``retro.make(...,
   record=OUT)``, which records it as a ``.bk2`` movie.
2. The movie is replayed and rendered to an ``.mp4`` with sound
   (what ``retro playback`` does).
3. It prints where the files are and how fast each part ran, with a short
   speed comparison: one env, the raw emulator, and a 2-env vector env.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import retro
from retro.scripts.playback_movie import playback_movie
from retro.vector import RetroVectorEnv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m retro.scripts.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--game", default="Airstriker-Genesis")
    parser.add_argument("--out", default="retro-demo", help="folder for the movie and the video")
    parser.add_argument("--max-steps", type=int, default=4000, help="end the episode after this many steps")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    env = retro.make(args.game, record=args.out)
    rng = np.random.default_rng(args.seed)
    env.reset()
    print(f"{args.game}: {env.system} on {env.em.core.library_name} {env.em.core.library_version}, "
          f"state {env.statename}, actions {env.action_space}, observations {env.observation_space.shape}")
    steps, total, done = 0, 0.0, False
    start = time.perf_counter()
    while not done and steps < args.max_steps:
        _obs, rew, done, info = env.step(rng.integers(0, 2, int(np.prod(env.action_space.shape or (1,)))))
        total += rew
        steps += 1
    play_secs = time.perf_counter() - start
    state = env.statename[:-len(".state")] if env.statename else "none"
    movie_path = os.path.join(args.out, f"{env.gamename}-{state}-{env.movie_id - 1:06d}.bk2")
    env.close()
    print(f"played {steps} steps ({'game over' if done else 'step limit'}), reward {total:g}, final info {info}")
    print(f"  {steps / play_secs:,.0f} steps/s with IMAGE observations and recording")

    result = playback_movie(movie_path)
    print(f"movie: {os.path.abspath(movie_path)}")
    print(f"video: {os.path.abspath(result['video'])} ({result['frames']} frames at {result['fps']:.2f} fps, "
          f"rendered in {result['seconds']:.1f} s)")

    frames = 3000
    with retro.RetroEmulator(retro.data.get_romfile_path(args.game)) as em:
        start = time.perf_counter()
        em.step(frames)
        raw = frames / (time.perf_counter() - start)
    env = retro.make(args.game)
    env.reset()
    actions = rng.integers(0, 2, (frames, int(np.prod(env.action_space.shape or (1,)))))
    start = time.perf_counter()
    for a in actions:
        if env.step(a)[2]:
            env.reset()
    single = frames / (time.perf_counter() - start)
    env.close()
    venv = RetroVectorEnv(args.game, 2)
    venv.reset(seed=args.seed)
    batch = venv.action_space.sample()
    start = time.perf_counter()
    for _ in range(frames // 2):
        venv.step(batch)
    vec = frames / (time.perf_counter() - start)
    venv.close()
    print("speed (frames/s):")
    print(f"  raw emulator step(): {raw:8,.0f}")
    print(f"  RetroEnv.step():     {single:8,.0f}  ({single / raw:.2f}x raw)")
    print(f"  2-env vector env:    {vec:8,.0f}  ({vec / single:.2f}x one env, {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Plays jobs with one library and prints what every step gave: run under retro or stable-retro.

``python compat_worker.py retro|stable_retro JOBS.json OUT.json`` runs each
job with that library's Gym Retro API, the same code for both, and writes
one record per job: per step the SHA-1 of the observation, the reward,
done and the info dict. Only the standard library, numpy and the library
under test are imported, so the script runs in stable-retro's own
virtualenv unchanged.

Jobs:

- ``play``: ``retro.make(game, state)``, then the given actions; on done,
  reset (that observation is recorded too);
- ``record``: the same with ``record=DIR``; the record names the movie;
- ``replay``: a ``.bk2`` movie, replayed as Gym Retro's documentation does
  (``state=None``, ``Actions.ALL``, the movie's start state as
  ``initial_state``).
"""

from __future__ import annotations

import glob
import hashlib
import importlib
import json
import os
import sys
from typing import Any

import numpy as np


def digest(obs: Any) -> str:
    return hashlib.sha1(np.ascontiguousarray(obs).tobytes()).hexdigest()


def plain(info: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in sorted(info.items())}


def play(R: Any, job: dict[str, Any], record: str | None = None) -> dict[str, Any]:
    actions = np.load(job["actions"])
    kwargs: dict[str, Any] = {"state": job["state"], "players": job.get("players", 1), "render_mode": None}
    if record:
        kwargs["record"] = record
    if R.__name__ == "retro":
        kwargs["api"] = "gymnasium"
    env = R.make(job["game"], **kwargs)
    steps: list[Any] = []
    try:
        obs, _info = env.reset()
        steps.append([digest(obs), 0.0, False, None])  # reset's info: stable-retro's is always empty
        for a in actions:
            obs, rew, terminated, truncated, info = env.step(a)
            done = bool(terminated or truncated)
            steps.append([digest(obs), float(np.sum(rew)), done, plain(info)])
            if done:
                obs, _info = env.reset()
                steps.append([digest(obs), 0.0, False, None])
    finally:
        if record:
            env.stop_record()  # writes the movie (stable-retro's close() does not)
        env.close()
    out: dict[str, Any] = {"steps": steps, "buttons": int(env.action_space.shape[0])}
    if record:
        out["movies"] = sorted(glob.glob(os.path.join(record, "*.bk2")))
    return out


def replay(R: Any, job: dict[str, Any]) -> dict[str, Any]:
    movie = R.Movie(job["movie"])
    movie.step()
    kwargs: dict[str, Any] = {"state": None, "use_restricted_actions": R.Actions.ALL, "players": movie.players,
                              "render_mode": None}
    if R.__name__ == "retro":
        kwargs["api"] = "gymnasium"
    env = R.make(movie.get_game(), **kwargs)
    env.initial_state = movie.get_state()
    frames: list[str] = []
    try:
        obs, _info = env.reset()
        frames.append(digest(obs))
        buttons = env.num_buttons
        while movie.step():
            keys = [movie.get_key(i, p) for p in range(movie.players) for i in range(buttons)]
            obs, *_ = env.step(np.array(keys, dtype=np.int8))
            frames.append(digest(obs))
    finally:
        env.close()
    return {"frames": frames}


def main() -> None:
    R = importlib.import_module(sys.argv[1])
    with open(sys.argv[2]) as f:
        jobs = json.load(f)
    results = []
    for job in jobs:
        if job["kind"] == "play":
            results.append(play(R, job))
        elif job["kind"] == "record":
            results.append(play(R, job, record=job["dir"]))
        else:
            results.append(replay(R, job))
    with open(sys.argv[3], "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()

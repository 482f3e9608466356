"""Plays jobs with one library and prints what every step gave: run under retro or stable-retro.

``python compat_worker.py retro|stable_retro JOBS.json OUT.json`` runs each
job with that library's Gym Retro API, the same code for both, and writes
one record per job: per step the SHA-1 of the observation, the reward,
done and the info dict. Only the standard library, numpy and the library
under test are imported, so the script runs in stable-retro's own
virtualenv unchanged.

Jobs:

- ``play``: ``retro.make(game, state)``, then the given actions; on done,
  reset (that observation is recorded too). ``state`` null is
  ``State.NONE`` (power-on); ``custom`` names a folder of custom
  integrations to search (``Integrations.ALL``); ``movie`` records the
  episodes into that ``.bk2`` with ``record_movie`` (from power-on, where
  ``record=`` cannot name a movie after its state); ``options`` are further
  keyword arguments for this library's ``make`` only (retro's, not
  stable-retro's);
- ``record``: the same with ``record=DIR``; the record names the movie;
- ``replay``: a ``.bk2`` movie, replayed as Gym Retro's documentation does
  (``state=None``, ``Actions.ALL``, the movie's start state as
  ``initial_state``);
- ``emulator``: a new ``RetroEmulator`` of the ROM ``rom``: the digest of its
  screen, then of the screen after each ``step()``, with player 1's buttons
  set to the given actions' rows.

``rows`` (any job) keeps only the observation's first rows in its digest.
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


_CUSTOM: set[str] = set()  # custom integration folders added in this process


def digest(obs: Any, rows: int | None = None) -> str:
    return hashlib.sha1(np.ascontiguousarray(obs[:rows]).tobytes()).hexdigest()


def plain(info: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in sorted(info.items())}


def play(R: Any, job: dict[str, Any], record: str | None = None) -> dict[str, Any]:
    actions = np.load(job["actions"])
    rows = job.get("rows")
    state = R.State.NONE if job["state"] is None else job["state"]
    kwargs: dict[str, Any] = {"state": state, "players": job.get("players", 1), "render_mode": None}
    if record:
        kwargs["record"] = record
    if job.get("custom"):
        if job["custom"] not in _CUSTOM:
            R.data.Integrations.add_custom_path(job["custom"])
            _CUSTOM.add(job["custom"])
        kwargs["inttype"] = R.data.Integrations.ALL
    if R.__name__ == "retro":
        kwargs["api"] = "gymnasium"
        kwargs.update(job.get("options", {}))
    env = R.make(job["game"], **kwargs)
    if job.get("movie"):
        env.record_movie(job["movie"])
        record = job["movie"]
    steps: list[Any] = []
    try:
        obs, _info = env.reset()
        steps.append([digest(obs, rows), 0.0, False, None])  # reset's info: stable-retro's is always empty
        for a in actions:
            obs, rew, terminated, truncated, info = env.step(a)
            done = bool(terminated or truncated)
            steps.append([digest(obs, rows), float(np.sum(rew)), done, plain(info)])
            if done:
                obs, _info = env.reset()
                steps.append([digest(obs, rows), 0.0, False, None])
    finally:
        if record:
            env.stop_record()  # writes the movie (stable-retro's close() does not)
        env.close()
    out: dict[str, Any] = {"steps": steps, "buttons": int(env.action_space.shape[0])}
    if job.get("movie"):
        out["movies"] = [job["movie"]]
    elif record:
        out["movies"] = sorted(glob.glob(os.path.join(record, "*.bk2")))
    return out


def emulator(R: Any, job: dict[str, Any]) -> dict[str, Any]:
    actions = np.load(job["actions"])
    rows = job.get("rows")
    em = R.RetroEmulator(job["rom"])
    try:
        frames = [digest(em.get_screen(), rows)]
        for a in actions:
            em.set_button_mask(np.asarray(a, dtype=np.uint8), 0)
            em.step()
            frames.append(digest(em.get_screen(), rows))
    finally:
        del em  # stable-retro allows one emulator per process: it goes before the next job's
    return {"frames": frames}


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
    rows = job.get("rows")
    try:
        obs, _info = env.reset()
        frames.append(digest(obs, rows))
        buttons = env.num_buttons
        while movie.step():
            keys = [movie.get_key(i, p) for p in range(movie.players) for i in range(buttons)]
            obs, *_ = env.step(np.array(keys, dtype=np.int8))
            frames.append(digest(obs, rows))
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
        elif job["kind"] == "emulator":
            results.append(emulator(R, job))
        else:
            results.append(replay(R, job))
    with open(sys.argv[3], "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()

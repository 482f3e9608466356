"""Offline-RL datasets in Minari's format: from live play (:class:`DatasetRecorder`) or from ``.bk2`` movies
(:func:`export_movies`, ``retro export MOVIE.bk2 --to minari NAME``).

A dataset holds, per episode, the observations as the env gave them (its
``obs_type`` and preprocessing), the actions, rewards, terminations,
truncations and infos (the game's variables from ``data.json``). Pictures
are stored losslessly (Minari's JPEG encoding is turned off), so replaying an
episode's actions from its start state gives its observations bit for bit.
Minari (``pip install 'retro[minari]'``) is imported only here, and only
when a dataset is written.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from retro.errors import ConfigurationError

__all__ = ["DatasetRecorder", "export_movies"]


@dataclass
class _Episode:
    """One episode being recorded: the observation and info of its start, then one of each per step."""

    observations: list[Any]
    infos: list[dict[str, Any]]
    actions: list[Any] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    terminations: list[bool] = field(default_factory=list)
    truncations: list[bool] = field(default_factory=list)
    seed: int | None = None


class DatasetRecorder:
    """Record a live ``RetroEnv`` (Gymnasium API) or a thread-mode ``RetroVectorEnv`` into a Minari dataset.

    Use it as the env: ``reset`` and ``step`` go to the env and return what it
    returns, and every other attribute is the env's. Each lane of a vector
    env is a stream of episodes of its own (with next-step autoreset, the
    step that resets a lane starts its next episode). ``create_dataset(name)``
    writes the episodes that have ended.
    """

    def __init__(self, env: Any) -> None:
        if getattr(env, "api", "gymnasium") != "gymnasium":
            raise ConfigurationError('a dataset is recorded from a RetroEnv made with api="gymnasium"')
        if getattr(env, "mode", "thread") != "thread":
            raise ConfigurationError("a dataset is recorded from a vector env in mode='thread'")
        self.env = env
        self.num_envs = int(getattr(env, "num_envs", 1))
        self._vector = hasattr(env, "num_envs")
        self._open: list[_Episode | None] = [None] * self.num_envs
        self._autoreset = np.zeros(self.num_envs, bool)
        #: The episodes that have ended, in the order they ended.
        self.episodes: list[_Episode] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["env"], name)

    # -- recording -------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, Any]:
        """The env's ``reset``; episodes not ended yet are dropped, and new ones start."""
        obs, infos = self.env.reset(seed=seed, options=options)
        mask = (options or {}).get("reset_mask")
        for i in range(self.num_envs):
            if mask is None or mask[i]:
                lane_seed = None if seed is None else (seed + i if isinstance(seed, int) else seed[i])
                self._open[i] = _Episode([self._row(obs, i)], [self._info(infos, i)], seed=lane_seed)
                self._autoreset[i] = False
        return obs, infos

    def step(self, actions: Any) -> tuple[Any, ...]:
        """The env's ``step``, recorded."""
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
        if not self._vector:
            self._record(0, obs, actions, rewards, terminated, truncated, infos)
            return obs, rewards, terminated, truncated, infos
        restarted = self._autoreset.copy()
        for i in range(self.num_envs):
            if restarted[i]:  # this step reset the lane: its next episode starts here
                self._open[i] = _Episode([self._row(obs, i)], [self._info(infos, i)])
            else:
                self._record(i, obs, actions[i], rewards[i], terminated[i], truncated[i], infos)
        self._autoreset[:] = np.asarray(terminated) | np.asarray(truncated)
        return obs, rewards, terminated, truncated, infos

    def _record(self, i: int, obs: Any, action: Any, reward: Any, terminated: Any, truncated: Any,
                infos: Any) -> None:
        episode = self._open[i]
        if episode is None:
            raise ConfigurationError("call reset() on the recorder (not on the env under it) before step()")
        episode.observations.append(self._row(obs, i))
        episode.infos.append(self._info(infos, i))
        episode.actions.append(np.array(action, copy=True))
        episode.rewards.append(float(reward))
        episode.terminations.append(bool(terminated))
        episode.truncations.append(bool(truncated))
        if terminated or truncated:
            self.episodes.append(episode)
            self._open[i] = None

    def _row(self, obs: Any, i: int) -> Any:
        """Lane ``i``'s observation (the env hands out a new array each step, so a view is kept, not copied)."""
        if not self._vector:
            return obs
        return {k: v[i] for k, v in obs.items()} if isinstance(obs, dict) else obs[i]

    def _info(self, infos: dict[str, Any], i: int) -> dict[str, Any]:
        if not self._vector:
            return dict(infos)
        return {k: v[i] for k, v in infos.items() if not k.startswith("_") and infos.get("_" + k, [True] * (i + 1))[i]}

    def finish(self) -> None:
        """End every episode still being played as truncated at its last step (the play stops here)."""
        for i, episode in enumerate(self._open):
            if episode is not None and episode.actions:
                episode.truncations[-1] = True
                self.episodes.append(episode)
            self._open[i] = None

    # -- writing ---------------------------------------------------------------------

    def create_dataset(self, dataset_id: str, **metadata: Any) -> Any:
        """Write the ended episodes as the Minari dataset ``dataset_id`` (``"namespace/name-v0"``) and return it
        (a ``minari.MinariDataset``); ``metadata`` goes to ``minari.create_dataset_from_buffers`` (``author``,
        ``description``, ...)."""
        if not self.episodes:
            raise ConfigurationError("no episode has ended yet: there is nothing to write")
        space = self.env.single_observation_space if self._vector else self.env.observation_space
        action_space = self.env.single_action_space if self._vector else self.env.action_space
        return write_dataset(dataset_id, self.episodes, space, action_space, **metadata)


def write_dataset(dataset_id: str, episodes: Sequence[_Episode], observation_space: Any, action_space: Any,
                  **metadata: Any) -> Any:
    """Episodes as a Minari dataset, pictures stored losslessly."""
    minari = _minari()
    from minari.data_collector import EpisodeBuffer

    buffers = []
    for n, e in enumerate(episodes):
        keys = list(e.infos[0])
        infos = {k: np.array([info.get(k, 0) for info in e.infos]) for k in keys}
        buffers.append(EpisodeBuffer(
            id=n, seed=e.seed, observations=_stack(e.observations), actions=np.stack(e.actions),
            rewards=list(e.rewards), terminations=list(e.terminations), truncations=list(e.truncations),
            infos=infos))
    metadata.setdefault("algorithm_name", "retro")
    with warnings.catch_warnings():  # Minari's advice to name an author, a description, an eval env
        warnings.filterwarnings("ignore", message=".* is set to None", category=UserWarning)
        warnings.filterwarnings("ignore", message="env_spec is None", category=UserWarning)
        return minari.create_dataset_from_buffers(dataset_id, buffers, observation_space=observation_space,
                                                  action_space=action_space, data_format="hdf5",
                                                  jpeg_encoding=False, **metadata)


def _stack(observations: list[Any]) -> Any:
    if isinstance(observations[0], dict):
        return {k: np.stack([o[k] for o in observations]) for k in observations[0]}
    return np.stack(observations)


def _minari() -> Any:
    try:
        import minari
    except ImportError as e:
        raise ImportError("writing Minari datasets needs Minari: pip install 'retro[minari]'") from e
    return minari


# -- movies ----------------------------------------------------------------------------------


def export_movies(paths: Sequence[str | os.PathLike[str]], dataset_id: str, *, obs_type: str = "rgb",
                  grayscale: bool = False, resize: tuple[int, int] | None = None, **metadata: Any) -> Any:
    """Replay ``.bk2`` movies and write them as one Minari dataset, one episode per movie.

    Each movie is replayed from its start state on the core that made it,
    one step per frame, its buttons as the actions (a ``MultiBinary`` of all
    the system's buttons, per player); the observations are ``obs_type``'s
    (``"rgb"``, ``"grayscale"``, ``"ram"``, ``"rgb_ram"``), grayscaled and
    resized in C as asked. An episode is terminated where the game is done,
    truncated where the movie ends before that.
    """
    from retro.env import make_for_movie
    from retro.movie import Movie
    from retro.vector import Preprocessing

    episodes: list[_Episode] = []
    spaces: tuple[Any, Any] | None = None
    for path in paths:
        movie = Movie(path)
        if not movie.step():
            continue
        env = make_for_movie(movie, api="gymnasium", obs_type=obs_type)
        try:
            played: Any = Preprocessing(env, grayscale=grayscale, resize=resize) if grayscale or resize else env
            recorder = DatasetRecorder(played)
            recorder.reset()
            for keys, switches in movie.actions(env.num_buttons):
                if switches:
                    env.session.console(switches)
                _, _, done, _, _ = recorder.step(keys.astype(np.int8))
                if done:
                    break
            recorder.finish()  # a movie that ends before the game does: its episode is truncated there
            episodes.extend(recorder.episodes)
            spaces = spaces or (played.observation_space, played.action_space)
        finally:
            env.close()
            movie.close()
    if spaces is None or not episodes:
        raise ConfigurationError("the movies have no frames to export")
    metadata.setdefault("description", f"retro: {len(episodes)} episode(s) replayed from .bk2 movies")
    return write_dataset(dataset_id, episodes, *spaces, **metadata)

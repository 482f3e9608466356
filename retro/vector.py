"""Vector environments: N games stepped together, on threads in one process or in subprocesses.

``RetroVectorEnv`` follows Gymnasium's ``VectorEnv`` API (``num_envs``,
batched ``reset``/``step``, next-step autoreset). In the default thread mode
every emulator lives in this process (each loads a private copy of its
core) and all of them play their frame together on C worker threads
(:class:`retro.StepPool`) with the GIL released; the cores' pictures
are converted straight into the rows of the batch of observations that
``step`` returns. Frame skipping with max-pooling, grayscale and resizing
are done in C on the emulator's frame buffer, so per-step Python work stays
flat as N grows.
``mode="process"`` runs each env in a worker process instead (Gymnasium's
``AsyncVectorEnv`` with shared memory), for isolation.

The two modes are two classes behind one contract, as Gymnasium's
``SyncVectorEnv`` and ``AsyncVectorEnv`` are: ``RetroVectorEnv(...)`` makes a
:class:`RetroThreadVectorEnv` or a :class:`RetroProcessVectorEnv` from its
``mode`` argument; both are ``RetroVectorEnv`` instances.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from typing import Any, NoReturn, Sequence, cast

import gymnasium
from gymnasium.envs.registration import EnvSpec
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from retro.emulator import StepPool
from retro.enums import Actions, State
from retro.env import RetroEnv, restore_envs
from retro.errors import ConfigurationError, EmulatorClosedError, WorkerDiedError
from retro.session import GameSession
from retro.snapshot import Snapshot
from retro.step import StepPlan, copy, play, row

__all__ = ["RetroVectorEnv", "RetroThreadVectorEnv", "RetroProcessVectorEnv", "Preprocessing", "make_vec"]


def _check_plain_steps(env: Any) -> None:
    """Preprocessing and the vector env play the session themselves: the env's own frame skip and sticky actions
    would be bypassed, so they are refused."""
    if getattr(env, "frameskip", 1) != 1 or getattr(env, "repeat_action_probability", 0.0):
        raise ConfigurationError(
            "this env has its own frameskip or repeat_action_probability; Preprocessing and RetroVectorEnv skip "
            "frames themselves (their frameskip=) and have no sticky actions: make the env with frameskip=1, "
            "repeat_action_probability=0, or use gymnasium.wrappers.AtariPreprocessing / gymnasium's vector envs")


def _session_of(env: gymnasium.Env) -> GameSession:
    session = getattr(env.unwrapped, "session", None)
    if not isinstance(session, GameSession):
        raise ConfigurationError(f"expected a retro env (RetroEnv or one made by gymnasium.make), got {env!r}")
    return session


class Preprocessing(gymnasium.Wrapper):
    """The vector env's native preprocessing for a single retro env (Gymnasium API).

    Frame skip (rewards summed, stopping at the frame the game is done),
    max-pooling of the last two frames, grayscale and resizing, all done by
    the emulator in C. Wraps a ``RetroEnv`` made with ``api="gymnasium"`` or
    one from ``gymnasium.make("retro/...")``.
    """

    def __init__(self, env: gymnasium.Env, frameskip: int = 1, max_pool: bool = False, grayscale: bool = False,
                 resize: tuple[int, int] | None = None) -> None:
        super().__init__(env)
        if getattr(env.unwrapped, "api", "gymnasium") != "gymnasium":
            raise ConfigurationError('Preprocessing needs a RetroEnv made with api="gymnasium"')
        _check_plain_steps(env.unwrapped)
        self._session = _session_of(env)
        #: What a step plays.
        base = cast(Any, env.unwrapped).plan.observation
        self.plan = StepPlan(frameskip, base.preprocessed_as(grayscale, resize, max_pool))
        self.observation_space = self.plan.observation.space(self._session)

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the env and return ``(observation, info)``, the observation preprocessed."""
        _, info = self.env.reset(**kwargs)
        return self.plan.observation.observe(self._session), info

    def step(self, action: Any) -> tuple[np.ndarray, Any, bool, bool, dict[str, Any]]:
        """One agent step: ``frameskip`` frames, rewards summed, stopping at the frame the game is done."""
        if getattr(self.env.unwrapped, "needs_reset", False):
            self.env.step(action)  # raises the env's own error
        session = self._session
        session.press(session.decode(action))
        obs = self.plan.observation.empty(session)
        [(rew, done, info)] = play(self.plan, [session], [obs])
        return obs, rew, done, False, info


class RetroVectorEnv(VectorEnv):
    """``num_envs`` copies of a game, stepped together.

    Args:
        game: the game id.
        num_envs: how many environments.
        state: one start state for all envs.
        states: one start state per env (instead of ``state``).
        frameskip: frames per agent step (rewards summed, stopping at the frame the game is done).
        max_pool: observe the pixel-wise maximum of a step's last two frames.
        grayscale: observe luma instead of RGB.
        resize: ``(height, width)`` to area-resize observations to, e.g. ``(84, 84)``.
        num_threads: worker threads (default: the number of CPUs, at most num_envs).
        mode: ``"thread"`` (default) or ``"process"``.
        use_restricted_actions: the kind of action space, as for :func:`retro.make`.
        on_worker_death: process mode: ``"raise"`` (default) raises
            ``WorkerDiedError`` when a worker process dies (its env index,
            how it died, and the last observation and info the env returned);
            ``"restart"`` starts the workers again instead, resets every env
            and returns those first observations from the ``step`` (or
            ``reset``) that found the dead worker, with ``truncated`` set for
            every env and ``info["worker_died"]`` marking the envs whose
            worker died.
        max_episode_steps: an episode that reaches this many agent steps is
            truncated (``truncated`` True, next-step autoreset), as Gymnasium's
            ``TimeLimit`` does for a single env.
        render_mode: None or ``"rgb_array"`` (``render()`` returns each env's screen).
        step_timeout: process mode: the seconds a worker may take to answer a
            ``reset``, ``step`` or ``call``; one that takes longer (stopped, or
            stuck in a core) is killed and reported as a ``WorkerDiedError``,
            as a worker that dies is (default None: no limit).
        **kwargs: go to every ``RetroEnv``; among them ``record``, a folder (or True for
            the working directory) where every env records every episode, as
            ``<game>-<state>-env<i>-<number>.bk2``.

    ``gymnasium.make_vec("retro/<Game>-v0", num_envs, vectorization_mode="vector_entry_point")``
    makes one.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": ["rgb_array"]}

    def __new__(cls, *args: Any, **kwargs: Any) -> "RetroVectorEnv":
        """``RetroVectorEnv(...)`` makes the class of its ``mode``: :class:`RetroThreadVectorEnv` or
        :class:`RetroProcessVectorEnv` (as Gymnasium's ``SyncVectorEnv``/``AsyncVectorEnv``, one contract)."""
        if cls is __class__:  # type: ignore[name-defined]  # this class, even where its module name is patched
            cls = RetroProcessVectorEnv if kwargs.get("mode") == "process" else RetroThreadVectorEnv
        return super().__new__(cls)

    def __init__(self, game: str, num_envs: int, *, state: State | str | None = State.DEFAULT,
                 states: Sequence[State | str | None] | None = None, frameskip: int = 1,
                 max_pool: bool = False, grayscale: bool = False, resize: tuple[int, int] | None = None,
                 num_threads: int | None = None, mode: str = "thread",
                 use_restricted_actions: Actions = Actions.FILTERED, max_episode_steps: int | None = None,
                 render_mode: str | None = None, on_worker_death: str = "raise", step_timeout: float | None = None,
                 **kwargs: Any) -> None:
        self._init_args: dict[str, Any] = dict(
            kwargs, game=game, num_envs=num_envs, state=state, states=states, frameskip=frameskip, max_pool=max_pool,
            grayscale=grayscale, resize=resize, num_threads=num_threads, mode=mode,
            use_restricted_actions=use_restricted_actions, max_episode_steps=max_episode_steps,
            render_mode=render_mode, on_worker_death=on_worker_death, step_timeout=step_timeout)
        if num_envs < 1:
            raise ConfigurationError(f"num_envs must be >= 1, got {num_envs}")
        if mode not in ("thread", "process"):
            raise ConfigurationError(f"mode must be 'thread' or 'process', got {mode!r}")
        if type(self) is not (RetroProcessVectorEnv if mode == "process" else RetroThreadVectorEnv):
            raise ConfigurationError(f"{type(self).__name__} does not run mode={mode!r}; "
                                     f"RetroVectorEnv(..., mode={mode!r}) makes the class that does")
        if states is not None and len(states) != num_envs:
            raise ConfigurationError(f"states has {len(states)} entries for {num_envs} envs")
        if max_episode_steps is not None and (not isinstance(max_episode_steps, int) or max_episode_steps < 1):
            raise ConfigurationError(f"max_episode_steps must be a positive int or None, got {max_episode_steps!r}")
        if on_worker_death not in ("raise", "restart"):
            raise ConfigurationError(f"on_worker_death must be 'raise' or 'restart', got {on_worker_death!r}")
        if render_mode not in (None, "rgb_array"):
            raise ConfigurationError(f"render_mode must be None or 'rgb_array' for a vector env, got {render_mode!r}")
        if step_timeout is not None and (mode != "process" or not step_timeout > 0):
            raise ConfigurationError(f"step_timeout is a positive number of seconds, for mode='process' (a worker "
                                     f"thread stuck in a core cannot be stopped), got {step_timeout!r} in "
                                     f"mode={mode!r}")
        kwargs.pop("api", None)  # always Gymnasium's
        if kwargs.get("obs_type") == "grayscale":  # ALE's name for it: the batch's own grayscale
            kwargs["obs_type"], grayscale = "rgb", True
        if kwargs.get("repeat_action_probability"):
            raise ConfigurationError("RetroVectorEnv has no sticky actions (repeat_action_probability); use "
                                     "gymnasium's vector envs over retro.make envs for them")
        self.spec = _spec_for(game, self._init_args)
        self.num_envs = num_envs
        self.mode = mode
        self.render_mode = render_mode
        self.max_episode_steps = max_episode_steps
        self.on_worker_death = on_worker_death
        self.step_timeout = step_timeout
        self._elapsed = np.zeros(num_envs, np.int64)
        starts = list(states) if states is not None else [state] * num_envs
        record = kwargs.pop("record", None)
        folder = None if record is None or record is False else (os.getcwd() if record is True else os.fspath(record))
        kwargs = dict(kwargs, use_restricted_actions=use_restricted_actions, api="gymnasium")

        def make_env(i: int) -> RetroEnv:
            env = RetroEnv(game, starts[i], render_mode=render_mode, **kwargs)
            if folder is not None:
                env.session.auto_record(folder, label=f"env{i}")
            return env

        self._start(make_env, frameskip, max_pool, grayscale, resize, num_threads)

    def _start(self, make_env: Any, frameskip: int, max_pool: bool, grayscale: bool,
               resize: tuple[int, int] | None, num_threads: int | None) -> None:
        """Make the envs (``make_env(i)`` makes env ``i``) where this mode runs them."""
        raise NotImplementedError

    def restart_workers(self) -> None:
        """Process mode: start every worker again (after a ``WorkerDiedError``); ``reset()`` comes next."""
        raise ConfigurationError("restart_workers() is for mode='process'")

    def snapshot(self, lanes: Sequence[int] | None = None) -> list[Snapshot]:
        """A :class:`retro.Snapshot` of each lane's game (every lane's, by default): thread mode."""
        raise ConfigurationError("per-lane snapshots are for mode='thread' (a process-mode lane's game lives "
                                 "in its worker); make the vector env with mode='thread' to branch")

    def restore(self, snapshots: Sequence[Snapshot], lanes: Sequence[int] | None = None) -> tuple[Any, dict[str, Any]]:
        """Continue lanes from snapshots: thread mode."""
        raise ConfigurationError("per-lane restores are for mode='thread' (a process-mode lane's game lives "
                                 "in its worker); make the vector env with mode='thread' to branch")

    def fork(self, src_lane: int, dst_lanes: Sequence[int]) -> tuple[Any, dict[str, Any]]:
        """Copy one lane's game into other lanes: thread mode."""
        raise ConfigurationError("fork is for mode='thread' (a process-mode lane's game lives in its worker); "
                                 "make the vector env with mode='thread' to branch")

    def _lanes(self, lanes: Sequence[int] | None) -> list[int]:
        """Lane indices, checked (None: every lane)."""
        if lanes is None:
            return list(range(self.num_envs))
        out = []
        for lane in lanes:
            if not isinstance(lane, (int, np.integer)) or isinstance(lane, bool) or not 0 <= lane < self.num_envs:
                raise ConfigurationError(f"a lane is an int in 0..{self.num_envs - 1}, got {lane!r}")
            out.append(int(lane))
        return out

    def _per_env(self, name: str, values: Any) -> list[Any]:
        """``set_attr``'s values, one per env: one value for all, or a list or tuple of ``num_envs``."""
        if not isinstance(values, (list, tuple)):
            return [values] * self.num_envs
        if len(values) != self.num_envs:
            raise ConfigurationError(f"set_attr({name!r}) needs {self.num_envs} values, got {len(values)}")
        return list(values)


class RetroThreadVectorEnv(RetroVectorEnv):
    """``RetroVectorEnv(..., mode="thread")``: every emulator in this process, stepped together on a
    :class:`~retro.StepPool` with the GIL released, observations converted into the batch in C."""

    def _start(self, make_env: Any, frameskip: int, max_pool: bool, grayscale: bool,
               resize: tuple[int, int] | None, num_threads: int | None) -> None:
        self.envs = []
        try:
            for i in range(self.num_envs):
                self.envs.append(make_env(i))
        except BaseException:
            for env in self.envs:
                env.close()
            raise
        self._sessions = [env.session for env in self.envs]
        #: What a step of every env plays.
        self.plan = StepPlan(frameskip, self.envs[0].plan.observation.preprocessed_as(grayscale, resize, max_pool))
        self.single_observation_space = self.plan.observation.space(self._sessions[0])
        self.single_action_space = self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._obs = self.plan.observation.batch(self._sessions[0], self.num_envs)
        self._new_batch = self.plan.observation.maker(self._sessions[0], self.num_envs)
        self._rewards = np.zeros(self.num_envs if self.envs[0].players == 1 else (self.num_envs, self.envs[0].players))
        self._terminated = np.zeros(self.num_envs, bool)
        self._truncated = np.zeros(self.num_envs, bool)
        self._needs_autoreset = np.zeros(self.num_envs, bool)
        self._infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        threads = min(num_threads or os.cpu_count() or 1, self.num_envs)
        self.num_threads = threads
        self._steps = StepPool(threads)

    def reset(self, *, seed: int | Sequence[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every env; an int seed gives env ``i`` the seed ``seed + i``.

        ``options={'reset_mask': mask}`` resets only the envs the mask selects;
        ``options={'snapshots': ...}`` starts lanes from :class:`retro.Snapshot` s instead of their start
        state (a list with one snapshot or None per lane, or a dict from lane to snapshot), as
        :meth:`restore` does. Returns ``(observations, infos)``, infos batched with their ``_key`` masks.
        """
        if self.closed:
            raise EmulatorClosedError("the vector env is closed")
        seeds: list[int | None]
        if seed is None:
            seeds = [None] * self.num_envs
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
        mask = (options or {}).get("reset_mask")
        starts = self._reset_snapshots((options or {}).get("snapshots"))
        if starts:
            self.restore(list(starts.values()), list(starts))
        obs = copy(self._obs)
        for i, env in enumerate(self.envs):
            if (mask is not None and not mask[i]) or i in starts:
                continue
            _, self._infos[i] = env.reset(seed=seeds[i])
            self._observe(i, row(obs, i))
            self._elapsed[i] = 0
            self._rewards[i] = 0
            self._terminated[i] = self._truncated[i] = self._needs_autoreset[i] = False
        self._obs = obs
        return obs.copy(), self._batch_infos()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One agent step of every env: the emulators play together on the step pool.

        The returned observations are a new array each step (the cores'
        pictures are converted into it), so earlier batches stay as they were.
        """
        if self.closed:
            raise EmulatorClosedError("the vector env is closed")
        envs, sessions = self.envs, self._sessions
        n = self.num_envs
        actions = list(actions) if not isinstance(actions, np.ndarray) else actions
        masks = [sessions[i].decode(actions[i]) for i in range(n)]
        obs = self._new_batch()  # every row is written: the stepping envs' by the step, the others' by their reset
        if self._needs_autoreset.any():
            autoreset = self._needs_autoreset.tolist()
            resetting = [i for i in range(n) if autoreset[i]]
            stepping = [i for i in range(n) if not autoreset[i]]
        else:  # the usual step: every env plays
            resetting, stepping = [], list(range(n))
        for i in stepping:
            if envs[i].needs_reset:
                envs[i].step(actions[i])  # raises the env's own error
            sessions[i].press(masks[i])
        if stepping:
            playing = sessions if len(stepping) == n else [sessions[i] for i in stepping]
            results = play(self.plan, playing, [row(obs, i) for i in stepping], self._steps)
            for i, (rew, done, info) in zip(stepping, results):
                self._rewards[i] = rew
                self._terminated[i] = done
                self._infos[i] = info
            if len(stepping) == n:
                self._elapsed += 1
            else:
                self._elapsed[stepping] += 1
        for i in resetting:
            _, self._infos[i] = envs[i].reset()
            self._observe(i, row(obs, i))
            self._elapsed[i] = 0
            self._rewards[i] = 0
            self._terminated[i] = False
        if self.max_episode_steps is not None:
            self._truncated[:] = (self._elapsed >= self.max_episode_steps) & ~self._terminated
        self._obs = obs
        self._needs_autoreset[:] = self._terminated | self._truncated
        return obs, self._rewards.copy(), self._terminated.copy(), self._truncated.copy(), self._batch_infos()

    def _reset_snapshots(self, given: Any) -> dict[int, Snapshot]:
        """``reset``'s ``snapshots`` option as lane -> snapshot."""
        if given is None:
            return {}
        if isinstance(given, dict):
            pairs = list(given.items())
        elif isinstance(given, (list, tuple)) and len(given) == self.num_envs:
            pairs = [(i, snap) for i, snap in enumerate(given) if snap is not None]
        else:
            raise ConfigurationError(f"options['snapshots'] is a list of {self.num_envs} snapshots (None for a lane "
                                     f"reset as usual) or a dict from lane to snapshot, got {type(given).__name__}")
        lanes = self._lanes([lane for lane, _ in pairs])
        return dict(zip(lanes, (snap for _, snap in pairs)))

    def snapshot(self, lanes: Sequence[int] | None = None) -> list[Snapshot]:
        """A :class:`retro.Snapshot` of each lane's game (every lane's, by default), with the lane's episode
        step count and whether it autoresets at the next step."""
        if self.closed:
            raise EmulatorClosedError("the vector env is closed")
        return [self.envs[i].snapshot().replace(needs_reset=bool(self._needs_autoreset[i]),
                                                episode_steps=int(self._elapsed[i]))
                for i in self._lanes(lanes)]

    def restore(self, snapshots: Sequence[Snapshot], lanes: Sequence[int] | None = None) -> tuple[Any, dict[str, Any]]:
        """Continue ``lanes[i]`` from ``snapshots[i]`` (lanes default to ``0..len(snapshots)-1``).

        The cores read their states together on the step pool, with the GIL
        released. Returns ``(observations, infos)`` as :meth:`reset` with a
        ``reset_mask`` does: the restored lanes' rows are their games'
        observations now (preprocessed; not pooled: one frame), the other
        rows are as the last step left them. A lane restored from a
        snapshot of an ended episode autoresets at the next step.
        """
        if self.closed:
            raise EmulatorClosedError("the vector env is closed")
        lanes = list(range(len(snapshots))) if lanes is None else self._lanes(lanes)
        if len(lanes) != len(snapshots) or len(set(lanes)) != len(lanes):
            raise ConfigurationError(f"restore takes one snapshot per lane, each lane once: got {len(snapshots)} "
                                     f"snapshots for lanes {lanes}")
        restore_envs([self.envs[i] for i in lanes], list(snapshots), self._steps)
        obs = copy(self._obs)
        for i, snap in zip(lanes, snapshots):
            self._observe(i, row(obs, i))
            self._infos[i] = self._sessions[i].data.lookup_all()
            self._elapsed[i] = snap.episode_steps
            self._rewards[i] = 0
            self._terminated[i] = self._truncated[i] = False
            self._needs_autoreset[i] = snap.needs_reset
        self._obs = obs
        return copy(obs), self._batch_infos()

    def fork(self, src_lane: int, dst_lanes: Sequence[int]) -> tuple[Any, dict[str, Any]]:
        """Copy lane ``src_lane``'s game into each of ``dst_lanes`` (:meth:`snapshot` then :meth:`restore`);
        returns ``(observations, infos)`` as :meth:`restore` does. The lanes then play on independently."""
        [snap] = self.snapshot([src_lane])
        dst = self._lanes(dst_lanes)
        return self.restore([snap] * len(dst), dst)

    def _observe(self, i: int, out: Any) -> None:
        """Env ``i``'s observation after a reset (no pooling: one frame has been played)."""
        self.plan.observation.observe(self._sessions[i], out)

    def _batch_infos(self) -> dict[str, Any]:
        """Gymnasium's batched info: per key an array over envs and a ``_key`` mask."""
        all_infos = self._infos
        keys = list(all_infos[0])
        infos: dict[str, Any] = {}
        table = None
        if all(info.keys() == all_infos[0].keys() for info in all_infos):
            # the usual case, every env has the same integer variables: one array for all of them
            table = np.array([list(info.values()) for info in all_infos]).T
        if table is not None and table.dtype.kind in "iub":
            present = np.ones((len(keys), len(all_infos)), bool)
            for j, key in enumerate(keys):
                infos[key] = table[j]
                infos["_" + key] = present[j]
            return infos
        for key in set().union(*all_infos):
            infos[key] = np.array([info.get(key, 0) for info in all_infos])
            infos["_" + key] = np.array([key in info for info in all_infos])
        return infos

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Each env's attribute ``name``."""
        return tuple(getattr(env, name) for env in self.envs)

    def set_attr(self, name: str, values: Any) -> None:
        """Set each env's attribute ``name``: one value for all, or a list or tuple with one per env."""
        for env, value in zip(self.envs, self._per_env(name, values)):
            setattr(env, name, value)

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Call each env's method ``name`` (or read the attribute, if it is not callable); returns the results."""
        out = []
        for env in self.envs:
            attr = getattr(env, name)
            out.append(attr(*args, **kwargs) if callable(attr) else attr)
        return tuple(out)

    def render(self) -> tuple[np.ndarray, ...] | None:
        """Each env's screen with ``render_mode="rgb_array"``; None otherwise."""
        if self.render_mode != "rgb_array":
            return None
        return tuple(env.em.get_screen() for env in self.envs)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled as the constructor's arguments, each env's :meth:`RetroEnv.snapshot` and the batch state.

        Unpickling builds a new vector env and continues every episode
        identically. Recording stays with this env: the copy does not record.
        """
        return {"args": dict(self._init_args, record=None), "envs": [env.snapshot() for env in self.envs],
                "obs": self._obs,
                "rewards": self._rewards, "terminated": self._terminated, "truncated": self._truncated,
                "needs_autoreset": self._needs_autoreset, "elapsed": self._elapsed, "infos": self._infos}

    def __setstate__(self, state: dict[str, Any]) -> None:
        args = dict(state["args"])
        self.__init__(args.pop("game"), args.pop("num_envs"), **args)  # type: ignore[misc]
        for env, snapshot in zip(self.envs, state["envs"]):
            env.restore(snapshot)
        self._obs = state["obs"]
        self._rewards = state["rewards"]
        self._terminated = state["terminated"]
        self._truncated = state["truncated"]
        self._needs_autoreset = state["needs_autoreset"]
        self._elapsed = state["elapsed"]
        self._infos = state["infos"]

    def close_extras(self, **kwargs: Any) -> None:
        """Close the envs and the step pool."""
        self._steps.close()
        for env in self.envs:
            env.close()


class RetroProcessVectorEnv(RetroVectorEnv):
    """``RetroVectorEnv(..., mode="process")``: each env in a worker process (Gymnasium's ``AsyncVectorEnv``
    with shared memory), for isolation; a worker that dies is a :class:`~retro.errors.WorkerDiedError`."""

    def _start(self, make_env: Any, frameskip: int, max_pool: bool, grayscale: bool,
               resize: tuple[int, int] | None, num_threads: int | None) -> None:
        from gymnasium.vector import AsyncVectorEnv

        def factory(i: int) -> Any:
            def make() -> gymnasium.Env:
                return Preprocessing(make_env(i), frameskip, max_pool, grayscale, resize)
            return make

        if self.max_episode_steps is not None:
            from gymnasium.wrappers import TimeLimit

            plain, steps = factory, self.max_episode_steps

            def factory(i: int) -> Any:  # noqa: F811 - the same envs, with a time limit
                return lambda: TimeLimit(plain(i)(), steps)

        def make_async() -> Any:
            return AsyncVectorEnv([factory(i) for i in range(self.num_envs)], shared_memory=True)

        self._make_async = make_async
        self._async: Any = make_async()
        self._last_obs: Any = None  # the last batch returned, for WorkerDiedError
        self._last_infos: Any = None
        self.single_observation_space = self._async.single_observation_space
        self.single_action_space = self._async.single_action_space
        self.observation_space = self._async.observation_space
        self.action_space = self._async.action_space
        self.envs: list[RetroEnv] = []

    def reset(self, *, seed: int | Sequence[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every env; an int seed gives env ``i`` the seed ``seed + i``.

        ``options={'reset_mask': mask}`` resets only the envs the mask selects;
        ``options={'snapshots': ...}`` starts lanes from :class:`retro.Snapshot` s instead of their start
        state (a list with one snapshot or None per lane, or a dict from lane to snapshot), as
        :meth:`restore` does. Returns ``(observations, infos)``, infos batched with their ``_key`` masks.
        """
        try:
            obs, infos = self._remote("reset", seed=seed, options=options)
        except WorkerDiedError as e:
            if self.on_worker_death != "restart":
                raise
            return self._restarted(e)[::4]  # type: ignore[return-value]
        self._last_obs, self._last_infos = obs, infos
        return obs, infos

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One agent step of every env, each in its worker process."""
        try:
            result = self._remote("step", actions)
        except WorkerDiedError as e:
            if self.on_worker_death != "restart":
                raise
            return self._restarted(e)
        self._last_obs, self._last_infos = result[0], result[4]
        return result  # type: ignore[no-any-return]

    def _restarted(self, died: WorkerDiedError) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                         dict[str, Any]]:
        """``on_worker_death="restart"``: new workers, every env reset; a step's results for that.

        A worker lost again while the new ones start is restarted too (up to three times in a row)."""
        for attempt in range(3):
            self.restart_workers()
            try:
                obs, infos = self._remote("reset")
                break
            except WorkerDiedError as again:
                if attempt == 2:
                    raise
                died = WorkerDiedError(str(again), sorted({*died.env_indices, *again.env_indices}),
                                       died.exitcodes + again.exitcodes, {**again.last, **died.last})
        self._last_obs, self._last_infos = obs, infos
        infos = dict(infos)
        mask = np.zeros(self.num_envs, bool)
        mask[died.env_indices] = True
        infos["worker_died"], infos["_worker_died"] = mask, np.ones(self.num_envs, bool)
        zeros = np.zeros(self.num_envs, bool)
        return obs, np.zeros(self.num_envs), zeros, ~zeros, infos

    def _remote(self, call: str, *args: Any, **kwargs: Any) -> Any:
        """``call`` (``"reset"``, ``"step"``, ``"call"`` or ``"set_attr"``) on every worker, waiting at most
        ``step_timeout`` (``set_attr`` is one round with no timeout of its own).

        A worker that died, at any moment, or that did not answer within
        ``step_timeout`` seconds (it is then killed) is a ``WorkerDiedError``
        naming its env; the other workers are stopped.
        """
        if self.closed:
            raise EmulatorClosedError("the vector env is closed")
        vec = self._async
        try:
            if call == "set_attr":
                return vec.set_attr(*args)
            getattr(vec, f"{call}_async")(*args, **kwargs)
            return getattr(vec, f"{call}_wait")(timeout=self.step_timeout)
        except multiprocessing.TimeoutError as e:
            stalled = [i for i, pipe in enumerate(vec.parent_pipes) if pipe is not None and not pipe.poll(0)]
            for i in stalled:
                _kill(vec.processes[i])
            self._lost(stalled, e, f"did not answer within step_timeout={self.step_timeout} s and was killed")
        except (BrokenPipeError, ConnectionResetError, EOFError, OSError) as e:
            dead = self._dead_workers()
            if not dead:
                raise
            self._lost(dead, e, "died")

    def _dead_workers(self, wait: float = 5.0) -> list[int]:
        """The workers that have exited. A worker that died mid-call closes its pipe a moment before the
        process is reaped, so a broken pipe waits up to ``wait`` seconds for the exit to show."""
        processes = self._async.processes
        deadline = time.monotonic() + wait
        while True:
            dead = [i for i, p in enumerate(processes) if p.exitcode is not None]
            if dead or time.monotonic() >= deadline:
                return dead
            for p in processes:
                p.join(0.05)

    def _lost(self, envs: list[int], cause: BaseException, how: str) -> NoReturn:
        """Stop every worker and raise the ``WorkerDiedError`` for the envs in ``envs``."""
        codes = [self._async.processes[i].exitcode for i in envs]
        _terminate(self._async)
        self._async_dead = True
        names = ", ".join(f"env {i} ({_exit_text(code)})" for i, code in zip(envs, codes))
        last = {i: self._last_of(i) for i in envs}
        raise WorkerDiedError(
            f"the worker process of {names} {how}; the other workers were stopped. "
            f"restart_workers() starts them all again (then call reset()), or make a new vector env "
            f"(or pass on_worker_death='restart')", envs, codes, last) from cause

    def _last_of(self, i: int) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Env ``i``'s last observation and info as returned by ``reset``/``step`` (None before any)."""
        if self._last_obs is None:
            return None, {}
        infos = self._last_infos or {}
        info = {k: v[i] for k, v in infos.items()
                if not k.startswith("_") and isinstance(v, np.ndarray) and len(v) == self.num_envs
                and infos.get("_" + k, np.ones(self.num_envs, bool))[i]}
        return copy(row(self._last_obs, i)), info

    def restart_workers(self) -> None:
        """Process mode: start every worker again (after a ``WorkerDiedError``); ``reset()`` comes next."""
        if not getattr(self, "_async_dead", False):
            _terminate(self._async)
        self._async = self._make_async()
        self._async_dead = False

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Each env's attribute ``name``."""
        return tuple(self._remote("call", name))

    def set_attr(self, name: str, values: Any) -> None:
        """Set each env's attribute ``name``: one value for all, or a list or tuple with one per env."""
        self._remote("set_attr", name, self._per_env(name, values))

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Call each env's method ``name`` (or read the attribute, if it is not callable); returns the results."""
        return tuple(self._remote("call", name, *args, **kwargs))

    def render(self) -> tuple[np.ndarray, ...] | None:
        """Each env's screen with ``render_mode="rgb_array"``; None otherwise."""
        if self.render_mode != "rgb_array":
            return None
        return tuple(self._remote("call", "render"))

    def __getstate__(self) -> dict[str, Any]:
        """Not picklable: the envs' states live in the worker processes (``ConfigurationError``)."""
        raise ConfigurationError("a RetroVectorEnv in mode='process' cannot be pickled (its envs live in worker "
                                 "processes); pickle one in mode='thread'")

    def close_extras(self, **kwargs: Any) -> None:
        """Stop the worker processes (killing them if one has died, or they do not stop in time)."""
        if getattr(self, "_async_dead", False):
            return
        vec = self._async
        if any(p.exitcode is not None for p in vec.processes):
            _terminate(vec)
            return
        try:
            vec.close(timeout=self.step_timeout if self.step_timeout is not None else 30.0)
        except (BrokenPipeError, ConnectionResetError, EOFError, OSError, multiprocessing.TimeoutError):
            _terminate(vec)


def _spec_for(game: str, kwargs: dict[str, Any]) -> EnvSpec | None:
    """The registered spec of ``retro/<game>-v0`` with these arguments, or None for an unregistered game."""
    base = game[:-3] if game.endswith("-v0") else game
    spec = gymnasium.envs.registration.registry.get(f"retro/{base}-v0")
    if spec is None:
        return None
    args = {k: v for k, v in kwargs.items() if k not in ("game", "num_envs")}
    return dataclasses.replace(spec, kwargs={**spec.kwargs, **args})


def _terminate(vec: Any) -> None:
    """Stop an ``AsyncVectorEnv``'s workers at once, whatever call it was waiting for: kill them, close the
    pipes and mark it closed (its own ``close`` would first wait for the pending call, from a dead worker)."""
    for process in vec.processes:
        if process.exitcode is None:
            _kill(process)
    for pipe in vec.parent_pipes:
        if pipe is not None:
            pipe.close()
    vec.closed = True


def _kill(process: Any) -> None:
    """SIGKILL a worker process (a stopped one too) and reap it."""
    import signal

    try:
        os.kill(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.join(5)


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        import signal

        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def make_vec(game: str, num_envs: int, **kwargs: Any) -> RetroVectorEnv:
    """``RetroVectorEnv(game, num_envs, **kwargs)`` with ``-v0`` ids accepted.

    The core is the system's default (the stella core on the Atari 2600, whose
    states stable-retro's library holds); ``core="ale"`` with
    ``scenario="retro"`` picks the faster ALE core for the Atari games that
    have this project's variant (``retro.data.ale_variants()``).
    """
    return RetroVectorEnv(game, num_envs, **kwargs)

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
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from retro.emulator import StepPool
from retro.enums import Actions, Observations, State
from retro.env import RetroEnv
from retro.errors import ConfigurationError

__all__ = ["RetroVectorEnv", "Preprocessing", "make_vec"]


class _Preprocessor:
    """Frame skip, max-pool, grayscale and resize of one env, done by the emulator in C."""

    def __init__(self, env: RetroEnv, frameskip: int, max_pool: bool, grayscale: bool,
                 resize: tuple[int, int] | None) -> None:
        if frameskip < 1:
            raise ConfigurationError(f"frameskip must be >= 1, got {frameskip}")
        self.env = env
        self.frameskip = frameskip
        self.max_pool = max_pool and frameskip > 1
        self.grayscale = grayscale
        self.resize = resize
        h, w = resize if resize else env.em.get_resolution()[::-1]
        self.shape: tuple[int, ...] = (h, w) if grayscale else (h, w, 3)
        self.raw = not (grayscale or resize or self.max_pool) and env._obs_type == Observations.IMAGE
        self.uncropped = not any(env.data.crop_info(0))
        #: the emulator can convert its picture straight into the observation
        self.direct = self.raw and self.uncropped and frameskip == 1
        self.image = env._obs_type == Observations.IMAGE
        self.last_seen = frameskip - (2 if self.max_pool else 1)  # first frame an observation sees
        if env._obs_type == Observations.RAM:
            self.shape = tuple(env.observation_space.shape or ())

    @property
    def observation_space(self) -> spaces.Box:
        return spaces.Box(0, 255, self.shape, np.uint8)

    def press(self, masks: list[int]) -> None:
        self.env._press(masks)

    def observe(self, out: np.ndarray, pooled: bool) -> None:
        env = self.env
        if env._obs_type == Observations.RAM:
            out[...] = env.get_ram()
        elif self.raw:
            if self.uncropped:
                env.em.get_screen(out)  # copies with the GIL released
            else:
                out[...] = env.get_screen()
        else:
            env.em.get_observation(out, gray=self.grayscale, size=self.resize, pool=pooled and self.max_pool)


def _play(pres: Sequence[_Preprocessor], steps: StepPool,
          rows: Sequence[np.ndarray]) -> list[tuple[float | list[float], bool, dict[str, Any]]]:
    """One agent step (``frameskip`` frames) of several envs, their emulators stepping together.

    The joypads are already pressed. Each env's reward is summed over its
    frames and it stops at the frame it is done; ``rows[j]`` receives env
    ``j``'s observation (converted straight from the core where it can be).
    Returns ``(reward, done, info)`` per env.
    """
    first = pres[0]
    k = first.frameskip
    players = first.env.players
    totals = [[0.0] * players for _ in pres]
    done = [False] * len(pres)
    active = list(range(len(pres)))
    for f in range(k):
        ems = [pres[j].env.em for j in active]
        if k == 1:
            steps.step(ems, outs=[rows[j] if pres[j].direct else None for j in active])
        else:
            for em in ems:
                em.video_enabled = first.image and f >= first.last_seen
            steps.step(ems, pool=first.max_pool and f == k - 1)
        still = []
        for j in active:
            data = pres[j].env.data
            data.update_ram()
            total = totals[j]
            for p in range(players):
                total[p] += data.current_reward(p)
            if data.is_done():
                done[j] = True
            else:
                still.append(j)
        active = still
        if not active:
            break
    results: list[tuple[float | list[float], bool, dict[str, Any]]] = []
    for j, pre in enumerate(pres):
        pre.env.em.video_enabled = True
        if not pre.direct:
            pre.observe(rows[j], pooled=True)
        total = totals[j]
        reward: float | list[float] = float(total[0]) if players == 1 else [float(t) for t in total]
        results.append((reward, done[j], pre.env.data.lookup_all()))
    return results


class Preprocessing(gymnasium.Wrapper):
    """The vector env's native preprocessing for a single ``RetroEnv`` (Gymnasium API)."""

    def __init__(self, env: RetroEnv, frameskip: int = 1, max_pool: bool = False, grayscale: bool = False,
                 resize: tuple[int, int] | None = None) -> None:
        super().__init__(env)
        if env.api != "gymnasium":
            raise ConfigurationError('Preprocessing needs a RetroEnv made with api="gymnasium"')
        self._pre = _Preprocessor(env, frameskip, max_pool, grayscale, resize)
        self._steps = StepPool(1)
        self.observation_space = self._pre.observation_space

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        _, info = self.env.reset(**kwargs)
        obs = np.empty(self._pre.shape, np.uint8)
        self._pre.observe(obs, pooled=False)
        return obs, info

    def step(self, action: Any) -> tuple[np.ndarray, Any, bool, bool, dict[str, Any]]:
        env: RetroEnv = self.env  # type: ignore[assignment]
        if env._needs_reset:
            env.step(action)  # raises the env's own error
        self._pre.press(env._action_masks(action))
        obs = np.empty(self._pre.shape, np.uint8)
        [(rew, done, info)] = _play([self._pre], self._steps, [obs])
        return obs, rew, done, False, info


class RetroVectorEnv(VectorEnv):
    """``num_envs`` copies of a game, stepped together.

    Args:
        game: the game id.
        num_envs: how many environments.
        state: one start state for all, or ``states=[...]`` one per env.
        frameskip, max_pool, grayscale, resize: preprocessing in C
            (``resize=(height, width)``, e.g. ``(84, 84)``).
        num_threads: worker threads (default: the number of CPUs, at most num_envs).
        mode: ``"thread"`` (default) or ``"process"``.
        Other keyword arguments go to every ``RetroEnv``.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": ["rgb_array"]}

    def __init__(self, game: str, num_envs: int, *, state: State | str | None = State.DEFAULT,
                 states: Sequence[State | str | None] | None = None, frameskip: int = 1,
                 max_pool: bool = False, grayscale: bool = False, resize: tuple[int, int] | None = None,
                 num_threads: int | None = None, mode: str = "thread",
                 use_restricted_actions: Actions = Actions.FILTERED, **kwargs: Any) -> None:
        if num_envs < 1:
            raise ConfigurationError(f"num_envs must be >= 1, got {num_envs}")
        if mode not in ("thread", "process"):
            raise ConfigurationError(f"mode must be 'thread' or 'process', got {mode!r}")
        if states is not None and len(states) != num_envs:
            raise ConfigurationError(f"states has {len(states)} entries for {num_envs} envs")
        self.num_envs = num_envs
        self.mode = mode
        starts = list(states) if states is not None else [state] * num_envs
        kwargs = dict(kwargs, use_restricted_actions=use_restricted_actions, api="gymnasium")
        if mode == "process":
            from gymnasium.vector import AsyncVectorEnv

            def factory(i: int) -> Any:
                def make() -> gymnasium.Env:
                    return Preprocessing(RetroEnv(game, starts[i], **kwargs), frameskip, max_pool, grayscale, resize)
                return make

            self._async: Any = AsyncVectorEnv([factory(i) for i in range(num_envs)], shared_memory=True)
            self.single_observation_space = self._async.single_observation_space
            self.single_action_space = self._async.single_action_space
            self.observation_space = self._async.observation_space
            self.action_space = self._async.action_space
            self.envs: list[RetroEnv] = []
            return
        self._async = None
        self.envs = []
        try:
            for i in range(num_envs):
                self.envs.append(RetroEnv(game, starts[i], **kwargs))
        except BaseException:
            for env in self.envs:
                env.close()
            raise
        self._pre = [_Preprocessor(env, frameskip, max_pool, grayscale, resize) for env in self.envs]
        self.single_observation_space = self._pre[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._obs = np.zeros((num_envs, *self.single_observation_space.shape), np.uint8)
        self._rewards = np.zeros(num_envs if self.envs[0].players == 1 else (num_envs, self.envs[0].players))
        self._terminated = np.zeros(num_envs, bool)
        self._truncated = np.zeros(num_envs, bool)
        self._needs_autoreset = np.zeros(num_envs, bool)
        self._infos: list[dict[str, Any]] = [{} for _ in range(num_envs)]
        threads = min(num_threads or os.cpu_count() or 1, num_envs)
        self.num_threads = threads
        self._steps = StepPool(threads)

    # -- thread mode ------------------------------------------------------------------------

    def reset(self, *, seed: int | Sequence[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        if self._async is not None:
            return self._async.reset(seed=seed, options=options)
        seeds: list[int | None]
        if seed is None:
            seeds = [None] * self.num_envs
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
        mask = (options or {}).get("reset_mask")
        obs = self._obs.copy()
        for i, env in enumerate(self.envs):
            if mask is not None and not mask[i]:
                continue
            _, self._infos[i] = env.reset(seed=seeds[i])
            self._pre[i].observe(obs[i], pooled=False)
            self._rewards[i] = 0
            self._terminated[i] = self._truncated[i] = self._needs_autoreset[i] = False
        self._obs = obs
        return obs.copy(), self._batch_infos()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One agent step of every env: the emulators play together on the step pool.

        The returned observations are a new array each step (the cores'
        pictures are converted into it), so earlier batches stay as they were.
        """
        if self._async is not None:
            return self._async.step(actions)
        envs, pre = self.envs, self._pre
        n = self.num_envs
        actions = list(actions) if not isinstance(actions, np.ndarray) else actions
        masks = [envs[i]._action_masks(actions[i]) for i in range(n)]
        obs = np.empty_like(self._obs)
        autoreset = self._needs_autoreset.tolist()
        resetting = [i for i in range(n) if autoreset[i]]
        stepping = [i for i in range(n) if not autoreset[i]]
        for i in stepping:
            if envs[i]._needs_reset:
                envs[i].step(actions[i])  # raises the env's own error
            pre[i].press(masks[i])
        if stepping:
            results = _play([pre[i] for i in stepping], self._steps, [obs[i] for i in stepping])
            for i, (rew, done, info) in zip(stepping, results):
                self._rewards[i] = rew
                self._terminated[i] = done
                self._infos[i] = info
        for i in resetting:
            _, self._infos[i] = envs[i].reset()
            pre[i].observe(obs[i], pooled=False)
            self._rewards[i] = 0
            self._terminated[i] = False
        self._obs = obs
        self._needs_autoreset[:] = self._terminated | self._truncated
        return obs, self._rewards.copy(), self._terminated.copy(), self._truncated.copy(), self._batch_infos()

    def _batch_infos(self) -> dict[str, Any]:
        """Gymnasium's batched info: per key an array over envs and a ``_key`` mask."""
        infos: dict[str, Any] = {}
        keys = set().union(*self._infos)
        for key in keys:
            values = [info.get(key, 0) for info in self._infos]
            infos[key] = np.array(values)
            infos["_" + key] = np.array([key in info for info in self._infos])
        return infos

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        if self._async is not None:
            return self._async.call(name, *args, **kwargs)
        out = []
        for env in self.envs:
            attr = getattr(env, name)
            out.append(attr(*args, **kwargs) if callable(attr) else attr)
        return tuple(out)

    def render(self) -> tuple[np.ndarray, ...] | None:
        return tuple(env.em.get_screen() for env in self.envs) if self.envs else None

    def close_extras(self, **kwargs: Any) -> None:
        if self._async is not None:
            self._async.close()
            return
        self._steps.close()
        for env in self.envs:
            env.close()


def make_vec(game: str, num_envs: int, **kwargs: Any) -> RetroVectorEnv:
    """``RetroVectorEnv(game, num_envs, **kwargs)`` with ``-v0`` ids accepted."""
    return RetroVectorEnv(game, num_envs, **kwargs)

"""Stable-Baselines3 on retro's vector env: ``retro.sb3.VecEnv(vector_env)``.

SB3 trains on its own ``VecEnv`` type and refuses Gymnasium vector envs.
:class:`VecEnv` is an SB3 ``VecEnv`` over a :class:`retro.vector.RetroVectorEnv`
(thread or process mode), so SB3's algorithms and wrappers (``VecFrameStack``,
``VecMonitor``, ``VecNormalize``, ...) step retro's envs together on its
step pool::

    from stable_baselines3 import PPO
    from retro.vector import RetroVectorEnv
    import retro.sb3

    venv = retro.sb3.VecEnv(RetroVectorEnv("Pong-Atari2600", 8, frameskip=4, max_pool=True,
                                           grayscale=True, resize=(84, 84)))
    PPO("CnnPolicy", venv).learn(100_000)

It keeps SB3's contract: a done env is reset within the same ``step``, its
last observation is ``infos[i]["terminal_observation"]`` and
``infos[i]["TimeLimit.truncated"]`` tells a time limit from the game's end;
seeds set by ``seed()`` and options set by ``set_options()`` go to the next
``reset()``; ``reset_infos`` holds the infos of the last resets;
``get_attr``/``set_attr``/``env_method``/``env_is_wrapped`` reach the envs.
Observations are the vector env's own batch, never copied: a grayscale
``(H, W)`` observation is handed out as an ``(H, W, 1)`` view, the image
layout SB3's CNN policies expect.

This module imports ``stable_baselines3`` (the ``rl`` extra); ``import retro``
does not import it.
"""

from __future__ import annotations

from typing import Any, Sequence

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import VecEnv as _SB3VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices

from retro.errors import ConfigurationError
from retro.step import row

__all__ = ["VecEnv", "make_vec_env", "infos_per_env"]


def infos_per_env(infos: dict[str, Any], num_envs: int) -> list[dict[str, Any]]:
    """Gymnasium's batched infos (an array per key, ``_key`` masks) as one dict per env (SB3's)."""
    keys = [k for k in infos if not (k.startswith("_") and k[1:] in infos)]
    out: list[dict[str, Any]] = [{} for _ in range(num_envs)]
    if not keys:
        return out
    masks = [infos.get("_" + k) for k in keys]
    if all(m is not None and bool(np.all(m)) for m in masks) and not any(isinstance(infos[k], dict) for k in keys):
        # the usual case: every env has every key, one column per key
        columns = [infos[k].tolist() if isinstance(infos[k], np.ndarray) else list(infos[k]) for k in keys]
        return [dict(zip(keys, row)) for row in zip(*columns)]
    for key, mask in zip(keys, masks):
        value = infos[key]
        if isinstance(value, dict):
            per_env = infos_per_env(value, num_envs)
            for i in range(num_envs):
                if mask is None or mask[i]:
                    out[i][key] = per_env[i]
            continue
        for i in range(num_envs):
            if mask is None or mask[i]:
                item = value[i]
                out[i][key] = item.item() if isinstance(item, np.generic) else item
    return out


class VecEnv(_SB3VecEnv):
    """An SB3 ``VecEnv`` over a Gymnasium vector env with next-step autoreset, such as ``RetroVectorEnv``.

    Args:
        vector_env: the vector env (its envs must have one player: SB3 trains one agent).
        channel_last: hand grayscale ``(H, W)`` observations out as ``(H, W, 1)`` views
            (default True), the image layout SB3's ``CnnPolicy`` takes.
    """

    def __init__(self, vector_env: gymnasium.vector.VectorEnv, channel_last: bool = True) -> None:
        if not isinstance(vector_env, gymnasium.vector.VectorEnv):
            raise ConfigurationError(
                f"retro.sb3.VecEnv wraps a Gymnasium vector env such as retro.vector.RetroVectorEnv, "
                f"got {type(vector_env).__name__}")
        mode = vector_env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode != AutoresetMode.NEXT_STEP:
            raise ConfigurationError(
                f"retro.sb3.VecEnv needs a vector env with next-step autoreset, got autoreset_mode={mode}")
        self.vector_env: Any = vector_env  # Gymnasium's vector API (get_attr, set_attr, call, render)
        n = vector_env.num_envs
        single_obs = vector_env.single_observation_space
        self._add_channel = (channel_last and isinstance(single_obs, spaces.Box) and len(single_obs.shape) == 2)
        if self._add_channel:
            assert isinstance(single_obs, spaces.Box)
            single_obs = spaces.Box(0, 255, (*single_obs.shape, 1), single_obs.dtype)
        self.actions: Any = None
        super().__init__(n, single_obs, vector_env.single_action_space)
        # one reward per env: a multi-player game's reward would come as (num_envs, players)
        self._check_rewards = True

    # -- stepping ---------------------------------------------------------------------------

    def _view(self, obs: np.ndarray) -> np.ndarray:
        return obs[..., np.newaxis] if self._add_channel else obs

    def reset(self) -> np.ndarray:
        """Reset every env (with the seeds and options set since the last reset) and return the observations."""
        venv = self.vector_env
        seeds = self._seeds
        options = self._options
        if any(o != options[0] for o in options):
            raise ConfigurationError("retro.sb3.VecEnv: the vector env takes one set of reset options for all envs")
        obs, infos = venv.reset(seed=None if all(s is None for s in seeds) else list(seeds),
                                options=dict(options[0]) if options[0] else None)
        self.reset_infos = infos_per_env(infos, self.num_envs)
        self._reset_seeds()
        self._reset_options()
        return self._view(obs)

    def step_async(self, actions: np.ndarray) -> None:
        """Take the actions for :meth:`step_wait`."""
        self.actions = actions

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """Step every env; finished envs are reset in the same step, as SB3 expects.

        Returns ``(observations, rewards, dones, infos)``; a finished env's last observation is
        ``infos[i]['terminal_observation']``.
        """
        venv = self.vector_env
        obs, rewards, terminated, truncated, infos = venv.step(self.actions)
        self.actions = None
        if self._check_rewards:
            if np.ndim(rewards) != 1:
                raise ConfigurationError(
                    f"retro.sb3.VecEnv trains one agent: the envs give rewards of shape {np.shape(rewards)} "
                    f"(several players); use players=1, or retro.pettingzoo for several agents")
            self._check_rewards = False
        dones = terminated | truncated
        env_infos = infos_per_env(infos, self.num_envs)
        if dones.any():
            done = np.flatnonzero(dones)
            for i in done.tolist():
                # the batch ``obs`` is handed to no one else: its rows are the terminal observations
                env_infos[i]["terminal_observation"] = self._view(row(obs, i))
                env_infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            # reset the finished envs now (SB3's envs reset in the step that ends an episode);
            # the returned batch holds the other envs' rows of this step
            obs, reset_infos = venv.reset(options={"reset_mask": dones.copy()})
            per_env = infos_per_env(reset_infos, self.num_envs)
            for i in done.tolist():
                self.reset_infos[i] = per_env[i]
        return self._view(obs), np.asarray(rewards, np.float32), dones, env_infos

    # -- the envs ---------------------------------------------------------------------------------

    def _indices(self, indices: VecEnvIndices) -> list[int]:
        chosen = list(self._get_indices(indices))
        for i in chosen:
            if not 0 <= i < self.num_envs:
                raise ConfigurationError(f"env index {i} out of range for {self.num_envs} envs")
        return chosen

    def _envs(self, indices: list[int], what: str) -> list[Any] | None:
        """The env objects of ``indices`` where the vector env holds them in this process, else None."""
        envs = getattr(self.vector_env, "envs", None)
        if isinstance(envs, (list, tuple)) and len(envs) == self.num_envs:
            return [envs[i] for i in indices]
        if indices != list(range(self.num_envs)):
            raise ConfigurationError(
                f"{what} on some of the envs needs them in this process; this vector env's envs live in "
                f"worker processes (mode='process'), where it reaches all of them at once: pass indices=None")
        return None

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """Each chosen env's attribute ``attr_name``."""
        chosen = self._indices(indices)
        values = self.vector_env.get_attr(attr_name)
        return [values[i] for i in chosen]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set the attribute ``attr_name`` of each chosen env to ``value``."""
        chosen = self._indices(indices)
        envs = self._envs(chosen, "set_attr")
        if envs is None:
            self.vector_env.set_attr(attr_name, [value] * self.num_envs)
            return
        for env in envs:
            setattr(env, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        """Call each chosen env's method ``method_name``; returns the results."""
        chosen = self._indices(indices)
        envs = self._envs(chosen, "env_method")
        if envs is None:
            return list(self.vector_env.call(method_name, *method_args, **method_kwargs))
        return [getattr(env, method_name)(*method_args, **method_kwargs) for env in envs]

    def env_is_wrapped(self, wrapper_class: type[gymnasium.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """Whether each env is wrapped in ``wrapper_class``.

        A ``RetroVectorEnv``'s envs are ``RetroEnv`` objects that it steps
        itself (its preprocessing and time limit are its own, not Gymnasium
        wrappers), so this is False for Gymnasium's and SB3's wrappers: use
        SB3's ``VecMonitor`` for episode statistics.
        """
        chosen = self._indices(indices)
        envs = getattr(self.vector_env, "envs", None)
        if not isinstance(envs, (list, tuple)) or len(envs) != self.num_envs:
            return [False] * len(chosen)
        return [_is_wrapped(envs[i], wrapper_class) for i in chosen]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """Each env's screen (the vector env must render ``rgb_array``)."""
        if self.render_mode != "rgb_array":
            raise ConfigurationError(
                f"get_images() needs the vector env made with render_mode='rgb_array', not {self.render_mode!r}")
        frames = self.vector_env.render()
        return list(frames) if frames is not None else [None] * self.num_envs

    def close(self) -> None:
        """Close the vector env."""
        self.vector_env.close()


def _is_wrapped(env: gymnasium.Env, wrapper_class: type) -> bool:
    current: Any = env
    while True:
        if isinstance(current, wrapper_class):
            return True
        if not isinstance(current, gymnasium.Wrapper):
            return False
        current = current.env


def make_vec_env(game: str, n_envs: int, seed: int | None = None, **kwargs: Any) -> VecEnv:
    """``retro.sb3.VecEnv(RetroVectorEnv(game, n_envs, **kwargs))``, seeded with ``seed`` at its first reset.

    The core is the system's default (stella on the Atari 2600); pass
    ``core="ale", scenario="retro"`` for the faster ALE core. SB3's own
    ``make_atari_env`` takes ids: ``make_atari_env("RetroALE/PongNoFrameskip-v4")``
    runs on the ALE core, ``make_atari_env("retro/Pong-Atari2600-v0",
    env_kwargs={"full_action_space": False})`` on stella.
    """
    from retro.vector import RetroVectorEnv

    venv = VecEnv(RetroVectorEnv(game, n_envs, **kwargs))
    if seed is not None:
        venv.seed(seed)
    return venv

"""Train an agent with Stable-Baselines3's PPO: ``python3 -m retro.examples.ppo --game Airstriker-Genesis``.

``make_retro`` makes a game with a 4-frame skip whose first frame keeps the
previous action with probability 0.25 (``StochasticFrameSkip``, sticky actions
as in Machado et al.) and a time limit; ``wrap_deepmind_retro`` adds DeepMind's
84x84 grayscale frames and clipped rewards. ``main`` trains on 8 of them in
subprocesses with 4 stacked frames.

``--vector`` trains on this project's own vector env instead (``retro.sb3.VecEnv``
over ``RetroVectorEnv``: frame skip, grayscale and resize done in C on a thread
pool, no subprocesses; no sticky actions or reward clipping), which steps
several times faster.

Needs the ``rl`` extra (``pip install 'retro[rl]'``, Stable-Baselines3 and torch).
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import TimeLimit

import retro
from retro.examples.brute import play_substeps


class StochasticFrameSkip(gym.Wrapper):
    """Plays each action for ``n`` frames; on the first of them the previous action sticks with ``stickprob``.

    The first step after a reset always uses its own action. ``reset(seed=...)``
    seeds the stickiness too, so a seeded run repeats.
    """

    def __init__(self, env: gym.Env, n: int, stickprob: float) -> None:
        gym.Wrapper.__init__(self, env)
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if not 0.0 <= stickprob <= 1.0:
            raise ValueError(f"stickprob must be between 0 and 1, got {stickprob}")
        self.n = n
        self.stickprob = stickprob
        self.curac: Any = None
        self.rng = np.random.RandomState()
        self.supports_want_render = hasattr(env, "supports_want_render")

    def reset(self, **kwargs: Any) -> Any:
        self.curac = None
        if kwargs.get("seed") is not None:
            self.rng = np.random.RandomState(kwargs["seed"])
        return self.env.reset(**kwargs)

    def _substep_actions(self, ac: Any) -> Any:
        for i in range(self.n):
            if self.curac is None or i == 1 or (i == 0 and self.rng.rand() > self.stickprob):
                self.curac = ac
            yield self.curac

    def step(self, ac: Any) -> Any:
        return play_substeps(self.env, self._substep_actions(ac))


def make_retro(*, game: str, state: Any = None, max_episode_steps: int | None = 4500, **kwargs: Any) -> gym.Env:
    """``game`` with ``StochasticFrameSkip(n=4, stickprob=0.25)`` and a time limit (Gymnasium's step API)."""
    if state is None:
        state = retro.State.DEFAULT
    kwargs.setdefault("api", "gymnasium")
    kwargs.setdefault("render_mode", None)
    env: gym.Env = StochasticFrameSkip(retro.make(game, state, **kwargs), n=4, stickprob=0.25)
    if max_episode_steps is not None:
        env = TimeLimit(env, max_episode_steps=max_episode_steps)
    return env


def wrap_deepmind_retro(env: gym.Env) -> gym.Env:
    """DeepMind's Atari set-up for any game: 84x84 grayscale frames, rewards clipped to their sign."""
    from stable_baselines3.common.atari_wrappers import ClipRewardEnv, WarpFrame

    return ClipRewardEnv(WarpFrame(env))


def main(argv: list[str] | None = None, make: Callable[..., gym.Env] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--game", default="Airstriker-Genesis")
    parser.add_argument("--state", default=retro.State.DEFAULT)
    parser.add_argument("--scenario", default=None)
    parser.add_argument("--num-envs", type=int, default=8, help="envs stepped together (8)")
    parser.add_argument("--total-timesteps", type=int, default=100_000_000, help="steps to train for (1e8)")
    parser.add_argument("--vector", action="store_true", help="train on retro's vector env (faster; see above)")
    args = parser.parse_args(argv)

    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import SubprocVecEnv, VecFrameStack, VecTransposeImage

    if args.vector:
        from retro.sb3 import VecEnv
        from retro.vector import RetroVectorEnv

        base: Any = VecEnv(RetroVectorEnv(
            args.game, args.num_envs, state=args.state, scenario=args.scenario, frameskip=4, grayscale=True,
            resize=(84, 84), max_episode_steps=4500))
    else:
        def make_env() -> gym.Env:
            return wrap_deepmind_retro((make or make_retro)(game=args.game, state=args.state, scenario=args.scenario))

        base = SubprocVecEnv([make_env] * args.num_envs)
    venv = VecTransposeImage(VecFrameStack(base, n_stack=4))
    model = PPO(policy="CnnPolicy", env=venv, learning_rate=lambda f: f * 2.5e-4, n_steps=128, batch_size=32,
                n_epochs=4, gamma=0.99, gae_lambda=0.95, clip_range=0.1, ent_coef=0.01, verbose=1)
    try:
        model.learn(total_timesteps=args.total_timesteps, log_interval=1)
    finally:
        venv.close()
    print(f"trained PPO on {args.game} for {model.num_timesteps} steps")


if __name__ == "__main__":
    main()

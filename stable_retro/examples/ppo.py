"""Runs :mod:`retro.examples.ppo` as ``python3 -m stable_retro.examples.ppo``, on stable_retro's envs."""

import sys
from typing import Any

import gymnasium as gym

import stable_retro
from retro.examples import ppo
from retro.examples.ppo import StochasticFrameSkip, wrap_deepmind_retro

__all__ = ["StochasticFrameSkip", "main", "make_retro", "wrap_deepmind_retro"]


def make_retro(*, game: str, state: Any = None, max_episode_steps: int | None = 4500, **kwargs: Any) -> gym.Env:
    """``game`` with ``StochasticFrameSkip(n=4, stickprob=0.25)`` and a time limit, a ``stable_retro`` env."""
    kwargs.setdefault("env_class", stable_retro.RetroEnv)
    return ppo.make_retro(game=game, state=state, max_episode_steps=max_episode_steps, **kwargs)


def main(argv: list[str] | None = None) -> None:
    ppo.main(argv, make_retro)


if __name__ == "__main__":
    main()
    sys.exit(0)

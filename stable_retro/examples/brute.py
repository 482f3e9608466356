"""Runs :mod:`retro.examples.brute` as ``python3 -m stable_retro.examples.brute``, on stable_retro's envs."""

import sys
from typing import Any

import stable_retro
from retro.examples.brute import (EXPLORATION_PARAM, Brute, Frameskip, Node, play_substeps, rollout, search,
                                  select_actions, update_tree)

__all__ = ["EXPLORATION_PARAM", "Brute", "Frameskip", "Node", "brute_retro", "main", "play_substeps", "rollout",
           "search", "select_actions", "update_tree"]


def brute_retro(game: str, max_episode_steps: int = 4500, timestep_limit: float = 1e8,
                state: Any = stable_retro.State.DEFAULT, scenario: str | None = None) -> float:
    """Run the Brute on ``game`` until ``timestep_limit`` agent steps, recording each new best to ``best.bk2``."""
    return search(stable_retro.make, game, max_episode_steps, timestep_limit, state, scenario)


def main(argv: list[str] | None = None) -> None:
    from retro.examples import brute

    brute.main(argv, brute_retro)


if __name__ == "__main__":
    main()
    sys.exit(0)

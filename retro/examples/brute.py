"""The Brute, a tree search that exploits a deterministic game: ``python3 -m retro.examples.brute``.

The Brute (Machado et al., "Revisiting the Arcade Learning Environment",
https://arxiv.org/abs/1709.06009) keeps a tree of action sequences and the best
episode return seen below each node. Every run replays the most promising
sequence from the start, with a small, visit-dependent chance of a random
action at each step, and updates the tree with the return it got. It saves no
emulator state: it relies on the same actions giving the same game, which this
project's cores do (``retro.examples.determinism`` checks it).

``brute_retro`` plays discrete actions with a 4-frame skip and records each new
best episode to ``best.bk2`` in the working directory.
"""

from __future__ import annotations

import argparse
import math
import random
from typing import Any, Callable, Iterable

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import TimeLimit

import retro
from retro.env import as_classic

#: How often the search leaves the greedy path: the chance at a node is this over log(visits + 2).
EXPLORATION_PARAM = 0.005


def play_substeps(env: Any, actions: Iterable[Any]) -> tuple[Any, ...]:
    """Step ``env`` with each action until the game is done; the last step's result, its reward the sum.

    Works with both step APIs (the classic 4-tuple and Gymnasium's 5-tuple) and
    returns the one ``env`` speaks.
    """
    total = 0.0
    result: tuple[Any, ...] | None = None
    for act in actions:
        result = tuple(env.step(act))
        total += result[1]
        if as_classic(result)[2]:
            break
    if result is None:
        raise ValueError("play_substeps needs at least one action")
    return (result[0], total, *result[2:])


class Frameskip(gym.Wrapper):
    """Repeats each action ``skip`` times (fewer if the game ends), summing the rewards."""

    def __init__(self, env: gym.Env, skip: int = 4) -> None:
        super().__init__(env)
        if skip < 1:
            raise ValueError(f"skip must be >= 1, got {skip}")
        self._skip = skip

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        return self.env.reset(seed=seed, options=options)

    def step(self, act: Any) -> Any:
        return play_substeps(self.env, [act] * self._skip)


class Node:
    """A node of the search tree: the best return seen through it, its visits, its children by action."""

    def __init__(self, value: float = -np.inf, children: dict[Any, "Node"] | None = None) -> None:
        self.value = value
        self.visits = 0
        self.children: dict[Any, Node] = {} if children is None else children

    def __repr__(self) -> str:
        return f"<Node value={self.value:f} visits={self.visits} len(children)={len(self.children)}>"


def select_actions(root: Node, action_space: gym.spaces.Discrete, max_episode_steps: int) -> list[Any]:
    """Actions for one episode of up to ``max_episode_steps`` steps, chosen down the tree.

    At each node the action with the best value below it is taken (ties broken at
    random), except with probability ``EXPLORATION_PARAM / log(visits + 2)``,
    when a random one is. Off the explored tree every action is random. The list
    is as long as the longest episode; the rollout uses as much as the game lasts.
    """
    node: Node | None = root
    acts: list[Any] = []
    for _ in range(max_episode_steps):
        act: Any
        if node is None:
            act = action_space.sample()
        else:
            if random.random() < EXPLORATION_PARAM / math.log(node.visits + 2):
                act = action_space.sample()
            else:
                values = {a: node.children[a].value if a in node.children else -np.inf
                          for a in range(int(action_space.n))}
                best = max(values.values())
                act = random.choice([a for a, v in values.items() if v == best])
            node = node.children.get(act)
        acts.append(act)
    return acts


def rollout(env: Any, acts: Iterable[Any]) -> tuple[int, float]:
    """Reset ``env`` and play ``acts`` until the game ends: ``(steps played, total reward)``."""
    env.reset()
    steps, total = 0, 0.0
    for act in acts:
        _obs, rew, done, _info = as_classic(tuple(env.step(act)))
        steps += 1
        total += rew
        if done:
            break
    return steps, total


def update_tree(root: Node, executed_acts: Iterable[Any], total_rew: float) -> int:
    """Raise every node on the played path to ``total_rew`` (if higher) and count a visit; new nodes made."""
    root.value = max(total_rew, root.value)
    root.visits += 1
    new_nodes = 0
    node = root
    for act in executed_acts:
        if act not in node.children:
            node.children[act] = Node()
            new_nodes += 1
        node = node.children[act]
        node.value = max(total_rew, node.value)
        node.visits += 1
    return new_nodes


class Brute:
    """The search: ``run()`` plays one episode down the tree and returns ``(actions played, return)``."""

    def __init__(self, env: Any, max_episode_steps: int) -> None:
        self.node_count = 1
        self._root = Node()
        self._env = env
        self._max_episode_steps = max_episode_steps

    def run(self) -> tuple[list[Any], float]:
        acts = select_actions(self._root, self._env.action_space, self._max_episode_steps)
        steps, total_rew = rollout(self._env, acts)
        executed = acts[:steps]
        self.node_count += update_tree(self._root, executed, total_rew)
        return executed, total_rew


def search(make: Callable[..., Any], game: str, max_episode_steps: int, timestep_limit: float, state: Any,
           scenario: str | None, movie: str = "best.bk2") -> float:
    """Run the Brute on ``game`` (made by ``make``) until ``timestep_limit`` steps; the best return.

    Each new best episode is replayed into ``movie`` (a ``.bk2``).
    """
    env = make(game, state, use_restricted_actions=retro.Actions.DISCRETE, scenario=scenario, api="gymnasium",
               render_mode=None)
    env = TimeLimit(Frameskip(env), max_episode_steps=max_episode_steps)
    try:
        brute = Brute(env, max_episode_steps=max_episode_steps)
        timesteps, best_rew = 0, float("-inf")
        while True:
            acts, rew = brute.run()
            timesteps += len(acts)
            if rew > best_rew:
                print(f"new best reward {best_rew} => {rew}")
                best_rew = rew
                unwrapped: Any = env.unwrapped
                unwrapped.record_movie(movie)
                env.reset()
                for act in acts:
                    env.step(act)
                unwrapped.stop_record()
            if timesteps > timestep_limit:
                print(f"timestep limit exceeded: {timesteps} steps, {brute.node_count} nodes, "
                      f"best reward {best_rew}")
                return best_rew
    finally:
        env.close()


def brute_retro(game: str, max_episode_steps: int = 4500, timestep_limit: float = 1e8,
                state: Any = retro.State.DEFAULT, scenario: str | None = None) -> float:
    """Run the Brute on ``game`` until ``timestep_limit`` agent steps, recording each new best to ``best.bk2``."""
    return search(retro.make, game, max_episode_steps, timestep_limit, state, scenario)


def main(argv: list[str] | None = None, run: Callable[..., float] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--game", default="Airstriker-Genesis")
    parser.add_argument("--state", default=retro.State.DEFAULT)
    parser.add_argument("--scenario", default=None)
    parser.add_argument("--max-episode-steps", type=int, default=4500, help="agent steps per episode (4500)")
    parser.add_argument("--timestep-limit", type=float, default=1e8, help="stop after this many agent steps (1e8)")
    args = parser.parse_args(argv)
    (run or brute_retro)(game=args.game, state=args.state, scenario=args.scenario,
                max_episode_steps=args.max_episode_steps, timestep_limit=args.timestep_limit)


if __name__ == "__main__":
    main()

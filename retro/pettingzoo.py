"""PettingZoo environments for games that several players play.

Named as PettingZoo's own Atari modules name them::

    import retro.pettingzoo

    env = retro.pettingzoo.parallel_env("Pong-Atari2600")       # ParallelEnv
    observations, infos = env.reset(seed=0)
    while env.agents:
        actions = {agent: env.action_space(agent).sample() for agent in env.agents}
        observations, rewards, terminations, truncations, infos = env.step(actions)

    aec = retro.pettingzoo.env("Boxing-Atari2600")              # AECEnv (agents take turns)

Every integration that declares start states for several players
(``default_player_state`` in its ``metadata.json`` or in a scenario variant)
is a multi-agent env: :func:`games` lists them. The env starts from the
integration's 2-player state unless told otherwise (``players=``, ``state=``).
When ``scenario`` is not given, the first scenario that declares states
for that many players is used, in this order: this project's ``retro``
variant (its 2-player states and input routes give every player control
of their own side, which the tests check), then the game's own scenario,
then its other scenarios. ``env.unwrapped.scenario`` says which.

Agents are named as in PettingZoo's Atari envs: ``first_0``, ``second_0``,
``third_0``, ``fourth_0``. Each has its own action space (one player's
share of the game's joint action: ``Discrete`` by default, as PettingZoo's
Atari envs, or what ``use_restricted_actions`` asks for), its own
observation space (the screen, cropped for that player where the scenario
crops it; ``obs_type`` ``"rgb_image"``, ``"grayscale_image"`` or ``"ram"``),
and its own reward from the scenario's per-player rewards. When the game is
done every agent is terminated; after ``max_cycles`` steps every agent is
truncated. Infos carry the game's variables.

This module imports ``pettingzoo`` (the ``rl`` extra); ``import retro`` does not.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import EzPickle
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils import wrappers
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

from retro import data as retro_data
from retro.data.integrations import declared, declared_in, json_path
from retro.enums import Actions, State
from retro.env import make, resolve_game
from retro.errors import ConfigurationError, InvalidActionError, ResetNeededError
from retro.step import PETTINGZOO_OBS_TYPES

__all__ = ["parallel_env", "env", "raw_env", "ParallelRetroEnv", "games", "player_states", "choose_scenario",
           "AGENT_NAMES"]

AGENT_NAMES = ("first_0", "second_0", "third_0", "fourth_0", "fifth_0", "sixth_0", "seventh_0", "eighth_0")
"""Agent names by player, as PettingZoo's Atari envs name them."""



def _is_state_list(value: Any) -> bool:
    """Whether ``value`` is a ``default_player_state``: a list of states' names."""
    return isinstance(value, list) and all(isinstance(s, str) for s in value)


def _declared_player_states(path: str) -> list[str] | None:
    """A JSON file's ``default_player_state`` list, or None (read cheaply: most files have none)."""
    states = declared_in(path, "default_player_state")
    return states if _is_state_list(states) else None


def player_states(game: str, scenario: str | None = None,
                  inttype: retro_data.Integrations = retro_data.Integrations.ALL) -> list[str]:
    """The start state per number of players that ``game`` declares under ``scenario`` ([] if none).

    A scenario variant's ``default_player_state`` takes the place of the
    game's ``metadata.json``'s, as in :class:`retro.RetroEnv`.
    """
    variant = json_path(game, scenario, inttype) if scenario is not None else None
    return declared(game, "default_player_state", variant, inttype, accept=_is_state_list) or []


def _scenarios_in_order(game: str, inttype: retro_data.Integrations) -> list[str | None]:
    """This project's ``retro`` variant, then the game's own scenario (None), then its other scenarios."""
    named = retro_data.list_scenarios(game, inttype)
    order: list[str | None] = ["retro"] if "retro" in named else []
    order.append(None)
    order += [s for s in named if s not in ("retro", "scenario")]
    return order


def choose_scenario(game: str, players: int = 2,
                    inttype: retro_data.Integrations = retro_data.Integrations.ALL) -> str | None:
    """The scenario :func:`parallel_env` plays ``game`` with for ``players`` players (see the module docs)."""
    for scenario in _scenarios_in_order(game, inttype):
        if len(player_states(game, scenario, inttype)) >= players:
            return scenario
    raise ConfigurationError(
        f"{game} declares no start state for {players} players (default_player_state in its metadata.json "
        f"or a scenario); retro.pettingzoo.games({players}) lists the games that do")


def games(players: int = 2, inttype: retro_data.Integrations = retro_data.Integrations.ALL) -> list[str]:
    """Ids of the integrations with start states for ``players`` players or more (ROMs need not be present)."""
    found = []
    for game in retro_data.list_games(inttype):
        for _source, folder in retro_data.game_dirs(game, inttype):
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            if any(name.endswith(".json") and len(_declared_player_states(os.path.join(folder, name)) or []) >= players
                   for name in names):
                found.append(game)
                break
    return found


def _split_space(joint: spaces.Space[Any], players: int) -> spaces.Space[Any]:
    """One player's share of a retro env's joint action space (its actions concatenate the players')."""
    if isinstance(joint, spaces.MultiBinary):
        return spaces.MultiBinary(int(np.prod(joint.shape)) // players)
    if isinstance(joint, spaces.Discrete):
        n = round(int(joint.n) ** (1 / players))
        while n ** players > int(joint.n):
            n -= 1
        while (n + 1) ** players <= int(joint.n):
            n += 1
        return spaces.Discrete(n)
    if isinstance(joint, spaces.MultiDiscrete):
        nvec = np.asarray(joint.nvec)
        return spaces.MultiDiscrete(nvec.reshape(players, -1)[0])
    raise ConfigurationError(f"cannot split the action space {joint} among {players} players")


class ParallelRetroEnv(ParallelEnv, EzPickle):
    """A game as a PettingZoo ``ParallelEnv``: every agent acts at every step.

    Args:
        game: the game id (``Pong-Atari2600``, or stable-retro's ``-v0`` spelling).
        players: how many agents (default 2).
        obs_type: ``"rgb_image"`` (default), ``"grayscale_image"`` or ``"ram"``.
        max_cycles: steps after which every agent is truncated.
        render_mode: None, ``"rgb_array"`` or ``"human"``.
        scenario: the scenario (default: chosen as the module docs say).
        state: the start state (default: the scenario's state for ``players`` players).
        use_restricted_actions: each agent's action space kind (default ``retro.Actions.DISCRETE``).
        **kwargs: other arguments of :func:`retro.make` (``record``, ``core``, ``inttype``, ...).
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 60, "is_parallelizable": True}

    def __init__(self, game: str, players: int = 2, obs_type: str = "rgb_image", max_cycles: int = 100000,
                 render_mode: str | None = None, scenario: str | None = None,
                 state: State | str | None = State.DEFAULT, use_restricted_actions: Actions = Actions.DISCRETE,
                 **kwargs: Any) -> None:
        EzPickle.__init__(self, game, players=players, obs_type=obs_type, max_cycles=max_cycles,
                          render_mode=render_mode, scenario=scenario, state=state,
                          use_restricted_actions=use_restricted_actions, **kwargs)
        if not isinstance(players, int) or isinstance(players, bool) or not 1 <= players <= len(AGENT_NAMES):
            raise ConfigurationError(f"players must be an int from 1 to {len(AGENT_NAMES)}, got {players!r}")
        if obs_type not in PETTINGZOO_OBS_TYPES:
            raise ConfigurationError(f"obs_type must be one of {PETTINGZOO_OBS_TYPES}, got {obs_type!r}")
        if not isinstance(max_cycles, int) or max_cycles < 1:
            raise ConfigurationError(f"max_cycles must be a positive int, got {max_cycles!r}")
        inttype = kwargs.pop("inttype", retro_data.Integrations.ALL)
        name = resolve_game(game, inttype)
        if scenario is None and retro_data.get_file_path(name, "rom.sha", inttype) is not None:
            scenario = choose_scenario(name, players, inttype)  # (an unknown game is make()'s error to report)
        self.game = name
        self.scenario = scenario
        self.obs_type = obs_type
        self.max_cycles = max_cycles
        self.render_mode = render_mode
        self.env = make(name, state, inttype=inttype, scenario=scenario, players=players,
                              use_restricted_actions=use_restricted_actions, render_mode=render_mode,
                              obs_type=obs_type, api="gymnasium", **kwargs)
        self.metadata = dict(self.metadata, name=f"retro/{name}")
        self.possible_agents = list(AGENT_NAMES[:players])
        self.agents: list[str] = []
        self.players = players
        joint = self.env.action_space
        one = _split_space(joint, players)
        self._kind = ("binary" if isinstance(joint, spaces.MultiBinary) else
                      "discrete" if isinstance(joint, spaces.Discrete) else "multi")
        self._width = int(one.n) if isinstance(one, spaces.Discrete) else int(np.prod(one.shape or ()))
        self.action_spaces = {agent: (_split_space(joint, players) if i else one)
                              for i, agent in enumerate(self.possible_agents)}
        # a player's own view: the screen cropped for that player, where the scenario crops it differently
        crops = [self.env.data.crop_info(p) for p in range(players)]
        self._own_view = [obs_type == "rgb_image" and p > 0 and crops[p] != crops[0] for p in range(players)]
        obs_space = self.env.observation_space
        self.observation_spaces = {
            agent: (spaces.Box(0, 255, self.env.get_screen(p).shape, np.uint8) if self._own_view[p]
                    else obs_space)
            for p, agent in enumerate(self.possible_agents)}
        self.state_space = spaces.Box(0, 255, self.env.em.get_screen().shape, np.uint8)
        self.frame = 0

    # -- spaces -------------------------------------------------------------------------------------

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        """``agent``'s observation space."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        """``agent``'s action space: its player's share of the game's joint action."""
        return self.action_spaces[agent]

    # -- playing ------------------------------------------------------------------------------------

    def _observations(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        own = self._own_view
        return {agent: (self.env.get_screen(p) if own[p] else obs) for p, agent in enumerate(self.agents)}

    def reset(self, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Start an episode: ``(observations, infos)`` by agent; every possible agent plays again."""
        obs, info = self.env.reset(seed=seed, options=options)
        self.agents = self.possible_agents[:]
        self.frame = 0
        return self._observations(obs), {agent: dict(info) for agent in self.agents}

    def _joint_action(self, actions: dict[str, Any]) -> Any:
        unknown = set(actions) - set(self.agents)
        if unknown:
            raise InvalidActionError(f"actions for agents that are not playing: {sorted(unknown)}; "
                                     f"the agents are {self.agents}")
        per_player: list[Any] = []
        for agent in self.possible_agents:
            a = actions.get(agent)
            if a is None:  # an agent without an action presses nothing
                per_player.append(0 if self._kind == "discrete" else np.zeros(self._width, np.int64))
                continue
            if self._kind == "discrete":
                if isinstance(a, np.ndarray) and a.shape == ():
                    a = a.item()
                if not isinstance(a, (int, np.integer)) or isinstance(a, bool) or not 0 <= a < self._width:
                    raise InvalidActionError(f"{agent}: expected an int in [0, {self._width}), got {a!r}")
                per_player.append(int(a))
            else:
                arr = np.asarray(a)
                if arr.shape != (self._width,):
                    raise InvalidActionError(
                        f"{agent}: expected an action of shape ({self._width},) for {self.action_spaces[agent]}, "
                        f"got shape {arr.shape}")
                per_player.append(arr)
        if self._kind == "discrete":
            # player 1's choice is the lowest digit of the joint action, in base n
            return sum(a * self._width ** p for p, a in enumerate(per_player))
        return np.concatenate(per_player)

    def step(self, actions: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, float], dict[str, bool],
                                                     dict[str, bool], dict[str, dict[str, Any]]]:
        """One step with an action per agent (an agent left out presses nothing).

        Returns ``(observations, rewards, terminations, truncations, infos)`` by agent; when the game is done
        or ``max_cycles`` steps have passed, every agent leaves ``agents``.
        """
        if not self.agents:
            raise ResetNeededError("every agent is done: call reset() before step()")
        obs, reward, terminated, _truncated, info = self.env.step(self._joint_action(actions))
        self.frame += 1
        rewards = reward if isinstance(reward, list) else [reward]
        truncated = self.frame >= self.max_cycles
        observations = self._observations(obs)
        out_rewards = {agent: float(rewards[p]) for p, agent in enumerate(self.agents)}
        terminations = dict.fromkeys(self.agents, bool(terminated))
        truncations = dict.fromkeys(self.agents, bool(truncated))
        infos = {agent: dict(info) for agent in self.agents}
        if terminated or truncated:
            self.agents = []
        return observations, out_rewards, terminations, truncations, infos

    def render(self) -> np.ndarray | None:
        """The screen with ``render_mode='rgb_array'``; shows it with ``'human'``."""
        if self.render_mode is None:
            raise ConfigurationError('render() needs render_mode="rgb_array" or "human" when the env is made')
        image = self.env.render()
        return image if self.render_mode == "rgb_array" else None

    def state(self) -> np.ndarray:
        """The whole screen (a copy): the global state of the game."""
        return self.env.em.get_screen()

    def close(self) -> None:
        """Close the game."""
        self.env.close()


def parallel_env(game: str, **kwargs: Any) -> ParallelRetroEnv:
    """``game`` as a PettingZoo ``ParallelEnv`` (arguments: :class:`ParallelRetroEnv`)."""
    return ParallelRetroEnv(game, **kwargs)


def raw_env(game: str, **kwargs: Any) -> AECEnv:
    """``game`` as a PettingZoo ``AECEnv`` without PettingZoo's checking wrappers."""
    return parallel_to_aec_wrapper(ParallelRetroEnv(game, **kwargs))


def env(game: str, **kwargs: Any) -> AECEnv:
    """``game`` as a PettingZoo ``AECEnv`` (agents act in turn; the game steps once all have acted)."""
    aec = wrappers.AssertOutOfBoundsWrapper(raw_env(game, **kwargs))
    return wrappers.OrderEnforcingWrapper(aec)

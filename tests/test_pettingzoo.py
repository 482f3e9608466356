"""retro.pettingzoo: PettingZoo's own API tests on real 2-player games (the stella core, ale-py's ROMs)."""

from __future__ import annotations

import functools
import pickle
import types
import warnings

import gymnasium
import numpy as np
import pytest

pytest.importorskip("pettingzoo", reason="the rl extra (pip install -e .[rl]) is not installed")
with warnings.catch_warnings():
    # pettingzoo.test loads some of PettingZoo's own envs through a deprecated path
    warnings.simplefilter("ignore", DeprecationWarning)
    from pettingzoo.test import api_test, max_cycles_test, parallel_api_test, parallel_seed_test, render_test, seed_test

import retro  # noqa: E402
import retro.pettingzoo as rpz  # noqa: E402

TWO_PLAYER = ["Pong-Atari2600", "Boxing-Atari2600", "Tennis-Atari2600"]


@pytest.mark.parametrize("game", TWO_PLAYER)
def test_pettingzoo_api_tests(game: str) -> None:
    """PettingZoo's own checks: parallel_api_test on the ParallelEnv, api_test on the AECEnv."""
    par = rpz.parallel_env(game)
    aec = rpz.env(game)
    try:
        assert par.possible_agents == ["first_0", "second_0"]
        assert par.scenario == "retro" and par.env.statename == "retro.Start.2P.state"
        parallel_api_test(par, num_cycles=1000)
        api_test(aec, num_cycles=1000)
    finally:
        par.close()
        aec.close()


@pytest.mark.parametrize("game", TWO_PLAYER)
def test_each_agent_has_its_reward(game: str) -> None:
    """Per-player rewards from the scenario: the games are zero-sum, and points are scored in random play."""
    env = rpz.parallel_env(game)
    try:
        env.reset(seed=0)
        for i, agent in enumerate(env.possible_agents):
            env.action_space(agent).seed(i)
        totals = dict.fromkeys(env.possible_agents, 0.0)
        scored = 0
        for _ in range(1500):
            _obs, rewards, terminations, truncations, infos = env.step(
                {agent: env.action_space(agent).sample() for agent in env.agents})
            assert rewards["first_0"] == -rewards["second_0"]
            scored += rewards["first_0"] != 0
            for agent, r in rewards.items():
                totals[agent] += r
            assert infos["first_0"] == infos["second_0"] and infos["first_0"] is not infos["second_0"]
            if not env.agents:
                break
        assert scored > 0
        assert totals["first_0"] == -totals["second_0"]
    finally:
        env.close()


def test_second_agent_controls_player_two() -> None:
    """The second agent's action moves player 2 (Boxing's right boxer), not player 1."""
    def screen_after(actions: dict[str, int]) -> np.ndarray:
        env = rpz.parallel_env("Boxing-Atari2600")
        env.reset(seed=0)
        for _ in range(60):
            obs, *_ = env.step(actions)
        env.close()
        return obs["first_0"]

    down_left = 10  # DOWN and LEFT in each player's discrete table (player 1's digit of the joint action)
    idle = screen_after({"first_0": 0, "second_0": 0})
    second = screen_after({"first_0": 0, "second_0": down_left})
    first = screen_after({"first_0": down_left, "second_0": 0})
    assert not np.array_equal(idle, second) and not np.array_equal(idle, first)
    assert not np.array_equal(first, second)


def test_spaces_and_observation_types() -> None:
    env = rpz.parallel_env("Pong-Atari2600")
    assert env.action_space("first_0") == env.action_space("second_0")
    assert env.env.get_action_meaning(4) == [["DOWN"], []]  # player 1 is the lowest digit of the joint action
    assert env.env.get_action_meaning(10) == [["DOWN", "LEFT"], []]
    assert env.env.get_action_meaning(4 * env.action_space("first_0").n) == [[], ["DOWN"]]
    env.close()
    gray = rpz.parallel_env("Pong-Atari2600", obs_type="grayscale_image")
    obs, _ = gray.reset(seed=0)
    assert obs["first_0"].shape == (210, 160) == gray.observation_space("second_0").shape
    gray.close()
    ram = rpz.parallel_env("Pong-Atari2600", obs_type="ram")
    obs, _ = ram.reset(seed=0)
    assert obs["second_0"].shape == (128,) and ram.observation_space("first_0").contains(obs["first_0"])
    ram.close()
    binary = rpz.parallel_env("Boxing-Atari2600", use_restricted_actions=retro.Actions.FILTERED)
    assert binary.action_space("second_0") == gymnasium.spaces.MultiBinary(8)
    binary.reset(seed=0)
    obs, *_ = binary.step({"first_0": np.zeros(8, np.int8), "second_0": np.eye(8, dtype=np.int8)[5]})
    binary.close()


def test_seeded_episodes_repeat() -> None:
    def play() -> list[np.ndarray]:
        env = rpz.parallel_env("Tennis-Atari2600")
        env.reset(seed=3)
        rng = np.random.default_rng(3)
        frames = []
        for _ in range(200):
            obs, *_ = env.step({agent: int(rng.integers(18)) for agent in env.agents})
            frames.append(obs["second_0"])
        env.close()
        return frames

    a, b = play(), play()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_which_games_and_scenarios() -> None:
    found = rpz.games()
    assert set(TWO_PLAYER) <= set(found)
    assert {"FishingDerby-Atari2600", "MortalKombatII-Genesis"} <= set(found)  # stable-retro's own 2P states
    assert "Airstriker-Genesis" not in found
    assert rpz.choose_scenario("Pong-Atari2600") == "retro"
    assert rpz.choose_scenario("FishingDerby-Atari2600") is None  # the game's own scenario declares it
    assert rpz.player_states("Pong-Atari2600") == ["Start", "Start.2P"]
    env = rpz.parallel_env("FishingDerby-Atari2600")
    assert env.scenario is None and env.env.statename == "Start.2P.state"
    env.close()


def test_truncation_done_and_errors() -> None:
    env = rpz.parallel_env("Pong-Atari2600", max_cycles=3)
    env.reset(seed=0)
    for _ in range(3):
        _obs, _r, terminations, truncations, _i = env.step({"first_0": 0, "second_0": 0})
    assert truncations == {"first_0": True, "second_0": True} and not any(terminations.values())
    assert env.agents == []
    with pytest.raises(retro.ResetNeededError):
        env.step({"first_0": 0, "second_0": 0})
    env.reset()
    with pytest.raises(retro.InvalidActionError, match="not playing"):
        env.step({"third_0": 0})
    with pytest.raises(retro.InvalidActionError, match="second_0"):
        env.step({"first_0": 0, "second_0": 18})
    env.close()
    with pytest.raises(retro.ConfigurationError, match="no start state for 2 players"):
        rpz.parallel_env("Airstriker-Genesis")
    with pytest.raises(retro.ConfigurationError, match="3 players"):
        rpz.parallel_env("Pong-Atari2600", players=3)
    with pytest.raises(retro.GameNotFoundError, match="did you mean Pong-Atari2600"):
        rpz.parallel_env("Pong-Atari260")
    with pytest.raises(retro.ConfigurationError, match="obs_type"):
        rpz.parallel_env("Pong-Atari2600", obs_type="rgb")


def test_pickles_as_a_new_env_of_the_same_game() -> None:
    env = rpz.parallel_env("Pong-Atari2600", obs_type="ram", max_cycles=50)
    copy = pickle.loads(pickle.dumps(env))
    try:
        assert (copy.game, copy.scenario, copy.obs_type, copy.max_cycles) == ("Pong-Atari2600", "retro", "ram", 50)
        a, _ = env.reset(seed=0)
        b, _ = copy.reset(seed=0)
        assert np.array_equal(a["first_0"], b["first_0"])
    finally:
        env.close()
        copy.close()


def test_pettingzoos_seed_max_cycles_and_render_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    parallel_seed_test(functools.partial(rpz.parallel_env, "Pong-Atari2600"), num_cycles=200)
    seed_test(functools.partial(rpz.env, "Tennis-Atari2600"), num_cycles=100)
    module = types.SimpleNamespace(env=functools.partial(rpz.env, "Boxing-Atari2600"),
                                   parallel_env=functools.partial(rpz.parallel_env, "Boxing-Atari2600"))
    max_cycles_test(module)
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")  # "human" renders into pygame's dummy display
    render_test(functools.partial(rpz.env, "Pong-Atari2600"), custom_tests={})
    env = rpz.parallel_env("Pong-Atari2600", render_mode="rgb_array")
    env.reset(seed=0)
    assert np.array_equal(env.render(), env.state())
    env.close()

"""The ALE-compatible surface: frameskip, sticky actions, action sets and their names, obs_type, ``env.ale``,
and ALE-style tooling (Gymnasium's AtariPreprocessing, Stable-Baselines3's AtariWrapper) on real games."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import retro
from retro.ale import ALE_ACTIONS

ALE_GAMES = {"Pong-Atari2600": "pong", "Breakout-Atari2600": "breakout", "Qbert-Atari2600": "qbert",
             "Seaquest-Atari2600": "seaquest"}


def _buttons(env: retro.RetroEnv, name: str) -> set[str]:
    """The buttons an ALE action name presses on the Atari joystick."""
    out = {d for d in ("UP", "DOWN", "LEFT", "RIGHT") if d in name}
    if "FIRE" in name:
        out.add("BUTTON")
    return out


def test_full_action_space_is_ales_18_actions_in_order():
    import ale_py

    env = retro.make("Pong-Atari2600", full_action_space=True, api="gymnasium")
    try:
        meanings = env.get_action_meanings()
        assert meanings == list(ALE_ACTIONS) == list(ale_py.Action.__members__)
        assert env.action_space == gymnasium.spaces.Discrete(18)
        for i, name in enumerate(meanings):  # each index presses the buttons its name says
            assert set(env.get_action_meaning(i)) == _buttons(env, name)
    finally:
        env.close()


@pytest.mark.parametrize("game", sorted(ALE_GAMES))
def test_minimal_action_set_is_ales(game):
    from ale_py.env import AtariEnv

    ale_env = AtariEnv(ALE_GAMES[game])
    env = retro.make(game, full_action_space=False)
    try:
        assert env.get_action_meanings() == ale_env.get_action_meanings()
        assert env.action_space.n == ale_env.action_space.n
        for i, name in enumerate(env.get_action_meanings()):
            assert set(env.get_action_meaning(i)) == _buttons(env, name)
    finally:
        env.close()
        ale_env.close()


def test_genesis_action_set_names_every_combination():
    """Other systems: every combination of the combo groups, NOOP first, named by the documented rule."""
    env = retro.make("Airstriker-Genesis", full_action_space=False)
    try:
        meanings = env.get_action_meanings()
        assert len(meanings) == len(set(meanings)) == 3 * 3 * 14 == env.action_space.n
        assert meanings[:4] == ["NOOP", "B", "A", "A_B"] and "FIRE" not in meanings  # B is bit 0, A bit 1
        assert meanings[14:22] == ["UP", "RIGHT", "LEFT", "DOWN", "UPRIGHT", "UPLEFT", "DOWNRIGHT", "DOWNLEFT"]
        for i, name in enumerate(meanings):
            parts = name.split("_")
            direction = parts[0] if parts[0] in ("UP", "DOWN", "LEFT", "RIGHT", "UPRIGHT", "UPLEFT", "DOWNRIGHT",
                                                 "DOWNLEFT") else ""
            expected = {d for d in ("UP", "DOWN", "LEFT", "RIGHT") if d in direction}
            expected |= {p for p in parts if p not in (direction, "NOOP")}
            assert set(env.get_action_meaning(i)) == expected, name
    finally:
        env.close()
    with retro.make("Airstriker-Genesis", use_restricted_actions=retro.Actions.DISCRETE) as env:
        assert env.get_action_meanings()[0] == "NOOP" and len(env.get_action_meanings()) == env.action_space.n
    with retro.make("Airstriker-Genesis") as env, pytest.raises(retro.ConfigurationError, match="Discrete"):
        env.get_action_meanings()


def test_frameskip_plays_that_many_frames_on_the_session_path():
    """frameskip=4 equals four one-frame steps: the last frame's picture, rewards summed, same info."""
    skip = retro.make("Pong-Atari2600", frameskip=4, full_action_space=False, api="gymnasium")
    one = retro.make("Pong-Atari2600", full_action_space=False, api="gymnasium")
    try:
        skip.reset(seed=0)
        one.reset(seed=0)
        rng = np.random.default_rng(0)
        total = 0.0
        for _ in range(150):
            a = int(rng.integers(6))
            obs, rew, term, trunc, info = skip.step(a)
            r1 = 0.0
            for _ in range(4):
                o1, r, t1, _, i1 = one.step(a)
                r1 += r
            assert np.array_equal(obs, o1) and rew == r1 and term == t1 and info == i1
            total += abs(rew)
        assert total > 0  # points were scored in the compared steps
        assert skip.ale.getEpisodeFrameNumber() == one.ale.getEpisodeFrameNumber() == 600
    finally:
        skip.close()
        one.close()


def test_stochastic_frameskip_is_seeded_as_ale_py_seeds_it():
    """(low, high) draws from np_random seeded by the first word of SeedSequence(seed), high exclusive."""
    env = retro.make("Pong-Atari2600", frameskip=(2, 5), api="gymnasium")
    try:
        env.reset(seed=7)
        np_seed = np.random.SeedSequence(7).generate_state(n_words=2)[0]
        expect = np.random.Generator(np.random.PCG64(int(np_seed)))
        frames = []
        for _ in range(40):
            before = env.ale.getEpisodeFrameNumber()
            env.step(env.action_space.sample() * 0)
            frames.append(env.ale.getEpisodeFrameNumber() - before)
        assert frames == [int(expect.integers(2, 5)) for _ in range(40)]
        assert set(frames) == {2, 3, 4}
    finally:
        env.close()


def test_sticky_actions_repeat_the_previous_action_per_frame():
    """Each frame keeps the previous action with probability p (RNG: the second word of SeedSequence(seed)),
    until the new one is taken; a one-frame env fed the predicted frames sees the same pictures."""
    p = 0.5
    sticky = retro.make("Pong-Atari2600", frameskip=4, repeat_action_probability=p, full_action_space=False,
                        api="gymnasium")
    plain = retro.make("Pong-Atari2600", full_action_space=False, api="gymnasium")
    try:
        sticky.reset(seed=3)
        plain.reset(seed=3)
        rng = np.random.Generator(np.random.PCG64(int(np.random.SeedSequence(3).generate_state(n_words=2)[1])))
        actions = np.random.default_rng(5).integers(0, 6, 120)
        previous, repeats = 0, 0
        for a in actions:
            obs, rew, *_ = sticky.step(int(a))
            draws = rng.random(4)
            total = 0.0
            for u in draws:
                if u >= p:
                    previous = int(a)
                else:
                    repeats += 1
                o, r, *_ = plain.step(previous)
                total += r
            assert np.array_equal(obs, o) and rew == total
        assert repeats > 50
    finally:
        sticky.close()
        plain.close()


def test_sticky_actions_always_and_seeding():
    with retro.make("Pong-Atari2600", repeat_action_probability=1.0, full_action_space=False,
                    api="gymnasium") as always, \
            retro.make("Pong-Atari2600", full_action_space=False, api="gymnasium") as noop:
        always.reset()
        noop.reset()
        for _ in range(100):  # the first action (NOOP at reset) is kept for ever
            assert np.array_equal(always.step(3)[0], noop.step(0)[0])

    def run(seed: int) -> list[np.ndarray]:
        with retro.make("Pong-Atari2600", frameskip=(2, 6), repeat_action_probability=0.25,
                        full_action_space=False, api="gymnasium") as env:
            env.reset(seed=seed)
            return [env.step(i % 6)[0] for i in range(60)]

    a, b, c = run(1), run(1), run(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_obs_types_as_ale_names_them():
    with retro.make("Pong-Atari2600", obs_type="rgb") as rgb, \
            retro.make("Pong-Atari2600", obs_type="grayscale") as gray, \
            retro.make("Pong-Atari2600", obs_type="ram") as ram:
        o_rgb, o_gray, o_ram = rgb.reset(), gray.reset(), ram.reset()
        assert o_rgb.shape == rgb.observation_space.shape == (210, 160, 3)
        assert o_gray.shape == gray.observation_space.shape == (210, 160) and o_gray.dtype == np.uint8
        assert o_ram.shape == ram.observation_space.shape == (128,)
        luma = o_rgb.astype(float) @ np.array([0.299, 0.587, 0.114])
        assert np.abs(o_gray - luma).max() <= 1
        assert np.array_equal(o_ram, ram.get_ram())
        for _ in range(30):
            o_gray = gray.step(np.zeros(8, np.uint8))[0]
        assert np.array_equal(o_gray, gray.ale.getScreenGrayscale())


@pytest.mark.parametrize("kwargs, match", [
    ({"obs_type": "rgbx"}, "Invalid observation type"),
    ({"frameskip": 0}, "frameskip must be positive"),
    ({"frameskip": 2.5}, "Invalid frameskip type"),
    ({"frameskip": (4, 2)}, "strictly less"),
    ({"frameskip": (0, 3)}, "lower bound must be positive"),
    ({"frameskip": (1, 2, 3)}, "two ints"),
    ({"repeat_action_probability": 1.5}, r"\[0, 1\]"),
    ({"full_action_space": True, "use_restricted_actions": retro.Actions.MULTI_DISCRETE}, "full_action_space"),
])
def test_bad_ale_arguments_are_configuration_errors(kwargs, match):
    with pytest.raises(retro.ConfigurationError, match=match):
        retro.make("Pong-Atari2600", **kwargs)


def test_lives_come_from_the_integrations_lives_variable():
    with retro.make("Airstriker-Genesis", api="gymnasium") as env:
        _, info = env.reset()
        assert env.ale.lives() == info["lives"] == 3
        rng = np.random.default_rng(0)
        for _ in range(3000):
            _, _, term, _, info = env.step(rng.integers(0, 2, 12))
            assert env.ale.lives() == info["lives"]
            if info["lives"] < 3:
                break
        assert env.ale.lives() == 2
        assert env.ale.getScreenDims() == (224, 320) and env.ale.getScreenRGB().shape == (224, 320, 3)
    with retro.make("Pong-Atari2600") as env:  # no lives variable: 0, as ALE says for such games
        env.reset()
        assert env.ale.lives() == 0


def _run_atari_preprocessing(env_id: str, steps: int) -> tuple[float, bool, int]:
    from gymnasium.wrappers import AtariPreprocessing

    env = AtariPreprocessing(gymnasium.make(env_id, full_action_space=False), noop_max=30, frame_skip=4,
                             terminal_on_life_loss=True)
    try:
        obs, _ = env.reset(seed=0)
        assert obs.shape == (84, 84) and obs.dtype == np.uint8
        env.action_space.seed(0)
        total, terminated = 0.0, False
        for _ in range(steps):
            obs, rew, terminated, truncated, _ = env.step(env.action_space.sample())
            assert obs.shape == (84, 84)
            total += rew
            if terminated or truncated:
                break
        return total, terminated, env.unwrapped.ale.lives()
    finally:
        env.close()


def test_atari_preprocessing_runs_on_pong():
    total, _, _ = _run_atari_preprocessing("retro/Pong-Atari2600-v0", 300)
    assert total < 0  # the random player loses points


def test_atari_preprocessing_ends_on_life_loss_on_genesis():
    _, terminated, lives = _run_atari_preprocessing("retro/Airstriker-Genesis-v0", 2000)
    assert terminated and lives == 2


def test_sb3_atari_wrapper_on_genesis_lives():
    """SB3's AtariWrapper (no-op reset, frame skip with max-pool, episodic life, 84x84 gray) on Airstriker."""
    from stable_baselines3.common.atari_wrappers import AtariWrapper

    env = AtariWrapper(gymnasium.make("retro/Airstriker-Genesis-v0", full_action_space=False))
    try:
        obs, _ = env.reset(seed=0)
        assert obs.shape == (84, 84, 1)
        env.action_space.seed(0)
        for _ in range(2000):
            obs, rew, terminated, truncated, _ = env.step(env.action_space.sample())
            assert rew in (-1.0, 0.0, 1.0)  # clipped
            if terminated:
                break
        assert terminated and env.unwrapped.ale.lives() == 2  # a life lost ends the (training) episode
    finally:
        env.close()


def test_sb3_ppo_trains_on_make_atari_env():
    """SB3's own make_atari_env on a retro Atari game, then PPO for 2,048 steps (CPU, small batches)."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    torch.set_num_threads(1)
    venv = VecFrameStack(make_atari_env("retro/Pong-Atari2600-v0", n_envs=2, seed=0,
                                        env_kwargs={"full_action_space": False}), 4)
    try:
        assert venv.observation_space.shape == (84, 84, 4) and venv.action_space.n == 6
        model = PPO("CnnPolicy", venv, n_steps=128, batch_size=64, n_epochs=1, seed=0, device="cpu")
        model.learn(2048)
        assert model.num_timesteps == 2048
    finally:
        venv.close()


def test_make_atari_env_and_atari_preprocessing_on_the_ale_core_ids():
    """The RetroALE/ ids are what ALE-style pipelines take by name; they play on the ALE core."""
    from gymnasium.wrappers import AtariPreprocessing
    from stable_baselines3.common.env_util import make_atari_env

    venv = make_atari_env("RetroALE/PongNoFrameskip-v4", n_envs=2, seed=0)
    try:
        assert venv.observation_space.shape == (84, 84, 1) and venv.action_space.n == 6
        assert venv.get_attr("em")[0].core.name == "ale"
        obs = venv.reset()
        for _ in range(50):
            obs, rewards, dones, infos = venv.step(np.array([2, 3]))
        assert obs.shape == (2, 84, 84, 1) and "opponent_score" in infos[0]
    finally:
        venv.close()
    env = AtariPreprocessing(gymnasium.make("RetroALE/BreakoutNoFrameskip-v4"), frame_skip=4)
    try:
        obs, info = env.reset(seed=0)
        assert obs.shape == (84, 84) and env.unwrapped.ale.lives() == 5
        obs, *_ = env.step(1)
        assert obs.shape == (84, 84)
    finally:
        env.close()


def test_ale_style_env_passes_gymnasiums_env_checker_and_vector_paths_refuse_what_they_bypass():
    from gymnasium.utils.env_checker import check_env

    from retro.vector import Preprocessing, RetroVectorEnv

    with retro.make("Pong-Atari2600", frameskip=(2, 5), repeat_action_probability=0.25, full_action_space=False,
                    obs_type="grayscale", api="gymnasium") as env:
        check_env(env, skip_render_check=True)
        with pytest.raises(retro.ConfigurationError, match="own frameskip"):
            Preprocessing(env, frameskip=4)
    with pytest.raises(retro.ConfigurationError, match="sticky"):
        RetroVectorEnv("Pong-Atari2600", 1, repeat_action_probability=0.25)
    venv = RetroVectorEnv("Pong-Atari2600", 1, obs_type="grayscale", frameskip=4)
    try:
        assert venv.single_observation_space.shape == (210, 160)
    finally:
        venv.close()

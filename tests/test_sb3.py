"""retro.sb3.VecEnv: Stable-Baselines3 on RetroVectorEnv, on the real stella core and Pong."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("stable_baselines3", reason="the rl extra (pip install -e .[rl]) is not installed")
import torch  # noqa: E402
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.monitor import Monitor  # noqa: E402
from stable_baselines3.common.vec_env import VecFrameStack, VecMonitor  # noqa: E402

import retro  # noqa: E402
import retro.sb3  # noqa: E402
from retro.vector import RetroVectorEnv  # noqa: E402

GAME = "Pong-Atari2600"
SMALL = dict(frameskip=4, max_pool=True, grayscale=True, resize=(32, 32))


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Torch's thread pool and the step pool's threads would fight over this machine's two cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_ppo_trains_2048_steps_through_the_adapter():
    venv = VecMonitor(retro.sb3.VecEnv(RetroVectorEnv(GAME, 2, max_episode_steps=200, **SMALL)))
    try:
        assert venv.observation_space.shape == (32, 32, 1)
        model = PPO("MlpPolicy", venv, n_steps=256, batch_size=256, n_epochs=1, seed=0, device="cpu")
        model.learn(2048)
        assert model.num_timesteps == 2048
        # 2 envs x 1024 steps with a 200-step limit: every env finished episodes, and VecMonitor saw them
        assert len(model.ep_info_buffer) >= 2 * 5
        assert all(info["l"] == 200 for info in model.ep_info_buffer)
    finally:
        venv.close()


def test_same_step_autoreset_with_terminal_observation():
    """A finished env comes back reset in the same step, its last observation in the infos."""
    limit = 5
    venv = retro.sb3.VecEnv(RetroVectorEnv(GAME, 2, max_episode_steps=limit, **SMALL))
    ref = RetroVectorEnv(GAME, 2, max_episode_steps=limit, **SMALL)
    try:
        rng = np.random.default_rng(1)
        actions = rng.integers(0, 2, (limit, 2, 8)).astype(np.int8)
        venv.seed(7)
        obs = venv.reset()
        ref_obs, _ = ref.reset(seed=7)
        assert np.array_equal(obs[..., 0], ref_obs)
        for t in range(limit):
            obs, rewards, dones, infos = venv.step(actions[t])
            ref_obs, ref_rew, term, trunc, _ = ref.step(actions[t])
            assert rewards.dtype == np.float32 and np.array_equal(rewards, ref_rew)
            if t < limit - 1:
                assert not dones.any() and np.array_equal(obs[..., 0], ref_obs)
                assert all("terminal_observation" not in info for info in infos)
        assert dones.all() and trunc.all()
        for i in range(2):
            assert np.array_equal(infos[i]["terminal_observation"][..., 0], ref_obs[i])
            assert infos[i]["TimeLimit.truncated"] is True
            assert set(infos[i]) >= {"score1", "score2"}  # the game's variables, one dict per env
        reset_obs, _ = ref.reset(seed=[None, None])
        assert np.array_equal(obs[..., 0], reset_obs)  # already the next episode's first observation
        assert venv.reset_infos[0].keys() >= {"score1", "score2"}
        # the terminal observations are kept, whatever comes next
        kept = infos[0]["terminal_observation"].copy()
        venv.step(actions[0])
        assert np.array_equal(infos[0]["terminal_observation"], kept)
    finally:
        venv.close()
        ref.close()


def test_seeds_attributes_methods_and_images():
    venv = retro.sb3.VecEnv(RetroVectorEnv(GAME, 3, render_mode="rgb_array", **SMALL))
    try:
        assert venv.seed(11) == [11, 12, 13]
        venv.reset()
        assert venv.get_attr("np_random_seed") == [11, 12, 13]
        for env in venv.vector_env.envs:
            env.np_random.random()  # moves each generator on from its seeded start
        state = [env.np_random.bit_generator.state for env in venv.vector_env.envs]
        venv.reset()  # seeds are used once: the envs' generators go on, not seeded again
        assert [env.np_random.bit_generator.state for env in venv.vector_env.envs] == state
        assert venv.get_attr("gamename", indices=[2]) == [GAME]
        venv.set_attr("custom_flag", "x", indices=[0, 2])
        assert [getattr(e, "custom_flag", None) for e in venv.vector_env.envs] == ["x", None, "x"]
        venv.set_attr("custom_flag", "y")
        assert venv.get_attr("custom_flag") == ["y", "y", "y"]
        meanings = venv.env_method("get_action_meaning", np.eye(8, dtype=np.int8)[4], indices=1)
        assert meanings == [["UP"]]
        assert venv.env_is_wrapped(Monitor) == [False, False, False]
        images = venv.get_images()
        assert len(images) == 3 and images[0].shape == (210, 160, 3)
        assert venv.render("rgb_array").ndim == 3  # SB3 tiles the envs' screens
        with pytest.raises(retro.ConfigurationError):
            venv.get_attr("gamename", indices=[3])
    finally:
        venv.close()


def test_process_mode():
    venv = retro.sb3.VecEnv(RetroVectorEnv(GAME, 2, mode="process", max_episode_steps=3, **SMALL))
    try:
        venv.seed(0)
        first = venv.reset()
        for _ in range(3):
            obs, _rewards, dones, infos = venv.step(np.zeros((2, 8), np.int8))
        assert dones.all() and infos[1]["terminal_observation"].shape == (32, 32, 1)
        assert np.array_equal(obs, first)  # reset to the same start state; Pong's screen is the same
        assert venv.get_attr("gamename") == [GAME, GAME]
        assert venv.env_method("get_action_meaning", np.zeros(8, np.int8)) == [[], []]
        with pytest.raises(retro.ConfigurationError, match="indices=None"):
            venv.env_method("get_action_meaning", np.zeros(8, np.int8), indices=[0])
    finally:
        venv.close()


def test_refuses_what_sb3_cannot_train():
    with pytest.raises(retro.ConfigurationError, match="Gymnasium vector env"):
        retro.sb3.VecEnv(retro.make(GAME, api="gymnasium"))  # type: ignore[arg-type]
    venv = retro.sb3.VecEnv(RetroVectorEnv(GAME, 1, scenario="retro", players=2, **SMALL))
    try:
        venv.reset()
        with pytest.raises(retro.ConfigurationError, match="several players"):
            venv.step(np.zeros((1, 16), np.int8))
    finally:
        venv.close()


def test_sb3_wrappers_stack_the_adapters_frames():
    venv = VecFrameStack(retro.sb3.VecEnv(RetroVectorEnv(GAME, 2, max_episode_steps=3, **SMALL)), 4)
    try:
        assert venv.reset().shape == (2, 32, 32, 4)
        for _ in range(3):
            obs, _rewards, dones, infos = venv.step(np.zeros((2, 8), np.int8))
        assert obs.shape == (2, 32, 32, 4) and dones.all()
        assert infos[0]["terminal_observation"].shape == (32, 32, 4)
    finally:
        venv.close()

"""Observation types declared in ``retro.step``: ``"rgb_ram"`` (the screen and the RAM together, a ``Dict``
observation) for one env, a vector env in both modes and SB3's adapter, each part equal to what the
``"rgb"`` and ``"ram"`` types give on the same play."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import retro
from retro.step import OBS_TYPES, PETTINGZOO_OBS_TYPES, ObservationSpec
from retro.vector import RetroVectorEnv


def play(env: Any, actions: list[Any]) -> list[Any]:
    obs, _ = env.reset(seed=0)
    out = [obs]
    for a in actions:
        out.append(env.step(a)[0])
    return out


@pytest.mark.parametrize("game, kwargs", [("Airstriker-Genesis", {}),
                                          ("Pong-Atari2600", {"frameskip": 4, "repeat_action_probability": 0.25})])
def test_rgb_ram_is_the_rgb_and_ram_observations_together(game: str, kwargs: dict[str, Any]) -> None:
    made = {t: retro.make(game, obs_type=t, api="gymnasium", **kwargs) for t in ("rgb", "ram", "rgb_ram")}
    try:
        both = made["rgb_ram"]
        assert isinstance(both.observation_space, gymnasium.spaces.Dict)
        assert both.observation_space["image"] == made["rgb"].observation_space
        assert both.observation_space["ram"] == made["ram"].observation_space
        rng = np.random.default_rng(1)
        actions = [rng.integers(0, 2, both.action_space.n, np.int8) for _ in range(120)]
        runs = {t: play(env, actions) for t, env in made.items()}
        for rgb, ram, together in zip(runs["rgb"], runs["ram"], runs["rgb_ram"]):
            assert together in both.observation_space
            assert np.array_equal(together["image"], rgb) and np.array_equal(together["ram"], ram)
        assert both.img is runs["rgb_ram"][-1]["image"] and both.ram is runs["rgb_ram"][-1]["ram"]
        check_env(both, skip_render_check=True)
    finally:
        for env in made.values():
            env.close()


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_a_vector_env_batches_rgb_ram_as_a_dict(mode: str) -> None:
    kwargs = dict(frameskip=4, max_pool=True, grayscale=True, resize=(42, 42), max_episode_steps=40, mode=mode)
    made = [RetroVectorEnv("Pong-Atari2600", 2, obs_type="rgb_ram", **kwargs),  # type: ignore[arg-type]
            RetroVectorEnv("Pong-Atari2600", 2, **kwargs),  # type: ignore[arg-type]
            RetroVectorEnv("Pong-Atari2600", 2, obs_type="ram", frameskip=4, max_episode_steps=40, mode=mode)]
    try:
        both, pictures, rams = made
        assert both.single_observation_space["image"].shape == (42, 42)
        assert both.single_observation_space["ram"].shape == (128,)
        rng = np.random.default_rng(2)
        runs = [[venv.reset(seed=0)[0]] for venv in made]
        for _ in range(50):  # past max_episode_steps: autoreset rows too
            actions = rng.integers(0, 2, (2, 8), np.int8)
            for venv, run in zip(made, runs):
                run.append(venv.step(actions)[0])
        for together, picture, ram in zip(*runs):
            assert together in both.observation_space
            assert np.array_equal(together["image"], picture) and np.array_equal(together["ram"], ram)
        assert runs[0][-1]["image"] is not runs[0][-2]["image"]  # a new batch each step
    finally:
        for venv in made:
            venv.close()


def test_sb3_hands_out_rgb_ram_terminal_observations() -> None:
    pytest.importorskip("stable_baselines3")
    from retro.sb3 import VecEnv

    venv = VecEnv(RetroVectorEnv("Pong-Atari2600", 2, obs_type="rgb_ram", frameskip=4, max_episode_steps=3))
    try:
        venv.reset()
        for _ in range(3):
            obs, _rewards, dones, infos = venv.step(np.zeros((2, 8), np.int8))
        assert dones.all()
        for i in range(2):
            last = infos[i]["terminal_observation"]
            assert last["image"].shape == (210, 160, 3) and last["ram"].shape == (128,)
        assert obs["image"].shape == (2, 210, 160, 3)
    finally:
        venv.close()


def test_the_names_of_observation_types() -> None:
    assert set(OBS_TYPES) == {"rgb", "grayscale", "ram", "rgb_ram"}
    assert PETTINGZOO_OBS_TYPES == ("rgb_image", "grayscale_image", "ram")
    assert ObservationSpec.named("grayscale_image") == ObservationSpec.named("grayscale")
    assert ObservationSpec.named(retro.Observations.RAM) == OBS_TYPES["ram"]
    for bad in ("rgb_ram_image", "ram_image", "rgbx", 3):
        with pytest.raises(retro.ConfigurationError, match="Invalid observation type"):
            ObservationSpec.named(bad)
    with pytest.raises(retro.ConfigurationError, match="RAM alone"):
        ObservationSpec(retro.Observations.RAM, with_ram=True)
    with pytest.raises(retro.ConfigurationError, match="RAM alone"):
        RetroVectorEnv("Pong-Atari2600", 1, obs_type="ram", grayscale=True)

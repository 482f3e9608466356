"""Minari datasets: recorded from a live vector env, exported from movies, loaded by Minari, and replayed from their
start states to the same observations bit for bit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import minari
import numpy as np
import pytest

import retro
from retro.datasets import DatasetRecorder, export_movies
from retro.vector import Preprocessing, RetroVectorEnv

ROOT = Path(__file__).resolve().parent.parent
PICTURES = {"frameskip": 4, "max_pool": True, "grayscale": True, "resize": (84, 84)}


@pytest.fixture(autouse=True)
def datasets_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "minari"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(folder))
    return folder


def replay(make: Any, episode: Any) -> np.ndarray:
    """An episode's observations, made again by an env from ``make()`` reset and given the episode's actions."""
    env = make()
    try:
        first, _ = env.reset()
        observations = [first]
        for action in episode.actions:
            observations.append(env.step(action)[0])
        return np.stack(observations)
    finally:
        env.close()


def test_a_vector_env_records_one_stream_per_lane_that_replays_bit_for_bit() -> None:
    venv = RetroVectorEnv("Airstriker-Genesis", 4, max_episode_steps=25, **PICTURES)
    recorder = DatasetRecorder(venv)
    recorder.reset(seed=0)
    venv.action_space.seed(1)
    for _ in range(60):  # two truncated episodes per lane, and a third begun
        recorder.step(venv.action_space.sample())
    recorder.close()
    assert len(recorder.episodes) == 8
    dataset = recorder.create_dataset("retro/airstriker-lanes-v0", author="retro's tests")
    loaded = minari.load_dataset("retro/airstriker-lanes-v0")
    assert loaded.total_episodes == 8 and loaded.total_steps == 8 * 25 == dataset.total_steps
    episodes = list(loaded.iterate_episodes())
    for episode in episodes:
        assert episode.observations.shape == (26, 84, 84) and episode.observations.dtype == np.uint8
        assert episode.actions.shape == (25, 12) and episode.truncations[-1] and not episode.terminations.any()
        assert set(episode.infos) >= {"score", "lives"} and len(episode.infos["score"]) == 26

    def make() -> Any:
        return Preprocessing(retro.make("Airstriker-Genesis", api="gymnasium"), frameskip=4, max_pool=True,
                             grayscale=True, resize=(84, 84))

    for episode in (episodes[0], episodes[5]):  # a first episode, and one that began with an autoreset
        assert np.array_equal(replay(make, episode), episode.observations)
    assert not np.array_equal(episodes[0].observations, episodes[1].observations)  # the lanes played apart


def test_movies_export_to_a_dataset_that_replays_from_the_movies_start(tmp_path: Path) -> None:
    env = retro.make("Pong-Atari2600", api="gymnasium", frameskip=4, record=str(tmp_path))
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(40):
        env.step(env.action_space.sample())
    env.close()
    [movie] = tmp_path.glob("*.bk2")
    dataset = export_movies([movie], "retro/pong-movie-v0", obs_type="rgb", resize=(105, 80))
    [episode] = list(minari.load_dataset("retro/pong-movie-v0").iterate_episodes())
    frames = len(retro.Movie(movie)) - 1  # its first frame is the reset's
    assert dataset.total_steps == frames and episode.observations.shape == (frames + 1, 105, 80, 3)
    assert episode.truncations[-1] and episode.actions.shape[1] == 8  # every button of the Atari joystick

    def make() -> Any:
        played = retro.make("Pong-Atari2600", api="gymnasium", use_restricted_actions=retro.Actions.ALL,
                            state=retro.State.NONE)
        played.initial_state = retro.Movie(movie).get_state()
        return Preprocessing(played, resize=(105, 80))

    assert np.array_equal(replay(make, episode), episode.observations)


def test_the_export_command_and_its_errors(tmp_path: Path, datasets_folder: Path) -> None:
    env = retro.make("Airstriker-Genesis", api="gymnasium", record=str(tmp_path))
    env.reset()
    for _ in range(10):
        env.step(env.action_space.sample())
    env.close()
    [movie] = tmp_path.glob("*.bk2")
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "retro", "export", *args], capture_output=True, text=True,
                              cwd=ROOT, timeout=300, env=dict(os.environ, MINARI_DATASETS_PATH=str(datasets_folder)))

    done = run(str(movie), "--to", "minari", "retro/cli-v0", "--obs-type", "ram")
    assert done.returncode == 0, done.stderr
    assert "retro/cli-v0: 1 episode(s), 10 steps" in done.stdout
    [episode] = list(minari.load_dataset("retro/cli-v0").iterate_episodes())
    assert episode.observations.shape == (11, 65536)  # the Genesis's 64 KB of RAM
    assert run(str(tmp_path / "none.bk2"), "--to", "minari", "retro/x-v0").returncode == 2
    with pytest.raises(retro.ConfigurationError, match="api=\"gymnasium\""):
        DatasetRecorder(retro.make("Airstriker-Genesis"))

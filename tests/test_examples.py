"""The tree search, determinism checker and PPO examples (Gym Retro's and stable-retro's), on real games."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import retro
from retro.examples import brute, determinism, ppo

# -- the Brute -------------------------------------------------------------------------------------------------------


def test_the_tree_follows_the_best_path_it_has_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(brute, "EXPLORATION_PARAM", 0.0)
    root = brute.Node()
    assert brute.update_tree(root, [2, 0, 1], 5.0) == 3
    assert brute.update_tree(root, [2, 1], 3.0) == 1  # a worse branch: the path keeps 5
    assert (root.value, root.visits, root.children[2].value, root.children[2].children[1].value) == (5.0, 2, 5.0, 3.0)
    space = gym.spaces.Discrete(3, seed=0)
    acts = brute.select_actions(root, space, 6)
    assert len(acts) == 6 and acts[:3] == [2, 0, 1]  # greedy down the tree, then random off it


@pytest.mark.parametrize("package", ["retro", "stable_retro"])
def test_brute_records_its_best_episode_and_the_movie_replays_it(package: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    module = importlib.import_module(f"{package}.examples.brute")
    monkeypatch.chdir(tmp_path)
    random.seed(1)
    best = module.brute_retro("Airstriker-Genesis", max_episode_steps=60, timestep_limit=300)
    movie = tmp_path / "best.bk2"
    assert movie.exists()
    env = retro.make("Airstriker-Genesis", use_restricted_actions=retro.Actions.ALL, api="gymnasium")
    try:  # the movie replays the best episode: 60 agent steps of 4 frames, the same total reward
        m = retro.Movie(str(movie))
        m.step()  # the frame the recording starts at
        env.initial_state = m.get_state()
        env.reset()
        total, frames = 0.0, 0
        while m.step():
            act = [m.get_key(i, 0) for i in range(env.num_buttons)]
            total += env.step(act)[1]
            frames += 1
        m.close()
    finally:
        env.close()
    assert frames == 60 * 4 and total == best


def test_frameskip_speaks_the_api_of_the_env_it_wraps() -> None:
    classic = retro.make("Airstriker-Genesis")
    gymn = retro.make("Airstriker-Genesis", api="gymnasium")
    try:
        for env, size in ((classic, 4), (gymn, 5)):
            wrapped = brute.Frameskip(env, skip=3)
            wrapped.reset(seed=0)
            result = wrapped.step(env.action_space.sample())
            assert len(result) == size
    finally:
        classic.close()
        gymn.close()


# -- the determinism check -------------------------------------------------------------------------------------------

def _airstriker(reset_on_step: bool) -> Any:
    return determinism.MoreDeterministicRetroState(retro.make("Airstriker-Genesis"), reset_on_step=reset_on_step)


def _actions(n: int) -> list[Any]:
    env = retro.make("Airstriker-Genesis")
    env.action_space.seed(0)
    acts = [env.action_space.sample() for _ in range(n)]
    env.close()
    return acts


@pytest.mark.parametrize("reset_on_step", [False, True])
def test_check_env_passes_a_deterministic_game(reset_on_step: bool) -> None:
    assert determinism.check_env(lambda: _airstriker(reset_on_step), _actions(300), timeout=120) is True


def test_check_env_passes_an_atari_game_on_the_ale_core() -> None:
    def make() -> Any:
        return determinism.MoreDeterministicRetroState(retro.make("Pong-Atari2600", scenario="retro", core="ale"),
                                                       reset_on_step=False)
    env = make()
    env.action_space.seed(0)
    acts = [env.action_space.sample() for _ in range(400)]
    env.close()
    assert determinism.check_env(make, acts, timeout=120) is True


class _Drifting(gym.Wrapper):
    """A game that is not deterministic: the RAM it shows moves on with wall time."""

    def reset(self, **kwargs: Any) -> Any:  # type: ignore[override]
        return self.env.reset(**kwargs)

    def get_state(self) -> Any:
        return self.env.get_state()  # type: ignore[attr-defined]

    def get_ram(self) -> np.ndarray:
        return np.frombuffer(np.float64(time.perf_counter()).tobytes(), np.uint8)


def test_check_env_fails_a_game_that_drifts(capfd: pytest.CaptureFixture[str]) -> None:
    assert determinism.check_env(lambda: _Drifting(_airstriker(False)), _actions(300), timeout=120) is False
    out = capfd.readouterr().out  # the child's output
    assert "failed ram: from state 0, chunk 0" in out and "failed rew" not in out


def test_check_env_fails_a_game_that_hangs_or_raises(capfd: pytest.CaptureFixture[str]) -> None:
    def hangs() -> Any:
        time.sleep(60)

    def raises() -> Any:
        raise RuntimeError("no such game")

    assert determinism.check_env(hangs, [0], timeout=1) is False
    assert "failed to finish in time" in capfd.readouterr().out
    assert determinism.check_env(raises, [0], timeout=60) is False


def test_the_determinism_script_checks_the_library(capfd: pytest.CaptureFixture[str]) -> None:
    determinism.main(["--suffix", "Airstriker-Genesis", "--timeout", "120"])
    assert capfd.readouterr().out.splitlines()[-1] == "checked 1 games: 1 deterministic, 0 failed"


# -- PPO -------------------------------------------------------------------------------------------------------------

class _Echo(gym.Env):
    """Rewards each step with the action it was given, so a test sees which action a frame played."""

    observation_space = gym.spaces.Box(0, 1, (1,), np.uint8)
    action_space = gym.spaces.Discrete(10)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        return np.zeros(1, np.uint8), {}

    def step(self, act: Any) -> Any:
        return np.zeros(1, np.uint8), float(act) * 10 ** self.frame, False, False, {}

    frame = 0


def test_stochastic_frame_skip_sticks_only_on_the_first_frame() -> None:
    env = _Echo()
    played: list[int] = []
    env.step = lambda act: (played.append(act), (np.zeros(1, np.uint8), 0.0, False, False, {}))[1]  # type: ignore
    always = ppo.StochasticFrameSkip(env, n=4, stickprob=1.0)
    always.reset()
    always.step(1)
    always.step(2)
    assert played == [1, 1, 1, 1, 1, 2, 2, 2]  # the first action plays at once; later ones a frame late
    played.clear()
    never = ppo.StochasticFrameSkip(env, n=4, stickprob=0.0)
    never.reset()
    never.step(1)
    never.step(2)
    assert played == [1, 1, 1, 1, 2, 2, 2, 2]


def test_stochastic_frame_skip_repeats_when_seeded() -> None:
    def run() -> list[int]:
        env = _Echo()
        played: list[int] = []
        env.step = lambda act: (played.append(act), (np.zeros(1, np.uint8), 0.0, False, False, {}))[1]  # type: ignore
        wrapped = ppo.StochasticFrameSkip(env, n=2, stickprob=0.5)
        wrapped.reset(seed=7)
        for a in range(40):
            wrapped.step(a)
        return played
    assert run() == run() and len(set(run())) < 40 * 2


@pytest.mark.parametrize("package", ["retro", "stable_retro"])
def test_make_retro_and_deepmind_wrappers_on_a_real_game(package: str) -> None:
    import importlib

    module = importlib.import_module(f"{package}.examples.ppo")
    env = module.wrap_deepmind_retro(module.make_retro(game="Airstriker-Genesis", max_episode_steps=20))
    try:
        assert type(env.unwrapped).__module__.split(".")[0] == package
        obs, _info = env.reset(seed=0)
        assert obs.shape == (84, 84, 1)
        rewards, steps, truncated = set(), 0, False
        while not truncated:
            obs, rew, terminated, truncated, _info = env.step(env.action_space.sample())
            rewards.add(rew)
            steps += 1
            assert not terminated
        assert steps == 20 and rewards <= {-1.0, 0.0, 1.0}
    finally:
        env.close()


def test_the_ppo_script_trains_on_the_vector_env(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("stable_baselines3")
    ppo.main(["--vector", "--num-envs", "2", "--total-timesteps", "256"])
    assert capsys.readouterr().out.splitlines()[-1] == "trained PPO on Airstriker-Genesis for 256 steps"


def test_go_explore_finds_cells_on_both_backends_and_its_best_trajectory_replays(tmp_path: Path) -> None:
    from retro.examples import go_explore

    results = []
    for make in (go_explore.RetroLanes, go_explore.ALELanes):
        lanes = make(4, 2)
        try:
            results.append(go_explore.explore(lanes, 20_000, seed=2))
        finally:
            lanes.close()
    for result in results:
        assert result.frames >= 20_000 and result.cells > 3  # it went places from the start
    ours = results[0]
    movie = tmp_path / "best.bk2"
    assert go_explore.write_movie(ours.best_actions, str(movie)) == ours.best_score
    assert len(retro.Movie(movie)) == len(ours.best_actions) * go_explore.FRAMESKIP + 1

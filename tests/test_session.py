"""The game session: observations a user may write into, and recording wherever frames are played."""

from __future__ import annotations

import hashlib
import pathlib
import random
from typing import Any, Iterator

import numpy as np
import pytest

import retro
from retro.data import Integrations
from retro.movie import Movie
from retro.session import GameSession
from retro.step import ObservationSpec, StepPlan
from retro.vector import Preprocessing, RetroVectorEnv
from tests.cores import build


@pytest.fixture(scope="module")
def dupe_game(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A custom integration whose "ROM" runs on the dupe test core (odd frames repeat the picture)."""
    cores = build.build_all(tmp_path_factory.mktemp("testcores"))
    root = tmp_path_factory.mktemp("custom")
    game = root / "DupeTest-Atari2600"
    game.mkdir()
    rom = random.Random(7).randbytes(4096)
    (game / "rom.a26").write_bytes(rom)
    (game / "rom.sha").write_text(hashlib.sha1(rom).hexdigest() + "\n")
    (game / "data.json").write_text('{"info": {}}')
    (game / "scenario.json").write_text("{}")
    Integrations.add_custom_path(str(root))
    yield "DupeTest-Atari2600", str(cores["dupe"])
    Integrations.clear_custom_paths()


def _make(game: str, core: str | None) -> retro.RetroEnv:
    kwargs: dict[str, Any] = {"inttype": Integrations.ALL}
    if core is not None:
        kwargs.update(core=core, state=retro.State.NONE)
    return retro.make(game, **kwargs)


@pytest.mark.parametrize("game", ["dupe", "Pong-Atari2600", "Airstriker-Genesis"])
def test_writing_into_an_observation_never_changes_a_later_one(dupe_game: tuple[str, str], game: str) -> None:
    """Two envs, same actions; one scribbles over every observation it gets: the next ones still agree."""
    name, core = dupe_game if game == "dupe" else (game, None)
    scribbled, clean = _make(name, core), _make(name, core)
    try:
        rng = np.random.default_rng(0)
        a, b = scribbled.reset(), clean.reset()
        for t in range(40):
            assert np.array_equal(a, b), f"step {t}"
            a[...] = 7
            action = rng.integers(0, 2, scribbled.action_space.shape)
            a, b = scribbled.step(action)[0], clean.step(action)[0]
        assert np.array_equal(a, b)
    finally:
        scribbled.close()
        clean.close()


@pytest.mark.parametrize("game", ["dupe", "Pong-Atari2600"])
def test_vector_rows_a_user_writes_into_never_come_back(dupe_game: tuple[str, str], game: str) -> None:
    name, core = dupe_game if game == "dupe" else (game, None)
    kwargs: dict[str, Any] = {"inttype": Integrations.ALL, "num_threads": 2}
    if core is not None:
        kwargs.update(core=core, state=retro.State.NONE)
    scribbled, clean = RetroVectorEnv(name, 2, **kwargs), RetroVectorEnv(name, 2, **kwargs)
    try:
        a, _ = scribbled.reset(seed=0)
        b, _ = clean.reset(seed=0)
        rng = np.random.default_rng(1)
        for t in range(30):
            assert np.array_equal(a, b), f"step {t}"
            a[...] = 7
            actions = rng.integers(0, 2, scribbled.action_space.shape)
            a, b = scribbled.step(actions)[0], clean.step(actions)[0]
    finally:
        scribbled.close()
        clean.close()


def replay_screens(path: pathlib.Path) -> list[np.ndarray]:
    """Every frame of a movie played on a bare emulator: the screen after each frame."""
    movie = Movie(path)
    em = retro.RetroEmulator(retro.data.get_romfile_path(movie.get_game()))
    try:
        state = movie.get_state()
        if state:
            em.set_state(state)
        screens = []
        while movie.step():
            for p, mask in enumerate(movie.masks()):
                em.set_button_mask(mask, p)
            em.step()
            screens.append(em.get_screen())
        return screens
    finally:
        em.close()


@pytest.mark.parametrize("frameskip", [1, 4])
def test_vector_env_records_every_frame_of_every_env(tmp_path: pathlib.Path, frameskip: int) -> None:
    """``RetroVectorEnv(record=...)``: one movie per env, every frame played, replaying bit-exactly."""
    steps = 50
    venv = RetroVectorEnv("Pong-Atari2600", 2, num_threads=2, frameskip=frameskip, record=tmp_path)
    seen: list[np.ndarray] = []
    try:
        obs, _ = venv.reset(seed=0)
        seen.append(obs)
        rng = np.random.default_rng(2)
        for _ in range(steps):
            obs, _, terminated, truncated, _ = venv.step(rng.integers(0, 2, venv.action_space.shape))
            assert not (terminated.any() or truncated.any())
            seen.append(obs)
    finally:
        venv.close()
    movies = sorted(tmp_path.glob("*.bk2"))
    assert [m.name for m in movies] == [f"Pong-Atari2600-Start-env{i}-000000.bk2" for i in range(2)]
    for i, path in enumerate(movies):
        screens = replay_screens(path)
        assert len(screens) == 1 + steps * frameskip  # the reset's frame, then every frame played
        for t, batch in enumerate(seen):
            assert np.array_equal(screens[t * frameskip], batch[i]), f"env {i}, step {t}"


def test_preprocessing_wrapper_records_every_frame(tmp_path: pathlib.Path) -> None:
    env = retro.make("Pong-Atari2600", api="gymnasium", record=str(tmp_path))
    wrapped = Preprocessing(env, frameskip=4)
    try:
        first, _ = wrapped.reset(seed=0)
        obs = first
        for _ in range(10):
            obs = wrapped.step(wrapped.action_space.sample())[0]
    finally:
        wrapped.close()
    [path] = tmp_path.glob("*.bk2")
    screens = replay_screens(path)
    assert len(screens) == 1 + 10 * 4
    assert np.array_equal(screens[0], first) and np.array_equal(screens[-1], obs)


def test_preprocessing_wraps_a_gymnasium_made_env() -> None:
    import gymnasium

    env = Preprocessing(gymnasium.make("retro/Pong-Atari2600-v0"), frameskip=4, max_pool=True, grayscale=True,
                        resize=(84, 84))
    try:
        obs, _ = env.reset(seed=0)
        assert obs.shape == (84, 84)
        obs, rew, terminated, truncated, info = env.step(env.action_space.sample())
        assert obs.shape == (84, 84) and isinstance(rew, float) and "score1" in info
    finally:
        env.close()


def test_session_surface() -> None:
    """press, advance, play k frames, observe into an array, outcome, restart."""
    session = GameSession("Pong-Atari2600", scenario="retro")
    try:
        session.restart()
        session.press(session.decode(np.zeros(8, np.int8)))
        obs = session.advance()
        assert obs.shape == session.observation_shape
        reward = session.play(4)
        assert reward == 0.0 and session.outcome()[1] is False
        out = np.empty((84, 84), np.uint8)
        assert session.observe(out, gray=True, size=(84, 84)) is out
        assert set(session.outcome()[2]) == {"score", "opponent_score"}
        assert StepPlan(4, ObservationSpec(pool=True)).pools and not StepPlan(1, ObservationSpec(pool=True)).pools
        with pytest.raises(retro.ConfigurationError):
            StepPlan(0)
    finally:
        session.close()

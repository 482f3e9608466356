"""Verifiable movies: a movie recorded here carries per-frame digests of the game, ``retro verify`` replays it and
says "identical" or the first frame that differs, ``retro playback`` checks as it replays."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import retro
from retro.movie import DIGESTS_MEMBER, Movie, MovieDigests
from retro.scripts.playback_movie import load_movie, playback_movie, verify_movie
from retro.vector import RetroVectorEnv

ROOT = Path(__file__).resolve().parent.parent

#: (game, make() arguments, steps recorded)
RECORDINGS = {
    "stella": ("Pong-Atari2600", {"frameskip": 4}, 150),
    "ale": ("Breakout-Atari2600", {"scenario": "retro", "core": "ale", "frameskip": 4,
                                   "repeat_action_probability": 0.25}, 150),
    "genesis_plus_gx": ("Airstriker-Genesis", {"frameskip": (2, 5)}, 120),
}
#: the button flipped in a copy of each recording: fire (B) in Pong and Airstriker, LEFT in Breakout
FLIPPED = {"stella": 0, "ale": 6, "genesis_plus_gx": 0}


def record(tmp: Path, game: str, kwargs: dict[str, Any], steps: int, seed: int = 0) -> Path:
    env = retro.make(game, api="gymnasium", record=str(tmp), **kwargs)
    try:
        env.reset(seed=seed)
        env.action_space.seed(seed)
        for _ in range(steps):
            env.step(env.action_space.sample())
    finally:
        env.close()
    return min(tmp.glob("*.bk2"))


def retro_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "retro", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)


@pytest.mark.parametrize("core", list(RECORDINGS))
def test_a_recorded_movie_verifies_and_a_flipped_input_is_found(core: str, tmp_path: Path) -> None:
    game, kwargs, steps = RECORDINGS[core]
    path = record(tmp_path, game, kwargs, steps)
    movie = Movie(path)
    digests = movie.digests
    assert digests is not None and len(digests.frames) == len(movie) > steps  # one per frame played
    assert 0 < len(digests.pictures) <= len(movie)
    result = verify_movie(path)
    assert result.identical and str(result) == f"identical over {len(movie)} frames"
    # one input flipped at frame k: the replay parts from the recording at k or a little after
    frames = movie.frames
    k = len(frames) // 2
    changed = tmp_path / "changed" / path.name
    changed.parent.mkdir()
    rewrite(path, changed, lambda rows: flip(rows, k, FLIPPED[core]))
    result = verify_movie(changed)
    assert not result.identical and result.first is not None and k <= result.first < k + 60, str(result)
    assert str(result).startswith(f"frame {result.first} of {len(frames)} differs: ")
    done = retro_cli("verify", str(path), str(changed))
    assert done.returncode == 1, done.stderr
    assert f"{path}: identical over {len(frames)} frames" in done.stdout
    assert f"{changed}: frame {result.first} of" in done.stdout
    assert retro_cli("verify", str(path)).returncode == 0


def flip(rows: np.ndarray, k: int, button: int) -> np.ndarray:
    """Press or release one button of player 1 at frame ``k``."""
    rows = rows.copy()
    rows[k, 1] ^= 1 << button
    return rows


def rewrite(src: Path, dst: Path, change: Any) -> None:
    """``src`` with its input log changed by ``change(frames)``, every other member as it was."""
    movie = Movie(src)
    writer = Movie(dst, True, movie.players)
    writer.configure(movie.get_game(), _Emulator(movie))
    writer.set_state(movie.get_state())
    for row in change(movie.frames):
        writer.append_frame([int(x) for x in row[1:]], int(row[0]))
    assert movie.digests is not None
    writer.set_digests(movie.digests)
    writer.close()


class _Emulator:
    """What ``Movie.configure`` reads of an emulator: the system and the ROM."""

    def __init__(self, movie: Movie) -> None:
        self.system = movie.system
        self.rom_path = str(retro.data.get_romfile_path(movie.get_game(), retro.data.Integrations.ALL))


def test_playback_checks_the_replay_and_gym_retros_call_logs_it(tmp_path: Path, caplog: Any) -> None:
    game, kwargs, steps = RECORDINGS["stella"]
    path = record(tmp_path, game, kwargs, 60)
    result = playback_movie(str(path), video=False, audio=False, progress=False)
    assert result is not None and result["verified"].identical
    env, movie, _ = load_movie(path)
    try:
        with caplog.at_level("INFO", logger="retro.scripts.playback_movie"):
            playback_movie(env, movie)
        assert f"identical over {len(Movie(path))} frames" in caplog.text
    finally:
        env.close()


def test_vector_env_movies_carry_digests_that_verify(tmp_path: Path) -> None:
    venv = RetroVectorEnv("Pong-Atari2600", 2, frameskip=4, max_pool=True, grayscale=True, resize=(84, 84),
                          record=str(tmp_path))
    try:
        venv.reset(seed=1)
        for _ in range(60):
            venv.step(venv.action_space.sample())
    finally:
        venv.close()
    movies = sorted(tmp_path.glob("*.bk2"))
    assert len(movies) == 2
    for path in movies:
        assert verify_movie(path).identical


def test_movies_without_or_with_broken_digests_say_so(tmp_path: Path) -> None:
    path = record(tmp_path, "Pong-Atari2600", {}, 20)
    bare = tmp_path / "bare.bk2"
    broken = tmp_path / "broken.bk2"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bare, "w") as a, zipfile.ZipFile(broken, "w") as b:
        for name in src.namelist():
            data = src.read(name)
            if name != DIGESTS_MEMBER:
                a.writestr(name, data)
            b.writestr(name, data[:-5] if name == DIGESTS_MEMBER else data)
    assert Movie(bare).digests is None
    with pytest.raises(retro.MovieFormatError, match="no digests"):
        verify_movie(bare)
    with pytest.raises(retro.MovieFormatError, match="RetroDigests.bin claims"):
        verify_movie(broken)
    done = retro_cli("verify", str(bare))
    assert done.returncode == 1 and "no digests" in done.stderr and done.stderr.count("\n") == 1
    assert retro_cli("verify", str(tmp_path / "missing.bk2")).returncode == 2


def test_digests_round_trip_and_name_the_ram_that_differs() -> None:
    frames = np.array([[1, 0], [2, 0b101], [3, 0]], np.uint64)
    pictures = np.array([[0, 9], [2, 7]], np.uint64)
    digests = MovieDigests(frames, pictures)
    back = MovieDigests.from_bytes(digests.to_bytes())
    assert np.array_equal(back.frames, frames) and np.array_equal(back.pictures, pictures)
    replay = MovieDigests(np.array([[1, 0], [5, 0b100], [3, 0]], np.uint64), np.array([[i, 9] for i in range(3)],
                                                                                      np.uint64))
    report = digests.check(replay, ram_size=128)
    assert report.first == 1 and report.ram and report.ram_ranges == [(0, 1)] and not report.picture
    assert str(report) == "frame 1 of 3 differs: the RAM (system RAM offsets 0x0000-0x0001)"
    report = digests.check(MovieDigests(frames, np.array([[0, 9], [1, 1], [2, 8]], np.uint64)), ram_size=128)
    assert report.first == 2 and report.picture and not report.ram
    assert not digests.check(MovieDigests(frames[:2], pictures[:1]), 128).identical

"""From power-on, games play exactly as in stable-retro 1.0.1, on every system.

stable-retro's ``RetroEmulator`` plays the game's first frame when it is
made, its env plays one more frame when it is made, and ``reset()`` plays
the reset frame; with ``State.NONE`` nothing else happens, so a new env's
first observation is the third frame after power-on. retro does the same,
so the first episode from power-on, a new emulator's frames, and movies
recorded from power-on are the same in both libraries. Later resets differ
on purpose: retro powers the game on again (every episode starts as the
first), unless ``power_cycle_on_reset=False``, which resets as stable-retro
does; both are compared here.

The games are this repository's test ROMs of every system (``tests/roms``,
as custom integrations) and Airstriker for the Genesis; stable-retro runs
in its own virtualenv on the same core binaries (see ``tests/test_library.py``,
whose worker mechanism this reuses). The worker hashes every observation.

PicoDrive draws the 32X picture's 224 lines into a 240-line screen;
stable-retro copies all 240 lines of the core's buffer, so its last 16
lines hold memory past the picture (in its first frames, different on
every run of stable-retro). Those rows are left out of the 32X comparisons,
and retro shows them black.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import retro
from retro.movie import DIGESTS_MEMBER
from retro.scripts.playback_movie import verify_movie
from tests.integration_helpers import write_test_rom_integration
from tests.test_library import ensure_stable_retro, first_difference, run_worker

#: test ROM -> system (Airstriker plays the Genesis: there is no Genesis test ROM)
ROMS = {"nes": "Nes", "snes": "Snes", "atari2600": "Atari2600", "gb": "GameBoy", "gbc": "GbColor", "sms": "Sms",
        "gg": "GameGear", "pce": "PCEngine", "gba": "GbAdvance", "32x": "32x"}
AIRSTRIKER = "Airstriker-Genesis-v0"
PONG = "Pong-Atari2600-v0"
#: rows of the screen the comparison covers (all when not listed): see the module's docstring
ROWS = {"32x": 224}
STEPS = 1000        # seeded random steps of one episode from power-on
RESET_STEPS = 300   # steps through episodes of 100 frames, to compare resets
EMULATOR_STEPS = 120


@pytest.fixture(scope="module")
def stable_retro_python() -> str:
    return ensure_stable_retro()


@pytest.fixture(scope="module")
def games(test_roms: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Custom integrations of the test ROMs: ``RetroTestRom-<System>`` is done at frame 2,000 (after
    every step played here), ``RetroTestShort-<System>`` at frame 100."""
    custom = tmp_path_factory.mktemp("custom")
    for name in ROMS:
        write_test_rom_integration(test_roms[name], custom, done_at=2000)
        write_test_rom_integration(test_roms[name], custom, name="RetroTestShort", done_at=100)
    return {"custom": str(custom), "roms": {name: str(test_roms[name]) for name in ROMS}}


def actions(tmp: Path, name: str, steps: int, buttons: int, seed: int) -> str:
    path = tmp / f"{name}.npy"
    np.save(path, np.random.default_rng(seed).integers(0, 2, (steps, buttons), dtype=np.int8))
    return str(path)


def buttons_of(system: str) -> int:
    return len(retro.get_system_info(system)["buttons"])


def both(python: str, jobs: list[dict[str, Any]], tmp: Path, ours: list[dict[str, Any]] | None = None
         ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The jobs played by stable-retro, and by retro (``ours``: retro's own jobs, default the same)."""
    theirs = run_worker(python, "stable_retro", jobs, tmp / "stable_retro")
    return run_worker(sys.executable, "retro", jobs if ours is None else ours, tmp / "retro"), theirs


# -- the emulator ---------------------------------------------------------------------------------------------

def test_a_new_emulator_has_played_the_first_frame(test_roms: dict[str, Path]) -> None:
    """What ``first_frame`` means: a new emulator shows the first frame; without it nothing is played."""
    with retro.RetroEmulator(test_roms["gb"]) as em, \
            retro.RetroEmulator(test_roms["gb"], first_frame=False) as bare:
        assert (em.frame_count, bare.frame_count) == (1, 0)
        assert not np.array_equal(em.get_screen(), bare.get_screen())
        for _ in range(10):
            bare.step()
            assert np.array_equal(em.get_screen(), bare.get_screen())
            em.step()


def test_new_emulators_show_what_stable_retros_show(stable_retro_python: str, games: dict[str, Any],
                                                    airstriker_rom: Path, pong_rom: Path, tmp_path: Path) -> None:
    """Every system: a new ``RetroEmulator``'s screen, then after each step with random buttons, frame for frame."""
    roms = {**games["roms"], "genesis": str(airstriker_rom), "pong": str(pong_rom)}
    jobs = []
    for i, (name, rom) in enumerate(sorted(roms.items())):
        job = {"kind": "emulator", "rom": rom, "actions": actions(tmp_path, name, EMULATOR_STEPS, 12, i)}
        if name in ROWS:
            job["rows"] = ROWS[name]
        jobs.append(job)
    ours, theirs = both(stable_retro_python, jobs, tmp_path)
    mismatched = []
    for (name, _rom), a, b in zip(sorted(roms.items()), ours, theirs):
        assert len(a["frames"]) == len(b["frames"]) == EMULATOR_STEPS + 1
        if a["frames"] != b["frames"]:
            mismatched.append(f"{name}: {first_difference(a['frames'], b['frames'])}")
        assert len(set(a["frames"])) > 5, f"{name}: the picture changes as the game runs"
    assert not mismatched, "\n".join(mismatched)


def test_rows_left_out_of_the_32x_comparison_are_black(test_roms: dict[str, Path]) -> None:
    with retro.RetroEmulator(test_roms["32x"]) as em:
        assert em.get_screen().shape == (240, 320, 3)
        for _ in range(20):
            em.step()
            assert not em.get_screen()[ROWS["32x"]:].any()
        assert em.get_screen()[: ROWS["32x"]].any()


# -- the env ------------------------------------------------------------------------------------------------

def env_jobs(games: dict[str, Any], tmp: Path, game: str, steps: int) -> list[dict[str, Any]]:
    """One power-on job per system: the test ROMs' integrations named ``game``, and Airstriker."""
    jobs = []
    for i, (name, system) in enumerate(sorted(ROMS.items())):
        job = {"kind": "play", "game": f"{game}-{system}", "state": None, "custom": games["custom"],
               "actions": actions(tmp, f"{game}-{name}", steps, buttons_of(system), 100 + i)}
        if name in ROWS:
            job["rows"] = ROWS[name]
        jobs.append(job)
    jobs.append({"kind": "play", "game": AIRSTRIKER, "state": None,
                 "actions": actions(tmp, f"{game}-genesis", steps, buttons_of("Genesis"), 99)})
    return jobs


def test_envs_from_power_on_play_as_stable_retro(stable_retro_python: str, games: dict[str, Any],
                                                 tmp_path: Path) -> None:
    """Every system, 1,000 seeded random steps from power-on: the same observation, reward, done and info
    at every step (no episode ends)."""
    jobs = env_jobs(games, tmp_path, "RetroTestRom", STEPS)
    ours, theirs = both(stable_retro_python, jobs, tmp_path)
    mismatched = []
    for job, a, b in zip(jobs, ours, theirs):
        assert len(a["steps"]) == STEPS + 1, f"{job['game']}: one episode"
        if a["steps"] != b["steps"]:
            mismatched.append(f"{job['game']}: {first_difference(a['steps'], b['steps'])}")
        if job["game"] != AIRSTRIKER:
            assert sum(step[1] for step in a["steps"]) > 10, f"{job['game']}: the comparison covers rewards"
        assert len({step[0] for step in a["steps"]}) > 3, f"{job['game']}: the picture changes"
    assert not mismatched, "\n".join(mismatched)


def test_later_resets_power_cycle_or_run_on_as_stable_retro(stable_retro_python: str, games: dict[str, Any],
                                                            tmp_path: Path) -> None:
    """Episodes of 100 frames: the first is stable-retro's either way; after it, retro starts each episode as
    the first (the default), or with ``power_cycle_on_reset=False`` plays on exactly as stable-retro does."""
    jobs = env_jobs(games, tmp_path, "RetroTestShort", RESET_STEPS)[:-1]  # Airstriker's episodes are longer
    run_on = [dict(job, options={"power_cycle_on_reset": False}) for job in jobs]
    ours, theirs = both(stable_retro_python, jobs, tmp_path, ours=jobs + run_on)
    for job, cycled, kept, b in zip(jobs, ours, ours[len(jobs):], theirs):
        game = job["game"]
        assert kept["steps"] == b["steps"], f"{game} run on: {first_difference(kept['steps'], b['steps'])}"
        starts = [0] + [i + 1 for i, step in enumerate(cycled["steps"]) if step[2]]
        assert len(starts) >= 3, f"{game}: episodes end"
        first = cycled["steps"][: starts[1]]
        assert first == b["steps"][: starts[1]], f"{game}: the first episode is stable-retro's"
        for s in starts[1:]:
            assert cycled["steps"][s][0] == first[0][0], f"{game}: every episode starts as the first"
        second = cycled["steps"][starts[1]: starts[2]]
        assert [step[3]["frame"] for step in second[1:]] == [step[3]["frame"] for step in first[1:]]
        assert b["steps"][starts[1] + 1][2], f"{game}: stable-retro's game ran on (done at once)"


# -- movies -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("game", [AIRSTRIKER, PONG])
def test_power_on_movies_replay_both_ways(stable_retro_python: str, tmp_path: Path, game: str) -> None:
    """A movie recorded from power-on by stable-retro replays here frame for frame, and ours there."""
    system = game.rsplit("-", 2)[1]
    path = actions(tmp_path, "movie", 600, buttons_of(system), 5)
    jobs = {name: [{"kind": "play", "game": game, "state": None, "actions": path,
                    "movie": str(tmp_path / f"{name}.bk2")}] for name in ("retro", "stable_retro")}
    ours, theirs = both(stable_retro_python, jobs["stable_retro"], tmp_path, ours=jobs["retro"])
    recorded = {"retro": ours[0], "stable_retro": theirs[0]}
    assert recorded["retro"]["steps"] == recorded["stable_retro"]["steps"]
    for name, record in recorded.items():
        steps = record["steps"]
        assert not any(step[2] for step in steps), f"{name}: one episode, all in the movie"
        assert len(set(step[0] for step in steps)) > 10, "the game moves"
        assert not retro.Movie(record["movies"][0]).get_state(), f"{name}'s movie starts from power-on"
    # ours carries the game's digests (an extra zip member stable-retro's reader leaves alone), and checks out
    ours_movie = recorded["retro"]["movies"][0]
    assert DIGESTS_MEMBER in zipfile.ZipFile(ours_movie).namelist()
    assert DIGESTS_MEMBER not in zipfile.ZipFile(recorded["stable_retro"]["movies"][0]).namelist()
    assert verify_movie(ours_movie).identical
    replays = [{"kind": "replay", "movie": recorded[name]["movies"][0]} for name in ("stable_retro", "retro")]
    here, there = both(stable_retro_python, replays[1:], tmp_path / "replay", ours=replays[:1])
    episode = [step[0] for step in recorded["retro"]["steps"]]
    assert here[0]["frames"] == episode, f"stable-retro's movie here: {first_difference(here[0]['frames'], episode)}"
    assert there[0]["frames"] == episode, f"ours in stable-retro: {first_difference(there[0]['frames'], episode)}"

"""stable-retro's game library: provisioned, found by its own ids, and played exactly as stable-retro plays it.

The library is stable-retro 1.0.1's integration folders, which set-up
extracts read-only from the pinned wheel into ``RETRO_HOME/library``. The
comparison tests run stable-retro itself, in its own virtualenv
(``benchmarks/_build/stable-retro-venv``, made from the same pinned wheel),
on the same core binaries and ROMs, and compare every step.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import retro
import retro.data as rd
from retro import paths
from retro.data import GameData, Integrations
from retro.errors import RomMismatchError, StateError

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "compat_worker.py"
KIND_FLAGS = {"stable": Integrations.STABLE, "experimental": Integrations.EXPERIMENTAL,
              "contrib": Integrations.CONTRIB}
STEPS = 3000


def library() -> Path:
    lib = Path(rd.library_path())
    if not (lib / "stable").is_dir():
        pytest.fail(f"{lib} is missing: run bash scripts/setup.sh (it provisions stable-retro's game library)")
    return lib


def folders() -> list[tuple[str, str]]:
    lib = library()
    return sorted((kind, name) for kind in KIND_FLAGS for name in os.listdir(lib / kind))


# -- the library as a source ------------------------------------------------------------------

def test_every_folder_loads_by_its_stable_retro_id() -> None:
    """All 1,068 folders: found by their own id, their data and scenario (Lua included) load."""
    lib = library()
    found = folders()
    counts = {kind: sum(1 for k, _ in found if k == kind) for kind in KIND_FLAGS}
    assert counts == {"stable": 1006, "experimental": 56, "contrib": 6}
    scenarios: set[str] = set()
    for kind, name in found:
        folder = lib / kind / name
        flags = KIND_FLAGS[kind]
        data_path = rd.get_file_path(name, "data.json", flags)
        assert data_path == str(folder / "data.json"), name
        for file in ("rom.sha", "scenario.json", "metadata.json"):
            if (folder / file).is_file():
                assert rd.get_file_path(name, file, flags) == str(folder / file), (name, file)
            else:  # the experimental data.json of a stable game: its other files are the stable game's
                assert kind == "experimental" and (lib / "stable" / f"{name}-v0").is_dir(), name
                assert rd.get_file_path(name, file, flags) == str(lib / "stable" / f"{name}-v0" / file)
        assert rd.get_file_path(name, "scenario.json", flags) is not None
        for scenario in rd.list_scenarios(name, flags):  # every scenario file, Lua scripts run as they load
            path = rd.get_file_path(name, scenario + ".json", flags)
            GameData().load(data_path, path)
            scenarios.add(path)
    ours = {p for p in scenarios if not p.startswith(str(lib))}
    assert {Path(p).name for p in ours} <= {"retro.json"}  # this project's variants, by their own name
    scenarios -= ours
    lua = sum("scripts" in json.loads(Path(p).read_text()) for p in scenarios)
    assert (len(scenarios), lua) == (1042, 55)  # every scenario file of the library, 55 with Lua scripts
    assert len(rd.list_games(Integrations.ALL)) == 1006 + 56 + 6 - 38  # 38 experimental share a stable name


def test_library_is_read_only_and_stamped() -> None:
    lib = library()
    stamp = json.loads((lib / "PROVENANCE.json").read_text())
    assert (stamp["package"], stamp["version"]) == ("stable-retro", "1.0.1")
    assert not list(lib.rglob("*.py"))
    sha = lib / "stable" / "Pong-Atari2600-v0" / "rom.sha"
    assert sha.stat().st_mode & 0o222 == 0


def test_ids_resolve_as_stable_retro_resolves_them() -> None:
    """Exact names first: a stable game never reads an experimental folder of the same base name."""
    lib = library()
    overlap = sorted(n for n in os.listdir(lib / "experimental") if (lib / "stable" / f"{n}-v0").is_dir())
    assert len(overlap) == 38
    for name in overlap:
        stable = lib / "stable" / f"{name}-v0"
        for flags in (Integrations.STABLE, Integrations.ALL):
            assert rd.get_file_path(f"{name}-v0", "data.json", flags) == str(stable / "data.json")
            assert rd.get_file_path(f"{name}-v0", "scenario.json", flags) == str(stable / "scenario.json")
        # the Gym Retro spelling is the stable game; with experimental folders searched it reads the
        # experimental data.json of exactly its name (as stable-retro does) over the stable game's other files
        assert rd.get_file_path(name, "data.json", Integrations.STABLE) == str(stable / "data.json")
        assert rd.get_file_path(name, "data.json", Integrations.ALL) == str(lib / "experimental" / name / "data.json")
        assert rd.get_file_path(name, "rom.sha", Integrations.ALL) == str(stable / "rom.sha")


def test_own_integrations_are_named_variants_never_swapped_in() -> None:
    """The library's files define a game it has; this project's files are reached only by their own names."""
    lib = library()
    ours = Path(rd.path()) / "stable"
    for folder in sorted(ours.iterdir()):
        game = folder.name
        assert (lib / "stable" / f"{game}-v0").is_dir(), game
        for file in ("data.json", "scenario.json", "metadata.json", "rom.sha"):
            got = rd.get_file_path(game, file, Integrations.ALL)
            assert got is None or got.startswith(str(lib)), (game, file, got)
        assert rd.get_file_path(game, "retro.json") == str(folder / "retro.json")
        assert "retro" in rd.list_scenarios(game)
        assert any(s.startswith("retro.") for s in rd.list_states(game))


def test_pong_by_stable_retro_id_is_the_library_game() -> None:
    env = retro.make("Pong-Atari2600-v0")
    try:
        assert env.statename == "Start.state"
        env.reset()
        info = env.step(env.action_space.sample())[3]
        assert set(info) == {"ball_x", "ball_y", "p1_pos", "p2_pos", "score1", "score2"}
    finally:
        env.close()
    variant = retro.make("Pong-Atari2600", scenario="retro")
    try:
        assert variant.statename == "retro.Start.state"
        variant.reset()
        assert set(variant.step(variant.action_space.sample())[3]) == {"score", "opponent_score"}
    finally:
        variant.close()


def test_variant_two_players_routes_the_second_paddle() -> None:
    env = retro.make("Pong-Atari2600", scenario="retro", players=2)
    try:
        assert env.statename == "retro.Start.2P.state"
        assert env.session.input_routes, "the retro variant carries Pong's input routes"
    finally:
        env.close()
    env = retro.make("Pong-Atari2600-v0", players=2)
    try:
        assert env.statename == "Start.2P.state"
        assert not env.session.input_routes, "stable-retro's Pong has none"
    finally:
        env.close()


# -- ROM hash ----------------------------------------------------------------------------------

def test_make_refuses_a_rom_the_integration_was_not_made_for() -> None:
    """Tennis in stable-retro's library is another dump than ale-py's; the retro variant was made for ale-py's."""
    with pytest.raises(RomMismatchError) as info:
        retro.make("Tennis-Atari2600")
    message = str(info.value)
    sha_lib = (library() / "stable" / "Tennis-Atari2600-v0" / "rom.sha").read_text().split()[0]
    rom = rd.get_romfile_path("Tennis-Atari2600")
    sha_rom = hashlib.sha1(Path(rom).read_bytes()).hexdigest()
    assert sha_lib in message and sha_rom in message and "check_rom_hash=False" in message
    assert isinstance(info.value, ValueError)
    retro.make("Tennis-Atari2600", check_rom_hash=False).close()
    retro.make("Tennis-Atari2600", scenario="retro").close()


# -- states ------------------------------------------------------------------------------------

@pytest.fixture
def pong() -> retro.RetroEmulator:
    em = retro.RetroEmulator(rd.get_romfile_path("Pong-Atari2600"))
    yield em
    em.close()


def test_zero_padded_stella_state_loads(pong: retro.RetroEmulator, tmp_path: Path) -> None:
    padded = gzip.decompress((library() / "stable" / "Pong-Atari2600-v0" / "Start.state").read_bytes())
    size = pong.get_state_size()
    assert len(padded) == 512 > size and not any(padded[size:])
    pong.set_state(padded)
    ram = pong.get_ram().copy()
    pong.set_state(padded[:size])
    assert (pong.get_ram() == ram).all()
    pong.step()  # a reset plays one frame after the restore
    ram = pong.get_ram().copy()
    # raw (not gzipped) state files load too, as in stable-retro
    game = tmp_path / "RawPong-Atari2600"
    game.mkdir()
    for f in ("data.json", "scenario.json", "rom.sha"):
        (game / f).write_bytes((library() / "stable" / "Pong-Atari2600-v0" / f).read_bytes())
    (game / "Raw.state").write_bytes(padded)
    (game / "rom.a26").write_bytes(Path(rd.get_romfile_path("Pong-Atari2600")).read_bytes())
    Integrations.add_custom_path(str(tmp_path))
    try:
        env = retro.make("RawPong-Atari2600", state="Raw", inttype=Integrations.ALL)
        try:
            env.reset()
            assert (env.get_ram() == ram).all()
        finally:
            env.close()
    finally:
        Integrations.clear_custom_paths()


@pytest.mark.parametrize("kind", ["truncated", "nonzero-tail", "foreign", "random", "empty"])
def test_bad_states_never_reach_the_core(pong: retro.RetroEmulator, kind: str) -> None:
    good = pong.get_state()
    rng = np.random.default_rng(7)
    bad = {
        "truncated": good[:-1],
        "nonzero-tail": good + b"\0" * 30 + b"\x01",
        "foreign": gzip.decompress((library() / "stable" / "Airstriker-Genesis-v0" / "Level1.state").read_bytes()),
        "random": rng.integers(0, 256, 777, dtype=np.uint8).tobytes(),
        "empty": b"",
    }[kind]
    before = pong.get_ram().copy()
    pong.step()
    after_step = pong.get_ram().copy()
    with pytest.raises(StateError):
        pong.set_state(bad)
    assert (pong.get_ram() == after_step).all(), "a refused state changes nothing"
    del before


# -- identical to stable-retro -----------------------------------------------------------------

def ale_hashes() -> dict[str, Path]:
    out = {}
    for rom in sorted((paths.roms_dir() / "ale-py").glob("*.a26")):
        out[hashlib.sha1(rom.read_bytes()).hexdigest()] = rom
    return out


def playable_games() -> list[str]:
    """stable-retro ids of the library's games whose ROM set-up provisions: Atari games from ale-py, Airstriker."""
    lib = library()
    known = ale_hashes()
    games = []
    for name in sorted(os.listdir(lib / "stable")):
        if name.endswith("-Atari2600-v0"):
            shas = (lib / "stable" / name / "rom.sha").read_text().split()
            if any(s in known for s in shas):
                games.append(name)
    return games + ["Airstriker-Genesis-v0"]


@pytest.fixture(scope="module")
def stable_retro_python() -> str:
    return ensure_stable_retro()


def ensure_stable_retro() -> str:
    """The Python of stable-retro's own virtualenv, made (and the library's ROMs imported) if need be."""
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks import peers
    finally:
        sys.path.remove(str(ROOT))
    peers.BUILD.mkdir(parents=True, exist_ok=True)
    log = peers.BUILD / "stable-retro-setup.log"
    try:
        return peers.ensure_stable_retro(log, tuple(playable_games()))
    except peers.SetupError as e:
        pytest.fail(f"stable-retro 1.0.1 could not be set up in its own virtualenv: {e}")


def run_worker(python: str, library_name: str, jobs: list[dict], tmp: Path) -> list[dict]:
    tmp.mkdir(parents=True, exist_ok=True)
    jobs_file, out_file = tmp / f"{library_name}-jobs.json", tmp / f"{library_name}-out.json"
    jobs_file.write_text(json.dumps(jobs))
    env = dict(os.environ)
    if library_name == "stable_retro":
        env.pop("PYTHONPATH", None)
        cwd = str(tmp)  # never this checkout, whose retro/ would shadow nothing but is not stable-retro's
    else:
        env["PYTHONPATH"] = str(ROOT)
        cwd = str(ROOT)
    r = subprocess.run([python, str(WORKER), library_name, str(jobs_file), str(out_file)],
                       capture_output=True, text=True, cwd=cwd, env=env, timeout=1800)
    assert r.returncode == 0, f"{library_name} worker failed:\n{r.stderr[-4000:]}"
    return json.loads(out_file.read_text())


def first_difference(ours: list, theirs: list) -> str:
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            return f"step {i}: retro {a} vs stable-retro {b}"
    return f"lengths {len(ours)} vs {len(theirs)}"


def test_provisioned_games_play_identically_to_stable_retro(stable_retro_python: str, tmp_path: Path) -> None:
    """Every library game whose ROM is provisioned, every state, 3,000 seeded random steps, in both libraries."""
    games = playable_games()
    assert len(games) == 33  # 32 Atari 2600 games match an ale-py ROM, plus Airstriker
    lib = library()
    jobs = []
    for g, game in enumerate(games):
        states = sorted(f[:-6] for f in os.listdir(lib / "stable" / game) if f.endswith(".state"))
        for s, state in enumerate(states):
            buttons = 12 if game.endswith("-Genesis-v0") else 8
            actions = np.random.default_rng(1000 * g + s).integers(0, 2, (STEPS, buttons), dtype=np.int8)
            path = tmp_path / f"{game}-{state}.npy"
            np.save(path, actions)
            jobs.append({"kind": "play", "game": game, "state": state, "actions": str(path)})
    assert len(jobs) >= 35
    # Gym Retro's spelling is the same game: here it plays Pong exactly as stable-retro's id does there
    spelled = [dict(job, game="Pong-Atari2600") for job in jobs if job["game"] == "Pong-Atari2600-v0"]
    ours = run_worker(sys.executable, "retro", jobs + spelled, tmp_path)
    theirs = run_worker(stable_retro_python, "stable_retro", jobs, tmp_path)
    pong = [i for i, job in enumerate(jobs) if job["game"] == "Pong-Atari2600-v0"]
    assert len(spelled) == len(pong) == 2
    for i, extra in zip(pong, ours[len(jobs):]):
        assert extra["steps"] == theirs[i]["steps"], f"Pong-Atari2600 {jobs[i]['state']}"
    mismatched = []
    rewarded = 0
    for job, a, b in zip(jobs, ours, theirs):
        assert a["buttons"] == b["buttons"]
        if a["steps"] != b["steps"]:
            mismatched.append(f"{job['game']} {job['state']}: {first_difference(a['steps'], b['steps'])}")
        assert len(a["steps"]) > STEPS
        rewarded += any(step[1] for step in a["steps"])
    assert not mismatched, "\n".join(mismatched)
    assert rewarded >= 10, "the comparison covers games whose rewards move"


@pytest.mark.parametrize("game,state", [("Pong-Atari2600-v0", "Start"), ("Breakout-Atari2600-v0", "Start"),
                                        ("Airstriker-Genesis-v0", "Level1")])
def test_movies_replay_both_ways(stable_retro_python: str, tmp_path: Path, game: str, state: str) -> None:
    """stable-retro's recordings replay here frame by frame, and ours there."""
    buttons = 12 if game.endswith("-Genesis-v0") else 8
    actions = np.random.default_rng(5).integers(0, 2, (600, buttons), dtype=np.int8)
    np.save(tmp_path / "a.npy", actions)
    recorded = {}
    for name, python in (("retro", sys.executable), ("stable_retro", stable_retro_python)):
        out = tmp_path / f"movies-{name}"
        out.mkdir()
        job = {"kind": "record", "game": game, "state": state, "actions": str(tmp_path / "a.npy"),
               "dir": str(out)}
        recorded[name] = run_worker(python, name, [job], tmp_path / name)[0]
        assert recorded[name]["movies"], f"{name} recorded no movie"
    for player, python, recorder in (("retro", sys.executable, "stable_retro"),
                                     ("stable_retro", stable_retro_python, "retro")):
        movie = recorded[recorder]["movies"][0]
        frames = run_worker(python, player, [{"kind": "replay", "movie": movie}], tmp_path / f"r-{player}")[0]["frames"]
        steps = recorded[recorder]["steps"]
        ends = [i for i, step in enumerate(steps) if step[2]]
        episode = [step[0] for step in steps[: ends[0] + 1 if ends else len(steps)]]  # the first movie's
        assert len(episode) > 100
        assert frames == episode, f"{player} replaying {recorder}'s movie: {first_difference(frames, episode)}"

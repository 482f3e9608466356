"""``import stable_retro``: the same user script gives the same output here and in stable-retro 1.0.1 itself.

The script below is what a stable-retro user writes: make an env, reset and
step it with seeded actions, read rewards with ``multi_rewards`` off and on,
list games, states and scenarios, open a file under ``data.path()``, restore
junk, and make the common mistakes. It runs under this project's
``stable_retro`` and under stable-retro 1.0.1 in its own virtualenv
(``benchmarks/_build/stable-retro-venv``, the same core binaries and ROMs),
and prints JSON; the two outputs must be equal, but for the exception types,
where ours must be catchable as theirs are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_library import stable_retro_python  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r'''
import hashlib, json, os, sys
import numpy as np
import stable_retro

BUILTINS = (FileNotFoundError, KeyError, ValueError, RuntimeError, TypeError, IndexError, OSError, LookupError,
            AttributeError, AssertionError)


def digest(a):
    return hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def plain(x):
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in sorted(x.items())}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, (np.integer, np.bool_)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    return x


def mistake(fn):
    try:
        fn()
    except Exception as e:  # what a user's except clause would see
        return [b.__name__ for b in BUILTINS if isinstance(e, b)] or ["Exception"]
    return None


out = {}
games = stable_retro.data.list_games()
out["list_games"] = [len(games), digest(np.frombuffer("\n".join(games).encode(), np.uint8)), games[:3]]
all_games = stable_retro.data.list_games(stable_retro.data.Integrations.ALL)
out["list_games_all"] = [len(all_games), digest(np.frombuffer("\n".join(all_games).encode(), np.uint8))]
for game in ("Pong-Atari2600-v0", "Breakout-Atari2600-v0", "Airstriker-Genesis-v0", "Pong-Atari2600"):
    out["list_states", game] = stable_retro.data.list_states(game)
    out["list_scenarios", game] = stable_retro.data.list_scenarios(game)
state_file = os.path.join(stable_retro.data.path(), "stable", "Pong-Atari2600-v0", "Start.state")
with open(state_file, "rb") as f:
    out["data.path file"] = digest(np.frombuffer(f.read(), np.uint8))
out["rom.sha via get_file_path"] = open(stable_retro.data.get_file_path("Pong-Atari2600-v0", "rom.sha")).read().split()

for game, players, multi in (("Pong-Atari2600-v0", 1, False), ("Breakout-Atari2600-v0", 1, False),
                             ("Airstriker-Genesis-v0", 1, False), ("Pong-Atari2600-v0", 2, False),
                             ("Pong-Atari2600-v0", 2, True)):
    key = f"{game} players={players} multi_rewards={multi}"
    default = stable_retro.make(game, players=players)
    out[key, "default render_mode", "multi_rewards"] = [default.render_mode, default.multi_rewards]
    default.close()
    env = stable_retro.make(game, players=players, render_mode="rgb_array")
    env.multi_rewards = multi
    reset = env.reset(seed=0)
    out[key, "reset"] = [type(reset).__name__, len(reset), digest(reset[0]), list(reset[0].shape), plain(reset[1])]
    out[key, "spaces"] = [str(env.action_space), str(env.observation_space)]
    rng = np.random.default_rng(7)
    steps = []
    for i in range(300):
        result = env.step(rng.integers(0, 2, env.action_space.shape[0]))
        obs, rew, terminated, truncated, info = result
        steps.append([len(result), digest(obs), type(rew).__name__, plain(rew), type(terminated).__name__,
                      bool(terminated), bool(truncated), plain(info)])
        if terminated or truncated:
            env.reset()
    out[key, "first steps"] = steps[:3]
    out[key, "steps"] = digest(np.frombuffer(json.dumps(steps).encode(), np.uint8))
    out[key, "ram"] = [list(env.get_ram().shape), digest(env.get_ram())]
    out[key, "set_state junk"] = env.em.set_state(b"junk")
    out[key, "set_state own"] = env.em.set_state(env.em.get_state())
    env.close()

out["mistake", "unknown game"] = mistake(lambda: stable_retro.make("NoSuchGame-Atari2600-v0"))
out["mistake", "unknown state"] = mistake(lambda: stable_retro.make("Pong-Atari2600-v0", state="NoSuchState"))
out["mistake", "unknown system"] = mistake(lambda: stable_retro.get_system_info("Nope"))
out["mistake", "unknown extension"] = mistake(lambda: stable_retro.get_romfile_system("game.zzz"))
env = stable_retro.make("Pong-Atari2600-v0", render_mode=None)
out["mistake", "step before reset"] = mistake(lambda: env.step(env.action_space.sample()))
env.close()
print(json.dumps([[list(k) if isinstance(k, tuple) else k, v] for k, v in out.items()]))
'''


def run(python: str, tmp: Path, ours: bool) -> dict[str, Any]:
    env = dict(os.environ)
    if ours:
        env["PYTHONPATH"] = str(ROOT)
    else:
        env.pop("PYTHONPATH", None)  # stable-retro's own package, never this checkout
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    r = subprocess.run([python, "-W", "ignore", "-c", SCRIPT], capture_output=True, text=True, cwd=tmp, env=env,
                       timeout=600)
    assert r.returncode == 0, f"{'retro' if ours else 'stable-retro'}:\n{r.stderr[-3000:]}"
    return {json.dumps(k): v for k, v in json.loads(r.stdout.strip().splitlines()[-1])}


@pytest.fixture(scope="module")
def outputs(stable_retro_python: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:  # noqa: F811
    tmp = tmp_path_factory.mktemp("stable-retro-api")
    return run(sys.executable, tmp, ours=True), run(stable_retro_python, tmp, ours=False)


def test_the_same_keys(outputs: tuple[dict, dict]) -> None:
    ours, theirs = outputs
    assert sorted(ours) == sorted(theirs)


@pytest.mark.parametrize("key", [
    "list_games", "list_games_all", "data.path file", "rom.sha via get_file_path",
    *(json.dumps(["list_states", g]) for g in ("Pong-Atari2600-v0", "Breakout-Atari2600-v0",
                                               "Airstriker-Genesis-v0", "Pong-Atari2600")),
    *(json.dumps(["list_scenarios", g]) for g in ("Pong-Atari2600-v0", "Breakout-Atari2600-v0",
                                                  "Airstriker-Genesis-v0", "Pong-Atari2600")),
])
def test_data_listings_are_identical(outputs: tuple[dict, dict], key: str) -> None:
    ours, theirs = outputs
    key = key if key.startswith("[") else json.dumps(key)
    assert ours[key] == theirs[key]


def test_envs_play_identically(outputs: tuple[dict, dict]) -> None:
    """Return shapes and values of reset and step, multi_rewards off and on, default render mode, set_state."""
    ours, theirs = outputs
    keys = [k for k in theirs if "players=" in k]
    assert len(keys) == 5 * 8
    different = {k: (ours[k], theirs[k]) for k in keys if ours[k] != theirs[k]}
    assert different == {}


#: Where stable-retro's exception is a bug of its own, not an API: what it raises, and why ours differs.
DELIBERATE = {
    json.dumps(["mistake", "unknown state"]): (
        ["TypeError"], "stable-retro hands gzip.open the None that get_file_path returns for a missing state; "
                       "here a missing state is a GameNotFoundError (a FileNotFoundError) naming the game's states"),
}


def test_mistakes_are_caught_as_in_stable_retro(outputs: tuple[dict, dict]) -> None:
    """A user's ``except`` clause written for stable-retro's exception catches ours (but for DELIBERATE)."""
    ours, theirs = outputs
    keys = [k for k in theirs if k.startswith('["mistake"')]
    assert len(keys) == 5
    for key, (raised, _why) in DELIBERATE.items():
        assert theirs[key] == raised, (key, theirs[key])  # still their behaviour: else the entry goes
        assert ours[key] == ["FileNotFoundError", "OSError"]
    for key in (k for k in keys if k not in DELIBERATE):
        assert theirs[key] is not None and ours[key] is not None, key
        assert set(theirs[key]) <= set(ours[key]) or theirs[key] == ["Exception"], (key, ours[key], theirs[key])


# -- the API surface ----------------------------------------------------------------------------------------------

#: stable-retro's modules that cannot import on a machine like CI's, and why; ours must import.
UNIMPORTABLE_THERE = {
    "stable_retro.rendering": "pyglet needs a display",
    "stable_retro.examples.interactive": "pyglet needs a display",
    "stable_retro.examples.retro_interactive": "pyglet needs a display",
    "stable_retro.scripts.import_sega_classics": "it needs requests, which stable-retro does not install",
    "stable_retro.examples.random_agent": "it makes an env of Airstriker-Genesis at import",
    "stable_retro.examples.ppo": "it needs stable-baselines3, which stable-retro does not install",
}


def surface(python: str, tmp: Path, ours: bool) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    if ours:
        env["PYTHONPATH"] = str(ROOT)
    else:
        env.pop("PYTHONPATH", None)
    r = subprocess.run([python, str(ROOT / "tests" / "api_surface.py")], capture_output=True, text=True, cwd=tmp,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def compatible(theirs: list | None, ours: list | None) -> bool:
    """Every call that fits stable-retro's parameters fits ours: same positional names in order, keywords there."""
    if theirs is None or ours is None:  # a compiled method of theirs: no signature to hold ours to
        return True
    names = [p[0] for p in ours]
    takes_any_keyword = any(p[1] == "VAR_KEYWORD" for p in ours)
    for i, (name, kind, _default) in enumerate(theirs):
        if kind in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            continue
        if kind in ("POSITIONAL_OR_KEYWORD", "POSITIONAL_ONLY") and (i >= len(ours) or ours[i][0] != name):
            return False
        if name not in names and not takes_any_keyword:
            return False
    required = [p[0] for p in ours if p[2] is None and p[1] in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")]
    return set(required) <= {p[0] for p in theirs}  # nothing more is required of the caller


def test_every_public_name_of_stable_retro_exists_with_a_compatible_signature(
        stable_retro_python: str, tmp_path: Path) -> None:  # noqa: F811
    theirs, ours = surface(stable_retro_python, tmp_path, False), surface(sys.executable, tmp_path, True)
    assert {m for m, (kind, *_v) in theirs.items() if kind != "module"} == set(UNIMPORTABLE_THERE)
    assert all(kind == "module" for kind, *_v in ours.values()), {m: v for m, (k, *v) in ours.items() if k != "module"}
    problems = []
    checked = 0
    for module, (kind, *described) in theirs.items():
        names = described[0] if kind == "module" else described[1]  # an unimportable module: read from its source
        mine = ours[module][1]
        for name, desc in names.items():
            checked += 1
            if name not in mine:
                problems.append(f"{module}.{name}: missing")
            elif desc[0] == "function" and not compatible(desc[1], mine[name][1]):
                problems.append(f"{module}.{name}{desc[1]} vs {mine[name][1]}")
            elif desc[0] == "class":
                if not compatible(desc[1], mine[name][1]):
                    problems.append(f"{module}.{name}.__init__{desc[1]} vs {mine[name][1]}")
                for attr, (_kind, sig) in desc[2].items():
                    checked += 1
                    if attr not in mine[name][2]:
                        problems.append(f"{module}.{name}.{attr}: missing")
                    elif not compatible(sig, mine[name][2][attr][1]):
                        problems.append(f"{module}.{name}.{attr}{sig} vs {mine[name][2][attr][1]}")
    assert checked > 200 and problems == [], problems  # names and members of stable-retro 1.0.1


# -- what the peers' own test suites rely on (docs/peer-test-suites.md), on this project's ROMs ----------------------

@pytest.fixture
def rom_folder(tmp_path: Path, airstriker_rom: Path) -> Path:
    """A folder holding a ROM and a data file whose variables are named by system, as the peers' tests have."""
    folder = tmp_path / "roms"
    folder.mkdir()
    (folder / "Airstriker-Genesis.md").write_bytes(airstriker_rom.read_bytes())
    (folder / "dummy.json").write_text(json.dumps({"info": {"Genesis": {"address": 16711680, "type": "|u1"}}}))
    return folder


def test_replacing_data_functions_reaches_the_engine(rom_folder: Path) -> None:
    """stable-retro's test_env replaces data.get_file_path/get_romfile_path; envs then find what those say."""
    import stable_retro
    import stable_retro.data

    get_file_path, get_romfile_path = stable_retro.data.get_file_path, stable_retro.data.get_romfile_path
    stable_retro.data.get_file_path = lambda game, file, *a, **k: str(rom_folder / file)
    stable_retro.data.get_romfile_path = lambda game, *a, **k: str(rom_folder / "Airstriker-Genesis.md")
    try:
        dummy = str(rom_folder / "dummy.json")
        env = stable_retro.make(game="Airstriker-Genesis", state=stable_retro.State.NONE, info=dummy,
                                scenario=dummy, render_mode=None)
        try:  # no rom.sha and no metadata.json where the replaced function points: nothing to check, no defaults
            obs, info = env.reset()
            assert obs.shape == (224, 320, 3) and info == {}
            assert set(env.step(env.action_space.sample())[4]) == {"Genesis"}
        finally:
            env.close()
    finally:
        stable_retro.data.get_file_path, stable_retro.data.get_romfile_path = get_file_path, get_romfile_path
    import retro.data

    assert retro.data.get_file_path is get_file_path and retro.data.get_romfile_path is get_romfile_path


def test_custom_paths_resolve_as_in_the_peers(rom_folder: Path) -> None:
    import stable_retro.data as data

    data.Integrations.clear_custom_paths()
    try:
        assert not data.get_file_path("", "Airstriker-Genesis.md", inttype=data.Integrations.CUSTOM_ONLY)
        data.Integrations.add_custom_path(str(rom_folder))  # absolute: the empty game names the folder itself
        assert data.get_file_path("", "Airstriker-Genesis.md", inttype=data.Integrations.CUSTOM_ONLY) == \
            str(rom_folder / "Airstriker-Genesis.md")
        data.Integrations.clear_custom_paths()
        data.Integrations.add_custom_path(data.Integrations.STABLE.paths[0])  # relative: in the data root
        found = data.get_file_path("Airstriker-Genesis-v0", "rom.sha", inttype=data.Integrations.CUSTOM_ONLY)
        assert found is not None
        assert found == data.get_file_path("Airstriker-Genesis-v0", "rom.sha", inttype=data.Integrations.STABLE)
    finally:
        data.Integrations.clear_custom_paths()

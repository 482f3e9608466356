"""The shipped Atari 2600 integrations, checked against the real games.

These games are in stable-retro's game library too, so this project ships
each as a named variant: ``retro.json`` (its variables under ``info``, its
reward and done, its default states and input routes), ``retro.*.state``
states, the ``rom.sha`` of the ale-py dumps they were made for, and the
states' recipes in ``metadata.json``. Every variant in
``integrations/stable/*-Atari2600`` must be well formed
(a schema written here), have its ROM present after set-up, load its states,
and give, frame by frame, the rewards and done flag that the Arcade Learning
Environment's per-game logic gives for the same RAM (re-stated below from
the ALE's public per-game settings, reading RAM directly, so data.json and
scenario.json are checked against an independent account of each game).
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest

import retro
import retro.data as rdata
from retro import paths
from retro.scripts import make_state as ms
from retro.start_states import state_from_recipe
from tests.integration_helpers import load_state_bytes, rom_sha1, write_test_rom_integration

REPO = Path(__file__).resolve().parent.parent
STABLE = REPO / "integrations" / "stable"
GAMES = sorted(p.name for p in STABLE.glob("*-Atari2600") if (p / "rom.sha").is_file())
REQUIRED = {"Pong", "Breakout", "SpaceInvaders", "Seaquest", "MsPacman", "Qbert", "Enduro", "BeamRider",
            "Asteroids", "Freeway", "MontezumaRevenge", "Boxing", "Tennis"}
TWO_PLAYER = ["Pong-Atari2600", "Boxing-Atari2600", "Tennis-Atari2600"]
SETUP_HINT = "run `bash scripts/setup.sh` (it provisions the ale-py ROMs and imports them)"

# Atari 2600 joypad ids (retro/systems/atari2600.json).
FIRE, SELECT, RESET, UP, DOWN, LEFT, RIGHT = 0, 2, 3, 4, 5, 6, 7
CONSOLE_BITS = (1 << 1) | (1 << SELECT) | (1 << RESET)


# -- the schema ------------------------------------------------------------------------------

TYPE_RE = re.compile(r"^(\|[dinu]1|(>[<=]?|<[>=]?|=[><]?)[dinu][2-8])$")
OPS = {"equal", "negative-equal", "not-equal", "less-than", "greater-than", "less-or-equal",
       "greater-or-equal", "nonzero", "zero", "positive", "negative", "sign"}
REWARD_SPEC_KEYS = {"measurement", "op", "reference", "reward", "penalty"}
SCENARIO_KEYS = {"reward", "rewards", "done", "actions", "scripts", "crop", "crops"}
VARIANT_KEYS = {"info", "default_state", "default_player_state", "input_routes"}
METADATA_KEYS = {"state_recipes"}
ATARI_RAM = range(0x80, 0x100)


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_spec(spec: Any, where: str, variables: dict[str, Any], errors: list[str], done: bool) -> None:
    if not isinstance(spec, dict):
        errors.append(f"{where}: expected an object")
        return
    extra = set(spec) - REWARD_SPEC_KEYS
    if extra:
        errors.append(f"{where}: unknown keys {sorted(extra)}")
    if spec.get("measurement", "absolute" if done else "delta") not in ("delta", "absolute"):
        errors.append(f"{where}: measurement must be delta or absolute")
    if "op" in spec and spec["op"] not in OPS:
        errors.append(f"{where}: unknown op {spec['op']!r}")
    if done and "op" not in spec:
        errors.append(f"{where}: a done condition needs an op")
    for key in ("reference", "reward", "penalty"):
        if key in spec and not _number(spec[key]):
            errors.append(f"{where}: {key} must be a number")
    if not done and not ({"reward", "penalty"} & set(spec)):
        errors.append(f"{where}: a reward spec without reward or penalty gives nothing")


def _check_reward(reward: Any, where: str, variables: dict[str, Any], errors: list[str]) -> None:
    if not isinstance(reward, dict) or not isinstance(reward.get("variables"), dict) or not reward["variables"]:
        errors.append(f"{where}: expected {{'variables': {{...}}}}")
        return
    for name, spec in reward["variables"].items():
        if name not in variables:
            errors.append(f"{where}: variable {name!r} is not in info")
        _check_spec(spec, f"{where}.{name}", variables, errors, done=False)


def _check_done(node: Any, where: str, variables: dict[str, Any], errors: list[str]) -> None:
    if not isinstance(node, dict):
        errors.append(f"{where}: expected an object")
        return
    if set(node) - {"variables", "nodes", "condition", "script"}:
        errors.append(f"{where}: unknown keys {sorted(set(node) - {'variables', 'nodes', 'condition', 'script'})}")
    if node.get("condition", "any") not in ("any", "all"):
        errors.append(f"{where}: condition must be any or all")
    if not node.get("variables") and not node.get("nodes") and "script" not in node:
        errors.append(f"{where}: an empty condition")
    for name, spec in node.get("variables", {}).items():
        if name not in variables:
            errors.append(f"{where}: variable {name!r} is not in info")
        _check_spec(spec, f"{where}.{name}", variables, errors, done=True)
    for name, sub in node.get("nodes", {}).items():
        _check_done(sub, f"{where}.{name}", variables, errors)


def validate_integration(folder: Path) -> list[str]:
    """Everything wrong with an Atari 2600 integration folder (empty if nothing)."""
    errors: list[str] = []

    def load(name: str) -> Any:
        try:
            return json.loads((folder / name).read_text())
        except (OSError, ValueError) as e:
            errors.append(f"{name}: {e}")
            return None

    variant = load("retro.json")
    data = scen = None
    meta: Any = None
    if variant is not None:
        if not isinstance(variant, dict):
            errors.append("retro.json: expected an object")
        else:
            if set(variant) - SCENARIO_KEYS - VARIANT_KEYS:
                errors.append(f"retro.json: unknown keys {sorted(set(variant) - SCENARIO_KEYS - VARIANT_KEYS)}")
            data = {"info": variant.get("info")}
            scen = {k: v for k, v in variant.items() if k in SCENARIO_KEYS}
            meta = {k: v for k, v in variant.items() if k in VARIANT_KEYS - {"info"}}
    recipes_doc = load("metadata.json")
    if meta is not None and isinstance(recipes_doc, dict):
        if set(recipes_doc) - METADATA_KEYS:
            errors.append(f"metadata.json: unknown keys {sorted(set(recipes_doc) - METADATA_KEYS)}")
        meta["state_recipes"] = recipes_doc.get("state_recipes", {})
    variables: dict[str, Any] = {}
    if data is not None:
        if not isinstance(data["info"], dict):
            errors.append("retro.json: expected info, an object of variables")
        else:
            variables = data["info"]
            for name, var in variables.items():
                where = f"retro.json: info.{name}"
                if not isinstance(var, dict) or set(var) - {"address", "type", "mask"} or {"address", "type"} - set(var):
                    errors.append(f"{where}: expected address, type and an optional mask")
                    continue
                if not isinstance(var["type"], str) or not TYPE_RE.match(var["type"]):
                    errors.append(f"{where}: type {var['type']!r} does not match the type grammar")
                    continue
                width = int(var["type"][-1])
                addr = var["address"]
                if not isinstance(addr, int) or addr not in ATARI_RAM or addr + width - 1 not in ATARI_RAM:
                    errors.append(f"{where}: address {addr!r} (+{width} bytes) is outside the 2600's RAM 0x80-0xff")
                if "mask" in var and (not isinstance(var["mask"], int) or not 0 < var["mask"] < 1 << (8 * width)):
                    errors.append(f"{where}: mask {var['mask']!r} does not fit the type")

    if scen is not None:
        if not isinstance(scen, dict):
            errors.append("retro.json: expected an object")
        else:
            if set(scen) - SCENARIO_KEYS:
                errors.append(f"retro.json: unknown keys {sorted(set(scen) - SCENARIO_KEYS)}")
            if "reward" not in scen and "rewards" not in scen:
                errors.append("retro.json: no reward")
            if "done" not in scen:
                errors.append("retro.json: no done condition")
            if "reward" in scen:
                _check_reward(scen["reward"], "retro.json: reward", variables, errors)
            if "rewards" in scen:
                if not isinstance(scen["rewards"], list) or not 1 <= len(scen["rewards"]) <= 2:
                    errors.append("retro.json: rewards must list one or two players' specs")
                else:
                    for i, spec in enumerate(scen["rewards"]):
                        _check_reward(spec, f"retro.json: rewards[{i}]", variables, errors)
                    if "reward" in scen and scen["rewards"][0] != scen["reward"]:
                        errors.append("retro.json: rewards[0] and reward differ")
            if "done" in scen:
                _check_done(scen["done"], "retro.json: done", variables, errors)

    states = {p.name[: -len(".state")] for p in folder.glob("*.state")}
    if any(not s.startswith("retro.") for s in states):
        errors.append(f"states must be named retro.*: {sorted(states)}")
    if meta is not None:
        if True:
            if meta.get("default_state") not in states:
                errors.append(f"retro.json: default_state {meta.get('default_state')!r} is not one of {sorted(states)}")
            for s in meta.get("default_player_state", []):
                if s not in states:
                    errors.append(f"retro.json: default_player_state {s!r} is not a state")
            recipes = meta.get("state_recipes", {})
            for s in states:
                if s not in recipes:
                    errors.append(f"metadata.json: no recipe for state {s!r}")
            try:
                ms.recipes(folder)
            except retro.IntegrationError as e:
                errors.append(str(e))

    try:
        shas = (folder / "rom.sha").read_text().split()
    except OSError as e:
        errors.append(f"rom.sha: {e}")
        shas = []
    if not shas or not all(re.fullmatch(r"[0-9a-f]{40}", s) for s in shas):
        errors.append(f"rom.sha: expected lines of 40 lowercase hex digits, got {shas!r}")
    for s in sorted(states):
        try:
            gzip.decompress((folder / f"{s}.state").read_bytes())
        except (OSError, EOFError) as e:
            errors.append(f"{s}.state: not a gzip stream: {e}")
    return errors


# -- the games, restated from the ALE's per-game logic --------------------------------------

def _bcd(b: int) -> int:
    return (b >> 4) * 10 + (b & 15)


class AleReference:
    """Reward and terminal of one game as the ALE computes them, from raw RAM."""

    def __init__(self, game: str, em: retro.RetroEmulator) -> None:
        self.name = game.split("-")[0]
        self.ram = em.memory_blocks()[0x80]
        self.score = self._score()
        self.prev_games = self.r(0xC7) - self.r(0xC8)
        self.prev_points = self.r(0xC5) - self.r(0xC6)

    def r(self, addr: int) -> int:
        return int(self.ram[addr - 0x80])

    def dec(self, *addrs: int) -> int:  # lowest byte first
        return sum(_bcd(self.r(a)) * 100 ** i for i, a in enumerate(addrs))

    def _score(self) -> int:
        n, r = self.name, self.r
        if n == "Pong":
            return r(0x8E) - r(0x8D)
        if n == "Breakout":
            return _bcd(r(0xCD)) + 100 * (r(0xCC) & 15)
        if n == "SpaceInvaders":
            return self.dec(0xE8, 0xE6)
        if n == "Seaquest":
            return self.dec(0xBA, 0xB9, 0xB8)
        if n == "MsPacman":
            return self.dec(0xF8, 0xF9, 0xFA)
        if n == "Qbert":
            return self.dec(0xDB, 0xDA, 0xD9)
        if n == "BeamRider":
            return self.dec(0x89, 0x8A, 0x8B)
        if n == "Asteroids":
            return 10 * self.dec(0xBE, 0xBD)
        if n == "Freeway":
            return self.dec(0xE7)
        if n == "MontezumaRevenge":
            return self.dec(0x95, 0x94, 0x93)
        if n == "Enduro":
            day = r(0xAD)
            if day == 0:
                return 0
            passed = (200 if day == 1 else 300) - self.dec(0xAB, 0xAC)
            return (200 + (day - 2) * 300 if day >= 2 else 0) + passed
        if n == "Boxing":
            me = 100 if r(0x92) == 0xC0 else _bcd(r(0x92))
            them = 100 if r(0x93) == 0xC0 else _bcd(r(0x93))
            return me - them
        return 0

    def step(self) -> tuple[float, bool]:
        """(reward, terminal) after a frame."""
        if self.name == "Tennis":
            games, points = self.r(0xC7) - self.r(0xC8), self.r(0xC5) - self.r(0xC6)
            if games != self.prev_games:
                reward = games - self.prev_games
            else:
                reward = points - self.prev_points
            self.prev_games, self.prev_points = games, points
        else:
            score = self._score()
            reward = score - self.score
            self.score = score
            if self.name == "Freeway":
                reward = max(0, min(1, reward))
        return float(reward), self.terminal()

    def terminal(self) -> bool:
        n, r = self.name, self.r
        if n == "Pong":
            return r(0x8D) == 21 or r(0x8E) == 21
        if n == "Breakout":
            return r(0xB9) == 0
        if n == "SpaceInvaders":
            return bool(r(0x98) & 0x80) or r(0xC9) == 0
        if n == "Seaquest":
            return r(0xA3) != 0
        if n == "MsPacman":
            return (r(0xFB) & 15) == 0 and r(0xA7) == 0x53
        if n == "Qbert":
            return r(0x88) == 0xFE
        if n == "Enduro":
            return r(0xAF) == 0xFF
        if n == "BeamRider":
            return r(0x85) == 0xFF
        if n == "Asteroids":
            return r(0xBC) >> 4 == 0
        if n == "Freeway":
            return r(0x96) == 1
        if n == "MontezumaRevenge":
            return r(0xBA) == 0 and r(0xFE) == 0x60
        if n == "Boxing":
            if r(0x92) == 0xC0 or r(0x93) == 0xC0:
                return True
            return r(0x90) >> 4 == 0 and _bcd(r(0x91)) == 0
        if n == "Tennis":
            me, them = r(0xC7), r(0xC8)
            return (me >= 6 and me - them >= 2) or (them >= 6 and them - me >= 2) or me == 7 or them == 7
        raise AssertionError(f"no reference for {n}")


#: The score a score-delta scenario pays out, from the integration's own variables.
SCORE: dict[str, Callable[[dict[str, int]], int]] = {
    "Pong": lambda v: v["score"] - v["opponent_score"],
    "Breakout": lambda v: v["score"],
    "SpaceInvaders": lambda v: 100 * v["score_hundreds"] + v["score_units"],
    "Seaquest": lambda v: v["score"],
    "MsPacman": lambda v: v["score"],
    "Qbert": lambda v: v["score"],
    "Enduro": lambda v: 300 * v["day"] - 100 - v["cars_remaining"],
    "BeamRider": lambda v: v["score"],
    "Asteroids": lambda v: 10 * v["score"],
    "Freeway": lambda v: v["score"],
    "MontezumaRevenge": lambda v: v["score"],
    "Boxing": lambda v: v["score"] - v["opponent_score"],
}

#: Values right after each Start state loads.
START_VALUES: dict[str, dict[str, int]] = {
    "Pong": {"score": 0, "opponent_score": 0},
    "Breakout": {"score": 0, "lives": 5},
    "SpaceInvaders": {"score_hundreds": 0, "score_units": 0, "lives": 3, "game_over": 0},
    "Seaquest": {"score": 0, "lives": 3, "game_over": 0},
    "MsPacman": {"score": 0, "lives": 2},
    "Qbert": {"score": 0, "lives": 2},
    "Enduro": {"cars_remaining": 200, "day": 1, "game_over": 0},
    "BeamRider": {"score": 0, "lives": 2},
    "Asteroids": {"score": 0, "lives_x16": 0x40},
    "Freeway": {"score": 0},
    "MontezumaRevenge": {"score": 0, "lives": 5, "room": 1},
    "Boxing": {"score": 0, "opponent_score": 0, "clock_minutes_x16": 0x10},
    "Tennis": {"points": 0, "opponent_points": 0, "games": 0, "opponent_games": 0},
}

#: Lives-based games: (variable, value at game over), and whether lives fall on the way.
GAME_OVER_LIVES: dict[str, tuple[str, int]] = {
    "Breakout": ("lives", 0), "SpaceInvaders": ("lives", 0), "Seaquest": ("lives", 0), "MsPacman": ("lives", 0),
    "Qbert": ("lives", -2), "BeamRider": ("lives", 255), "Asteroids": ("lives_x16", 0),
    "MontezumaRevenge": ("lives", 0),
}

#: Frames within which a random player's game is over (observed lengths are well below).
GAME_OVER_CAP: dict[str, int] = {
    "Pong": 6000, "Breakout": 3000, "SpaceInvaders": 6000, "Seaquest": 6000, "MsPacman": 6000, "Qbert": 5000,
    "Enduro": 15000, "BeamRider": 15000, "Asteroids": 6000, "Freeway": 9000, "MontezumaRevenge": 3000,
    "Boxing": 8000, "Tennis": 12000,
}


# -- fixtures and helpers ----------------------------------------------------------------------

def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def state_file(game: str, state: str) -> Path:
    """The file of one of the variant's states (``Start`` or ``retro.Start``)."""
    name = state if state.startswith("retro.") else f"retro.{state}"
    return STABLE / game / f"{name}.state"


def variant(game: str) -> dict[str, Any]:
    return json.loads((STABLE / game / "retro.json").read_text())


def _shas(game: str) -> list[str]:
    return (STABLE / game / "rom.sha").read_text().split()


@pytest.fixture(scope="session")
def ale_roms() -> dict[str, Path]:
    """SHA-1 -> the ale-py ROM set-up provisioned into RETRO_HOME."""
    folder = paths.roms_dir() / "ale-py"
    roms = sorted(folder.glob("*.a26"))
    if not roms:
        pytest.fail(f"no ale-py ROMs in {folder}: {SETUP_HINT}")
    return {_sha1(p): p for p in roms}


def rom_for(game: str, ale_roms: dict[str, Path]) -> Path:
    """The game's imported ROM, or (before import) the provisioned ale-py file with its hash."""
    try:
        return Path(rdata.get_romfile_path(game, inttype=rdata.Integrations.ALL))
    except FileNotFoundError:
        for sha in _shas(game):
            if sha in ale_roms:
                return ale_roms[sha]
    pytest.fail(f"no ROM for {game}: {SETUP_HINT}")


class Player:
    """An emulator and GameData on one state of a game, stepped as an environment steps.

    On the ALE core (``core="ale"``) the state is made on it by the state's recipe.
    """

    def __init__(self, game: str, state: str, rom: Path, core: str | None = None) -> None:
        self.em = retro.RetroEmulator(rom, core=core)
        self.data = rdata.GameData(game, data="retro", scenario="retro", inttype=rdata.Integrations.ALL)
        self.data.configure(self.em)
        if core == "ale":
            presses, frames = ms.recipes(STABLE / game)[state_file(game, state).name[:-len(".state")]]
            self.em.set_state(state_from_recipe(str(rom), self.em.core.path, presses, frames))
        else:
            self.em.set_state(load_state_bytes(state_file(game, state)))
        self.data.reset()
        self.data.update_ram()
        self.ref = AleReference(game, self.em)

    def step(self, *masks: int) -> None:
        for player, mask in enumerate(masks):
            self.em.set_button_mask(mask, player)
        self.em.step()
        self.data.update_ram()

    def values(self) -> dict[str, int]:
        return self.data.lookup_all()

    def close(self) -> None:
        self.em.close()


def random_masks(game: str, seed: int, hold: int = 4) -> Iterator[int]:
    """Random joystick and fire presses (never SELECT or RESET), each held ``hold`` frames."""
    rng = np.random.default_rng(seed)
    while True:
        if game.startswith("MsPacman"):
            # One direction at a time: with several held at once Ms. Pac-Man can stall
            # against a wall where the ghosts never reach her, and the game never ends.
            mask, frames = 1 << int(rng.integers(UP, RIGHT + 1)), 16
        else:
            mask, frames = int(rng.integers(0, 256)) & ~CONSOLE_BITS, hold
        for _ in range(frames):
            yield mask


# -- the tests -----------------------------------------------------------------------------------

def test_the_required_games_are_shipped() -> None:
    names = {g.split("-")[0] for g in GAMES}
    assert REQUIRED <= names, f"missing: {sorted(REQUIRED - names)}"
    for game in TWO_PLAYER:
        assert state_file(game, "Start.2P").is_file()


@pytest.mark.parametrize("game", GAMES)
def test_integration_is_well_formed(game: str) -> None:
    assert validate_integration(STABLE / game) == []
    # retro's own loader accepts it too, as the data and the scenario
    data = rdata.GameData(game, data="retro", scenario="retro", inttype=rdata.Integrations.ALL)
    assert set(data.list_variables()) == set(variant(game)["info"])
    assert "retro" in rdata.list_scenarios(game, inttype=rdata.Integrations.ALL)


def test_validator_catches_mistakes(tmp_path: Path) -> None:
    folder = tmp_path / "Pong-Atari2600"
    shutil.copytree(STABLE / "Pong-Atari2600", folder)
    assert validate_integration(folder) == []

    def broken(edit: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], None], pattern: str) -> None:
        d = tmp_path / "broken"
        if d.exists():
            shutil.rmtree(d)
        shutil.copytree(folder, d)
        doc = json.loads((d / "retro.json").read_text())
        data = {"info": doc.pop("info")}
        meta = {k: doc.pop(k) for k in ("default_state", "default_player_state", "input_routes") if k in doc}
        edit(data, doc, meta)
        (d / "retro.json").write_text(json.dumps({**data, **doc, **meta}))
        errors = validate_integration(d)
        assert any(re.search(pattern, e) for e in errors), errors

    broken(lambda d, s, m: d["info"]["score"].update(type="u1"), "type grammar")
    broken(lambda d, s, m: d["info"]["score"].update(type=">d9"), "type grammar")
    broken(lambda d, s, m: d["info"]["score"].update(address=0x7F), "outside")
    broken(lambda d, s, m: d["info"]["score"].update(address=0xFF, type="<u2"), "outside")
    broken(lambda d, s, m: s["reward"]["variables"].update(lives={"reward": 1}), "'lives' is not in info")
    broken(lambda d, s, m: s["done"]["variables"]["score"].update(op="equals"), "unknown op")
    broken(lambda d, s, m: s["done"]["variables"]["score"].pop("op"), "needs an op")
    broken(lambda d, s, m: s["rewards"][0]["variables"]["score"].update(reward=2.0), "differ")
    broken(lambda d, s, m: m.update(default_state="Level1"), "default_state")
    broken(lambda d, s, m: m.update(default_player_state=["retro.Start", "retro.Start.3P"]), "Start.3P")
    broken(lambda d, s, m: s.update(unknown=1), "unknown keys")
    (folder / "rom.sha").write_text("1FFE89D79D55\n")
    assert any("rom.sha" in e for e in validate_integration(folder))


@pytest.mark.parametrize("game", GAMES)
def test_rom_comes_from_ale_py(game: str, ale_roms: dict[str, Path]) -> None:
    assert any(sha in ale_roms for sha in _shas(game)), f"no ale-py ROM has the SHA-1 in {game}/rom.sha"


@pytest.mark.parametrize("game", GAMES)
def test_rom_is_imported_after_setup(game: str) -> None:
    try:
        rom = Path(rdata.get_romfile_path(game, inttype=rdata.Integrations.ALL))
    except FileNotFoundError:
        pytest.fail(f"{game}'s ROM is not imported: {SETUP_HINT} "
                    f"(it runs `python3 -m retro.import --from-packages`)")
    assert _sha1(rom) in _shas(game)
    retro.make(game, scenario="retro").close()  # the variant's rom.sha vouches for this dump


@pytest.mark.parametrize("game", GAMES)
def test_states_load(game: str, ale_roms: dict[str, Path]) -> None:
    rom = rom_for(game, ale_roms)
    states = rdata.list_states(game, inttype=rdata.Integrations.ALL)
    assert variant(game)["default_state"] == "retro.Start" and "retro.Start" in states
    states = [s for s in states if s.startswith("retro.")]
    for state in states:
        p = Player(game, state, rom)
        try:
            values = p.values()
            for name, expected in START_VALUES[game.split("-")[0]].items():
                assert values[name] == expected, f"{game} {state}: {name} = {values[name]}, expected {expected}"
            assert not p.data.is_done()
            for _ in range(30):
                p.step(0)
            assert not p.data.is_done()
        finally:
            p.close()


@pytest.mark.parametrize("core", ["stella", "ale"])
@pytest.mark.parametrize("game", GAMES)
def test_random_episode_rewards_agree_with_the_game(game: str, core: str, ale_roms: dict[str, Path]) -> None:
    """1,000 random frames: every frame's reward and done flag equal the ALE's; rewards sum to the score gained.

    On the stella core from the shipped Start state, on the ALE core from the state its recipe makes there.
    """
    p = Player(game, "Start", rom_for(game, ale_roms), core=None if core == "stella" else core)
    name = game.split("-")[0]
    try:
        start = p.values()
        total = 0.0
        masks = random_masks(game, seed=GAMES.index(game))
        for frame in range(1000):
            p.step(next(masks))
            reward = p.data.current_reward()
            ale_reward, ale_done = p.ref.step()
            assert reward == ale_reward, f"frame {frame}: reward {reward}, the game gave {ale_reward}; {p.values()}"
            assert p.data.is_done() == ale_done, f"frame {frame}: done {p.data.is_done()}, game over {ale_done}"
            total += reward
            if ale_done:
                break
        assert total == pytest.approx(p.data.total_reward())
        if name in SCORE:
            assert total == SCORE[name](p.values()) - SCORE[name](start)
    finally:
        p.close()


@pytest.mark.parametrize("game", GAMES)
def test_done_fires_at_game_over(game: str, ale_roms: dict[str, Path]) -> None:
    """A random player plays to the end: done fires on the frame the game is over, and never before."""
    name = game.split("-")[0]
    p = Player(game, "Start", rom_for(game, ale_roms))
    try:
        masks = random_masks(game, seed=1)
        lives_seen = set()
        for frame in range(GAME_OVER_CAP[name]):
            p.step(next(masks))
            ale_reward, ale_done = p.ref.step()
            assert p.data.current_reward() == ale_reward, f"frame {frame}: {p.values()}"
            assert p.data.is_done() == ale_done, f"frame {frame}: done {p.data.is_done()}, game over {ale_done}"
            if name in GAME_OVER_LIVES:
                lives_seen.add(p.values()[GAME_OVER_LIVES[name][0]])
            if ale_done:
                break
        else:
            pytest.fail(f"{game}: no game over within {GAME_OVER_CAP[name]} frames")
        if name in GAME_OVER_LIVES:
            var, over = GAME_OVER_LIVES[name]
            assert p.values()[var] == over
            assert len(lives_seen) >= 3, f"lives went through {sorted(lives_seen)} only"
    finally:
        p.close()


def _screen_after(game: str, state: str, rom: Path, port: int, mask: int, frames: int = 60) -> np.ndarray:
    with retro.RetroEmulator(rom) as em:
        em.set_state(load_state_bytes(state_file(game, state)))
        em.set_button_mask(mask, port)
        em.step(frames)
        return em.get_screen()


@pytest.mark.parametrize("game", TWO_PLAYER)
def test_two_player_state(game: str, ale_roms: dict[str, Path]) -> None:
    rom = rom_for(game, ale_roms)
    assert variant(game)["default_player_state"] == ["retro.Start", "retro.Start.2P"]
    # Player 2's controls work in Start.2P and not in Start (where the computer plays).
    # Pong's two paddles both hang on the left controller port: with this Stella core,
    # player 2's paddle turns with the first joypad's LEFT/RIGHT.
    port, a, b = (0, 1 << LEFT, 1 << RIGHT) if game.startswith("Pong") else (1, 1 << UP | 1 << LEFT, 1 << DOWN | 1 << RIGHT)
    two_a, two_b = (_screen_after(game, "Start.2P", rom, port, m) for m in (a, b))
    assert not np.array_equal(two_a, two_b), "player 2's input changes nothing in Start.2P"
    one_a, one_b = (_screen_after(game, "Start", rom, port, m) for m in (a, b))
    assert np.array_equal(one_a, one_b), "player 2's input moves something in the one-player Start state"

    p = Player(game, "Start.2P", rom)
    try:
        m1, m2 = random_masks(game, seed=7), random_masks(game, seed=8)
        for frame in range(1500):
            p.step(next(m1), next(m2))
            ale_reward, ale_done = p.ref.step()
            r1, r2 = p.data.current_reward(0), p.data.current_reward(1)
            assert r1 == ale_reward and r2 == -r1, f"frame {frame}: rewards {r1}, {r2}; the game gave {ale_reward}"
            assert p.data.is_done() == ale_done
            if ale_done:
                break
        assert p.data.total_reward(1) == -p.data.total_reward(0)
    finally:
        p.close()


Poke = Callable[[int, np.ndarray], bool]


def _poke_tennis_deuce(rng: np.random.Generator) -> Poke:
    """Now and then start a game at deuce or at an advantage."""
    def poke(frame: int, ram: np.ndarray) -> bool:
        if ram[0xC5 - 0x80] == ram[0xC6 - 0x80] == 0 and rng.random() < 0.02:
            ram[0xC5 - 0x80], ram[0xC6 - 0x80] = [(3, 3), (4, 3), (3, 4)][int(rng.integers(3))]
            return True
        return False
    return poke


def _poke_at_start(**values: int) -> Callable[[np.random.Generator], Poke]:
    def make(rng: np.random.Generator) -> Poke:
        def poke(frame: int, ram: np.ndarray) -> bool:
            if frame == 0:
                for addr, value in values.items():
                    ram[int(addr[1:], 16) - 0x80] = value
                return True
            return False
        return poke
    return make


def _seen(*transitions: tuple[tuple[int, ...], tuple[int, ...]]) -> Callable[[list[tuple[int, ...]]], bool]:
    def check(history: list[tuple[int, ...]]) -> bool:
        pairs = set(zip(history, history[1:]))
        return all(t in pairs for t in transitions)
    return check


#: event -> (game, state, frames, poke, mask seeds, RAM watched, transitions that must happen)
RARE_EVENTS: dict[str, tuple[str, str, int, Callable[[np.random.Generator], Poke], tuple[int, int],
                             tuple[int, ...], Callable[[list[tuple[int, ...]]], bool]]] = {
    # Tennis: deuce, and advantages won and lost by either player.
    "tennis-deuce": ("Tennis-Atari2600", "Start.2P", 40000, _poke_tennis_deuce, (5, 6), (0xC5, 0xC6),
                     _seen(((3, 3), (4, 3)), ((4, 3), (3, 3)), ((3, 3), (3, 4)), ((3, 4), (3, 3)))),
    # Tennis: at 6-all the games start over at 0-0, whoever won the twelfth game.
    "tennis-6-all-won-by-p2": ("Tennis-Atari2600", "Start.2P", 8000, _poke_at_start(xC7=6, xC8=5), (5, 6),
                               (0xC7, 0xC8), _seen(((6, 5), (0, 0)))),
    "tennis-6-all-won-by-p1": ("Tennis-Atari2600", "Start.2P", 8000, _poke_at_start(xC5=3, xC6=0, xC7=5, xC8=6),
                               (2, 3), (0xC5, 0xC6, 0xC7, 0xC8), _seen(((3, 0, 5, 6), (0, 0, 0, 0)))),
    # Boxing: 100 punches are a knock-out, stored as 0xc0 (not BCD), after a 1- or a 2-point punch.
    "boxing-ko-p1-from-98": ("Boxing-Atari2600", "Start.2P", 6000, _poke_at_start(x92=0x98, x93=0x98), (0, 100),
                             (0x92, 0x93), _seen(((0x98, 0x98), (0xC0, 0x98)))),
    "boxing-ko-p2-from-98": ("Boxing-Atari2600", "Start.2P", 6000, _poke_at_start(x92=0x98, x93=0x98), (7, 107),
                             (0x92, 0x93), _seen(((0x98, 0x98), (0x98, 0xC0)))),
    "boxing-ko-p1-from-99": ("Boxing-Atari2600", "Start.2P", 6000, _poke_at_start(x92=0x98, x93=0x98), (8, 108),
                             (0x92, 0x93), _seen(((0x99, 0x98), (0xC0, 0x98)))),
    "boxing-ko-p2-from-99": ("Boxing-Atari2600", "Start.2P", 6000, _poke_at_start(x92=0x98, x93=0x98), (1, 101),
                             (0x92, 0x93), _seen(((0x99, 0x99), (0x99, 0xC0)))),
    # Space Invaders: the score is split over two BCD bytes; the carry between them.
    "space-invaders-carry": ("SpaceInvaders-Atari2600", "Start", 3000, _poke_at_start(xE8=0x95), (5, 6),
                             (0xE6,), _seen(((0,), (1,)))),
    # Enduro: the second day's 300 cars, paid out so the score goes on from the first day's 200.
    "enduro-day-2": ("Enduro-Atari2600", "Start", 16000, _poke_at_start(xAB=0x03, xAC=0x00), (5, 6),
                     (0xAD,), _seen(((1,), (2,)))),
}


@pytest.mark.parametrize("event", sorted(RARE_EVENTS))
def test_rare_events_agree_with_the_game(event: str, ale_roms: dict[str, Path]) -> None:
    """Events a random player seldom reaches, set up by writing RAM, then played on."""
    game, state, frames, make_poke, seeds, watched, happened = RARE_EVENTS[event]
    p = Player(game, state, rom_for(game, ale_roms))
    try:
        poke = make_poke(np.random.default_rng(3))
        m1, m2 = random_masks(game, seed=seeds[0]), random_masks(game, seed=seeds[1])
        ram = p.em.memory_blocks()[0x80]
        history: list[tuple[int, ...]] = []
        for frame in range(frames):
            if poke(frame, ram):
                p.data.update_ram()  # the written values are the new baseline
                p.ref = AleReference(game, p.em)
            mask1 = next(m1) | (1 << FIRE if game.startswith("Enduro") else 0)  # Enduro: keep accelerating
            p.step(mask1, next(m2) if state.endswith("2P") else 0)
            ale_reward, ale_done = p.ref.step()
            assert p.data.current_reward() == ale_reward, f"frame {frame}: {p.values()}"
            assert p.data.is_done() == ale_done, f"frame {frame}: {p.values()}"
            if state.endswith("2P"):
                assert p.data.current_reward(1) == -ale_reward
            now = tuple(int(ram[a - 0x80]) for a in watched)
            if not history or history[-1] != now:
                history.append(now)
            if ale_done or (frame % 250 == 0 and happened(history)):
                break
        assert happened(history), f"{event} did not happen: {history[-12:]}"
    finally:
        p.close()


def _all_recipes() -> list[tuple[str, str]]:
    return [(g, s) for g in GAMES for s in sorted(ms.recipes(STABLE / g))]


def assert_same_game(rom: Path, a: bytes, b: bytes, frames: int = 300) -> None:
    """States ``a`` and ``b`` play identically: same RAM every frame under the same input, same picture.

    (Byte equality is too strict: Stella serializes 16 bytes it never
    initialises, which differ between processes and are ignored on load.)
    """
    with retro.RetroEmulator(rom) as ea, retro.RetroEmulator(rom) as eb:
        ea.set_state(a)
        eb.set_state(b)
        rng = np.random.default_rng(0)
        for frame in range(frames):
            mask = int(rng.integers(0, 256)) & ~CONSOLE_BITS
            ea.set_button_mask(mask)
            eb.set_button_mask(mask)
            ea.step()
            eb.step()
            assert np.array_equal(ea.get_ram(), eb.get_ram()), f"RAM differs after {frame + 1} frames"
        assert np.array_equal(ea.get_screen(), eb.get_screen())


@pytest.mark.parametrize(("game", "state"), _all_recipes())
def test_states_are_reproducible_from_their_recipes(game: str, state: str, ale_roms: dict[str, Path]) -> None:
    presses, frames = ms.recipes(STABLE / game)[state]
    rom = rom_for(game, ale_roms)
    made = ms.make_state(rom, presses, frames, system="Atari2600")
    shipped = load_state_bytes(state_file(game, state))
    assert len(made) == len(shipped)
    assert_same_game(rom, made, shipped)


# -- make_state ------------------------------------------------------------------------------

def test_parse_press() -> None:
    assert ms.parse_press("RESET@60:5") == ms.Press(0, ("RESET",), 60, 5)
    assert ms.parse_press("P2:up+button@7") == ms.Press(1, ("UP", "BUTTON"), 7, 1)
    assert str(ms.parse_press("P2:UP+BUTTON@7:3")) == "P2:UP+BUTTON@7:3"
    for bad in ("RESET", "RESET@", "@60", "RESET@60:0", "P0:RESET@1", "RESET@-1", "RESET@1:2:3"):
        with pytest.raises(ValueError):
            ms.parse_press(bad)
    assert ms.button_id("Atari2600", "reset") == RESET
    assert ms.button_id("Atari2600", "START") == RESET  # libretro's name for the same joypad id
    with pytest.raises(ValueError, match="no button"):
        ms.button_id("Atari2600", "TURBO")


def test_run_recipe_presses_buttons_when_told(test_roms: dict[str, Path]) -> None:
    with retro.RetroEmulator(test_roms["atari2600"]) as em:
        ram = em.memory_blocks()[0x80]
        ms.run_recipe(em, [ms.parse_press("BUTTON@10:7"), ms.parse_press("P2:UP+LEFT@35:5")], 38)
        assert int(ram[4]) == 7  # the test ROM's held-fire counter: fire was held for 7 frames
        assert int(ram[2]) == 0xFA  # SWCHA: player 2's UP and LEFT held at the end, nothing of player 1
        ms.run_recipe(em, [], 5)
        assert int(ram[2]) == 0xFF and int(ram[4]) == 7
        assert em.get_button_mask(0) == em.get_button_mask(1) == 0


def test_make_state_command(tmp_path: Path, ale_roms: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "Pong-Atari2600"
    shutil.copytree(STABLE / "Pong-Atari2600", folder)
    rom = str(rom_for("Pong-Atari2600", ale_roms))
    argv = ["Pong-Atari2600", "Serve", "--rom", rom, "--dir", str(folder), "--press", "RESET@60:5",
            "--press", "UP@70:20", "--frames", "100"]
    assert ms.main(argv) == 0
    assert "Serve.state" in capsys.readouterr().out
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["state_recipes"]["Serve"] == {"press": ["RESET@60:5", "UP@70:20"], "frames": 100}
    assert "retro.Start" in meta["state_recipes"]  # the other recipes are kept
    made = load_state_bytes(folder / "Serve.state")
    without_up = ms.make_state(rom, [ms.parse_press("RESET@60:5")], 100)
    with retro.RetroEmulator(rom) as em:  # the recipe ran: holding UP moved player 1's paddle (0xb3) up
        em.set_state(without_up)
        rested = int(em.memory_blocks()[0x80][0xB3 - 0x80])
        em.set_state(made)
        assert int(em.memory_blocks()[0x80][0xB3 - 0x80]) < rested - 20
    serve_file = (folder / "Serve.state").read_bytes()
    capsys.readouterr()
    # Rebuilding keeps files whose state plays the same, so a checkout stays unchanged.
    assert ms.main(["Pong-Atari2600", "--all", "--rom", rom, "--dir", str(folder)]) == 0
    assert capsys.readouterr().out.count("unchanged") == 3
    assert (folder / "Serve.state").read_bytes() == serve_file
    for state in ("retro.Start", "retro.Start.2P"):
        assert (folder / f"{state}.state").read_bytes() == (STABLE / "Pong-Atari2600" / f"{state}.state").read_bytes()
    # A different recipe makes a different state, and it is written.
    assert ms.main(["Pong-Atari2600", "Serve", "--rom", rom, "--dir", str(folder), "--press", "RESET@60:5",
                    "--press", "DOWN@70:20", "--frames", "100"]) == 0
    assert "unchanged" not in capsys.readouterr().out
    assert not ms.plays_the_same(rom, load_state_bytes(folder / "Serve.state"), made)
    assert ms.plays_the_same(rom, made, made) and not ms.plays_the_same(rom, made, b"")
    # Errors are reported, never a traceback, and write nothing.
    assert ms.main(["Pong-Atari2600", "Bad", "--rom", rom, "--dir", str(folder), "--press", "RESET@sixty"]) == 1
    assert ms.main(["Pong-Atari2600", "Bad", "--rom", rom, "--dir", str(folder), "--press", "TURBO@1"]) == 1
    assert ms.main(["Pong-Atari2600", "Bad", "--rom", rom, "--dir", str(folder), "--press", "RESET@60:5",
                    "--frames", "10"]) == 1
    assert ms.main(["Pong-Atari2600", "Bad", "--rom", str(tmp_path / "missing.a26"), "--dir", str(folder),
                    "--frames", "10"]) == 1
    assert "make_state:" in capsys.readouterr().err
    assert not (folder / "Bad.state").exists()
    assert "Bad" not in json.loads((folder / "metadata.json").read_text())["state_recipes"]


@pytest.mark.parametrize("failure", ["disk full mid-way", "fsync"])
def test_a_failed_recipe_record_leaves_the_old_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        failure: str) -> None:
    folder = tmp_path / "Pong-Atari2600"
    shutil.copytree(STABLE / "Pong-Atari2600", folder)
    old = (folder / "metadata.json").read_bytes()
    real_dumps = json.dumps

    def dump_half_then_fail(doc: Any, f: Any, **kwargs: Any) -> None:
        f.write(real_dumps(doc, **kwargs)[:40])
        raise OSError(errno.ENOSPC, "No space left on device")

    def fail_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(*((json, "dump", dump_half_then_fail) if failure == "disk full mid-way"
                          else (os, "fsync", fail_fsync)))
    with pytest.raises(OSError):
        ms.save_recipe(folder, "Serve", [ms.parse_press("RESET@60:5")], 100)
    assert (folder / "metadata.json").read_bytes() == old
    assert not list(folder.glob(".*.part"))
    monkeypatch.undo()
    ms.save_recipe(folder, "Serve", [ms.parse_press("RESET@60:5")], 100)
    recorded = ms.recipes(folder)
    assert recorded["Serve"] == ([ms.parse_press("RESET@60:5")], 100) and "retro.Start" in recorded


# -- a custom integration for the homebrew test ROMs -------------------------------------------

@pytest.fixture
def custom_paths() -> Iterator[None]:
    saved = rdata.Integrations.custom_paths()
    yield
    rdata.Integrations.clear_custom_paths()
    for p in saved:
        rdata.Integrations.add_custom_path(p)


@pytest.mark.parametrize(("name", "a_button"), [("atari2600", FIRE)] + [
    (name, 8) for name in ("nes", "snes", "gb", "gbc", "sms", "gg", "pce", "gba")])
def test_custom_integration_for_test_roms(name: str, a_button: int, tmp_path: Path, test_roms: dict[str, Path],
                                          custom_paths: None) -> None:
    custom = tmp_path / "custom"
    game = write_test_rom_integration(test_roms[name], custom, done_at=200)
    rdata.Integrations.add_custom_path(custom)
    inttype = rdata.Integrations.CUSTOM_ONLY
    assert game in rdata.list_games(inttype)
    assert rdata.list_states(game, inttype) == ["Start"]
    rom = Path(rdata.get_romfile_path(game, inttype))
    assert rom.parent == custom / game and rom_sha1(rom) in (custom / game / "rom.sha").read_text()
    assert rdata.verify_hash(game, inttype) == []

    with retro.RetroEmulator(rom) as em:
        data = rdata.GameData(game, inttype=inttype)
        data.configure(em)
        em.set_state(load_state_bytes(custom / game / "Start.state"))
        data.reset()
        data.update_ram()
        start = data.lookup_all()
        assert start["frame"] > 0
        frames = 0
        while not data.is_done():
            em.set_button_mask((1 << a_button) if 20 <= frames < 50 else 0)
            em.step()
            data.update_ram()
            frames += 1
            assert frames < 400
        end = data.lookup_all()
        assert end["frame"] == 200
        assert frames == 200 - start["frame"]
        assert data.total_reward() == end["held"] - start["held"] == 30

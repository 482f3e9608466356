"""``retro.testing`` and ``retro.testing.tools``: Gym Retro's integration checks, working.

The checks run on a handful of games of the provisioned library (which pass,
or give the warnings their files earn), and on integration folders broken on
purpose in a custom path: a missing ``rom.sha``, bad JSON, a ROM with the
wrong extension, two games with the same ROM hash, an unknown default state,
and the other mistakes the checks name. The pytest helpers are used as Gym
Retro's tests use them, in a pytest run of their own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import retro
import retro.testing
import retro.testing.tools as tools
from retro.data import Integrations

STABLE, EXP, CUSTOM = Integrations.STABLE, Integrations.EXPERIMENTAL_ONLY, Integrations.CUSTOM_ONLY
GOOD_DATA = {"info": {"lives": {"address": 16, "type": "|u1"}, "score": {"address": 20, "type": ">u4"},
                      "health": {"address": 24, "type": ">u2"}}}
GOOD_SCENARIO = {"reward": {"variables": {"score": {"reward": 1.0}}},
                 "done": {"variables": {"lives": {"op": "zero"}}}}
GENESIS_ROM = b"\x00" * 0x100 + b"SEGA GENESIS    " + bytes(0x200)


pytestmark = pytest.mark.usefixtures("integration_settings")  # custom paths and defaults put back after each test


def write_game(root: Path, game: str, *, data: Any = GOOD_DATA, scenario: Any = GOOD_SCENARIO,
               metadata: Any = None, rom: bytes | None = GENESIS_ROM, rom_ext: str = ".md",
               sha: bytes | None | str = "rom", states: tuple[str, ...] = ("Start",)) -> Path:
    """A custom integration folder; JSON given as ``str`` is written as is (to break it)."""
    folder = root / game
    folder.mkdir(parents=True)
    for name, doc in (("data.json", data), ("scenario.json", scenario),
                      ("metadata.json", {"default_state": "Start"} if metadata is None else metadata)):
        if doc is not None:
            (folder / name).write_text(doc if isinstance(doc, str) else json.dumps(doc))
    if rom is not None:
        (folder / ("rom" + rom_ext)).write_bytes(rom)
    if sha == "rom":
        sha = rom
    if isinstance(sha, bytes):
        (folder / "rom.sha").write_text(hashlib.sha1(sha).hexdigest() + "\n")
    for state in states:
        (folder / f"{state}.state").write_bytes(b"")
    return folder


@pytest.fixture
def custom(tmp_path: Path) -> Path:
    root = tmp_path / "custom"
    root.mkdir()
    Integrations.add_custom_path(str(root))
    return root


# -- the library ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("game, inttype", [
    ("Airstriker-Genesis", STABLE), ("SonicTheHedgehog-Genesis", STABLE), ("StreetsOfRage2-Genesis", STABLE),
    ("SuperMarioWorld-Snes", STABLE), ("Tetris-GameBoy", STABLE), ("SuperMarioBros-Nes", STABLE), ("Pong-Atari2600", STABLE), ("ActRaiser2-Snes", EXP),
])
def test_library_games_pass(game: str, inttype: Integrations) -> None:
    for check in (tools.verify_data, tools.verify_scenario, tools.verify_default_state):
        warnings, errors = check(game, inttype)
        assert errors == [] and warnings == [], (check.__name__, warnings, errors)
    whitelist, errors = tools.load_whitelist(game, inttype)
    assert isinstance(whitelist, dict) and errors == []


def test_library_findings_are_the_files_own() -> None:
    # an experimental integration with neither reward nor done
    assert tools.verify_scenario("PokemonRed-GameBoy", EXP) == (
        [("experimental/PokemonRed-GameBoy/scenario.json", "missing done"),
         ("experimental/PokemonRed-GameBoy/scenario.json", "missing reward")], [])
    assert tools.verify_data("HangOn-Sms", STABLE) == ([("HangOn-Sms/data.json", "suspicious type >d5 for score")],
                                                       [])
    assert tools.verify_scenario("MortalKombat2-Arcade", STABLE) == (
        [("MortalKombat2-Arcade/scenario.json", "suspicious done condition any with more than 2 checks")], [])
    # this project's named variant of Pong: a scenario with variables of its own, checked against those
    warnings, errors = tools.verify_scenario("Pong-Atari2600", STABLE, "retro")
    assert errors == [] and ("Pong-Atari2600/retro.json", "reward and rewards both present") in warnings


def test_library_roms() -> None:
    assert tools.verify_rom("Airstriker-Genesis", STABLE) == ([], [])  # imported at set-up
    assert retro.data.verify_hash("Airstriker-Genesis") == []
    assert tools.verify_rom("Pong-Atari2600", STABLE) == ([], [])
    assert tools.verify_rom("SonicTheHedgehog-Genesis", STABLE) == ([], [("SonicTheHedgehog-Genesis",
                                                                          "ROM file missing")])
    # a contributed ROM hack ships a patch (rom.delta), which is no ROM
    assert tools.verify_rom("SonicTheHedgehogCustomKevin-Genesis", Integrations.CONTRIB_ONLY)[1] == [
        ("SonicTheHedgehogCustomKevin-Genesis", "ROM file missing")]


def test_the_library_has_no_missing_files_or_hash_collisions() -> None:
    assert tools.scan_missing() == []
    assert tools.verify_hash_collisions() == ([], [])


# -- broken integrations ----------------------------------------------------------------------------------------

def test_missing_rom_sha_is_reported(custom: Path) -> None:
    write_game(custom, "NoSha-Genesis", sha=None)
    write_game(custom, "NoState-Genesis", states=(), metadata={})
    missing = tools.scan_missing()
    assert ("NoSha-Genesis", "rom.sha") in missing
    assert ("NoState-Genesis", "*.state") in missing and ("NoSha-Genesis", "*.state") not in missing
    assert retro.data.verify_hash("NoSha-Genesis", CUSTOM) == [("NoSha-Genesis", "missing rom.sha")]


def test_bad_json_is_reported(custom: Path) -> None:
    write_game(custom, "BadData-Genesis", data="{not json")
    write_game(custom, "BadScenario-Genesis", scenario='{"reward": ')
    write_game(custom, "BadMetadata-Genesis", metadata="[1, 2")
    assert tools.verify_data("BadData-Genesis", CUSTOM) == ([], [("custom/BadData-Genesis/data.json",
                                                                  "fail decode")])
    assert tools.verify_scenario("BadScenario-Genesis", CUSTOM) == (
        [], [("custom/BadScenario-Genesis/scenario.json", "fail decode")])
    assert tools.verify_default_state("BadMetadata-Genesis", CUSTOM) == (
        [], [("custom/BadMetadata-Genesis/metadata.json", "fail decode")])
    # every check of the game reads the whitelist in its metadata, and says it cannot
    assert tools.load_whitelist("BadMetadata-Genesis", CUSTOM) == (
        None, [("custom/BadMetadata-Genesis/metadata.json", "fail decode")])
    assert tools.verify_data("BadMetadata-Genesis", CUSTOM)[1] == [("custom/BadMetadata-Genesis/metadata.json",
                                                                    "fail decode")]
    # JSON given as text in place of the file
    assert tools.verify_data("BadData-Genesis", CUSTOM, raw=json.dumps(GOOD_DATA)) == ([], [])
    assert tools.verify_data("BadData-Genesis", CUSTOM, raw='{"info": {}}') == (
        [], [("custom/BadData-Genesis/data.json", "missing info")])


def test_wrong_extension_is_reported(custom: Path) -> None:
    write_game(custom, "WrongExt-Genesis", rom_ext=".sfc")
    write_game(custom, "WrongExt-Snes", rom=b"\x00" * 0x8000, rom_ext=".md")
    write_game(custom, "Unpatched-Nes", rom=None, sha=b"x")
    rom = custom / "WrongExt-Genesis" / "rom.sfc"
    assert tools.verify_rom("WrongExt-Genesis", CUSTOM) == ([], [("WrongExt-Genesis", f"invalid extension for {rom}")])
    assert tools.verify_rom("WrongExt-Snes", CUSTOM) == ([], [("WrongExt-Snes", "invalid extension for rom.md")])
    assert tools.verify_rom("Unpatched-Nes", CUSTOM) == ([], [("Unpatched-Nes", "ROM file missing")])
    # a whitelisted ROM name is accepted as it is
    write_game(custom, "Listed-Snes", rom=b"\x00" * 0x8000, rom_ext=".md",
               metadata={"default_state": "Start", "whitelist": {"rom.md": []}})
    assert tools.verify_rom("Listed-Snes", CUSTOM) == ([], [])


def test_a_genesis_rom_without_its_header_is_reported(custom: Path) -> None:
    write_game(custom, "NoHeader-Genesis", rom=bytes(0x400))
    assert tools.verify_rom("NoHeader-Genesis", CUSTOM) == ([], [("NoHeader-Genesis", "invalid genesis rom")])
    assert tools.verify_genesis("NoHeader-Genesis", CUSTOM) == ([], [("NoHeader-Genesis", "invalid genesis rom")])


def test_hash_collisions_are_reported(custom: Path) -> None:
    write_game(custom, "First-Genesis")
    write_game(custom, "Second-Genesis")  # the same ROM, so the same hash
    write_game(custom, "Third-Genesis", rom=GENESIS_ROM + b"\x01")
    warnings, errors = tools.verify_hash_collisions()
    assert warnings == [] and sorted(errors) == [("First-Genesis", "sha duplicate"),
                                                 ("Second-Genesis", "sha duplicate")]


def test_unknown_default_state_is_reported(custom: Path) -> None:
    write_game(custom, "NoSuchState-Genesis", metadata={"default_state": "Level9"})
    write_game(custom, "NoDefault-Genesis", metadata={"title": "x"})
    assert tools.verify_default_state("NoSuchState-Genesis", CUSTOM) == (
        [], [("custom/NoSuchState-Genesis/metadata.json", "invalid default state Level9")])
    assert tools.verify_default_state("NoDefault-Genesis", CUSTOM) == (
        [], [("custom/NoDefault-Genesis/metadata.json", "default state missing")])
    write_game(custom, "GoodState-Genesis")
    assert tools.verify_default_state("GoodState-Genesis", CUSTOM) == ([], [])


def test_data_mistakes_and_the_whitelist(custom: Path) -> None:
    data = {"info": {"lives": {"address": 1, "type": ">u2"}, "score": {"address": 2, "type": "|u1"},
                     "noaddr": {"type": "|u1"}, "notype": {"address": 3}, "bad": {"address": 4, "type": "u4"},
                     "odd": {"address": 5, "type": "><u4"}, "bcd": {"address": 6, "type": ">d6"}}}
    write_game(custom, "Types-Genesis", data=data)
    file = "custom/Types-Genesis/data.json"
    warnings, errors = tools.verify_data("Types-Genesis", CUSTOM)
    assert sorted(errors) == sorted([(file, "missing address for noaddr"), (file, "missing type for notype"),
                                     (file, "invalid type u4 for bad")])
    assert sorted(warnings) == sorted([(file, "suspicious type ><u4 for odd"), (file, "suspicious type >d6 for bcd"),
                                       (file, "suspicious type >u2 for lives"),
                                       (file, "suspicious type |u1 for score")])
    # whitelisted warnings go; one that no longer occurs is an error
    listed = ["suspicious type ><u4 for odd", "suspicious type >d6 for bcd", "suspicious type >u2 for lives",
              "suspicious type |u1 for score", "suspicious type >u4 for gone"]
    write_game(custom, "Listed-Genesis", data=data,
               metadata={"default_state": "Start", "whitelist": {"data.json": listed}})
    warnings, errors = tools.verify_data("Listed-Genesis", CUSTOM)
    assert warnings == []
    assert ("metadata.json", 'missing warning "custom/Listed-Genesis/data.json: suspicious type >u4 for gone"') in errors


def test_scenario_mistakes(custom: Path) -> None:
    scenario = {"reward": {"variables": {"score": {"reward": 1}, "missing": {"reward": 1}, "health": {}},
                           "script": "lua:f"},
                "done": {"condition": "all", "variables": {"lives": {"op": "negative"}}}}
    write_game(custom, "Scenario-Genesis", scenario=scenario)
    file = "custom/Scenario-Genesis/scenario.json"
    warnings, errors = tools.verify_scenario("Scenario-Genesis", CUSTOM)
    assert warnings == [(file, "both variables and script present in reward")]
    assert sorted(errors) == sorted([(file, "invalid variable missing"), (file, "invalid definition health"),
                                     (file, "incorrect done condition all with only 1 check"),
                                     (file, "op: negative on unsigned lives")])
    assert tools.verify_scenario("Scenario-Genesis", CUSTOM, "absent") == ([], [])
    many = {"reward": {"variables": {"score": {"reward": 1}}},
            "done": {"variables": {"score": {"op": "equal", "reference": 0}, "lives": {"op": "zero"},
                                   "health": {"op": "zero"}}}}
    warnings, errors = tools.verify_scenario("Scenario-Genesis", CUSTOM, raw=json.dumps(many))
    assert sorted(warnings) == sorted([(file, "suspicious variable in done condition: score"),
                                       (file, "suspicious done condition: health OR lives"),
                                       (file, "suspicious done condition any with more than 2 checks")])
    assert errors == []


def test_zero_reference_ops_are_checked_when_asked(custom: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = {"reward": {"variables": {"score": {"reward": 1}}},
                "done": {"variables": {"lives": {"op": "equal", "reference": 0}}}}
    write_game(custom, "Zero-Genesis", scenario=scenario)
    assert tools.verify_scenario("Zero-Genesis", CUSTOM) == ([], [])  # as Gym Retro's and stable-retro's
    monkeypatch.setattr(tools, "CHECK_ZERO_OPS", True)
    assert tools.verify_scenario("Zero-Genesis", CUSTOM) == (
        [("custom/Zero-Genesis/scenario.json", "incorrect op: zero for lives")], [])


def test_verify_all_counts_a_custom_folder(custom: Path) -> None:
    write_game(custom, "Alpha-Genesis")
    write_game(custom, "Beta-Genesis", metadata={"default_state": "Nope"}, rom=GENESIS_ROM + b"!")
    summary = tools.verify_all(["Alpha-Genesis", "Beta-Genesis"])
    assert (summary["games"], summary["checked"]) == (2, 2)
    assert summary["errors"] == [("custom/Beta-Genesis/metadata.json", "invalid default state Nope")]


# -- the pytest helpers -----------------------------------------------------------------------------------------

def test_game_params_list_every_kind(custom: Path) -> None:
    write_game(custom, "Mine-Genesis")
    params = retro.testing.game_params()
    assert params["Airstriker_Genesis"] == ("Airstriker-Genesis", STABLE)
    assert params["ActRaiser2_Snes_exp"] == ("ActRaiser2-Snes", EXP)
    assert params["ActRaiser2_Snes_all"] == ("ActRaiser2-Snes", Integrations.ALL)
    assert params["SonicTheHedgehogCustomKevin_Genesis_contrib"][1] == Integrations.CONTRIB_ONLY
    assert params["Mine_Genesis_custom"] == ("Mine-Genesis", CUSTOM)
    assert "ActRaiser2-Snes-exp" in retro.testing.all_games and "Airstriker-Genesis" in retro.testing.all_games


def test_handle_warns_records_and_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retro.testing, "warnings", [])
    monkeypatch.setattr(retro.testing, "errors", [])
    with pytest.warns(UserWarning, match="a.json: odd"):
        retro.testing.handle([("a.json", "odd")], [])
    with pytest.raises(AssertionError, match="b.json: broken"), pytest.warns(UserWarning):
        retro.testing.handle([("a.json", "odd")], [("b.json", "broken")])
    assert retro.testing.warnings == [("a.json", "odd")] * 2 and retro.testing.errors == [("b.json", "broken")]


def test_branch_new_names_changed_integrations(monkeypatch: pytest.MonkeyPatch) -> None:
    out = b"retro/data/stable/Foo-Genesis/data.json\nREADME.md\nBar-Nes/scenario.json\n"
    monkeypatch.setattr(subprocess, "check_output", lambda *a, **k: out)
    assert retro.testing.branch_new("master") == ["Bar_Nes", "Foo_Genesis"]


def test_gym_retros_tests_run_on_these_helpers(tmp_path: Path, custom: Path, airstriker_rom: Path) -> None:
    """Gym Retro's tests/data files, as written, in a pytest run of their own."""
    write_game(custom, "Broken-Genesis", data="{oops")
    roms = tmp_path / "roms"
    roms.mkdir()
    shutil.copyfile(airstriker_rom, roms / "Probe.md")
    (tmp_path / "conftest.py").write_text(textwrap.dedent(f"""
        import retro.data
        retro.data.Integrations.add_custom_path({str(custom)!r})
    """))
    (tmp_path / "test_integration.py").write_text(textwrap.dedent("""
        from retro.testing import game, handle, testenv
        import retro.testing.tools


        def test_data(game):
            warnings, errors = retro.testing.tools.verify_data(*game)
            handle(warnings, errors)


        def test_default_states(game):
            warnings, errors = retro.testing.tools.verify_default_state(*game)
            handle(warnings, errors)


        def test_env(testenv):
            env = testenv()
            env.reset()
            assert env.step(env.action_space.sample())[0].shape == (224, 320, 3)
    """))
    env = dict(os.environ, RETRO_TEST_ROMS=str(roms))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k",
                          "Airstriker_Genesis or ActRaiser2_Snes_exp or Broken_Genesis_custom or Probe",
                          str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert "1 failed, 6 passed" in run.stdout, run.stdout + run.stderr
    assert "test_data[Broken_Genesis_custom]" in run.stdout and "fail decode" in run.stdout


def test_verify_changes_checks_the_changed_games(custom: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from retro.testing import verify_changes

    write_game(custom, "Changed-Genesis", metadata={"default_state": "Nope"})
    write_game(custom, "Unchanged-Genesis", metadata={"default_state": "Nope"})
    monkeypatch.setattr(subprocess, "check_output", lambda *a, **k: b"Changed-Genesis/metadata.json\n")
    assert verify_changes.main(["master"]) == 1
    out = capsys.readouterr().out
    assert "E: custom/Changed-Genesis/metadata.json: invalid default state Nope" in out
    assert "Unchanged" not in out
    monkeypatch.setattr(subprocess, "check_output", lambda *a, **k: b"README.md\n")
    assert verify_changes.main([]) == 0

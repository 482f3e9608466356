"""retro.data: integrations and paths, ROM import, and GameData on Airstriker with the real core."""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest

import retro
from retro import data as rd
from retro.data import GameData, Integrations
from retro.errors import GameNotFoundError, IntegrationError

GAME = "Airstriker-Genesis"
LIVES = 0xFF025A
SCORE = 0xFF024E


@pytest.fixture(autouse=True)
def clean_integrations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Only this project's integrations: an empty game library (tests/test_library.py has the real one)."""
    monkeypatch.delenv("RETRO_DATA_PATH", raising=False)
    monkeypatch.setenv("RETRO_LIBRARY_PATH", str(tmp_path / "no-library"))
    Integrations.clear_custom_paths()
    rd.DefaultIntegrations.reset()
    yield
    Integrations.clear_custom_paths()
    rd.DefaultIntegrations.reset()


# -- Integrations ---------------------------------------------------------------------------

@pytest.mark.parametrize("member,value,paths,text", [
    ("STABLE", 1, ["stable"], ""),
    ("EXPERIMENTAL_ONLY", 2, ["experimental"], "experimental"),
    ("CONTRIB_ONLY", 4, ["contrib"], "contrib"),
    ("CUSTOM_ONLY", 8, ["c1", "/abs/c2"], "custom"),
    ("EXPERIMENTAL", 3, ["experimental", "stable"], "stable|experimental"),
    ("CONTRIB", 5, ["contrib", "stable"], "stable|contrib"),
    ("CUSTOM", 9, ["c1", "/abs/c2", "stable"], "stable|custom"),
    ("ALL", 15, ["contrib", "experimental", "c1", "/abs/c2", "stable"], "all"),
    ("DEFAULT", 16, ["stable"], ""),
])
def test_every_integrations_member(member: str, value: int, paths: list[str], text: str) -> None:
    Integrations.add_custom_path("c1")
    Integrations.add_custom_path("/abs/c2")
    flag = Integrations[member]
    assert flag.value == value
    assert flag.paths == paths
    assert str(flag) == text


def test_every_member_is_covered() -> None:
    assert set(Integrations.__members__) == {"STABLE", "EXPERIMENTAL_ONLY", "CONTRIB_ONLY", "CUSTOM_ONLY",
                                             "EXPERIMENTAL", "CONTRIB", "CUSTOM", "ALL", "DEFAULT"}


def test_custom_paths_keep_their_order_and_clear() -> None:
    Integrations.add_custom_path("b")
    Integrations.add_custom_path("a")
    assert Integrations.CUSTOM_ONLY.paths == ["b", "a"]
    Integrations.clear_custom_paths()
    assert Integrations.CUSTOM.paths == ["stable"]


def test_default_follows_the_process_default() -> None:
    def paths_of(inttype: Integrations = Integrations.DEFAULT) -> list[str]:
        return inttype.paths

    assert paths_of() == ["stable"]
    rd.add_integrations(Integrations.CONTRIB_ONLY)
    assert paths_of() == ["contrib", "stable"]          # a default argument sees the change
    assert str(Integrations.DEFAULT) == "stable|contrib"
    assert (Integrations.DEFAULT | Integrations.EXPERIMENTAL_ONLY).paths == ["contrib", "experimental", "stable"]
    assert Integrations.CONTRIB_ONLY in Integrations.DEFAULT
    rd.add_custom_integration("mine")
    assert paths_of() == ["contrib", "mine", "stable"]
    rd.DefaultIntegrations.reset()
    assert paths_of() == ["stable"]
    assert Integrations.STABLE & Integrations.CONTRIB_ONLY == Integrations(0)
    assert (Integrations.STABLE & Integrations.CONTRIB_ONLY).paths == []


# -- paths and listings ------------------------------------------------------------------------

def make_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for kind, game, files in [
        ("stable", "Foo-Genesis", {"rom.sha": "aa\n", "data.json": "{}", "Start.state": "",
                                   "_hidden.state": "", "scenario.json": '{"reward": {}}',
                                   "contest.json": '{"done": {}}', "metadata.json": '{"default_state": "Start"}',
                                   "broken.json": "{"}),
        ("contrib", "Foo-Genesis", {"data.json": "{}", "Level2.state": "", "rom.sha": "aa\n"}),
        ("experimental", "Bar-Nes", {"rom.sha": "bb\n"}),
        ("stable", "NoSha-Snes", {"data.json": "{}"}),
        ("stable", "Baz-Atari2600-v0", {"rom.sha": "cc\n", "Start.state": ""}),
    ]:
        d = root / kind / game
        d.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (d / name).write_text(text)
    return root


def test_path_prefers_retro_data_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Path(rd.path(), "stable", GAME, "rom.sha").is_file()
    assert rd.path() == rd.DATA_PATH
    monkeypatch.setenv("RETRO_DATA_PATH", str(tmp_path))
    assert rd.path() == str(tmp_path)


def test_get_file_path_searches_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path)
    monkeypatch.setenv("RETRO_DATA_PATH", str(root))
    assert rd.get_file_path("Foo-Genesis", "data.json") == str(root / "stable/Foo-Genesis/data.json")
    assert rd.get_file_path("Foo-Genesis", "data.json", Integrations.CONTRIB) == \
        str(root / "contrib/Foo-Genesis/data.json")
    assert rd.get_file_path("Foo-Genesis", "Level2.state") is None
    assert rd.get_file_path("Foo-Genesis", "nope.json", Integrations.ALL) is None
    assert rd.get_file_path("Bar-Nes", "rom.sha") is None
    assert rd.get_file_path("Bar-Nes", "rom.sha", Integrations.EXPERIMENTAL) is not None
    # -v0 ids are aliases, whichever way the folder is spelt
    assert rd.get_file_path("Foo-Genesis-v0", "data.json") == str(root / "stable/Foo-Genesis/data.json")
    assert rd.get_file_path("Baz-Atari2600", "rom.sha") == str(root / "stable/Baz-Atari2600-v0/rom.sha")


def test_custom_paths_relative_or_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path)
    monkeypatch.setenv("RETRO_DATA_PATH", str(root))
    elsewhere = tmp_path / "mine" / "Qux-Snes"
    elsewhere.mkdir(parents=True)
    (elsewhere / "rom.sha").write_text("dd\n")
    Integrations.add_custom_path(str(tmp_path / "mine"))
    Integrations.add_custom_path("contrib")               # relative to the data root
    assert rd.get_file_path("Qux-Snes", "rom.sha", Integrations.ALL) == str(elsewhere / "rom.sha")
    assert rd.list_games(Integrations.CUSTOM_ONLY) == ["Foo-Genesis", "Qux-Snes"]


def test_listings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path)
    monkeypatch.setenv("RETRO_DATA_PATH", str(root))
    assert rd.list_games() == ["Baz-Atari2600", "Foo-Genesis"]
    assert rd.list_games(Integrations.ALL) == ["Bar-Nes", "Baz-Atari2600", "Foo-Genesis"]
    assert rd.list_states("Foo-Genesis") == ["Start"]
    assert rd.list_states("Foo-Genesis", Integrations.CONTRIB) == ["Level2", "Start"]
    assert rd.list_scenarios("Foo-Genesis") == ["contest", "scenario"]
    assert rd.list_states("Nothing-Genesis") == []


def test_game_files_read_a_game_as_its_scenario_variant_sees_it(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from retro.data.integrations import GameFiles, declared, game_metadata, json_path, with_variant

    root = make_root(tmp_path)
    folder = root / "stable" / "Foo-Genesis"
    (folder / "metadata.json").write_text('{"default_state": "Start", "default_player_state": ["Start", "Two"], '
                                          '"original_rom_name": "foo.zip"}')
    (folder / "duo.json").write_text('{"done": {}, "info": {}, "default_state": "Duo", "crop": [0, 0, 0, 0]}')
    monkeypatch.setenv("RETRO_DATA_PATH", str(root))
    assert with_variant({"default_state": "A", "x": 1}, {"default_state": "B", "x": 2}) == {"default_state": "B", "x": 1}
    files = GameFiles.open("Foo-Genesis", "duo")
    assert files.scenario_path == files.info_path == str(folder / "duo.json")  # the variant has its own info
    assert files.metadata == {"default_state": "Duo", "default_player_state": ["Start", "Two"],
                              "original_rom_name": "foo.zip"}
    assert files.rom_sha_path == str(folder / "rom.sha")
    plain = GameFiles.open("Foo-Genesis")
    assert (plain.scenario_path, plain.info_path) == (str(folder / "scenario.json"), str(folder / "data.json"))
    assert plain.metadata["default_state"] == "Start"
    with pytest.raises(GameNotFoundError, match="unknown scenario 'nope' for Foo-Genesis; its scenarios are"):
        GameFiles.open("Foo-Genesis", "nope")
    with pytest.raises(GameNotFoundError, match="no data file 'nope' for Foo-Genesis"):
        GameFiles.open("Foo-Genesis", info="nope")
    with pytest.raises(IntegrationError, match="broken.json: not valid JSON"):
        GameFiles.open("Foo-Genesis", "broken")
    assert json_path("Foo-Genesis", "/any/where.json") == "/any/where.json"
    # listings read leniently: a broken file declares nothing
    assert declared("Foo-Genesis", "default_state", json_path("Foo-Genesis", "duo")) == "Duo"
    assert declared("Foo-Genesis", "default_state", json_path("Foo-Genesis", "broken")) == "Start"
    assert declared("Foo-Genesis", "default_player_state", accept=lambda v: len(v) > 2) is None
    assert declared("Foo-Genesis", "crop", json_path("Foo-Genesis", "duo")) is None  # not a variant key
    assert game_metadata("Foo-Genesis")["original_rom_name"] == "foo.zip"
    (folder / "metadata.json").write_text("{")
    assert game_metadata("Foo-Genesis") == {} and rd.integrations.original_rom_name("Foo-Genesis") is None
    with pytest.raises(IntegrationError, match="metadata.json: not valid JSON"):
        GameFiles.open("Foo-Genesis")


def test_repository_ships_airstriker_variant() -> None:
    """Airstriker is a game of stable-retro's library: this project ships its own variant, named retro."""
    assert GAME in rd.list_games()
    assert rd.list_states(GAME) == ["retro.Level1"]
    assert rd.list_scenarios(GAME) == ["retro"]


def test_reexports_core_info() -> None:
    assert rd.EMU_EXTENSIONS[".md"] == "Genesis"
    assert rd.EMU_CORES["Genesis"] == "genesis_plus_gx_libretro.so"
    assert rd.EMU_INFO["Genesis"]["overlay"] == ["=", ">", 2]


# -- ROMs -------------------------------------------------------------------------------------

@pytest.fixture
def retro_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("RETRO_HOME", str(home))
    return home


def fake_rom_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rom: bytes, nes: bytes) -> Path:
    root = tmp_path / "data"
    (root / "stable" / "Fake-Genesis").mkdir(parents=True)
    (root / "stable" / "Fake-Genesis" / "rom.sha").write_text(hashlib.sha1(rom).hexdigest() + "\n")
    (root / "stable" / "Fake-Nes").mkdir(parents=True)
    (root / "stable" / "Fake-Nes" / "rom.sha").write_text("0" * 40 + "\n" + hashlib.sha1(nes[16:]).hexdigest())
    monkeypatch.setenv("RETRO_DATA_PATH", str(root))
    return root


def test_romfile_missing_raises_game_not_found(retro_home: Path) -> None:
    with pytest.raises(GameNotFoundError, match="^No romfiles found for game: Nope-Genesis$") as info:
        rd.get_romfile_path("Nope-Genesis")
    assert isinstance(info.value, FileNotFoundError)


def test_merge_imports_into_retro_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retro_home: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    rom = b"SEGA" + bytes(range(256)) * 4
    nes = b"NES\x1a" + b"\x01" * 12 + b"prg" * 100
    root = fake_rom_root(tmp_path, monkeypatch, rom, nes)
    (tmp_path / "a.md").write_bytes(rom)
    (tmp_path / "b.nes").write_bytes(nes)
    (tmp_path / "unknown.md").write_bytes(b"other")
    assert rd.get_known_hashes()[hashlib.sha1(rom).hexdigest()] == ("Fake-Genesis", ".md", str(root / "stable"))
    assert rd.merge(tmp_path / "a.md", tmp_path / "b.nes", tmp_path / "unknown.md", quiet=False) == 2
    assert "Importing Fake-Genesis" in capsys.readouterr().out
    assert (retro_home / "games/Fake-Genesis/rom.md").read_bytes() == rom
    assert (retro_home / "games/Fake-Nes/rom.nes").read_bytes() == nes     # stored whole
    assert not list(root.rglob("rom.md"))                                 # never into the data root
    assert rd.get_romfile_path("Fake-Genesis") == str(retro_home / "games/Fake-Genesis/rom.md")
    assert rd.verify_hash("Fake-Genesis") == []
    assert rd.verify_hash("Fake-Nes") == []
    (retro_home / "games/Fake-Genesis/rom.md").write_bytes(b"a different file")
    assert rd.verify_hash("Fake-Genesis") == [("Fake-Genesis", "sha mismatch")]
    assert rd.merge(tmp_path / "a.md") == 0                               # never overwritten
    assert (retro_home / "games/Fake-Genesis/rom.md").read_bytes() == b"a different file"


def test_rom_in_an_integration_folder_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retro_home: Path) -> None:
    root = fake_rom_root(tmp_path, monkeypatch, b"x", b"y" * 20)
    (root / "stable/Fake-Genesis/rom.md").write_bytes(b"x")
    assert rd.get_romfile_path("Fake-Genesis-v0") == str(root / "stable/Fake-Genesis/rom.md")


def test_groom_rom(tmp_path: Path) -> None:
    body = bytes(range(256)) * 128                       # 32 KiB: two SMD blocks
    interleaved = bytearray()
    for start in range(0, len(body), 16384):
        block = body[start:start + 16384]
        interleaved += block[1::2] + block[0::2]
    header = bytearray(512)
    header[8], header[9] = 0xAA, 0xBB
    (tmp_path / "game.smd").write_bytes(bytes(header) + bytes(interleaved))
    data, sha = rd.groom_rom(tmp_path / "game.smd")
    assert data == body and sha == hashlib.sha1(body).hexdigest()
    (tmp_path / "game.nes").write_bytes(b"H" * 16 + b"body")
    assert rd.groom_rom(tmp_path / "game.nes") == (b"H" * 16 + b"body", hashlib.sha1(b"body").hexdigest())
    (tmp_path / "big.bin").write_bytes(b"\0" * ((32 << 20) + 1))
    with pytest.raises(ValueError, match="ROM is too big"):
        rd.groom_rom(tmp_path / "big.bin")


# -- GameData without an emulator -----------------------------------------------------------------

def test_gamedata_without_memory() -> None:
    data = GameData(GAME, data="retro", scenario="retro")
    assert data.valid_actions() == []
    with pytest.raises(IndexError, match="No known mapping"):
        data.lookup_value("lives")
    with pytest.raises(KeyError):
        data.lookup_value("no such thing")
    with pytest.raises(ValueError):
        data.get_variable("no such thing")
    assert data.get_variable("lives") == {"address": LIVES, "type": ">u2"}
    assert data.lookup_all() == {}
    with pytest.raises(ValueError):
        data.current_reward(2)


def test_variables_view_and_save_round_trip(tmp_path: Path) -> None:
    data = GameData(GAME, data="retro", scenario="retro")
    assert dict(data.vars)["score"] == {"address": SCORE, "type": ">u4"}
    assert "lives" in data.vars and "nope" not in data.vars
    data.vars["hiscore"] = {"address": 0xFF0234, "type": ">u4"}
    del data.vars["dead"]
    with pytest.raises(KeyError):
        data.vars["dead"]
    data.save(tmp_path / "data.json", tmp_path / "scenario.json")
    again = GameData(data=tmp_path / "data.json", scenario=tmp_path / "scenario.json")
    assert again.list_variables() == data.list_variables()
    assert again.scenario.to_json() == data.scenario.to_json()


def _dump_half_then_fail(doc: Any, f: Any, **kwargs: Any) -> None:
    """``json.dump`` that writes the start of the document, then meets a full disk."""
    f.write(json.dumps(doc, **kwargs)[:12])
    raise OSError(errno.ENOSPC, "No space left on device")


def _fail_fsync(fd: int) -> None:
    raise OSError(errno.EIO, "Input/output error")


def _unserialisable(self: Any) -> dict[str, Any]:
    return {"address": self.address, "type": object()}


@pytest.mark.parametrize("failure", ["disk full mid-way", "fsync", "unserialisable"])
def test_a_failed_save_leaves_the_old_data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    data = GameData(GAME, data="retro", scenario="retro")
    path = tmp_path / "data.json"
    old = b'{\n  "info": {}\n}\n'
    path.write_bytes(old)
    if failure == "disk full mid-way":
        monkeypatch.setattr(json, "dump", _dump_half_then_fail)
    elif failure == "fsync":
        monkeypatch.setattr(os, "fsync", _fail_fsync)
    else:
        monkeypatch.setattr(rd.gamedata.Variable, "to_json", _unserialisable)
    with pytest.raises((OSError, TypeError)):
        data.save(path)
    assert path.read_bytes() == old
    assert not list(tmp_path.glob(".*.part"))
    monkeypatch.undo()
    data.save(path)
    assert GameData(data=path).list_variables() == data.list_variables()


@pytest.mark.parametrize("failure", ["disk full mid-way", "fsync"])
def test_a_failed_save_searches_leaves_the_old_file(airstriker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    failure: str) -> None:
    _em, data, _ = airstriker
    data.searches["lives"].search(3)
    path = tmp_path / "searches.json"
    path.write_bytes(b'{"searches": {}}')
    monkeypatch.setattr(*((json, "dump", _dump_half_then_fail) if failure == "disk full mid-way"
                          else (os, "fsync", _fail_fsync)))
    with pytest.raises(OSError):
        data.save_searches(path)
    assert path.read_bytes() == b'{"searches": {}}'
    assert not list(tmp_path.glob(".*.part"))
    monkeypatch.undo()
    data.save_searches(path)
    assert "lives" in json.loads(path.read_text())["searches"]


@pytest.mark.parametrize("doc,key", [
    ("{", "not valid JSON"),
    ('{"vars": {}}', "missing 'info'"),
    ('{"info": {"lives": {"type": ">u2"}}}', "info.lives: missing 'address'"),
    ('{"info": {"lives": {"address": 16712282}}}', "info.lives: missing 'type'"),
    ('{"info": {"lives": {"address": 16712282, "type": ">q2"}}}', "info.lives.type"),
    ('{"info": {"lives": {"address": 16712282, "type": "u2"}}}', "info.lives.type"),
    ('{"info": {"lives": {"address": "here", "type": ">u2"}}}', "info.lives.address"),
])
def test_bad_data_files_name_file_and_key(tmp_path: Path, doc: str, key: str) -> None:
    path = tmp_path / "data.json"
    path.write_text(doc)
    data = GameData(GAME, data="retro", scenario="retro")
    with pytest.raises(IntegrationError) as info:
        data.load(path)
    assert str(path) in str(info.value) and key in str(info.value)
    assert "lives" in data.list_variables()          # a failed load leaves the old variables


def test_bad_scenario_via_gamedata_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"done": {"variables": {"lives": {"op": "equals"}}}}))
    with pytest.raises(IntegrationError) as info:
        GameData(GAME, data="retro", scenario="retro").load(scenario=path)
    assert str(path) in str(info.value) and "done.variables.lives.op" in str(info.value)


# -- GameData on Airstriker, real core ------------------------------------------------------------

@pytest.fixture
def airstriker(airstriker_rom: Path) -> Iterator[tuple[retro.RetroEmulator, GameData, bytes]]:
    state = gzip.decompress(Path(rd.get_file_path(GAME, "retro.Level1.state")).read_bytes())
    em = retro.RetroEmulator(airstriker_rom)
    em.set_state(state)
    data = GameData(GAME, data="retro", scenario="retro")
    data.configure(em)
    data.reset()
    data.update_ram()
    yield em, data, state
    em.close()


def test_airstriker_variables_at_level_1(airstriker: Any) -> None:
    em, data, _ = airstriker
    assert data.lookup_all() == {"lives": 3, "score": 0, "dead": 0}
    assert data["lives"] == 3
    assert data.current_reward() == 0.0 and not data.is_done()
    assert data.valid_actions() == [[0, 16, 32], [0, 64, 128],
                                    [0, 1, 2, 3, 256, 257, 512, 513, 1024, 1026, 1536, 2048, 2304, 2560]]
    assert data.filter_action(16 | 32 | 64) == 64          # UP+DOWN dropped, LEFT kept
    assert data.filter_action(8) == 0                      # START is in no group
    assert data.crop_info() == (0, 0, 0, 0)


def test_genesis_overlay_typed_vs_raw(airstriker: Any) -> None:
    em, data, _ = airstriker
    raw = em.memory_blocks()[0xFF0000]
    offset = LIVES - 0xFF0000
    assert data.memory.extract(LIVES, ">u2") == 3
    assert list(raw[offset:offset + 2]) == [3, 0]          # host-order word, swapped
    assert data.memory.extract(LIVES + 1, "|u1") == 3
    assert data.memory.blocks[0xFF0000][offset] == 3


def test_set_value_writes_memory_and_rewards_follow_the_score(airstriker: Any) -> None:
    em, data, _ = airstriker
    data.set_value("lives", 5)
    assert data["lives"] == 5
    assert em.memory_blocks()[0xFF0000][LIVES - 0xFF0000] == 5
    em.step()
    data.set_value("score", 120)
    data.update_ram()
    assert data.current_reward() == 120.0
    em.step()
    data.update_ram()
    assert data.current_reward() == 0.0
    assert data.total_reward() == 120.0


def test_custom_variables_and_reset(airstriker: Any) -> None:
    em, data, _ = airstriker
    data.set_value("bonus", 2.75)
    assert data["bonus"] == 2.75
    assert data.lookup_all()["bonus"] == 2                 # cast to int, as Gym Retro
    data.reset()
    with pytest.raises(KeyError):
        data["bonus"]
    assert "bonus" not in data.lookup_all()


def test_reset_does_not_score_across_episodes(airstriker: Any) -> None:
    em, data, state = airstriker
    em.step()
    data.update_ram()                                      # the old episode ends with score 0
    data.set_value("score", 500)                           # the new one starts with 500 (e.g. its state)
    em.step()
    data.reset()
    data.update_ram()
    assert data.current_reward() == 0.0                    # Gym Retro would give +500 here
    assert data.total_reward() == 0.0
    assert data.scenario.frame == 1
    em.step()
    data.set_value("score", 510)
    data.update_ram()
    assert data.current_reward() == 10.0


def test_episode_ends_at_the_last_death(airstriker: Any) -> None:
    em, data, _ = airstriker
    frames = 0
    lives_zero_at = None
    while not data.is_done():
        em.step()
        data.update_ram()
        frames += 1
        if lives_zero_at is None and data["lives"] == 0:
            lives_zero_at = frames
        assert frames < 3000
    assert lives_zero_at is not None and frames - lives_zero_at > 100   # the last life was played
    assert data["lives"] == 0 and data["dead"] == 1
    assert data.total_reward() == 0.0


def test_memory_search_finds_lives(airstriker: Any) -> None:
    em, data, _ = airstriker
    data.search("lives", 3)
    data.delta_search("drop", "equal", 0)
    first = data.get_search("lives").num_results()
    while data.lookup_value("lives") == 3:
        em.step()
    data.search("lives", 2)
    data.delta_search("drop", "equal", -1)
    lives = data.get_search("lives")
    assert lives.num_results() < first
    assert ((LIVES, 1, 1, 0), [">d2", ">i2", ">u2"]) in lives.typed_results()
    drop = data.searches["drop"]
    assert any(r[0] == LIVES for r in drop.results())
    assert {"lives", "drop"} == {name for name, _ in data.searches}


def test_searches_save_and_load(airstriker: Any, tmp_path: Path) -> None:
    em, data, _ = airstriker
    data.searches["lives"].search(3)
    data.searches.save(tmp_path / "searches.json")
    other = GameData(GAME, data="retro", scenario="retro")
    other.configure(em)
    other.searches.load(tmp_path / "searches.json")
    assert other.get_search("lives").typed_results() == data.get_search("lives").typed_results()
    while data["lives"] == 3:
        em.step()
    data.delta_search("lives", "equal", -1)
    other.delta_search("lives", "equal", -1)               # uses the saved memory copy
    assert other.get_search("lives").typed_results() == data.get_search("lives").typed_results()
    assert other.get_search("lives").num_results() > 0
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(IntegrationError):
        other.searches.load(tmp_path / "bad.json")


def test_views_follow_a_power_cycle(airstriker: Any) -> None:
    em, data, state = airstriker
    em.power_cycle()
    em.set_state(state)
    data.update_ram()
    assert data["lives"] == 3
    data.set_value("lives", 4)
    assert data.memory.extract(LIVES, ">u2") == 4


def test_v0_alias_loads_the_integration() -> None:
    assert GameData(GAME + "-v0", data="retro", scenario="retro").list_variables() == GameData(GAME, data="retro", scenario="retro").list_variables()


def test_rom_sha_matches_the_provisioned_rom(airstriker_rom: Path) -> None:
    sha = hashlib.sha1(airstriker_rom.read_bytes()).hexdigest()
    assert sha in Path(rd.get_file_path(GAME, "rom.sha")).read_text().split()

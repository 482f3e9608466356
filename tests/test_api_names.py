"""Gym Retro's and stable-retro's public names that scripts and integration tools use, with their meaning.

Each test uses the name as those projects' users do and checks what it does:
``retro.retro_env``, ``retro.core_path``/``get_core_path``, the FBNeo names,
``retro.data``'s core-info and ROM names and keyword spellings, the systems
(``FBNeo``, ``SCD``, N64's extensions, ``keybinds``), the emulator's
rotation, ``retro.rendering``, ``playback_movie``/``load_movie``, the
examples' classes and the Sega Classics importer.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import inspect
import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

import retro
import retro.cores
import retro.data
import retro.systems
from retro.data import DefaultIntegrations, Integrations

GENESIS_KEYBINDS = ["X", "Z", "TAB", "ENTER", "UP", "DOWN", "LEFT", "RIGHT", "C", "A", "S", "D"]


pytestmark = pytest.mark.usefixtures("integration_settings")  # custom paths and defaults put back after each test


@pytest.fixture
def systems_restored() -> Iterator[None]:
    """The system tables as they were, after a test that registers systems."""
    saved = [(table, dict(table)) for table in (retro.systems.SYSTEMS, retro.systems.EMU_INFO,
                                                 retro.systems.EMU_CORES, retro.systems.EMU_EXTENSIONS,
                                                 retro.systems.SYSTEM_ALIASES)]
    yield
    for table, copy in saved:
        table.clear()
        table.update(copy)


def _custom_game(root: Path, game: str, rom: bytes, ext: str, **metadata: Any) -> Path:
    """A custom integration folder whose ``rom.sha`` knows ``rom`` (which is not put in it)."""
    folder = root / game
    folder.mkdir(parents=True)
    (folder / "rom.sha").write_text(hashlib.sha1(rom).hexdigest() + "\n")
    (folder / "data.json").write_text(json.dumps({"info": {"lives": {"address": 0, "type": "|u1"}}}))
    (folder / "scenario.json").write_text(json.dumps({"reward": {"variables": {}}, "done": {"variables": {}}}))
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder


# -- modules and top-level names ----------------------------------------------------------------

def test_retro_env_module_holds_retro_env() -> None:
    from retro.retro_env import RetroEnv

    assert RetroEnv is retro.RetroEnv and retro.retro_env.RetroEnv is retro.RetroEnv


def test_core_path_names_the_cores_folder_and_sets_it_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from retro import paths

    monkeypatch.setattr(retro.cores, "_core_path", None)
    monkeypatch.delenv("RETRO_CORE_PATH", raising=False)
    assert retro.core_path() == str(paths.cores_dir())
    # RETRO_CORE_PATH wins over a hint, which is then not taken
    monkeypatch.setenv("RETRO_CORE_PATH", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    assert retro.core_path() == retro.core_path(tmp_path / "ignored") == str(tmp_path / "a")
    monkeypatch.delenv("RETRO_CORE_PATH")
    # otherwise the first hint decides the folder, which is then searched first
    stella = retro.cores.find_core("stella")
    assert stella is not None
    (tmp_path / "mine").mkdir()
    os.symlink(stella.path, tmp_path / "mine" / "stella_libretro.so")
    assert retro.core_path(tmp_path / "mine") == str(tmp_path / "mine") == retro.core_path()
    assert retro.core_path(tmp_path / "later") == str(tmp_path / "mine")  # decided once, as in Gym Retro
    found = retro.cores.core_for_system("Atari2600")
    assert (found.provider, found.path) == ("core_path", str(tmp_path / "mine" / "stella_libretro.so"))
    assert retro.get_core_path("Atari2600") == found.path
    # a core missing from it is found where it was
    assert retro.cores.core_for_system("Nes").provider != "core_path"


def test_get_core_path_takes_a_system_as_corename() -> None:
    genesis = retro.get_core_path(corename="Genesis")
    assert genesis.endswith("genesis_plus_gx_libretro.so") and os.path.isfile(genesis)
    assert retro.get_core_path("FBNeo") == retro.get_core_path("Arcade")
    assert retro.get_core_path("fceumm").endswith("fceumm_libretro.so")  # a core's own name works too
    with pytest.raises(KeyError):
        retro.get_core_path("NoSuchSystem")


def test_fbneo_names_read_the_metadata(tmp_path: Path) -> None:
    assert retro.get_fbneo_rom_name("MortalKombat2-Arcade") == "mk2.zip"
    assert retro.is_fbneo_game("MortalKombat2-Arcade") is True
    assert retro.get_fbneo_rom_name("Airstriker-Genesis") is None
    assert retro.is_fbneo_game("Airstriker-Genesis") is False
    broken = _custom_game(tmp_path, "Broken-Arcade", b"x", ".zip")
    (broken / "metadata.json").write_text("{not json")
    Integrations.add_custom_path(str(tmp_path))
    assert retro.get_fbneo_rom_name("Broken-Arcade", Integrations.CUSTOM_ONLY) is None
    assert retro.is_fbneo_game("Broken-Arcade", inttype=Integrations.CUSTOM_ONLY) is False


# -- systems ---------------------------------------------------------------------------------------

def test_unknown_system_is_a_key_error_and_a_value_error() -> None:
    with pytest.raises(KeyError) as caught:
        retro.get_system_info("Nope")
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, retro.UnknownSystemError)
    assert str(caught.value).startswith("unknown system 'Nope'")  # a sentence, not a quoted key


def test_fbneo_is_the_arcade_system() -> None:
    assert retro.get_system_info("FBNeo") is retro.get_system_info("Arcade")
    assert retro.data.EMU_CORES["FBNeo"] == retro.data.EMU_CORES["Arcade"] == "fbneo_libretro.so"
    assert retro.cores.core_for_system("FBNeo").name == "fbneo"


def test_an_emulator_takes_fbneo_as_a_system(tmp_path: Path) -> None:
    rom = tmp_path / "noset.zip"
    with zipfile.ZipFile(rom, "w") as archive:
        archive.writestr("junk.bin", bytes(1024))
    with retro.RetroEmulator(rom, system="FBNeo") as em:
        assert (em.system, em.core.name) == ("Arcade", "fbneo")


def test_sega_cd_and_n64_extensions_as_stable_retro_declares_them() -> None:
    assert retro.get_romfile_system("game.scd") == "SCD"
    assert retro.get_system_info("SCD")["lib"] == "genesis_plus_gx"
    assert retro.get_system_info("SCD")["buttons"] == retro.get_system_info("Genesis")["buttons"]
    for ext in ("n64", "v64", "z64", "bin", "u1", "ndd"):
        assert retro.get_romfile_system("game." + ext) == "N64"


def test_a_system_whose_core_is_missing_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rom = tmp_path / "disc.scd"
    rom.write_bytes(b"SEGADISCSYSTEM  " + bytes(4096))
    monkeypatch.setattr(retro.cores, "providers", lambda: [("provisioned", tmp_path / "no-cores")])
    with pytest.raises(retro.CoreNotFoundError) as caught:
        retro.RetroEmulator(rom)
    message = str(caught.value)
    assert "SCD" in message and "genesis_plus_gx" in message and retro.cores.PROVISION_COMMAND in message
    with pytest.raises(retro.CoreNotFoundError):
        retro.get_core_path("SCD")


def test_every_system_has_a_key_per_button() -> None:
    for system in retro.systems.system_names():
        info = retro.get_system_info(system)
        assert len(info["keybinds"]) == len(info["buttons"]), system
        # no key for an unused joypad id
        assert all(key is None for key, button in zip(info["keybinds"], info["buttons"]) if button is None), system
    assert retro.get_system_info("Genesis")["keybinds"] == GENESIS_KEYBINDS
    assert retro.systems.SYSTEMS["Snes"].keybinds[retro.systems.SYSTEMS["Snes"].button_index("L")] == "Q"


def test_core_info_loads_from_folders_and_text(tmp_path: Path, systems_restored: None) -> None:
    doc = {"TestSys": {"lib": "stella", "ext": ["tsy"], "buttons": ["FIRE"], "keybinds": ["Z"],
                       "actions": [[[], ["FIRE"]]]}}
    (tmp_path / "test.json").write_text(json.dumps(doc))
    assert retro.data.init_core_info(str(tmp_path)) is None
    assert retro.get_system_info("TestSys")["ext"] == ["tsy"]
    assert retro.get_romfile_system("x.tsy") == "TestSys"
    assert retro.data.EMU_CORES["TestSys"] == "stella_libretro." + retro.data.EXT
    doc2 = {"OtherSys": dict(doc["TestSys"], ext=["osy"])}
    assert retro.RetroEmulator.load_core_info(json.dumps(doc2)) is True
    assert retro.get_romfile_system("x.osy") == "OtherSys"
    with pytest.raises(retro.IntegrationError):
        retro.RetroEmulator.load_core_info("{broken")


def test_ext_is_the_core_library_extension() -> None:
    assert retro.data.EXT == "so"
    assert all(name.endswith("." + retro.data.EXT) for name in retro.data.EMU_CORES.values())


# -- the emulator --------------------------------------------------------------------------------------------

def test_rotation_is_what_the_core_reports(airstriker_rom: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with retro.RetroEmulator(airstriker_rom) as em:
        assert em.get_rotation() == 0 == em.rotation
        plain = em.get_screen()
        assert np.array_equal(em.get_screen(apply_rotation=True), plain)
        monkeypatch.setattr(em, "get_rotation", lambda: 1)  # as a core that asks for a quarter turn
        turned = em.get_screen(apply_rotation=True)
        assert turned.shape == (plain.shape[1], plain.shape[0], 3)
        assert np.array_equal(turned, np.rot90(plain))
        out = np.empty_like(turned)
        assert em.get_screen(out, apply_rotation=True) is out and np.array_equal(out, turned)
        with pytest.raises(ValueError):
            em.get_screen(np.empty_like(plain), apply_rotation=True)
        assert np.array_equal(em.get_screen(), plain)  # without apply_rotation, as the core gives it


# -- retro.data -----------------------------------------------------------------------------------------------

def test_custom_paths_is_the_list_of_custom_folders(tmp_path: Path) -> None:
    Integrations.clear_custom_paths()
    Integrations.CUSTOM_PATHS.append(str(tmp_path))
    assert Integrations.custom_paths() == [str(tmp_path)] == Integrations.STABLE.CUSTOM_PATHS
    assert str(tmp_path) in Integrations.CUSTOM.paths
    Integrations.add_custom_path("other")
    assert Integrations.CUSTOM_PATHS == [str(tmp_path), "other"]


def test_add_integrations_takes_integrations_or_flags() -> None:
    DefaultIntegrations.reset()
    retro.data.add_integrations(integrations=Integrations.CONTRIB_ONLY)
    assert Integrations.DEFAULT.resolve() == Integrations.CONTRIB
    retro.data.add_integrations(flags=Integrations.EXPERIMENTAL_ONLY)
    assert "experimental" in Integrations.DEFAULT.paths
    with pytest.raises(TypeError):
        retro.data.add_integrations(Integrations.ALL, flags=Integrations.ALL)


def test_groom_rom_takes_the_open_file_as_r(tmp_path: Path) -> None:
    rom = tmp_path / "game.nes"
    rom.write_bytes(b"NES\x1a" + bytes(12) + b"body")
    with open(rom, "rb") as r:
        assert retro.data.groom_rom(str(rom), r=r) == (rom.read_bytes(), hashlib.sha1(b"body").hexdigest())
    with open(rom, "rb") as f:
        assert retro.data.groom_rom(str(rom), fileobj=f)[1] == hashlib.sha1(b"body").hexdigest()
    with open(rom, "rb") as f, pytest.raises(TypeError):
        retro.data.groom_rom(str(rom), f, fileobj=f)


def test_original_romfile_path_and_merge_keep_the_set_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a game whose metadata names no original file: its rom.<ext>
    assert retro.data.get_original_romfile_path("Airstriker-Genesis") == retro.data.get_romfile_path(
        "Airstriker-Genesis")
    monkeypatch.setenv("RETRO_HOME", str(tmp_path / "home"))
    romset = tmp_path / "download.zip"
    with zipfile.ZipFile(romset, "w") as archive:
        archive.writestr("chip.bin", b"\x01\x02" * 64)
    _custom_game(tmp_path / "custom", "FakeSet-Arcade", romset.read_bytes(), ".zip", system="FBNeo",
                 original_rom_name="fakeset.zip")
    Integrations.add_custom_path(str(tmp_path / "custom"))
    assert retro.data.merge(str(romset)) == 1
    store = tmp_path / "home" / "games" / "FakeSet-Arcade"
    assert (store / "rom.zip").read_bytes() == (store / "fakeset.zip").read_bytes() == romset.read_bytes()
    assert retro.data.get_original_romfile_path("FakeSet-Arcade", Integrations.CUSTOM) == str(store / "fakeset.zip")
    assert retro.data.get_romfile_path("FakeSet-Arcade", Integrations.CUSTOM) == str(store / "rom.zip")
    assert retro.is_fbneo_game("FakeSet-Arcade", Integrations.CUSTOM)
    with pytest.raises(FileNotFoundError):
        retro.data.get_original_romfile_path("MortalKombat2-Arcade")  # no ROM imported


def test_gamedata_keyword_names(tmp_path: Path, airstriker_rom: Path) -> None:
    data = retro.data.GameData("Airstriker-Genesis")
    data.save(str(tmp_path / "data.json"), scen=str(tmp_path / "scen.json"))
    data.save(scenario=str(tmp_path / "scen2.json"))
    assert json.loads((tmp_path / "scen.json").read_text()) == json.loads((tmp_path / "scen2.json").read_text())
    other = retro.data.GameData()
    assert other.load(str(tmp_path / "data.json"), scen=str(tmp_path / "scen.json")) is True
    assert other.list_variables() == data.list_variables() and "lives" in other.vars
    with pytest.raises(TypeError):
        other.load(scen=str(tmp_path / "scen.json"), scenario=str(tmp_path / "scen.json"))
    with retro.RetroEmulator(airstriker_rom) as em:
        other.configure(em)
        other.set_value("lives", val=2)
        assert other.lookup_value("lives") == 2
        other.set_value("lives", value=3)
        assert other["lives"] == 3
        with pytest.raises(TypeError):
            other.set_value("lives")
        other.searches["lives"].search(3)
        count = other.searches["lives"].num_results()  # SearchHandle reads through to the Search
        other.searches.save(name=str(tmp_path / "searches.json"))
        again = retro.data.GameData()
        again.configure(em)
        again.searches.load(name=str(tmp_path / "searches.json"))
        assert "lives" in again.searches and again.searches["lives"].num_results() == count > 0
        again.searches.load(path=str(tmp_path / "searches.json"))
        with pytest.raises(TypeError):
            again.searches.save()


# -- rendering ------------------------------------------------------------------------------------------------

def test_get_display_takes_none_or_a_name() -> None:
    from retro.rendering import Display, get_display

    assert get_display(None) == Display(None) and get_display(":0").name == ":0"
    with pytest.raises(ValueError, match="Invalid display specification"):
        get_display(0)  # type: ignore[arg-type]


def test_get_window_needs_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    from retro.rendering import get_window

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(retro.ConfigurationError, match="no display"):
        get_window(64, 48, None)
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    import pygame

    try:
        window = get_window(64, 48, None, caption="t", resizable=True, vsync=False)
        assert window.get_size() == (64, 48) and pygame.display.get_caption()[0] == "t"
        with pytest.raises(TypeError):
            get_window(64, 48, None, colour="red")
    finally:
        pygame.display.quit()


def test_image_viewer_shows_frames_turned_and_scaled(monkeypatch: pytest.MonkeyPatch) -> None:
    import pygame

    from retro.rendering import SimpleImageViewer

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    frame = np.zeros((10, 20, 3), np.uint8)
    frame[0, :, 0] = 255  # the top row red
    frame[:, 0, 1] = 255  # the left column green
    viewer = SimpleImageViewer()
    assert viewer.isopen is False and viewer.window is None  # nothing opens before a frame
    viewer.imshow(frame, rotation=1)
    assert viewer.isopen and viewer.window.get_size() == (10, 20)
    shown = pygame.surfarray.array3d(viewer.window).swapaxes(0, 1)
    assert np.array_equal(shown, np.rot90(frame, 1))  # a quarter turn counter-clockwise: the top row is the left
    viewer.close()
    assert not viewer.isopen
    wide = SimpleImageViewer(maxwidth=500)
    assert wide.window_size((100, 1000, 3)) == (500, 50)
    assert SimpleImageViewer(maxwidth=None, min_width=640).window_size((224, 320, 3)) == (640, 448)


# -- movies ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def movie_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("movie")
    env = retro.make("Airstriker-Genesis", record=str(folder))
    env.reset()
    rng = np.random.default_rng(7)
    for _ in range(90):
        env.step(rng.integers(0, 2, env.action_space.shape))
    env.close()
    return next(folder.glob("*.bk2"))


def test_playback_movie_has_stable_retros_signature() -> None:
    from retro.scripts import playback_movie as pm

    names = list(inspect.signature(pm.playback_movie).parameters)
    assert names[:10] == ["emulator", "movie", "monitor_csv", "video_file", "info_file", "npy_file", "viewer",
                          "video_delay", "lossless", "record_audio"]
    assert list(inspect.signature(pm.load_movie).parameters) == ["movie_file"]


def test_load_movie_and_playback_movie_replay_as_the_file_call_does(movie_file: Path, tmp_path: Path) -> None:
    from retro.scripts.playback_movie import load_movie, playback_movie

    env, movie, duration = load_movie(movie_file)
    assert duration == 90 and movie.get_game() == "Airstriker-Genesis"
    monitor = io.StringIO()
    writer = csv.DictWriter(monitor, fieldnames=["r", "l", "t"])
    writer.writeheader()
    try:
        assert playback_movie(env, movie, writer, str(tmp_path / "v.mp4"), str(tmp_path / "i.json"),
                              str(tmp_path / "a.npz"), None, 30, None, True) is None
    finally:
        env.close()
    rows = list(csv.DictReader(io.StringIO(monitor.getvalue())))
    assert len(rows) == 1 and rows[0]["l"] == "90" and float(rows[0]["t"]) == 1.5
    legacy = np.load(tmp_path / "a.npz", allow_pickle=True)
    assert legacy["actions"].shape == (90, 12) and len(legacy["info"]) == 90
    assert not (tmp_path / "i.json").exists()  # with npy_file the info goes in the .npz, as in Gym Retro
    assert (tmp_path / "v.mp4").stat().st_size > 0
    copy = tmp_path / "copy.bk2"
    shutil.copyfile(movie_file, copy)
    summary = playback_movie(copy, video=False, audio=False, info_dict=True, npy_actions=True)
    assert summary is not None and summary["frames"] == 90
    ours = np.load(tmp_path / "copy.npz", allow_pickle=True)
    assert np.array_equal(ours["actions"], legacy["actions"])
    assert [dict(a) for a in ours["info"]] == [dict(b) for b in legacy["info"]]


def test_playback_movie_refuses_mixed_calls(movie_file: Path) -> None:
    from retro.scripts.playback_movie import playback_movie

    with pytest.raises(TypeError):
        playback_movie(str(movie_file), video_file="x.mp4")
    with pytest.raises(TypeError):
        playback_movie(object(), None)


# -- examples --------------------------------------------------------------------------------------------------

def test_sonic_discretizer_gives_sonics_seven_moves() -> None:
    from retro.examples.discretizer import SonicDiscretizer

    env = SonicDiscretizer(retro.make("Airstriker-Genesis"))  # any Genesis game has Sonic's buttons
    try:
        assert env.action_space.n == 7
        buttons = env.unwrapped.buttons
        pressed = [buttons[i] for i in np.flatnonzero(env.action(5))]
        assert sorted(pressed) == ["B", "DOWN"]
    finally:
        env.close()


class _FakeEnv:
    """Counts steps and keeps the actions; 5-tuple steps (Gymnasium) or 4-tuple (classic)."""

    def __init__(self, gymnasium_api: bool) -> None:
        self.gymnasium_api = gymnasium_api
        self.actions: list[Any] = []
        self.closed = False
        self.resets = 0

    def reset(self) -> Any:
        self.resets += 1
        obs = np.zeros((24, 32, 3), np.uint8)
        return (obs, {}) if self.gymnasium_api else obs

    def step(self, act: Any) -> tuple[Any, ...]:
        self.actions.append(act)
        obs = np.full((24, 32, 3), len(self.actions), np.uint8)
        done = len(self.actions) == 3
        return (obs, 1.0, done, False, {}) if self.gymnasium_api else (obs, 1.0, done, {})

    def close(self) -> None:
        self.closed = True


def test_interactive_steps_with_the_keys(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import pygame

    from retro.examples.interactive import Interactive

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")

    class Keys(Interactive):
        def get_image(self, obs: Any, venv: Any) -> np.ndarray:
            return obs

        def keys_to_act(self, keys: list[str]) -> Any:
            return sorted(keys) if keys or not self._sync else None

    for gymnasium_api in (True, False):
        env = _FakeEnv(gymnasium_api)
        sync = Keys(env, sync=True, tps=60)
        assert env.resets == 1 and sync._image.shape == (24, 32, 3)
        sync._update(1 / 60)
        assert env.actions == []  # sync: nothing clicked, no step
        sync._key_handler[pygame.K_z] = True
        sync._update(1 / 60)
        sync._update(1 / 60)  # still held: not clicked again
        assert env.actions == [["Z"]]
        sync._key_handler[pygame.K_RETURN] = True
        sync._key_handler[pygame.K_z] = False
        sync._update(1 / 60)
        assert env.actions == [["Z"], ["ENTER", "RETURN"]]

        held = _FakeEnv(gymnasium_api)
        live = Keys(held, sync=False, tps=60)
        live._key_handler[pygame.K_UP] = True
        live._update(3 / 60)  # three steps' time: three steps with the key held, then done resets the env
        assert held.actions == [["UP"]] * 3 and held.resets == 2
        live._draw()
    pygame.display.quit()
    assert "steps=1" in capsys.readouterr().out


def test_retro_interactive_presses_the_buttons_of_the_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    import pygame

    from retro.examples.interactive import RetroInteractive

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    game = RetroInteractive("Airstriker-Genesis", retro.State.DEFAULT, None, False)
    try:
        seen: list[Any] = []
        step = game._env.step
        monkeypatch.setattr(game._env, "step", lambda act: seen.append(list(act)) or step(act))
        game._key_handler[pygame.K_x] = True  # B
        game._key_handler[pygame.K_RIGHT] = True
        game._update(1 / 60)
        buttons = game._buttons
        assert len(seen) == 1 and sorted(b for b, on in zip(buttons, seen[0]) if on) == ["B", "RIGHT"]
        assert game.get_image(None, game._env).shape == (224, 320, 3)
    finally:
        game._env.close()
        pygame.display.quit()


def test_interactive_without_a_display_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from retro.examples.interactive import RetroInteractive

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(retro.ConfigurationError, match="no display"):
        RetroInteractive("Airstriker-Genesis", retro.State.DEFAULT, None, False)


# -- the Sega Classics importer ----------------------------------------------------------------------------------

def test_import_sega_classics_from_a_steam_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from retro.scripts import import_sega_classics as isc

    monkeypatch.setenv("RETRO_HOME", str(tmp_path / "home"))
    sega = b"\x00" * 0x100 + b"SEGA GENESIS    " + b"\x4e\x71" * 200
    other = b"\x00" * 0x100 + b"SEGA MEGA DRIVE " + b"\x4e\x75" * 150
    _custom_game(tmp_path / "custom", "FakeClassic-Genesis", sega, ".md")
    _custom_game(tmp_path / "custom", "OtherClassic-Genesis", other, ".md")
    Integrations.add_custom_path(str(tmp_path / "custom"))
    # a Steam install whose library list names a second library, which holds the collection
    steam, library = tmp_path / "Steam", tmp_path / "Games"
    (steam / "steamapps").mkdir(parents=True)
    (steam / "steamapps" / "libraryfolders.vdf").write_text(
        '"libraryfolders"\n{\n\t"0"\n\t{\n\t\t"path"\t\t"%s"\n\t}\n\t"1"\n\t{\n\t\t"path"\t\t"%s"\n\t}\n}\n'
        % (steam, library))
    roms = library / "steamapps" / "common" / "Sega Classics" / "uncompressed ROMs"
    roms.mkdir(parents=True)
    (roms / "FAKE.68K").write_bytes(sega)
    (roms / "OTHER_U.SGD").write_bytes(other)
    (roms / "UNKNOWN.68K").write_bytes(b"nothing known")
    (roms.parent / "SEGAGameRoom.exe").write_bytes(b"MZ")  # not in a ROM folder: not looked at

    assert isc.find_collection([steam]) == roms.parent
    assert isc.find_roms(library) == sorted(str(p) for p in roms.iterdir())
    report = isc.import_sega_classics(roms.parent, log=lambda line: None)
    assert report.imported_games == {"FakeClassic-Genesis", "OtherClassic-Genesis"}
    store = tmp_path / "home" / "games"
    assert (store / "FakeClassic-Genesis" / "rom.md").read_bytes() == sega
    assert retro.data.get_romfile_path("OtherClassic-Genesis", Integrations.CUSTOM) == str(
        store / "OtherClassic-Genesis" / "rom.md")
    # again, from the command line: already there
    assert isc.main([str(library), "-q"]) == 0
    assert "already present" in capsys.readouterr().out
    with pytest.raises(retro.RomNotFoundError):
        isc.import_sega_classics(tmp_path / "custom")
    module = importlib.import_module("retro.import.sega_classics")
    assert module.main is isc.main

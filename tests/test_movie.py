"""Movies: .bk2 in both dialects, .fm2, round trips on real cores, hostile files."""

from __future__ import annotations

import hashlib
import json

import io
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retro
from retro import RetroEmulator
from retro.errors import MovieFormatError
from retro.movie import BIZHAWK_LAYOUTS, ZSTD_MAGIC, Movie
from retro.systems import SYSTEMS


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def fake_emulator(system: str, tmp_path: Path) -> SimpleNamespace:
    rom = tmp_path / "rom.bin"
    rom.write_bytes(b"rom")
    return SimpleNamespace(system=system, rom_path=str(rom))


def recordable_mask(system: str, mask: int) -> int:
    """The part of a mask a movie carries: every button the system has."""
    return mask & sum(1 << i for i, name in enumerate(SYSTEMS[system].buttons) if name)


@pytest.mark.parametrize("dialect", ["gym", "bizhawk"])
@pytest.mark.parametrize("state", [ZSTD_MAGIC, ZSTD_MAGIC + b"\x00" * 60, ZSTD_MAGIC + bytes(range(200))],
                         ids=["magic", "magic-zeros", "magic-bytes"])
def test_state_starting_with_zstd_magic_round_trips(tmp_path, dialect, state):
    """A raw state that happens to start with the zstd magic is stored compressed and reads back as itself."""
    path = tmp_path / "m.bk2"
    with Movie(path, True, 1, dialect=dialect) as m:
        m.configure("Some-Game", fake_emulator("Genesis", tmp_path))
        m.set_state(state)
        m.step()
    with zipfile.ZipFile(path) as zf:
        stored = zf.read("Core.bin")
    assert stored != state and stored.startswith(ZSTD_MAGIC)
    assert Movie(path).get_state() == state


def test_ordinary_state_is_stored_raw(tmp_path):
    """Gym Retro's readers take Core.bin raw: a state without the magic is not compressed."""
    path = tmp_path / "m.bk2"
    state = b"\x01" * 100
    with Movie(path, True, 1) as m:
        m.configure("Some-Game", fake_emulator("Genesis", tmp_path))
        m.set_state(state)
        m.step()
    with zipfile.ZipFile(path) as zf:
        assert zf.read("Core.bin") == state


@settings(max_examples=60, deadline=None)
@given(system=st.sampled_from(sorted(SYSTEMS)),
       players=st.integers(1, 4),
       dialect=st.sampled_from(["gym", "bizhawk"]),
       data=st.data())
def test_write_read_round_trip(tmp_path_factory, system, players, dialect, data):
    tmp = tmp_path_factory.mktemp("movie")
    n = data.draw(st.integers(0, 40))
    masks = data.draw(st.lists(st.lists(st.integers(0, 0xFFFF), min_size=players, max_size=players),
                               min_size=n, max_size=n))
    state = data.draw(st.binary(max_size=64))
    path = tmp / "m.bk2"
    if dialect == "bizhawk" and system not in BIZHAWK_LAYOUTS:
        unwritable = Movie(path, True, players, dialect=dialect)
        with pytest.raises(MovieFormatError, match="dialect='gym'"):
            unwritable.configure("Some-Game", fake_emulator(system, tmp))
        return
    with Movie(path, True, players, dialect=dialect) as m:
        m.configure("Some-Game", fake_emulator(system, tmp))
        m.set_state(state)
        for frame in masks:
            for p, mask in enumerate(frame):
                for b in range(len(SYSTEMS[system].buttons)):
                    m.set_key(b, bool(mask >> b & 1), p)
            m.step()
    r = Movie(path)
    assert (r.players, r.get_game(), r.get_state(), r.system) == (players, "Some-Game", state, system)
    info = SYSTEMS[system]
    # BizHawk logs these as console switches: player 1's press survives, others' cannot be written
    console_only = {"Atari2600": ("RESET", "SELECT"), "Sms": ("PAUSE",)}.get(system, ()) if dialect == "bizhawk" else ()
    for frame in masks:
        assert r.step()
        expected = [recordable_mask(system, m & ((1 << len(info.buttons)) - 1)) for m in frame]
        for name in console_only:
            bit = info.buttons.index(name)
            expected = [expected[0]] + [e & ~(1 << bit) for e in expected[1:]]
        for p in range(players):
            got = sum(1 << b for b in range(16) if r.get_key(b, p))
            assert got == expected[p]
    assert not r.step()


def test_gym_dialect_is_what_gym_retro_writes(tmp_path):
    with Movie(tmp_path / "g.bk2", True, 1) as m:
        m.configure("Airstriker-Genesis", fake_emulator("Genesis", tmp_path))
        m.step()
        m.set_key(0, True)  # B
        m.step()
        for b in range(12):
            m.set_key(b, True)
        m.step()
    with zipfile.ZipFile(tmp_path / "g.bk2") as zf:
        # no state: an empty Core.bin (Gym Retro writes none, but its reader refuses a movie without one)
        assert zf.namelist() == ["Input Log.txt", "Header.txt", "Core.bin"] and zf.read("Core.bin") == b""
        log = zf.read("Input Log.txt").decode()
        header = zf.read("Header.txt").decode().splitlines()
    assert log == ("[Input]\nP1 Z|P1 X|P1 Y|P1 C|P1 Right|P1 Left|P1 Down|P1 Up|P1 Start|P1 Mode|P1 A|P1 B|\n"
                   "|..|............|\n|..|...........B|\n|..|ZXYCRLDUSMAB|\n[/Input]")
    assert header[0] == "MovieVersion Retro" and "Platform GEN" in header and "GameName Airstriker-Genesis" in header


def test_atari_reset_switch_is_recorded(tmp_path):
    reset = SYSTEMS["Atari2600"].buttons.index("RESET")
    with Movie(tmp_path / "a.bk2", True, 2) as m:
        m.configure("Pong-Atari2600", fake_emulator("Atari2600", tmp_path))
        m.set_key(reset, True, 0)
        m.set_key(0, True, 1)
        m.step()
    with zipfile.ZipFile(tmp_path / "a.bk2") as zf:
        lines = zf.read("Input Log.txt").decode().splitlines()
    assert lines[1] == "P1 Right|P1 Left|P1 Down|P1 Up|P1 Reset|P1 Select|P1 Button|" + \
        "P2 Right|P2 Left|P2 Down|P2 Up|P2 Reset|P2 Select|P2 Button|"
    assert lines[2] == "|..|....e..|......B|"
    r = Movie(tmp_path / "a.bk2")
    r.step()
    assert r.get_key(reset, 0) and r.get_key(0, 1) and not r.get_key(reset, 1)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_bizhawk_movie_written_by_hand(tmp_path):
    log = ("[Input]\r\n"
           "LogKey:#Reset|Power|#P1 Up|P1 Down|P1 Left|P1 Right|P1 Start|P1 Select|P1 B|P1 A|\r\n"
           "|..|...R...A|\r\n"
           "|.P|........|\r\n"
           "|r.|U.......|\r\n"
           "[/Input]\r\n")
    path = _zip(tmp_path / "bh.bk2", {
        "Header.txt": b"MovieVersion BizHawk v2.0.0\r\nPlatform NES\r\nGameName Test\r\nCore NesHawk\r\n",
        "Input Log.txt": log.encode(), "Comments.txt": b"", "SyncSettings.json": b"{}"})
    m = Movie(path)
    nes = SYSTEMS["Nes"].buttons
    assert m.players == 1 and m.get_state() == b"" and m.system == "Nes"
    assert m.step() and m.get_key(nes.index("RIGHT")) and m.get_key(nes.index("A")) and not m.get_key(nes.index("B"))
    assert m.step() and m.get_console() == 0b10 and m.masks() == [0]
    assert m.step() and m.get_console() == 0b01 and m.masks() == [1 << nes.index("UP")]
    assert not m.step()


def test_bizhawk_axes_and_zstd_core_bin(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    log = ("[Input]\nLogKey:#Power|Reset|#P1 X Axis|P1 Up|P1 A|\n"
           "|..|  127,U.|\n|..| -128,.A|\n[/Input]\n")
    state = bytes(range(256)) * 4
    path = _zip(tmp_path / "ax.bk2", {
        "Header.txt": b"Platform GEN\nGameName Axes\n", "Input Log.txt": log.encode(),
        "Core.bin": zstandard.ZstdCompressor().compress(state)})
    m = Movie(path)
    gen = SYSTEMS["Genesis"].buttons
    assert m.get_state() == state
    assert m.step() and m.masks() == [1 << gen.index("UP")]
    assert m.step() and m.masks() == [1 << gen.index("A")]


def test_fm2(tmp_path):
    text = ("version 3\nemuVersion 20604\nport0 1\nport1 1\nport2 0\n"
            "|0|R......A|........||\n|1|........|...U....||\n")
    path = tmp_path / "m.fm2"
    path.write_text(text)
    m = Movie(path)
    nes = SYSTEMS["Nes"].buttons
    assert m.players == 2 and m.get_state() == b""
    assert m.step() and m.masks() == [(1 << nes.index("RIGHT")) | (1 << nes.index("A")), 0]
    assert m.step() and m.get_console() == 1 and m.masks() == [0, 1 << nes.index("UP")]
    assert not m.step()


def test_gym_retro_recording_from_its_documented_format_replays(airstriker_rom, tmp_path):
    """A movie in exactly the bytes Gym Retro writes (key line in descending order, no LogKey,
    Core.bin = raw state) replays to the same frames as playing the inputs directly."""
    with RetroEmulator(airstriker_rom) as em:
        em.step(60)
        state = em.get_state()
        names = ["Z", "X", "Y", "C", "Right", "Left", "Down", "Up", "Start", "Mode", "A", "B"]
        chars = "ZXYCRLDUSMAB"
        index = {"B": 0, "A": 1, "Mode": 2, "Start": 3, "Up": 4, "Down": 5, "Left": 6, "Right": 7,
                 "C": 8, "Y": 9, "X": 10, "Z": 11}
        rng = np.random.default_rng(3)
        lines, direct = [], []
        for _ in range(240):
            pressed = rng.random(12) < 0.3
            line = "|..|" + "".join(c if pressed[k] else "." for k, c in enumerate(chars)) + "|"
            lines.append(line)
            em.set_button_mask(sum(1 << index[n] for k, n in enumerate(names) if pressed[k]))
            em.step()
            direct.append(digest(em.get_screen()))
        key = "".join(f"P1 {n}|" for n in names)
        log = "[Input]\n" + key + "\n" + "\n".join(lines) + "\n[/Input]"
        header = "MovieVersion Retro\nAuthor ?\nemuVersion ?\nPlatform GEN\nGameName Airstriker-Genesis\nSHA1 ?\nCore ?\nrerecordCount 1\n"
        path = _zip(tmp_path / "gym.bk2", {"Input Log.txt": log.encode(), "Header.txt": header.encode(),
                                           "Core.bin": state})
        movie = Movie(path)
        assert movie.get_game() == "Airstriker-Genesis"
        em.set_state(movie.get_state())
        replay = []
        while movie.step():
            em.set_button_mask([movie.get_key(b, 0) for b in range(12)])
            em.step()
            replay.append(digest(em.get_screen()))
        assert replay == direct


@pytest.mark.parametrize("dialect", ["gym", "bizhawk"])
def test_record_replay_on_real_cores(airstriker_rom, pong_rom, tmp_path, dialect):
    for rom, players in ((airstriker_rom, 1), (pong_rom, 2)):
        with RetroEmulator(rom) as em:
            em.step(30)
            state = em.get_state()
            path = tmp_path / f"{Path(rom).stem}-{dialect}.bk2"
            rng = np.random.default_rng(11)
            played = []
            with Movie(path, True, players, dialect=dialect) as m:
                m.configure("Game", em)
                m.set_state(state)
                valid = sum(1 << i for i, name in enumerate(em.system_info.buttons) if name)
                for _ in range(300):
                    masks = [int(x) & valid for x in rng.integers(0, 1 << 12, size=players)]
                    m.append_frame(masks)
                    for p, mask in enumerate(masks):
                        em.set_button_mask(mask, p)
                    em.step()
                    played.append((digest(em.get_screen()), digest(em.get_ram())))
            movie = Movie(path)
            em.set_state(movie.get_state())
            replay = []
            while movie.step():
                for p, mask in enumerate(movie.masks()):
                    em.set_button_mask(mask, p)
                em.step()
                replay.append((digest(em.get_screen()), digest(em.get_ram())))
            assert replay == played


# -- hostile files ---------------------------------------------------------------------

GOOD_LOG = b"[Input]\nP1 Up|\n|..|U|\n[/Input]"
GOOD_HEADER = b"Platform NES\nGameName X\n"


@pytest.mark.parametrize("make,reason", [
    (lambda p: p.write_bytes(b"not a zip at all"), "zip"),
    (lambda p: p.write_bytes(_zip_bytes({"Header.txt": GOOD_HEADER, "Input Log.txt": GOOD_LOG})[:60]), "zip"),
    (lambda p: p.write_bytes(_zip_bytes({"Input Log.txt": GOOD_LOG})), "Header.txt"),
    (lambda p: p.write_bytes(_zip_bytes({"Header.txt": GOOD_HEADER})), "Input Log.txt"),
    (lambda p: p.write_bytes(_zip_bytes({"Header.txt": b"Platform DREAMCAST\n", "Input Log.txt": GOOD_LOG})), "Platform"),
    (lambda p: p.write_bytes(_zip_bytes({"Header.txt": GOOD_HEADER, "Input Log.txt": b"garbage\x00\xff"})), "Input"),
    (lambda p: p.write_bytes(_zip_bytes({"Header.txt": GOOD_HEADER, "Input Log.txt": b"[Input]\n\xff\xfe junk\n"})), "key line"),
    (lambda p: p.write_bytes(_zip_bytes({"Header.txt": GOOD_HEADER, "Input Log.txt": b"[Input]\nP99 Up|\n"})), "players"),
])
def test_malformed_movies_raise_movie_format_error(tmp_path, make, reason):
    path = tmp_path / "bad.bk2"
    make(path)
    with pytest.raises(MovieFormatError, match=reason):
        Movie(path)
    assert isinstance(MovieFormatError("x"), (retro.RetroError, ValueError))


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_bomb_is_refused_quickly(tmp_path):
    path = tmp_path / "bomb.bk2"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Header.txt", GOOD_HEADER)
        zf.writestr("Input Log.txt", GOOD_LOG)
        with zf.open("Core.bin", "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(80):  # 80 MiB of zeros, a few hundred KiB compressed
                f.write(chunk)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(MovieFormatError, match="allowed"):
        Movie(path)


def test_garbage_frame_lines_are_skipped(tmp_path):
    path = _zip(tmp_path / "g.bk2", {"Header.txt": GOOD_HEADER,
                                     "Input Log.txt": b"[Input]\nP1 Up|P1 A|\nhello\n|..|UQ?|\n\x00\x01\n|..|.A|\n[/Input]"})
    m = Movie(path)
    nes = SYSTEMS["Nes"].buttons
    assert len(m) == 2
    assert m.step() and m.masks() == [1 << nes.index("UP")]
    assert m.step() and m.masks() == [1 << nes.index("A")]


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(MovieFormatError, match="does not exist"):
        Movie(tmp_path / "nope.bk2")
    other = tmp_path / "movie.txt"
    other.write_text("x")
    with pytest.raises(MovieFormatError, match="neither"):
        Movie(other)


def test_recording_writes_atomically(tmp_path):
    path = tmp_path / "keep.bk2"
    path.write_bytes(b"the user's file")
    m = Movie(path, True, 1)
    m.configure("X", fake_emulator("Nes", tmp_path))
    m.step()
    assert path.read_bytes() == b"the user's file", "nothing is written before close()"
    m.close()
    assert zipfile.is_zipfile(path)
    assert not list(tmp_path.glob(".*.part"))


# -- recording from environments ----------------------------------------------------------

@pytest.mark.parametrize("game,players,episodes,max_steps", [
    ("Airstriker-Genesis", 1, 50, 200),
    ("Pong-Atari2600", 2, 50, 200),
])
def test_env_record_replay_50_episodes(tmp_path, game, players, episodes, max_steps):
    """Every reset starts <game>-<state>-NNNNNN.bk2; replaying each reproduces every frame."""
    env = retro.make(game, players=players, record=str(tmp_path))
    rng = np.random.default_rng(2)
    recorded = []
    for _ in range(episodes):
        env.reset()
        trace = []
        for _ in range(max_steps):
            _obs, _rew, done, _info = env.step(rng.integers(0, 2, env.action_space.n))
            trace.append(digest(env.em.get_screen()))
            if done:
                break
        recorded.append((trace, digest(env.get_ram())))
    env.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    state = env.statename[:-len(".state")]
    assert names == [f"{game}-{state}-{i:06d}.bk2" for i in range(episodes)]

    replayer = None
    for name, (trace, final_ram) in zip(names, recorded):
        movie = Movie(tmp_path / name)
        assert movie.players == players and movie.get_game() == game
        movie.step()
        if replayer is None:
            replayer = retro.make(game, state=None, players=players, use_restricted_actions=retro.Actions.ALL)
        replayer.initial_state = movie.get_state()
        replayer.reset()
        replay = []
        while movie.step():
            keys = [movie.get_key(i, p) for p in range(players) for i in range(replayer.num_buttons)]
            replayer.step(keys)
            replay.append(digest(replayer.em.get_screen()))
        assert replay == trace
        assert digest(replayer.get_ram()) == final_ram
    replayer.close()


def test_closing_the_env_finishes_the_movie(tmp_path):
    env = retro.make("Airstriker-Genesis", record=str(tmp_path))
    env.reset()
    for _ in range(10):
        env.step(env.action_space.sample())
    assert not list(tmp_path.glob("*.bk2")), "a movie appears whole, when it is finished"
    env.close()
    (movie,) = tmp_path.glob("*.bk2")
    assert len(Movie(movie)) == 11


def test_playback_script_renders_video_with_audio(tmp_path):
    import json
    import subprocess

    from retro.scripts import playback_movie

    env = retro.make("Airstriker-Genesis", record=str(tmp_path))
    env.reset()
    for _ in range(240):
        env.step(env.action_space.sample())
    env.close()
    (path,) = tmp_path.glob("*.bk2")
    assert playback_movie.main([str(path), "-i", "-c", str(tmp_path / "monitor.csv")]) == 0
    video = path.with_suffix(".mp4")
    assert video.is_file()
    probe = subprocess.run([playback_movie.ffmpeg_exe(), "-hide_banner", "-i", str(video), "-map", "0:v:0",
                            "-c", "copy", "-f", "null", "-"], capture_output=True, text=True).stderr
    assert "Video: h264" in probe and "320x224" in probe and "Audio: aac" in probe
    assert "59.92 fps" in probe
    frames = [line for line in probe.replace("\r", "\n").splitlines() if line.startswith("frame=")]
    assert frames and int(frames[-1].split("=")[1].split()[0]) == 240
    info = json.loads(path.with_suffix(".json").read_text())
    assert len(info) == 240 and "score" in info[0]
    monitor = (tmp_path / "monitor.csv").read_text().splitlines()
    assert monitor[0].startswith("#{") and monitor[1] == "r,l,t"
    assert playback_movie.main([str(path), "-V", "-a", "-i"]) == 0
    npz = np.load(path.with_suffix(".npz"), allow_pickle=True)
    assert npz["actions"].shape == (240, 12) and len(npz["info"]) == 240


def test_playback_lossless_ending_and_jobs(tmp_path):
    import subprocess

    from retro.scripts import playback_movie

    env = retro.make("Pong-Atari2600", record=str(tmp_path))
    for _ in range(2):
        env.reset()
        for _ in range(60):
            env.step(env.action_space.sample())
    env.close()
    first, second = sorted(tmp_path.glob("*.bk2"))
    assert playback_movie.main([str(first), "-L", "png", "-A", "-e", "-20"]) == 0
    video = first.with_suffix(".mkv")
    probe = subprocess.run([playback_movie.ffmpeg_exe(), "-hide_banner", "-i", str(video), "-f", "null", "-"],
                           capture_output=True, text=True).stderr
    assert "Video: png" in probe and "160x210" in probe and "Audio" not in probe
    frames = [line for line in probe.replace("\r", "\n").splitlines() if line.startswith("frame=")]
    assert int(frames[-1].split("=")[1].split()[0]) == 20, "-e -20 keeps the last 20 frames"
    assert playback_movie.main([str(first), str(second), "-j", "2", "-V", "-i", "-e", "5"]) == 0
    import json

    assert len(json.loads(first.with_suffix(".json").read_text())) == 65, "-e 5 plays 5 frames past the end"


def test_auto_record_never_overwrites_earlier_movies(tmp_path):
    earlier = tmp_path / "Airstriker-Genesis-Level1-000000.bk2"
    earlier.write_bytes(b"a movie from an earlier run")
    env = retro.make("Airstriker-Genesis", record=str(tmp_path))
    env.reset()
    env.step(env.action_space.sample())
    env.close()
    assert earlier.read_bytes() == b"a movie from an earlier run"
    assert (tmp_path / "Airstriker-Genesis-Level1-000001.bk2").is_file()


def test_playback_works_console_switches(tmp_path):
    """An Atari movie that presses the console's RESET, then power-cycles: playback does both, on their frames."""
    from retro.movie import CONSOLE_POWER, CONSOLE_RESET
    from retro.scripts.playback_movie import playback_movie

    game = "Pong-Atari2600-v0"
    rng = np.random.default_rng(4)
    keys = rng.integers(0, 2, (240, 8)).astype(np.uint8)
    keys[:, 2:4] = 0  # SELECT and RESET come only from the console field
    switches = {60: 1 << CONSOLE_RESET, 61: 1 << CONSOLE_RESET, 150: 1 << CONSOLE_POWER}

    def expected(apply: bool) -> list[dict]:
        env = retro.make(game, use_restricted_actions=retro.Actions.ALL)
        try:
            env.reset()
            reset = env.buttons.index("RESET")
            infos = []
            for t, k in enumerate(keys, start=1):
                k = k.copy()
                if apply and t in switches:
                    if switches[t] >> CONSOLE_POWER & 1:
                        env.em.power_cycle()
                    if switches[t] >> CONSOLE_RESET & 1:
                        k[reset] = 1
                infos.append(env.step(k)[3])
            return infos
        finally:
            env.close()

    env = retro.make(game)
    state = env.initial_state
    em = env.em
    path = tmp_path / "switches.bk2"
    with Movie(path, True, 1) as m:
        m.configure(game, em)
        m.set_state(state)
        m.step()  # the frame reset() plays
        for t, k in enumerate(keys, start=1):
            for i, v in enumerate(k):
                m.set_key(i, bool(v), 0)
            m.set_console(switches.get(t, 0))
            m.step()
    env.close()
    movie = Movie(path)
    assert sum(1 for _ in iter(movie.step, False)) == 1 + len(keys)
    out = playback_movie(str(path), video=False, audio=False, info_dict=True)
    played = json.loads(Path(out["json"]).read_text())
    assert played == expected(apply=True)
    assert played != expected(apply=False), "the switches change the game"


@pytest.mark.parametrize("name", ["ABSOLUTE", "../Pong-Atari2600", "..", "Pong-Atari2600/../../x"])
def test_movie_game_name_is_a_game_id_never_a_path(tmp_path, name):
    """A header's GameName that names a folder is not followed: nothing is loaded from it."""
    elsewhere = tmp_path / "elsewhere" / "Evil-Atari2600"
    elsewhere.mkdir(parents=True)
    rom = Path(retro.data.get_romfile_path("Pong-Atari2600")).read_bytes()
    (elsewhere / "rom.a26").write_bytes(rom)
    (elsewhere / "rom.sha").write_text(hashlib.sha1(rom).hexdigest() + "\n")
    (elsewhere / "data.json").write_text('{"info": {}}')
    (elsewhere / "scenario.json").write_text('{"scripts": ["evil.lua"]}')
    game = str(elsewhere) if name == "ABSOLUTE" else name
    path = tmp_path / "m.bk2"
    with Movie(path, True, 1) as m:
        m.configure(game, fake_emulator("Atari2600", tmp_path))
        m.step()
    from retro.scripts.playback_movie import playback_movie

    with pytest.raises(retro.GameNotFoundError):
        playback_movie(str(path), video=False, audio=False)
    with pytest.raises(retro.GameNotFoundError):
        retro.make(game)
    assert retro.data.get_file_path(game, "data.json", retro.data.Integrations.ALL) is None
    assert retro.data.get_file_path("Pong-Atari2600", "../../../etc/passwd", retro.data.Integrations.ALL) is None


def _short_movie(tmp_path: Path, frames: int = 120) -> Path:
    env = retro.make("Pong-Atari2600", record=str(tmp_path))
    env.reset()
    for _ in range(frames):
        env.step(env.action_space.sample())
    env.close()
    [path] = tmp_path.glob("*.bk2")
    return path


def test_playback_never_replaces_a_file_unless_asked(tmp_path):
    from retro.scripts.playback_movie import main, playback_movie

    movie = _short_movie(tmp_path)
    mine = movie.with_suffix(".json")
    mine.write_text("my own notes")
    with pytest.raises(retro.OutputExistsError, match="--force"):
        playback_movie(str(movie), video=False, audio=False, info_dict=True)
    assert mine.read_text() == "my own notes"
    assert main(["-V", "-A", "-i", str(movie)]) == 1  # the command says so and exits non-zero
    assert mine.read_text() == "my own notes"
    assert main(["-V", "-A", "-i", "--force", str(movie)]) == 0
    assert json.loads(mine.read_text())[0].keys() >= {"score1", "score2"}
    csv_out = tmp_path / "monitor.csv"
    csv_out.write_text("keep")
    assert main(["-V", "-A", "-c", str(csv_out), str(movie)]) == 1
    assert csv_out.read_text() == "keep"


def test_playback_outputs_are_written_whole_or_not_at_all(tmp_path):
    from retro.scripts.playback_movie import main

    movie = _short_movie(tmp_path)
    broken = tmp_path / "broken.bk2"
    broken.write_bytes(b"not a movie")
    csv_out = tmp_path / "monitor.csv"
    csv_out.write_text("keep")
    # the first movie's rows are written, then the second movie fails: the old file stays
    assert main(["-V", "-A", "--force", "-c", str(csv_out), str(movie), str(broken)]) == 1
    assert csv_out.read_text() == "keep"
    assert main(["-V", "-A", "--force", "-c", str(csv_out), str(movie)]) == 0
    assert csv_out.read_text().startswith('#{"t_start"') and len(csv_out.read_text().splitlines()) == 3
    assert main(["-A", "-i", str(movie)]) == 0
    assert movie.with_suffix(".mp4").stat().st_size > 0 and json.loads(movie.with_suffix(".json").read_text())
    assert not list(tmp_path.glob(".*.part"))


def _leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("retro-playback-"))


def test_playback_leaves_no_temp_folder_after_sigterm_or_kill(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    movie = _short_movie(tmp_path / "m", frames=3000)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    cmd = [sys.executable, "-m", "retro.scripts.playback_movie", "--force", str(movie)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not _leftovers(tmp) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert _leftovers(tmp), "the playback made its temporary folder"
        proc.send_signal(sig)
        proc.communicate(timeout=60)
        if sig == signal.SIGTERM:
            assert proc.returncode == 128 + signal.SIGTERM
            assert _leftovers(tmp) == [], "SIGTERM cleans up"
        else:
            assert len(_leftovers(tmp)) == 1, "nothing can clean up after SIGKILL"
    # the next playback removes what the killed one left, and only that
    alive = tmp / f"retro-playback-{os.getpid()}-keep"
    alive.mkdir()
    short = _short_movie(tmp_path / "s", frames=30)
    assert subprocess.run([sys.executable, "-m", "retro.scripts.playback_movie", "-V", "-A", str(short)],
                          env=env, capture_output=True, timeout=120).returncode == 0
    assert _leftovers(tmp) == [alive.name]


# -- one reader class, one writer class, one finaliser ------------------------------------------------------------

def _recorded(path, airstriker_rom, frames=5):
    em = retro.RetroEmulator(str(airstriker_rom))
    movie = Movie(path, record=True)
    movie.configure("Airstriker-Genesis", em)
    for i in range(frames):
        movie.append_frame([i])
    em.close()
    return movie


def test_movie_makes_a_reader_or_a_writer(tmp_path, airstriker_rom):
    from retro.movie import MovieReader, MovieWriter

    writer = _recorded(tmp_path / "a.bk2", airstriker_rom)
    assert type(writer) is MovieWriter and isinstance(writer, Movie) and writer.recording
    writer.close()
    reader = Movie(tmp_path / "a.bk2")
    assert type(reader) is MovieReader and isinstance(reader, Movie) and not reader.recording
    assert [int(x) for x in reader.frames[:, 1]] == [0, 1, 2, 3, 4]
    with pytest.raises(MovieFormatError, match="being recorded"):
        reader.set_key(0, True)
    with pytest.raises(MovieFormatError, match="being recorded"):
        reader.append_frame([1])
    with pytest.raises(ValueError, match="is for recording.*record=False"):
        MovieWriter(tmp_path / "b.bk2", record=False)


def test_a_movie_dropped_without_close_is_written_whole(tmp_path, airstriker_rom):
    import gc

    path = tmp_path / "dropped.bk2"
    movie = _recorded(path, airstriker_rom, frames=7)
    del movie
    gc.collect()
    assert len(Movie(path).frames) == 7


def test_a_movie_left_open_at_exit_is_written_whole(tmp_path, airstriker_rom):
    import subprocess
    import sys

    path = tmp_path / "at-exit.bk2"
    code = ("import retro, sys; em = retro.RetroEmulator(sys.argv[1]); m = retro.Movie(sys.argv[2], record=True); "
            "m.configure('Airstriker-Genesis', em); [m.append_frame([i]) for i in range(9)]; KEEP = m")
    r = subprocess.run([sys.executable, "-c", code, str(airstriker_rom), str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(Movie(path).frames) == 9 and r.stderr == ""


def test_closing_an_unconfigured_movie_says_so_once(tmp_path):
    movie = Movie(tmp_path / "x.bk2", record=True)
    with pytest.raises(MovieFormatError, match="configure"):
        movie.close()
    movie.close()  # closed: nothing more to write or raise
    assert not (tmp_path / "x.bk2").exists()

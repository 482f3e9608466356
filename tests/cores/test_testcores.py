"""The test cores do what tests/cores/build.py says, checked without retro's frontend.

They run under a minimal ctypes frontend (tests/cores/harness.py), so these
tests pass or fail independently of retro._core: if a frontend test on a test
core fails while these pass, the frontend is at fault.
"""

from __future__ import annotations

import pathlib
import random

import pytest

from tests.cores import build
from tests.cores.harness import API_VERSION, MEMDESC_CONST, SYMBOLS, MiniFrontend, missing_symbols


@pytest.fixture(scope="session")
def cores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    return build.build_all(tmp_path_factory.mktemp("testcores-selfcheck"))


@pytest.fixture(scope="session")
def rom(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("testcore-rom") / "game.bin"
    path.write_bytes(random.Random(1234).randbytes(64))
    return path


def test_build_is_cached(cores: dict[str, pathlib.Path], tmp_path: pathlib.Path) -> None:
    path = cores["sysram"]
    mtime = path.stat().st_mtime_ns
    assert build.build_core("sysram", path.parent) == path
    assert path.stat().st_mtime_ns == mtime
    with pytest.raises(ValueError):
        build.build_core("nope", tmp_path)


@pytest.mark.parametrize("variant", sorted(build.VARIANTS))
def test_exports(cores: dict[str, pathlib.Path], variant: str) -> None:
    assert cores[variant].name == f"{variant}_libretro.so"
    expected_missing = ["retro_run"] if variant == "nosym" else []
    assert missing_symbols(cores[variant]) == expected_missing
    assert len(SYMBOLS) == 24


@pytest.mark.parametrize("variant", ["xrgb8888", "rgb565", "0rgb1555", "dupe", "sysram", "input"])
def test_picture(cores: dict[str, pathlib.Path], rom: pathlib.Path, variant: str) -> None:
    fe = MiniFrontend(cores[variant], rom)
    assert fe.loaded and fe.api_version == API_VERSION
    assert fe.pixel_format == build.pixel_format(variant)
    g = fe.av.geometry
    assert (g.base_width, g.base_height, g.max_width, g.max_height) == (64, 48, 64, 48)
    assert (fe.av.fps, fe.av.sample_rate) == (build.FPS, build.SAMPLE_RATE)
    for frame in range(1, 6):
        fe.run()
        shown = build.presented_frame(variant, frame)
        assert fe.dupes == ((frame + 1) // 2 if variant == "dupe" else 0)
        if shown == 0:
            assert fe.frame is None
            assert build.expected_frame(variant, frame) == bytes(64 * 48 * 3)
            continue
        assert fe.frame == build.expected_frame(variant, frame)
        assert fe.pitch == build.pitch(variant) > 64 * (4 if build.pixel_format(variant) == "XRGB8888" else 2)
        row = fe.pitch - build.PAD_BYTES
        for y in range(48):
            assert fe.raw_frame[y * fe.pitch + row:(y + 1) * fe.pitch] == b"\xab" * build.PAD_BYTES
    fe.close()


def test_quantisation_examples() -> None:
    # pixel (10, 7) of frame 3: R = 43, G = 35, B = 13
    assert build.pattern_rgb("xrgb8888", 10, 7, 3) == (43, 35, 13)
    # 565: r5 = 5 -> 40, g6 = 8 -> 32, b5 = 1 -> 8
    assert build.pattern_rgb("rgb565", 10, 7, 3) == (40, 32, 8)
    # 1555: r5 = 5 -> 40, g5 = 4 -> 32, b5 = 1 -> 8
    assert build.pattern_rgb("0rgb1555", 10, 7, 3) == (40, 32, 8)
    assert build.pattern_rgb("rgb565", 63, 47, 255) == (248, 232, 16)


@pytest.mark.parametrize("variant", ["sysram", "memmap", "state"])
def test_pattern_ram(cores: dict[str, pathlib.Path], rom: pathlib.Path, variant: str) -> None:
    fe = MiniFrontend(cores[variant], rom)
    assert fe.memory() == bytes(256)
    for frame in (1, 2, 3):
        fe.run()
        assert fe.memory() == build.pattern_ram(frame)
    fe.lib.retro_reset()
    fe.run()
    assert fe.memory() == build.pattern_ram(1), "retro_reset restarts the frame count"


def test_memmap_descriptors(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> None:
    fe = MiniFrontend(cores["memmap"], rom)
    fe.memory()  # sets the restype of retro_get_memory_data
    ptr = fe.lib.retro_get_memory_data(2)
    d = fe.memory_map
    assert [(x["start"], x["len"], x["offset"], x["select"]) for x in d] == [
        (0x1000, 128, 0, 0), (0x8000, 128, 128, 0), (0x20000, 64, 0, 0)]
    assert [x["flags"] & MEMDESC_CONST for x in d] == [0, 0, MEMDESC_CONST]
    assert d[0]["ptr"] == d[1]["ptr"] == ptr and d[2]["ptr"] not in (0, ptr)


def test_state(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> None:
    fe = MiniFrontend(cores["state"], rom)
    fe.run(7)
    assert fe.memory(0) == build.lcg_after(7).to_bytes(4, "little")
    state = fe.serialize()
    assert state is not None and len(state) == build.STATE_SIZE
    assert state[:8] == build.STATE_MAGIC and int.from_bytes(state[8:12], "little") == 7
    assert int.from_bytes(state[12:16], "little") == build.lcg_after(7)
    assert state[16:] == build.pattern_ram(7)
    assert fe.serialize(build.STATE_SIZE - 1) is None
    assert fe.serialize(build.STATE_SIZE + 8) is not None
    fe.run(3)
    assert not fe.unserialize(state[:-1])
    assert not fe.unserialize(state + b"\0")
    assert not fe.unserialize(b"RTSTATE2" + state[8:])
    assert fe.memory() == build.pattern_ram(10)
    assert fe.unserialize(state)
    assert fe.memory() == build.pattern_ram(7)
    assert fe.memory(0) == build.lcg_after(7).to_bytes(4, "little")
    fe.run()
    assert fe.memory() == build.pattern_ram(8)
    assert fe.memory(0) == build.lcg_after(8).to_bytes(4, "little")


def test_no_state_elsewhere(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> None:
    fe = MiniFrontend(cores["sysram"], rom)
    assert fe.serialize() is None
    assert fe.memory(0) is None


def test_input_and_audio(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> None:
    fe = MiniFrontend(cores["input"], rom)
    assert fe.controller_ports == build.INPUT_PORTS
    fe.masks = [0x0001, 0x8000, 0xA5A5, 0xFFFF, 0x1234, 0, 0, 0x00F0]
    fe.run()
    ram = fe.memory()
    assert ram is not None and len(ram) == 16
    assert [int.from_bytes(ram[2 * p:2 * p + 2], "little") for p in range(8)] == fe.masks
    assert fe.polls == 1
    assert fe.input_calls == [(p, 1, 0, i) for p in range(8) for i in range(16)]
    assert fe.audio_calls == [("batch", 400), ("batch", 400), ("sample", 1)]
    assert fe.audio == build.expected_audio(1)
    fe.run(40)  # frame 33+: f*1000 + k wraps around int16
    assert len(fe.audio) == 40 * build.AUDIO_FRAMES_PER_RUN
    assert fe.audio == [s for f in range(2, 42) for s in build.expected_audio(f)]
    assert build.expected_audio(33)[0] == (33000 - 65536, 65536 - 33000)


def test_options(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> None:
    fe = MiniFrontend(cores["options"], rom)
    assert fe.option_specs == {"testcore_speed": "Speed; normal|fast|slow",
                               "testcore_colour": "Colour; red|green|blue"}
    fe.run()
    ram = fe.memory()
    assert ram is not None and list(ram[:7]) == [0, 0, 1, 1, 0, 0, 0]
    fe.option_values = {"testcore_speed": "slow", "testcore_colour": "purple"}
    fe.run()
    assert list(fe.memory() or b"")[:2] == [2, 0xFF]
    assert fe.frame_size == (64, 48) and not fe.geometry_changes
    fe.run()
    assert fe.geometry_changes == [(32, 24, 64, 48)]
    assert fe.frame_size == (32, 24) and fe.pitch == build.pitch("options")
    assert fe.frame == build.expected_frame("options", 3)
    assert (fe.memory() or b"")[6] == 1
    fe.run()
    assert fe.geometry_changes == [(32, 24, 64, 48)], "SET_GEOMETRY only on frame 3"
    assert fe.frame == build.expected_frame("options", 4)


def test_fullpath_and_inmemory(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> None:
    data = rom.read_bytes()
    fe = MiniFrontend(cores["fullpath"], rom)
    assert fe.need_fullpath and fe.loaded
    ram = fe.memory() or b""
    assert ram[:16] == data[:16] and ram[16:18] == b"\x01\x01"
    assert int.from_bytes(ram[20:24], "little") == len(data)
    missing = MiniFrontend(cores["fullpath"], rom.parent / "missing.bin")
    assert not missing.loaded, "an unreadable path fails the load"
    fe = MiniFrontend(cores["inmemory"], rom)
    assert not fe.need_fullpath and fe.loaded
    ram = fe.memory() or b""
    assert ram[:16] == data[:16] and ram[16:18] == b"\x00\x01"
    assert int.from_bytes(ram[20:24], "little") == len(data)


def test_failload_badapi(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> None:
    assert not MiniFrontend(cores["failload"], rom).loaded
    assert MiniFrontend(cores["badapi"], rom).api_version == 2


def test_globals_are_per_copy(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> None:
    a = MiniFrontend(cores["globals"], rom)
    b = MiniFrontend(cores["globals"], rom)
    a.run(5)
    b.run(2)
    a.lib.retro_reset()
    a.run()
    assert a.memory() == (6).to_bytes(4, "little"), "the counter survives retro_reset"
    assert b.memory() == (2).to_bytes(4, "little")



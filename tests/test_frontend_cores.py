"""The frontend's edge cases, on the deterministic test cores in tests/cores/.

Each variant of tests/cores/testcore.c exercises one part of the libretro ABI
(pixel formats and pitch, dupes, memory maps, save states, input, audio, core
options, logging, geometry changes, content loading, broken cores, private
globals, GIL release); tests/cores/build.py documents what each does and
computes the exact output the frontend must produce. tests/cores/
test_testcores.py checks the cores themselves without this frontend, so a
failure here that does not also fail there is a frontend bug.
"""

from __future__ import annotations

import logging
import pathlib
import random
import time
from typing import Any, Callable, Iterator

import numpy as np
import pytest

import retro
from tests.cores import build
from tests.gil import ticks_while

OpenCore = Callable[..., retro.RetroEmulator]


@pytest.fixture(scope="session")
def cores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    return build.build_all(tmp_path_factory.mktemp("testcores"))


@pytest.fixture(scope="session")
def rom(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """64 arbitrary bytes: the test cores accept any content."""
    path = tmp_path_factory.mktemp("testcore-rom") / "game.bin"
    path.write_bytes(random.Random(2024).randbytes(64))
    return path


@pytest.fixture
def open_core(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> Iterator[OpenCore]:
    """``open_core(variant, **kwargs)``: a RetroEmulator on that test core, closed afterwards.

    It plays no first frame unless asked (``first_frame=True``), so the frames
    the tests count are the frontend's from the load."""
    made: list[retro.RetroEmulator] = []

    def _open(variant: str, **kwargs: Any) -> retro.RetroEmulator:
        kwargs.setdefault("first_frame", False)
        em = retro.RetroEmulator(rom, core=cores[variant], **kwargs)
        made.append(em)
        return em

    yield _open
    for em in made:
        em.close()


def assert_frame(actual: np.ndarray, variant: str, frame: int) -> None:
    """``actual`` (H, W, 3) equals the core's picture after ``frame`` frames."""
    width, height = build.frame_size(variant, build.presented_frame(variant, frame))
    expected = np.frombuffer(build.expected_frame(variant, frame), np.uint8).reshape(height, width, 3)
    assert actual.dtype == np.uint8 and actual.shape == expected.shape
    if not np.array_equal(actual, expected):
        y, x = (int(i) for i in np.argwhere((actual != expected).any(axis=2))[0])
        pytest.fail(f"{variant} frame {frame}: {int((actual != expected).any(axis=2).sum())} pixels "
                    f"differ; first at (x={x}, y={y}): got {actual[y, x].tolist()}, expected "
                    f"{expected[y, x].tolist()}")


def ram_of(em: retro.RetroEmulator) -> bytes:
    mem = em.get_memory(2)
    assert mem is not None
    return bytes(mem)


# -- identity, rates, picture size -------------------------------------------------

def test_core_description_and_rates(open_core: OpenCore, cores: dict[str, pathlib.Path]) -> None:
    em = open_core("xrgb8888")
    assert em.core.name == "xrgb8888"
    assert pathlib.Path(em.core.path) == cores["xrgb8888"]
    assert (em.core.library_name, em.core.library_version) == ("testcore", "1.0 xrgb8888")
    assert em.get_screen_rate() == build.FPS
    assert em.get_audio_rate() == build.SAMPLE_RATE
    assert em.get_resolution() == (64, 48)
    screen = em.get_screen()
    assert screen.shape == (48, 64, 3) and screen.dtype == np.uint8
    assert not screen.any(), "the screen is black before the first frame"


# -- pixel formats and pitch ---------------------------------------------------------

@pytest.mark.parametrize("variant", ["xrgb8888", "rgb565", "0rgb1555"])
def test_pixel_format_exact(open_core: OpenCore, variant: str) -> None:
    em = open_core(variant)
    for frame in (1, 2, 3):
        em.step()
        assert_frame(em.get_screen(), variant, frame)
    em.step(5)
    assert_frame(em.get_screen(), variant, 8)
    em.step(300)  # R = (x*4 + f) & 0xFF wraps
    assert_frame(em.get_screen(), variant, 308)


def test_get_screen_out_and_copy(open_core: OpenCore) -> None:
    em = open_core("xrgb8888")
    em.step(2)
    out = np.zeros((48, 64, 3), np.uint8)
    em.get_screen(out=out)
    assert_frame(out, "xrgb8888", 2)
    copy = em.get_screen()
    em.step()
    assert_frame(copy, "xrgb8888", 2)  # get_screen() is a copy, not a live view
    em.get_screen(out=out)
    assert_frame(out, "xrgb8888", 3)


def test_dupe_keeps_previous_frame(open_core: OpenCore) -> None:
    em = open_core("dupe")
    em.step()  # frame 1 is a dupe before any picture: still black
    assert not em.get_screen().any()
    for frame in range(2, 8):
        em.step()
        assert_frame(em.get_screen(), "dupe", frame)  # odd frames keep frame - 1
    em.step(3)  # frames 8, 9 (dupe), 10
    assert_frame(em.get_screen(), "dupe", 10)
    em.step(3)  # 11 (dupe), 12, 13 (dupe)
    assert_frame(em.get_screen(), "dupe", 12)


# -- memory ---------------------------------------------------------------------------------

def test_step_out_converts_into_the_array(open_core: OpenCore) -> None:
    """``step(out=arr)`` puts the picture in ``arr`` and leaves arrays it handed out alone."""
    em = open_core("xrgb8888")
    first = np.full((48, 64, 3), 0xEE, np.uint8)
    assert em.step(out=first) is first
    assert_frame(first, "xrgb8888", 1)
    assert np.array_equal(em.get_screen(), first) and np.array_equal(em.screen, first)
    assert not em.screen.flags.writeable
    second = np.full((48, 64, 3), 0xEE, np.uint8)
    em.step(out=second)
    assert_frame(first, "xrgb8888", 1)
    assert_frame(second, "xrgb8888", 2)
    assert em.step() is None  # back to the emulator's own buffer
    assert_frame(em.get_screen(), "xrgb8888", 3)
    assert_frame(second, "xrgb8888", 2)
    em.step(2, out=second)  # the same array again is fine
    assert_frame(second, "xrgb8888", 5)
    assert_frame(em.get_screen(), "xrgb8888", 5)


def test_step_out_keeps_the_picture_over_dupes(open_core: OpenCore) -> None:
    """A frame the core repeats lands in the new array too, whichever buffer held it."""
    em = open_core("dupe")
    garbage = lambda: np.full((48, 64, 3), 0xEE, np.uint8)  # noqa: E731
    out = em.step(out=garbage())  # frame 1: a dupe before any picture
    assert not out.any()
    for frame in range(2, 9):
        if frame % 3:
            out = em.step(out=garbage())
        else:
            em.step()
            out = em.get_screen()
        assert_frame(out, "dupe", frame)  # odd frames keep frame - 1
    out = em.step(3, out=garbage())  # 9 (dupe), 10, 11 (dupe)
    assert_frame(out, "dupe", 10)


def test_step_out_with_a_smaller_picture(open_core: OpenCore) -> None:
    """Outside a smaller picture the array is black, whatever it held before."""
    em = open_core("options")
    em.step(2)
    for frame in (3, 4):
        out = em.step(out=np.full((48, 64, 3), 0xEE, np.uint8))
        assert_frame(out[:24, :32], "options", frame)
        assert not out[24:].any() and not out[:, 32:].any()


def test_step_out_pooling_matches_the_own_buffer(open_core: OpenCore) -> None:
    a, b = open_core("xrgb8888"), open_core("xrgb8888")
    out = np.empty((48, 64, 3), np.uint8)
    for _ in range(3):
        a.step(4, pool=True, skip=2)
        b.step(4, pool=True, skip=2, out=out)
        assert np.array_equal(a.get_screen(), out)
        for gray in (False, True):
            assert np.array_equal(a.get_observation(gray=gray, size=(20, 30), pool=True),
                                  b.get_observation(gray=gray, size=(20, 30), pool=True))


@pytest.mark.parametrize("out", [
    np.zeros((48, 64), np.uint8),
    np.zeros((48, 64, 3), np.int16),
    np.zeros((48, 128, 3), np.uint8)[:, ::2],
    np.zeros((64, 48, 3), np.uint8),
    [[0]],
])
def test_step_out_rejects_unusable_arrays(open_core: OpenCore, out: Any) -> None:
    em = open_core("xrgb8888")
    with pytest.raises(ValueError, match="writable C-contiguous uint8 array of shape"):
        em.step(out=out)
    readonly = np.zeros((48, 64, 3), np.uint8)
    readonly.flags.writeable = False
    with pytest.raises(ValueError):
        em.step(out=readonly)
    assert em.frame_count == 0


# -- many emulators at once -------------------------------------------------------------

def test_step_pool_matches_stepping_one_by_one(open_core: OpenCore) -> None:
    """Five emulators on a 2-thread StepPool end exactly where stepping them one by one does."""
    pooled = [open_core("input") for _ in range(5)] + [open_core("xrgb8888")]
    alone = [open_core("input") for _ in range(5)] + [open_core("xrgb8888")]
    steps = retro.StepPool(2)
    rng = random.Random(7)
    outs = [None] * 5 + [np.empty((48, 64, 3), np.uint8)]
    for frame in range(1, 31):
        for a, b in zip(pooled, alone):
            mask = rng.randrange(1 << 16)
            a.set_button_mask(mask)
            b.set_button_mask(mask)
        steps.step(pooled, outs=outs)
        for b in alone:
            b.step()
        for a, b in zip(pooled[:5], alone[:5]):
            assert ram_of(a) == ram_of(b)
            assert np.array_equal(a.get_audio(), b.get_audio())
        assert_frame(outs[5], "xrgb8888", frame)
        assert np.array_equal(pooled[5].get_screen(), alone[5].get_screen())
    assert [em.frame_count for em in pooled] == [30] * 6
    steps.step(pooled[:3], n=4)
    assert [em.frame_count for em in pooled] == [34, 34, 34, 30, 30, 30]
    steps.close()


def test_step_pool_releases_the_gil_and_spreads_the_work(open_core: OpenCore) -> None:
    """Two slow emulators on a 2-thread pool: the GIL is free meanwhile; the speed-up is printed."""
    ems = [open_core("slow") for _ in range(2)]
    steps = retro.StepPool(2)
    frames = 40
    start = time.perf_counter()
    for _ in range(frames):
        steps.step(ems)
    pooled = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(frames):
        for em in ems:
            em.step()
    alone = time.perf_counter() - start
    print(f"2 slow emulators: one by one {alone:.3f} s, on a 2-thread pool {pooled:.3f} s "
          f"({alone / pooled:.2f}x)")
    ticks = ticks_while(lambda: steps.step(ems, n=frames))
    print(f"the main thread counted to {ticks} while the pool played {frames} frames")
    assert ticks > 10_000
    assert [em.frame_count for em in ems] == [3 * frames] * 2


def test_step_pool_works_in_a_forked_child(open_core: OpenCore) -> None:
    """A child forked from a process with a pool (as multiprocessing's fork start does) steps
    with threads of its own instead of waiting forever for the parent's."""
    import os

    ems = [open_core("xrgb8888") for _ in range(3)]
    steps = retro.StepPool(2)
    steps.step(ems)
    pid = os.fork()
    if pid == 0:  # the child: exit code 0 only if the pool stepped every emulator
        code = 1
        try:
            steps.step(ems, n=2)
            code = 0 if [em.frame_count for em in ems] == [3, 3, 3] else 2
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child's StepPool.step() hung")
        time.sleep(0.01)
    assert os.waitstatus_to_exitcode(status) == 0
    steps.step(ems)
    assert [em.frame_count for em in ems] == [2, 2, 2]


def test_step_pool_refuses_bad_calls(open_core: OpenCore) -> None:
    a, b, c = (open_core("xrgb8888") for _ in range(3))
    steps = retro.StepPool(2)
    with pytest.raises(ValueError, match="appears twice"):
        steps.step([a, b, a])
    with pytest.raises(ValueError, match="outs has 1 entries for 2 emulators"):
        steps.step([a, b], outs=[None])
    with pytest.raises(TypeError, match="Emulator"):
        steps.step([a, "b"])
    with pytest.raises(ValueError, match="shape"):
        steps.step([a, b], outs=[None, np.zeros((2, 2, 3), np.uint8)])
    c.close()
    with pytest.raises(retro.EmulatorClosedError):
        steps.step([a, b, c])
    assert (a.frame_count, b.frame_count) == (0, 0), "a refused call steps nobody"
    with pytest.raises(ValueError):
        retro.StepPool(0)
    steps.step([])
    steps.close()
    with pytest.raises(retro.RetroError, match="closed"):
        steps.step([a])


def test_core_without_ram(open_core: OpenCore) -> None:
    em = open_core("xrgb8888")
    em.step()
    assert em.memory == {}
    assert em.get_ram().size == 0
    assert em.get_memory(2) is None
    assert em.get_audio().shape == (0, 2)


def test_sysram_single_block(open_core: OpenCore) -> None:
    em = open_core("sysram")
    blocks = em.memory
    assert list(blocks) == [0]
    block = blocks[0]
    assert block.dtype == np.uint8 and block.shape == (256,)
    assert bytes(block) == build.pattern_ram(0)
    em.step(3)
    assert bytes(em.memory[0]) == build.pattern_ram(3)
    assert bytes(block) == build.pattern_ram(3), "memory blocks are live views of the core's RAM"
    assert bytes(em.get_ram()) == build.pattern_ram(3)
    assert ram_of(em) == build.pattern_ram(3)
    ram = em.get_memory(2)
    assert ram is not None and ram.shape == (256,) and ram.flags.writeable
    block[5] = 0x77
    assert ram[5] == 0x77, "the block and get_memory(2) are the same memory"
    ram_copy = em.get_ram()
    ram_copy[0] = 0x99
    assert em.get_ram()[0] != 0x99, "get_ram() is a copy"


def test_memmap_blocks_skip_const(open_core: OpenCore) -> None:
    em = open_core("memmap")
    em.step(2)
    blocks = em.memory
    assert sorted(blocks) == [0x1000, 0x8000], "two RAM descriptors; the CONST one is skipped"
    assert build.MEMMAP_CONST_START not in blocks
    pattern = build.pattern_ram(2)
    for start, (offset, length) in build.MEMMAP_BLOCKS.items():
        assert blocks[start].shape == (length,)
        assert bytes(blocks[start]) == pattern[offset:offset + length]
    assert bytes(em.get_ram()) == pattern
    assert ram_of(em) == pattern, "SYSTEM_RAM is still exposed"
    blocks[0x8000][0] = 0x5A
    ram = em.get_memory(2)
    assert ram is not None and ram[128] == 0x5A, "the 0x8000 block starts at RAM offset 128"
    em.step()
    assert bytes(em.memory[0x1000]) == build.pattern_ram(3)[:128]


# -- save states ----------------------------------------------------------------------------

def test_state_round_trip(open_core: OpenCore) -> None:
    em = open_core("state")
    em.step(10)
    state = em.get_state()
    assert isinstance(state, bytes) and len(state) == build.STATE_SIZE
    assert state[:8] == build.STATE_MAGIC
    assert bytes(em.get_ram()) == build.pattern_ram(10)
    em.step(5)
    assert bytes(em.get_ram()) == build.pattern_ram(15)
    assert em.set_state(state) is True
    assert bytes(em.get_ram()) == build.pattern_ram(10)
    lcg = em.get_memory(0)  # the core's LCG, exposed as SAVE_RAM
    assert lcg is not None and bytes(lcg) == build.lcg_after(10).to_bytes(4, "little")
    em.step()
    assert bytes(em.get_ram()) == build.pattern_ram(11)
    assert bytes(lcg) == build.lcg_after(11).to_bytes(4, "little")
    assert em.get_state() == (build.STATE_MAGIC + (11).to_bytes(4, "little")
                              + build.lcg_after(11).to_bytes(4, "little") + build.pattern_ram(11))


@pytest.mark.parametrize("how", ["truncated", "extended", "zero padding then not", "empty", "wrong magic"])
def test_state_rejected(open_core: OpenCore, how: str) -> None:
    em = open_core("state")
    em.step(4)
    state = em.get_state()
    bad = {
        "truncated": state[:-1],
        "extended": state + b"\1",
        "zero padding then not": state + b"\0" * 20 + b"\1",
        "empty": b"",
        "wrong magic": b"RTSTATE0" + state[8:],
    }[how]
    with pytest.raises(retro.StateError):
        em.set_state(bad)
    # a rejected state leaves the emulator as it was, and usable
    assert bytes(em.get_ram()) == build.pattern_ram(4)
    em.step()
    assert bytes(em.get_ram()) == build.pattern_ram(5)
    assert em.set_state(state) is True
    assert bytes(em.get_ram()) == build.pattern_ram(4)


def test_state_with_zero_padding_loads(open_core: OpenCore) -> None:
    """A state followed by zeros is the state: only the core's own bytes reach the core."""
    em = open_core("state")
    em.step(4)
    state = em.get_state()
    em.step(3)
    assert em.set_state(state + b"\0" * 31) is True
    assert bytes(em.get_ram()) == build.pattern_ram(4)


def test_state_error_is_a_value_error() -> None:
    assert issubclass(retro.StateError, retro.RetroError)
    assert issubclass(retro.StateError, ValueError)


def test_core_without_states(open_core: OpenCore) -> None:
    em = open_core("sysram")
    with pytest.raises(retro.StateError):
        em.get_state()
    em.step()
    assert bytes(em.get_ram()) == build.pattern_ram(1)


# -- input and audio ------------------------------------------------------------------------

MASK_SETS: list[list[Any]] = [
    [0x0001, 0x8000, 0xA5A5, 0xFFFF],
    [0x0000, 0x0100, 0x0F0F, 0x1234],
    [[1, 0, 0, 1], [True] * 16, [0] * 16, [0, 1] * 8],
    [np.array([1, 0, 1], dtype=bool), [False, True], 0x00F0, []],
]


def _as_int(mask: Any) -> int:
    if isinstance(mask, int):
        return mask
    return sum(1 << i for i, v in enumerate(mask) if v)


def test_input_echo(open_core: OpenCore) -> None:
    em = open_core("input")
    em.step()
    assert ram_of(em) == bytes(16), "no buttons held at start"
    for masks in MASK_SETS:
        for player, mask in enumerate(masks):
            em.set_button_mask(mask, player=player)
        em.step()
        ram = ram_of(em)
        got = [int.from_bytes(ram[2 * p:2 * p + 2], "little") for p in range(8)]
        assert got[:4] == [_as_int(m) for m in masks]
        assert got[4:] == [0, 0, 0, 0], "ports 4-7: nothing held"
    em.set_button_mask(0, player=0)
    em.step()
    assert ram_of(em)[:2] == b"\0\0", "a released button reads released"


def test_audio_exact(open_core: OpenCore) -> None:
    em = open_core("input")
    em.step()
    audio = em.get_audio()
    assert audio.dtype == np.int16 and audio.shape == (build.AUDIO_FRAMES_PER_RUN, 2) == (801, 2)
    assert audio.tolist() == [list(s) for s in build.expected_audio(1)]
    em.step(3)
    audio = em.get_audio()
    assert audio.shape == (3 * 801, 2), "step(n) returns the audio of all n frames"
    assert audio.tolist() == [list(s) for f in (2, 3, 4) for s in build.expected_audio(f)]
    em.step(40)  # frame 33 on: f*1000 + k wraps around int16
    assert em.get_audio().tolist() == [list(s) for f in range(5, 45) for s in build.expected_audio(f)]


# -- core options, logging, directories, geometry ---------------------------------------------

def _option_ram(em: retro.RetroEmulator) -> list[int]:
    return list(ram_of(em)[:2])


def test_directories_and_log_interface(open_core: OpenCore) -> None:
    em = open_core("options")
    em.step()
    ram = ram_of(em)
    assert (ram[2], ram[3]) == (1, 1), "system and save directories are given"
    assert ram[5] == 1, "the log interface is given"


def test_options_unset_keep_the_core_default(open_core: OpenCore) -> None:
    """Options nobody set are not answered, so the core keeps its own default (as under Gym
    Retro); the declared options and their listed defaults are still reported."""
    em = open_core("options")
    assert em.options == {}
    info = em.option_info()
    assert {k: v[1] for k, v in info.items()} == build.OPTION_DEFAULTS
    assert info["testcore_speed"][0] == "Speed; normal|fast|slow"
    em.step()
    assert _option_ram(em) == [0xFF, 0xFF], "GET_VARIABLE fails for options nobody set"


@pytest.mark.parametrize("options,expected_ram", [
    ({"testcore_speed": "fast", "testcore_colour": "blue"}, [1, 2]),
    ({"testcore_colour": "green"}, [0xFF, 1]),
    ({"testcore_speed": "slow"}, [2, 0xFF]),
    ({"testcore_speed": "warp"}, [0xFF, 0xFF]),  # the core does not know the value
    (build.OPTION_DEFAULTS, [0, 0]),
])
def test_options_override(open_core: OpenCore, options: dict[str, str], expected_ram: list[int]) -> None:
    em = open_core("options", options=options)
    assert em.options == options
    em.step(2)
    assert _option_ram(em) == expected_ram


def test_option_change_at_run_time(open_core: OpenCore) -> None:
    em = open_core("options", options=build.OPTION_DEFAULTS)
    if not hasattr(em, "set_option"):
        pytest.skip("this frontend has no set_option()")
    em.step()
    assert ram_of(em)[4] == 0, "no update reported before a change"
    em.set_option("testcore_speed", "slow")
    em.step()
    assert _option_ram(em) == [2, 0] and ram_of(em)[4] == 1
    em.step()
    assert ram_of(em)[4] == 1, "an update is reported once"


def test_core_log_records(open_core: OpenCore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="retro.core")
    em = open_core("options")
    caplog.clear()

    def frame_records() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "retro.core" and "testcore frame" in r.getMessage()]

    em.step()
    records = frame_records()
    assert len(records) == 1, "one record per retro_run, emitted after the step"
    assert records[0].levelno == logging.INFO
    assert records[0].getMessage().endswith("testcore frame 1")
    em.step(3)
    assert [r.getMessage().rsplit(" ", 1)[-1] for r in frame_records()] == ["1", "2", "3", "4"]
    assert all(r.levelno == logging.INFO for r in frame_records())


def test_geometry_change(open_core: OpenCore) -> None:
    """On frame 3 the core shrinks its picture to 32x24 (max stays 64x48).

    The screen keeps the size of the geometry at load (64x48), so an
    observation space stays valid, with the 32x24 picture in its top-left
    corner and black around it; ``geometry`` reports the core's new one.
    """
    em = open_core("options")
    em.step(2)
    assert em.get_resolution() == (64, 48)
    assert_frame(em.get_screen(), "options", 2)
    for frame in (3, 4, 5):
        em.step()
        assert ram_of(em)[6] == 1, "SET_GEOMETRY was accepted"
        width, height = em.get_resolution()
        screen = em.get_screen()
        print(f"frame {frame}: get_resolution() = {(width, height)}")
        assert (width, height) == (64, 48)
        assert screen.shape == (height, width, 3)
        assert_frame(screen[:24, :32], "options", frame)
        assert not screen[24:].any() and not screen[:, 32:].any(), \
            "outside the smaller picture the screen is black"
    geometry = em.geometry
    assert (geometry["base_width"], geometry["base_height"]) == (32, 24)
    assert (geometry["max_width"], geometry["max_height"]) == (64, 48)


def test_pictures_a_whole_number_of_times_larger_are_shown_whole(open_core: OpenCore) -> None:
    """A picture twice as wide, as high, or both (bsnes-mercury's 512-pixel lines, an
    interlaced frame) fills the 64x48 screen whole, each block of pixels averaged (rounded);
    one of another size (96x48) is cropped, and the base size is shown as it is."""
    em = open_core("wide")
    for frame in range(1, 7):
        em.step()
        width, height = build.frame_size("wide", frame)
        assert em.last_frame_size[:2] == (width, height)
        picture = np.frombuffer(build.expected_frame("wide", frame), np.uint8).reshape(height, width, 3)
        ky, kx = (height // 48, width // 64) if width % 64 == 0 and height % 48 == 0 else (1, 1)
        blocks = picture[:48 * ky, :64 * kx].reshape(48, ky, 64, kx, 3).astype(np.uint32)
        expected = (blocks.sum(axis=(1, 3)) + kx * ky // 2) // (kx * ky)
        assert np.array_equal(em.get_screen(), expected.astype(np.uint8)), (frame, width, height)
    assert em.get_resolution() == (64, 48)


# -- content loading ------------------------------------------------------------------------

def test_fullpath_core_reads_the_file(open_core: OpenCore, rom: pathlib.Path) -> None:
    em = open_core("fullpath")
    data = rom.read_bytes()
    ram = ram_of(em)
    assert ram[:16] == data[:16]
    assert ram[16] == 1, "game->data is NULL for a need_fullpath core"
    assert ram[17] == 1, "game->path is given"
    assert int.from_bytes(ram[20:24], "little") == len(data)


def test_inmemory_core_gets_the_data(open_core: OpenCore, rom: pathlib.Path) -> None:
    em = open_core("inmemory")
    data = rom.read_bytes()
    ram = ram_of(em)
    assert ram[:16] == data[:16]
    assert ram[16] == 0
    assert int.from_bytes(ram[20:24], "little") == len(data), "game->size is the file size"


def test_failload_raises_content_load_error(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> None:
    with pytest.raises(retro.ContentLoadError) as info:
        retro.RetroEmulator(rom, core=cores["failload"])
    assert isinstance(info.value, ValueError) and isinstance(info.value, retro.RetroError)


# -- broken cores ---------------------------------------------------------------------------

def test_missing_symbol_raises_core_load_error(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> None:
    with pytest.raises(retro.CoreLoadError, match="retro_run") as info:
        retro.RetroEmulator(rom, core=cores["nosym"])
    assert isinstance(info.value, OSError) and isinstance(info.value, retro.RetroError)


def test_wrong_api_version_raises_core_load_error(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> None:
    with pytest.raises(retro.CoreLoadError, match="(?i)version"):
        retro.RetroEmulator(rom, core=cores["badapi"])


def test_not_a_shared_library(tmp_path: pathlib.Path, rom: pathlib.Path) -> None:
    bogus = tmp_path / "bogus_libretro.so"
    bogus.write_bytes(b"\x7fELF not really" + bytes(100))
    with pytest.raises(retro.CoreLoadError):
        retro.RetroEmulator(rom, core=bogus)


def test_missing_core_file(tmp_path: pathlib.Path, rom: pathlib.Path) -> None:
    with pytest.raises(retro.RetroError) as info:
        retro.RetroEmulator(rom, core=tmp_path / "absent_libretro.so")
    assert isinstance(info.value, OSError)


# -- lifecycle, private globals, threads ------------------------------------------------------

def test_context_manager_and_close(cores: dict[str, pathlib.Path], rom: pathlib.Path) -> None:
    with retro.RetroEmulator(rom, core=cores["sysram"]) as em:
        assert em.frame_count == 1  # the first frame, played when it is made
        em.step(2)
        assert bytes(em.get_ram()) == build.pattern_ram(1 + 2)
    with pytest.raises(retro.RetroError):
        em.step()
    em.close()  # closing twice is harmless


def test_globals_are_independent(open_core: OpenCore) -> None:
    a = open_core("globals")
    b = open_core("globals")
    a.step(5)
    b.step(2)
    assert ram_of(a) == (5).to_bytes(4, "little")
    assert ram_of(b) == (2).to_bytes(4, "little")
    a.step()
    assert ram_of(a) == (6).to_bytes(4, "little")
    assert ram_of(b) == (2).to_bytes(4, "little")
    a.close()
    c = open_core("globals")
    c.step()
    assert ram_of(c) == (1).to_bytes(4, "little"), "a new emulator starts from a fresh copy"
    assert ram_of(b) == (2).to_bytes(4, "little")


def test_step_releases_the_gil(open_core: OpenCore) -> None:
    """While one thread is inside step(), Python code keeps running on another thread.

    The slow core spends ~2 ms of CPU per frame inside retro_run; if step()
    held the GIL, the counting loop below could not advance until it returned.
    """
    frames = 150
    a = open_core("slow")
    a.step(5)
    ticks = ticks_while(lambda: a.step(frames))
    print(f"the main thread counted to {ticks} while step({frames}) ran")
    assert ticks > 10_000
    assert a.frame_count == frames + 5

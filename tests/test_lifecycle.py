"""Lifecycle: making and closing snes9x and Stella emulators does not grow the process; every core exits
cleanly with or without close; a reused copy is a fresh one; private core copies left by killed processes do
not pile up.

The long make/close loops run in a child process that prints its
measurement. ``RETRO_LIFECYCLE_CYCLES`` sets their length (CI runs a few
hundred; 10,000 is the manual check).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import retro
from retro import _core
from tests.lifecycle_campaign import rss_kb

ROOT = Path(__file__).resolve().parent.parent
CYCLES = int(os.environ.get("RETRO_LIFECYCLE_CYCLES", "400"))

def cycles_rss(kind: str, target: str, cycles: int = CYCLES) -> tuple[float, float]:
    """RSS in MB before and after make/close cycles in a child (``tests.lifecycle_campaign``'s loop)."""
    before, after = rss_kb(kind, target, None, cycles)
    print(f"{kind} {target}: {cycles} make/close cycles, RSS {before / 1024:.1f} MB -> {after / 1024:.1f} MB")
    return before / 1024, after / 1024


def test_make_close_cycles_keep_rss_flat_on_snes9x(test_roms: dict[str, Path]) -> None:
    before, after = cycles_rss("emulator", str(test_roms["snes"]), CYCLES * 2)
    assert after - before <= 20, f"RSS grew {after - before:.1f} MB over {CYCLES * 2} make/close cycles"


@pytest.mark.parametrize("rom", ["gb", "gbc", "gba", "pce"])
def test_make_close_cycles_keep_rss_flat_where_the_core_leaks_at_unload(rom: str, test_roms: dict[str, Path]) -> None:
    """gambatte (libstdc++'s exception pool, 72 KB a copy), mGBA (its settings, ~14 KB a game) and Mednafen PCE
    Fast (~290 KB a game) leak when a game is unloaded; their profiles' ``free_leaks`` frees what a closed copy
    still holds: under 8 KB a cycle."""
    before, after = cycles_rss("emulator", str(test_roms[rom]))
    per_cycle = (after - before) * 1024 / CYCLES
    assert per_cycle < 8, f"RSS grew {per_cycle:.1f} KB per make/close cycle ({before} -> {after} MB)"


@pytest.mark.parametrize("rom", ["gb", "gbc", "gba", "pce"])
def test_a_copy_whose_leaks_are_freed_plays_as_one_whose_are_not(
        rom: str, test_roms: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Recording a copy's allocations changes nothing it computes: frames, RAM and the last state are those of
    a copy that is not recorded."""
    from retro.profiles import profile_for

    path = test_roms[rom]
    with retro.RetroEmulator(path) as em:
        profile = profile_for(em.core.name)
        assert profile.free_leaks and em._heap_blocks(), "the copy's allocations are not recorded"
    recorded = run_digest(path)
    monkeypatch.setattr(profile, "free_leaks", False)
    with retro.RetroEmulator(path) as em:
        assert em._heap_blocks() is None
    plain = run_digest(path)
    with retro.RetroEmulator(path) as em:
        assert recorded[0] == plain[0] and em.states_equal(recorded[1], plain[1])


def test_copies_whose_leaks_are_freed_run_and_close_on_many_threads(test_roms: dict[str, Path]) -> None:
    """Eight mGBA and PCE Fast copies made, stepped and closed at once on four threads, twice over: each
    plays as a copy alone does (the record of which copy allocated what is shared by all of them)."""
    from concurrent.futures import ThreadPoolExecutor

    roms = [test_roms["gba"], test_roms["pce"]] * 4
    alone = {str(rom): run_digest(rom, 120)[0] for rom in roms[:2]}
    with ThreadPoolExecutor(4) as pool:
        for _ in range(2):
            digests = list(pool.map(lambda rom: run_digest(rom, 120)[0], roms))
            assert digests == [alone[str(rom)] for rom in roms]


def test_make_close_cycles_keep_rss_flat_on_stella() -> None:
    """Each Stella copy leaves libstdc++'s 72 KiB exception pool behind when it is unloaded: without reuse of
    closed copies, every make/close cycle grows the process by ~72 KB."""
    before, after = cycles_rss("make", "Pong-Atari2600")
    per_cycle = (after - before) * 1024 / CYCLES
    assert per_cycle < 8, f"RSS grew {per_cycle:.1f} KB per make/close cycle ({before} -> {after} MB)"
    assert after - before <= 20, f"RSS grew {after - before:.1f} MB over {CYCLES} make/close cycles"


def test_every_core_exits_cleanly_with_or_without_close(tmp_path: Path) -> None:
    """The exit campaign's short form (``python3 -m tests.lifecycle_campaign exit`` is the long one): on every
    core, after 100 and 600 frames, close then exit, exit without close, and close, make again and play, each
    in a child that must exit with status 0 (a crash in a core's deinit or at exit is a signal)."""
    from tests.lifecycle_campaign import CORES, MODES, exit_table

    table = exit_table([100, 600], tmp_path)
    assert len(table) == len(CORES) * 2 * len(MODES)
    bad = {case: f"status {status}: {err}" for case, (status, err) in table.items() if status}
    assert not bad, bad


_IDLE_CLOSE = """
import sys
import retro

em = retro.RetroEmulator(sys.argv[1])
print("undoes its idle patches:", em._call_before_unload(None if sys.argv[2] == "off" else "SekFinishIdleDet"))
em.step(600)
em.close()
print("closed", flush=True)
"""


@pytest.mark.parametrize("undo", ["on", "off"])
def test_a_32x_game_idling_below_0x10000_closes_cleanly(undo: str, test_roms: dict[str, Path]) -> None:
    """PicoDrive's 68000 idle-loop detection (from frame 360) patches the branch of a polling loop through a
    pointer into where the code is read from; for a 32X game below $10000, a copy inside the 32X's memory,
    which the core's unload frees before it undoes the patches there. The ``32x_idle`` ROM waits for vblank
    polling the VDP status there. With the picodrive profile's ``SekFinishIdleDet`` before the unload, a close
    after 600 frames exits 0; without it ("off", which this test keeps to show the ROM reaches the core's
    fault), the child dies of SIGSEGV in ``SekFinishIdleDet``."""
    r = subprocess.run([sys.executable, "-c", _IDLE_CLOSE, str(test_roms["32x_idle"]), undo],
                       capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if undo == "on":
        assert "undoes its idle patches: True" in r.stdout, r.stdout + r.stderr
        assert r.returncode == 0 and "closed" in r.stdout, (r.returncode, r.stderr[-2000:])
    else:
        assert r.returncode == -11 and "closed" not in r.stdout, (r.returncode, r.stderr[-2000:])  # died in close()


def test_the_idle_patches_are_undone_only_at_unload(test_roms: dict[str, Path]) -> None:
    """What the profile adds runs only when a game goes: states and pictures after 600 frames (idle-patched
    from frame 360) are those of an emulator without it."""
    runs = []
    for undo in (True, False):
        em = retro.RetroEmulator(test_roms["32x_idle"])
        assert em._call_before_unload("SekFinishIdleDet" if undo else None) is undo
        em.step(600)
        runs.append((em.get_state(), em.get_screen().copy(), bytes(em.get_memory())))
        em._call_before_unload("SekFinishIdleDet")  # this process goes on: undo the patches at close
        em.close()
    assert runs[0][0] == runs[1][0]
    assert np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]


def run_digest(rom: Path, frames: int = 240) -> tuple[str, bytes]:
    """A digest of the screen and RAM of every frame of a run with varying input, and its last state."""
    em = retro.RetroEmulator(rom)
    h = hashlib.sha1()
    for i in range(frames):
        em.set_button_mask((i * 7919 >> 3) & 0xFFF)
        em.step()
        h.update(em.get_ram().tobytes())
        h.update(em.screen.tobytes())
    state = em.get_state()
    em.close()
    return h.hexdigest(), state


def fresh_digest(rom: Path) -> tuple[str, bytes]:
    """The same run in a new process, where the core copy is certainly a newly loaded one."""
    code = (f"from tests.test_lifecycle import run_digest; d, s = run_digest({str(rom)!r}); "
            f"print(d, s.hex())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr[-2000:]
    digest, state = r.stdout.split()[-2:]
    return digest, bytes.fromhex(state)


@pytest.mark.parametrize("rom", ["snes", "atari2600"])
def test_a_reused_core_copy_runs_like_a_fresh_one(rom: str, test_roms: dict[str, Path]) -> None:
    """Frames and RAM the same, and states equal as the core's profile compares them."""
    path = test_roms[rom]
    first, first_state = run_digest(path)
    em = retro.RetroEmulator(path)
    core = em.core_path
    em.close()
    assert _core.idle_core_copies().get(core, 0) >= 1, "the closed copy was not kept for reuse"
    runs = [run_digest(path) for _ in range(2)]  # these run on the reused copy
    runs.append(fresh_digest(path))
    with retro.RetroEmulator(path) as em:
        assert [(d, em.states_equal(s, first_state)) for d, s in runs] == [(first, True)] * 3


def test_a_reused_copy_restores_states_like_a_fresh_one(test_roms: dict[str, Path]) -> None:
    rom = test_roms["snes"]
    em = retro.RetroEmulator(rom)
    em.step(100)
    state = em.get_state()
    em.step(50)
    after = em.get_ram().tobytes()
    em.close()
    for _ in range(2):  # reused copies
        em = retro.RetroEmulator(rom)
        em.step(7)
        em.set_state(state)
        em.step(50)
        assert em.get_ram().tobytes() == after
        em.close()


def test_copies_of_dead_processes_are_swept(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f"retro-core-{dead.pid}-1-AbC123"
    left.write_bytes(b"\x7fELF")
    alive = tmp_path / f"retro-core-{os.getpid()}-1-XyZ789"
    alive.write_bytes(b"\x7fELF")
    other = tmp_path / "retro-core-notes.txt"
    other.write_text("not a copy")
    assert _core.sweep_dead_copies(str(tmp_path)) == 1
    assert not left.exists() and alive.exists() and other.exists()


def test_a_kill_during_creation_leaves_no_copies(tmp_path: Path, airstriker_rom: Path) -> None:
    """Processes killed while they make emulators leave copies behind; the next process removes them."""
    import signal
    import time

    code = f"import retro\nwhile True:\n    retro.RetroEmulator({str(airstriker_rom)!r}).close()\n"
    env = dict(os.environ, PYTHONPATH=str(ROOT), RETRO_CORE_TMPDIR=str(tmp_path))
    for i in range(6):
        p = subprocess.Popen([sys.executable, "-c", code], env=env)
        time.sleep(0.8 + 0.05 * i)
        p.send_signal(signal.SIGKILL)
        p.wait()
    code = f"import retro\nretro.RetroEmulator({str(airstriker_rom)!r}).close()\n"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("retro-core-")] == []


# Stella: a reused copy plays frame for frame as a fresh one (RAM, picture, audio, states), through a reset
# and a restore, after the copy ran other games (a PAL one among them)
STELLA_GAMES = ("Pong-Atari2600", "MontezumaRevenge-Atari2600")  # a 2 KB cartridge; E0 bank switching
STELLA_FRAMES = 3000


def stella_record(rom: str, frames: int = STELLA_FRAMES) -> tuple[list[bytes], list[bytes]]:
    """Per frame, a digest of RAM, picture and audio, and every 200 frames the state, of a run with varying
    input that resets the console at 1/2 and restores a state saved at 1/3 at 2/3."""
    em = retro.RetroEmulator(rom)
    digests: list[bytes] = []
    states: list[bytes] = []
    saved = b""
    for i in range(frames):
        em.set_button_mask((i * 7919 >> 3) & 0xFFF if (i // 300) % 2 else (i * 104729 >> 5) & 0xFF)
        em.step()
        digests.append(hashlib.sha1(em.get_ram().tobytes() + em.screen.tobytes() + em.get_audio().tobytes())
                       .digest())
        if i % 200 == 199:
            states.append(em.get_state())
        if i == frames // 3:
            saved = em.get_state()
        elif i == frames // 2:
            em.reset()
        elif i == 2 * frames // 3:
            em.set_state(saved)
    em.close()
    return digests, states


def stella_fresh_record(rom: str) -> tuple[list[bytes], list[bytes]]:
    """The same run in a new process, on a newly loaded copy."""
    code = ("import pickle, sys; from tests.test_lifecycle import stella_record; "
            f"sys.stdout.buffer.write(pickle.dumps(stella_record({rom!r})))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-2000:]
    import pickle

    record: tuple[list[bytes], list[bytes]] = pickle.loads(r.stdout)
    return record


def stella_rom(game: str) -> str:
    return str(retro.data.get_romfile_path(game))


@pytest.mark.parametrize("game", STELLA_GAMES)
def test_a_reused_stella_copy_plays_like_a_fresh_one(game: str, test_roms: dict[str, Path]) -> None:
    rom = stella_rom(game)
    fresh = stella_fresh_record(rom)
    em = retro.RetroEmulator(test_roms["atari2600pal"])  # the copy's first frames are a PAL game's
    em.step(30)
    core = em.core_path
    em.close()
    for other in STELLA_GAMES:
        em = retro.RetroEmulator(stella_rom(other))
        em.step(200)
        em.close()
    assert _core.idle_core_copies().get(core, 0) >= 1
    for _ in range(2):
        waiting = _core.idle_core_copies()[core]
        em = retro.RetroEmulator(rom)
        assert _core.idle_core_copies().get(core, 0) == waiting - 1, "the emulator did not take the closed copy"
        em.close()
        digests, states = stella_record(rom)
        first = next((i for i, (a, b) in enumerate(zip(digests, fresh[0])) if a != b), None)
        assert first is None, f"RAM, picture or audio differ from a fresh copy's from frame {first}"
        assert len(digests) == len(fresh[0])
        assert states == fresh[1], "the states differ from a fresh copy's"


def test_a_reused_stella_copy_gives_each_game_its_audio(test_roms: dict[str, Path]) -> None:
    """Stella's ``retro_run`` sets its audio samples per frame on a copy's first frame; a reused copy gets it
    back as new, so a PAL game gets 629 a frame, an NTSC one 524, whatever ran on the copy before."""
    rates = []
    for name in ("atari2600pal", "atari2600", "atari2600pal"):
        em = retro.RetroEmulator(test_roms[name])
        em.step(2)
        em.step()
        rates.append((len(em.get_audio()), round(em.get_audio_rate() / em.get_screen_rate())))
        em.close()
    assert _core.idle_core_copies().get(em.core_path, 0) >= 1
    assert rates == [(629, 629), (524, 524), (629, 629)]


# -- views that outlive their emulator ------------------------------------------------------------------------------

def _stale_view_case(rom: str, core: str | None, how: str) -> tuple[bool, bool]:
    """A RAM view of an emulator that then closes (or power-cycles); a new emulator of the same core plays, and
    the old view is written all over: (did the new run's RAM change, does the old view still read its bytes)."""
    kwargs = {"core": core} if core else {}
    em1 = retro.RetroEmulator(rom, **kwargs)
    em1.step(30)
    views = list(em1.memory_blocks().values())
    kept = [bytes(v) for v in views]
    if how == "close":
        em1.close()
        em2 = retro.RetroEmulator(rom, **kwargs)
    else:
        em1.power_cycle()
        em2 = em1
    try:
        em2.step(30)
        before = em2.get_ram().copy()
        readable = [bytes(v) for v in views] == kept
        for view in views:
            view[:] = 0xA5
        del view
        em2.step(0)
        changed = not np.array_equal(em2.get_ram(), before)
        pending = _core.pending_core_copies()
        del views
        assert _core.pending_core_copies() == pending - 1, "the old game is unloaded when its last view goes"
    finally:
        em2.close()
    return changed, readable


@pytest.mark.parametrize("how", ["close", "power_cycle"])
@pytest.mark.parametrize("rom", ["nes", "snes", "atari2600", "gb", "gba", "sms", "pce", "32x", "genesis", "ale"])
def test_a_view_that_outlives_its_emulator_never_writes_into_another(
        rom: str, how: str, test_roms: dict[str, Path]) -> None:
    """The view keeps its game's memory: a core frees it when the game is unloaded (the ALE core's RAM is on the
    heap) and the next game loaded in the process would be handed it."""
    if rom == "ale":
        path, core = str(retro.data.get_romfile_path("Pong-Atari2600")), "ale"
    elif rom == "genesis":
        path, core = str(retro.data.get_romfile_path("Airstriker-Genesis")), None
    else:
        path, core = str(test_roms[rom]), None
    changed, readable = _stale_view_case(path, core, how)
    assert not changed and readable


def test_closing_envs_leaves_no_game_loaded() -> None:
    """Envs let go of their RAM views before their emulator closes, so closing one unloads its game at once."""
    before = _core.pending_core_copies()
    for game in ("Pong-Atari2600", "Airstriker-Genesis"):
        for _ in range(3):
            env = retro.make(game)
            env.reset()
            env.step(env.action_space.sample())
            env.close()
    assert _core.pending_core_copies() == before

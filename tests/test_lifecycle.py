"""Lifecycle: making and closing snes9x emulators does not grow the process; a reused copy is a fresh one;
private core copies left by killed processes do not pile up.

The long make/close loops run in a child process that prints its
measurement. ``RETRO_LIFECYCLE_CYCLES`` sets their length (CI runs a few
hundred; 10,000 is the manual check).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path


import retro
from retro import _core

ROOT = Path(__file__).resolve().parent.parent
CYCLES = int(os.environ.get("RETRO_LIFECYCLE_CYCLES", "400"))

LOOP = textwrap.dedent("""
    import sys
    import retro

    kind, target, cycles = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    def cycle():
        if kind == "make":
            env = retro.make(target)
            env.reset()
            env.step(env.action_space.sample())
        else:
            env = retro.RetroEmulator(target)
            env.step(2)
        env.close()

    for _ in range(50):  # warm up: allocator arenas, caches, the first copies
        cycle()
    before = rss_mb()
    for _ in range(cycles):
        cycle()
    print(f"{before:.1f} {rss_mb():.1f} {len(__import__('os').listdir('/proc/self/fd'))}")
""")


def cycles_rss(kind: str, target: str, cycles: int = CYCLES) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", LOOP, kind, target, str(cycles)], capture_output=True, text=True,
                       timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    before, after, _fds = r.stdout.split()
    print(f"{kind} {target}: {cycles} make/close cycles, RSS {before} MB -> {after} MB")
    return float(before), float(after)


def test_make_close_cycles_keep_rss_flat_on_snes9x(test_roms: dict[str, Path]) -> None:
    before, after = cycles_rss("emulator", str(test_roms["snes"]), CYCLES * 2)
    assert after - before <= 20, f"RSS grew {after - before:.1f} MB over {CYCLES * 2} make/close cycles"


def run_digest(rom: Path, frames: int = 240) -> str:
    """Screen, RAM and state of a fresh-looking run with varying input."""
    em = retro.RetroEmulator(rom)
    h = hashlib.sha1()
    for i in range(frames):
        em.set_button_mask((i * 7919 >> 3) & 0xFFF)
        em.step()
        h.update(em.get_ram().tobytes())
        h.update(em.screen.tobytes())
    h.update(em.get_state())
    em.close()
    return h.hexdigest()


def fresh_digest(rom: Path) -> str:
    """The same run in a new process, where the core copy is certainly a newly loaded one."""
    code = f"from tests.test_lifecycle import run_digest; print(run_digest({str(rom)!r}))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.split()[-1]


def test_a_reused_core_copy_runs_like_a_fresh_one(test_roms: dict[str, Path]) -> None:
    path = test_roms["snes"]
    first = run_digest(path)
    em = retro.RetroEmulator(path)
    core = em.core_path
    em.close()
    assert _core.idle_core_copies().get(core, 0) >= 1, "the closed copy was not kept for reuse"
    reused = [run_digest(path) for _ in range(2)]  # these run on the reused copy
    assert reused == [first, first]
    assert fresh_digest(path) == first


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

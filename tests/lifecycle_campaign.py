"""Exit and close, and make/close memory, on every core retro plays games on: the campaigns behind the tables.

    python3 -m tests.lifecycle_campaign exit [--frames 100,600,3000]
    python3 -m tests.lifecycle_campaign rss [--cycles 2000]

``exit``: per core and frame count, three child processes, each of which must
exit with status 0 (a crash at close or at exit is a signal): play then close
then exit; play then exit without closing; play, close, make again, play,
exit. ``rss``: per core, make/close cycles of an emulator (two frames each)
in a child, after a warm-up; the RSS growth per cycle. ``tests/test_lifecycle.py``
runs the exit campaign's short form (100 and 600 frames) on every core.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Core -> the test ROM (``tests/roms``) or provisioned game it plays, and the ``core=`` it is loaded with.
CORES: dict[str, tuple[str, str | None]] = {
    "stella": ("Pong-Atari2600", None),
    "ale": ("Pong-Atari2600", "ale"),
    "genesis_plus_gx": ("Airstriker-Genesis", None),
    "genesis_plus_gx (sms)": ("sms", None),
    "snes9x": ("snes", None),
    "fceumm": ("nes", None),
    "gambatte": ("gb", None),
    "gambatte (gbc)": ("gbc", None),
    "mgba": ("gba", None),
    "mednafen_pce_fast": ("pce", None),
    "picodrive": ("32x", None),
    "picodrive (32x, idle below $10000)": ("32x_idle", None),
}
MODES = ("close then exit", "exit without close", "close, make again, play")

_EXIT = textwrap.dedent("""
    import sys
    import retro

    rom, core, frames, mode = sys.argv[1], sys.argv[2] or None, int(sys.argv[3]), sys.argv[4]
    em = retro.RetroEmulator(rom, core=core)
    em.step(frames)
    if mode != "exit without close":
        em.close()
    if mode == "close, make again, play":
        em = retro.RetroEmulator(rom, core=core)
        em.step(frames)
    print("played", frames, flush=True)
""")

_RSS = textwrap.dedent("""
    import sys
    import retro

    kind, target, core, cycles = sys.argv[1], sys.argv[2], sys.argv[3] or None, int(sys.argv[4])

    def rss_kb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 1024

    def cycle():
        if kind == "make":  # an env of a game, reset and stepped
            env = retro.make(target, core=core)
            env.reset()
            env.step(env.action_space.sample())
        else:  # an emulator of a ROM, two frames
            env = retro.RetroEmulator(target, core=core)
            env.step(2)
        env.close()

    for _ in range(50):  # warm up: allocator arenas, caches, the first copies
        cycle()
    before = rss_kb()
    for _ in range(cycles):
        cycle()
    print(f"{before:.0f} {rss_kb():.0f}")
""")


def rom_path(target: str, roms: Path) -> str:
    """The ROM of a ``CORES`` target: a provisioned game's, or a test ROM assembled into ``roms``."""
    if "-" in target:
        import retro

        return str(retro.data.get_romfile_path(target))
    from tests.roms.build import build_rom

    return str(build_rom(target, roms))


def _child(code: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def exit_status(rom: str, core: str | None, frames: int, mode: str) -> tuple[int, str]:
    """The exit status of a child that plays ``frames`` frames and ends as ``mode`` says, and its stderr's tail."""
    r = _child(_EXIT, rom, core or "", str(frames), mode, timeout=300)
    played = f"played {frames}" in r.stdout.splitlines()  # (a core may print to stdout too)
    return (r.returncode if played or r.returncode else -999), r.stderr[-2000:]


def exit_table(frames: list[int], roms: Path, cores: list[str] | None = None,
               workers: int = 2) -> dict[tuple[str, int, str], tuple[int, str]]:
    """``(core, frames, mode) -> (exit status, stderr)`` for every case; children run ``workers`` at a time."""
    cases = [(name, n, mode) for name in (cores or list(CORES)) for n in frames for mode in MODES]
    paths = {name: rom_path(CORES[name][0], roms) for name in {c[0] for c in cases}}
    with ThreadPoolExecutor(workers) as pool:
        results = pool.map(lambda c: exit_status(paths[c[0]], CORES[c[0]][1], c[1], c[2]), cases)
        return dict(zip(cases, results))


def rss_kb(kind: str, target: str, core: str | None, cycles: int) -> tuple[float, float]:
    """RSS in KB of a child before and after ``cycles`` make/close cycles (after a warm-up of 50).

    ``kind`` ``"make"``: ``retro.make(target)`` reset and stepped; ``"emulator"``: a ROM's emulator, two frames.
    """
    r = _child(_RSS, kind, target, core or "", str(cycles), timeout=3600)
    if r.returncode:
        raise RuntimeError(f"the make/close loop failed (status {r.returncode}): {r.stderr[-2000:]}")
    before, after = map(float, r.stdout.split()[-2:])
    return before, after


def rss_per_cycle(rom: str, core: str | None, cycles: int) -> float:
    """KB of RSS an emulator's make/close cycle adds, after a warm-up."""
    before, after = rss_kb("emulator", rom, core, cycles)
    return (after - before) / cycles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.lifecycle_campaign", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("campaign", choices=["exit", "rss"])
    parser.add_argument("--frames", default="100,600,3000", help="exit: frame counts, comma-separated")
    parser.add_argument("--cycles", type=int, default=2000, help="rss: make/close cycles per core")
    parser.add_argument("--cores", default="", help="comma-separated names of CORES (default: all)")
    args = parser.parse_args(argv)
    cores = [c.strip() for c in args.cores.split(",") if c.strip()] or list(CORES)
    with tempfile.TemporaryDirectory(prefix="retro-campaign-") as scratch:
        roms = Path(scratch)
        if args.campaign == "exit":
            frames = [int(f) for f in args.frames.split(",")]
            table = exit_table(frames, roms, cores)
            print("| core | " + " | ".join(f"{mode}, {n} frames" for n in frames for mode in MODES) + " |")
            print("|---|" + "---:|" * (len(frames) * len(MODES)))
            for name in cores:
                print(f"| {name} | " + " | ".join(str(table[(name, n, mode)][0]) for n in frames for mode in MODES)
                      + " |")
            return 1 if any(status for status, _ in table.values()) else 0
        print("| core | KB per make/close cycle |")
        print("|---|---:|")
        worst = 0.0
        for name in cores:
            target, core = CORES[name]
            per = rss_per_cycle(rom_path(target, roms), core, args.cycles)
            worst = max(worst, per)
            print(f"| {name} | {per:.1f} |", flush=True)
        return 1 if worst >= 8 else 0


if __name__ == "__main__":
    sys.exit(main())

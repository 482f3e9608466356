"""Frames/s of ``RetroEnv.step()`` and ``RetroEmulator.step()`` against a minimal C frontend.

    python3 benchmarks/raw_core.py [--frames 3000] [--repeats 5] [--games airstriker,pong,...]

The reference is ``benchmarks/raw_core.c``: it calls ``retro_run`` in a
loop, converting every frame to RGB24 and taking the audio, as any frontend
must (also shown without the conversion, for information). retro steps one
frame per call from Python, with a new joypad mask every frame; the env
(games with an integration) steps with random MultiBinary actions and IMAGE
observations (a copy of the screen per step), computing reward, done and
info. Runs are interleaved and the table shows medians and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import retro  # noqa: E402
from retro import paths  # noqa: E402


def build_harness() -> Path:
    out = ROOT / "benchmarks" / "_build" / "raw_core"
    src = ROOT / "benchmarks" / "raw_core.c"
    headers = [ROOT / "retro" / "libretro_abi.h", ROOT / "retro" / "_convert.h"]
    if not out.exists() or out.stat().st_mtime < max(p.stat().st_mtime for p in [src, *headers]):
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cc", "-O2", "-Wall", f"-I{ROOT / 'retro'}", str(src), "-o", str(out), "-ldl"],
                       check=True)
    return out


ENV_GAMES = {"airstriker": "Airstriker-Genesis", "pong": "Pong-Atari2600"}  # and the test ROMs' (games())


def games() -> dict[str, Path]:
    """The benchmark's games: registry-carried ROMs plus the test ROMs we assemble."""
    found = {
        "airstriker": paths.roms_dir() / "stable-retro" / "Airstriker-Genesis.md",
        "pong": paths.roms_dir() / "ale-py" / "pong.a26",
    }
    try:
        sys.path.insert(0, str(ROOT / "tests" / "roms"))
        from build import build_rom  # type: ignore[import-not-found]

        outdir = Path(tempfile.mkdtemp(prefix="retro-bench-roms-"))
        sys.path.insert(0, str(ROOT))
        from tests.integration_helpers import write_test_rom_integration

        custom = outdir / "integrations"
        for system in ("nes", "snes", "gb", "gbc", "sms", "gg", "pce", "gba"):
            rom = found[f"{system}-test"] = build_rom(system, outdir)
            # an integration of the test ROM (frame counter, pad echo, held-A reward) gives it an env row;
            # its episodes end far beyond the benchmark's frames
            ENV_GAMES[f"{system}-test"] = write_test_rom_integration(rom, custom, done_at=65535)
        retro.data.Integrations.add_custom_path(custom)
    except Exception as e:  # the assembler may be missing; say so and go on
        print(f"(test ROMs not built: {e})", file=sys.stderr)
    return found


def run_c(harness: Path, core: str, rom: Path, frames: int, options: dict[str, str], convert: bool) -> float:
    args = [str(harness), core, str(rom), str(frames), f"convert={int(convert)}"]
    args += [f"{k}={v}" for k, v in options.items()]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    fields = dict(kv.split("=") for kv in out.split())
    return float(fields["fps"])


def run_retro(rom: Path, frames: int) -> float:
    with retro.RetroEmulator(rom) as em:
        em.step(10)
        masks = [int(m) for m in np.random.default_rng(0).integers(0, 1 << 12, size=frames)]
        step = em.step
        press = em.set_button_mask
        start = time.perf_counter()
        for m in masks:
            press(m)
            step()
        return frames / (time.perf_counter() - start)



def run_env_pair(game: str, frames: int) -> tuple[float, float, float]:
    """Frames/s of the env and of its bare emulator on identical work.

    Same start state (the env's default state), same inputs (the env's
    filtered masks for random MultiBinary actions), and the emulator restarts
    from the state (one frame, as ``reset()`` plays) wherever the env's
    episode ended, so both emulate the same frames. Returns (emulator step(),
    emulator step() + get_screen(), env step()).
    """
    env = retro.make(game, inttype=retro.data.Integrations.ALL)
    try:
        actions = np.random.default_rng(0).integers(0, 2, (frames, env.action_space.n))
        masks = [env.session.decode(a)[0] for a in actions]
        state = env.initial_state
        em = env.em
        env.reset()
        ends = set()
        for i, a in enumerate(actions):
            if env.step(a)[2]:
                ends.add(i)
                env.reset()

        def bare(screen: bool) -> float:
            em.set_state(state)
            em.step()
            start = time.perf_counter()
            for i, m in enumerate(masks):
                em.set_button_mask(m)
                em.step()
                if screen:
                    em.get_screen()
                if i in ends:
                    em.set_state(state)
                    em.set_button_mask(0)
                    em.step()
            return frames / (time.perf_counter() - start)

        def wrapped() -> float:
            env.reset()
            step = env.step
            start = time.perf_counter()
            for a in actions:
                if step(a)[2]:
                    env.reset()
            return frames / (time.perf_counter() - start)

        return bare(False), bare(True), wrapped()
    finally:
        env.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--games", default="")
    args = parser.parse_args(argv)
    harness = build_harness()
    table = []
    env_table = []
    for name, rom in games().items():
        if args.games and name not in args.games.split(","):
            continue
        with retro.RetroEmulator(rom) as em:
            core, options, system = em.core.path, em.options, em.system
        c, c_raw, ours, pairs = [], [], [], []
        for _ in range(args.repeats):
            c.append(run_c(harness, core, rom, args.frames, options, True))
            ours.append(run_retro(rom, args.frames))
            if name in ENV_GAMES:
                pairs.append(run_env_pair(ENV_GAMES[name], args.frames))
            c_raw.append(run_c(harness, core, rom, args.frames, options, False))
        mc, mr, mo = (statistics.median(x) for x in (c, c_raw, ours))
        table.append((name, system, Path(core).name, mc, mr, mo))
        if pairs:
            env_table.append((name, *(statistics.median(p[i] for p in pairs) for i in range(3)), mc))
    print(f"\nframes/s from power-on with random input, median of {args.repeats} interleaved runs "
          f"of {args.frames} frames")
    print(f"{'game':<12} {'system':<10} {'core':<28} {'C harness':>10} {'C no-conv':>10} "
          f"{'emulator':>10} {'emu/C':>7}")
    for name, system, core, mc, mr, mo in table:
        print(f"{name:<12} {system:<10} {core:<28} {mc:>10.0f} {mr:>10.0f} {mo:>10.0f} {mo / mc:>7.3f}")
    if env_table:
        print("\nenv vs its emulator on identical work (default state, the env's filtered inputs)")
        print(f"{'game':<12} {'emulator':>10} {'emu+screen':>11} {'env':>10} {'env/emu':>8} "
              f"{'env/(emu+screen)':>17} {'env/C':>7}")
        for name, emu, emu_screen, env, c_harness in env_table:
            print(f"{name:<12} {emu:>10.0f} {emu_screen:>11.0f} {env:>10.0f} {env / emu:>8.3f} "
                  f"{env / emu_screen:>17.3f} {env / c_harness:>7.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""retro's main job, for now: play a bundled game and report how fast it runs.

``python3 -m retro.scripts.demo [--frames N] [--rom PATH]`` loads Airstriker
(Genesis), presses random buttons for N frames, and prints frames per
second for single-frame steps, batched steps, and two emulators on two
threads.
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np

from retro import RetroEmulator, paths


def _run(em: RetroEmulator, frames: int, rng: np.random.Generator, batch: int = 1) -> float:
    masks = rng.integers(0, 1 << 12, size=frames // batch + 1)
    start = time.perf_counter()
    for i in range(frames // batch):
        em.set_button_mask(int(masks[i]))
        em.step(batch)
    return (frames // batch) * batch / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m retro.scripts.demo", description=__doc__)
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--rom", default=str(paths.roms_dir() / "stable-retro" / "Airstriker-Genesis.md"))
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)

    with RetroEmulator(args.rom) as em:
        d = em.describe()
        print(f"game: {args.rom}")
        print(f"system {d['system']} on core {d['library']} ({d['provider']}: {d['core_path']})")
        print(f"picture {d['resolution'][0]}x{d['resolution'][1]} {d['pixel_format']}, "
              f"{d['fps']:.2f} fps, audio {d['audio_rate']:.0f} Hz, RAM {d['ram_blocks']}")
        fps1 = _run(em, args.frames, rng)
        fps4 = _run(em, args.frames, rng, batch=4)
        screen = em.get_screen()
        print(f"after {em.frame_count} frames: screen {screen.shape}, {len(np.unique(screen.reshape(-1, 3), axis=0))} colours")
        print(f"step():  {fps1:8.0f} frames/s ({fps1 / d['fps']:.0f}x real time)")
        print(f"step(4): {fps4:8.0f} frames/s")

    ems = [RetroEmulator(args.rom) for _ in range(2)]
    rates = [0.0, 0.0]

    def worker(i: int) -> None:
        rates[i] = _run(ems[i], args.frames, np.random.default_rng(i))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    print(f"2 emulators on 2 threads: {2 * args.frames / wall:8.0f} frames/s in total "
          f"({2 * args.frames / wall / fps1:.2f}x one emulator)")
    for em in ems:
        em.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Go-Explore's exploration phase on Montezuma's Revenge, with RAM cells: ``python3 -m retro.examples.go_explore``.

Go-Explore (Ecoffet et al.) keeps an archive of *cells*, coarse descriptions
of the game's situation (here, from the RAM: level, room, the items held, and
the player's position in 16x16-pixel squares), each with the best way found
to reach it. Each round picks cells, returns to them, and explores from there
with random actions, each kept for a while; a cell reached for the first time,
or with a higher score (or as high, sooner), is saved with a snapshot of the
game. Cells are picked with the paper's weights: more likely the fewer times
they were chosen and seen, the more of their four neighbouring squares are not
in the archive yet (the frontier), and a tenth as likely per level below the
highest reached.

Returning is the part that needs the emulator: here every lane of a
``RetroVectorEnv`` on the ALE core is restored to a cell's snapshot (the
cores read their states together on the step pool) and all lanes explore
together. ``--backend ale`` runs the same algorithm, with the same seeds and
cell function, on ale-py's ``ALEInterface`` s (``cloneState``/``restoreState``,
one interface per lane, stepped in one Python thread: the ALE has no vector
API with per-lane states), and ``--backend both`` compares them. The best
trajectory is written as a ``.bk2`` (``--movie``), which ``retro playback``
replays to the same score.

    python3 -m retro.examples.go_explore --frames 2000000 --movie best.bk2
    python3 -m retro.examples.go_explore --backend both --frames 500000 --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

GAME = "MontezumaRevenge-Atari2600"
ROM = "montezuma_revenge"
FRAMESKIP = 4
#: RAM offsets (from the start of the 2600's 128 bytes) of what a cell is made of, and of the lives left.
ROOM, X, Y, LEVEL, INVENTORY, LIVES = 3, 42, 43, 57, 65, 58


def cell_of(ram: np.ndarray) -> tuple[int, int, int, int, int]:
    """The cell of a game: level, room, items held, and the player's 16x16-pixel square."""
    return int(ram[LEVEL]), int(ram[ROOM]), int(ram[INVENTORY]), int(ram[X]) // 16, int(ram[Y]) // 16


@dataclass
class Cell:
    state: Any               # what the backend restores: a retro.Snapshot, or an ALEState
    score: float
    steps: int               # agent steps from the start
    path: Any                # the actions from the start: (parent path, actions since) pairs, None at the start
    lives: int
    index: int = 0           # its row in the Selection's counts


class Selection:
    """How likely each cell is to be chosen (Ecoffet et al., appendix: count and neighbour scores, level
    weight), kept in arrays that grow with the archive, so a choice costs a few vector operations."""

    #: weights of the count scores (times chosen, times seen), and of each missing neighbour square
    CHOSEN, SEEN, NEIGHBOUR = 0.1, 0.3, 0.1

    def __init__(self) -> None:
        self.keys: list[Any] = []
        self.rows: dict[Any, int] = {}
        self.chosen = np.zeros(1024)
        self.seen = np.zeros(1024)
        self.missing = np.zeros(1024)  # neighbouring squares (left, right, up, down) not in the archive
        self.level = np.zeros(1024)

    def add(self, key: Any) -> int:
        """A new cell: its row; the neighbours it has (and is) counted."""
        row = len(self.keys)
        if row == len(self.chosen):
            for name in ("chosen", "seen", "missing", "level"):
                setattr(self, name, np.concatenate([getattr(self, name), np.zeros(row)]))
        self.keys.append(key)
        self.rows[key] = row
        level, room, items, x, y = key
        missing = 4
        for nx, ny in ((x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)):
            other = self.rows.get((level, room, items, nx, ny))
            if other is not None:
                missing -= 1
                self.missing[other] -= 1
        self.missing[row] = missing
        self.level[row] = level
        return row

    def choose(self, rng: np.random.Generator, count: int) -> list[Any]:
        n = len(self.keys)
        level = self.level[:n]
        score = (self.CHOSEN / np.sqrt(self.chosen[:n] + 0.001) + self.SEEN / np.sqrt(self.seen[:n] + 0.001)
                 + self.NEIGHBOUR * self.missing[:n] + 1.0) * 0.1 ** (level.max() - level)
        picked = rng.choice(n, size=count, p=score / score.sum())
        np.add.at(self.chosen, picked, 1)
        return [self.keys[j] for j in picked]


def actions_of(path: Any) -> list[int]:
    """The actions of a path, from the start."""
    parts = []
    while path is not None:
        path, tail = path
        parts.append(tail)
    return [a for part in reversed(parts) for a in part]


class RetroLanes:
    """The lanes of a ``RetroVectorEnv`` on the ALE core, observing the RAM."""

    name = "retro"

    def __init__(self, lanes: int, seed: int) -> None:
        from retro.vector import RetroVectorEnv

        self.venv = RetroVectorEnv(GAME, lanes, scenario="retro", core="ale", frameskip=FRAMESKIP, obs_type="ram",
                                   full_action_space=False)
        space: Any = self.venv.single_action_space  # Discrete: ALE's minimal set
        self.actions = int(space.n)
        rams, _ = self.venv.reset(seed=seed)
        self.start = rams[0].copy()

    def snapshot(self, lane: int) -> Any:
        return self.venv.snapshot([lane])[0]

    def restore(self, lanes: list[int], states: list[Any]) -> np.ndarray:
        return self.venv.restore(states, lanes)[0]

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rams, rewards, terminated, truncated, _ = self.venv.step(actions)
        return rams, rewards, terminated | truncated

    def close(self) -> None:
        self.venv.close()


class ALELanes:
    """The same on ale-py: one ``ALEInterface`` per lane, stepped one after another in this thread."""

    name = "ale-py"

    def __init__(self, lanes: int, seed: int) -> None:
        import ale_py

        from retro import paths

        rom = str(paths.roms_dir() / "ale-py" / f"{ROM}.a26")
        self.ales = []
        for i in range(lanes):
            ale = ale_py.ALEInterface()
            ale.setLoggerMode(ale_py.LoggerMode.Error)
            ale.setInt("random_seed", seed + i)
            ale.setFloat("repeat_action_probability", 0.0)
            ale.loadROM(rom)
            self.ales.append(ale)
        self.minimal = list(self.ales[0].getMinimalActionSet())
        self.actions = len(self.minimal)
        self.start = self.ales[0].getRAM().copy()

    def snapshot(self, lane: int) -> Any:
        return self.ales[lane].cloneState()

    def restore(self, lanes: list[int], states: list[Any]) -> np.ndarray:
        for lane, state in zip(lanes, states):
            self.ales[lane].restoreState(state)
        return np.stack([self.ales[lane].getRAM() for lane in range(len(self.ales))])

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rams, rewards, dones = [], np.zeros(len(self.ales)), np.zeros(len(self.ales), bool)
        for i, (ale, a) in enumerate(zip(self.ales, actions)):
            action = self.minimal[int(a)]
            for _ in range(FRAMESKIP):
                rewards[i] += ale.act(action)
            dones[i] = ale.game_over()
            rams.append(ale.getRAM())
        return np.stack(rams), rewards, dones

    def close(self) -> None:
        self.ales.clear()


@dataclass
class Result:
    backend: str
    seed: int
    frames: int
    seconds: float
    best_score: float
    cells: int
    rooms: int
    history: list[tuple[int, float, float]]   # (frames, seconds, best score) whenever the best score rose
    best_actions: list[int]

    def seconds_to(self, score: float) -> float | None:
        """Wall time until the best score first reached ``score`` (None: it never did)."""
        return next((s for _, s, best in self.history if best >= score), None)


def explore(lanes: Any, frames: int, seed: int, explore_steps: int = 100, repeat: float = 0.95,
            progress: Callable[[str], None] | None = None, until: float | None = None) -> Result:
    """Go-Explore's exploration phase for ``frames`` emulated frames on ``lanes`` (a backend above), or until the
    best score reaches ``until``."""
    rng = np.random.default_rng(seed)
    n = len(lanes.ales) if hasattr(lanes, "ales") else lanes.venv.num_envs
    start_cell = cell_of(lanes.start)
    selection = Selection()
    archive: dict[Any, Cell] = {start_cell: Cell(lanes.snapshot(0), 0.0, 0, None, int(lanes.start[LIVES]),
                                                 selection.add(start_cell))}
    # per lane: the cell it left from, its score and steps so far, the actions since, the steps left to explore
    base: list[Cell] = [archive[start_cell]] * n
    score = np.zeros(n)
    steps = np.zeros(n, np.int64)
    since: list[list[int]] = [[] for _ in range(n)]
    left = np.zeros(n, np.int64)
    action = rng.integers(lanes.actions, size=n)
    played, began = 0, time.perf_counter()
    best = 0.0
    history: list[tuple[int, float, float]] = [(0, 0.0, 0.0)]

    restart = list(range(n))
    while played < frames and (until is None or best < until):
        if restart:
            chosen = selection.choose(rng, len(restart))
            for lane, key in zip(restart, chosen):
                cell = archive[key]
                base[lane], score[lane], steps[lane] = cell, cell.score, cell.steps
                since[lane] = []
                left[lane] = explore_steps
            rams = lanes.restore(restart, [archive[key].state for key in chosen])
            restart = []
        keep = rng.random(n) < repeat
        action = np.where(keep, action, rng.integers(lanes.actions, size=n))
        rams, rewards, dones = lanes.step(action)
        played += n * FRAMESKIP
        score += rewards
        steps += 1
        left -= 1
        for i in range(n):
            since[i].append(int(action[i]))
            ram = rams[i]
            if dones[i] or int(ram[LIVES]) < base[i].lives:  # lost a life: this exploration ends
                restart.append(i)
                continue
            key = cell_of(ram)
            known = archive.get(key)
            if known is not None:
                selection.seen[known.index] += 1
            if known is None or score[i] > known.score or (score[i] == known.score and steps[i] < known.steps):
                path = (base[i].path, tuple(since[i]))
                cell = Cell(lanes.snapshot(i), float(score[i]), int(steps[i]), path, int(ram[LIVES]),
                            known.index if known else selection.add(key))
                archive[key] = cell
                base[i], since[i] = cell, []
                if score[i] > best:
                    best = float(score[i])
                    history.append((played, time.perf_counter() - began, best))
                    if progress:
                        progress(f"{lanes.name}: score {best:.0f} after {played:,} frames "
                                 f"({time.perf_counter() - began:.0f} s), {len(archive)} cells")
            if left[i] <= 0:
                restart.append(i)
    seconds = time.perf_counter() - began
    top = max(archive.values(), key=lambda c: (c.score, -c.steps))
    rooms = len({(k[0], k[1]) for k in archive})
    return Result(lanes.name, seed, played, seconds, top.score, len(archive), rooms, history, actions_of(top.path))


def write_movie(actions: list[int], path: str) -> float:
    """Play ``actions`` from the start in a ``RetroEnv`` that records the episode into ``path`` (a ``.bk2``,
    starting with the frame its reset plays, as every recording does); the score it reaches."""
    import os
    import shutil
    import tempfile

    import retro

    with tempfile.TemporaryDirectory(prefix="go-explore-") as folder:
        env = retro.make(GAME, scenario="retro", core="ale", frameskip=FRAMESKIP, full_action_space=False,
                         api="gymnasium", record=folder)
        try:
            env.reset(seed=0)
            total = sum(float(env.step(a)[1]) for a in actions)
        finally:
            env.close()
        [movie] = [os.path.join(folder, f) for f in os.listdir(folder)]
        shutil.move(movie, path)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("retro", "ale", "both"), default="retro")
    parser.add_argument("--frames", type=int, default=2_000_000, help="emulated frames per run")
    parser.add_argument("--lanes", type=int, default=8)
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, one run each")
    parser.add_argument("--target", type=float, default=2500.0, help="the score whose wall time is reported")
    parser.add_argument("--until", action="store_true", help="end each run once it reaches the target score")
    parser.add_argument("--movie", help="write the best trajectory of the first retro run as this .bk2")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    choices: dict[str, list[Callable[[int, int], Any]]] = {
        "retro": [RetroLanes], "ale": [ALELanes], "both": [RetroLanes, ALELanes]}
    backends = choices[args.backend]
    results: list[Result] = []
    say = None if args.quiet else (lambda line: print(line, flush=True))
    for seed in seeds:
        for make in backends:
            lanes = make(args.lanes, seed)
            try:
                results.append(explore(lanes, args.frames, seed, progress=say,
                                       until=args.target if args.until else None))
            finally:
                lanes.close()
    print(f"\nGo-Explore on {GAME}, {args.lanes} lanes, {args.frames:,} frames per run")
    print(f"| backend | seed | best score | rooms | cells | frames/s | seconds to {args.target:g} |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        reached = r.seconds_to(args.target)
        print(f"| {r.backend} | {r.seed} | {r.best_score:.0f} | {r.rooms} | {r.cells} | {r.frames / r.seconds:,.0f} "
              f"| {'-' if reached is None else f'{reached:.0f}'} |")
    times: dict[str, float] = {}
    for name in dict.fromkeys(r.backend for r in results):
        mine = [r for r in results if r.backend == name]
        arrivals = [r.seconds_to(args.target) for r in mine]
        line = (f"{name}: median best score {statistics.median(r.best_score for r in mine):.0f}, "
                f"median frames/s {statistics.median(r.frames / r.seconds for r in mine):,.0f}")
        if all(t is not None for t in arrivals):  # the median over runs that all reached the target
            times[name] = statistics.median(t for t in arrivals if t is not None)
            line += f", median seconds to {args.target:g}: {times[name]:.0f}"
        print(line)
    if len(times) == 2:
        print(f"wall time to {args.target:g}, ale-py / retro: {times['ale-py'] / times['retro']:.2f}x")
    if args.movie:
        first = next((r for r in results if r.backend == "retro"), None)
        if first is not None:
            score = write_movie(first.best_actions, args.movie)
            print(f"{args.movie}: the best trajectory ({len(first.best_actions)} steps), replayed here to "
                  f"score {score:.0f} (the archive says {first.best_score:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

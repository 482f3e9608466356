"""retro against its peers (stable-retro, the ALE, EnvPool) on the same games, in one run.

    python3 benchmarks/peers.py            # ~6-7 minutes; writes docs/benchmarks.md
    python3 benchmarks/peers.py --quick    # ~1.5 minutes; writes benchmarks/_build/benchmarks-quick.md
    python3 benchmarks/peers.py --render benchmarks/_build/peers-results.json   # rewrite the doc, no measuring
    python3 benchmarks/peers.py --only 'retro.ale.emulator*.Pong,ale.raw.Pong' --rounds 5
        # only the measurements whose keys match (fnmatch patterns, comma-separated; the control
        # always runs); writes benchmarks/_build/benchmarks-only.md. --list prints every key.

Set-up (idempotent, under ``benchmarks/_build/``): a virtualenv with
stable-retro 1.0.1 (its wheel ships a top-level ``retro`` package, so it never
enters our environment; Pong is imported into its data with its own
importer from ``$RETRO_HOME/roms/ale-py/pong.a26``), a virtualenv with
EnvPool (it pulls in matplotlib, dm-env and MuJoCo assets), and ale-py 0.12.1
installed into our environment if it is missing (it imports as ``ale_py``).

Every peer runs in a worker process of its own (``benchmarks/_peer_workers/``)
with its own interpreter; workers wait idle on stdin while another measures.
Every round runs every measurement once, in a shuffled order; each
measurement steps for a fixed time with pre-generated random actions, after
a warm-up. Tables give medians over the rounds (and min-max); memory is
read from /proc/self/status in fresh processes. Nothing here is part of the
test suite.
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import json
import os
import platform
import queue
import random
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKERS = ROOT / "benchmarks" / "_peer_workers"
BUILD = ROOT / "benchmarks" / "_build"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import _doc  # noqa: E402
from retro import paths  # noqa: E402

STABLE_RETRO = "stable-retro==1.0.1"
ALE_PY = "ale-py==0.12.1"
ENVPOOL = "envpool"
GAMES = {"Airstriker": ("Airstriker-Genesis", "Airstriker-Genesis-v0"),
         "Pong": ("Pong-Atari2600", "Pong-Atari2600-v0")}
REQUEST_TIMEOUT = 300.0
#: Atari games measured on retro's ALE core against the ALE and EnvPool:
#: short name -> (retro game, ale-py ROM name, ALE gymnasium id, EnvPool task).
ALE_GAMES = {"Pong": ("Pong-Atari2600", "pong", "ALE/Pong-v5", "Pong-v5"),
             "Breakout": ("Breakout-Atari2600", "breakout", "ALE/Breakout-v5", "Breakout-v5"),
             "Seaquest": ("Seaquest-Atari2600", "seaquest", "ALE/Seaquest-v5", "Seaquest-v5")}
ALE_ENVS = (1, 2, 4, 8)
RETRO_LOCKSTEP = ("vec1", "vec2", "vec4", "vec8", "vec2proc")
RETRO_ALL = ("env", *RETRO_LOCKSTEP, "free2thr", "free2proc")
SR_ALL = ("env", "procs2", "async2")
RESET_GAP = 300  # frames played between resets in the "after an episode" reset timing


# -- set-up -------------------------------------------------------------------------------


class SetupError(RuntimeError):
    pass


def _run(cmd: list[str], log: Path, **kw: Any) -> subprocess.CompletedProcess[str]:
    with open(log, "a") as f:
        f.write(f"\n$ {' '.join(cmd)}\n")
        f.flush()
        return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, text=True, **kw)


def _probe(python: str, code: str) -> str | None:
    r = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=BUILD)
    return r.stdout.strip() if r.returncode == 0 else None


def ensure_venv(name: str, requirement: str, probe: str, log: Path) -> str:
    """``benchmarks/_build/<name>-venv`` with ``requirement`` installed; returns its python."""
    venv = BUILD / f"{name}-venv"
    python = venv / "bin" / "python"
    if python.exists() and _probe(str(python), probe):
        return str(python)
    print(f"setting up {venv.relative_to(ROOT)} ({requirement}) ...", flush=True)
    if not python.exists():
        if _run([sys.executable, "-m", "venv", str(venv)], log).returncode:
            raise SetupError(f"python3 -m venv {venv} failed (see {log})")
    if _run([str(python), "-m", "pip", "install", "--quiet", requirement], log).returncode:
        raise SetupError(f"pip install {requirement} failed (see {log})")
    if not _probe(str(python), probe):
        err = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=BUILD).stderr
        raise SetupError(f"{requirement} installed but does not import: {err.strip().splitlines()[-1:]}")
    return str(python)


def _stable_retro_requirement() -> str:
    """The pinned wheel that set-up already downloaded (sha256-checked), else the release by name."""
    from retro import provision

    source = provision.load_manifest()["sources"]["stable-retro"]
    wheel = paths.cache_dir() / source["filename"]
    if wheel.is_file() and provision.sha256_file(wheel) == source["sha256"]:
        return str(wheel)
    return STABLE_RETRO


def ensure_stable_retro(log: Path, games: tuple[str, ...] = ("Pong-Atari2600-v0",)) -> str:
    """stable-retro 1.0.1 in its own virtualenv, with the ROMs set-up provisions imported for ``games``."""
    python = ensure_venv("stable-retro", _stable_retro_requirement(),
                         "from importlib.metadata import version; import stable_retro; "
                         "assert version('stable-retro') == '1.0.1'; print('ok')", log)
    check = ("import sys, stable_retro\n"
             "for g in sys.argv[1:]: stable_retro.data.get_romfile_path(g)\n"
             "print('ok')")

    def imported() -> bool:
        r = subprocess.run([python, "-c", check, *games], capture_output=True, text=True, cwd=BUILD)
        return r.returncode == 0

    if not imported():
        roms = paths.roms_dir()
        if not roms.is_dir():
            raise SetupError(f"{roms} is missing (python3 -m retro.provision fetches the ROMs)")
        _run([python, "-m", "stable_retro.import", str(roms)], log, cwd=BUILD)
        if not imported():
            raise SetupError(f"stable_retro.import did not import the ROMs of {games} from {roms} (see {log})")
    return python


def ensure_ale(log: Path) -> str:
    probe = "import ale_py; print(ale_py.__version__)"
    if not _probe(sys.executable, probe):
        print(f"installing {ALE_PY} into this environment ...", flush=True)
        if _run([sys.executable, "-m", "pip", "install", "--quiet", ALE_PY], log).returncode:
            raise SetupError(f"pip install {ALE_PY} failed (see {log})")
        if not _probe(sys.executable, probe):
            raise SetupError(f"{ALE_PY} installed but does not import (see {log})")
    return sys.executable


def ensure_envpool(log: Path) -> str:
    return ensure_venv("envpool", ENVPOOL,
                       "import envpool, numpy; e = envpool.make('Pong-v5', env_type='gymnasium', num_envs=1); "
                       "e.reset(); print(envpool.__version__)", log)


# -- workers ------------------------------------------------------------------------------


class WorkerError(RuntimeError):
    pass


class Worker:
    """A worker process answering one JSON request per line (see _peer_workers/common.py)."""

    def __init__(self, name: str, python: str, script: str, log: Path) -> None:
        self.name = name
        self.log = log
        self._err = open(log, "a")
        self.proc = subprocess.Popen([python, str(WORKERS / script)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._err, text=True, cwd=BUILD)
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        first = self._answer()
        if "ready" not in first:
            raise WorkerError(f"{name} worker failed to start: {first.get('error', first)}")
        self.info: dict[str, Any] = first["ready"]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")

    def _answer(self) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=REQUEST_TIMEOUT)
        except queue.Empty:
            self.proc.kill()
            raise WorkerError(f"{self.name} worker did not answer in {REQUEST_TIMEOUT:.0f} s") from None
        if not line:
            raise WorkerError(f"{self.name} worker exited (code {self.proc.wait()}); see {self.log}")
        return json.loads(line)

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, "args": args}) + "\n")
        self.proc.stdin.flush()
        ans = self._answer()
        if "error" in ans:
            raise WorkerError(ans["error"].strip().splitlines()[-1])
        return ans["ok"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._err.close()


def one_shot(python: str, script: str, args: list[str], log: Path) -> dict[str, Any]:
    with open(log, "a") as err:
        r = subprocess.run([python, str(WORKERS / script), *args], stdout=subprocess.PIPE, stderr=err,
                           text=True, cwd=BUILD, timeout=REQUEST_TIMEOUT)
    if r.returncode:
        raise WorkerError(f"{script} {' '.join(args)} exited {r.returncode}; see {log}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# -- measurements -------------------------------------------------------------------------


@dataclass
class Measure:
    key: str
    worker: str  # retro, ale, stable-retro, envpool; or "<python>:<script>" for one-shot processes
    op: str
    args: dict[str, Any]
    samples: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def values(self, field_: str = "rate") -> list[float]:
        return [s[field_] for s in self.samples if s.get(field_) is not None]

    def median(self, field_: str = "rate") -> float | None:
        v = self.values(field_)
        return statistics.median(v) if v else None


def plan(seconds: float, resets: int) -> list[Measure]:
    m: list[Measure] = []
    gap_resets = max(5, resets // 5)
    for short, (game, sr_game) in GAMES.items():
        m.append(Measure(f"retro.emulator.{short}", "retro", "emulator", {"game": game, "duration": seconds}))
        m.append(Measure(f"retro.env.{short}", "retro", "env_single", {"game": game, "duration": seconds}))
        for n in (1, 2, 4, 8):
            m.append(Measure(f"retro.vec{n}.{short}", "retro", "vector",
                             {"game": game, "n": n, "duration": seconds}))
        m.append(Measure(f"retro.vec2proc.{short}", "retro", "vector",
                         {"game": game, "n": 2, "duration": seconds, "mode": "process"}))
        m.append(Measure(f"retro.free2thr.{short}", "retro", "free_threads",
                         {"game": game, "n": 2, "duration": seconds}))
        m.append(Measure(f"retro.free2proc.{short}", "retro", "free_processes",
                         {"game": game, "n": 2, "duration": seconds}))
        m.append(Measure(f"retro.reset.{short}", "retro", "reset_ms", {"game": game, "count": resets}))
        m.append(Measure(f"retro.resetgap.{short}", "retro", "reset_ms",
                         {"game": game, "count": gap_resets, "gap": RESET_GAP}))
        m.append(Measure(f"retro.memory.{short}", "retro-memory", "memory", {"game": game}))
        m.append(Measure(f"sr.env.{short}", "stable-retro", "single", {"game": sr_game, "duration": seconds}))
        m.append(Measure(f"sr.procs2.{short}", "stable-retro", "processes",
                         {"game": sr_game, "duration": seconds, "n": 2}))
        m.append(Measure(f"sr.async2.{short}", "stable-retro", "async_vector",
                         {"game": sr_game, "duration": seconds, "n": 2}))
        m.append(Measure(f"sr.reset.{short}", "stable-retro", "reset_ms", {"game": sr_game, "count": resets}))
        m.append(Measure(f"sr.resetgap.{short}", "stable-retro", "reset_ms",
                         {"game": sr_game, "count": gap_resets, "gap": RESET_GAP}))
        m.append(Measure(f"sr.memory.{short}", "stable-retro-memory", "memory", {"game": sr_game}))
    for n in (1, 2):
        m.append(Measure(f"retro.atari{n}.Pong", "retro", "vector",
                         {"game": "Pong-Atari2600", "n": n, "duration": seconds, "frameskip": 4,
                          "preprocess": True}))
        m.append(Measure(f"ale.vec{n}.Pong", "ale", "vector", {"game": "pong", "n": n, "duration": seconds}))
        m.append(Measure(f"envpool.vec{n}.Pong", "envpool", "vector",
                         {"task": "Pong-v5", "n": n, "duration": seconds, "num_threads": 2}))
    m.append(Measure("ale.raw.Pong", "ale", "raw", {"game": "pong", "duration": seconds}))
    m.append(Measure("ale.gym.Pong", "ale", "gym", {"env_id": "ALE/Pong-v5", "duration": seconds}))
    have = {x.key for x in m}
    for short, (game, rom, gym_id, task) in ALE_GAMES.items():
        ale_core = {"game": game, "duration": seconds, "core": "ale"}
        # per frame: the same inputs as the ALE's own measurement (its minimal action set)
        m.append(Measure(f"retro.ale.emulator.{short}", "retro", "emulator", {**ale_core, "minimal": True}))
        m.append(Measure(f"retro.ale.emulator_novideo.{short}", "retro", "emulator",
                         {**ale_core, "video": False, "minimal": True}))
        m.append(Measure(f"retro.ale.env.{short}", "retro", "env_single", ale_core))
        extra = [Measure(f"ale.raw.{short}", "ale", "raw", {"game": rom, "duration": seconds}),
                 Measure(f"ale.gym.{short}", "ale", "gym", {"env_id": gym_id, "duration": seconds})]
        for n in ALE_ENVS:
            m.append(Measure(f"retro.ale.atari{n}.{short}", "retro", "vector",
                             {**ale_core, "n": n, "frameskip": 4, "preprocess": True}))
            extra.append(Measure(f"ale.vec{n}.{short}", "ale", "vector", {"game": rom, "n": n, "duration": seconds}))
            extra.append(Measure(f"envpool.vec{n}.{short}", "envpool", "vector",
                                 {"task": task, "n": n, "duration": seconds, "num_threads": 2}))
        m += [x for x in extra if x.key not in have]
    for n in (1, 2):
        m.append(Measure(f"spin{n}", "retro", "spin", {"n": n, "duration": min(seconds, 1.0)}))
    return m


def select(measures: list[Measure], only: str | None) -> list[Measure]:
    """The measurements whose keys match one of ``only``'s comma-separated patterns, and the control."""
    if not only:
        return measures
    patterns = [p.strip() for p in only.split(",") if p.strip()]
    chosen = [m for m in measures if any(fnmatch.fnmatchcase(m.key, p) for p in patterns)]
    return chosen + [m for m in measures if m.op == "spin" and m not in chosen] if chosen else []


# -- the machine --------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    hyper = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Hypervisor vendor:"):
                hyper = line.split(":", 1)[1].strip()
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    status = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                            capture_output=True, text=True).stdout.splitlines()
    changed = sorted(line[3:] for line in status if line[3:] and not line[3:].startswith("docs/"))
    import numpy

    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": mem_kb / 1024 ** 2, "hypervisor": hyper,
            "kernel": platform.release(), "python": platform.python_version(), "numpy": numpy.__version__,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit, "changed": changed, "load_start": os.getloadavg()}


# -- reporting ----------------------------------------------------------------------------


def fmt(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or b is None or not b else f"{a / b:.2f}x"


class Report:
    def __init__(self, measures: list[Measure], info: dict[str, Any], args: argparse.Namespace) -> None:
        self.m = {x.key: x for x in measures}
        self.info = info
        self.args = args

    def med(self, key: str, field_: str = "rate") -> float | None:
        x = self.m.get(key)
        return x.median(field_) if x else None

    def spread(self, key: str, digits: int = 0) -> str:
        x = self.m.get(key)
        if x is None or not x.values():
            return "n/a" if x is None or not x.error else "failed"
        v = x.values()
        return f"{fmt(statistics.median(v), digits)} ({fmt(min(v), digits)}-{fmt(max(v), digits)})"

    def best(self, keys: list[str]) -> tuple[str | None, float | None]:
        vals: list[tuple[str, float]] = []
        for k in keys:
            v = self.med(k)
            if v is not None:
                vals.append((k, v))
        if not vals:
            return None, None
        k, v = max(vals, key=lambda kv: kv[1])
        return k, v

    LABELS = {
        "retro.env": "retro env (1 env, 1 thread)", "retro.vec1": "retro vector, 1 env",
        "retro.vec2": "retro vector, 2 envs (threads)", "retro.vec4": "retro vector, 4 envs (threads)",
        "retro.vec8": "retro vector, 8 envs (threads)", "retro.vec2proc": "retro vector, 2 envs (processes)",
        "retro.free2thr": "retro, 2 threads each stepping its own env",
        "retro.free2proc": "retro, 2 worker processes",
        "sr.env": "stable-retro env (1 env)", "sr.procs2": "stable-retro, 2 worker processes",
        "sr.async2": "stable-retro, AsyncVectorEnv 2 envs",
    }

    def ale_core_tables(self) -> list[str]:
        """retro on its ALE core (``core="ale"``) against the ALE and EnvPool, on the same Stella."""
        g = list(ALE_GAMES)
        out = ["### Atari 2600 on retro's ALE core: against the ALE and EnvPool\n",
               "retro runs the ALE's own emulator here (`core=\"ale\"`, the game's `retro` variant, its start state "
               "made on the ALE core by its recipe), so these rows compare frontends on the same emulator. "
               "Per frame: `ALEInterface.act` converts no picture (it only copies the palette indices), so "
               "`RetroEmulator.step()` is measured twice: converting every frame to RGB, and like for like with "
               "video off (`video_enabled = False`: no picture converted). Both play random actions of the "
               "game's minimal action set, the inputs `ALEInterface.act` is given (random joypad masks would "
               "also press Pong's SELECT and RESET switches, a different workload).\n",
               "| | " + " | ".join(g) + " |", "|---|" + "---:|" * len(g)]
        rows = [("retro ALE core `RetroEmulator.step()`, RGB picture every frame (frames/s)",
                 "retro.ale.emulator", "rate"),
                ("retro ALE core `RetroEmulator.step()`, video off: no picture, like `ALEInterface.act` (frames/s)",
                 "retro.ale.emulator_novideo", "rate"),
                ("ALE `ALEInterface.act`, frameskip 1, no picture (frames/s)", "ale.raw", "rate"),
                ("retro ALE core `retro.make(game, core='ale')` env, RGB (steps/s)", "retro.ale.env", "rate"),
                ("ALE `gymnasium.make('ALE/<Game>-v5', frameskip=1)`, RGB (steps/s)", "ale.gym", "rate")]
        for n in ALE_ENVS:
            envs = f"{n} env{'s' * (n > 1)}"
            rows += [(f"retro ALE core `RetroVectorEnv`, Atari preprocessing, {envs} (env-steps/s)",
                      f"retro.ale.atari{n}", "rate"),
                     (f"ALE `AtariVectorEnv`, {envs} (env-steps/s)", f"ale.vec{n}", "rate"),
                     (f"EnvPool, {envs}, 2 threads (env-steps/s)", f"envpool.vec{n}", "rate")]
        for label, k, _ in rows:
            out.append(f"| {label} | " + " | ".join(self.spread(f"{k}.{x}") for x in g) + " |")
        ratios = [("*per frame, RGB every frame: ALE core / ALEInterface.act*", "retro.ale.emulator", "ale.raw"),
                  ("*per frame, like for like (no picture): ALE core video off / ALEInterface.act*",
                   "retro.ale.emulator_novideo", "ale.raw"),
                  ("*single env RGB: ALE core env / ALE gymnasium env*", "retro.ale.env", "ale.gym")]
        for n in ALE_ENVS:
            envs = f"{n} env{'s' * (n > 1)}"
            ratios += [(f"*preprocessing, {envs}: ALE core / ALE*", f"retro.ale.atari{n}", f"ale.vec{n}"),
                       (f"*preprocessing, {envs}: ALE core / EnvPool*", f"retro.ale.atari{n}", f"envpool.vec{n}")]
        for label, a, b in ratios:
            cells = [ratio(self.med(f"{a}.{x}"), self.med(f"{b}.{x}")) for x in g]
            out.append(f"| {label} | " + " | ".join(cells) + " |")
        out.append("")
        return out

    def tables(self) -> list[str]:
        out: list[str] = []
        g = list(GAMES)
        out.append("### Single env, one frame per step, RGB observations (steps/s = frames/s)\n")
        out.append("| | " + " | ".join(g) + " |")
        out.append("|---|" + "---:|" * len(g))
        rows = [("retro `RetroEmulator.step()` (emulator alone)", "retro.emulator"),
                ("retro `retro.make(game)` env", "retro.env"),
                ("stable-retro `stable_retro.make(...)` env", "sr.env")]
        for label, k in rows:
            out.append(f"| {label} | " + " | ".join(self.spread(f"{k}.{x}") for x in g) + " |")
        out.append("| ALE `ALEInterface.act` (frameskip 1) | n/a | " + self.spread("ale.raw.Pong") + " |")
        out.append("| ALE `gymnasium.make('ALE/Pong-v5', frameskip=1)` | n/a | " + self.spread("ale.gym.Pong") + " |")
        out.append("| *retro env / retro emulator* | " + " | ".join(
            ratio(self.med(f"retro.env.{x}"), self.med(f"retro.emulator.{x}")) for x in g) + " |")
        out.append("| *retro env / stable-retro env* | " + " | ".join(
            ratio(self.med(f"retro.env.{x}"), self.med(f"sr.env.{x}")) for x in g) + " |")
        out.append("| *ALE raw / retro emulator* | n/a | "
                   + ratio(self.med("ale.raw.Pong"), self.med("retro.emulator.Pong")) + " |")
        out.append("| *ALE gymnasium env / ALE raw* | n/a | "
                   + ratio(self.med("ale.gym.Pong"), self.med("ale.raw.Pong")) + " |")
        out.append("| *ALE gymnasium env / retro env* | n/a | "
                   + ratio(self.med("ale.gym.Pong"), self.med("retro.env.Pong")) + " |")
        out.append("")

        out.append("### Many envs, one frame per step, RGB observations (env-steps/s summed over envs)\n")
        out.append("| | " + " | ".join(f"{x} | vs 1 env" for x in g) + " |")
        out.append("|---|" + "---:|---:|" * len(g))
        for k in ("retro.env", "retro.vec1", "retro.vec2", "retro.vec4", "retro.vec8", "retro.vec2proc",
                  "retro.free2thr", "retro.free2proc", "sr.env", "sr.procs2", "sr.async2"):
            base = "retro.vec1" if k.startswith("retro.vec") else "retro.env" if k.startswith("retro") else "sr.env"
            cells = []
            for x in g:
                cells.append(self.spread(f"{k}.{x}"))
                cells.append(ratio(self.med(f"{k}.{x}"), self.med(f"{base}.{x}")))
            out.append(f"| {self.LABELS[k]} | " + " | ".join(cells) + " |")
        out.append("")

        out.append("### Best on the 2 cores, one frame per step, RGB observations (env-steps/s)\n")
        out.append("| | retro best | configuration | stable-retro best | configuration | retro / stable-retro |")
        out.append("|---|---:|---|---:|---|---:|")
        kinds = (("any configuration", RETRO_ALL, SR_ALL),
                 ("vector envs (all envs step together)", RETRO_LOCKSTEP, ("async2",)),
                 ("free-running workers", ("free2thr", "free2proc"), ("procs2",)))
        for x in g:
            for kind, rc, sc in kinds:
                rk, rv = self.best([f"retro.{c}.{x}" for c in rc])
                sk, sv = self.best([f"sr.{c}.{x}" for c in sc])
                out.append(f"| {x}, {kind} | {fmt(rv)} | "
                           f"{self.LABELS.get(rk.rsplit('.', 1)[0], '') if rk else 'n/a'} | "
                           f"{fmt(sv)} | {self.LABELS.get(sk.rsplit('.', 1)[0], '') if sk else 'n/a'} | "
                           f"{ratio(rv, sv)} |")
        out.append("")

        out.append("### Pong with Atari preprocessing: frameskip 4, max-pool, 84x84 grayscale\n")
        out.append("| | env-steps/s | frames/s | vs retro, same envs |")
        out.append("|---|---:|---:|---:|")
        for n in (1, 2):
            for label, k in ((f"retro `RetroVectorEnv`, {n} env{'s' * (n > 1)}", f"retro.atari{n}.Pong"),
                             (f"ALE `AtariVectorEnv`, {n} env{'s' * (n > 1)}", f"ale.vec{n}.Pong"),
                             (f"EnvPool `Pong-v5`, {n} env{'s' * (n > 1)}, 2 threads", f"envpool.vec{n}.Pong")):
                out.append(f"| {label} | {self.spread(k)} | {fmt(self.med(k, 'frames_rate'))} | "
                           f"{ratio(self.med(k), self.med(f'retro.atari{n}.Pong'))} |")
        out.append(f"| *retro 2 envs / 1 env* | {ratio(self.med('retro.atari2.Pong'), self.med('retro.atari1.Pong'))}"
                   " | | |")
        out.append("")

        out.extend(self.ale_core_tables())

        out.append("### `env.reset()` in ms (lower is better) and memory\n")
        out.append(f"Back to back: one step between resets, median of {self.args.resets} per round. After "
                   f"{RESET_GAP} frames: {RESET_GAP} steps (not timed) before each reset, median of "
                   f"{max(5, self.args.resets // 5)} per round.\n")
        out.append("| | " + " | ".join(g) + " |")
        out.append("|---|" + "---:|" * len(g))
        out.append("| retro `env.reset()` ms, back to back | " + " | ".join(
            self.spread(f"retro.reset.{x}", 2) for x in g) + " |")
        out.append("| stable-retro `env.reset()` ms, back to back | " + " | ".join(
            self.spread(f"sr.reset.{x}", 2) for x in g) + " |")
        out.append(f"| retro `env.reset()` ms, after {RESET_GAP} frames | " + " | ".join(
            self.spread(f"retro.resetgap.{x}", 2) for x in g) + " |")
        out.append(f"| stable-retro `env.reset()` ms, after {RESET_GAP} frames | " + " | ".join(
            self.spread(f"sr.resetgap.{x}", 2) for x in g) + " |")
        out.append("| retro: MB per extra env in one process, (RSS9 - RSS1) / 8 | " + " | ".join(
            self.spread(f"retro.memory.{x}", 1) for x in g) + " |")
        out.append("| retro: RSS of a process with 1 env, MB | " + " | ".join(
            fmt(self.med(f"retro.memory.{x}", "rss_1"), 1) for x in g) + " |")
        out.append("| retro: RSS of a process with 9 envs, MB | " + " | ".join(
            fmt(self.med(f"retro.memory.{x}", "rss_9"), 1) for x in g) + " |")
        out.append("| stable-retro: RSS (PSS) of a process with its 1 env, MB; each extra env is such a process | "
                   + " | ".join(f"{fmt(self.med(f'sr.memory.{x}', 'rss_1'), 1)} "
                                f"({fmt(self.med(f'sr.memory.{x}', 'pss_1'), 1)})" for x in g) + " |")
        out.append("")
        return out

    def headline(self) -> list[str]:
        lines = []
        for x in GAMES:
            _, retro_best = self.best([f"retro.{c}.{x}" for c in RETRO_ALL])
            _, sr_best = self.best([f"sr.{c}.{x}" for c in SR_ALL])
            _, retro_vec = self.best([f"retro.{c}.{x}" for c in RETRO_LOCKSTEP])
            lines.append(f"- {x}: retro env / raw emulator = "
                         f"{ratio(self.med(f'retro.env.{x}'), self.med(f'retro.emulator.{x}'))}; "
                         f"retro vector 2 envs / 1 env = "
                         f"{ratio(self.med(f'retro.vec2.{x}'), self.med(f'retro.vec1.{x}'))}; "
                         f"retro best 2-core / stable-retro best 2-core = "
                         f"{ratio(retro_best, sr_best)} (vector envs only: "
                         f"{ratio(retro_vec, self.med(f'sr.async2.{x}'))}).")
        s1, s2 = self.med("spin1"), self.med("spin2")
        lines.append(f"- Control: two busy Python processes ran {ratio(s2, s1)} as fast as one during this run "
                     "(2.00x would mean both cores were free); every 2-core number above is bounded by that.")
        return lines

    def verdicts(self) -> list[str]:
        """Where a peer is faster, and where retro is, from this run's medians."""
        pairs = [
            ("Pong, emulating one frame: ALE's Stella (`ALEInterface.act`) vs the libretro stella core "
             "(`RetroEmulator.step`)", "ale.raw.Pong", "retro.emulator.Pong", "ALE", True),
            ("Pong, single env with RGB observations: ALE's `ALE/Pong-v5` vs `retro.make`",
             "ale.gym.Pong", "retro.env.Pong", "ALE", True),
        ]
        for x in GAMES:
            pairs.append((f"{x}, single env: stable-retro vs retro", f"sr.env.{x}", f"retro.env.{x}",
                          "stable-retro", True))
            pairs.append((f"{x}, `env.reset()` back to back: stable-retro vs retro", f"sr.reset.{x}",
                          f"retro.reset.{x}", "stable-retro", False))
            pairs.append((f"{x}, `env.reset()` after {RESET_GAP} frames: stable-retro vs retro", f"sr.resetgap.{x}",
                          f"retro.resetgap.{x}", "stable-retro", False))
        for n in (1, 2):
            pairs.append((f"Pong with Atari preprocessing, {n} env{'s' * (n > 1)}: ALE's `AtariVectorEnv` vs "
                          "`RetroVectorEnv`", f"ale.vec{n}.Pong", f"retro.atari{n}.Pong", "ALE", True))
            pairs.append((f"Pong with Atari preprocessing, {n} env{'s' * (n > 1)}: EnvPool vs `RetroVectorEnv`",
                          f"envpool.vec{n}.Pong", f"retro.atari{n}.Pong", "EnvPool", True))
        faster, even, slower = [], [], []

        def judge(text: str, peer: str, p: float, r: float, higher_better: bool, unit: str, digits: int) -> None:
            adv = (p / r) if higher_better else (r / p)  # > 1: the peer is better
            line = f"- {text}: {peer} {fmt(p, digits)} vs retro {fmt(r, digits)} {unit}"
            if adv > 1.05:
                faster.append(f"{line}: **{peer} is {adv:.2f}x {'faster' if higher_better else 'quicker'}**.")
            elif adv < 1 / 1.05:
                slower.append(f"{line}: **retro is {1 / adv:.2f}x {'faster' if higher_better else 'quicker'}**.")
            else:
                even.append(f"{line}: within 5%.")

        for text, peer_key, retro_key, peer, higher_better in pairs:
            p, r = self.med(peer_key), self.med(retro_key)
            if p is not None and r is not None and p > 0 and r > 0:
                judge(text, peer, p, r, higher_better, "/s" if higher_better else "ms", 0 if higher_better else 2)
        for x in GAMES:
            _, rv = self.best([f"retro.{c}.{x}" for c in RETRO_ALL])
            _, sv = self.best([f"sr.{c}.{x}" for c in SR_ALL])
            if rv and sv:
                judge(f"{x}, best 2-core throughput, any configuration (env-steps/s)", "stable-retro", sv, rv,
                      True, "/s", 0)
            _, rv = self.best([f"retro.{c}.{x}" for c in RETRO_LOCKSTEP])
            sv = self.med(f"sr.async2.{x}")
            if rv and sv:
                judge(f"{x}, best vector env (all envs step together) on 2 cores: `AsyncVectorEnv` vs "
                      "`RetroVectorEnv`", "stable-retro", sv, rv, True, "/s", 0)
            _, rv = self.best([f"retro.{c}.{x}" for c in ("free2thr", "free2proc")])
            sv = self.med(f"sr.procs2.{x}")
            if rv and sv:
                judge(f"{x}, 2 free-running workers (threads or processes for retro, processes for "
                      "stable-retro)", "stable-retro", sv, rv, True, "/s", 0)
        return (["Where a peer is faster than retro in this run:", ""] + (faster or ["- nowhere measured."])
                + ["", "Where they are even:", ""] + (even or ["- nowhere measured."])
                + ["", "Where retro is faster:", ""] + (slower or ["- nowhere measured."]))

    def peer_lines(self) -> list[str]:
        v = self.info
        sr, ale, ep = v.get("stable-retro"), v.get("ale"), v.get("envpool")
        return [
            f"- stable-retro {sr['stable-retro']} in its own virtualenv (numpy {sr['numpy']}, gymnasium "
            f"{sr['gymnasium']})" if sr else "- stable-retro: could not run (see the end)",
            f"- ale-py {ale['ale-py']} in our environment" if ale else "- ale-py: could not run (see the end)",
            f"- EnvPool {ep['envpool']} in its own virtualenv (numpy {ep['numpy']}); it imports with this "
            "Python and numpy, but brings matplotlib, dm-env and MuJoCo assets along, so it stays out of our "
            "environment" if ep else "- EnvPool: could not run (see the end)",
        ]

    def doc(self, mach: dict[str, Any], setup_notes: list[str], elapsed: float) -> str:
        a = self.args
        v = self.info
        only = getattr(a, "only", None)
        lines = [
            "# Benchmarks: retro against its peers",
            "",
            f"Written by `python3 benchmarks/peers.py{' --quick' if a.quick else ''}"
            f"{f' --only {only!r}' if only else ''}` "
            f"on {mach['date']} "
            f"(retro commit {mach['commit']}"
            + (f", with uncommitted changes to {', '.join(mach['changed'])} in the work tree"
               if mach.get("changed") else "")
            + f"), in {elapsed / 60:.1f} minutes. Rerun it to refresh this file; "
            "the numbers are this machine's on that day, not constants.",
            "",
            "## Machine",
            "",
            f"- CPU: {mach['cpu']}, {mach['cores']} cores"
            + (f" (virtual machine, {mach['hypervisor']})" if mach["hypervisor"] else ""),
            f"- RAM: {mach['ram_gib']:.1f} GiB; Linux {mach['kernel']}",
            f"- Python {mach['python']}, numpy {mach['numpy']}, gymnasium {v.get('retro', {}).get('gymnasium', '?')}",
            f"- retro {v.get('retro', {}).get('retro', '?')} (this repository); cores: "
            + "; ".join(f"{g}: {c}" for g, c in v.get("cores", {}).items()),
            *self.peer_lines(),
            f"- Load average at start {', '.join(f'{x:.2f}' for x in mach['load_start'])}, at end "
            f"{', '.join(f'{x:.2f}' for x in mach['load_end'])}. The machine is shared: other jobs ran during "
            "the measurements.",
            "",
            "## Method",
            "",
            f"{a.rounds} interleaved round{'s' * (a.rounds != 1)}; every round runs every measurement once, "
            "in a new random order, each "
            f"stepping for {a.seconds:g} s after a warm-up, with pre-generated random actions (MultiBinary for "
            "the retros, the minimal action set for the ALE and EnvPool). Each peer runs in a worker process "
            "of its own that waits idle while another measures. Cells show the median over the rounds and "
            "(min-max). Episodes that end are reset inside the timed loop. The retro emulator starts from the "
            "same save state as the env. stable-retro allows one emulator per process, so its 2-core "
            "configurations are two processes: plain worker processes each stepping its own env "
            "(summed rate), or Gymnasium's `AsyncVectorEnv`. retro is measured the same two ways (free-running "
            "workers, as threads in one process or as processes; and `RetroVectorEnv`, whose envs step "
            "together, on threads or processes). The ALE and EnvPool vector envs use their "
            "default preprocessing, which also stacks 4 frames, clips rewards and does no-op/fire resets: "
            "a little more work than retro's.",
            "",
            "Reading the numbers: retro and stable-retro run the same libretro core binaries (retro provisions "
            "the cores of the stable-retro 1.0.1 wheel), so their single-env rows compare the frontends. The "
            "ALE and EnvPool emulate Pong with their own Stella, not with the libretro stella core, so on "
            "Pong they compare emulators as much as frontends. The stella core keeps some state outside its "
            "save states; stable-retro reloads the game on every reset from a state, retro puts that state "
            "back to its power-on values in place (for the pinned core build), so its resets cost a restore "
            "and one frame.",
            "",
            "## Headline",
            "",
            *self.headline(),
            "",
            *self.verdicts(),
            "",
            "## Tables",
            "",
            *self.tables(),
        ]
        if setup_notes:
            lines += ["## What could not run", "", *[f"- {n}" for n in setup_notes], ""]
        return "\n".join(lines).rstrip() + "\n"


# -- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter measurements (about 2 minutes)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, help="stepping time per measurement (default 1.5, quick 0.15)")
    parser.add_argument("--resets", type=int, help="resets timed per round (default 100, quick 20)")
    parser.add_argument("--doc", type=Path, help="where to write the markdown (default docs/benchmarks.md; "
                                                 "quick: benchmarks/_build/benchmarks-quick.md)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the rounds' shuffled order")
    parser.add_argument("--only", metavar="PATTERNS",
                        help="run only the measurements whose keys match these comma-separated fnmatch patterns "
                             "(e.g. 'retro.ale.*.Pong,ale.raw.Pong'); the control always runs; the doc defaults to "
                             "benchmarks/_build/benchmarks-only.md")
    parser.add_argument("--list", action="store_true", help="print every measurement's key and exit")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="measure nothing: rewrite the tables and the doc from a saved peers-results.json")
    args = parser.parse_args(argv)
    if args.render:
        return render(args.render, args.doc)
    args.seconds = args.seconds or (0.15 if args.quick else 1.5)
    args.resets = args.resets or (20 if args.quick else 100)
    if args.list:
        print("\n".join(m.key for m in plan(args.seconds, args.resets)))
        return 0
    if args.only:
        args.doc = args.doc or BUILD / "benchmarks-only.md"
    args.doc = args.doc or (BUILD / "benchmarks-quick.md" if args.quick else ROOT / "docs" / "benchmarks.md")
    t0 = time.perf_counter()
    BUILD.mkdir(parents=True, exist_ok=True)
    log = BUILD / "peers.log"
    log.write_text("")
    mach = machine()

    measures = select(plan(args.seconds, args.resets), args.only)
    if not measures:
        print(f"--only {args.only!r} matches no measurement (see --list)", file=sys.stderr)
        return 2
    wanted = {m.worker.removesuffix("-memory") for m in measures}
    notes: list[str] = []
    pythons: dict[str, str] = {"retro": sys.executable}
    for name, ensure in (("ale", ensure_ale), ("stable-retro", ensure_stable_retro), ("envpool", ensure_envpool)):
        if name not in wanted:
            continue
        try:
            pythons[name] = ensure(log)
        except SetupError as e:
            notes.append(f"{name}: {e}")
            print(f"{name}: cannot run: {e}", file=sys.stderr)

    scripts = {"retro": "retro_worker.py", "ale": "ale_worker.py", "stable-retro": "stable_retro_worker.py",
               "envpool": "envpool_worker.py"}
    workers: dict[str, Worker] = {}
    info: dict[str, Any] = {}
    for name, python in pythons.items():
        try:
            workers[name] = Worker(name, python, scripts[name], log)
            info[name] = workers[name].info
        except WorkerError as e:
            notes.append(f"{name}: {e}")
            print(f"{name}: cannot run: {e}", file=sys.stderr)
    if "retro" not in workers:
        print("retro's own worker did not start; see", log, file=sys.stderr)
        return 1
    info["cores"] = workers["retro"].call("cores", games=[g for g, _ in GAMES.values()])

    rng = random.Random(args.seed)
    try:
        for r in range(args.rounds):
            order = measures[:]
            rng.shuffle(order)
            for m in order:
                base = m.worker.removesuffix("-memory")
                if base not in pythons or (base not in workers and not m.worker.endswith("-memory")):
                    m.error = m.error or "peer not available"
                    continue
                started = time.perf_counter()
                try:
                    if m.worker.endswith("-memory"):
                        s = one_shot(pythons[base], scripts[base], ["memory", m.args["game"]], log)
                    else:
                        s = workers[base].call(m.op, **m.args)
                    s["wall"] = time.perf_counter() - started
                    m.samples.append(s)
                except (WorkerError, subprocess.TimeoutExpired, ValueError) as e:
                    m.error = str(e)
                    print(f"  {m.key}: {e}", file=sys.stderr)
            print(f"round {r + 1}/{args.rounds} done at {time.perf_counter() - t0:.0f} s", flush=True)
    finally:
        for w in workers.values():
            w.close()
    mach["load_end"] = os.getloadavg()
    for m in measures:
        if m.error and not m.samples:
            notes.append(f"{m.key}: {m.error}")

    elapsed = time.perf_counter() - t0
    results = BUILD / "peers-results.json"
    results.write_text(json.dumps(
        {"machine": mach, "info": info, "notes": notes, "elapsed": elapsed,
         "args": {"quick": args.quick, "rounds": args.rounds, "seconds": args.seconds, "resets": args.resets,
                  "seed": args.seed, "only": args.only},
         "measures": [{"key": m.key, "worker": m.worker, "op": m.op, "args": m.args, "samples": m.samples,
                       "error": m.error} for m in measures]}, indent=1))
    publish(Report(measures, info, args), mach, notes, elapsed, args.doc)
    print(f"(raw samples: {results})")
    return 0


def publish(rep: Report, mach: dict[str, Any], notes: list[str], elapsed: float, doc: Path) -> None:
    print()
    print("\n".join(rep.headline()))
    print()
    print("\n".join(rep.tables()))
    print("\n".join(rep.verdicts()))
    doc.parent.mkdir(parents=True, exist_ok=True)
    # the sections other benchmark scripts write into the page stay (benchmarks/_doc.py)
    kept = _doc.sections(doc.read_text()) if doc.exists() else ""
    doc.write_text(rep.doc(mach, notes, elapsed).rstrip("\n") + "\n" + ("\n" + kept if kept else ""))
    print(f"\nwrote {doc}; the measurements took {elapsed:.0f} s")


def render(path: Path, doc: Path | None) -> int:
    data = json.loads(path.read_text())
    args = argparse.Namespace(**data["args"])
    measures = [Measure(m["key"], m["worker"], m["op"], m["args"], m["samples"], m["error"])
                for m in data["measures"]]
    if getattr(args, "only", None):
        doc = doc or BUILD / "benchmarks-only.md"
    doc = doc or (BUILD / "benchmarks-quick.md" if args.quick else ROOT / "docs" / "benchmarks.md")
    publish(Report(measures, data["info"], args), data["machine"], data["notes"], data["elapsed"], doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

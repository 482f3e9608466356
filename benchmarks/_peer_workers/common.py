"""What every peer worker shares: the request loop, timing and memory readings.

A worker is started by ``benchmarks/peers.py`` with the interpreter of the
environment it measures (ours, or a virtualenv of a peer). It answers one
JSON request per line on stdin with one JSON line on its original stdout;
anything the libraries print, from Python or from C, goes to stderr, because
fd 1 is pointed at stderr before any of them is imported. Only the standard
library is imported here, so the module runs in every environment.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from typing import Any, Callable

_out = None


def _claim_stdout() -> None:
    """Keep the real stdout for answers; send fd 1 (C and Python prints) to stderr."""
    global _out
    if _out is None:
        _out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr


def answer(obj: Any) -> None:
    _claim_stdout()
    assert _out is not None
    _out.write(json.dumps(obj) + "\n")
    _out.flush()


def run_for(duration: float, body: Callable[[int], None], chunk: int = 32) -> dict[str, float]:
    """Call ``body(chunk)`` (which plays ``chunk`` steps) until ``duration`` seconds have passed."""
    clock = time.perf_counter
    steps = 0
    start = clock()
    while True:
        body(chunk)
        steps += chunk
        elapsed = clock() - start
        if elapsed >= duration:
            return {"steps": steps, "seconds": elapsed, "rate": steps / elapsed}


def time_vector_steps(step: Callable[[Any], Any], actions: Any, num_envs: int, duration: float,
                      frames_per_step: int) -> dict[str, float]:
    """Time ``step(actions[i])`` in a loop over pre-generated batched actions.

    Returns ``run_for``'s result with ``rate`` in env-steps/s (summed over the
    envs) and ``frames_rate`` in emulated frames/s.
    """
    count = len(actions)
    pos = 0

    def body(k: int) -> None:
        nonlocal pos
        for i in range(pos, pos + k):
            step(actions[i % count])
        pos += k

    body(64)
    r = run_for(duration, body, chunk=16)
    r["rate"] *= num_envs
    r["frames_rate"] = r["rate"] * frames_per_step
    return r


def run_processes(child: Callable[..., None], game: str, n: int, duration: float) -> dict[str, float]:
    """``n`` forked workers, each running ``child(game, duration, index, barrier, conn)`` and sending
    back its ``run_for`` result; returns the summed rate."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(n)
    pipes = [ctx.Pipe(duplex=False) for _ in range(n)]
    procs = [ctx.Process(target=child, args=(game, duration, i, barrier, w), daemon=True)
             for i, (_, w) in enumerate(pipes)]
    for p in procs:
        p.start()
    results = [r.recv() for r, _ in pipes]
    for p in procs:
        p.join()
    return {"rate": sum(r["rate"] for r in results), "steps": sum(r["steps"] for r in results),
            "seconds": max(r["seconds"] for r in results)}


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_mb() -> float:
    """This process's resident set (VmRSS), in MB."""
    return _status_kb("VmRSS") / 1024


def pss_mb() -> float | None:
    """This process's proportional set size (shared pages split among their users), in MB."""
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _spin_child(duration: float, conn: Any) -> None:
    def body(k: int) -> None:
        for _ in range(k * 100):
            pass

    conn.send(run_for(duration, body))


def spin(n: int, duration: float) -> dict[str, float]:
    """Pure-Python busy loops in ``n`` processes at once: loops/s summed.

    Run with n = 1 and n = 2, it shows how much of the machine's second core
    this run really had (2.0 when both cores were free).
    """
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    pipes = [ctx.Pipe(duplex=False) for _ in range(n)]
    procs = [ctx.Process(target=_spin_child, args=(duration, w), daemon=True) for _, w in pipes]
    for p in procs:
        p.start()
    results = [r.recv() for r, _ in pipes]
    for p in procs:
        p.join()
    return {"rate": sum(r["rate"] for r in results)}


def serve(ops: dict[str, Callable[..., Any]], info: Callable[[], dict[str, Any]]) -> None:
    """Answer ``{"op": name, "args": {...}}`` lines until stdin closes.

    The first line written is ``{"ready": info()}``; every answer is either
    ``{"ok": result}`` or ``{"error": traceback}``.
    """
    _claim_stdout()
    try:
        answer({"ready": info()})
    except BaseException:
        answer({"error": traceback.format_exc()})
        return
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            answer({"ok": ops[req["op"]](**req.get("args", {}))})
        except BaseException:
            answer({"error": traceback.format_exc()})

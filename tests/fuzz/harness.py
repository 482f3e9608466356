"""Run fuzz cases in worker processes and classify what each did.

The parent writes one JSON line per case to a worker's stdin; the worker
runs it (``Target.run``) and answers one JSON line: ``ok``, ``typed`` (a
:class:`retro.RetroError`, with its class) or ``untyped`` (any other
exception, with its class and message). A worker that dies while running a
case is a ``crash`` (the signal or exit status is kept); one that does not
answer within the time limit is a ``hang`` and is killed. Either way a new
worker takes the next case, so one bad case costs one process start.

Workers run with an address-space limit (``--memory``), so an input that
makes retro allocate gigabytes fails as an untyped ``MemoryError`` instead
of exhausting the machine.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

ROOT = Path(__file__).resolve().parent.parent.parent

#: Outcomes that are failures.
FAILURES = ("crash", "hang", "untyped")


@dataclass
class Result:
    name: str
    outcome: str  # ok, typed, untyped, crash, hang
    error: str = ""
    case: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    kind: str
    results: list[Result] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.results)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.outcome in FAILURES]

    def summary(self) -> str:
        c = self.counts
        typed = Counter(r.error.split(":", 1)[0] for r in self.results if r.outcome == "typed")
        line = (f"{self.kind}: {len(self.results)} cases: {c['crash']} crashes, {c['hang']} hangs, "
                f"{c['untyped']} untyped exceptions; {c['ok']} accepted, {c['typed']} typed errors")
        if typed:
            line += " (" + ", ".join(f"{n} {k}" for k, n in typed.most_common()) + ")"
        return line


class Worker:
    """One worker process running cases of one kind."""

    def __init__(self, kind: str, options: dict[str, Any], memory: int) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.harness", kind, json.dumps(options), str(memory)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(ROOT), env=env,
            start_new_session=True)
        self.buffer = b""

    def run(self, case: dict[str, Any], timeout: float) -> tuple[str, str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(case).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return self._died()
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                return "hang", f"no answer in {timeout:g} s"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return self._died()
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        answer = json.loads(line)
        return answer["outcome"], answer.get("error", "")

    def _died(self) -> tuple[str, str]:
        code = self.proc.wait()
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
        return "crash", how

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._close_pipes()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass


def run_cases(kind: str, cases: Iterable[tuple[str, dict[str, Any]]], *, options: Optional[dict[str, Any]] = None,
              timeout: float = 20.0, memory: int = 3 << 30, log: Any = None) -> Report:
    """Run ``(name, case)`` pairs of ``kind`` in workers; a crash or hang restarts the worker."""
    report = Report(kind)
    worker: Optional[Worker] = None
    try:
        for name, case in cases:
            if worker is None:
                worker = Worker(kind, options or {}, memory)
            outcome, error = worker.run(case, timeout)
            if outcome in ("crash", "hang"):
                worker.kill()
                worker = None
            result = Result(name, outcome, error, case)
            report.results.append(result)
            if log is not None and outcome in FAILURES:
                log(f"{outcome:8} {name}: {error[:300]}")
    finally:
        if worker is not None:
            worker.close()
    return report


def _serve(kind: str, options: dict[str, Any], memory: int) -> None:
    """The worker's loop: a case a line on stdin, an answer a line on the original stdout."""
    import resource

    from tests.fuzz.targets import TARGETS

    proto = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # what the code under test prints (C code included) goes nowhere
    os.dup2(devnull, 2)
    sys.stdout = open(os.devnull, "w")
    sys.stderr = sys.stdout
    target = TARGETS[kind](options)
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    import retro

    for line in sys.stdin:
        case = json.loads(line)
        try:
            target.run(case)
            answer = {"outcome": "ok"}
        except retro.RetroError as e:
            answer = {"outcome": "typed", "error": f"{type(e).__name__}: {e}"[:500]}
        except BaseException as e:  # noqa: B036 - everything else is what the fuzzer looks for
            tb = traceback.extract_tb(e.__traceback__)[-3:]
            where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(tb))
            answer = {"outcome": "untyped", "error": f"{type(e).__name__}: {str(e)[:300]} at {where}"}
        proto.write(json.dumps(answer) + "\n")
        proto.flush()


if __name__ == "__main__":
    _serve(sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]))

"""Save states are tried in a disposable process before a core in this process sees them.

A core trusts the states it is given: a mutated state of the right size can
crash it (a segfault inside ``retro_unserialize`` or the frames after) or
make it loop forever. So a state an emulator has not seen before is first
loaded into a fresh copy of the same core and game in a child process, and a
few frames are run there with no buttons pressed. A child that dies, or that
uses more than :data:`CPU_LIMIT` seconds of CPU (a hang), means the state is
refused with ``StateError``; this process never ran it.

The cost: one helper process per parent process (started at the first probe,
it imports retro once and loads each core and game once), which forks a
child per probe; a probe costs a fork, one restore and :data:`FRAMES`
frames. Verdicts are cached by the state's hash (per core and game), so
each distinct state is probed once per process, and restoring the same
``bytes`` object again (``reset()`` of an env) does not even hash it.

The policy is :data:`ENV_SWITCH`: ``RETRO_STATE_PROBE=0`` turns probing off
for trusted states (so does ``RetroEmulator(state_probe=False)`` or
``em.state_probe = False``). States an emulator made itself with
``get_state()`` are trusted, and ``trust_state()`` adds others.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import struct
import subprocess
import sys
import threading
from collections import OrderedDict
from typing import IO, Any

from retro.errors import RetroError, StateError

__all__ = ["ProbeTarget", "probe", "trust", "verdict", "enabled", "digest", "FRAMES", "CPU_LIMIT", "ENV_SWITCH"]

#: Frames run after the restore.
FRAMES = 60
#: CPU seconds a probe may use before its state counts as one that hangs the core.
CPU_LIMIT = 2
#: Wall-clock seconds before a probe that neither finishes nor burns CPU is given up.
WALL_LIMIT = 60.0
#: The environment variable that turns probing off ("0") for trusted states.
ENV_SWITCH = "RETRO_STATE_PROBE"
#: Verdicts kept (per process).
CACHE_SIZE = 4096

ProbeTarget = tuple[str, str, tuple[tuple[str, str], ...], str, str, tuple[int | None, int | None] | None]

_cache: "OrderedDict[tuple[ProbeTarget, bytes], str]" = OrderedDict()
_lock = threading.Lock()
_server: "_Server | None" = None


def enabled() -> bool:
    """Whether probing is on for this process (``RETRO_STATE_PROBE`` is not ``0``)."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def digest(state: Any) -> bytes:
    return hashlib.blake2b(state, digest_size=20).digest()


def verdict(target: ProbeTarget, key: bytes) -> str | None:
    """The cached verdict for a state's digest: "" (good), an error message, or None (not probed)."""
    with _lock:
        found = _cache.get((target, key))
        if found is not None:
            _cache.move_to_end((target, key))
        return found


def _remember(target: ProbeTarget, key: bytes, result: str) -> None:
    with _lock:
        _cache[(target, key)] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


def trust(target: ProbeTarget, key: bytes) -> None:
    """Record a state (by digest) as good without probing it."""
    _remember(target, key, "")


def probe(target: ProbeTarget, state: Any, name: str) -> None:
    """Raise ``StateError`` unless ``state`` restores and runs :data:`FRAMES` frames on a fresh
    copy of the core and game in a child process (``name`` names the core in messages)."""
    key = digest(state)
    found = verdict(target, key)
    if found is None:
        found = _run(target, bytes(state), name)
        _remember(target, key, found)
    if found:
        raise StateError(found)


def _run(target: ProbeTarget, state: bytes, name: str) -> str:
    global _server
    with _lock:
        for attempt in range(2):
            if _server is None or not _server.alive():
                _server = _Server()
            try:
                return _server.ask(target, state, name)
            except (OSError, EOFError, ValueError):
                _server.stop()
                _server = None
                if attempt:
                    raise RetroError("the state checker process failed; set RETRO_STATE_PROBE=0 to load "
                                     "trusted states without it") from None
    raise AssertionError("unreachable")


# -- the parent's side ------------------------------------------------------------------------

class _Server:
    """The helper process of this process (see the module docs)."""

    def __init__(self) -> None:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        self.pid = os.getpid()
        # the cores' own complaints about bad states (printed to stderr) stay in the child
        self.proc = subprocess.Popen([sys.executable, "-c", "from retro._state_probe import main; main()"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, close_fds=True)

    def alive(self) -> bool:
        return self.pid == os.getpid() and self.proc.poll() is None

    def ask(self, target: ProbeTarget, state: bytes, name: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        header = json.dumps({"target": target, "size": len(state)}).encode()
        self.proc.stdin.write(struct.pack("<I", len(header)) + header + state)
        self.proc.stdin.flush()
        reply = json.loads(_read_frame(self.proc.stdout))
        return _message(reply, name)

    def stop(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass


def _message(reply: dict[str, Any], name: str) -> str:
    outcome = reply.get("outcome")
    if outcome == "ok":
        return ""
    advice = "the state is corrupt or was made by another core version or game"
    if outcome == "signal":
        sig = int(reply.get("signal", 0))
        if sig == signal.SIGXCPU or sig == signal.SIGKILL:
            return (f"the {name} core hangs on this state (a fresh copy of the core, tried in a separate "
                    f"process, ran more than {CPU_LIMIT} s of CPU within {FRAMES} frames): {advice}")
        try:
            sname = signal.Signals(sig).name
        except ValueError:
            sname = f"signal {sig}"
        return (f"the {name} core crashes on this state ({sname} in a separate process, within "
                f"{FRAMES} frames of restoring it): {advice}")
    if outcome == "refused":
        return f"the {name} core rejected the state: {reply.get('message', '')}"
    if outcome == "load":
        # the game itself does not load in the checker: nothing to say about the state
        return ""
    return f"the {name} core could not be tried on the state ({reply.get('message', outcome)})"


def _read_frame(stream: IO[bytes]) -> bytes:
    head = stream.read(4)
    if len(head) != 4:
        raise EOFError("the state checker process went away")
    (n,) = struct.unpack("<I", head)
    body = stream.read(n)
    if len(body) != n:
        raise EOFError("the state checker process went away")
    return body


# -- the helper process ------------------------------------------------------------------------

def _serve() -> None:
    from retro._core import Emulator

    templates: "OrderedDict[str, Any]" = OrderedDict()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            request = json.loads(_read_frame(stdin))
        except EOFError:
            return
        state = stdin.read(int(request["size"]))
        core_path, rom_path, options, system_dir, save_dir, screen = request["target"]
        key = json.dumps(request["target"])
        em = templates.get(key)
        reply: dict[str, Any]
        if em is None:
            try:
                em = Emulator(rom_path, core_path, options=dict(options), system_dir=system_dir,
                              save_dir=save_dir, screen_size=tuple(screen) if screen else None)
            except RetroError as e:
                em = None
                reply = {"outcome": "load", "message": str(e)}
            if em is not None:
                templates[key] = em
                while len(templates) > 4:
                    templates.popitem(last=False)[1].close()
        if em is not None:
            templates.move_to_end(key)
            reply = _try_in_child(em, state)
        body = json.dumps(reply).encode()
        stdout.write(struct.pack("<I", len(body)) + body)
        stdout.flush()


def _try_in_child(em: Any, state: bytes) -> dict[str, Any]:
    """Fork; the child restores ``state`` on the (never run) template and runs frames."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 3
        try:
            os.close(read_fd)
            resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT + 1))
            try:
                em.set_state(state)
                em.step(FRAMES)
                message = b"ok"
            except RetroError as e:
                message = b"refused:" + str(e).encode()[:2000]
            os.write(write_fd, message)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks = []
    import select

    ready, _, _ = select.select([read_fd], [], [], WALL_LIMIT)
    if not ready:
        os.kill(pid, signal.SIGKILL)
    while True:
        try:
            chunk = os.read(read_fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    data = b"".join(chunks)
    if os.WIFSIGNALED(status):
        return {"outcome": "signal", "signal": os.WTERMSIG(status)}
    if data == b"ok":
        return {"outcome": "ok"}
    if data.startswith(b"refused:"):
        return {"outcome": "refused", "message": data[8:].decode("utf-8", "replace")}
    return {"outcome": "error", "message": f"exit status {os.WEXITSTATUS(status)}"}


def main() -> None:
    """The helper process's entry point."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent's Ctrl-C is the parent's
    _serve()

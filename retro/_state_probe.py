"""Save states are tried in a disposable process before a core in this process sees them.

A core trusts the states it is given: a mutated state of the right size can
crash it (a segfault inside ``retro_unserialize`` or the frames after) or
make it loop forever. So a state an emulator has not seen before is first
tried in a child process: the emulator forks (in C, with the GIL released;
the child runs no Python), and the child restores the state on its copy of
the emulator's core and runs :data:`FRAMES` frames with the buttons held
as they are. A child that dies, or that uses more than :data:`CPU_LIMIT`
seconds of CPU (a hang), means the state is refused with ``StateError``;
this process never ran it.

Why a fork of this process rather than a fresh process that loads the core
and game: a bad state often makes a core write or read out of bounds, and
whether that faults depends on what lies next to the core's memory. A
fresh process has another memory layout and may run such a state without a
fault that this process would take; the forked child has exactly this
process's memory, so it meets the same fault. It costs a fork (page tables
of this process, copy-on-write) plus one restore and the frames, a few
milliseconds; nothing is loaded.

Verdicts are cached by the state's hash (per core, game and options), so
each distinct state is tried once per process, and restoring the same
``bytes`` object again (``reset()`` of an env) does not even hash it.

The policy: on by default; ``RETRO_STATE_PROBE=0`` (see :data:`ENV_SWITCH`)
turns it off for trusted states, as do ``RetroEmulator(state_probe=False)``
and ``em.state_probe = False``. States an emulator made itself with
``get_state()`` are trusted, and ``trust_state()`` adds others.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from collections import OrderedDict
from typing import Any

from retro.errors import RetroError, StateError

__all__ = ["ProbeTarget", "probe_emulator", "trust", "verdict", "enabled", "digest", "FRAMES", "CPU_LIMIT",
           "ENV_SWITCH"]

#: Frames run after the restore.
FRAMES = 60
#: CPU seconds a probe may use before its state counts as one that hangs the core.
CPU_LIMIT = 2
#: Wall-clock seconds before a probe that neither finishes nor burns CPU is given up (a core
#: blocked without using CPU; on a loaded machine the CPU limit decides first).
WALL_LIMIT = 60.0
#: The environment variable that turns probing off ("0") for trusted states.
ENV_SWITCH = "RETRO_STATE_PROBE"
#: Verdicts kept (per process).
CACHE_SIZE = 4096

ProbeTarget = tuple[str, str, tuple[tuple[str, str], ...], str, str, tuple[int | None, int | None] | None]

_cache: "OrderedDict[tuple[ProbeTarget, bytes], str]" = OrderedDict()
_lock = threading.Lock()


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


def probe_emulator(em: Any, target: ProbeTarget, state: Any, name: str) -> None:
    """Raise ``StateError`` unless ``state`` restores and runs :data:`FRAMES` frames on ``em``'s core in a
    forked child (``name`` names the core in messages); cached by hash."""
    key = digest(state)
    found = verdict(target, key)
    if found is None:
        kind, detail = em._try_state_in_child(state, FRAMES, CPU_LIMIT, WALL_LIMIT)
        if kind == "unavailable":
            raise RetroError("cannot fork a process to check the state in (out of memory or processes?); "
                             "set RETRO_STATE_PROBE=0 to load trusted states without the check")
        found = _message(kind, detail, name)
        _remember(target, key, found)
    if found:
        raise StateError(found)


def _message(kind: str, detail: int, name: str) -> str:
    advice = "the state is corrupt or was made by another core version or game"
    if kind == "ok":
        return ""
    if kind == "timeout" or (kind == "signal" and detail in (signal.SIGXCPU, signal.SIGKILL)):
        return (f"the {name} core hangs on this state (tried in a separate process, it ran more than "
                f"{CPU_LIMIT} s of CPU within {FRAMES} frames): {advice}")
    if kind == "signal":
        try:
            sname = signal.Signals(detail).name
        except ValueError:
            sname = f"signal {detail}"
        return (f"the {name} core crashes on this state ({sname} in a separate process, within "
                f"{FRAMES} frames of restoring it): {advice}")
    if kind == "refused":
        return f"the {name} core rejected the state"
    return f"the {name} core could not read the state (it threw an exception): {advice}"

"""States that crash or hang a core are refused with StateError before the core in this process sees them.

The mutations below were found by a fuzz run (4 random bytes of a real
state changed, each case tried by the probe itself); each crashes (or hangs)
the real core when restored. The probe tries them in a child process, so
these tests would fail, not crash, if a state got through.

Whether one of these states faults depends on what is mapped around the core
copy: they make Stella read its tables at a wild offset, below the copy's
mapping, which faults on a copy loaded last in a new process, and reads
another mapping on a copy that has mappings made after it (a reused copy, or
one in a process that did much before). So the tests that expect a crash run
in a new process each (:func:`in_new_process`), on a newly loaded copy.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import retro
from retro import _core, _state_probe
from retro.errors import StateError
from retro.session import read_state_file

# (offset, new byte) changes to Pong-Atari2600's Start.state that crash stella 3.9.3 (SIGSEGV in TIA).
PONG_CRASHES = [
    [(186, 101), (348, 146), (366, 152), (57, 113)],
    [(278, 52), (354, 166), (350, 134), (280, 14)],
]


def mutate(state: bytes, changes: list[tuple[int, int]]) -> bytes:
    b = bytearray(state)
    for offset, value in changes:
        b[offset] = value
    return bytes(b)


ROOT = Path(__file__).resolve().parent.parent
IN_CHILD = "RETRO_TEST_NEW_PROCESS"


@pytest.fixture
def in_new_process(request: pytest.FixtureRequest) -> bool:
    """False after running the requesting test in a new pytest process (it passed there); True in that
    process, where the test runs."""
    if os.environ.get(IN_CHILD):
        return True
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", request.node.nodeid],
                       cwd=ROOT, env=dict(os.environ, **{IN_CHILD: "1"}), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    return False


def unload_idle_copies() -> None:
    """Unload closed core copies waiting to be reused, so the next emulator loads a new one."""
    for path in list(_core.idle_core_copies()):
        _core.reuse_core_copies(path, False)


@pytest.fixture(scope="module")
def pong_start() -> bytes:
    return read_state_file(retro.data.get_file_path("Pong-Atari2600", "Start.state"))


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Records every state actually tried in a child process."""
    tried: list[bytes] = []
    run = retro.RetroEmulator._try_state_in_child

    def counting(em: retro.RetroEmulator, view: Any, *args: Any) -> tuple[str, int]:
        tried.append(bytes(view))
        return run(em, view, *args)  # type: ignore[no-any-return]

    monkeypatch.setattr(retro.RetroEmulator, "_try_state_in_child", counting)
    return tried


@pytest.mark.parametrize("changes", PONG_CRASHES)
def test_a_state_that_crashes_stella_is_a_state_error(pong_rom: Path, pong_start: bytes,
                                                      changes: list[tuple[int, int]], in_new_process: bool) -> None:
    if not in_new_process:
        return
    em = retro.RetroEmulator(pong_rom)
    em.step(3)
    before = em.get_ram().tobytes()
    with pytest.raises(StateError, match="crashes on this state.*SIGSEGV"):
        em.set_state(mutate(pong_start, changes))
    assert em.get_ram().tobytes() == before  # left as it was
    em.set_state(pong_start)  # and still usable
    em.step(10)
    em.close()


def test_the_verdict_is_cached_by_hash(pong_rom: Path, pong_start: bytes, probes: list[bytes],
                                       in_new_process: bool) -> None:
    if not in_new_process:
        return
    bad = mutate(pong_start, PONG_CRASHES[0])
    good = bytearray(pong_start)
    em = retro.RetroEmulator(pong_rom)
    for _ in range(3):
        with pytest.raises(StateError, match="crashes"):
            em.set_state(bytearray(bad))  # a new object each time: found by its hash
        em.set_state(bytearray(good))
    core_bad, core_good = bytes(em._unpadded(bad)), bytes(em._unpadded(good))
    em.close()
    assert probes.count(core_bad) <= 1 and probes.count(core_good) <= 1


def test_resets_with_a_checked_state_do_not_probe_or_hash(pong_start: bytes, probes: list[bytes],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An env's reset() restores its start state: after the first check, no probe and no hash."""
    env = retro.make("Pong-Atari2600")
    env.reset()
    hashed: list[int] = []
    digest = _state_probe.digest
    monkeypatch.setattr(_state_probe, "digest", lambda s: hashed.append(1) or digest(s))
    tried = len(probes)
    times = []
    for _ in range(50):
        t = time.perf_counter()
        env.reset()
        times.append(time.perf_counter() - t)
    env.close()
    assert len(probes) == tried and not hashed
    times.sort()
    print(f"reset() with the start state checked: median {times[25] * 1e3:.3f} ms")


def test_the_check_adds_nothing_to_set_state_of_a_checked_state(pong_rom: Path, pong_start: bytes) -> None:
    em = retro.RetroEmulator(pong_rom)
    em.check_state(pong_start)

    def median(probe: bool) -> float:
        em.state_probe = probe
        times = []
        for _ in range(200):
            t = time.perf_counter()
            em.set_state(pong_start)
            times.append(time.perf_counter() - t)
        return sorted(times)[100]

    off, on = median(False), median(True)
    em.close()
    print(f"set_state: {off * 1e6:.0f} us unchecked, {on * 1e6:.0f} us checked")
    assert on - off < 1e-3


def test_a_crashing_state_file_fails_at_make(tmp_path: Path, pong_start: bytes, in_new_process: bool) -> None:
    if not in_new_process:
        return
    from tests.test_hardening import pong_folder

    folder = pong_folder(tmp_path)
    (folder / "Start.state").write_bytes(gzip.compress(mutate(pong_start, PONG_CRASHES[1])))
    retro.data.Integrations.add_custom_path(str(tmp_path))
    try:
        with pytest.raises(StateError, match="Start.state.*crashes"):
            retro.make("Hostile-Atari2600", inttype=retro.data.Integrations.ALL)
    finally:
        retro.data.Integrations.clear_custom_paths()


def test_a_movie_starting_from_a_crashing_state_is_refused(tmp_path: Path, pong_start: bytes,
                                                           in_new_process: bool) -> None:
    if not in_new_process:
        return
    movie = retro.Movie(str(tmp_path / "bad.bk2"), True)
    env = retro.make("Pong-Atari2600")
    movie.configure("Pong-Atari2600", env.em)
    env.close()
    movie.set_state(mutate(pong_start, PONG_CRASHES[0]))
    movie.step()
    movie.close()
    played = retro.Movie(str(tmp_path / "bad.bk2"))
    unload_idle_copies()  # the copy the first env closed would be reused
    env = retro.make(played.get_game(), state=retro.State.NONE)
    env.initial_state = played.get_state()
    with pytest.raises(StateError, match="crashes"):
        env.reset()
    env.close()


def test_states_made_here_and_trusted_ones_are_not_probed(pong_rom: Path, pong_start: bytes,
                                                         probes: list[bytes]) -> None:
    em = retro.RetroEmulator(pong_rom)
    em.step(5)
    mine = em.get_state()
    em.step(5)
    em.set_state(mine)
    em.trust_state(pong_start[:])
    em.set_state(bytearray(pong_start))
    off = retro.RetroEmulator(pong_rom, state_probe=False)
    off.step(2)
    other = off.get_state()
    off.step(2)
    off.set_state(bytearray(other))
    off.close()
    em.close()
    assert probes == []


def test_probing_can_be_switched_off_for_the_process(monkeypatch: pytest.MonkeyPatch, pong_rom: Path) -> None:
    monkeypatch.setenv(_state_probe.ENV_SWITCH, "0")
    em = retro.RetroEmulator(pong_rom)
    assert em.state_probe is False
    em.close()

"""Emulators used from two threads at once: every call that reaches the core takes the step's guard.

One thread steps in a loop while another calls each core call in a loop;
each call either works (and gives a correct result) or raises a
``RetroError``, never a crash. Each race runs in a child process, so a crash
fails its test instead of ending the test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

RACE = textwrap.dedent("""
    import sys, threading, time
    import numpy as np
    import retro
    from retro.errors import EmulatorClosedError, RetroError

    rom, op = sys.argv[1], sys.argv[2]
    em = retro.RetroEmulator(rom)
    em.step(5)
    size = em.get_state_size()
    state = em.get_state()
    shape = em.screen.shape
    stop = threading.Event()
    closed_while_stepping = threading.Event()
    steps = [0, 0]  # done, refused

    def stepper():
        while not stop.is_set():
            try:
                em.step(2)
                steps[0] += 1
                time.sleep(0)  # let the other thread in between steps
            except EmulatorClosedError:
                closed_while_stepping.set()
                return
            except RetroError:
                steps[1] += 1

    calls = {
        "get_state": lambda: len(em.get_state()) == size,
        "get_state_size": lambda: em.get_state_size() == size,
        "set_state": lambda: em.set_state(state),
        "reset": lambda: em.reset() or True,
        "power_cycle": lambda: em.power_cycle() or True,
        "get_memory": lambda: em.get_memory() is None or len(em.get_memory()) > 0,
        "memory_blocks": lambda: all(len(v) for v in em.memory_blocks().values()),
        "get_ram": lambda: em.get_ram().dtype == np.uint8,
        "memory_descriptors": lambda: isinstance(em.memory_descriptors(), list),
        "get_screen": lambda: em.get_screen().shape == shape,
        "get_observation": lambda: em.get_observation(gray=True, size=(42, 42)).shape == (42, 42),
        "cheats": lambda: em.clear_cheats() or True,
        "options": lambda: isinstance(em.options, dict),
        "controller": lambda: em.set_controller_port_device(0, 1) or True,
    }
    thread = threading.Thread(target=stepper)
    thread.start()
    done = refused = 0
    deadline = time.monotonic() + 0.5
    if op == "close":
        while steps[0] < 3:  # the stepper is running (however loaded the machine) before close races it
            time.sleep(0.001)
        while True:
            try:
                em.close()
                break
            except RetroError:
                refused += 1
        done = 1
        thread.join(30)  # its next step meets the closed emulator
    else:
        call = calls[op]
        while time.monotonic() < deadline:
            try:
                assert call(), f"{op} gave a wrong result"
                done += 1
            except RetroError:
                refused += 1
    stop.set()
    thread.join()
    if op != "close":
        assert calls[op](), f"{op} gave a wrong result"  # alone, the call works
        done += 1
        em.step()  # still usable
        em.close()
    print("ok", done, refused, steps[0], steps[1], int(closed_while_stepping.is_set()))
""")

OPS = ["get_state", "get_state_size", "set_state", "reset", "power_cycle", "get_memory", "memory_blocks",
       "get_ram", "memory_descriptors", "get_screen", "get_observation", "cheats", "options", "controller",
       "close"]


def race(rom: Path, op: str) -> list[int]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", RACE, str(rom), op], capture_output=True, text=True, timeout=120,
                       env=env)
    assert r.returncode == 0, f"{op} racing step: exit {r.returncode}\n{r.stderr[-3000:]}"
    words = r.stdout.split()
    assert words[0] == "ok", r.stdout
    return [int(w) for w in words[1:]]


@pytest.mark.parametrize("op", OPS)
def test_a_core_call_racing_step_is_refused_or_right(pong_rom: Path, op: str) -> None:
    done, refused, stepped, step_refused, closed_while_stepping = race(pong_rom, op)
    assert done >= 1 and stepped >= 1
    if op == "close":  # one close, while the other thread steps: that thread then meets EmulatorClosedError
        assert closed_while_stepping == 1, "the stepping thread did not see the close"
    else:  # half a second of calls against the stepping thread
        assert done + refused + step_refused > 2, "the threads did not overlap"


@pytest.mark.parametrize("op", ["get_state", "set_state", "close", "get_ram"])
def test_races_on_snes9x(test_roms: dict[str, Path], op: str) -> None:
    done, *_ = race(test_roms["snes"], op)
    assert done >= 1


def test_a_call_while_busy_is_a_retro_error(pong_rom: Path) -> None:
    """The guard itself: while a call holds the emulator, the others raise, naming the cause."""
    import threading

    import retro

    em = retro.RetroEmulator(pong_rom)
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_step() -> None:
        started.set()
        em.step(3000)  # long enough to be caught running

    t = threading.Thread(target=slow_step)
    t.start()
    started.wait()
    try:
        while t.is_alive():
            try:
                em.get_state()
            except retro.RetroError as e:
                errors.append(e)
                break
    finally:
        release.set()
        t.join()
    em.close()
    assert errors and "another thread" in str(errors[0])

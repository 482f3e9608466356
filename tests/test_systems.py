"""Our own test ROMs on the systems beyond NES, SNES and Atari 2600.

Each ROM (``tests/roms/src``, documented in ``tests/roms/README.md``) keeps a
16-bit frame counter, an echo of the pad and a count of the frames with A
held in RAM, and shows a picture whose colour follows them. The tests run
each on its system's default core through ``retro.RetroEmulator``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

from retro import RetroEmulator

# libretro joypad ids
B, Y, SELECT, START, UP, DOWN, LEFT, RIGHT, A, X, L, R = range(12)


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def mask(*buttons: int) -> int:
    return sum(1 << b for b in set(buttons))


def packed(layout: dict[int, int], buttons: tuple[int, ...], pressed: int = 1) -> int:
    """The byte a ROM stores for ``buttons``: bit ``layout[b]`` per button.

    ``pressed=0`` for an active-low byte (bits of pressed buttons clear).
    """
    bits = sum(1 << layout[b] for b in buttons if b in layout)
    return bits if pressed else ~bits & 0xFF


@dataclass(frozen=True)
class Spec:
    rom: str                         # tests.roms.build name
    system: str
    core: str
    ram: int                         # start address of the RAM block with the variables
    counter: int                     # offsets in that block
    pad: int
    held: int
    pad_byte: Callable[[tuple[int, ...]], int]
    warm_up: int                     # steps until the counter counts
    period: int                      # backdrop colours before they repeat (A released)
    shape: tuple[int, int, int]
    combos: tuple[tuple[int, ...], ...] = ((A,), (B, START), (UP, LEFT, SELECT), (DOWN, RIGHT), ())
    extra: dict[int, int] = field(default_factory=dict)  # offset: value it must hold


GB_PAD = {A: 0, B: 1, SELECT: 2, START: 3, RIGHT: 4, LEFT: 5, UP: 6, DOWN: 7}

SPECS = {
    "gb": Spec("gb", "GameBoy", "gambatte", 0xC000, 0, 2, 3,
               lambda b: packed(GB_PAD, b), warm_up=20, period=4,
               shape=(144, 160, 3), extra={4: 0}),
    "gbc": Spec("gbc", "GbColor", "gambatte", 0xC000, 0, 2, 3,
                lambda b: packed(GB_PAD, b), warm_up=20, period=32,
                shape=(144, 160, 3), extra={4: 1}),
}

# The fixed input of the golden runs: (frames, buttons on pad 1, buttons on pad 2).
SCRIPT = [
    (60, (), ()),
    (30, (A,), (B,)),
    (20, (RIGHT, B), ()),
    (40, (UP, START), (A, LEFT)),
    (30, (A, LEFT), ()),
    (20, (SELECT, DOWN), (DOWN,)),
    (100, (), ()),
]
assert sum(n for n, _, _ in SCRIPT) == 300

# system: (screen sha256[:16], RAM sha256[:16]) after the 300 frames of SCRIPT from power-on
GOLDEN = {
    "gb": ("1d1e55af97b53b66", "82616d50687bcd2b"),
    "gbc": ("1bdfb3b4b85c598c", "66bf087f8be9e4cd"),
}


def play(em: RetroEmulator, frames: int | None = None) -> list[tuple[str, str]]:
    """Play SCRIPT (its first ``frames`` frames); the screen and RAM digests of every frame."""
    trace = []
    left = 300 if frames is None else frames
    for n, pad1, pad2 in SCRIPT:
        em.set_button_mask(mask(*pad1), 0)
        em.set_button_mask(mask(*pad2), 1)
        for _ in range(min(n, left)):
            em.step()
            trace.append((digest(em.get_screen()), digest(em.get_ram())))
        left -= min(n, left)
    return trace


@pytest.fixture(params=sorted(SPECS))
def spec(request) -> Spec:
    return SPECS[request.param]


@pytest.fixture
def em(spec, test_roms):
    with RetroEmulator(test_roms[spec.rom]) as em:
        yield em


def variables(em: RetroEmulator, spec: Spec) -> tuple[int, int, int]:
    """(frame counter, pad byte, held-A counter) as the ROM keeps them."""
    ram = em.memory[spec.ram]
    return (int(ram[spec.counter]) | int(ram[spec.counter + 1]) << 8,
            int(ram[spec.pad]), int(ram[spec.held]))


def test_runs_on_the_default_core(em, spec):
    assert (em.system, em.core.name) == (spec.system, spec.core)
    assert em.get_screen().shape == spec.shape
    em.step(spec.warm_up)
    ram = em.memory[spec.ram]
    for offset, value in spec.extra.items():
        assert ram[offset] == value


def test_frame_counter_advances_one_per_step(em, spec):
    em.step(spec.warm_up)
    counter = variables(em, spec)[0]
    assert counter > 0, "the ROM has started counting"
    for i in range(1, 60):
        em.step()
        assert variables(em, spec)[0] == counter + i


def test_pad_echo_and_held_counter(em, spec):
    em.step(spec.warm_up)
    for buttons in spec.combos:
        em.set_button_mask(mask(*buttons), 0)
        em.step()
        assert variables(em, spec)[1] == spec.pad_byte(buttons), buttons
    held = variables(em, spec)[2]
    em.set_button_mask(mask(A, RIGHT), 0)
    em.step(5)
    assert variables(em, spec)[2] == (held + 5) & 0xFF, "frames with A held accumulate"
    em.set_button_mask(mask(B, LEFT), 0)
    em.step(3)
    assert variables(em, spec)[2] == (held + 5) & 0xFF, "frames without A do not"


def test_picture_follows_the_counter_and_a(em, spec):
    em.step(spec.warm_up)
    screens = set()
    for _ in range(spec.period):
        em.step()
        screen = em.get_screen()
        assert len(np.unique(screen.reshape(-1, 3), axis=0)) > 1, "a pattern, not one colour"
        screens.add(digest(screen))
    assert len(screens) == spec.period, "each frame of a period looks different"
    em.step()
    assert digest(em.get_screen()) in screens, "the period repeats"
    em.set_button_mask(mask(A), 0)
    em.step()
    held = digest(em.get_screen())
    assert held not in screens, "A held has a picture of its own"
    em.step(3)
    assert digest(em.get_screen()) == held, "and keeps it"


def test_golden_after_300_frames_of_input(em, spec):
    play(em)
    assert (digest(em.get_screen()), digest(em.get_ram())) == GOLDEN[spec.rom]


def test_state_round_trip(em, spec):
    play(em)
    state = em.get_state()
    first = play(em, 100)
    em.set_state(state)
    second = play(em, 100)
    assert len(set(first)) > 1
    assert first == second

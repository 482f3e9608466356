"""Restore policies (retro/profiles/restore.py, retro/profiles/stella_restore.py).

Each policy must make a restore on a used core give what the same restore
gives on a freshly loaded core; a state the core would refuse must leave the
emulator exactly as it was; a save must not make RAM views stale where the
policy does not restore on save; the in-place Stella policy must re-check its
pointers before writing through them and hand over to reloading when they no
longer hold; and a spare core swapped in must run with the option values set
at run time, from strings it owns.
"""

from __future__ import annotations

import ctypes
import gzip
import pathlib
import random
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import retro
from retro.profiles.restore import PlainRestore, ReloadWithSpare, RestorePolicy
from retro.profiles.stella_restore import StellaInPlace
from retro.emulator import RetroEmulator
from tests.cores import build

INTEGRATIONS = Path(__file__).resolve().parents[1] / "integrations" / "stable"


def pong_state(name: str = "Start") -> bytes:
    with gzip.open(INTEGRATIONS / "Pong-Atari2600" / f"retro.{name}.state", "rb") as f:
        return f.read()


def masks(rng: np.random.Generator, n: int, buttons: int = 12) -> np.ndarray:
    return rng.integers(0, 1 << buttons, size=(n, 2)).astype(np.uint16)


def play(em: RetroEmulator, inputs: np.ndarray, record: bool = True) -> list[tuple[bytes, bytes, bytes]]:
    """Play ``inputs`` (one mask per port per frame); each frame's screen, RAM and sound."""
    frames = []
    em.get_audio()
    for m0, m1 in inputs:
        em.set_button_mask(int(m0), 0)
        em.set_button_mask(int(m1), 1)
        em.step()
        if record:
            frames.append((em.get_screen().tobytes(), em.get_ram().tobytes(), em.get_audio().tobytes()))
    return frames


def with_policy(rom: Path, policy: Callable[[], RestorePolicy] | None) -> RetroEmulator:
    em = RetroEmulator(rom)
    if policy is not None:
        em._use_restore_policy(policy())
    return em


# -- each policy: restores on a used core equal restores on a fresh core -------------

POLICIES = {
    "plain (Genesis Plus GX)": ("airstriker", PlainRestore, PlainRestore),
    "reload (Stella)": ("pong", ReloadWithSpare, ReloadWithSpare),
    "in place (Stella)": ("pong", None, StellaInPlace),
}


@pytest.mark.parametrize("case", list(POLICIES))
def test_restores_on_a_used_core_equal_a_fresh_cores(case, airstriker_rom, pong_rom):
    game, policy, expected = POLICIES[case]
    rom = {"airstriker": airstriker_rom, "pong": pong_rom}[game]
    buttons = 12 if game == "airstriker" else 8
    with RetroEmulator(rom) as maker:
        maker.step(90)
        state = retro._core.Emulator.get_state(maker)  # a state from the middle of play
    sequence = masks(np.random.default_rng(1), 120, buttons)
    with RetroEmulator(rom) as fresh:
        fresh._use_restore_policy(PlainRestore())  # a fresh core: unserialising is the reference
        fresh.set_state(state)
        reference = play(fresh, sequence)
    rng = np.random.default_rng(2)
    with with_policy(rom, policy) as em:
        assert type(em._restore) is expected
        for history in range(6):
            em.set_state(state)
            play(em, masks(rng, int(rng.integers(1, 300)), buttons), record=False)
            em.set_state(state)
            assert play(em, sequence) == reference, f"history {history}"


# -- a state the core would refuse leaves the emulator as it was -----------------------

# (offset, what it names) of the names Pong's states carry
PONG_NAMES = [(0, "header"), (17, "cartridge"), (32, "System"), (47, "M6502"), (99, "M6532"),
              (259, "TIA"), (417, "TIASound"), (439, "cartridge device")]


@pytest.mark.parametrize("policy", [None, ReloadWithSpare], ids=["in place", "reload"])
@pytest.mark.parametrize("offset, name", PONG_NAMES, ids=[n for _, n in PONG_NAMES])
def test_a_corrupt_stella_state_of_the_right_size_changes_nothing(pong_rom, policy, offset, name):
    good = pong_state()
    bad = bytearray(good)
    bad[offset + 5] ^= 0x20  # a letter of the name changes case
    bad[offset + 100 if offset + 100 < len(bad) else 200] ^= 0xFF
    assert len(bad) == len(good)
    rng = np.random.default_rng(3)
    history, after = masks(rng, 50, 8), masks(rng, 60, 8)
    with with_policy(pong_rom, policy) as em, with_policy(pong_rom, policy) as twin:
        for target in (em, twin):
            target.set_state(good)
            play(target, history, record=False)
        generation = em.memory_generation
        ram = em.get_memory(2)
        with pytest.raises(retro.StateError):
            em.set_state(bytes(bad))
        assert em.memory_generation == generation, "the core was not replaced"
        assert np.array_equal(ram, twin.get_ram())
        assert np.array_equal(em.get_screen(), twin.get_screen())
        assert play(em, after) == play(twin, after)


# -- saving does not make views stale where the policy does not restore on save ----------

@pytest.mark.parametrize("policy", [None, ReloadWithSpare, PlainRestore],
                         ids=["in place (restores in place)", "reload (no restore)", "plain (in place)"])
def test_get_state_keeps_memory_views_valid(pong_rom, policy):
    with with_policy(pong_rom, policy) as em:
        em.step(30)
        view = em.memory[0x80]
        generation = em.memory_generation
        for _ in range(3):
            em.get_state()
            em.step(7)
            assert em.memory_generation == generation
            assert np.array_equal(view, em.get_ram()), "the view still shows the running core's RAM"


# -- the in-place policy re-checks its pointers and falls back ---------------------------

def test_stella_policy_falls_back_when_its_pointers_no_longer_check_out(pong_rom):
    state = pong_state()
    sequence = masks(np.random.default_rng(4), 120, 8)
    with RetroEmulator(pong_rom) as fresh:
        fresh._use_restore_policy(PlainRestore())
        fresh.set_state(state)
        reference = play(fresh, sequence)
    with RetroEmulator(pong_rom) as em:
        policy = em._restore
        assert isinstance(policy, StellaInPlace)
        play(em, masks(np.random.default_rng(5), 200, 8), record=False)
        # the TIA moved (as far as the cached chain knows): a write through the old
        # address would land in this buffer
        decoy = ctypes.create_string_buffer(b"\x01" * 0x400, 0x400)
        chain = policy._chain
        assert chain is not None
        chain.tia = ctypes.addressof(decoy)
        generation = em.memory_generation
        em.set_state(state)
        assert decoy.raw == b"\x01" * 0x400, "nothing was written through the stale pointer"
        assert isinstance(em._restore, ReloadWithSpare)
        assert em.memory_generation == generation + 1, "the restore reloaded the core"
        assert play(em, sequence) == reference
        em.set_state(state)
        assert play(em, sequence) == reference


def test_stella_policy_finds_its_objects_again_after_a_power_cycle(pong_rom):
    state = pong_state()
    with RetroEmulator(pong_rom) as em, RetroEmulator(pong_rom) as fresh:
        em.step(100)
        em.power_cycle()
        em.step(100)
        em.set_state(state)
        assert isinstance(em._restore, StellaInPlace)
        fresh.set_state(state)
        sequence = masks(np.random.default_rng(6), 60, 8)
        assert play(em, sequence) == play(fresh, sequence)


# -- a spare core runs with run-time option values, from strings it owns -----------------

@pytest.fixture(scope="module")
def keeper(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, pathlib.Path]:
    out = tmp_path_factory.mktemp("keeper")
    rom = out / "game.bin"
    rom.write_bytes(random.Random(7).randbytes(64))
    return build.build_core("keeper", out), rom


def kept(em: RetroEmulator) -> tuple[str, str]:
    """The option value and system directory the keeper core holds pointers to."""
    em.step()
    ram = bytes(em.get_ram())
    return ram[:16].rstrip(b"\0").decode("latin-1"), ram[16:].rstrip(b"\0").decode("latin-1")


def test_option_values_survive_a_spare_swap(keeper):
    core, rom = keeper
    from retro import paths

    system_dir = str(paths.system_dir())[:47]
    with RetroEmulator(rom, core=core, options={"testcore_speed": "fast"}) as em:
        em._use_restore_policy(ReloadWithSpare())  # a spare loads in the background
        em._wait_for_spare()
        assert kept(em) == ("fast", system_dir)
        em.set_option("testcore_speed", "slow")
        assert kept(em) == ("slow", system_dir)
        for _ in range(3):
            em.power_cycle()  # the spare (loaded before the change) is swapped in
            em._wait_for_spare()  # the core it replaced is closed by now
            assert em.options == {"testcore_speed": "slow"}
            assert kept(em) == ("slow", system_dir)

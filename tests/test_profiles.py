"""Core profiles (retro/profiles/): one per core, one registry keyed by core name, used through CoreHost only."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest

import retro
from retro import cores
from retro.emulator import CoreHost
from retro.profiles import PROFILES, CoreProfile, audio_options, core_for_state, profile_for
from retro.profiles.protocol import CoreHost as CoreHostProtocol

ROOT = Path(__file__).resolve().parent.parent


def test_profiles_are_keyed_by_the_core_names_users_pass() -> None:
    manifest = json.loads((ROOT / "vendor" / "libretro-cores" / "manifest.json").read_text())
    names = {c["name"] for c in manifest["cores"]}
    assert set(PROFILES) <= names and {"stella", "ale", "snes9x", "gambatte", "nestopia", "picodrive", "genesis_plus_gx",
                                                  "mgba", "mednafen_pce_fast"} == \
        set(PROFILES)
    for name, profile in PROFILES.items():
        assert profile.name == name and profile.library_names
        assert profile_for(name) is profile
        for library in profile.library_names:  # a core given by a path of another name is told by its library
            assert profile_for("my_build", library) is profile
    assert type(profile_for("fceumm", "FCEUmm")) is CoreProfile and type(profile_for(None)) is CoreProfile


def test_what_states_and_audio_say_comes_from_the_profiles() -> None:
    assert core_for_state(b"RETROALE" + bytes(40)) == "ale"
    assert core_for_state(b"\x00" * 48) is None and core_for_state(b"") is None and core_for_state(None) is None
    assert audio_options("ale") == {"ale_audio": "enabled"} and audio_options("stella") == {}
    assert audio_options(None) == {} and audio_options("nope") == {}
    assert retro.emulator.core_for_state is core_for_state  # the names scripts import from retro.emulator


def test_gambatte_states_compare_past_the_hosts_values(test_roms: dict[str, Path]) -> None:
    with retro.RetroEmulator(test_roms["gb"]) as em:
        em.step(30)
        state = em.get_state()
        em.step()
        later = em.get_state()
    from retro.profiles.gambatte import HOST_FIELDS

    other = bytearray(state)
    for label in HOST_FIELDS:  # another process's pointers, another second's clock
        at = state.index(label + b"\x00") + len(label) + 4
        other[at] ^= 0x5A
    assert PROFILES["gambatte"].states_equal(state, bytes(other)) and bytes(other) != state
    assert not PROFILES["gambatte"].states_equal(state, later), "one frame more is another machine"


def _protocol_members() -> set[str]:
    return {n for n in vars(CoreHostProtocol) if not n.startswith("_")}


def test_the_emulators_host_implements_the_whole_protocol() -> None:
    members = _protocol_members()
    assert {"serialize", "unserialize", "restore_on_spare", "keep_spare", "memory_address",
            "use_restore_policy", "library_name"} <= members
    assert members <= {n for n in dir(CoreHost) if not n.startswith("_")}


def test_profiles_and_policies_use_emulators_only_through_the_protocol() -> None:
    """No attribute of an emulator is used in retro/profiles/ but the CoreHost protocol's: no private methods."""
    members = _protocol_members()
    used: dict[str, set[str]] = {}
    for path in sorted((ROOT / "retro" / "profiles").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("em", "host"):
                used.setdefault(node.attr, set()).add(path.name)
    assert used, "the walk found no use of a host at all"
    assert {a: sorted(f) for a, f in used.items() if a not in members} == {}


@pytest.mark.parametrize("core,rom_fixture", [("picodrive", "airstriker_rom"), ("stella", "pong_rom"),
                                              ("genesis_plus_gx", "airstriker_rom")])
def test_an_emulator_takes_its_cores_profile_even_when_the_core_is_given_by_a_path(
        core: str, rom_fixture: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    found = cores.find_core(core)
    assert found is not None, f"the {core} core is provisioned"
    renamed = tmp_path / "my_build_libretro.so"
    shutil.copy(found.path, renamed)
    rom = str(request.getfixturevalue(rom_fixture))
    with retro.RetroEmulator(rom, core=str(renamed)) as em:
        assert em.core.name == "my_build" and em._profile is PROFILES[core]
        state, ram = em.get_state(), em.get_ram()
        for _ in range(10):
            em.step()
        assert em.set_state(state) and (em.get_ram() == ram).all()
        expected = {"picodrive": "reload", "stella": "stella-in-place", "genesis_plus_gx": "plain"}[core]
        assert em._restore.name == expected

"""Helpers for tests that need integrations: custom ones for the homebrew test ROMs.

The repository's homebrew ROMs (``tests/roms``) are assembled at test time,
so they get no shipped integration. :func:`write_test_rom_integration`
writes one for a built ROM into a folder of custom integrations, the way a
user integrates a game of their own (Gym Retro's "custom integration"
workflow)::

    rom = build_rom("atari2600", tmp_path)
    game = write_test_rom_integration(rom, tmp_path / "custom")   # "RetroTestRom-Atari2600"
    retro.data.Integrations.add_custom_path(tmp_path / "custom")
    data = retro.data.GameData(game, inttype=retro.data.Integrations.ALL)

The integration has the variables every test ROM keeps (``tests/roms/README.md``):
``frame`` (16-bit frame counter), ``held`` (frames with pad 1's A/fire held,
8 bits) and the raw pad bytes; its scenario rewards ``held`` going up and is
done when ``frame`` reaches ``done_at``. The ROM is copied into the folder as
``rom.<ext>``, ``rom.sha`` holds its SHA-1 (NES: without the iNES header),
and a ``Start`` state is made with :mod:`retro.scripts.make_state`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from retro.scripts.make_state import make_state, write_state
from retro.systems import system_for_rom

__all__ = ["TEST_ROM_VARIABLES", "write_test_rom_integration", "rom_sha1", "load_state_bytes"]

#: The variables of each homebrew ROM: name -> (address, type).
TEST_ROM_VARIABLES: dict[str, dict[str, tuple[int, str]]] = {
    "Atari2600": {"frame": (0x80, "<u2"), "pad": (0x82, "|u1"), "fire": (0x83, "|u1"), "held": (0x84, "|u1")},
    "Nes": {"frame": (0x0000, "<u2"), "pad": (0x0002, "|u1"), "pad2": (0x0003, "|u1"), "held": (0x0004, "|u1")},
    "Snes": {"frame": (0x7E0000, "<u2"), "pad": (0x7E0002, "<u2"), "pad2": (0x7E0004, "<u2"),
             "held": (0x7E0006, "|u1")},
    "GameBoy": {"frame": (0xC000, "<u2"), "pad": (0xC002, "|u1"), "held": (0xC003, "|u1")},
    "GbColor": {"frame": (0xC000, "<u2"), "pad": (0xC002, "|u1"), "held": (0xC003, "|u1")},
    "Sms": {"frame": (0xC000, "<u2"), "pad": (0xC002, "|u1"), "pad2": (0xC003, "|u1"), "held": (0xC004, "|u1")},
    "GameGear": {"frame": (0xC000, "<u2"), "pad": (0xC002, "|u1"), "pad2": (0xC003, "|u1"),
                 "held": (0xC004, "|u1")},
    "PCEngine": {"frame": (0xF80000, "<u2"), "pad": (0xF80002, "|u1"), "pad2": (0xF80003, "|u1"),
                 "held": (0xF80004, "|u1")},
    "GbAdvance": {"frame": (0x3000000, "<u2"), "pad": (0x3000002, "|u1"), "pad2": (0x3000003, "|u1"),
                  "held": (0x3000004, "|u1")},
    # offsets from the 68000's $FF0000, as a Genesis integration gives them: the 32x's types read
    # the byte-swapped words of retro's RAM block as the 68000 does (tests/roms/README.md)
    "32x": {"frame": (0, ">u2"), "pad": (2, "|u1"), "pad2": (3, "|u1"), "held": (4, "|u1")},
}


def rom_sha1(rom: Path) -> str:
    """The SHA-1 an integration knows a ROM by (NES: the file without its 16-byte header)."""
    data = rom.read_bytes()
    if rom.suffix.lower() == ".nes":
        data = data[16:]
    return hashlib.sha1(data).hexdigest()


def write_test_rom_integration(rom: Path, dest: Path, name: str = "RetroTestRom", done_at: int = 600,
                               start_frames: int = 10) -> str:
    """Write ``dest/<name>-<System>/`` for a homebrew test ROM; returns the game id.

    ``start_frames`` frames after power-on are run (no buttons) to make the
    ``Start`` state, past the NES and SNES ROMs' warm-up.
    """
    rom = Path(rom)
    system = system_for_rom(rom)
    if system not in TEST_ROM_VARIABLES:
        raise ValueError(f"no test ROM layout for {system}; known: {sorted(TEST_ROM_VARIABLES)}")
    game = f"{name}-{system}"
    folder = Path(dest) / game
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(rom, folder / ("rom" + rom.suffix.lower()))
    (folder / "rom.sha").write_text(rom_sha1(rom) + "\n")
    info = {n: {"address": a, "type": t} for n, (a, t) in TEST_ROM_VARIABLES[system].items()}
    _write_json(folder / "data.json", {"info": info})
    _write_json(folder / "scenario.json", {
        "reward": {"variables": {"held": {"reward": 1.0}}},
        "done": {"variables": {"frame": {"op": "greater-or-equal", "reference": done_at}}},
    })
    _write_json(folder / "metadata.json", {"default_state": "Start"})
    state = make_state(folder / ("rom" + rom.suffix.lower()), [], start_frames, system=system)
    write_state(folder / "Start.state", state)
    return game


def load_state_bytes(path: Path) -> bytes:
    """The raw core state inside a gzipped ``.state`` file."""
    return gzip.decompress(Path(path).read_bytes())


def _write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, indent=2) + "\n")

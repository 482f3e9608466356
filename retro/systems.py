"""What retro knows about each emulated system.

The facts live in ``retro/systems/*.json``, one file per family, in Gym Retro's
core-info layout: ``{"<System>": {"lib", "ext", "rambase", "buttons",
"actions", "types", "overlay", ...}}``. ``buttons[i]`` names libretro joypad
id ``i`` (``null`` for an unused id). retro adds ``alternates`` (other cores
that run the system), ``screen`` (a fixed picture size, ``null`` for "as the
core says"), ``options`` (core option values retro sets), ``ramsize`` (the
size of the system's work RAM, where the core's system-RAM buffer is larger),
``bk2_platform`` (the ``Platform`` written in ``.bk2`` headers) and
``aliases`` (other names of the same system: ``FBNeo``, stable-retro's name of
``Arcade``). ``keybinds[i]`` is stable-retro's keyboard key for button ``i``.

An alias names the same system everywhere a system name is taken
(:func:`get_system_info`, ``RetroEmulator(system=...)``, the cores), and has
its own entry in ``EMU_INFO`` and ``EMU_CORES``, as stable-retro lists it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retro.errors import ContentLoadError, IntegrationError, RomNotFoundError, UnknownSystemError

__all__ = [
    "SystemInfo",
    "EMU_INFO",
    "EMU_CORES",
    "EMU_EXTENSIONS",
    "SYSTEMS",
    "get_system_info",
    "system_for_rom",
    "load_core_info",
    "init_core_info",
    "canonical_system",
    "system_names",
    "check_rom_file",
    "ROM_CHECKS",
    "MAX_ROM_FILE_SIZE",
    "SYSTEM_ALIASES",
]

SYSTEMS_DIR = Path(__file__).parent / "systems"
CORE_SUFFIX = "_libretro.so"


@dataclass(frozen=True)
class SystemInfo:
    """One system's facts (see the module docstring)."""

    name: str
    lib: str
    ext: tuple[str, ...]
    buttons: tuple[str | None, ...]
    actions: tuple[tuple[tuple[str, ...], ...], ...]
    rambase: int = 0
    ramsize: int | None = None
    alternates: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    overlay: tuple[Any, ...] | None = None
    screen: tuple[int | None, int | None] | None = None
    options: dict[str, str] = field(default_factory=dict)
    bk2_platform: str = ""
    keybinds: tuple[str | None, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def cores(self) -> tuple[str, ...]:
        """The default core first, then the alternates."""
        return (self.lib, *self.alternates)

    @property
    def num_buttons(self) -> int:
        """How many joypad ids the system's button list has."""
        return len(self.buttons)

    def button_index(self, name: str) -> int:
        """The joypad id of a button name (``ValueError`` if the system has none)."""
        try:
            return self.buttons.index(name)
        except ValueError:
            raise ValueError(
                f"{self.name} has no button {name!r}; its buttons are "
                f"{[b for b in self.buttons if b]}") from None


def _parse(name: str, raw: dict[str, Any], source: str) -> SystemInfo:
    try:
        screen = raw.get("screen")
        return SystemInfo(
            name=name,
            lib=str(raw["lib"]),
            ext=tuple(str(e).lower().lstrip(".") for e in raw["ext"]),
            buttons=tuple(raw["buttons"]),
            actions=tuple(tuple(tuple(combo) for combo in group) for group in raw.get("actions", [])),
            rambase=int(raw.get("rambase", 0)),
            ramsize=int(raw["ramsize"]) if raw.get("ramsize") is not None else None,
            alternates=tuple(raw.get("alternates", [])),
            types=tuple(raw.get("types", [])),
            overlay=tuple(raw["overlay"]) if raw.get("overlay") else None,
            screen=(screen[0], screen[1]) if screen else None,
            options=dict(raw.get("options", {})),
            bk2_platform=str(raw.get("bk2_platform", name)),
            keybinds=tuple(raw.get("keybinds") or ()),
            aliases=tuple(str(a) for a in raw.get("aliases") or ()),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise IntegrationError(f"{source}: system {name!r} is malformed: {e!r}") from e


EMU_INFO: dict[str, dict[str, Any]] = {}
"""System name -> raw core-info dict, as Gym Retro's ``retro.data.EMU_INFO``."""
EMU_CORES: dict[str, str] = {}
"""System name -> core library file name, as Gym Retro's ``EMU_CORES``."""
EMU_EXTENSIONS: dict[str, str] = {}
"""``'.ext'`` -> system name, as Gym Retro's ``EMU_EXTENSIONS``."""
SYSTEMS: dict[str, SystemInfo] = {}
"""System name -> :class:`SystemInfo` (each system once, under its own name; aliases are in :data:`SYSTEM_ALIASES`)."""
SYSTEM_ALIASES: dict[str, str] = {}
"""Other name of a system -> its name (``"FBNeo"`` -> ``"Arcade"``)."""


def canonical_system(name: str) -> str:
    """The system's own name for ``name``: an alias's system, else ``name`` unchanged."""
    return SYSTEM_ALIASES.get(name, name)


def system_names() -> list[str]:
    """Every name a system is known by: the systems' own names and their aliases, sorted."""
    return sorted({*SYSTEMS, *SYSTEM_ALIASES})


def load_core_info(text: str, source: str = "<core info>") -> bool:
    """Register the systems of one core-info JSON document (Gym Retro's ``load_core_info``); True.

    A system already known is replaced; a system of the document whose name
    is an alias (``FBNeo``) replaces the system it names.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise IntegrationError(f"{source}: not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise IntegrationError(f"{source}: expected an object of systems")
    for name, raw in doc.items():
        if not isinstance(raw, dict):
            raise IntegrationError(f"{source}: system {name!r} is malformed: expected an object")
        name = canonical_system(name)
        info = _parse(name, raw, source)
        SYSTEMS[name] = info
        for alias in info.aliases:
            if alias in SYSTEMS and alias != name:
                raise IntegrationError(f"{source}: alias {alias!r} of {name} is already a system of its own")
            SYSTEM_ALIASES[alias] = name
        for key in (name, *[a for a, n in SYSTEM_ALIASES.items() if n == name]):
            EMU_INFO[key] = raw
            EMU_CORES[key] = info.lib + CORE_SUFFIX
        for ext in info.ext:
            EMU_EXTENSIONS["." + ext] = name
    return True


def init_core_info(path: str | os.PathLike[str]) -> None:
    """Register the systems of every core-info ``*.json`` file in folder ``path`` (Gym Retro's ``init_core_info``).

    Files are read in name order; a later file's system replaces an earlier one of the same name.
    """
    for file in sorted(Path(os.fspath(path)).glob("*.json")):
        load_core_info(file.read_text(encoding="utf-8"), str(file))


def _load_builtin() -> None:
    init_core_info(SYSTEMS_DIR)


_load_builtin()


def get_system_info(system: str) -> dict[str, Any]:
    """The core-info dict of a system or alias (Gym Retro's ``retro.get_system_info``).

    An unknown name raises :class:`~retro.errors.UnknownSystemError`, which is
    a ``KeyError`` (what Gym Retro and stable-retro raise) and a ``ValueError``.
    """
    try:
        return EMU_INFO[system]
    except (KeyError, TypeError):
        raise UnknownSystemError(
            f"unknown system {system!r}; known systems are {system_names()}") from None


def system_for_rom(rom_path: str | os.PathLike[str]) -> str:
    """The system a ROM file belongs to, told by its extension."""
    ext = os.path.splitext(os.fspath(rom_path))[1].lower()
    try:
        return EMU_EXTENSIONS[ext]
    except KeyError:
        raise UnknownSystemError(
            f"cannot tell the system of {os.fspath(rom_path)!r} from its extension {ext or '(none)'}; "
            f"known extensions are {' '.join(sorted(EMU_EXTENSIONS))} (or pass system=...)"
        ) from None


# -- what a ROM file of each system looks like ------------------------------------------------------------------------

MAX_ROM_FILE_SIZE = 64 << 20
"""Largest ROM file retro loads (GBA carts are 32 MiB; CD images are not ROMs)."""


def _sega_cartridge(path: str, system: str, header: bytes, size: int) -> str | None:
    if b"SEGA" not in header[0x100:0x110]:
        return (f"{path} is not a {system} ROM: a cartridge image has 'SEGA' in its header at 0x100 "
                f"(interleaved .smd dumps must be converted to .md first)")
    return None


def _ines(path: str, system: str, header: bytes, size: int) -> str | None:
    if header[:4] != b"NES\x1a" or len(header) < 16:
        return f"{path} is not an iNES ROM: it does not start with 'NES\\x1a'"
    prg, chr_, flags6 = header[4], header[5], header[6]
    if header[7] & 0x0C != 0x08:  # iNES 1.0: sizes are in the header as given
        need = 16 + (512 if flags6 & 4 else 0) + prg * 16384 + chr_ * 8192
        if prg == 0 or size < need:
            return (f"{path} is a truncated or corrupt iNES ROM: its header declares {prg} x 16 KiB PRG and "
                    f"{chr_} x 8 KiB CHR ({need} bytes), the file has {size}")
    return None


def _crc16_modbus(data: bytes) -> int:
    """CRC-16 with the reflected polynomial 0xA001 and start value 0xFFFF (the DS header's)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _nds(path: str, system: str, header: bytes, size: int) -> str | None:
    if len(header) < 0x160 or _crc16_modbus(header[:0x15E]) != int.from_bytes(header[0x15E:0x160], "little"):
        return (f"{path} is not a Nintendo DS ROM: its header's CRC-16 (at 0x15E, over bytes 0x000-0x15D) "
                f"does not match")
    return None


def _chd(path: str, system: str, header: bytes, size: int) -> str | None:
    if header[:8] != b"MComprHD":
        return f"{path} is not a Saturn disc image: retro loads CHD images, which start with 'MComprHD'"
    return None


def _zip_set(path: str, system: str, header: bytes, size: int) -> str | None:
    import zipfile

    if not zipfile.is_zipfile(path):
        return f"{path} is not an arcade ROM set: FBNeo loads ROM sets as .zip files"
    return None


def _snes(path: str, system: str, header: bytes, size: int) -> str | None:
    body = size - 512 if size % 1024 == 512 else size
    if body < 0x8000:
        return f"{path} is {size} bytes; the smallest SNES cartridge is 32 KiB, so it is not a SNES ROM"
    return None


ROM_CHECKS: dict[str, Any] = {
    "Genesis": _sega_cartridge, "32x": _sega_cartridge, "Nes": _ines, "NintendoDs": _nds, "Saturn": _chd,
    "Arcade": _zip_set, "Snes": _snes,
}
"""Per system, a check of a ROM file's header (its first 512 bytes) and size: ``check(path, system, header,
size)`` gives the reason it is not a ROM of that system, or None. Systems whose cores crash on files that are
not games have one."""


def check_rom_file(rom_path: str, system: str | None) -> None:
    """Cheap checks that turn a file that is not a ROM of ``system`` into a clear error, before a core sees it.

    Raises ``RomNotFoundError`` for a missing file and ``ContentLoadError`` for a folder, an empty file, one
    larger than any cartridge, or a header that is not the system's (:data:`ROM_CHECKS`).
    """
    try:
        size = os.path.getsize(rom_path)
    except FileNotFoundError:
        raise RomNotFoundError(f"ROM not found: {rom_path}") from None
    except OSError as e:
        raise ContentLoadError(f"cannot read ROM {rom_path}: {e.strerror}") from e
    if os.path.isdir(rom_path):
        raise ContentLoadError(f"{rom_path} is a directory, not a ROM file")
    if size == 0:
        raise ContentLoadError(f"ROM {rom_path} is empty")
    if size > MAX_ROM_FILE_SIZE:
        raise ContentLoadError(
            f"{rom_path} is {size} bytes; no cartridge of a supported system is larger than "
            f"{MAX_ROM_FILE_SIZE} bytes, so it is not a ROM")
    check = ROM_CHECKS.get(system or "")
    if check is None:
        return
    try:
        with open(rom_path, "rb") as f:
            header = f.read(0x200)
    except OSError as e:
        raise ContentLoadError(f"cannot read ROM {rom_path}: {e.strerror}") from e
    problem = check(rom_path, system, header, size)
    if problem is not None:
        raise ContentLoadError(problem)

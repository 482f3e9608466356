"""What retro knows about each emulated system.

The facts live in ``retro/systems/*.json``, one file per family, in Gym Retro's
core-info layout: ``{"<System>": {"lib", "ext", "rambase", "buttons",
"actions", "types", "overlay", ...}}``. ``buttons[i]`` names libretro joypad
id ``i`` (``null`` for an unused id). retro adds ``alternates`` (other cores
that run the system), ``screen`` (a fixed picture size, ``null`` for "as the
core says"), ``options`` (core option values retro sets), ``ramsize`` (the
size of the system's work RAM, where the core's system-RAM buffer is larger)
and ``bk2_platform`` (the ``Platform`` written in ``.bk2`` headers).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retro.errors import IntegrationError, UnknownSystemError

__all__ = [
    "SystemInfo",
    "EMU_INFO",
    "EMU_CORES",
    "EMU_EXTENSIONS",
    "SYSTEMS",
    "get_system_info",
    "system_for_rom",
    "load_core_info",
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

    @property
    def cores(self) -> tuple[str, ...]:
        """The default core first, then the alternates."""
        return (self.lib, *self.alternates)

    @property
    def num_buttons(self) -> int:
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
        )
    except (KeyError, TypeError, ValueError) as e:
        raise IntegrationError(f"{source}: system {name!r} is malformed: {e!r}") from e


#: System name -> raw core-info dict, as Gym Retro's ``retro.data.EMU_INFO``.
EMU_INFO: dict[str, dict[str, Any]] = {}
#: System name -> core library file name, as Gym Retro's ``EMU_CORES``.
EMU_CORES: dict[str, str] = {}
#: ``'.ext'`` -> system name, as Gym Retro's ``EMU_EXTENSIONS``.
EMU_EXTENSIONS: dict[str, str] = {}
#: System name -> :class:`SystemInfo`.
SYSTEMS: dict[str, SystemInfo] = {}


def load_core_info(text: str, source: str = "<core info>") -> None:
    """Register the systems of one core-info JSON document."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise IntegrationError(f"{source}: not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise IntegrationError(f"{source}: expected an object of systems")
    for name, raw in doc.items():
        info = _parse(name, raw, source)
        SYSTEMS[name] = info
        EMU_INFO[name] = raw
        EMU_CORES[name] = info.lib + CORE_SUFFIX
        for ext in info.ext:
            EMU_EXTENSIONS["." + ext] = name


def _load_builtin() -> None:
    for path in sorted(SYSTEMS_DIR.glob("*.json")):
        load_core_info(path.read_text(), str(path))


_load_builtin()


def get_system_info(system: str) -> dict[str, Any]:
    """The core-info dict of a system (Gym Retro's ``retro.get_system_info``)."""
    try:
        return EMU_INFO[system]
    except KeyError:
        raise UnknownSystemError(
            f"unknown system {system!r}; known systems are {sorted(EMU_INFO)}") from None


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

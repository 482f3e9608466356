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
    "init_core_info",
    "canonical_system",
    "system_names",
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

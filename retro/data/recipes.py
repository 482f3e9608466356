"""Recipes that make save states: power a game on, run frames, press buttons.

An integration records how each of its states was made under
``state_recipes`` in its ``metadata.json``: ``{"<state>": {"press":
["RESET@60:5", ...], "frames": 120}}``. A press spec is
``[P<n>:]BUTTON[+BUTTON...]@FRAME[:FRAMES]``: hold the buttons of player
``n`` (default 1) from frame ``FRAME`` (counted from power-on) for ``FRAMES``
frames. This module reads and checks recipes; :mod:`retro.start_states`
plays them on an emulator. ``python3 -m retro.scripts.make_state`` writes
states and recipes; a core that cannot load an integration's state files
(the ALE core and Stella states) gets its start states from the same
recipes (:func:`retro.start_states.state_from_recipe`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retro.data.integrations import read_metadata as read_metadata_file
from retro.data.numbers import FRAMES, number
from retro.errors import IntegrationError
from retro.systems import SYSTEMS

__all__ = ["LIBRETRO_JOYPAD", "RECIPES_KEY", "Press", "parse_press", "button_id", "read_metadata", "recipes"]

#: libretro joypad ids by name (``RETRO_DEVICE_ID_JOYPAD_*``).
LIBRETRO_JOYPAD = {
    "B": 0, "Y": 1, "SELECT": 2, "START": 3, "UP": 4, "DOWN": 5, "LEFT": 6, "RIGHT": 7,
    "A": 8, "X": 9, "L": 10, "R": 11, "L2": 12, "R2": 13, "L3": 14, "R3": 15,
}

RECIPES_KEY = "state_recipes"

_PRESS_RE = re.compile(r"^(?:P(?P<player>[1-9]):)?(?P<buttons>[A-Za-z0-9_+]+)@(?P<frame>\d+)(?::(?P<frames>\d+))?$")


@dataclass(frozen=True)
class Press:
    """Hold ``buttons`` of ``player`` (0-based) during frames ``[frame, frame + frames)``."""

    player: int
    buttons: tuple[str, ...]
    frame: int
    frames: int = 1

    @property
    def end(self) -> int:
        return self.frame + self.frames

    def __str__(self) -> str:
        prefix = f"P{self.player + 1}:" if self.player else ""
        suffix = f":{self.frames}" if self.frames != 1 else ""
        return f"{prefix}{'+'.join(self.buttons)}@{self.frame}{suffix}"


def parse_press(spec: str) -> Press:
    """Parse ``[P<n>:]BUTTON[+BUTTON...]@FRAME[:FRAMES]``."""
    m = _PRESS_RE.match(spec.strip())
    if not m:
        raise ValueError(f"bad press spec {spec!r}: expected [P<n>:]BUTTON[+BUTTON...]@FRAME[:FRAMES], "
                         f"e.g. RESET@60:5 or P2:UP+BUTTON@100:10")
    frames = int(m["frames"]) if m["frames"] is not None else 1
    if frames < 1:
        raise ValueError(f"bad press spec {spec!r}: a press lasts at least one frame")
    buttons = tuple(b.upper() for b in m["buttons"].split("+") if b)
    if not buttons:
        raise ValueError(f"bad press spec {spec!r}: no button named")
    return Press(int(m["player"] or 1) - 1, buttons, int(m["frame"]), frames)


def button_id(system: str, name: str) -> int:
    """The joypad id of a button, by the system's name for it or libretro's."""
    info = SYSTEMS[system]
    upper = name.upper()
    for i, b in enumerate(info.buttons):
        if b is not None and b.upper() == upper:
            return i
    if upper in LIBRETRO_JOYPAD:
        return LIBRETRO_JOYPAD[upper]
    raise ValueError(f"{system} has no button {name!r}; its buttons are "
                     f"{[b for b in info.buttons if b]} (libretro names {sorted(LIBRETRO_JOYPAD)} also work)")


def read_metadata(folder: Path) -> dict[str, Any]:
    """A folder's ``metadata.json`` as an object (empty if there is none)."""
    return read_metadata_file(folder / "metadata.json")


def recipes(folder: Path) -> dict[str, tuple[list[Press], int]]:
    """The recorded recipes of a folder's states: ``{state: (presses, frames)}``."""
    out: dict[str, tuple[list[Press], int]] = {}
    where = folder / "metadata.json"
    recorded = read_metadata(folder).get(RECIPES_KEY, {})
    if not isinstance(recorded, dict):
        raise IntegrationError(f"{where}: {RECIPES_KEY} must be an object of recipes by state name")
    for name, r in recorded.items():
        try:
            presses = [parse_press(s) for s in r["press"]]
            frames = r["frames"]
        except (KeyError, TypeError, ValueError) as e:
            raise IntegrationError(f"{where}: bad recipe for state {name!r}: {e}") from e
        out[name] = (presses, number(frames, FRAMES, f"{where}: {RECIPES_KEY}.{name}.frames"))
    return out

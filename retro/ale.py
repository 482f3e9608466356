"""The Arcade Learning Environment's surface on retro envs, for ALE-style tooling.

Atari pipelines (Gymnasium's ``AtariPreprocessing``, Stable-Baselines3's
``AtariWrapper`` and ``make_atari_env``) expect what ale-py's ``AtariEnv``
has: a ``Discrete`` action space named by :meth:`get_action_meanings`, the
``frameskip``/``repeat_action_probability``/``full_action_space``/``obs_type``
arguments, and an ``ale`` attribute whose ``lives()`` counts lives. This
module builds those from what retro already has, on every system:

- :func:`action_set` names every combination of a game's combo groups
  (:meth:`retro.data.GameData.action_groups`, built by
  :func:`retro.actions.combo_groups`) the way ALE names its actions, in
  ALE's order; on the Atari 2600 that is exactly ALE's 18 actions.
- :func:`ale_minimal_action_names` asks ale-py (when installed) for ALE's
  minimal action set of an Atari ROM it knows.
- :class:`ALEView` is ``env.unwrapped.ale``: ``lives()`` reads the
  integration's ``lives`` variable, the screen getters read the emulator.

Which core: an env plays on the system's default core (the stella core on
the Atari 2600, whose save states stable-retro's library holds) unless
``core=`` says otherwise. ``core="ale"`` is the ALE's own emulator, faster;
with ``scenario="retro"`` it plays this project's variants of the Atari
games (``retro.data.ale_variants()``), and Gymnasium's ``RetroALE/<Name>-v5``
and ``RetroALE/<Name>NoFrameskip-v4`` ids are those on the ALE core with the
ALE's v5 and NoFrameskip-v4 settings, for ``AtariPreprocessing`` and
``make_atari_env``.

Naming rule: the direction part is ALE's (``UP``, ``RIGHT``, ``LEFT``,
``DOWN``, ``UPRIGHT``, ``UPLEFT``, ``DOWNRIGHT``, ``DOWNLEFT``); the Atari
joystick's button is ``FIRE``, appended with no separator (``UPRIGHTFIRE``);
other systems' buttons keep their names, sorted and joined by ``_`` (``DOWNLEFT_A_B``,
``C``); no button at all is ``NOOP``. Order: ``NOOP``, then button
combinations without a direction, then directions alone (in ALE's order),
then directions with buttons (by combination, then direction); combinations
are ordered by their joypad bits (Genesis: ``B``, ``A``, ``A_B``, ``C``, ...).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from retro.actions import ComboGroups, discrete_table
from retro.errors import ConfigurationError

if TYPE_CHECKING:
    from retro.session import GameSession

__all__ = ["ALE_ACTIONS", "ALEView", "action_name", "action_set", "ale_minimal_action_names",
           "check_frameskip"]

ALE_ACTIONS = ("NOOP", "FIRE", "UP", "RIGHT", "LEFT", "DOWN", "UPRIGHT", "UPLEFT", "DOWNRIGHT", "DOWNLEFT",
               "UPFIRE", "RIGHTFIRE", "LEFTFIRE", "DOWNFIRE", "UPRIGHTFIRE", "UPLEFTFIRE", "DOWNRIGHTFIRE",
               "DOWNLEFTFIRE")
"""ALE's full action set, in ALE's order (``ale_py.Action`` values 0..17)."""

_DIRECTIONS = ("", "UP", "RIGHT", "LEFT", "DOWN", "UPRIGHT", "UPLEFT", "DOWNRIGHT", "DOWNLEFT")
_DIRECTION_BUTTONS = ("UP", "DOWN", "LEFT", "RIGHT")
_ATARI_FIRE = "BUTTON"

def check_frameskip(frameskip: Any) -> int | tuple[int, int]:
    """``frameskip`` checked as ale-py checks it: a positive int, or ``(low, high)`` with 0 < low < high."""
    if type(frameskip) not in (int, tuple):
        raise ConfigurationError(f"Invalid frameskip type: {type(frameskip)}; expected an int or a (low, high) tuple")
    if isinstance(frameskip, int):
        if frameskip <= 0:
            raise ConfigurationError(f"Invalid frameskip of {frameskip}, frameskip must be positive")
        return frameskip
    if len(frameskip) != 2 or not all(type(f) is int for f in frameskip):
        raise ConfigurationError(
            f"Invalid stochastic frameskip {frameskip!r}: expected a (low, high) tuple of two ints")
    if frameskip[0] >= frameskip[1]:
        raise ConfigurationError("Invalid stochastic frameskip, lower bound must be strictly less than upper bound")
    if frameskip[0] <= 0:
        raise ConfigurationError("Invalid stochastic frameskip, lower bound must be positive")
    return (frameskip[0], frameskip[1])


def check_repeat_action_probability(p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0.0 <= float(p) <= 1.0:
        raise ConfigurationError(f"repeat_action_probability must be a number in [0, 1], got {p!r}")
    return float(p)


def action_name(mask: int, buttons: Sequence[str | None]) -> str:
    """The ALE-style name of the buttons ``mask`` presses (see the module docs)."""
    pressed = [name for i, name in enumerate(buttons) if name and mask >> i & 1]
    vertical = "".join(d for d in ("UP", "DOWN") if d in pressed)
    horizontal = "".join(d for d in ("RIGHT", "LEFT") if d in pressed)
    direction = vertical + horizontal
    rest = sorted(name for name in pressed if name not in _DIRECTION_BUTTONS)
    if rest == [_ATARI_FIRE] and _ATARI_FIRE in buttons:
        return (direction + "FIRE") or "FIRE"
    if not rest:
        return direction or "NOOP"
    return "_".join(([direction] if direction else []) + rest)


def _order(mask: int, buttons: Sequence[str | None]) -> tuple[int, int, int]:
    direction_bits = 0
    for i, name in enumerate(buttons):
        if name in _DIRECTION_BUTTONS:
            direction_bits |= 1 << i
    name = action_name(mask & direction_bits, buttons)
    rank = _DIRECTIONS.index(name) if name in _DIRECTIONS else len(_DIRECTIONS) if name != "NOOP" else 0
    others = mask & ~direction_bits
    group = 0 if rank == 0 else 1 if others == 0 else 2
    return group, others, rank


def action_set(groups: ComboGroups, buttons: Sequence[str | None]) -> list[tuple[str, int]]:
    """Every combination of ``groups`` as ``(name, button mask)``, in ALE's order (see the module docs)."""
    masks = sorted({int(m) for m in discrete_table(groups)}, key=lambda m: _order(m, buttons))
    return [(action_name(m, buttons), m) for m in masks]


@lru_cache(maxsize=1)
def _ale_roms() -> dict[str, str]:
    """MD5 of each ROM ale-py ships -> its path (ALE knows a ROM by its MD5)."""
    import ale_py

    folder = os.path.join(os.path.dirname(ale_py.__file__), "roms")
    out = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".bin"):
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                out[hashlib.md5(f.read()).hexdigest()] = path
    return out


@lru_cache(maxsize=256)
def ale_minimal_action_names(rom_path: str) -> tuple[str, ...] | None:
    """ALE's minimal action set (names) for the Atari 2600 ROM at ``rom_path``, or None if ALE does not know it.

    Asks ale-py, which must be installed (``pip install ale-py``); raises
    :class:`ConfigurationError` saying so otherwise. Only ROMs ale-py ships
    are given to ALE (its ``loadROM`` ends the process on a ROM it does not know).
    """
    try:
        import ale_py
    except ImportError as e:
        raise ConfigurationError(
            "ALE's minimal action set of an Atari game comes from ale-py, which is not installed: "
            "`pip install ale-py` (or `pip install retro[atari]`), or pass full_action_space=True") from e
    with open(rom_path, "rb") as f:
        digest = hashlib.md5(f.read()).hexdigest()
    known = _ale_roms().get(digest)
    if known is None:
        return None
    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)  # before the constructor, which greets
    ale = ale_py.ALEInterface()
    ale.loadROM(known)
    return tuple(a.name for a in ale.getMinimalActionSet())


class ALEView:
    """``env.unwrapped.ale``: the parts of ale-py's ``ALEInterface`` that ALE-style wrappers use.

    ``lives()`` is the integration's ``lives`` variable (0 when the game has
    none, as ALE says for games without lives); the screen getters read the
    emulator's current (whole, uncropped) picture, as ALE's do.
    """

    def __init__(self, session: "GameSession") -> None:
        self._session = session

    def lives(self) -> int:
        """The integration's ``lives`` variable now, or 0 if the game has none."""
        try:
            return int(self._session.data.lookup_value("lives"))
        except KeyError:
            return 0

    def game_over(self, with_truncation: bool = True) -> bool:
        """Whether the scenario says the game is done (``with_truncation`` is accepted for ALE's signature)."""
        return bool(self._session.data.is_done())

    def getScreenRGB(self, out: np.ndarray | None = None) -> np.ndarray:  # noqa: N802 - ALE's name
        """The whole current picture, ``(H, W, 3)`` uint8, new or written into ``out``."""
        return self._session.em.get_screen(out)

    def getScreenGrayscale(self, out: np.ndarray | None = None) -> np.ndarray:  # noqa: N802 - ALE's name
        """The whole current picture as luma, ``(H, W)`` uint8, new or written into ``out``."""
        return self._session.em.get_observation(out, gray=True)

    def getScreenDims(self) -> tuple[int, int]:  # noqa: N802 - ALE's name
        """``(height, width)`` of the picture."""
        width, height = self._session.em.get_resolution()
        return height, width

    def getRAM(self) -> np.ndarray:  # noqa: N802 - ALE's name
        """The game's RAM as a uint8 array (a copy)."""
        return self._session.em.get_ram()

    def getRAMSize(self) -> int:  # noqa: N802 - ALE's name
        """How many bytes :meth:`getRAM` returns."""
        return int(self._session.em.get_ram().size)

    def getEpisodeFrameNumber(self) -> int:  # noqa: N802 - ALE's name
        """Frames played since the episode began (the scenario counts the frame its reset plays too)."""
        return max(0, int(self._session.data.scenario.frame) - 1)

    def getFrameNumber(self) -> int:  # noqa: N802 - ALE's name
        """Frames this emulator has run since it was made (an unpickled copy starts its own count)."""
        return int(self._session.em.frame_count)

"""The numbers of integration files: one check for every numeric field.

Every number taken from an integration file (``data.json``,
``scenario.json`` and its variants, ``metadata.json``) goes through
:func:`number` with the :class:`NumberField` that says what the field may
hold. Python's ``json`` accepts ``NaN`` and ``Infinity``, reads ``1e99999``
as an infinity and integers of any size, so a file can hold numbers no field
allows; :func:`number` turns each of them into an
:class:`~retro.errors.IntegrationError` naming the file and the field and
saying what was expected, never a bare ``OverflowError`` or ``ValueError``.

The fields:

- :data:`ADDRESS` (``data.json`` ``address``): an integer in 0 .. 2**64 - 1.
- :data:`MASK` (``data.json`` ``mask``): an integer in -2**63 .. 2**64 - 1
  (a 64-bit mask, signed or unsigned).
- :data:`CROP` (scenario ``crop``/``crops`` values): a number, truncated to
  an integer, in 0 .. :data:`MAX_SCREEN` (pixels).
- :data:`REFERENCE` (scenario ``reference``): a number, truncated to an
  integer, in -(2**64 - 1) .. 2**64 - 1: every value and change of an
  8-byte variable and its negation. (The C evaluator,
  :class:`retro._program.FrameProgram`, takes references within 62 bits;
  larger ones are evaluated in Python.)
- :data:`REWARD` (scenario ``reward`` and ``penalty``): a finite float
  (an integer too large for a float is refused).
- :data:`FRAMES` (``metadata.json`` ``state_recipes`` ``frames``): a number,
  truncated to an integer, in 0 .. 2**20 (about 4.8 hours at 60 frames a
  second).
- :data:`PORT` (``input_routes`` player and port): a number, truncated to
  an integer, in 0 .. 7 (the frontend's controller ports).

Integer fields that Gym Retro reads with a cast (crop, reference, frames,
ports) accept a float and truncate it toward zero, as before; ``address`` and
``mask`` take JSON integers only. Booleans are never numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Union, overload

from retro.errors import IntegrationError

__all__ = ["NumberField", "IntField", "FloatField", "number", "describe", "check_input_routes",
           "ADDRESS", "MASK", "CROP", "REFERENCE", "REWARD", "FRAMES", "PORT", "MAX_SCREEN"]

#: The largest crop value: libretro's geometry is far below it for every core.
MAX_SCREEN = 1 << 16
#: Controller ports of the frontend (``retro._core.MAX_PORTS``).
PORTS = 8


@dataclass(frozen=True)
class NumberField:
    """What one kind of numeric field holds."""

    expected: str
    """What the field must hold, as error messages say it."""


@dataclass(frozen=True)
class IntField(NumberField):
    """An integer field in ``low .. high``; ``truncate`` accepts finite floats, truncated toward zero."""

    low: int
    high: int
    truncate: bool = True


@dataclass(frozen=True)
class FloatField(NumberField):
    """A finite float field (integers accepted if a float holds them)."""


ADDRESS = IntField("an integer address from 0 to 2**64 - 1", 0, (1 << 64) - 1, truncate=False)
MASK = IntField("an integer mask from -2**63 to 2**64 - 1", -(1 << 63), (1 << 64) - 1, truncate=False)
CROP = IntField(f"a number of pixels from 0 to {MAX_SCREEN}", 0, MAX_SCREEN)
REFERENCE = IntField("a finite number from -(2**64 - 1) to 2**64 - 1", -((1 << 64) - 1), (1 << 64) - 1)
REWARD = FloatField("a finite number")
FRAMES = IntField(f"a number of frames from 0 to {1 << 20}", 0, 1 << 20)
PORT = IntField(f"a controller port or player from 0 to {PORTS - 1}", 0, PORTS - 1)


def describe(value: Any) -> str:
    """``repr(value)``, short: a huge integer is described by its size (its repr could fail)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@overload
def number(value: Any, field: IntField, where: str) -> int: ...
@overload
def number(value: Any, field: FloatField, where: str) -> float: ...


def number(value: Any, field: NumberField, where: str) -> Union[int, float]:
    """``value`` of a numeric field, checked: an int for an :class:`IntField`, a float for a :class:`FloatField`.

    ``where`` names the file and the field (``"/x/scenario.json: crop[2]"``).
    Anything the field does not allow, a non-finite or out-of-range number
    included, raises :class:`~retro.errors.IntegrationError`.
    """
    def bad() -> IntegrationError:
        return IntegrationError(f"{where}: expected {field.expected}, not {describe(value)}")

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad()
    if isinstance(field, FloatField):
        try:
            out = float(value)
        except OverflowError:  # an integer beyond a float's range
            raise bad() from None
        if not math.isfinite(out):
            raise bad()
        return out
    assert isinstance(field, IntField)
    if isinstance(value, float):
        if not field.truncate or not math.isfinite(value):
            raise bad()
        value = int(value)
    if not field.low <= value <= field.high:
        raise bad()
    return int(value)


def check_input_routes(doc: Any, where: str) -> None:
    """Check the numbers of an ``input_routes`` value (``[player, button, port, button]`` routes, or per core).

    Only numbers are checked here; the routes' shape and buttons are the
    session's to check.
    """
    per_core = doc.items() if isinstance(doc, dict) else [("", doc)]
    for core, routes in per_core:
        if not isinstance(routes, list):
            continue
        at = f"{where}.{core}" if core else where
        for i, route in enumerate(routes):
            if isinstance(route, list) and len(route) == 4:
                for k in (0, 2):
                    if isinstance(route[k], (int, float)) and not isinstance(route[k], bool):
                        number(route[k], PORT, f"{at}[{i}][{k}]")

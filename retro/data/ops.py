"""The comparison operations of scenarios and delta searches.

``op(x, reference)`` for the 12 named operations of Gym Retro (comparisons
give 1 or 0, ``sign`` gives -1, 0 or 1) plus NOOP, which passes ``x``
through. Scenario specs and delta searches name them by string.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from retro.errors import IntegrationError

__all__ = ["OP_NAMES", "OP_CODES", "OPS", "Op", "get_op", "calculate", "calculate_array"]

Op = Callable[[Any, int], Any]


#: name -> operation, element-wise on ints and on numpy arrays (comparisons give 1 or 0, ``sign`` -1, 0 or 1).
#: The one table of the ops: an op's position here is its code in the C evaluator (``retro._program``),
#: and searches use the same functions on arrays.
OPS: dict[str, Op] = {
    "equal": lambda x, ref: (x == ref) * 1,
    "negative-equal": lambda x, ref: (x == -ref) * 1,
    "not-equal": lambda x, ref: (x != ref) * 1,
    "less-than": lambda x, ref: (x < ref) * 1,
    "greater-than": lambda x, ref: (x > ref) * 1,
    "less-or-equal": lambda x, ref: (x <= ref) * 1,
    "greater-or-equal": lambda x, ref: (x >= ref) * 1,
    "nonzero": lambda x, ref: (x != 0) * 1,
    "zero": lambda x, ref: (x == 0) * 1,
    "positive": lambda x, ref: (x > 0) * 1,
    "negative": lambda x, ref: (x < 0) * 1,
    "sign": lambda x, ref: (x > 0) * 1 - (x < 0) * 1,
}
OP_NAMES = tuple(OPS)
#: name -> code (its index in :data:`OP_NAMES`), as the C evaluator takes ops; -1 is NOOP.
OP_CODES = {name: i for i, name in enumerate(OP_NAMES)}


def get_op(name: Optional[str], where: str = "") -> Optional[Op]:
    """The operation called ``name``; None for NOOP (``None`` or ``""``).

    An unknown name raises :class:`IntegrationError` (Gym Retro silently
    treats it as NOOP); ``where`` says which file and key it came from.
    """
    if name is None or name == "":
        return None
    try:
        return OPS[name]
    except (KeyError, TypeError):
        raise IntegrationError(
            f"{where}unknown op {name!r}; known ops are {', '.join(OP_NAMES)}") from None


def calculate(name: Optional[str], x: int, reference: int = 0) -> int:
    """``op(x, reference)`` for an op name (None: NOOP)."""
    op = get_op(name)
    return x if op is None else op(x, reference)


def calculate_array(name: Optional[str], x: np.ndarray, reference: int = 0) -> np.ndarray:
    """Where ``op(x, reference)`` is nonzero, element-wise (None: where ``x`` is nonzero)."""
    op = get_op(name)
    return x != 0 if op is None else op(x, reference) != 0

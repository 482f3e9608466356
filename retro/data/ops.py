"""The comparison operations of scenarios and delta searches.

``op(x, reference)`` for the 12 named operations of Gym Retro (comparisons
give 1 or 0, ``sign`` gives -1, 0 or 1) plus NOOP, which passes ``x``
through. Scenario specs and delta searches name them by string.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from retro.errors import IntegrationError

__all__ = ["OP_NAMES", "Op", "get_op", "calculate", "calculate_array"]

Op = Callable[[int, int], int]


def _sign(x: int, ref: int) -> int:
    return (x > 0) - (x < 0)


#: name -> scalar operation
OPS: dict[str, Op] = {
    "equal": lambda x, ref: int(x == ref),
    "negative-equal": lambda x, ref: int(x == -ref),
    "not-equal": lambda x, ref: int(x != ref),
    "less-than": lambda x, ref: int(x < ref),
    "greater-than": lambda x, ref: int(x > ref),
    "less-or-equal": lambda x, ref: int(x <= ref),
    "greater-or-equal": lambda x, ref: int(x >= ref),
    "nonzero": lambda x, ref: int(x != 0),
    "zero": lambda x, ref: int(x == 0),
    "positive": lambda x, ref: int(x > 0),
    "negative": lambda x, ref: int(x < 0),
    "sign": _sign,
}
OP_NAMES = tuple(OPS)

_ARRAY_OPS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "equal": lambda x, ref: x == ref,
    "negative-equal": lambda x, ref: x == -ref,
    "not-equal": lambda x, ref: x != ref,
    "less-than": lambda x, ref: x < ref,
    "greater-than": lambda x, ref: x > ref,
    "less-or-equal": lambda x, ref: x <= ref,
    "greater-or-equal": lambda x, ref: x >= ref,
    "nonzero": lambda x, ref: x != 0,
    "zero": lambda x, ref: x == 0,
    "positive": lambda x, ref: x > 0,
    "negative": lambda x, ref: x < 0,
    "sign": lambda x, ref: x != 0,
}


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
    if name is None or name == "":
        return x != 0
    get_op(name)
    return _ARRAY_OPS[name](x, reference)

"""Check the integrations a branch changes: ``python3 -m retro.testing.verify_changes [UPSTREAM [DOWNSTREAM]]``.

Gym Retro's script of this name: the games whose files ``git diff
--name-only UPSTREAM [DOWNSTREAM]`` lists (``master`` by default; run it in
the repository of the integrations) get every check of
:mod:`retro.testing.tools`; each error is printed as ``E: file: message``
and each warning as ``W: file: message``, and the exit status is 1 if there
was an error.
"""

from __future__ import annotations

import sys
from typing import Optional

from retro.testing import branch_new, game_params
from retro.testing.tools import verify_game

__all__ = ["main"]


def main(argv: Optional[list[str]] = None) -> int:
    """Check the changed integrations; the exit status (1 if any error)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 2:
        print("usage: python3 -m retro.testing.verify_changes [UPSTREAM [DOWNSTREAM]]", file=sys.stderr)
        return 2
    changed = set(branch_new(*args)) if args else set(branch_new())
    errors: list[tuple[str, str]] = []
    warnings: list[tuple[str, str]] = []
    for pid, (game, inttype) in game_params().items():
        if not any(pid == c or pid.startswith(c + "_") for c in changed):
            continue
        w, e = verify_game(game, inttype)
        warnings += w
        errors += e
    for context, error in errors:
        print(f"\33[31mE: {context}: {error}\33[0m")
    for context, warning in warnings:
        print(f"\33[33mW: {context}: {warning}\33[0m")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())

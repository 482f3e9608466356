"""Play a game with the keyboard through :class:`~retro.examples.interactive.RetroInteractive` (Gym Retro's example).

``python3 -m retro.examples.retro_interactive --game Airstriker-Genesis``;
``retro play`` is the same with more options.
"""

from __future__ import annotations

import argparse

import retro
from retro.examples.interactive import Interactive, RetroInteractive

__all__ = ["Interactive", "RetroInteractive", "main"]


def main(argv: list[str] | None = None) -> None:
    """Parse ``--game``, ``--state`` and ``--scenario`` and play until the window closes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--game", default="Airstriker-Genesis")
    parser.add_argument("--state", default=retro.State.DEFAULT)
    parser.add_argument("--scenario", default=None)
    args = parser.parse_args(argv)
    RetroInteractive(game=args.game, state=args.state, scenario=args.scenario).run()


if __name__ == "__main__":
    main()

"""``python3 -m retro.testing [GAME...]``: every integration check on every integration (or those named), counted.

See :func:`retro.testing.tools.main`.
"""

from retro.testing.tools import main

if __name__ == "__main__":
    raise SystemExit(main())

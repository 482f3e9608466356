"""``python3 -m stable_retro.scripts.import_sega_classics``: :mod:`retro.scripts.import_sega_classics`."""

import sys

from retro.scripts.import_sega_classics import *  # noqa: F401,F403 - the same names
from retro.scripts.import_sega_classics import main

if __name__ == "__main__":
    sys.exit(main())

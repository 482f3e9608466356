"""``python3 -m stable_retro.import.sega_classics``: :mod:`retro.scripts.import_sega_classics`."""

import sys

from retro.scripts.import_sega_classics import main

if __name__ == "__main__":
    sys.exit(main())

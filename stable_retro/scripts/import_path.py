"""``python3 -m stable_retro.scripts.import_path PATH...``: import ROMs of known games (as ``retro import``)."""

import sys

from retro.scripts.import_path import *  # noqa: F401,F403 - the same module's names
from retro.scripts.import_path import main

if __name__ == "__main__":
    sys.exit(main())

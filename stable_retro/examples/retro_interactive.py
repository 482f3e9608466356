"""Runs :mod:`retro.examples.retro_interactive` as ``python3 -m stable_retro.examples.retro_interactive``."""

import sys

from retro.examples.retro_interactive import *  # noqa: F401,F403 - the same names
from retro.examples.retro_interactive import main

if __name__ == "__main__":
    main()
    sys.exit(0)

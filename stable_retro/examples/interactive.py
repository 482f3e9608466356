"""Runs :mod:`retro.examples.interactive` as ``python3 -m stable_retro.examples.interactive``."""

import sys

from retro.examples.interactive import *  # noqa: F401,F403 - the same names
from retro.examples.interactive import main

if __name__ == "__main__":
    sys.exit(main())

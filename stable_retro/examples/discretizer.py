"""Runs :mod:`retro.examples.discretizer` as ``python3 -m stable_retro.examples.discretizer``."""

import sys

from retro.examples.discretizer import *  # noqa: F401,F403 - the same names
from retro.examples.discretizer import main

if __name__ == "__main__":
    main()
    sys.exit(0)

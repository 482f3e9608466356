"""Runs :mod:`retro.examples.trivial_random_agent` as ``python3 -m stable_retro.examples.trivial_random_agent``."""

import sys

from retro.examples.trivial_random_agent import *  # noqa: F401,F403 - the same names
from retro.examples.trivial_random_agent import main

if __name__ == "__main__":
    main()
    sys.exit(0)

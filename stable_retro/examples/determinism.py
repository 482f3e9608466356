"""Runs :mod:`retro.examples.determinism` as ``python3 -m stable_retro.examples.determinism``."""

import sys

from retro.examples.determinism import *  # noqa: F401,F403 - the same names
from retro.examples.determinism import main

if __name__ == "__main__":
    main()
    sys.exit(0)

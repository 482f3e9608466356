"""Runs :mod:`retro.examples.trivial_random_agent_multiplayer` as a module of ``stable_retro.examples``."""

import sys

from retro.examples.trivial_random_agent_multiplayer import *  # noqa: F401,F403 - the same names
from retro.examples.trivial_random_agent_multiplayer import main

if __name__ == "__main__":
    main()
    sys.exit(0)

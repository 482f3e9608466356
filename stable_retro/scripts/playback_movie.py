"""``python3 -m stable_retro.scripts.playback_movie FILE.bk2``: render movies to video (as ``retro playback``)."""

import sys

from retro.scripts.playback_movie import *  # noqa: F401,F403 - the same module's names
from retro.scripts.playback_movie import main

if __name__ == "__main__":
    sys.exit(main())

"""``stable_retro.rendering``: the same window helpers as :mod:`retro.rendering` (pygame)."""

from retro.rendering import *  # noqa: F401,F403 - the same names
from retro.rendering import __all__  # noqa: F401

"""``stable_retro.testing.tools``: the same integration checks as :mod:`retro.testing.tools`."""

from retro.testing.tools import *  # noqa: F401,F403 - the same names

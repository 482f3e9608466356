"""``stable_retro.testing``: the same integration-checking helpers as :mod:`retro.testing`."""

from retro.testing import *  # noqa: F401,F403 - the same names

"""``stable_retro.scripts``: the same scripts as :mod:`retro.scripts`."""

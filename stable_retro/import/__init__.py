"""``python3 -m stable_retro.import PATH...``: import ROMs of known games (as ``retro import``)."""

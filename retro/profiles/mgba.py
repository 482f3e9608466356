"""mGBA: what a game's load allocates is freed when the copy is closed.

Its ``retro_load_game`` makes a configuration (``mCoreConfigInit``: hash
tables of settings) that its ``retro_unload_game`` never frees, about 14 KB a
game; ``free_leaks`` frees what a closed copy still holds.
"""

from __future__ import annotations

from retro.profiles.base import CoreProfile


class MGBA(CoreProfile):
    name = "mgba"
    library_names = ("mGBA",)
    free_leaks = True


PROFILE = MGBA()

"""Mednafen PCE Fast: what a game's load and play allocate is freed when the copy is closed.

Its ``retro_load_game`` allocates about 250 KB (the console's memory and
its video surface) and its first frame about 36 KB more (the sound buffers'
``Blip_Buffer_set_sample_rate``) that unloading never frees; ``free_leaks``
frees what a closed copy still holds, and its statically linked libstdc++'s
exception pool.
"""

from __future__ import annotations

from retro.profiles.base import CoreProfile


class MednafenPCEFast(CoreProfile):
    name = "mednafen_pce_fast"
    library_names = ("Beetle PCE Fast", "Mednafen PCE Fast")
    free_leaks = True


PROFILE = MednafenPCEFast()

"""Genesis Plus GX: its states hold pointers into the process that made them (see ``retro._statecmp``)."""

from __future__ import annotations

from retro.profiles.base import CoreProfile


class GenesisPlusGX(CoreProfile):
    name = "genesis_plus_gx"
    library_names = ("Genesis Plus GX",)
    state_host_pointers = True


PROFILE = GenesisPlusGX()

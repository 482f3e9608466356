"""Genesis Plus GX: its states hold pointers into the process that made them (see ``retro._statecmp``)."""

from __future__ import annotations

from retro._statecmp import host_pointer_spans
from retro.profiles.base import CoreProfile


class GenesisPlusGX(CoreProfile):
    name = "genesis_plus_gx"
    library_names = ("Genesis Plus GX",)
    state_host_pointers = True

    def states_equal(self, a: bytes, b: bytes) -> bool:
        """Byte for byte, except in 8-byte words that are pointers in both: states made by equal runs in two
        emulators or two processes compare equal."""
        return a == b or host_pointer_spans(a, b) is not None


PROFILE = GenesisPlusGX()

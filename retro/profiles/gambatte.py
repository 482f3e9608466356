"""gambatte: states are compared past what is the host's.

Its states are lists of labelled fields (the label, a NUL, a 3-byte
big-endian length, the value). Three hold the host's values, not the Game
Boy's: ``dmgpal`` (three pointers into the process's heap), ``rtcbase`` and
``rtchalt`` (the wall-clock second the cartridge clock counts from). Equal
runs in two processes, or a second apart, give states that differ only there.

Closed copies are not reused: a reused copy that ran a Game Boy Color game
plays the next one differently (its background palette state is not reset by
``retro_load_game``). Unloading a copy would leave libstdc++'s 72 KiB
exception pool behind (the core links it statically); with ``free_leaks`` the
copy's own ``__gnu_cxx::__freeres`` frees it first.
"""

from __future__ import annotations

from retro.profiles.base import CoreProfile

#: The fields whose values are the host's (pointers, wall-clock time), not the emulated machine's.
HOST_FIELDS = (b"dmgpal", b"rtcbase", b"rtchalt")


def without_host_fields(state: bytes) -> bytes:
    """``state`` with the values of :data:`HOST_FIELDS` zeroed."""
    out = bytearray(state)
    for label in HOST_FIELDS:
        at = state.find(label + b"\x00")
        if at < 0:
            continue
        start = at + len(label) + 1
        size = int.from_bytes(state[start:start + 3], "big")
        out[start + 3:start + 3 + size] = bytes(len(out[start + 3:start + 3 + size]))
    return bytes(out)


class Gambatte(CoreProfile):
    name = "gambatte"
    library_names = ("Gambatte",)
    free_leaks = True

    def states_equal(self, a: bytes, b: bytes) -> bool:
        return a == b or (len(a) == len(b) and without_host_fields(a) == without_host_fields(b))


PROFILE = Gambatte()

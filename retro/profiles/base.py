"""What a core profile is, and what it may ask of the emulator it serves.

:class:`CoreProfile` holds everything particular to one libretro core: how a
save state is restored (:meth:`CoreProfile.restore_policy`), whether closed
copies of it are reused (:meth:`CoreProfile.reuse_closed_copies`) or have
what they leak freed (:attr:`CoreProfile.free_leaks`), what it
needs once a game is loaded (:meth:`CoreProfile.after_load`), how two of its
states compare, the magic its states start with, and the option values that
turn its audio on. The defaults fit a core that needs nothing special.

A profile never sees the emulator itself: it is handed a :class:`CoreHost`,
the small protocol of :mod:`retro.profiles.protocol`, for the length of one call, and keeps no reference
to it.
"""

from __future__ import annotations

from typing import Mapping

from retro._statecmp import host_pointer_spans, mask_host_pointers
from retro.profiles.protocol import CoreHost, RestorePolicy
from retro.profiles.restore import PlainRestore

__all__ = ["CoreHost", "CoreProfile"]


class CoreProfile:
    """A core that needs nothing special; subclasses override what differs for theirs."""

    #: The core's name, as users pass it to ``core=`` (its library file is ``<name>_libretro.so``).
    name: str = ""
    #: The names the core reports as its library name: a core given by a path is told by these.
    library_names: tuple[str, ...] = ()
    #: Every state of the core starts with these bytes (None: its states do not say which core made them).
    state_magic: bytes | None = None
    #: Core option values that make the core produce audio it leaves out by default.
    audio_options: Mapping[str, str] = {}
    #: Whether the core's states hold pointers into the process that made them (``retro._statecmp``).
    state_host_pointers: bool = False
    #: Whether the core leaks when its game is unloaded, so that what each private copy allocates is recorded
    #: and what it still holds is freed when the copy is closed (``free_leaks`` of the frontend). Decided by the
    #: core's name (``core=``, or its library file's name) before the core is loaded.
    free_leaks: bool = False

    def restore_policy(self, host: CoreHost) -> RestorePolicy:
        """How ``host`` restores states: handing them to the core (the default)."""
        return PlainRestore()

    def reuse_closed_copies(self, host: CoreHost) -> None:
        """Called once a private copy is loaded: arrange for closed copies to be reused (default: no)."""

    def after_load(self, host: CoreHost) -> None:
        """Called once the game is loaded, before the first frame (default: nothing)."""

    def states_equal(self, a: bytes, b: bytes) -> bool:
        """Whether two states of this core and game hold the same emulated machine.

        Byte for byte, except, for a core whose states hold host pointers, in 8-byte words that are pointers
        in both (``retro._statecmp.host_pointer_spans``): states made by equal runs in two emulators or two
        processes compare equal.
        """
        return a == b or (self.state_host_pointers and host_pointer_spans(a, b) is not None)

    def canonical_state(self, state: bytes) -> bytes:
        """``state`` as a content hash sees it: for a core whose states hold host pointers, with the words that
        hold them zeroed (``retro._statecmp.mask_host_pointers``), so equal games hash equal in any process."""
        return mask_host_pointers(state) if self.state_host_pointers else state

    def __repr__(self) -> str:
        return f"<core profile {self.name or 'default'}>"

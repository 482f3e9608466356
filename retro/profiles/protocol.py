"""What core profiles and restore policies may ask of an emulator, and what a restore policy is.

``retro.emulator.CoreHost`` implements :class:`CoreHost` over a
``RetroEmulator``; a profile or policy is handed one for the length of a call
and keeps no reference to it (a cycle through the emulator would leave its
teardown to the garbage collector).
"""

from __future__ import annotations

from typing import Protocol

from retro.errors import StateError

__all__ = ["CoreHost", "RestorePolicy"]


class CoreHost(Protocol):
    """What a profile or restore policy may do with an emulator (``retro.emulator.CoreHost`` is the one)."""

    @property
    def library_name(self) -> str:
        """The name the core reports (``retro_get_system_info``)."""

    @property
    def library_version(self) -> str:
        """The version the core reports."""

    @property
    def core_path(self) -> str:
        """The core library's path."""

    @property
    def frame_count(self) -> int:
        """Frames run since the game was loaded."""

    @property
    def memory_generation(self) -> int:
        """Goes up each time the core copy is replaced (RAM addresses change)."""

    @property
    def num_ports(self) -> int:
        """Controller ports the core has."""

    def serialize(self) -> bytes:
        """The core's own save (``retro_serialize``), as it gives it: not tidied, not settled."""

    def unserialize(self, view: memoryview) -> None:
        """Hand a checked state to the running core (``retro_unserialize``); ``StateError`` if refused."""

    def restore_on_spare(self, view: memoryview) -> None:
        """Restore a checked state on a freshly loaded copy of the core and swap it in."""

    def keep_spare(self, on: bool) -> None:
        """Keep a fresh copy of the core loading in the background (for :meth:`restore_on_spare`), or not."""

    def memory_address(self, region: int) -> tuple[int, int]:
        """``(address, size)`` of a libretro memory region in this process, ``(0, 0)`` if none."""

    def set_controller_port_device(self, port: int, device: int) -> None:
        """Plug a libretro device into a controller port."""

    def call_before_unload(self, symbol: str) -> bool:
        """Have every copy of the core call its exported function ``symbol`` (no arguments) before its game is
        unloaded; False if this copy does not export it."""

    def reset(self) -> None:
        """Press the console's reset (``retro_reset``)."""

    def power_cycle(self) -> None:
        """Load the game again on the same core copy."""

    def use_restore_policy(self, policy: RestorePolicy) -> None:
        """Restore with ``policy`` from now on (a policy handing over to another)."""


class RestorePolicy:
    """The interface: ``install`` once, then ``restore`` a checked state view.

    A restore is :meth:`prepare` (what comes before the running core reads
    the state), then, where that leaves it to the core, the core's
    ``retro_unserialize``, which the caller may run for many emulators at
    once on a ``StepPool`` (``retro.emulator.restore_states``), then
    :meth:`refused` if the core did not take the state.
    """

    name = "?"
    settles_saves = False

    def install(self, host: CoreHost) -> None:
        """Prepare the emulator for this policy (called when it becomes the emulator's)."""

    def restore(self, host: CoreHost, view: memoryview) -> None:
        """Restore ``view`` (of the size of ``host``'s states) or raise ``StateError``, leaving
        ``host`` as it was."""
        if self.prepare(host, view):
            self.restore_prepared(host, view)

    def restore_prepared(self, host: CoreHost, view: memoryview) -> None:
        """The running core's part of a restore :meth:`prepare` left to it."""
        try:
            host.unserialize(view)
        except StateError:
            self.refused(host)
            raise

    def prepare(self, host: CoreHost, view: memoryview) -> bool:
        """What the restore does before the running core reads ``view``; True if what is left is that core's
        ``retro_unserialize`` of it, False if the restore is done (or ``StateError``)."""
        raise NotImplementedError

    def refused(self, host: CoreHost) -> None:
        """Called after the running core refused a prepared state or threw reading it (it is then power-cycled
        already): leave ``host`` as a failed restore should (default: nothing more)."""

    def tidy(self, state: bytes) -> bytes:
        """``state``, a save just made, with bytes the core saves without ever setting them
        cleared (so saves of one run are the same bytes in every process)."""
        return state

    def __repr__(self) -> str:
        return f"<restore policy {self.name}>"

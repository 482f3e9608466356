"""How an emulator restores a save state: one small policy per kind of core.

A restore must give what restoring the same state on a freshly loaded core
gives, as in Gym Retro. Most cores save everything they run on, so handing
the state to the core (:class:`PlainRestore`) is enough. Some keep state
outside their save states; for them a restore starts from a fresh copy of
the core (:class:`ReloadWithSpare`, exact for any core, at the cost of a
core swap), or a core-specific policy puts that state back in place
(:class:`retro._stella_restore.StellaInPlace`).

A policy is chosen once per emulator from its core's quirks
(``retro.emulator.CORE_QUIRKS``, key ``"restore"``) by :func:`choose`, and
may hand over to another (the in-place one falls back to reloading). It
holds no reference to its emulator, which passes itself to every call.

``settles_saves``: whether ``get_state()`` restores the state it has just
saved, so that playing on after a save and restoring the save replay the
same. A core's save may leave out state it runs on (Genesis Plus GX's do:
playing on after a save and restoring it part ways within seconds), so
the policies that restore in place settle every save; they keep the core
copy, so RAM views stay valid. Reloading does not: a swap on every save
would make the caller's RAM views stale each time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from retro.emulator import RetroEmulator

__all__ = ["RestorePolicy", "PlainRestore", "ReloadWithSpare", "choose"]


class RestorePolicy:
    """The interface: ``install`` once, then ``restore`` a checked state view."""

    name = "?"
    settles_saves = False

    def install(self, em: "RetroEmulator") -> None:
        """Prepare ``em`` for this policy (called when it becomes the emulator's)."""

    def restore(self, em: "RetroEmulator", view: memoryview) -> None:
        """Restore ``view`` (of the size of ``em``'s states) or raise ``StateError``, leaving
        ``em`` as it was."""
        raise NotImplementedError

    def tidy(self, state: bytes) -> bytes:
        """``state``, a save just made, with bytes the core saves without ever setting them
        cleared (so saves of one run are the same bytes in every process)."""
        return state

    def __repr__(self) -> str:
        return f"<restore policy {self.name}>"


class PlainRestore(RestorePolicy):
    """``retro_unserialize`` on the running core: for cores whose restores do not depend on
    what ran before (a restore resets everything that decides what follows)."""

    name = "plain"
    settles_saves = True

    def install(self, em: "RetroEmulator") -> None:
        em.keep_spare = False

    def restore(self, em: "RetroEmulator", view: memoryview) -> None:
        em._unserialize(view)


class ReloadWithSpare(RestorePolicy):
    """Restore on a fresh copy of the core, loaded in the background, then swap it in.

    Exact for any core, and a state the core refuses spoils only the spare.
    Every restore is a power cycle: ``memory_generation`` goes up and RAM
    views taken before refer to the old core. A save does not restore (that
    would make those views stale on every save too), so playing on after a
    save may differ from restoring it; restores of one state all agree.
    """

    name = "reload"

    def install(self, em: "RetroEmulator") -> None:
        em.keep_spare = True
        em._start_spare()

    def restore(self, em: "RetroEmulator", view: memoryview) -> None:
        em._restore_on_spare(view)


def choose(em: "RetroEmulator", quirks: dict[str, Any]) -> RestorePolicy:
    """The policy for ``em``'s core, from its quirks: ``"restore"`` is ``"plain"`` (the
    default), ``"reload"``, or ``"stella"`` (in place where the core build is known, else
    reload)."""
    kind = quirks.get("restore", "plain")
    if kind == "stella":
        from retro._stella_restore import StellaInPlace

        return StellaInPlace.start(em) or ReloadWithSpare()
    if kind == "reload":
        return ReloadWithSpare()
    if kind == "plain":
        return PlainRestore()
    raise ValueError(f"unknown restore policy {kind!r} for the {em.library_name} core")

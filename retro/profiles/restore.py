"""How an emulator restores a save state: one small policy per kind of core.

A restore must give what restoring the same state on a freshly loaded core
gives, as in Gym Retro. Most cores save everything they run on, so handing
the state to the core (:class:`PlainRestore`) is enough. Some keep state
outside their save states; for them a restore starts from a fresh copy of
the core (:class:`ReloadWithSpare`, exact for any core, at the cost of a
core swap), or a core-specific policy puts that state back in place
(:class:`retro.profiles.stella_restore.StellaInPlace`).

A policy is chosen once per emulator by its core's profile
(:meth:`retro.profiles.CoreProfile.restore_policy`), and may hand over to
another (the in-place one falls back to reloading). It holds no reference to
its emulator, which hands it a :class:`~retro.profiles.protocol.CoreHost`
on every call.

``settles_saves``: whether ``get_state()`` restores the state it has just
saved, so that playing on after a save and restoring the save replay the
same. A core's save may leave out state it runs on (Genesis Plus GX's do:
playing on after a save and restoring it part ways within seconds), so
the policies that restore in place settle every save; they keep the core
copy, so RAM views stay valid. Reloading does not: a swap on every save
would make the caller's RAM views stale each time.
"""

from __future__ import annotations

from retro.profiles.protocol import CoreHost, RestorePolicy

__all__ = ["RestorePolicy", "PlainRestore", "ReloadWithSpare"]


class PlainRestore(RestorePolicy):
    """``retro_unserialize`` on the running core: for cores whose restores do not depend on
    what ran before (a restore resets everything that decides what follows)."""

    name = "plain"
    settles_saves = True

    def install(self, host: CoreHost) -> None:
        host.keep_spare(False)

    def prepare(self, host: CoreHost, view: memoryview) -> bool:
        return True


class ReloadWithSpare(RestorePolicy):
    """Restore on a fresh copy of the core, loaded in the background, then swap it in.

    Exact for any core, and a state the core refuses spoils only the spare.
    Every restore is a power cycle: ``memory_generation`` goes up and RAM
    views taken before refer to the old core. A save does not restore (that
    would make those views stale on every save too), so playing on after a
    save may differ from restoring it; restores of one state all agree.
    """

    name = "reload"

    def install(self, host: CoreHost) -> None:
        host.keep_spare(True)

    def prepare(self, host: CoreHost, view: memoryview) -> bool:
        host.restore_on_spare(view)
        return False

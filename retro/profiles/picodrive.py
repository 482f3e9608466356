"""PicoDrive: a restore starts from a fresh copy of the core, and its idle-loop patches are undone before unload.

Its 32X restores depend on what ran before (its SH-2 poll detection and
wake-ups are not in its states), so restoring on the running copy would not
give what a restore on a freshly loaded one gives.

From 360 frames after a reset, its 68000 idle-loop detection patches the
branch of each short polling loop it meets, through a pointer into wherever
the 68000 reads that code from, and its unload undoes the patches through
those pointers. For a 32X game, code below $10000 is read from a copy of the
cartridge's first 64 KB inside the 32X's memory, which the unload frees
first: undoing a patch there wrote into unmapped memory and crashed the
process at ``close()``. The core's own ``SekFinishIdleDet``, called before the
unload, undoes them while that memory is there; pictures and states are
unchanged, since it only runs when the game goes.
"""

from __future__ import annotations

from retro.profiles.base import CoreHost, CoreProfile
from retro.profiles.restore import ReloadWithSpare, RestorePolicy

#: The core's function that undoes its 68000 idle-loop patches (it exports it).
UNDO_IDLE_PATCHES = "SekFinishIdleDet"


class PicoDrive(CoreProfile):
    name = "picodrive"
    library_names = ("PicoDrive",)

    def restore_policy(self, host: CoreHost) -> RestorePolicy:
        return ReloadWithSpare()

    def after_load(self, host: CoreHost) -> None:
        host.call_before_unload(UNDO_IDLE_PATCHES)


PROFILE = PicoDrive()

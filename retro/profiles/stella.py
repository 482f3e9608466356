"""Stella 3.9.3 (the Atari 2600 core Gym Retro and stable-retro build).

It keeps state outside its save states, so a restore must give what a
restore on a freshly loaded core gives: for the build stable-retro ships that
is done in place (:mod:`retro.profiles.stella_restore`), for other builds by
swapping in a freshly loaded copy. Its library allocates memory in its
initialiser that unloading never frees (~72 KB a copy), so closed copies are
reused, with the few variables that survive ``retro_init`` put back first
(:mod:`retro.profiles.stella_reuse`).
"""

from __future__ import annotations

from retro._core import reuse_core_copies
from retro.profiles.base import CoreHost, CoreProfile
from retro.profiles.restore import ReloadWithSpare, RestorePolicy
from retro.profiles.stella_restore import StellaInPlace
from retro.profiles.stella_reuse import power_on


class Stella(CoreProfile):
    name = "stella"
    library_names = ("Stella",)

    def restore_policy(self, host: CoreHost) -> RestorePolicy:
        return StellaInPlace.start(host) or ReloadWithSpare()

    def reuse_closed_copies(self, host: CoreHost) -> None:
        writes = power_on(host)
        if writes is not None:  # another build: its copies are not reused
            reuse_core_copies(host.core_path, power_on=writes)


PROFILE = Stella()

"""PicoDrive: a restore starts from a fresh copy of the core.

Its 32X restores depend on what ran before (its SH-2 poll detection and
wake-ups are not in its states), so restoring on the running copy would not
give what a restore on a freshly loaded one gives.
"""

from __future__ import annotations

from retro.profiles.base import CoreHost, CoreProfile
from retro.profiles.restore import ReloadWithSpare, RestorePolicy


class PicoDrive(CoreProfile):
    name = "picodrive"
    library_names = ("PicoDrive",)

    def restore_policy(self, host: CoreHost) -> RestorePolicy:
        return ReloadWithSpare()


PROFILE = PicoDrive()

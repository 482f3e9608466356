"""snes9x: closed copies are reused, since its initialiser allocates memory that unloading never frees."""

from __future__ import annotations

from retro._core import reuse_core_copies
from retro.profiles.base import CoreHost, CoreProfile


class Snes9x(CoreProfile):
    """Without reuse every snes9x emulator made and closed leaves ~140 KB behind; ``retro_init`` starts a reused
    copy afresh."""

    name = "snes9x"
    library_names = ("Snes9x",)

    def reuse_closed_copies(self, host: CoreHost) -> None:
        reuse_core_copies(host.core_path)


PROFILE = Snes9x()

"""The ALE core (this project's build of the ALE's Stella): its states say which core made them, and it makes
audio only when asked (for speed)."""

from __future__ import annotations

from retro.profiles.base import CoreHost, CoreProfile
from retro.profiles.restore import PlainRestore, RestorePolicy


class _PlainPowerCycleOnRefusal(PlainRestore):
    """Plain restores; a state whose checksum holds but that the emulator still refuses (forged, or from
    another build) may leave it partly loaded, so the core is power-cycled (the state probe refuses such
    states before this process's core sees them)."""

    name = "plain (power cycle on refusal)"

    def refused(self, host: CoreHost) -> None:
        host.power_cycle()


class ALE(CoreProfile):
    name = "ale"
    library_names = ("ALE Stella",)
    state_magic = b"RETROALE"
    audio_options = {"ale_audio": "enabled"}

    def restore_policy(self, host: CoreHost) -> RestorePolicy:
        return _PlainPowerCycleOnRefusal()


PROFILE = ALE()

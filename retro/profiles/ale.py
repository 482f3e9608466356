"""The ALE core (this project's build of the ALE's Stella): its states say which core made them, and it makes
audio only when asked (for speed)."""

from __future__ import annotations

from retro.profiles.base import CoreProfile


class ALE(CoreProfile):
    name = "ale"
    library_names = ("ALE Stella",)
    state_magic = b"RETROALE"
    audio_options = {"ale_audio": "enabled"}


PROFILE = ALE()

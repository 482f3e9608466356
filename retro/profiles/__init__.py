"""Core profiles: what is particular to each libretro core, one profile per core, in one registry.

A core that needs nothing special has no profile of its own and gets the
default :class:`CoreProfile`. The others each have a module here: ``stella``
(restores in place, closed copies reused), ``ale`` (states that name their
core, audio on request), ``snes9x`` (closed copies reused), ``gambatte``
(states compared past host values, what it leaks freed), ``nestopia`` (joypads plugged), ``picodrive``
(restores on a fresh copy, idle-loop patches undone before unload), ``genesis_plus_gx`` (states holding host
pointers), ``mgba`` and ``mednafen_pce_fast`` (what they leak freed). The registry is keyed by
the core's name, the one users pass as ``core=``; a core loaded from a path
is also found by the library name it reports.

Profiles talk to the emulator only through :class:`CoreHost`; the emulator
(:class:`retro.RetroEmulator`) asks :func:`profile_for` for its core's
profile once, when it loads the core.
"""

from __future__ import annotations

from typing import Any

from retro.profiles import ale, gambatte, genesis_plus_gx, mednafen_pce_fast, mgba, nestopia, picodrive, snes9x, stella
from retro.profiles.base import CoreHost, CoreProfile
from retro.profiles.restore import PlainRestore, ReloadWithSpare, RestorePolicy

__all__ = ["CoreHost", "CoreProfile", "PROFILES", "profile_for", "core_for_state", "audio_options",
           "RestorePolicy", "PlainRestore", "ReloadWithSpare"]

#: Every core with a profile of its own, by core name.
PROFILES: dict[str, CoreProfile] = {p.name: p for p in (
    stella.PROFILE, ale.PROFILE, snes9x.PROFILE, gambatte.PROFILE, nestopia.PROFILE, picodrive.PROFILE,
    genesis_plus_gx.PROFILE, mgba.PROFILE, mednafen_pce_fast.PROFILE)}

_DEFAULT = CoreProfile()
_BY_LIBRARY = {library: p for p in PROFILES.values() for library in p.library_names}


def profile_for(core_name: str | None, library_name: str | None = None) -> CoreProfile:
    """The profile of the core named ``core_name``, else of the core reporting ``library_name``, else the default."""
    found = PROFILES.get(core_name or "")
    if found is None and library_name is not None:
        found = _BY_LIBRARY.get(library_name)
    return found or _DEFAULT


def core_for_state(state: Any) -> str | None:
    """The core whose states start with a magic of their own that ``state`` starts with (``"ale"``), else None."""
    if not state:
        return None
    try:
        head = bytes(memoryview(state).cast("B")[:16])
    except (TypeError, ValueError):
        return None
    for profile in PROFILES.values():
        if profile.state_magic and head.startswith(profile.state_magic):
            return profile.name
    return None


def audio_options(core: str | None) -> dict[str, str]:
    """Option values that make the core named ``core`` produce audio (the ALE core makes none unless asked,
    for speed); empty for cores that always do."""
    return dict(PROFILES[core].audio_options) if core in PROFILES else {}

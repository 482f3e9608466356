"""Where retro keeps what set-up provisions and what users import.

Everything lives under one directory, ``RETRO_HOME`` (default
``$XDG_DATA_HOME/retro``, i.e. ``~/.local/share/retro``), never inside
site-packages:

- ``cores/``: libretro cores provisioned from package registries;
- ``roms/``: ROMs extracted from registry packages that carry them;
- ``library/``: stable-retro's game library (its integration folders, read-only);
- ``system/``: BIOS files handed to cores;
- ``saves/``: battery saves cores write;
- ``cache/``: downloaded packages.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["retro_home", "cores_dir", "roms_dir", "library_dir", "system_dir", "saves_dir", "cache_dir"]


def retro_home() -> Path:
    """The root of retro's data directory."""
    env = os.environ.get("RETRO_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(xdg) / "retro"


def cores_dir() -> Path:
    """Where set-up provisions libretro cores: ``RETRO_HOME/cores``."""
    return retro_home() / "cores"


def roms_dir() -> Path:
    """Where set-up extracts the ROMs registry packages carry: ``RETRO_HOME/roms``."""
    return retro_home() / "roms"


def library_dir() -> Path:
    """stable-retro's integration folders (``stable/``, ``experimental/``, ``contrib/``), as set-up provisions them."""
    return retro_home() / "library"


def system_dir() -> Path:
    """BIOS files handed to cores: ``RETRO_HOME/system``."""
    return retro_home() / "system"


def saves_dir() -> Path:
    """Battery saves cores write: ``RETRO_HOME/saves``."""
    return retro_home() / "saves"


def cache_dir() -> Path:
    """Downloaded packages and build objects: ``RETRO_HOME/cache``."""
    return retro_home() / "cache"

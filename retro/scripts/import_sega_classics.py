"""Import the ROMs of Steam's *SEGA Mega Drive & Genesis Classics*: ``python3 -m retro.scripts.import_sega_classics``.

The collection (Steam app 34270) installs its games as plain ROM files in
folders named ``uncompressed ROMs``. This finds them in the Steam folder
given (``FOLDER``: the collection's install folder, a Steam library, or any
folder above them), or else in the Steam libraries of this machine, and
imports every ROM an integration knows by SHA-1, as ``retro import`` does
(into ``$RETRO_HOME/games``).

Gym Retro's and stable-retro's script of this name downloads the
collection with ``steamcmd`` under the user's Steam login; this one imports
from a collection already installed (by Steam, or by ``steamcmd
+app_update 34270``), and never asks for credentials.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Callable, Iterable, Optional

from retro import _cli
from retro.errors import RomNotFoundError
from retro.scripts.import_path import ImportReport, import_paths

__all__ = ["STEAM_APP_ID", "INSTALL_DIR", "ROM_FOLDER", "steam_libraries", "find_collection", "find_roms",
           "import_sega_classics", "main"]

STEAM_APP_ID = 34270
"""The Steam app id of *SEGA Mega Drive & Genesis Classics*."""
INSTALL_DIR = "Sega Classics"
"""The collection's folder in a Steam library's ``steamapps/common``."""
ROM_FOLDER = "uncompressed ROMs"
"""The name of the folders that hold the collection's ROM files."""


def _steam_roots() -> list[Path]:
    home = Path(os.path.expanduser("~"))
    roots = [home / ".steam" / "steam", home / ".steam" / "root", home / ".local" / "share" / "Steam",
             home / ".var" / "app" / "com.valvesoftware.Steam" / ".local" / "share" / "Steam",
             home / "Library" / "Application Support" / "Steam"]
    for var in ("PROGRAMFILES(X86)", "PROGRAMFILES"):
        if os.environ.get(var):
            roots.append(Path(os.environ[var]) / "Steam")
    return roots


def steam_libraries(roots: Optional[Iterable[str | os.PathLike[str]]] = None) -> list[Path]:
    """Steam library folders on this machine (each has ``steamapps/``), the main ones and those
    ``steamapps/libraryfolders.vdf`` lists; ``roots`` replaces the usual Steam install folders."""
    found: list[Path] = []
    for root in (Path(os.fspath(r)) for r in roots) if roots is not None else _steam_roots():
        candidates = [root]
        vdf = root / "steamapps" / "libraryfolders.vdf"
        try:
            text = vdf.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        candidates += [Path(m.replace("\\\\", "\\")) for m in re.findall(r'"path"\s+"([^"]+)"', text)]
        for lib in candidates:
            if (lib / "steamapps").is_dir() and lib.resolve() not in {f.resolve() for f in found}:
                found.append(lib)
    return found


def find_collection(roots: Optional[Iterable[str | os.PathLike[str]]] = None) -> Optional[Path]:
    """The collection's install folder in this machine's Steam libraries, or None."""
    for lib in steam_libraries(roots):
        folder = lib / "steamapps" / "common" / INSTALL_DIR
        if folder.is_dir():
            return folder
    return None


def find_roms(folder: str | os.PathLike[str]) -> list[str]:
    """The ROM files under ``folder``: the files of every folder named ``uncompressed ROMs`` (any case), sorted."""
    roms = []
    for base, _dirs, files in os.walk(os.fspath(folder)):
        if os.path.basename(base).lower() == ROM_FOLDER.lower():
            roms += [os.path.join(base, f) for f in files]
    return sorted(roms)


def import_sega_classics(folder: str | os.PathLike[str] | None = None, log: Callable[[str], None] = print,
                         dry_run: bool = False) -> ImportReport:
    """Import the collection's ROMs from ``folder`` (default: the collection in this machine's Steam libraries).

    ``log`` gets one line per file (see ``retro import``). Raises
    :class:`~retro.errors.RomNotFoundError` if no folder is given and the
    collection is not installed, or the folder holds no ``uncompressed ROMs``.
    """
    where = Path(os.fspath(folder)) if folder is not None else find_collection()
    if where is None:
        raise RomNotFoundError(
            f"SEGA Mega Drive & Genesis Classics (Steam app {STEAM_APP_ID}) is not installed in any Steam library "
            f"here ({', '.join(str(r) for r in _steam_roots())}); install it with Steam, or "
            f"`steamcmd +login USER +app_update {STEAM_APP_ID} +quit`, and give its folder")
    roms = find_roms(where)
    if not roms:
        raise RomNotFoundError(f"no '{ROM_FOLDER}' folder with ROMs under {where}: give the collection's folder "
                               f"(steamapps/common/{INSTALL_DIR})")
    return import_paths(roms, log=log, dry_run=dry_run)


def main(argv: Optional[list[str]] = None) -> int:
    """``python3 -m retro.scripts.import_sega_classics [FOLDER]``: its exit status."""
    return _cli.run("import_sega_classics", lambda: _main(argv))


def _main(argv: Optional[list[str]]) -> int:
    parser = _cli.ArgumentParser(prog="python3 -m retro.scripts.import_sega_classics", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", help="the collection's folder, a Steam library, or a folder above them "
                        "(default: found in this machine's Steam libraries)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only imports and the summary")
    parser.add_argument("-n", "--dry-run", action="store_true", help="say what would be imported, write nothing")
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        if not args.quiet or line.startswith(("imported", "conflict", "failed")):
            print(line, flush=True)

    report = import_sega_classics(args.folder, log=log, dry_run=args.dry_run)
    print(report.summary())
    return _cli.FAILURE if report.counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

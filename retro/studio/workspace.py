"""The integration folder Retro Studio writes to, and nothing outside it.

Every file the studio writes goes through a :class:`Workspace`: one game's
folder in a custom integrations path (searched before the game library and
this project's integrations, see :mod:`retro.data.integrations`). A game
that has no folder there yet gets one holding copies of its current
``data.json``, ``scenario.json`` (with the Lua scripts beside it),
``metadata.json`` and ``rom.sha``; its save states stay where they are and
are still found.

- File names are plain names with a fixed suffix (``.state``, ``.bk2``,
  ``.json``, ``.mp4``): anything with a path separator, ``..``, a leading dot
  or characters outside ``[A-Za-z0-9 _.+-]`` is refused with
  :class:`StudioPathError`, and the resolved path must lie inside the folder.
- Writes are atomic (:func:`retro._fileutil.atomic_writer`); a file being
  replaced is first copied to ``.backup/<name>.<time>`` in the folder.
- JSON files are changed by read-modify-write under a lock per folder, so
  two browser tabs editing one game never lose each other's changes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import threading
import time
from typing import Any, Callable

from retro._fileutil import atomic_write, read_regular
from retro.data import Integrations, get_file_path, rom_sha1
from retro.data.integrations import canonical_game, read_json_object
from retro.errors import GameNotFoundError, IntegrationError, RetroError, UnknownSystemError
from retro.systems import EMU_EXTENSIONS

__all__ = ["Workspace", "StudioPathError", "ConflictError", "safe_name", "create_integration",
           "ContentTooLarge", "MAX_UPLOAD_BYTES", "MAX_JSON_BYTES", "BACKUPS_KEPT", "json_digest"]

#: Largest file accepted from the browser (a ROM or a movie).
MAX_UPLOAD_BYTES = 64 << 20
#: Largest JSON document accepted from the browser.
MAX_JSON_BYTES = 1 << 20
#: Backups kept per file name; older ones are removed.
BACKUPS_KEPT = 20

_NAME = re.compile(r"[A-Za-z0-9_+\-][A-Za-z0-9 _.+\-]{0,127}")
_LOCKS: dict[str, threading.Lock] = {}
_RESERVED: set[str] = set()  # files being recorded, by path
_LOCKS_GUARD = threading.Lock()
INTEGRATION_FILES = ("data.json", "scenario.json", "metadata.json", "rom.sha")


class StudioPathError(RetroError, ValueError):
    """A file name from the browser is not a plain name inside the integration folder."""


class ContentTooLarge(RetroError, ValueError):
    """An upload is larger than the studio accepts."""


class ConflictError(RetroError, ValueError):
    """A file changed on disk since the browser read it (another tab saved it)."""


def safe_name(name: Any, suffix: str) -> str:
    """``name`` with ``suffix`` (appended if missing), if it is a plain file name; else :class:`StudioPathError`."""
    if not isinstance(name, str) or not name:
        raise StudioPathError(f"expected a file name, got {name!r}")
    if not name.endswith(suffix):
        name += suffix
    stem = name[: len(name) - len(suffix)]
    if not stem or ".." in name or not _NAME.fullmatch(name):
        raise StudioPathError(
            f"{name!r} is not a plain file name: use letters, digits, spaces and _ . + - "
            f"(no '/', '\\', '..' or leading dot), at most 128 characters")
    return name


def json_digest(doc: Any) -> str:
    """A short digest of a JSON document, to tell whether a file changed since it was read."""
    return hashlib.sha1(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def _lock(folder: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(folder, threading.Lock())


class Workspace:
    """One game's writable integration folder under ``root`` (a custom integrations path)."""

    def __init__(self, game: str, root: str | os.PathLike[str]) -> None:
        self.game = canonical_game(game)
        self.root = os.path.realpath(os.fspath(root))
        safe_name(self.game, "")
        self.folder = os.path.join(self.root, self.game)
        self.lock = _lock(self.folder)

    @classmethod
    def open(cls, game: str, root: str | os.PathLike[str]) -> "Workspace":
        """The game's folder under ``root``, made from its current integration files if it is not there yet."""
        ws = cls(game, root)
        with ws.lock:
            if not os.path.isfile(os.path.join(ws.folder, "rom.sha")):
                found = {f: get_file_path(game, f, Integrations.ALL) for f in INTEGRATION_FILES}
                if found["rom.sha"] is None:
                    raise GameNotFoundError(f"{game} has no integration (no rom.sha); create one from its ROM")
                os.makedirs(ws.folder, exist_ok=True)
                # the scenario's Lua scripts are named relative to it: they come along
                beside = os.path.dirname(found["scenario.json"]) if found["scenario.json"] else None
                scripts = {n: os.path.join(beside, n) for n in sorted(os.listdir(beside))
                           if n.endswith(".lua")} if beside else {}
                for name, src in {**found, **scripts}.items():
                    if src is not None and not os.path.exists(os.path.join(ws.folder, name)):
                        atomic_write(os.path.join(ws.folder, name), read_regular(src))
                if not os.path.exists(os.path.join(ws.folder, "data.json")):
                    atomic_write(os.path.join(ws.folder, "data.json"), b'{\n  "info": {}\n}\n')
        return ws

    # -- paths --------------------------------------------------------------------------

    def path(self, name: Any, suffix: str) -> str:
        """The path of a file of the folder; :class:`StudioPathError` for a name that would leave it."""
        name = safe_name(name, suffix)
        path = os.path.join(self.folder, name)
        real = os.path.realpath(path)
        if os.path.dirname(real) != os.path.realpath(self.folder):
            raise StudioPathError(f"{name!r} resolves outside {self.folder}")
        return path

    def files(self, suffix: str) -> list[str]:
        """Names of the folder's files ending in ``suffix``, sorted."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n.endswith(suffix) and not n.startswith(".")
                      and os.path.isfile(os.path.join(self.folder, n)))

    # -- writing ------------------------------------------------------------------------------

    def backup(self, path: str) -> str | None:
        """Copy a file of the folder to ``.backup/<name>.<UTC time>`` (the newest BACKUPS_KEPT are kept)."""
        if not os.path.lexists(path):
            return None
        folder = os.path.join(self.folder, ".backup")
        os.makedirs(folder, exist_ok=True)
        name = os.path.basename(path)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = os.path.join(folder, f"{name}.{stamp}")
        n = 1
        while os.path.lexists(target):
            n += 1
            target = os.path.join(folder, f"{name}.{stamp}.{n}")
        shutil.copy2(path, target)
        old = sorted(f for f in os.listdir(folder) if f.startswith(name + "."))
        for stale in old[:-BACKUPS_KEPT]:
            os.unlink(os.path.join(folder, stale))
        return target

    def write(self, name: str, suffix: str, data: bytes, *, overwrite: bool = False) -> str:
        """Write a file of the folder atomically; an existing one is backed up first, and only replaced if asked."""
        path = self.path(name, suffix)
        with self.lock:
            if os.path.lexists(path):
                if not overwrite:
                    raise FileExistsError(f"{os.path.basename(path)} already exists; choose another name "
                                          f"or replace it (the old file is kept in .backup)")
                self.backup(path)
            atomic_write(path, data)
        return path

    def reserve(self, name: str, suffix: str, *, overwrite: bool = False) -> str:
        """Claim a file that will be written later (a movie being recorded); :meth:`release` it when written.

        Refused (``FileExistsError``) while another tab holds the name, or if
        the file exists and ``overwrite`` is false; with ``overwrite`` the old
        file is backed up now.
        """
        path = self.path(name, suffix)
        with self.lock:
            if path in _RESERVED:
                raise FileExistsError(f"{os.path.basename(path)} is being recorded in another tab; choose another name")
            if os.path.lexists(path):
                if not overwrite:
                    raise FileExistsError(f"{os.path.basename(path)} already exists; choose another name")
                self.backup(path)
            _RESERVED.add(path)
        return path

    def release(self, path: str) -> None:
        with self.lock:
            _RESERVED.discard(path)

    def write_state(self, name: str, state: bytes, *, overwrite: bool = False) -> str:
        """A ``.state`` file as Gym Retro writes them (gzip)."""
        return self.write(name, ".state", gzip.compress(state, mtime=0), overwrite=overwrite)

    def read_json(self, name: str) -> dict[str, Any]:
        path = self.path(name, ".json")
        if not os.path.exists(path):
            return {}
        return read_json_object(path)

    def update_json(self, name: str, change: Callable[[dict[str, Any]], dict[str, Any] | None],
                    base: str | None = None) -> dict[str, Any]:
        """Read ``name`` fresh, apply ``change`` (which may edit in place or return a new doc), write it back.

        With ``base`` (a :func:`json_digest` of the document the change was
        made on), a file that changed since is not written: :class:`ConflictError`.
        """
        path = self.path(name, ".json")
        with self.lock:
            doc = read_json_object(path) if os.path.exists(path) else {}
            if base is not None and json_digest(doc) != base:
                raise ConflictError(f"{name} changed since it was read (another tab saved it); "
                                    f"reload it and make the change again")
            new = change(doc)
            doc = doc if new is None else new
            text = json.dumps(doc, indent=2) + "\n"
            if len(text) > MAX_JSON_BYTES:
                raise IntegrationError(f"{name} would be larger than {MAX_JSON_BYTES} bytes")
            self.backup(path)
            atomic_write(path, text.encode())
        return doc


def create_integration(rom: str | os.PathLike[str], root: str | os.PathLike[str], name: str | None = None) -> str:
    """A new integration folder ``<root>/<Name>-<System>`` for a ROM no integration knows; returns the game id.

    The folder gets the ROM (``rom.<ext>``), ``rom.sha``, ``metadata.json``
    and empty ``data.json`` and ``scenario.json``. An existing folder is
    never touched (``FileExistsError``).
    """
    rom = os.fspath(rom)
    ext = os.path.splitext(rom)[1].lower()
    system = EMU_EXTENSIONS.get(ext)
    if system is None:
        known = ", ".join(sorted(EMU_EXTENSIONS))
        raise UnknownSystemError(f"{rom}: cannot tell the system from {ext or 'no extension'!r}; known: {known}")
    if os.path.getsize(rom) > MAX_UPLOAD_BYTES:
        raise ContentTooLarge(f"{rom} is larger than {MAX_UPLOAD_BYTES} bytes")
    stem = name or os.path.splitext(os.path.basename(rom))[0]
    stem = re.sub(r"[^A-Za-z0-9]+", "", stem.title()) or "Game"
    game = f"{stem}-{system}"
    folder = os.path.join(os.path.realpath(os.fspath(root)), safe_name(game, ""))
    if os.path.lexists(folder):
        raise FileExistsError(f"{folder} already exists; open {game} instead")
    sha = rom_sha1(rom)
    os.makedirs(folder)
    atomic_write(os.path.join(folder, "rom" + ext), read_regular(rom, MAX_UPLOAD_BYTES))
    atomic_write(os.path.join(folder, "rom.sha"), (sha + "\n").encode())
    atomic_write(os.path.join(folder, "metadata.json"), b"{}\n")
    atomic_write(os.path.join(folder, "data.json"), b'{\n  "info": {}\n}\n')
    scenario: dict[str, Any] = {"done": {"variables": {}}, "reward": {"variables": {}}}
    atomic_write(os.path.join(folder, "scenario.json"), (json.dumps(scenario, indent=2) + "\n").encode())
    return game

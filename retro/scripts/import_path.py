"""Import ROMs: ``retro import [PATH...]``.

Walks each path (default ``.``): folders recursively, ``.zip`` files and zips
inside zips. Every file is identified by SHA-1 against the ``rom.sha`` of
every integration (NES ROMs are hashed without their 16-byte iNES header,
``.smd`` dumps after de-interleaving). A match is copied to
``$RETRO_HOME/games/<Game>-<System>/rom.<ext>``, where
:func:`retro.data.get_romfile_path` finds it. Nothing is ever written into
the installed package, and a different file already at a target is left
alone.

One line per file says what happened to it:

``imported``
    a ROM of a known game, now in the store;
``present``
    the same ROM was already in the store (importing twice is harmless);
``unknown``
    its SHA-1 is not one any integration knows;
``near match``
    named like a known game of its system but with a different SHA-1:
    another dump or revision that the integration does not support;
``too big``
    larger than 32 MiB, so not a cartridge ROM (it is not read);
``unreadable``
    cannot be read (a broken link, no permission, not a regular file, a
    damaged zip member);
``bad zip``
    named ``.zip`` but not a readable zip archive, or one whose entries
    overlap (a zip bomb's trick: many names for the same compressed bytes);
``conflict``
    a different file is already at the target; it is kept.

The work an archive makes is bounded: a zip inside a zip is read only up
to :data:`MAX_NESTED_ZIP` bytes, and all the members of one archive (nested
ones included) may expand to at most :data:`MAX_ARCHIVE_WORK` bytes plus 64
times the archive's own size; the members past that are reported ``too
big`` and not read.

A summary line follows. The exit status is 0 even when files were skipped;
it is 1 if a ROM could not be written, and 2 if a path does not exist (the
paths that do are imported all the same).

``--from-packages`` imports the ROMs that set-up provisioned from registry
packages (``$RETRO_HOME/roms``: the Atari 2600 ROMs of ``ale-py``, Airstriker
from ``stable-retro``) and those of an installed ``ale-py``.
"""

from __future__ import annotations

import importlib.util
import lzma
import os
import re
import shutil
import stat
import sys
import sysconfig
import tempfile
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from functools import partial
from typing import IO, BinaryIO, Callable, Iterable, Optional, cast

from retro import _cli
from retro._fileutil import atomic_write

__all__ = ["ImportReport", "FileResult", "import_paths", "package_rom_dirs", "main", "MAX_ROM_SIZE"]

#: Largest file looked at as a ROM (Gym Retro's cap); bigger files are never read.
MAX_ROM_SIZE = 32 << 20
#: How deep zips inside zips are opened.
MAX_ZIP_DEPTH = 8
#: Largest zip inside a zip that is opened (it is spooled to a temporary file).
MAX_NESTED_ZIP = 256 << 20
#: Bytes every archive may expand to (plus 64 times its size), nested archives included.
MAX_ARCHIVE_WORK = 1 << 30
#: What each member costs on top of its size (so a million empty members are bounded too).
_MEMBER_COST = 4096

#: What reading a file or a zip member can raise besides ValueError: I/O errors, damaged
#: or encrypted members, compression methods zipfile lacks.
_READ_ERRORS = (OSError, RuntimeError, EOFError, zipfile.BadZipFile, NotImplementedError, zlib.error,
                lzma.LZMAError, ValueError)

#: Outcomes, in the order the summary lists them.
OUTCOMES = ("imported", "present", "unknown", "near match", "too big", "unreadable", "bad zip", "conflict",
            "failed")
SKIPPED = ("unknown", "near match", "too big", "unreadable", "bad zip", "conflict")


@dataclass
class FileResult:
    """What happened to one file: ``outcome`` (one of :data:`OUTCOMES`), the game, a reason."""

    source: str
    outcome: str
    game: Optional[str] = None
    detail: str = ""
    target: Optional[str] = None

    def line(self) -> str:
        if self.outcome in ("imported", "present"):
            return f"{self.outcome:<10} {self.game}  <- {self.source}" + (f"  ({self.detail})" if self.detail else "")
        return f"{self.outcome:<10} {self.source}: {self.detail}"


@dataclass
class ImportReport:
    """Every file's result, and counts."""

    results: list[FileResult] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.results)

    @property
    def games(self) -> set[str]:
        """Games whose ROM is in the store after this import (new or already there)."""
        return {r.game for r in self.results if r.outcome in ("imported", "present") and r.game}

    @property
    def imported_games(self) -> set[str]:
        """Games newly imported by this run."""
        return {r.game for r in self.results if r.outcome == "imported" and r.game}

    @property
    def skipped(self) -> int:
        return sum(self.counts[o] for o in SKIPPED)

    def summary(self) -> str:
        c = self.counts
        imported = len(self.imported_games)
        head = f"Imported {imported} game{'s' if imported != 1 else ''}"
        if c["present"]:
            head += f", {c['present']} file{'s' if c['present'] != 1 else ''} already present"
        parts = [f"{c[o]} {o}" for o in SKIPPED if c[o]]
        tail = f"; skipped {self.skipped} file{'s' if self.skipped != 1 else ''}"
        tail += f" ({', '.join(parts)})" if parts else ""
        if c["failed"]:
            tail += f"; {c['failed']} failed to write"
        return head + tail


# -- what is known ---------------------------------------------------------------------------

def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass
class _Known:
    hashes: dict[str, tuple[str, str, str]]   # sha1 -> (game, '.ext', integration folder)
    by_name: dict[tuple[str, str], str]       # (normalised name, system) -> game
    sizes: dict[str, int]                     # game -> size of its imported ROM
    ext_system: dict[str, str]


def _load_known() -> _Known:
    from retro import data as rdata
    from retro.data.integrations import game_system

    hashes = rdata.get_known_hashes()
    by_name: dict[tuple[str, str], str] = {}
    sizes: dict[str, int] = {}
    for game, _ext, _base in hashes.values():
        system = game_system(game) or ""
        base = game[: -len("-v0")] if game.endswith("-v0") else game
        name = base[: -len(system) - 1] if system and base.endswith("-" + system) else base
        by_name[(_normalise(name), system)] = base
        try:
            rom = rdata.get_romfile_path(base, inttype=rdata.Integrations.ALL)
            sizes[base] = os.path.getsize(rom)
        except OSError:  # no ROM imported yet (GameNotFoundError is a FileNotFoundError)
            pass
    return _Known(hashes, by_name, sizes, dict(rdata.EMU_EXTENSIONS))


def _near_match(known: _Known, name: str, size: int) -> Optional[str]:
    """Why a file with an unknown hash looks like a known game's ROM, or None.

    A near match is named like a known game of the system its extension
    names (``Pong (1977).a26`` for Pong-Atari2600). Size alone says little
    (most Atari 2600 ROMs are 2, 4 or 8 KiB), so it only adds detail.
    """
    stem, ext = os.path.splitext(os.path.basename(name))
    system = known.ext_system.get(ext.lower())
    if system is None:
        return None
    n = _normalise(stem)
    for (game_name, game_sys), game in known.by_name.items():
        if game_sys == system and game_name and (n == game_name or n.startswith(game_name)):
            same_size = known.sizes.get(game) == size
            return f"named like {game}" + (" and the size of its ROM" if same_size else "")
    return None


# -- the store -------------------------------------------------------------------------------

def _site_dirs() -> list[Path]:
    dirs = set()
    for key in ("purelib", "platlib"):
        try:
            dirs.add(Path(sysconfig.get_paths()[key]).resolve())
        except (KeyError, OSError):
            pass
    dirs.add(Path(__file__).resolve().parent.parent)  # the retro package itself
    return sorted(dirs)


def _store_dir() -> Path:
    from retro.data.integrations import imported_games_dir

    store = imported_games_dir().resolve()
    for d in _site_dirs():
        if store == d or d in store.parents:
            raise OSError(f"refusing to import into {store}: it is inside {d} (an installed package); "
                          f"point RETRO_HOME elsewhere")
    return store


# -- walking ---------------------------------------------------------------------------------

class _Importer:
    def __init__(self, known: _Known, store: Path, log: Callable[[str], None], dry_run: bool = False) -> None:
        self.known = known
        self.store = store
        self.log = log
        self.dry_run = dry_run
        self.report = ImportReport()
        self.budget: Optional[int] = None  # bytes the archive being walked may still expand to

    def charge(self, member: str, size: int) -> bool:
        """Take ``size`` bytes from the archive's budget; False (and a ``too big`` line) when it is spent."""
        if self.budget is None:
            return True
        cost = size + _MEMBER_COST
        if cost > self.budget:
            self.budget = 0
            self.add(FileResult(member, "too big", detail="the archive expands to more than the "
                                                           f"{MAX_ARCHIVE_WORK >> 20} MiB (plus 64 times its size) "
                                                           "read from one archive; the rest of it is not read"))
            return False
        self.budget -= cost
        return True

    def add(self, result: FileResult) -> None:
        self.report.results.append(result)
        self.log(result.line())

    # A file's bytes are read only once it is known to be small enough.
    def consider(self, name: str, size: int, opener: Callable[[], IO[bytes]]) -> None:
        if size > MAX_ROM_SIZE:
            self.add(FileResult(name, "too big", detail=f"{size / (1 << 20):.1f} MiB, more than the "
                                                        f"{MAX_ROM_SIZE >> 20} MiB any cartridge ROM has; not read"))
            return
        from retro.data import groom_rom

        try:
            with opener() as f:
                data, sha = groom_rom(name, cast(BinaryIO, f))
        except ValueError as e:
            if "too big" in str(e):
                self.add(FileResult(name, "too big", detail=f"more than {MAX_ROM_SIZE >> 20} MiB; not read further"))
            else:
                self.add(FileResult(name, "unreadable", detail=str(e)))
            return
        except _READ_ERRORS as e:
            self.add(FileResult(name, "unreadable", detail=_reason(e)))
            return
        self.identify(name, data, sha)

    def identify(self, name: str, data: bytes, sha: str) -> None:
        hit = self.known.hashes.get(sha)
        if hit is None:
            near = _near_match(self.known, name, len(data))
            if near:
                self.add(FileResult(name, "near match", detail=f"{near}, but its SHA-1 {sha} is not one the "
                                                                f"integration knows (another dump or revision?)"))
            else:
                self.add(FileResult(name, "unknown", detail=f"SHA-1 {sha} matches no integration"))
            return
        game, ext, _base = hit
        game = game[: -len("-v0")] if game.endswith("-v0") else game
        target = self.store / game / ("rom" + ext)
        if target.exists() or target.is_symlink():
            try:
                same = target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data
            except OSError:
                same = False
            if same:
                self.add(FileResult(name, "present", game, "already imported", str(target)))
            else:
                self.add(FileResult(name, "conflict", game, f"{target} already exists and differs; it was left alone",
                                    str(target)))
            return
        if self.dry_run:
            self.add(FileResult(name, "imported", game, f"would be written to {target}", str(target)))
            return
        try:
            atomic_write(target, data, replace=False)
        except FileExistsError:
            self.add(FileResult(name, "conflict", game, f"{target} appeared meanwhile; it was left alone", str(target)))
            return
        except OSError as e:
            self.add(FileResult(name, "failed", game, f"cannot write {target}: {_reason(e)}", str(target)))
            return
        self.add(FileResult(name, "imported", game, f"-> {target}", str(target)))

    def walk(self, path: str) -> None:
        try:
            st = os.stat(path)
        except OSError as e:
            self.add(FileResult(path, "unreadable", detail=_reason(e)))
            return
        if stat.S_ISDIR(st.st_mode):
            self.walk_dir(path)
        else:
            self.file(path, st)

    def walk_dir(self, top: str) -> None:
        def onerror(e: OSError) -> None:
            self.add(FileResult(e.filename or top, "unreadable", detail=_reason(e)))

        for dirpath, dirnames, filenames in os.walk(top, onerror=onerror):
            dirnames.sort()
            for f in sorted(filenames):
                full = os.path.join(dirpath, f)
                try:
                    st = os.stat(full)
                except OSError as e:
                    self.add(FileResult(full, "unreadable", detail=_reason(e)))
                    continue
                self.file(full, st)

    def file(self, path: str, st: os.stat_result) -> None:
        if not stat.S_ISREG(st.st_mode):
            self.add(FileResult(path, "unreadable", detail="not a regular file"))
            return
        if path.lower().endswith(".zip"):
            self.budget = MAX_ARCHIVE_WORK + 64 * st.st_size
            try:
                with _open_nonblocking(path) as f:
                    self.zip(path, f, 0)
            except OSError as e:
                self.add(FileResult(path, "unreadable", detail=_reason(e)))
            finally:
                self.budget = None
            return
        self.consider(path, st.st_size, lambda: _open_nonblocking(path))

    def zip(self, name: str, fileobj: IO[bytes], depth: int) -> None:
        try:
            zf = zipfile.ZipFile(fileobj)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
            self.add(FileResult(name, "bad zip", detail=_reason(e)))
            return
        with zf:
            overlap = _overlapping(zf.infolist())
            if overlap:
                self.add(FileResult(name, "bad zip", detail=overlap))
                return
            for info in zf.infolist():
                if info.is_dir():
                    continue
                if self.budget == 0:
                    return
                member = f"{name}!{info.filename}"
                if info.filename.lower().endswith(".zip"):
                    if depth + 1 >= MAX_ZIP_DEPTH:
                        self.add(FileResult(member, "unreadable", detail=f"zips nested more than {MAX_ZIP_DEPTH} deep"))
                        continue
                    if info.file_size > MAX_NESTED_ZIP:
                        self.add(FileResult(member, "too big", detail=f"a zip inside a zip larger than "
                                                                      f"{MAX_NESTED_ZIP >> 20} MiB; not read"))
                        continue
                    if self.charge(member, info.file_size):
                        self.nested_zip(zf, info, member, depth + 1)
                    continue
                if info.file_size > MAX_ROM_SIZE or self.charge(member, info.file_size):
                    self.consider(member, info.file_size, partial(zf.open, info))

    def nested_zip(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, member: str, depth: int) -> None:
        # Spool the inner archive (to disk if large), so it can be read randomly.
        with tempfile.SpooledTemporaryFile(max_size=MAX_ROM_SIZE) as spool:
            try:
                with zf.open(info) as src:  # yields at most info.file_size bytes, checked above
                    shutil.copyfileobj(src, spool, 1 << 20)
            except _READ_ERRORS as e:
                self.add(FileResult(member, "unreadable", detail=_reason(e)))
                return
            spool.seek(0)
            self.zip(member, spool, depth)  # type: ignore[arg-type]


def _open_nonblocking(path: str) -> BinaryIO:
    """``path`` opened for reading without ever blocking: a file that would block (``/proc/kmsg``, a FIFO
    swapped in after the check) fails to read instead."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    return os.fdopen(fd, "rb")


def _overlapping(infos: list[zipfile.ZipInfo]) -> str:
    """Why the members' data overlap in the archive (the trick of a zip bomb), or ""."""
    spans = sorted((i.header_offset, i.header_offset + 30 + i.compress_size, i.filename) for i in infos)
    for (_, end, name), (next_start, _, next_name) in zip(spans, spans[1:]):
        if end > next_start:
            return f"members {name!r} and {next_name!r} overlap (a zip bomb?); not read"
    return ""


def _reason(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__


def package_rom_dirs() -> list[Path]:
    """Folders of ROMs that registry packages carry: set-up's ``$RETRO_HOME/roms`` and an installed ``ale-py``."""
    from retro import paths

    dirs: list[Path] = []
    if paths.roms_dir().is_dir():
        dirs.append(paths.roms_dir())
    try:
        spec = importlib.util.find_spec("ale_py")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            roms = Path(loc) / "roms"
            if roms.is_dir():
                dirs.append(roms)
    return dirs


def import_paths(paths: Iterable[str | os.PathLike[str]], log: Callable[[str], None] = print,
                 dry_run: bool = False) -> ImportReport:
    """Import the ROMs found under ``paths``; ``log`` gets one line per file. Returns the report."""
    importer = _Importer(_load_known(), _store_dir(), log, dry_run=dry_run)
    for p in paths:
        importer.walk(os.fspath(p))
    return importer.report


def main(argv: Optional[list[str]] = None, prog: str = "retro import") -> int:
    """``retro import``: its exit status (errors are one line on stderr)."""
    return _cli.run(prog, lambda: _main(argv, prog))


def _main(argv: Optional[list[str]], prog: str) -> int:
    parser = _cli.ArgumentParser(
        prog=prog,
        description="Import ROMs of known games, identified by SHA-1, from folders and zips "
                    "into $RETRO_HOME/games.")
    parser.add_argument("paths", nargs="*", help="files or folders to search (default: the current folder)")
    parser.add_argument("--from-packages", action="store_true",
                        help="import the ROMs that provisioned registry packages carry ($RETRO_HOME/roms, ale-py)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only imports and the summary")
    parser.add_argument("-n", "--dry-run", action="store_true", help="say what would be imported, write nothing")
    args = parser.parse_args(argv)

    paths: list[str] = list(args.paths)
    if args.from_packages:
        found = package_rom_dirs()
        if not found:
            from retro import paths as rpaths

            print(f"{prog}: no package ROMs found in {rpaths.roms_dir()}: `retro provision` provisions them",
                  file=sys.stderr)
        paths += [str(d) for d in found]
    elif not paths:
        paths = ["."]

    missing = [p for p in paths if not os.path.lexists(p)]
    paths = [p for p in paths if p not in missing]
    if missing:
        what = f"no such file or folder: {', '.join(missing)}"
        if not paths:
            raise _cli.CommandError(what)
        print(f"{prog}: {what}", file=sys.stderr)

    def log(line: str) -> None:
        if not args.quiet or line.startswith(("imported", "conflict", "failed")):
            print(line, flush=True)

    report = import_paths(paths, log=log, dry_run=args.dry_run)
    print(report.summary())
    if missing:
        return _cli.USAGE
    return _cli.FAILURE if report.counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

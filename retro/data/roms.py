"""ROM identification and import: hashes, SMD de-interleaving, ``merge``.

Integrations identify their ROM by SHA-1 (``rom.sha``, one hash a line; for
the NES the hash skips the 16-byte iNES header). :func:`merge` writes a ROM
whose hash an integration knows to ``$RETRO_HOME/games/<Game>-<System>/rom.<ext>``
(never into the package), where :func:`~retro.data.get_romfile_path`
finds it.

Fixed on purpose: Gym Retro's SMD de-interleaving never runs (an int is
compared with a bytes object); here ``.smd`` dumps with the SMD header
marks are converted to plain ``.md`` images before hashing.
"""

from __future__ import annotations

import errno
import hashlib
import os
from typing import BinaryIO, Optional

from retro._fileutil import atomic_write, read_regular
from retro.data.integrations import (Integrations, canonical_game, game_system, get_file_path,
                                     get_romfile_path, imported_games_dir, integration_dirs, original_rom_name)
from retro.errors import IntegrationError, RomMismatchError
from retro.systems import EMU_EXTENSIONS

__all__ = ["parse_smd", "groom_rom", "verify_hash", "get_known_hashes", "merge", "MAX_ROM_SIZE", "rom_sha1",
           "check_rom"]

#: Largest ROM the importer reads (Gym Retro's cap).
MAX_ROM_SIZE = 32 << 20
SMD_HEADER = 512
SMD_BLOCK = 16384


def parse_smd(header: bytes, body: bytes) -> bytes:
    """De-interleave an SMD dump (512-byte header, 16 KiB blocks) into a plain ROM.

    In each block the first half holds the odd bytes and the second half the
    even bytes. A file without the SMD marks (header bytes 8 and 9 are
    0xAA 0xBB) is returned unchanged, header included.
    """
    if len(header) < 10 or header[8] != 0xAA or header[9] != 0xBB or len(body) % SMD_BLOCK:
        return header + body
    out = bytearray(len(body))
    half = SMD_BLOCK // 2
    for start in range(0, len(body), SMD_BLOCK):
        block = body[start:start + SMD_BLOCK]
        out[start + 1:start + SMD_BLOCK:2] = block[:half]
        out[start:start + SMD_BLOCK:2] = block[half:]
    return bytes(out)


def groom_rom(rom: str | os.PathLike[str], r: Optional[BinaryIO] = None, *,
              fileobj: Optional[BinaryIO] = None) -> tuple[bytes, str]:
    """Read a ROM and return ``(bytes to store, SHA-1 hex the integrations know it by)``.

    ``rom`` is the file's name (its extension tells how to read it); ``r``
    (Gym Retro's and stable-retro's name; ``fileobj=`` is the same) is the
    file opened for reading in binary, else ``rom`` is opened. ``.smd``
    dumps are de-interleaved; ``.nes`` files are hashed without their
    16-byte header but stored whole; anything larger than
    :data:`MAX_ROM_SIZE` raises ``ValueError('ROM is too big')``.
    """
    if r is not None and fileobj is not None:
        raise TypeError("groom_rom() takes the open file once: r= (or fileobj=)")
    fileobj = r if r is not None else fileobj
    name = os.fspath(rom)
    close = fileobj is None
    f: BinaryIO = open(name, "rb") if fileobj is None else fileobj
    try:
        ext = os.path.splitext(name)[1].lower()
        if ext == ".smd":
            header = f.read(SMD_HEADER) or b""
            data = parse_smd(header, _read_capped(f, MAX_ROM_SIZE))
            return data, hashlib.sha1(data).hexdigest()
        if ext == ".nes":
            header = f.read(16) or b""
            body = _read_capped(f, MAX_ROM_SIZE)
            return header + body, hashlib.sha1(body).hexdigest()
        data = _read_capped(f, MAX_ROM_SIZE)
        return data, hashlib.sha1(data).hexdigest()
    finally:
        if close:
            f.close()


def _read_capped(f: BinaryIO, cap: int) -> bytes:
    data = f.read(cap + 1)
    if data is None:  # a file opened non-blocking that has nothing to read yet
        raise OSError(errno.EAGAIN, "reading it would block (not a plain file)")
    if len(data) > cap:
        raise ValueError("ROM is too big")
    return data


def _read_shas(sha_path: str) -> list[str]:
    text = read_regular(sha_path).decode("ascii", "replace")
    return [line.strip().lower() for line in text.splitlines() if line.strip()]


_SHA1_CACHE: dict[tuple[str, int, int], str] = {}


def rom_sha1(path: str) -> str:
    """The SHA-1 an integration's ``rom.sha`` knows a ROM file by (an NES file's without its iNES header)."""
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    sha = _SHA1_CACHE.get(key)
    if sha is None:
        with open(path, "rb") as f:
            _data, sha = groom_rom(path, f)
        _SHA1_CACHE[key] = sha
    return sha


def check_rom(game: str, rom_path: str, sha_path: str | None) -> None:
    """Raise ``RomMismatchError`` unless the ROM's SHA-1 is listed in ``sha_path`` (a ``rom.sha``).

    No file (None, or a path where nothing is) lists no hashes: nothing is checked.
    """
    if sha_path is None:
        return
    try:
        expected = _read_shas(sha_path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise IntegrationError(f"cannot read {sha_path}: {e.strerror or e}") from e
    got = rom_sha1(rom_path)
    if got not in expected:
        raise RomMismatchError(
            f"the ROM of {game} ({rom_path}) has SHA-1 {got}, but its integration ({sha_path}) was made "
            f"for {', '.join(expected) or 'no ROM'}: variables, rewards and states may be wrong for this "
            f"dump. Import the matching ROM with `retro import PATH`, or pass "
            f"check_rom_hash=False if you know this dump plays the same")


def verify_hash(game: str, inttype: Integrations = Integrations.DEFAULT) -> list[tuple[str, str]]:
    """``[(game, 'sha mismatch')]`` if the ROM's SHA-1 is not in ``rom.sha``, else ``[]``."""
    rom = get_romfile_path(game, inttype=inttype)
    sha_path = get_file_path(game, "rom.sha", inttype=inttype | Integrations.STABLE)
    if sha_path is None:
        return [(game, "missing rom.sha")]
    return [] if rom_sha1(rom) in _read_shas(sha_path) else [(game, "sha mismatch")]


def get_known_hashes() -> dict[str, tuple[str, str, str]]:
    """``{sha1: (game, '.ext', integration folder)}`` over every integration (``Integrations.ALL``)."""
    known: dict[str, tuple[str, str, str]] = {}
    for base in reversed(integration_dirs(Integrations.ALL)):  # earlier folders win
        if not os.path.isdir(base):
            continue
        for game in sorted(os.listdir(base)):
            sha_path = os.path.join(base, game, "rom.sha")
            if not os.path.isfile(sha_path):
                continue
            system = game_system(game)
            ext = next((e for e, s in EMU_EXTENSIONS.items() if s == system), None)
            if ext is None:
                continue
            for sha in _read_shas(sha_path):
                known[sha] = (game, ext, base)
    return known


def merge(*files: str | os.PathLike[str], quiet: bool = True) -> int:
    """Import the ROM files whose hash an integration knows; returns how many.

    Each goes to ``$RETRO_HOME/games/<Game>-<System>/rom.<ext>``, and, for a
    game whose ``metadata.json`` has an ``original_rom_name`` (an FBNeo set),
    under that name beside it too. A different file already there is left
    alone (and reported unless ``quiet``).
    Unreadable or oversized files are skipped.
    """
    known = get_known_hashes()
    imported = 0
    for rom in files:
        try:
            data, sha = groom_rom(rom)
        except (OSError, ValueError):
            continue
        if sha not in known:
            continue
        game, ext, _ = known[sha]
        target = imported_games_dir() / canonical_game(game) / ("rom" + ext)
        if target.exists():
            if target.read_bytes() != data:
                if not quiet:
                    print(f"Not importing {game}: {target} exists with different contents")
                continue
        else:
            if not quiet:
                print("Importing", game)
            atomic_write(target, data)
        original = original_rom_name(game, Integrations.ALL)
        if original is not None and original != target.name and not (target.parent / original).exists():
            # FBNeo identifies an arcade set by its file name: keep a copy under that name too
            atomic_write(target.parent / original, data)
            if not quiet:
                print(f"  Also saved as {original}, the name its core knows the set by")
        imported += 1
    if not quiet:
        print(f"Imported {imported} games")
    return imported



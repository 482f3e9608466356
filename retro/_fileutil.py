"""Writing files whole or not at all.

Every file retro writes for a user (ROMs, cores, movies, save states,
integration files, videos) goes through :func:`atomic_writer` (or
:func:`atomic_path`, for a program that writes to a path): the bytes go to a
temporary file in the target's folder (``.<name>.<random>.part``), which is
flushed to disk and renamed over the target only once it is complete (the
folder is then synced, where the system allows, so the rename outlives a
crash too). A reader of the target sees the old file or the new one, never
part of one; an exception while writing leaves the target as it was and
removes the temporary file.
"""

from __future__ import annotations

import errno
import io
import json
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Iterator

__all__ = ["atomic_write", "atomic_write_json", "atomic_writer", "atomic_path", "read_regular", "MAX_TEXT_BYTES"]

#: Largest integration text file (JSON, Lua, rom.sha) retro reads.
MAX_TEXT_BYTES = 16 << 20


def read_regular(path: str | os.PathLike[str], limit: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; ``OSError`` for anything else.

    A FIFO, device or folder where a file should be raises at once instead
    of blocking (the file is opened non-blocking and checked before it is
    read), and a file larger than ``limit`` is refused before it is read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, device or folder where a file should be)",
                          os.fspath(path))
        if st.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than the {limit} bytes allowed", os.fspath(path))
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise OSError(errno.EFBIG, f"larger than the {limit} bytes allowed", os.fspath(path))
    return b"".join(chunks)


@contextmanager
def atomic_writer(target: str | os.PathLike[str], *, replace: bool = True,
                  mode: int = 0o644) -> Iterator[BinaryIO]:
    """A binary file object whose contents become ``target`` when the ``with`` block ends.

    The target (and its folder) appear only if the block ends without an
    exception; its bytes are on disk (``fsync``) before it takes the name.
    With ``replace=False`` an existing ``target`` is never replaced:
    ``FileExistsError``, before anything is written if it already exists,
    and also if it appears while the block runs.
    """
    target, fd, tmp = _start(target, replace)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        _finish(tmp, target, replace, mode)
    finally:
        _discard(tmp)


@contextmanager
def atomic_path(target: str | os.PathLike[str], *, replace: bool = True, mode: int = 0o644) -> Iterator[str]:
    """The path of an empty temporary file that becomes ``target`` when the ``with`` block ends.

    For a writer that takes a path (ffmpeg, a ``csv`` file opened by name):
    what it leaves at the path is published as :func:`atomic_writer`
    publishes its file, with the same ``replace`` rule. The temporary name
    ends ``.part``, so a program that picks a format by extension must be
    told the format.
    """
    target, fd, tmp = _start(target, replace)
    try:
        os.close(fd)
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _finish(tmp, target, replace, mode)
    finally:
        _discard(tmp)


def _start(target: str | os.PathLike[str], replace: bool) -> tuple[Path, int, str]:
    """``(target, fd, path)`` of a new temporary file beside ``target`` (whose folder is made if need be)."""
    target = Path(target)
    if not replace and os.path.lexists(target):
        raise FileExistsError(f"{target} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix="." + target.name + ".", suffix=".part")
    return target, fd, tmp


def _finish(tmp: str, target: Path, replace: bool, mode: int) -> None:
    """Give the complete temporary file ``tmp``, already on disk, its mode and the name ``target``."""
    os.chmod(tmp, mode)
    _publish(tmp, target, replace)
    _sync_folder(target.parent)


def _discard(tmp: str) -> None:
    """Remove the temporary file ``tmp`` if it is still there (it is not once published)."""
    try:
        os.unlink(tmp)
    except OSError:
        pass


def _sync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries to disk, so a rename in it is durable (best effort: not every system can)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _publish(tmp: str, target: Path, replace: bool) -> None:
    """Give the complete temporary file ``tmp`` the name ``target``."""
    if replace:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # fails if target exists: nothing is ever replaced
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system
        if os.path.lexists(target):
            raise FileExistsError(str(target)) from None
        os.replace(tmp, target)


def atomic_write(target: str | os.PathLike[str], data: bytes, *, replace: bool = True,
                 mode: int = 0o644) -> None:
    """Write ``data`` to ``target`` through :func:`atomic_writer`."""
    with atomic_writer(target, replace=replace, mode=mode) as f:
        f.write(data)


def atomic_write_json(target: str | os.PathLike[str], doc: Any, *, indent: int | None = None,
                      newline: bool = False) -> None:
    """Write ``doc`` as ``json.dump`` does (and a newline if ``newline``) to ``target`` through :func:`atomic_writer`.

    A value JSON cannot hold raises ``TypeError`` or ``ValueError`` and
    leaves the target as it was.
    """
    with atomic_writer(target) as f:
        text = io.TextIOWrapper(f, encoding="utf-8")
        try:
            json.dump(doc, text, indent=indent)
            if newline:
                text.write("\n")
        finally:
            text.detach()  # flushes into f, which atomic_writer closes

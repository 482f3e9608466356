"""Writing files whole or not at all.

Every file retro writes for a user (ROMs, cores, movies, save states) goes
through :func:`atomic_writer`: the bytes go to a temporary file in the
target's folder (``.<name>.<random>.part``), which is renamed over the
target only once it is complete. A reader of the target sees the old file or
the new one, never part of one; an exception while writing leaves the target
as it was and removes the temporary file.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

__all__ = ["atomic_write", "atomic_writer", "read_regular", "MAX_TEXT_BYTES"]

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
    exception. With ``replace=False`` an existing ``target`` is never
    replaced: ``FileExistsError``, before anything is written if it already
    exists, and also if it appears while the block runs.
    """
    target = Path(target)
    if not replace and os.path.lexists(target):
        raise FileExistsError(f"{target} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix="." + target.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.chmod(tmp, mode)
        _publish(tmp, target, replace)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


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

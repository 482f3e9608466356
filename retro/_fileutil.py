"""Writing files whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(target: Path, data: bytes, *, replace: bool = True, mode: int = 0o644) -> None:
    """Write ``target`` through a temporary file in its folder, so it appears complete or not at all.

    With ``replace=False`` an existing ``target`` is never replaced: ``FileExistsError``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix="." + target.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
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
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass

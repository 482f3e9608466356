"""Comparing save states of cores that store host pointers in them.

Some cores serialise structures that hold pointers into the emulator's own
memory (Genesis Plus GX: about 20 of them in its sound and cartridge state,
162 bytes in all for a Genesis game). Those bytes depend on where the core
copy and its buffers happen to be in the process, so two emulators that ran
the same frames, in one process or in two, give states that differ there and
nowhere else. :func:`host_pointer_spans` tells such a pair apart from states
that really differ.
"""

from __future__ import annotations

import numpy as np

__all__ = ["host_pointer_spans", "mask_host_pointers", "POINTER_SIZE"]

POINTER_SIZE = 8
#: User-space addresses on 64-bit Linux lie below this (the canonical lower half).
_USER_SPACE_END = 1 << 47
#: Address-space layout randomisation moves mappings by whole pages.
_PAGE_MASK = 0xFFF


def _pointer_like(a: int, b: int) -> bool:
    """Both values are user-space addresses at the same offset in their pages."""
    return (0x10000 <= a < _USER_SPACE_END and 0x10000 <= b < _USER_SPACE_END
            and a & _PAGE_MASK == b & _PAGE_MASK)


def host_pointer_spans(a: bytes, b: bytes) -> list[tuple[int, int]] | None:
    """Where ``a`` and ``b`` differ only by host pointers: the ``(offset, 8)`` spans.

    Every byte that differs must lie in an 8-byte little-endian word (at any
    alignment: cores pack their structures) that holds, in both states, a
    user-space address with the same offset within its page. Returns ``[]``
    for identical states and ``None`` when they differ anywhere else (or in
    size).
    """
    if len(a) != len(b):
        return None
    left = np.frombuffer(a, np.uint8)
    right = np.frombuffer(b, np.uint8)
    differs = left != right
    spans: list[tuple[int, int]] = []
    covered = -1  # last byte offset a span covers
    for i in np.flatnonzero(differs).tolist():
        if i <= covered:
            continue
        # of the words holding byte i that are pointers in both states, the one that
        # covers most of the differing bytes from i on (a real pointer covers them all)
        best, best_count = -1, 0
        for start in range(max(covered + 1, i - POINTER_SIZE + 1), min(i, len(a) - POINTER_SIZE) + 1):
            x = int.from_bytes(a[start:start + POINTER_SIZE], "little")
            y = int.from_bytes(b[start:start + POINTER_SIZE], "little")
            if _pointer_like(x, y):
                count = int(differs[i:start + POINTER_SIZE].sum())
                if count > best_count:
                    best, best_count = start, count
        if best < 0:
            return None
        spans.append((best, POINTER_SIZE))
        covered = best + POINTER_SIZE - 1
    return spans


#: Where 64-bit Linux maps programs, shared libraries and large allocations: at or above this address.
_MAPPED_FROM = 1 << 44


def mask_host_pointers(state: bytes) -> bytes:
    """``state`` with every 8-byte little-endian word (at any alignment) that holds an address where 64-bit
    Linux maps programs, libraries and large allocations (``2**44 <= value < 2**47``) zeroed.

    A function of the bytes alone: two states that differ only by such
    pointers give the same bytes, in any process. Game data rarely looks
    like that (two zero bytes above a byte of at least 0x10), so little else
    is masked.
    """
    b = np.frombuffer(state, np.uint8)
    n = len(b) - POINTER_SIZE + 1
    if n <= 0:
        return state
    top = _MAPPED_FROM >> 40  # the least sixth byte
    sixth = b[5:5 + n]
    starts = np.flatnonzero((b[7:7 + n] == 0) & (b[6:6 + n] == 0) & (sixth >= top) & (sixth < 0x80))
    if not starts.size:
        return state
    out = b.copy()
    out[(starts[:, None] + np.arange(POINTER_SIZE)).reshape(-1)] = 0
    return out.tobytes()

"""Typed access to an emulator's RAM, through the system's memory overlay.

RAM comes as blocks, ``{start address: uint8 array}``, in the host order the
core keeps it (Gym Retro's layout; see ``RetroEmulator.memory_blocks``). Some
systems keep RAM in a different order than the game sees it: the Genesis core
stores 16-bit words in host order, while the 68000 reads them big-endian.
A system's ``overlay`` ``[backing, presented, width]`` (Genesis: ``["=", ">",
2]``) says so, and typed access (:meth:`Memory.extract`, variables, search)
goes through it; :attr:`Memory.blocks` shows the raw bytes.

An address is absolute (``0xFF025A``); one that no block holds raises
``IndexError('No known mapping')``.

For speed, :meth:`Memory.reader` and :meth:`Memory.writer` compile an
(address, type) pair once into a closure that reads only that variable's
bytes, with one ``struct`` call when they are contiguous in RAM. Closures hold
views of the blocks of the moment: after :attr:`Memory.generation` changes
(the emulator power-cycled and :meth:`Memory.refresh` re-took its blocks),
compile them again.

For many variables at once, :meth:`Memory.value_table` compiles them into a
:class:`retro._values.ValueTable`, which reads them all in one C loop (one
Python call for all of them instead of one closure call each).
"""

from __future__ import annotations

import bisect
import struct
from operator import itemgetter
from typing import Any, Callable, Iterator, Literal, Mapping, Optional, Sequence

import numpy as np

from retro._values import ValueTable
from retro.data.types import DataType, parse_type

__all__ = ["Memory", "Overlay", "NO_MAPPING", "ValueSpec"]

NO_MAPPING = "No known mapping"
ALL_ONES = (1 << 64) - 1

#: ``(locations, format, mask)``: a value as :class:`retro._values.ValueTable` reads it
ValueSpec = tuple[list[tuple[int, int]], str, Optional[int]]

Reader = Callable[[], int]
Writer = Callable[[int], None]


class Overlay:
    """Where each presented byte of a RAM word lives in the backing store.

    ``Overlay("=", ">", 2)`` on a little-endian host swaps the two bytes of
    every 16-bit word: presented byte ``a`` is stored at ``a ^ 1``. Words are
    aligned to the start of their block, as in Gym Retro.
    """

    __slots__ = ("backing", "presented", "width", "perm", "identity")

    def __init__(self, backing: str = "=", presented: str = "=", width: int = 1) -> None:
        width = int(width)
        if width < 1 or width > 8:
            raise ValueError(f"overlay width must be 1-8, not {width}")
        self.backing = str(backing)
        self.presented = str(presented)
        self.width = width
        back = parse_type(f"{self.backing}u{width}")
        real = parse_type(f"{self.presented}u{width}")
        sig_of_real_pos = {pos: sig for sig, pos in enumerate(real.order)}
        self.perm = tuple(back.order[sig_of_real_pos[p]] for p in range(width))
        self.identity = self.perm == tuple(range(width))

    @classmethod
    def from_spec(cls, spec: Sequence[Any] | None) -> "Overlay":
        """From a core-info ``overlay`` entry (``None``: no overlay)."""
        if not spec:
            return cls()
        return cls(str(spec[0]), str(spec[1]), int(spec[2]))

    def apply(self, block: np.ndarray) -> np.ndarray:
        """The presented bytes of a whole raw block (a copy when not identity)."""
        if self.identity:
            return block
        w = self.width
        n = len(block) - len(block) % w
        out = np.array(block, dtype=np.uint8, copy=True)
        if n:
            words = np.asarray(block[:n]).reshape(-1, w)
            out[:n] = words[:, list(self.perm)].reshape(-1)
        return out

    def spec(self) -> list[Any]:
        return [self.backing, self.presented, self.width]

    def __repr__(self) -> str:
        return f"Overlay({self.backing!r}, {self.presented!r}, {self.width})"


class Memory:
    """A view of RAM blocks with typed, overlay-aware access.

    Args:
        source: an emulator (anything with ``memory_blocks()``; its
            ``memory_generation`` is watched so views are re-taken after a
            power cycle), or a mapping ``{start address: uint8 array}``.
        overlay: the system's overlay spec, e.g. ``["=", ">", 2]``, or an
            :class:`Overlay`; ``None`` for none.

    Unlike Gym Retro, whose ``blocks`` are copies, :attr:`blocks` returns
    the live, writable views (copy them to keep a snapshot; :meth:`snapshot`
    does).
    """

    def __init__(self, source: Any = None, overlay: Sequence[Any] | Overlay | None = None) -> None:
        self.overlay = overlay if isinstance(overlay, Overlay) else Overlay.from_spec(overlay)
        self._source = source
        self._watch = source is not None and hasattr(source, "memory_blocks") \
            and hasattr(source, "memory_generation")
        self._source_generation: Any = None
        #: bumped every time the blocks are re-taken
        self.generation = 0
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._views: list[np.ndarray] = []
        self._mvs: list[memoryview] = []
        self._take_blocks()

    # -- blocks -----------------------------------------------------------------

    def _take_blocks(self) -> None:
        src = self._source
        if src is None:
            blocks: Mapping[int, np.ndarray] = {}
        elif hasattr(src, "memory_blocks"):
            if self._watch:
                self._source_generation = src.memory_generation
            blocks = src.memory_blocks()
        else:
            blocks = src
        items = sorted((int(k), v) for k, v in blocks.items())
        self._starts = [k for k, _ in items]
        self._views = [v if isinstance(v, np.ndarray) else np.frombuffer(v, dtype=np.uint8) for _, v in items]
        self._ends = [k + len(v) for k, v in zip(self._starts, self._views)]
        self._mvs = [(v if v.flags.c_contiguous else np.ascontiguousarray(v)).data for v in self._views]
        self.generation += 1

    def refresh(self) -> bool:
        """Re-take the blocks if the emulator power-cycled; True if they changed."""
        if self._watch and self._source.memory_generation != self._source_generation:
            self._take_blocks()
            return True
        return False

    @property
    def blocks(self) -> dict[int, np.ndarray]:
        """``{start: raw uint8 view}`` (live views, not copies; see the class docs)."""
        self.refresh()
        return dict(zip(self._starts, self._views))

    def snapshot(self) -> dict[int, np.ndarray]:
        """Copies of the raw blocks."""
        self.refresh()
        return {s: np.array(v, copy=True) for s, v in zip(self._starts, self._views)}

    def presented_blocks(self, raw: Mapping[int, np.ndarray] | None = None) -> dict[int, np.ndarray]:
        """Blocks as the game sees them (overlay applied; copies unless no overlay)."""
        src = self.blocks if raw is None else raw
        return {s: self.overlay.apply(v) for s, v in src.items()}

    def __len__(self) -> int:
        return sum(len(v) for v in self._views)

    def __bool__(self) -> bool:
        return bool(self._views)

    def __iter__(self) -> Iterator[int]:
        return iter(self._starts)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, int):
            return False
        try:
            self._block_index(address)
        except IndexError:
            return False
        return True

    # -- address arithmetic -------------------------------------------------------

    def _block_index(self, address: int) -> int:
        i = bisect.bisect_right(self._starts, address) - 1
        if i < 0 or address >= self._ends[i]:
            raise IndexError(NO_MAPPING)
        return i

    def _raw_location(self, address: int) -> tuple[int, int]:
        """(block index, raw offset in the block) of the presented byte at ``address``."""
        i = self._block_index(address)
        rel = address - self._starts[i]
        ov = self.overlay
        if not ov.identity:
            w = ov.width
            base = rel - rel % w
            if base + w <= len(self._views[i]):
                rel = base + ov.perm[rel % w]
        return i, rel

    def byte_locations(self, address: int, dtype: DataType) -> list[tuple[int, int]]:
        """(block index, raw offset) of each byte of a value, least significant first."""
        return [self._raw_location(address + pos) for pos in dtype.order]

    def read_byte(self, address: int) -> int:
        """The presented (overlay-corrected) byte at ``address``."""
        self.refresh()
        i, off = self._raw_location(address)
        return self._mvs[i][off]

    # -- compiled access ----------------------------------------------------------

    def raw_reader(self, address: int, dtype: DataType) -> Reader:
        """A closure returning the raw integer (byte k = significance k) of a value."""
        locs = self.byte_locations(address, dtype)
        blocks = {b for b, _ in locs}
        if len(blocks) != 1:
            mvs = self._mvs
            pairs = [(mvs[b], o, 8 * k) for k, (b, o) in enumerate(locs)]

            def read_spanning() -> int:
                raw = 0
                for mv, o, shift in pairs:
                    raw |= mv[o] << shift
                return raw
            return read_spanning
        mv = self._mvs[locs[0][0]]
        return _compile_raw(mv, [o for _, o in locs], signed=False)

    def reader(self, address: int, type: str | DataType, mask: int | None = None) -> Reader:
        """A closure returning the value of ``type`` at ``address`` (``& mask`` if given).

        Raises ``IndexError('No known mapping')`` now if any byte is unmapped.
        """
        dtype = parse_type(type)
        read = self._value_reader(address, dtype)
        if mask is None or mask == (1 << 64) - 1:
            return read

        def read_masked() -> int:
            return read() & mask
        return read_masked

    def _value_reader(self, address: int, dtype: DataType) -> Reader:
        locs = self.byte_locations(address, dtype)
        fmt = dtype.format
        if len({b for b, _ in locs}) == 1 and fmt in "iu":
            # struct decodes signed values itself when the bytes are contiguous
            fast = _compile_raw(self._mvs[locs[0][0]], [o for _, o in locs], signed=dtype.signed)
            if fmt == "u" or getattr(fast, "signed_ok", False):
                return fast
            raw_read = fast
        else:
            raw_read = self.raw_reader(address, dtype)
        if fmt == "u":
            return raw_read
        if fmt == "i":
            bits = dtype.bits
            top = 1 << (bits - 1)
            full = 1 << bits

            def read_signed() -> int:
                raw = raw_read()
                return raw - full if raw & top else raw
            return read_signed
        if dtype.width <= 2:
            from retro.data import types as _t
            table = _t._bcd_words() if fmt == "d" else _t._ln_words()

            def read_table() -> int:
                return table[raw_read()]
            return read_table
        decode = dtype.decode_raw

        def read_decoded() -> int:
            return decode(raw_read())
        return read_decoded

    def value_spec(self, address: int, type: str | DataType, mask: int | None = None) -> ValueSpec:
        """``(locations, format, mask)`` of a value, for :class:`retro._values.ValueTable`.

        Locations index :attr:`buffers`. A table built from it reads what
        ``reader(address, type, mask)`` reads (a mask of ``2**64 - 1`` means
        no mask, as there). Raises ``IndexError('No known mapping')`` if any
        byte is unmapped.
        """
        dtype = parse_type(type)
        locs = self.byte_locations(address, dtype)
        if mask is not None and mask == ALL_ONES:
            mask = None
        return locs, dtype.format, mask

    @property
    def buffers(self) -> list[memoryview]:
        """The raw blocks' buffers as readers use them, in the order locations index them."""
        return list(self._mvs)

    def value_table(self, values: Sequence[tuple[int, str | DataType, int | None]]) -> ValueTable:
        """One :class:`~retro._values.ValueTable` reading ``(address, type, mask)`` values.

        ``table.read()`` returns what the :meth:`reader` of each would. Like
        readers, the table holds the blocks of the moment: build it again
        after :attr:`generation` changes. ``IndexError('No known mapping')``
        if a value has an unmapped byte.
        """
        return ValueTable(self._mvs, [self.value_spec(a, t, m) for a, t, m in values])

    def writer(self, address: int, type: str | DataType) -> Writer:
        """A closure storing a value of ``type`` at ``address`` (wrapped to its range)."""
        dtype = parse_type(type)
        locs = self.byte_locations(address, dtype)
        targets = [(self._mvs[b], o, 8 * k) for k, (b, o) in enumerate(locs)]
        encode = dtype.encode_raw

        def write(value: int) -> None:
            raw = encode(value)
            for mv, o, shift in targets:
                mv[o] = (raw >> shift) & 255
        return write

    # -- Gym Retro's Memory API --------------------------------------------------

    def extract(self, address: int, type: str | DataType) -> int:
        """The value of ``type`` at absolute ``address``."""
        self.refresh()
        return self._value_reader(int(address), parse_type(type))()

    def assign(self, address: int, type: str | DataType, value: int) -> None:
        """Store ``value`` as ``type`` at absolute ``address``."""
        self.refresh()
        self.writer(int(address), type)(int(value))

    def __getitem__(self, var: Mapping[str, Any]) -> int:
        value = self.extract(var["address"], var["type"])
        mask = var.get("mask")
        return value & mask if mask is not None else value

    def __setitem__(self, var: Mapping[str, Any], value: int) -> None:
        self.assign(var["address"], var["type"], value)

    def __repr__(self) -> str:
        spans = ", ".join(f"{s:#x}+{len(v)}" for s, v in zip(self._starts, self._views))
        return f"<Memory [{spans}] {self.overlay!r}>"


_STRUCT_CODES = {1: "b", 2: "h", 4: "i", 8: "q"}


def _compile_raw(mv: memoryview, offsets: list[int], signed: bool) -> Reader:
    """A closure reading bytes ``mv[offsets[k]]`` (significance k) as one integer.

    With ``signed`` and contiguous bytes of width 1, 2, 4 or 8 the closure
    returns the two's-complement value directly and carries
    ``signed_ok = True``; otherwise it returns the unsigned raw integer.
    """
    n = len(offsets)
    lo = min(offsets)
    if n == 1:
        off = offsets[0]

        def read_byte() -> int:
            return mv[off]
        return read_byte
    ascending = offsets == list(range(lo, lo + n))
    descending = offsets == list(range(lo + n - 1, lo - 1, -1))
    if ascending or descending:
        order = "<" if ascending else ">"
        if n in _STRUCT_CODES:
            code = _STRUCT_CODES[n]
            unpack = struct.Struct(order + (code if signed else code.upper())).unpack_from

            def read_struct() -> int:
                return unpack(mv, lo)[0]
            if signed:
                read_struct.signed_ok = True  # type: ignore[attr-defined]
            return read_struct
        hi = lo + n
        byteorder: Literal["little", "big"] = "little" if ascending else "big"

        def read_slice() -> int:
            return int.from_bytes(mv[lo:hi], byteorder)
        return read_slice
    words = _word_layout(offsets)
    if words is not None:
        base, fmt, shifts = words
        unpack_words = struct.Struct(fmt).unpack_from
        if len(shifts) == 2:
            s0, s1 = shifts

            def read_two_words() -> int:
                w0, w1 = unpack_words(mv, base)
                return (w0 << s0) | (w1 << s1)
            return read_two_words

        def read_words() -> int:
            raw = 0
            for w, s in zip(unpack_words(mv, base), shifts):
                raw |= w << s
            return raw
        return read_words
    pick = itemgetter(*offsets)

    def read_gather() -> int:
        return int.from_bytes(bytes(pick(mv)), "little")
    return read_gather


def _word_layout(offsets: list[int]) -> tuple[int, str, tuple[int, ...]] | None:
    """If the bytes form 16-bit words of one byte order laid side by side, how to read them.

    That is the layout of a big-endian 4- or 8-byte value on the Genesis
    (word-swapped by the overlay). Returns (first offset, struct format,
    shift of each word read in address order), or None.
    """
    n = len(offsets)
    if n % 2:
        return None
    word_at: dict[int, int] = {}
    orders = set()
    for j in range(n // 2):
        a, b = offsets[2 * j], offsets[2 * j + 1]
        if b == a + 1:
            orders.add("<")
            start = a
        elif a == b + 1:
            orders.add(">")
            start = b
        else:
            return None
        word_at[start] = 16 * j
    if len(orders) != 1:
        return None
    lo = min(word_at)
    starts = sorted(word_at)
    if starts != list(range(lo, lo + n, 2)):
        return None
    return lo, orders.pop() + "H" * (n // 2), tuple(word_at[s] for s in starts)

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

Every read decodes through :class:`retro._values.ValueTable`, the one
decoder of the type grammar: this module only works out where each byte of
a value is (:meth:`Memory.byte_locations`: the type's byte order, then the
overlay, across adjacent blocks). :meth:`Memory.value_table` compiles many
(address, type, mask) values into one table that reads them all in one C
loop; :meth:`Memory.reader` is a one-value table, and :meth:`Memory.writer`
a closure that stores a value's bytes. Tables and writers hold the blocks of
the moment: after :attr:`Memory.generation` changes (the emulator
power-cycled and :meth:`Memory.refresh` re-took its blocks), compile them
again.
"""

from __future__ import annotations

import bisect
from functools import partial
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

import numpy as np

from retro._values import ValueTable
from retro.errors import UnmappedAddressError
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
        """The overlay as ``systems/*.json`` writes it: ``[backing, presented, width]``."""
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
            raise UnmappedAddressError(NO_MAPPING)
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
        table = ValueTable(self._mvs, [(self.byte_locations(address, dtype), "u", None)])
        return partial(table.value, 0)

    def reader(self, address: int, type: str | DataType, mask: int | None = None) -> Reader:
        """A closure returning the value of ``type`` at ``address`` (``& mask`` if given).

        The closure reads through a one-value :class:`~retro._values.ValueTable`.
        Raises ``IndexError('No known mapping')`` now if any byte is unmapped.
        """
        return partial(self.value_table([(address, type, mask)]).value, 0)

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
        return self.value_table([(int(address), type, None)]).value(0)

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

"""Memory: address mapping, the overlay, compiled readers and writers, re-taking views."""

from __future__ import annotations

import sys
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from retro.data.memory import Memory, Overlay
from retro.data.types import parse_type
from tests.test_data_types import ALL_TYPES, reference_decode


# -- a reference model of the overlay, from the module docs ------------------------------------

def _order(endian: str) -> str:
    if endian == "=":
        return "<" if sys.byteorder == "little" else ">"
    return endian


def reference_presented(raw: Sequence[int], overlay: Optional[Sequence[Any]]) -> list[int]:
    """The bytes a game sees: every whole word from the block's start, in the presented order."""
    out = list(raw)
    if overlay is None:
        return out
    backing, presented, width = overlay
    if _order(backing) == _order(presented):
        return out
    for base in range(0, len(out) - len(out) % width, width):
        out[base:base + width] = reversed(out[base:base + width])
    return out


def reference_read(blocks: Mapping[int, Sequence[int]], overlay: Optional[Sequence[Any]], address: int,
                   spec: str, mask: Optional[int] = None) -> Optional[int]:
    """The value at ``address`` (None if a byte is in no block), masked unless the mask is all ones."""
    seen = {start + k: b for start, block in blocks.items()
            for k, b in enumerate(reference_presented(block, overlay))}
    width = int(spec[-1])
    if any(address + k not in seen for k in range(width)):
        return None
    value = reference_decode(spec, bytes(seen[address + k] for k in range(width)))
    return value if mask is None or mask == (1 << 64) - 1 else value & mask


class FakeEmulator:
    """Just enough of RetroEmulator for Memory: blocks and a power-cycle counter."""

    def __init__(self) -> None:
        self.memory_generation = 0
        self.ram = np.zeros(64, dtype=np.uint8)

    def memory_blocks(self) -> dict[int, np.ndarray]:
        return {0xFF0000: self.ram}

    def power_cycle(self) -> None:
        self.ram = np.zeros(64, dtype=np.uint8)  # a new buffer, as a reloaded core has
        self.memory_generation += 1


def test_unmapped_addresses_raise_index_error() -> None:
    mem = Memory({0x80: np.zeros(128, dtype=np.uint8), 0x1000: np.zeros(16, dtype=np.uint8)})
    for address in (0x7F, 0x100, 0x0FFF, 0x1010, 0):
        with pytest.raises(IndexError, match="No known mapping"):
            mem.extract(address, "|u1")
    with pytest.raises(IndexError, match="No known mapping"):
        mem.extract(0x100E, ">u4")   # runs off the end of its block
    assert 0x80 in mem and 0x100 not in mem
    with pytest.raises(IndexError):
        Memory().extract(0, "|u1")


def test_values_may_span_adjacent_blocks() -> None:
    a = np.zeros(4, dtype=np.uint8)
    b = np.zeros(4, dtype=np.uint8)
    mem = Memory({0: a, 4: b})
    mem.assign(2, ">u4", 0x01020304)
    assert list(a[2:]) == [1, 2] and list(b[:2]) == [3, 4]
    assert mem.extract(2, ">u4") == 0x01020304


def test_genesis_overlay_presents_big_endian_words() -> None:
    raw = np.zeros(8, dtype=np.uint8)
    mem = Memory({0xFF0000: raw}, overlay=["=", ">", 2])
    mem.assign(0xFF0000, ">u2", 0x1234)
    assert list(raw[:2]) == [0x34, 0x12]           # host-order word in the raw block
    assert mem.extract(0xFF0000, "|u1") == 0x12     # the byte the 68000 sees first
    assert mem.extract(0xFF0001, "|u1") == 0x34
    assert mem.read_byte(0xFF0000) == 0x12
    mem.assign(0xFF0004, ">u4", 0x01020304)
    assert list(raw[4:8]) == [2, 1, 4, 3]
    assert mem.extract(0xFF0004, ">u4") == 0x01020304
    assert mem.blocks[0xFF0000] is raw or np.shares_memory(mem.blocks[0xFF0000], raw)
    presented = mem.presented_blocks()[0xFF0000]
    assert list(presented[:2]) == [0x12, 0x34]


def test_overlay_permutations() -> None:
    assert Overlay("=", ">", 2).perm == (1, 0)
    assert Overlay("=", "=", 2).identity
    assert Overlay(">", ">", 4).identity
    assert Overlay("<", ">", 4).perm == (3, 2, 1, 0)
    assert Overlay.from_spec(None).identity


@given(st.sampled_from(ALL_TYPES), st.integers(0, 8), st.sampled_from([None, ["=", ">", 2]]), st.data())
def test_readers_and_writers_match_the_reference_model(spec: str, address: int, overlay: Any,
                                                     data: st.DataObject) -> None:
    t = parse_type(spec)
    contents = data.draw(st.binary(min_size=24, max_size=24))
    raw = np.frombuffer(contents, dtype=np.uint8).copy()
    mem = Memory({0x100: raw}, overlay=overlay)
    assert list(mem.presented_blocks()[0x100]) == reference_presented(contents, overlay)
    expected = reference_read({0x100: contents}, overlay, 0x100 + address, spec)
    assert mem.reader(0x100 + address, spec)() == expected
    assert mem.extract(0x100 + address, spec) == expected
    assert mem.raw_reader(0x100 + address, t)() == \
        reference_read({0x100: contents}, overlay, 0x100 + address, spec[:-2] + "u" + spec[-1])
    value = data.draw(st.integers(*t.value_range))
    mem.writer(0x100 + address, spec)(value)
    assert mem.extract(0x100 + address, spec) == value
    assert reference_read({0x100: bytes(raw)}, overlay, 0x100 + address, spec) == value


def test_mask_applies_to_reads_only() -> None:
    raw = np.zeros(4, dtype=np.uint8)
    mem = Memory({0x80: raw})
    raw[0] = 0xFF
    assert mem.reader(0x80, "|u1", mask=7)() == 7
    assert mem[{"address": 0x80, "type": "|u1", "mask": 0x0F}] == 0x0F
    mem[{"address": 0x80, "type": "|u1"}] = 0x42
    assert raw[0] == 0x42


def test_views_are_retaken_after_a_power_cycle() -> None:
    em = FakeEmulator()
    mem = Memory(em)
    mem.assign(0xFF0000, "|u1", 7)
    generation = mem.generation
    em.power_cycle()
    em.ram[0] = 9
    assert mem.extract(0xFF0000, "|u1") == 9
    assert mem.generation == generation + 1
    assert mem.blocks[0xFF0000] is em.ram

"""retro._values, the one decoder of the type grammar (ValueTable, decode, decode_many), and GameData on top.

Every value is checked against the reference model written in the tests
(``reference_decode`` of tests/test_data_types.py, ``reference_read`` of
tests/test_data_memory.py), not against another reader of retro's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retro._values import ValueTable, decode, decode_many
from retro.data.gamedata import GameData
from retro.data.memory import Memory
from retro.data.search import decode_block
from retro.data.types import bcd_decode, ln_bcd_decode, parse_type
from retro.errors import IntegrationError
from tests.test_data_memory import reference_read
from tests.test_data_types import ALL_TYPES, reference_decode

OVERLAYS = [None, ["=", ">", 2], ["<", ">", 4]]

masks = st.one_of(
    st.none(),
    st.sampled_from([0, 1, 0xFF, 0x8000, (1 << 63) - 1, 1 << 63, (1 << 64) - 1, (1 << 64) - 2,
                     -1, -2, -(1 << 63)]),
    st.integers(0, (1 << 64) - 1),
    st.integers(-(1 << 63), -1),
    # outside [-2**63, 2**64): applied with Python's & (the slow path)
    st.integers(1 << 64, 1 << 70),
    st.integers(-(1 << 70), -(1 << 63) - 1),
)


def _blocks(data: st.DataObject) -> dict[int, np.ndarray]:
    """One to three blocks, the first two adjacent (values may span them), random sizes and bytes."""
    sizes = data.draw(st.lists(st.integers(1, 13), min_size=1, max_size=3), label="sizes")
    blocks = {}
    start = 0x100
    for k, size in enumerate(sizes):
        contents = data.draw(st.binary(min_size=size, max_size=size), label=f"block {k}")
        blocks[start] = np.frombuffer(contents, dtype=np.uint8).copy()
        start += size + (0 if k == 0 else 3)  # a gap after the second block
    return blocks


@settings(max_examples=400)
@given(st.sampled_from(OVERLAYS), st.data())
def test_tables_and_readers_match_the_reference_model(overlay: Any, data: st.DataObject) -> None:
    blocks = _blocks(data)
    mem = Memory(blocks, overlay=overlay)
    lo = min(blocks)
    hi = max(s + len(b) for s, b in blocks.items())
    values = data.draw(st.lists(st.tuples(st.integers(lo - 2, hi), st.sampled_from(ALL_TYPES), masks),
                                min_size=0, max_size=12), label="values")
    mapped = []
    for address, spec, mask in values:
        if reference_read(blocks, overlay, address, spec) is None:
            with pytest.raises(IndexError, match="No known mapping"):
                mem.reader(address, spec, mask)
            with pytest.raises(IndexError, match="No known mapping"):
                mem.value_table([(address, spec, mask)])
            with pytest.raises(IndexError, match="No known mapping"):
                mem.extract(address, spec)
            continue
        mapped.append((address, spec, mask))
    table = mem.value_table(mapped)
    assert len(table) == len(mapped)
    readers = [mem.reader(a, t, m) for a, t, m in mapped]
    for _ in range(2):
        expected = [reference_read(blocks, overlay, a, t, m) for a, t, m in mapped]
        got = table.read()
        assert got == expected
        assert [table.value(i) for i in range(len(table))] == expected
        assert [read() for read in readers] == expected
        assert [mem.extract(a, t) for a, t, _ in mapped] == \
            [reference_read(blocks, overlay, a, t) for a, t, _ in mapped]
        assert all(type(v) is int for v in got)
        # the table reads live memory: change every byte and read again
        for block in blocks.values():
            block[:] = np.frombuffer(data.draw(st.binary(min_size=len(block), max_size=len(block))),
                                     dtype=np.uint8)


@given(st.sampled_from(ALL_TYPES), st.data())
def test_every_way_in_decodes_as_the_reference_model(spec: str, data: st.DataObject) -> None:
    """Table, decode, DataType.decode and decode_raw, on stored bytes at the type's byte order."""
    t = parse_type(spec)
    stored = data.draw(st.binary(min_size=t.width, max_size=t.width))
    expected = reference_decode(spec, stored)
    locations = [(0, pos) for pos in t.order]
    assert ValueTable([stored], [(locations, t.format, None)]).read() == [expected]
    assert decode(stored, t.order, t.format) == expected
    assert t.decode(stored) == expected
    raw = int.from_bytes(bytes(stored[pos] for pos in t.order), "little")
    assert t.decode_raw(raw) == expected
    assert t.decode_raw(raw | data.draw(st.integers(0, 255)) << (8 * t.width)) == expected  # bytes past width
    if t.format == "d":
        assert bcd_decode(raw, t.width) == expected
    if t.format == "n":
        assert ln_bcd_decode(raw, t.width) == expected


@settings(max_examples=300)
@given(st.sampled_from(ALL_TYPES), st.binary(max_size=40), st.data())
def test_block_decoding_matches_the_reference_model(spec: str, block: bytes, data: st.DataObject) -> None:
    """decode_block (memory search): every offset, and chosen offsets, as the reference model reads them."""
    t = parse_type(spec)
    arr = np.frombuffer(block, dtype=np.uint8)
    every = decode_block(arr, t)
    count = max(len(block) - t.width + 1, 0)
    assert every.tolist() == [reference_decode(spec, block[i:i + t.width]) for i in range(count)]
    assert every.dtype == (np.uint64 if spec[-2:] == "u8" else np.int64)
    if count:
        offsets = np.array(data.draw(st.lists(st.integers(0, count - 1), max_size=10)), dtype=np.int64)
        assert decode_block(arr, t, offsets).tolist() == \
            [reference_decode(spec, block[i:i + t.width]) for i in offsets]
        with pytest.raises(IndexError):
            decode_block(arr, t, np.array([count], dtype=np.int64))


def test_single_and_block_decoders_reject_bad_input() -> None:
    with pytest.raises(IndexError, match="position 2"):
        decode(b"ab", [2], "u")
    with pytest.raises(ValueError, match="width 0"):
        decode(b"ab", [], "u")
    with pytest.raises(ValueError, match="format 'x'"):
        decode(b"ab", [0], "x")
    with pytest.raises(ValueError, match="unsigned bytes"):
        decode(np.zeros(2, dtype=np.uint16), [0], "u")
    with pytest.raises(ValueError, match="needs 2 bytes"):
        parse_type(">u2").decode(b"abc")
    with pytest.raises(IndexError):
        decode_many(np.zeros(4, dtype=np.uint8), [0, 1], "u", np.empty(4, dtype=np.int64))
    with pytest.raises(ValueError, match="3 offsets for 2 values"):
        decode_many(np.zeros(4, dtype=np.uint8), [0], "u", np.empty(2, dtype=np.int64),
                    np.zeros(3, dtype=np.int64))
    with pytest.raises(IndexError):
        ValueTable([b"a"], [([(0, 0)], "u", None)]).value(1)


def test_unsigned_8_byte_values_are_positive() -> None:
    buf = np.array([0xFF] * 7 + [0x80] + [0] * 7 + [0x80], dtype=np.uint8)
    little = [(0, k) for k in range(8)]
    table = ValueTable([buf], [
        (little, "u", None),
        ([(0, 8 + k) for k in range(8)], "u", None),
        (little, "i", None),
        (little, "u", 1 << 63),
        (little, "i", (1 << 64) - 1),   # applied literally: Python's -x & (2**64 - 1)
    ])
    signed = (0x80FFFFFFFFFFFFFF - (1 << 64))
    assert table.read() == [0x80FFFFFFFFFFFFFF, 1 << 63, signed, 1 << 63, signed & ((1 << 64) - 1)]
    assert table.read()[0] > 0


def test_signed_values_and_masks_follow_python_semantics() -> None:
    buf = bytes([0xFE, 0xFF, 0x7F])
    for mask in (None, 0xFF, 0x0F, -1, -16, (1 << 63), 1 << 66, -(1 << 66), 0):
        table = ValueTable([buf], [([(0, 0)], "i", mask), ([(0, 0), (0, 1)], "i", mask),
                                   ([(0, 2)], "i", mask)])
        expect = [-2, -2, 0x7F]
        if mask is not None:
            expect = [v & mask for v in expect]
        assert table.read() == expect, mask


def test_bcd_nibbles_read_mod_10() -> None:
    buf = bytes([0x12, 0x34, 0xAB, 0x07, 0xF9])
    table = ValueTable([buf], [
        ([(0, 1), (0, 0)], "d", None),            # >d2 at 0: 1234
        ([(0, 2)], "d", None),                    # 0xAB: digits 0, 1
        ([(0, 4), (0, 3)], "n", None),            # >n2: 7, then 0xF9 -> 9
        ([(0, k) for k in range(5)], "d", 0xFFFF),
    ])
    assert table.read() == [1234, 1, 79, (3412 + 1 * 10000 + 7 * 10 ** 6 + 59 * 10 ** 8) & 0xFFFF]


def test_buffers_of_every_kind() -> None:
    raw = np.arange(16, dtype=np.uint8)
    readonly = raw.copy()
    readonly.flags.writeable = False
    strided = raw[::2]                     # 0, 2, 4, ...
    buffers = [raw, readonly, raw.data, bytes(raw), bytearray(raw), strided]
    specs = [([(i, 3)], "u", None) for i in range(5)] + [([(5, 3)], "u", None)]
    table = ValueTable(buffers, specs)
    assert table.read() == [3, 3, 3, 3, 3, 6]
    raw[3] = 99
    assert table.read() == [99, 3, 99, 3, 3, 6]
    assert ValueTable([], []).read() == []
    assert ValueTable(buffers, []).read() == []


def test_table_keeps_its_buffers_alive() -> None:
    table = ValueTable([np.full(4, 7, dtype=np.uint8)], [([(0, 3)], "u", None)])
    np.zeros(1 << 16, dtype=np.uint8)  # churn the allocator
    assert table.read() == [7]
    ram = bytearray(4)
    keep = ValueTable([ram], [([(0, 0)], "u", None)])
    with pytest.raises(BufferError):
        ram.extend(bytes(1 << 20))           # the table holds a buffer export: no reallocation
    assert keep.read() == [0]
    del keep
    ram.extend(bytes(1 << 20))               # released with the table


@pytest.mark.parametrize("buffers,spec,error,match", [
    ([b"ab"], ([(1, 0)], "u", None), IndexError, "buffer index 1"),
    ([b"ab"], ([(-1, 0)], "u", None), IndexError, "buffer index -1"),
    ([b"ab"], ([(0, 2)], "u", None), IndexError, "offset 2"),
    ([b"ab"], ([(0, -1)], "u", None), IndexError, "offset -1"),
    ([b""], ([(0, 0)], "u", None), IndexError, "offset 0"),
    ([b"ab"], ([], "u", None), ValueError, "width 0"),
    ([bytes(9)], ([(0, k) for k in range(9)], "u", None), ValueError, "width 9"),
    ([b"ab"], ([(0, 0)], "x", None), ValueError, "format 'x'"),
    ([b"ab"], ([(0, 0)], "", None), ValueError, "format"),
    ([b"ab"], ([(0, 0)], "u", 1.5), TypeError, None),
    ([b"ab"], ([(0, 0)], "u"), ValueError, None),
    ([np.zeros(4, dtype=np.uint16)], ([(0, 0)], "u", None), ValueError, None),
    ([np.zeros((2, 2), dtype=np.uint8)], ([(0, 0)], "u", None), ValueError, None),
    ([object()], ([(0, 0)], "u", None), TypeError, None),
])
def test_bad_specs_are_rejected(buffers: list[Any], spec: Any, error: type, match: Optional[str]) -> None:
    with pytest.raises(error, match=match):
        ValueTable(buffers, [([(0, 0)], "u", None), spec])


# -- GameData reads through tables --------------------------------------------------------------

class FakeEmulator:
    """Just enough of RetroEmulator for GameData: RAM blocks and a power-cycle counter."""

    def __init__(self) -> None:
        self.memory_generation = 0
        self.ram = np.zeros(32, dtype=np.uint8)
        self.more = np.zeros(8, dtype=np.uint8)

    def memory_blocks(self) -> dict[int, np.ndarray]:
        return {0x1000: self.ram, 0x1020: self.more}

    def power_cycle(self) -> None:
        self.ram = np.zeros(32, dtype=np.uint8)
        self.more = np.zeros(8, dtype=np.uint8)
        self.memory_generation += 1


VARIABLES: dict[str, dict[str, Any]] = {
    "score": {"address": 0x1000, "type": ">d3"},
    "lives": {"address": 0x1004, "type": "|u1"},
    "x": {"address": 0x1006, "type": "<i2", "mask": 0xFFF},
    "spans": {"address": 0x101E, "type": ">u4"},           # two bytes in each block
    "wide": {"address": 0x1008, "type": "<>u8"},
    "masked_all": {"address": 0x1010, "type": "<i2", "mask": (1 << 64) - 1},
    "off_map": {"address": 0x2000, "type": "|u1"},
}


def _gamedata(tmp_path: Path, scenario: dict[str, Any], variables: Optional[dict[str, Any]] = None
              ) -> tuple[FakeEmulator, GameData]:
    (tmp_path / "data.json").write_text(json.dumps({"info": variables or VARIABLES}))
    (tmp_path / "scenario.json").write_text(json.dumps(scenario))
    data = GameData(data=tmp_path / "data.json", scenario=tmp_path / "scenario.json")
    em = FakeEmulator()
    data.configure(em)
    data.reset()
    return em, data


SCENARIO = {
    "reward": {"variables": {"score": {"reward": 1.0}, "x": {"measurement": "absolute", "reward": 0.5}}},
    "done": {"variables": {"lives": {"op": "zero"}}},
}


def test_lookup_all_and_update_ram(tmp_path: Path) -> None:
    em, data = _gamedata(tmp_path, SCENARIO)
    rng = np.random.default_rng(1)
    for frame in range(20):
        em.ram[:] = rng.integers(0, 256, size=32, dtype=np.uint8)
        em.more[:] = rng.integers(0, 256, size=8, dtype=np.uint8)
        em.ram[4] = frame < 19                     # lives: 0 on the last frame
        blocks = {0x1000: bytes(em.ram), 0x1020: bytes(em.more)}
        expected = {n: reference_read(blocks, None, v["address"], v["type"], v.get("mask"))
                    for n, v in VARIABLES.items() if n != "off_map"}
        assert {n: data.lookup_value(n) for n in expected} == expected
        assert data.lookup_all() == expected
        assert list(data.lookup_all()) == [n for n in VARIABLES if n != "off_map"]
        assert (expected["masked_all"] < 0) == (em.ram[0x11] >= 0x80)  # 2**64 - 1 means no mask
        data.update_ram()
        assert data.is_done() == (frame == 19)
    assert data.scenario.frame == 20
    with pytest.raises(IndexError, match="No known mapping"):
        data.lookup_value("off_map")


def test_rewards_use_deltas_and_custom_shadowing(tmp_path: Path) -> None:
    em, data = _gamedata(tmp_path, SCENARIO)
    em.ram[4] = 3
    em.ram[0:3] = [0x00, 0x01, 0x00]              # score 100
    em.ram[6:8] = [0x10, 0x00]                    # x 16
    data.update_ram()
    assert data.current_reward() == 0 + 0.5 * 16  # first frame: delta 0
    em.ram[0:3] = [0x00, 0x01, 0x25]
    data.update_ram()
    assert data.current_reward() == 25 + 0.5 * 16
    data.set_value("x", -1)                       # writes memory; the mask still applies on reads
    assert data.lookup_value("x") == 0xFFF
    data["lives"] = 0
    data.update_ram()
    assert data.is_done()
    data.reset()
    lives = data.get_variable("lives")
    data.remove_variable("lives")
    data.set_value("lives", 5)                    # not a variable now: a custom variable ...
    data.set_variable("lives", lives)             # ... that shadows the variable
    data.update_ram()
    assert not data.is_done()
    assert data.lookup_all()["lives"] == 5
    assert data.lookup_value("lives") == 5


def test_unknown_and_unmapped_watched_variables(tmp_path: Path) -> None:
    em, data = _gamedata(tmp_path, {"reward": {"variables": {
        "bonus": {"reward": 1.0, "measurement": "absolute"}, "lives": {"reward": 2.0}}}})
    em.ram[4] = 1
    with pytest.raises(IntegrationError, match="'bonus'"):
        data.update_ram()
    data.reset()
    data.set_value("bonus", 4)                    # not a variable: a custom variable
    data.update_ram()
    em.ram[4] = 2
    data.set_value("bonus", 7)
    data.update_ram()
    assert data.current_reward() == 7 * 1.0 + 1 * 2.0

    em, data = _gamedata(tmp_path, {"reward": {"variables": {"off_map": {"reward": 1.0},
                                                               "bonus": {"reward": 1.0}}}})
    with pytest.raises(IndexError, match="No known mapping"):
        data.update_ram()
    assert data.scenario.frame == 0


def test_tables_follow_power_cycles_and_redefinitions(tmp_path: Path) -> None:
    em, data = _gamedata(tmp_path, SCENARIO)
    em.ram[4] = 3
    assert data.lookup_all()["lives"] == 3
    em.power_cycle()
    em.ram[4] = 9
    assert data.lookup_all()["lives"] == 9
    data.update_ram()
    assert not data.is_done()
    data.set_variable("lives", {"address": 0x1005, "type": "|u1"})
    assert data.lookup_all()["lives"] == 0
    data.update_ram()
    assert data.is_done()
    data.remove_variable("score")
    assert "score" not in data.lookup_all()

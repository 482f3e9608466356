"""Memory search on synthetic RAM: encodings, intersection, delta search, a brute-force model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retro.data.memory import Memory
from retro.data.search import DEFAULT_TYPES, Search, value_variants
from retro.data.types import parse_type
from tests.test_data_types import reference_decode

GENESIS_TYPES = ["|u1", ">u2", ">u4", "|i1", ">i2", ">i4", "|d1", ">d2", ">d4", "<d4", ">d6", ">d8",
                 ">n4", ">n6", ">n8"]


def ram(size: int = 256, start: int = 0x100) -> tuple[Memory, np.ndarray]:
    block = np.zeros(size, dtype=np.uint8)
    return Memory({start: block}), block


def entry(search: Search, address: int, key: tuple[int, int, int] = (1, 1, 0)) -> list[str]:
    for (addr, *k), types in search.typed_results():
        if addr == address and tuple(k) == key:
            return types
    return []


def test_default_candidate_types_are_gym_retros() -> None:
    assert len(DEFAULT_TYPES) == 4 + 4 * 7 + 3 * 3 + 3
    assert DEFAULT_TYPES[:4] == (">d8", ">n8", ">d6", ">n6")
    assert "><n4" in DEFAULT_TYPES and "=d2" in DEFAULT_TYPES and "|d1" in DEFAULT_TYPES


def test_value_variants() -> None:
    v = value_variants(30)
    assert v[0] == (1, 1, 0)
    assert (1, 10, 0) in v and (2, 1, 0) in v and (4, 1, 0) in v
    assert (1, 1, 1) in v and (1, 1, -1) in v
    assert (1, 16, 0) in v          # BCD 0x30 without its zero nibble
    assert (1, 256, 0) in v         # low-nibble BCD 0x0300 without its zero byte
    assert (1, 16, 0) in value_variants(0x20)
    assert value_variants(0) == [(1, 1, 0), (1, 1, 1), (1, 1, -1)]


def test_plain_value_in_every_width() -> None:
    mem, block = ram()
    mem.assign(0x110, ">u2", 1234)
    mem.assign(0x140, "<u4", 1234)
    mem.assign(0x180, ">u8", 1234)   # small values in wide types are found too
    s = Search(["|u1", ">u2", "<u4", ">u8", ">i2"])
    s.search(mem, 1234)
    assert entry(s, 0x110) == [">i2", ">u2"]
    assert "<u4" in entry(s, 0x140)
    assert ">u8" in entry(s, 0x180)


def test_encodings_bcd_scaled_multiplied_biased() -> None:
    mem, _ = ram()
    mem.assign(0x100, ">d2", 1234)      # BCD 12 34
    mem.assign(0x110, "|u1", 123)       # score kept in tens
    mem.assign(0x120, "|u1", 2 * 50)    # doubled
    mem.assign(0x130, "|u1", 51)        # off by one
    mem.assign(0x140, "|d1", 12)        # BCD tens digit pair of 120
    mem.assign(0x150, "<n4", 1234)      # one digit a byte
    s = Search(GENESIS_TYPES + ["<n4"])
    s.search(mem, 1234)
    assert ">d2" in entry(s, 0x100)
    assert "<n4" in entry(s, 0x150)
    s = Search(GENESIS_TYPES)
    s.search(mem, 1230)
    assert "|u1" in entry(s, 0x110, (1, 10, 0))
    s = Search(GENESIS_TYPES)
    s.search(mem, 50)
    assert "|u1" in entry(s, 0x120, (2, 1, 0))
    assert "|u1" in entry(s, 0x130, (1, 1, 1))
    s = Search(GENESIS_TYPES)
    s.search(mem, 120)
    assert "|d1" in entry(s, 0x140, (1, 16, 0))     # 16 = one BCD digit = x10 for d types
    assert "|u1" not in entry(s, 0x140, (1, 16, 0))  # 12 * 16 != 120 for a binary type


def test_negative_values_match_signed_types_only() -> None:
    mem, _ = ram()
    mem.assign(0x100, ">i2", -5)
    s = Search(GENESIS_TYPES)
    s.search(mem, -5)
    assert entry(s, 0x100) == [">i2"]


def test_successive_searches_intersect() -> None:
    mem, block = ram()
    mem.assign(0x100, "|u1", 3)
    mem.assign(0x120, "|u1", 3)
    s = Search(["|u1"])
    s.search(mem, 3)
    before = s.num_results()
    assert before >= 2
    mem.assign(0x120, "|u1", 2)
    mem.assign(0x100, "|u1", 2)
    block[0x50] = 2               # was 0, not a candidate for 3: stays out
    s.search(mem, 2)
    assert [r[0] for r in s.results() if r[1:] == (1, 1, 0)] == [0x100, 0x120]
    mem.assign(0x120, "|u1", 1)
    s.search(mem, 1)
    assert s.typed_results() == [((0x120, 1, 1, 0), ["|u1"])]
    assert s.has_unique_result()
    assert s.unique_result() == {"address": 0x120, "type": "|u1"}


def test_unique_result_counts_values_ending_at_the_same_byte() -> None:
    mem, _ = ram()
    mem.assign(0x100, ">u2", 7)
    s = Search(["|u1", ">u2"])
    s.search(mem, 7)
    s.search(mem, 7)
    assert s.typed_results() == [((0x100, 1, 1, 0), [">u2"]), ((0x101, 1, 1, 0), ["|u1"])]
    assert s.num_results() == 2
    assert s.has_unique_result()                  # both end at 0x101
    assert s.unique_result() == {"address": 0x100, "type": ">u2"}
    s2 = Search(["|u1"])
    assert not s2.has_unique_result()
    with pytest.raises(IndexError):
        s2.unique_result()


def test_delta_search_narrows_to_what_changed() -> None:
    mem, block = ram()
    old = mem.snapshot()
    s = Search(["|u1", ">u2"])
    s.delta(mem, old, "equal", 0)                  # nothing changed: everything stays
    assert s.num_results() == 256 + 255
    old = mem.snapshot()
    block[0x10] += 1
    block[0x20] += 3
    s.delta(mem, old, "positive", 0)
    assert {r[0] for r in s.results()} == {0x10f, 0x110, 0x11f, 0x120}
    old = mem.snapshot()
    block[0x10] += 1
    s.delta(mem, old, "equal", 1)
    assert s.typed_results() == [((0x10f, 1, 1, 0), [">u2"]), ((0x110, 1, 1, 0), ["|u1"])]
    assert s.valid_types() == ["|u1", ">u2"]


def test_delta_search_drops_types_without_hits() -> None:
    mem, block = ram()
    old = mem.snapshot()
    block[0x10] = 200     # |i1 sees -56: a negative change; |u1 a positive one
    s = Search(["|u1", "|i1"])
    s.delta(mem, old, "positive", 0)
    assert s.valid_types() == ["|u1"]
    assert s.typed_results() == [((0x110, 1, 1, 0), ["|u1"])]


def test_delta_after_value_search_keeps_plain_candidates_only() -> None:
    mem, block = ram()
    mem.assign(0x100, "|u1", 30)
    mem.assign(0x110, "|u1", 3)   # 30 in tens
    s = Search(["|u1"])
    s.search(mem, 30)
    old = mem.snapshot()
    block[0x00] += 1
    block[0x10] += 1
    s.delta(mem, old, "positive", 0)
    assert s.typed_results() == [((0x100, 1, 1, 0), ["|u1"])]


def test_overlay_is_applied() -> None:
    block = np.zeros(16, dtype=np.uint8)
    mem = Memory({0xFF0000: block}, overlay=["=", ">", 2])
    block[2], block[3] = 0x34, 0x12          # host-order word 0x1234 at 0xFF0002
    s = Search([">u2", "<u2"])
    s.search(mem, 0x1234)
    assert entry(s, 0xFF0002) == [">u2"]


def test_json_round_trip() -> None:
    mem, block = ram()
    mem.assign(0x100, ">u2", 99)
    s = Search([">u2", "|u1"])
    s.search(mem, 99)
    again = Search.from_json(s.to_json())
    assert again.typed_results() == s.typed_results()
    assert again.valid_types() == s.valid_types()
    block[0x01] = 98
    s.search(mem, 98)
    again.search(mem, 98)
    assert again.typed_results() == s.typed_results()


# -- against a brute-force model -----------------------------------------------------------------

MODEL_TYPES = ["|u1", "|i1", "|d1", ">u2", "<i2", ">d2", "<n4", "><u4", ">d6"]


def brute_force(blocks: dict[int, bytes], types: list[str], value: int) -> set[tuple[int, int, int, int, str]]:
    """Every (address, mult, div, bias, type) whose stored number shows ``value``."""
    found = set()
    for spec in types:
        t = parse_type(spec)
        for start, data in blocks.items():
            for off in range(len(data) - t.width + 1):
                stored = reference_decode(spec, data[off:off + t.width])
                for mult, div, bias in value_variants(value):
                    m, d = mult, div
                    if t.format == "d":
                        if any(int(c, 16) > 9 for c in f"{mult:x}{div:x}"):
                            continue
                        m, d = int(f"{mult:x}"), int(f"{div:x}")
                    if stored * d == (value + bias) * m:
                        found.add((start + off, mult, div, bias, spec))
    return found


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=8, max_size=40), st.integers(0, 39), st.sampled_from(MODEL_TYPES))
def test_search_matches_brute_force(data: bytes, where: int, spec: str) -> None:
    t = parse_type(spec)
    where = min(where, len(data) - t.width)
    value = reference_decode(spec, data[where:where + t.width])   # a value that is in memory somewhere
    mem = Memory({0x80: np.frombuffer(data, dtype=np.uint8).copy()})
    s = Search(MODEL_TYPES)
    s.search(mem, value)
    got = {(a, m, d, b, ty) for (a, m, d, b), tys in s.typed_results() for ty in tys}
    assert got == brute_force({0x80: data}, MODEL_TYPES, value)

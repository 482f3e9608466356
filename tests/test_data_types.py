"""The data.json type grammar: known vectors, a reference model, round trips."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retro.data.types import DataType, parse_type
from retro.errors import IntegrationError

ENDIANS = ["|", "<", ">", "=", "><", "<>", ">=", "<="]
FORMATS = ["i", "u", "d", "n"]
ALL_TYPES = [f"{e}{f}{w}" for e in ENDIANS for f in FORMATS for w in range(1, 9)]


# -- a reference model written from the documented grammar --------------------

def reference_layout(endian: str, width: int) -> list[int]:
    """Stored position of each significance (least first), from the docs' words."""
    little_host = sys.byteorder == "little"
    if endian == "=":
        endian = "<" if little_host else ">"
    if endian == ">=":
        endian = "><" if little_host else ">"
    if endian == "<=":
        endian = "<" if little_host else "<>"
    half = width // 2
    first_half = list(range(0, half))      # lower addresses
    second_half = list(range(half, width))  # higher addresses
    if endian == ">":
        return list(reversed(range(width)))
    if endian == "><":
        # more significant half first; bytes little-endian inside each half
        return second_half + first_half
    if endian == "<>":
        # less significant half first; bytes big-endian inside each half
        return list(reversed(first_half)) + list(reversed(second_half))
    return list(range(width))


def reference_decode(spec: str, data: bytes) -> int:
    endian, fmt, width = spec[:-2], spec[-2], int(spec[-1])
    layout = reference_layout(endian, width)
    digits = [data[pos] for pos in layout]  # least significant byte first
    if fmt == "u":
        return sum(b << (8 * k) for k, b in enumerate(digits))
    if fmt == "i":
        value = sum(b << (8 * k) for k, b in enumerate(digits))
        return value - (1 << (8 * width)) if value >= 1 << (8 * width - 1) else value
    if fmt == "d":
        return sum(((b >> 4) % 10 * 10 + (b & 15) % 10) * 100 ** k for k, b in enumerate(digits))
    return sum((b & 15) % 10 * 10 ** k for k, b in enumerate(digits))


# -- known vectors ------------------------------------------------------------------

@pytest.mark.parametrize("spec,data,value", [
    (">d2", "1234", 1234),
    ("<d2", "3412", 1234),
    ("|d1", "99", 99),
    ("|d1", "3a", 30),            # nibble A reads as 0 (mod 10)
    ("|d1", "fb", 51),            # F -> 5, B -> 1
    (">n4", "01020304", 1234),
    ("<n4", "04030201", 1234),
    ("<n4", "f4e3d2c1", 1234),    # high nibbles ignored
    ("|n1", "0c", 2),
    ("><u4", "02010403", 0x01020304),
    ("<>u4", "03040102", 0x01020304),
    (">u4", "01020304", 0x01020304),
    ("<u4", "04030201", 0x01020304),
    ("|i1", "ff", -1),
    ("|u1", "ff", 255),
    (">i2", "fffe", -2),
    ("<i3", "000080", -(1 << 23)),
    (">i3", "7fffff", (1 << 23) - 1),
    (">u8", "ffffffffffffffff", (1 << 64) - 1),
    (">i8", "8000000000000000", -(1 << 63)),
    (">d6", "000000123456", 123456),
    (">d3", "123456", 123456),
    ("<u3", "010203", 0x030201),
    ("><u2", "0102", 0x0102),     # halves of one byte, big order
    ("<>u2", "0102", 0x0201),
])
def test_known_vectors(spec: str, data: str, value: int) -> None:
    t = parse_type(spec)
    assert t.decode(bytes.fromhex(data)) == value


def test_native_and_word_native_forms_follow_the_host() -> None:
    if sys.byteorder != "little":
        pytest.skip("little-endian host expected")
    data = bytes.fromhex("02010403")
    assert parse_type("=u4").decode(data) == parse_type("<u4").decode(data)
    assert parse_type(">=u4").decode(data) == parse_type("><u4").decode(data) == 0x01020304
    assert parse_type("<=u4").decode(data) == parse_type("<u4").decode(data)
    assert parse_type("=>u2").decode(b"\x01\x02") == 0x0201  # '=' then anything is native


@pytest.mark.parametrize("spec", ["u1", ">u", ">x2", ">u9", ">u0", "!u2", "<<u2", "><>u4", "", "|uu"])
def test_malformed_types_raise_integration_error(spec: str) -> None:
    with pytest.raises(IntegrationError):
        parse_type(spec)


def test_non_string_type_raises_integration_error() -> None:
    with pytest.raises(IntegrationError):
        parse_type(12)  # type: ignore[arg-type]


def test_bcd_encode_writes_digit_pairs() -> None:
    assert parse_type(">d4").encode(12345678).hex() == "12345678"
    assert parse_type("<n4").encode(1234).hex() == "04030201"
    assert parse_type(">d2").encode(-1).hex() == "9999"   # wraps modulo the range
    assert parse_type(">i2").encode(-2).hex() == "fffe"
    assert parse_type(">u2").encode(0x12345).hex() == "2345"


# -- property tests over every type -----------------------------------------------------

@given(st.sampled_from(ALL_TYPES), st.data())
def test_decode_matches_the_reference_model(spec: str, data: st.DataObject) -> None:
    t = parse_type(spec)
    raw = data.draw(st.binary(min_size=t.width, max_size=t.width))
    assert t.decode(raw) == reference_decode(spec, raw)


@given(st.sampled_from(ALL_TYPES), st.data())
def test_encode_then_decode_round_trips(spec: str, data: st.DataObject) -> None:
    t = parse_type(spec)
    lo, hi = t.value_range
    value = data.draw(st.integers(lo, hi))
    encoded = t.encode(value)
    assert len(encoded) == t.width
    assert t.decode(encoded) == value
    assert reference_decode(spec, encoded) == value


@given(st.sampled_from([t for t in ALL_TYPES if t[-2] in "iu"]), st.data())
def test_integer_bytes_round_trip(spec: str, data: st.DataObject) -> None:
    t = parse_type(spec)
    raw = data.draw(st.binary(min_size=t.width, max_size=t.width))
    assert t.encode(t.decode(raw)) == raw


@given(st.sampled_from([t for t in ALL_TYPES if t[-2] in "iu"]), st.integers(-(1 << 70), 1 << 70))
def test_integers_wrap_like_twos_complement(spec: str, value: int) -> None:
    t = parse_type(spec)
    bits = 8 * t.width
    wrapped = value % (1 << bits)
    if t.format == "i" and wrapped >= 1 << (bits - 1):
        wrapped -= 1 << bits
    assert t.decode(t.encode(value)) == wrapped


def test_value_ranges() -> None:
    assert parse_type("|u1").value_range == (0, 255)
    assert parse_type(">i2").value_range == (-32768, 32767)
    assert parse_type(">d3").value_range == (0, 999999)
    assert parse_type("<n3").value_range == (0, 999)


def test_types_compare_by_meaning_and_cache() -> None:
    assert parse_type(">u2") is parse_type(">u2")
    assert DataType(">u2") == DataType(">u2")
    assert DataType(">u2") != DataType("<u2")
    assert str(DataType(">d4")) == ">d4"

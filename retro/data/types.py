"""The ``data.json`` type grammar: how a variable's bytes become a number.

A type string is ``<endian><format><width>``:

- ``width`` (last character): the number of bytes, 1 to 8.
- ``format`` (second to last): ``i`` signed (two's complement), ``u``
  unsigned, ``d`` BCD (two decimal digits per byte, bytes weigh powers of
  100), ``n`` low-nibble BCD (one digit in the low nibble of each byte, bytes
  weigh powers of 10). A BCD nibble A-F reads as its value mod 10.
- ``endian`` (everything before): ``>`` big, ``<`` little, ``=`` the host's,
  ``|`` "does not matter" (read as little-endian, as Gym Retro does). Mixed
  forms split the value into two halves: ``><`` has the more significant half
  first with little-endian bytes in each half (0x01020304 is stored
  ``02 01 04 03``); ``<>`` has the less significant half first with
  big-endian bytes (``03 04 01 02``); ``>=`` and ``<=`` are big/little words
  of the host's order (on a little-endian host ``>=`` is ``><`` and ``<=`` is
  ``<``). A second character after ``=`` is ignored, as in Gym Retro.

Everything about a type's layout is worked out once, when it is parsed:
:attr:`DataType.order` says which stored byte carries each significance (the
"raw" integer of a value has that byte as its byte ``k``). Turning those
bytes into a value is done in one place, the C decoder of
:mod:`retro._values`, whatever reads the value: :meth:`DataType.decode`,
:class:`~retro.data.memory.Memory` and ``GameData`` (through
``ValueTable``) and memory search (through ``decode_many``). Encoding, the
inverse, is :meth:`DataType.encode`.

Differences from Gym Retro, on purpose:

- A malformed type (unknown format, width outside 1-8, unknown endianness,
  too short) raises :class:`~retro.errors.IntegrationError`; Gym Retro skips
  such variables silently or reads them as unsigned.
- ``u8`` values of 2**63 and above are positive Python ints (Gym Retro's
  int64 wraps them negative).
- Encoding a negative number as BCD stores it modulo the type's range
  (``>d2`` of -1 stores 99 99); Gym Retro stores digits of 2**64 - 1.
"""

from __future__ import annotations

import sys
from functools import lru_cache

from retro._values import decode as _decode
from retro.errors import IntegrationError

__all__ = ["DataType", "parse_type", "FORMATS", "ENDIANS", "bcd_encode", "bcd_decode",
           "ln_bcd_encode", "ln_bcd_decode", "is_bcd", "is_ln_bcd"]

FORMATS = "iudn"
#: Canonical endianness spellings (first character, optional second).
ENDIANS = ("|", "<", ">", "=", "><", "<>", ">=", "<=")

LITTLE_HOST = sys.byteorder == "little"


def _decode_raw(raw: int, width: int, fmt: str) -> int:
    """The value of the low ``width`` bytes of ``raw`` (byte ``k`` = significance ``k``) read as ``fmt``."""
    if not 1 <= width <= 8:
        raise ValueError(f"width {width} is not 1-8")
    return _decode((raw & ((1 << (8 * width)) - 1)).to_bytes(width, "little"), range(width), fmt)


def bcd_decode(raw: int, width: int = 8) -> int:
    """Value of ``width`` (1-8) BCD bytes packed little-endian into ``raw``."""
    return _decode_raw(raw, width, "d")


def ln_bcd_decode(raw: int, width: int = 8) -> int:
    """Value of ``width`` (1-8) low-nibble BCD bytes packed little-endian into ``raw``."""
    return _decode_raw(raw, width, "n")


def bcd_encode(value: int, width: int = 8) -> int:
    """``value`` (mod 100**width) as BCD bytes packed little-endian."""
    value %= 100 ** width
    raw = 0
    for k in range(width):
        value, pair = divmod(value, 100)
        raw |= ((pair // 10) << 4 | pair % 10) << (8 * k)
    return raw


def ln_bcd_encode(value: int, width: int = 8) -> int:
    """``value`` (mod 10**width) as low-nibble BCD bytes packed little-endian."""
    value %= 10 ** width
    raw = 0
    for k in range(width):
        value, digit = divmod(value, 10)
        raw |= digit << (8 * k)
    return raw


def is_bcd(value: int) -> bool:
    """True if every hex digit of ``value`` (>= 0) is a decimal digit."""
    if value < 0:
        return False
    while value:
        if value & 15 > 9:
            return False
        value >>= 4
    return True


def is_ln_bcd(value: int) -> bool:
    """True if every byte of ``value`` (>= 0) is a single decimal digit."""
    if value < 0:
        return False
    while value:
        if value & 255 > 9:
            return False
        value >>= 8
    return True


def _significance_order(endian: str, width: int) -> tuple[int, ...]:
    """Stored byte position of each significance, least significant first."""
    little = tuple(range(width))
    big = tuple(range(width - 1, -1, -1))
    if endian == "=":
        endian = "<" if LITTLE_HOST else ">"
    elif endian == ">=":
        endian = "><" if LITTLE_HOST else ">"
    elif endian == "<=":
        endian = "<" if LITTLE_HOST else "<>"
    half = width // 2
    if endian == ">":
        return big
    if endian == "><":
        # less significant half stored last, each half little-endian
        return tuple(range(half, width)) + tuple(range(0, half))
    if endian == "<>":
        # less significant half stored first, each half big-endian
        return tuple(range(half - 1, -1, -1)) + tuple(range(width - 1, half - 1, -1))
    return little  # '<', '|'


class DataType:
    """A parsed type string: its byte order, format and width.

    ``order[k]`` is the position (0 = lowest address) of the byte of
    significance ``k``. ``decode_raw``/``encode_raw`` convert between a value
    and the raw integer whose byte ``k`` is that byte; decoding is done by
    :func:`retro._values.decode`.
    """

    __slots__ = ("type", "endian", "format", "width", "order", "signed", "bits",
                 "_range", "__weakref__")

    type: str
    endian: str
    format: str
    width: int
    order: tuple[int, ...]

    def __init__(self, spec: str) -> None:
        if not isinstance(spec, str):
            raise IntegrationError(f"type must be a string like '>u2', not {spec!r}")
        if len(spec) < 3:
            raise IntegrationError(f"invalid type {spec!r}: a type is <endian><format><width>, e.g. '>u2'")
        endian, fmt, width_c = spec[:-2], spec[-2], spec[-1]
        if fmt not in FORMATS:
            raise IntegrationError(f"invalid type {spec!r}: format {fmt!r} is not one of i, u, d, n")
        if not ("1" <= width_c <= "8"):
            raise IntegrationError(f"invalid type {spec!r}: width {width_c!r} is not 1-8")
        if len(endian) == 2 and endian[0] == "=":
            endian = "="  # Gym Retro reads any '=x' as native
        if endian not in ENDIANS:
            raise IntegrationError(
                f"invalid type {spec!r}: endianness {endian!r} is not one of {' '.join(ENDIANS)}")
        self.type = spec
        self.endian = endian
        self.format = fmt
        self.width = int(width_c)
        self.order = _significance_order(endian, self.width)
        self.signed = fmt == "i"
        self.bits = 8 * self.width
        if fmt == "d":
            self._range = 100 ** self.width
        elif fmt == "n":
            self._range = 10 ** self.width
        else:
            self._range = 1 << self.bits

    # -- raw integer <-> value ----------------------------------------------

    def decode_raw(self, raw: int) -> int:
        """The value of the raw integer (byte ``k`` = significance ``k``; bytes past ``width`` are ignored)."""
        return _decode_raw(raw, self.width, self.format)

    def encode_raw(self, value: int) -> int:
        """The raw integer that stores ``value`` (wrapped to the type's range)."""
        value = int(value)
        fmt = self.format
        if fmt == "d":
            return bcd_encode(value, self.width)
        if fmt == "n":
            return ln_bcd_encode(value, self.width)
        return value & ((1 << self.bits) - 1)

    # -- stored bytes <-> value ---------------------------------------------

    def _check_width(self, data: bytes | bytearray | memoryview) -> None:
        if len(data) != self.width:
            raise ValueError(f"{self.type} needs {self.width} bytes, got {len(data)}")

    def raw_from_bytes(self, data: bytes | bytearray | memoryview) -> int:
        """The raw integer of ``width`` stored bytes (lowest address first)."""
        self._check_width(data)
        return _decode(data, self.order, "u")

    def raw_to_bytes(self, raw: int) -> bytes:
        """The ``width`` stored bytes of a raw integer (the inverse of :meth:`raw_from_bytes`)."""
        out = bytearray(self.width)
        for k, pos in enumerate(self.order):
            out[pos] = (raw >> (8 * k)) & 255
        return bytes(out)

    def decode(self, data: bytes | bytearray | memoryview) -> int:
        """The value stored in ``width`` bytes (lowest address first)."""
        self._check_width(data)
        return _decode(data, self.order, self.format)

    def encode(self, value: int) -> bytes:
        """The ``width`` bytes that store ``value``."""
        return self.raw_to_bytes(self.encode_raw(value))

    @property
    def value_range(self) -> tuple[int, int]:
        """Smallest and largest value the type can hold."""
        if self.signed:
            half = 1 << (self.bits - 1)
            return -half, half - 1
        return 0, self._range - 1

    # -- identity -------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DataType):
            return (self.order, self.format, self.width) == (other.order, other.format, other.width) \
                and self.endian == other.endian
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.endian, self.format, self.width))

    def __repr__(self) -> str:
        return f"DataType({self.type!r})"

    def __str__(self) -> str:
        return self.type


@lru_cache(maxsize=1024)
def _parse_cached(spec: str) -> DataType:
    return DataType(spec)


def parse_type(spec: str | DataType) -> DataType:
    """A (cached) :class:`DataType` for a type string; ``IntegrationError`` if invalid."""
    if isinstance(spec, DataType):
        return spec
    if not isinstance(spec, str):
        raise IntegrationError(f"type must be a string like '>u2', not {spec!r}")
    return _parse_cached(spec)

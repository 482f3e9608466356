"""Memory search: find where a game keeps a number, the way Gym Retro does.

A :class:`Search` holds candidates ``(address, mult, div, bias, type)``.
:meth:`Search.search` keeps the candidates whose value, read as ``type`` at
``address``, shows the number searched for, either as it is or as one of the
encodings games use, each recorded as ``(mult, div, bias)``:

- ``(1, 1, 0)``: the number itself (also its BCD forms, for BCD types);
- ``(1, 10**k, 0)`` and ``(1, 16**k, 0)``: the number without its trailing
  decimal or hex zeros (a score kept in tens or hundreds; for BCD types
  ``16**k`` means ``k`` BCD digits, i.e. ``10**k``); ``(1, 256**k, 0)``
  likewise for low-nibble BCD;
- ``(2, 1, 0)``, ``(4, 1, 0)``: twice or four times the number;
- ``(1, 1, 1)``, ``(1, 1, -1)``: the number plus or minus one.

Exactly, a candidate shows ``value`` when ``stored * div' == (value + bias)
* mult'``, where ``mult'``/``div'`` are ``mult``/``div`` read as BCD for BCD
(``d``) types. Successive searches of the same object intersect.
:meth:`Search.delta` keeps the candidates whose change since an older copy of
memory satisfies an operation (``op(new - old, reference)``), as
``(address, 1, 1, 0, type)``.

The search is vectorised with numpy over every candidate type at every
address of every block. Gym Retro first pre-filters addresses by byte
patterns of at most four bytes, which misses, e.g., small values in 6- and
8-byte types and BCD bytes with A-F nibbles; here every type is tested
everywhere, so results are a superset of Gym Retro's.
"""

from __future__ import annotations

import base64
from typing import Any, Mapping, Sequence

import numpy as np

from retro._values import decode_many
from retro.data import ops
from retro.data.memory import Memory
from retro.data.types import DataType, bcd_decode, is_bcd, parse_type

__all__ = ["Search", "DEFAULT_TYPES", "value_variants", "decode_block"]

#: Candidate types when the system gives none (Gym Retro's defaults).
DEFAULT_TYPES: tuple[str, ...] = (
    ">d8", ">n8", ">d6", ">n6",
    *(f"{e}{f}4" for f in "uidn" for e in ("<", ">", "><", "<>", ">=", "<=", "=")),
    *(f"{e}{f}2" for f in "uid" for e in ("<", ">", "=")),
    "|u1", "|i1", "|d1",
)

Variant = tuple[int, int, int]  # (mult, div, bias)

def _to_bcd(value: int, bits_per_digit: int) -> int:
    out = 0
    shift = 0
    while value:
        value, digit = divmod(value, 10)
        out |= digit << shift
        shift += bits_per_digit
    return out


def value_variants(value: int) -> list[Variant]:
    """The ``(mult, div, bias)`` encodings tried for ``value``, in Gym Retro's order."""
    keys: list[Variant] = [(1, 1, 0)]
    scale, v = 1, value
    while v and v % 10 == 0:
        v //= 10
        scale *= 10
        keys.append((1, scale, 0))
    scale, v = 1, value
    while v and not v & 0xF:
        v >>= 4
        scale <<= 4
        keys.append((1, scale, 0))
    scale, v = 1, value
    while v and v < 0x100000000 and scale < 4:
        v <<= 1
        scale <<= 1
        keys.append((scale, 1, 0))
    keys += [(1, 1, 1), (1, 1, -1)]
    if value > 0:
        for bits, step in ((4, 4), (8, 8)):  # BCD shifts by nibbles, low-nibble BCD by bytes
            encoded = _to_bcd(value, bits)
            if encoded != value:
                scale, v = 1, encoded
                while v and not v & 0xF:
                    v >>= step
                    scale <<= step
                    keys.append((1, scale, 0))
    return list(dict.fromkeys(keys))


def _scaled_target(dtype: DataType, value: int, key: Variant) -> int | None:
    """The stored number that shows ``value`` under ``key`` for ``dtype``, or None."""
    mult, div, bias = key
    if dtype.format == "d":
        if not (is_bcd(mult) and is_bcd(div)):
            return None
        mult, div = bcd_decode(mult), bcd_decode(div)
    x = (value + bias) * mult
    if div == 0 or x % div:
        return None
    target = x // div
    lo, hi = dtype.value_range
    return target if lo <= target <= hi else None


def decode_block(presented: np.ndarray, dtype: DataType, offsets: np.ndarray | None = None) -> np.ndarray:
    """Values of ``dtype`` at every offset of a presented block (or at ``offsets``).

    Decoded by :func:`retro._values.decode_many`, the decoder every read
    uses. int64, except unsigned 8-byte values, which are uint64.
    """
    count = len(presented) - dtype.width + 1 if offsets is None else len(offsets)
    out = np.empty(max(count, 0), dtype=np.int64)
    if count > 0:
        decode_many(presented, dtype.order, dtype.format, out,
                    None if offsets is None else np.ascontiguousarray(offsets, dtype=np.int64))
    return out.view(np.uint64) if dtype.format == "u" and dtype.width == 8 else out


class Search:
    """Candidates for where a value lives (see the module docs).

    Args:
        types: candidate type strings; default :data:`DEFAULT_TYPES`. A
            :class:`~retro.data.GameData` bound to an emulator passes its
            system's ``types``.
    """

    def __init__(self, types: Sequence[str] | None = None) -> None:
        names = list(types) if types else list(DEFAULT_TYPES)
        self._all: list[DataType] = [parse_type(t) for t in names]
        self._active: list[int] = list(range(len(self._all)))
        self._results: dict[tuple[int, Variant], np.ndarray] = {}
        self._started = False

    # -- searching -------------------------------------------------------------------

    def search(self, memory: Memory, value: int) -> None:
        """Keep candidates that show ``value`` now (all candidates on the first search)."""
        value = int(value)
        presented = memory.presented_blocks()
        keys = value_variants(value)
        new: dict[tuple[int, Variant], np.ndarray] = {}
        for ti in self._active:
            dtype = self._all[ti]
            targets = [(key, _scaled_target(dtype, value, key)) for key in keys]
            targets = [(k, t) for k, t in targets if t is not None]
            if not targets:
                continue
            if not self._started:
                found: dict[Variant, list[np.ndarray]] = {}
                for start, block in presented.items():
                    values = decode_block(block, dtype)
                    for key, target in targets:
                        hits = np.flatnonzero(values == target)
                        if hits.size:
                            found.setdefault(key, []).append(hits.astype(np.int64) + start)
                for key, parts in found.items():
                    new[(ti, key)] = np.concatenate(parts)
            else:
                for key, target in targets:
                    addrs = self._results.get((ti, key))
                    if addrs is None or not addrs.size:
                        continue
                    values, valid = _values_at(presented, dtype, addrs)
                    kept = addrs[valid][values == target]
                    if kept.size:
                        new[(ti, key)] = kept
        self._results = new
        self._started = True

    def delta(self, memory: Memory, old: Mapping[int, np.ndarray], op: str | None, reference: int = 0) -> None:
        """Keep candidates whose change since ``old`` (raw blocks) satisfies ``op``."""
        reference = int(reference)
        ops.get_op(op, "delta search: ")
        presented = memory.presented_blocks()
        old_presented = memory.presented_blocks(old)
        new: dict[tuple[int, Variant], np.ndarray] = {}
        active: list[int] = []
        for ti in self._active:
            dtype = self._all[ti]
            if self._started:
                keyed = [a for (t, _), a in self._results.items() if t == ti]
                if not keyed:
                    continue
                candidates = np.unique(np.concatenate(keyed))
                now, valid = _values_at(presented, dtype, candidates)
                before, valid_old = _values_at(old_presented, dtype, candidates)
                both = valid & valid_old
                if not both.all():
                    now, _ = _values_at(presented, dtype, candidates[both])
                    before, _ = _values_at(old_presented, dtype, candidates[both])
                candidates = candidates[both]
                hit = ops.calculate_array(op, _difference(now, before), reference)
                addrs = candidates[hit]
            else:
                parts = []
                for start, block in presented.items():
                    previous = old_presented.get(start)
                    if previous is None or len(previous) != len(block):
                        continue
                    diff = _difference(decode_block(block, dtype), decode_block(previous, dtype))
                    hits = np.flatnonzero(ops.calculate_array(op, diff, reference))
                    if hits.size:
                        parts.append(hits.astype(np.int64) + start)
                addrs = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            if addrs.size:
                active.append(ti)
                key = (ti, (1, 1, 0))
                if self._started:
                    previous_hits = self._results.get(key)
                    if previous_hits is None:
                        continue
                    addrs = np.intersect1d(addrs, previous_hits)
                    if not addrs.size:
                        continue
                new[key] = addrs
        self._active = active
        self._results = new
        self._started = True

    # -- results ---------------------------------------------------------------------

    def _flat(self) -> list[tuple[int, int, int, int, int]]:
        """(address, mult, div, bias, type index) of every result, in Gym Retro's order."""
        out: list[tuple[int, int, int, int, int]] = []
        for (ti, (mult, div, bias)), addrs in self._results.items():
            out.extend((int(a), mult, div, bias, ti) for a in addrs)
        out.sort()
        return out

    def num_results(self) -> int:
        """How many (address, mult, div, bias, type) candidates remain."""
        return int(sum(a.size for a in self._results.values()))

    def has_unique_result(self) -> bool:
        """True if all candidates are one place: the same value, or values ending at the same byte."""
        flat = self._flat()
        if not flat:
            return False
        first = flat[0]
        end = first[0] + self._all[first[4]].width - 1
        for r in flat[1:]:
            if r[:4] == first[:4]:
                continue
            if r[0] + self._all[r[4]].width - 1 != end:
                return False
        return True

    def unique_result(self) -> dict[str, Any]:
        """The first candidate as a variable, ``{'address', 'type'}``."""
        flat = self._flat()
        if not flat:
            raise IndexError("the search has no results")
        address, _, _, _, ti = flat[0]
        return {"address": address, "type": self._all[ti].type}

    def typed_results(self) -> list[tuple[tuple[int, int, int, int], list[str]]]:
        """``[((address, mult, div, bias), [type, ...]), ...]``, sorted."""
        grouped: dict[tuple[int, int, int, int], list[str]] = {}
        for address, mult, div, bias, ti in self._flat():
            grouped.setdefault((address, mult, div, bias), []).append(self._all[ti].type)
        return [(key, sorted(types)) for key, types in grouped.items()]

    def results(self) -> list[tuple[int, int, int, int]]:
        """The distinct ``(address, mult, div, bias)`` candidates, sorted."""
        return [key for key, _ in self.typed_results()]

    def valid_types(self) -> list[str]:
        """The types still in play (a delta search drops types with no hits)."""
        return [self._all[i].type for i in self._active]

    @property
    def started(self) -> bool:
        """Whether a search step has run (before one, every address is a candidate)."""
        return self._started

    # -- persistence -----------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON-able description (candidate types and results)."""
        return {
            "types": [t.type for t in self._all],
            "active": [self._all[i].type for i in self._active],
            "started": self._started,
            "results": [
                {"type": self._all[ti].type, "mult": k[0], "div": k[1], "bias": k[2],
                 "addresses": base64.b64encode(np.asarray(a, dtype="<i8").tobytes()).decode("ascii")}
                for (ti, k), a in self._results.items()
            ],
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> "Search":
        """A search from what :meth:`to_json` wrote."""
        search = cls(doc.get("types"))
        index = {t.type: i for i, t in enumerate(search._all)}
        search._active = [index[t] for t in doc.get("active", [])]
        search._started = bool(doc.get("started", False))
        for r in doc.get("results", []):
            addrs = np.frombuffer(base64.b64decode(r["addresses"]), dtype="<i8").astype(np.int64)
            search._results[(index[r["type"]], (int(r["mult"]), int(r["div"]), int(r["bias"])))] = addrs
        return search

    def __repr__(self) -> str:
        return f"<Search {self.num_results()} results over {len(self._active)} types>"


def _difference(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    """``now - before`` as int64 (8-byte unsigned values wrap, as in Gym Retro)."""
    if now.dtype == np.uint64:
        return (now - before).view(np.int64)
    return now.astype(np.int64) - before.astype(np.int64)


def _values_at(presented: Mapping[int, np.ndarray], dtype: DataType,
               addrs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``dtype`` at absolute ``addrs``, and which addresses could be read."""
    starts = np.array(sorted(presented), dtype=np.int64)
    valid = np.zeros(addrs.size, dtype=bool)
    pieces: list[np.ndarray] = []
    order: list[np.ndarray] = []
    if starts.size:
        which = np.searchsorted(starts, addrs, side="right") - 1
        for bi, start in enumerate(starts):
            sel = np.flatnonzero(which == bi)
            if not sel.size:
                continue
            block = presented[int(start)]
            rel = addrs[sel] - start
            ok = rel + dtype.width <= len(block)
            sel, rel = sel[ok], rel[ok]
            if not sel.size:
                continue
            valid[sel] = True
            pieces.append(decode_block(block, dtype, rel))
            order.append(sel)
    if not pieces:
        return np.zeros(0, dtype=np.int64), valid
    values = np.concatenate(pieces)
    positions = np.concatenate(order)
    return values[np.argsort(positions, kind="stable")], valid

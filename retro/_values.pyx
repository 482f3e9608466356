"""The one decoder of typed values: bytes in significance order -> an int.

Every value of the ``data.json`` type grammar that retro reads (variables,
``Memory.extract``, ``DataType.decode``, memory search) is decoded here, by
one C function, ``_combine``, from its bytes least significant first and a
format letter. Where those bytes are (the endianness of the type, the
system's overlay, values spanning two blocks) is worked out before, by
``retro.data.types.DataType.order`` and ``retro.data.memory.Memory``.

Three ways in:

- :class:`ValueTable`, the per-frame reader behind ``GameData.update_ram``,
  ``GameData.lookup_all`` and ``GameData.lookup_value``: values are compiled
  once into a table of byte pointers, and :meth:`ValueTable.read` (a list),
  :meth:`ValueTable.read_dict` (a dict keyed by the caller's names) or
  :meth:`ValueTable.value` (one value) decode them in C, with no Python call
  per variable;
- :func:`decode`, one value from one buffer (``DataType.decode``);
- :func:`decode_many`, one type at many offsets of one block, into an int64
  array (memory search).

The table knows nothing about scenarios, addresses or overlays. Each value is
described by where its bytes are, least significant first, and how to decode
them:

- ``locations``: ``(buffer index, byte offset)`` pairs, least significant
  byte first (what ``Memory.byte_locations(address, dtype)`` returns, so
  mixed endianness, overlays and values spanning two buffers are already
  resolved). The number of pairs is the width, 1 to 8 bytes.
- ``fmt``: ``'u'`` unsigned; ``'i'`` signed two's complement at 8 * width
  bits; ``'d'`` BCD (two digits per byte, bytes weigh powers of 100);
  ``'n'`` low-nibble BCD (one digit in the low nibble of each byte, bytes
  weigh powers of 10). A BCD nibble A-F reads as its value mod 10.
- ``mask``: ``None`` or an int, applied to the decoded value exactly as
  Python's ``value & mask`` (so a negative value under a non-negative mask
  comes out non-negative). Masks in ``[-2**63, 2**64)`` are applied in C;
  any other int falls back to Python's ``&`` for that value. Note that a
  mask of ``2**64 - 1`` is applied literally here (it turns negative signed
  values positive); ``Memory.reader`` treats it as "no mask", and so does
  ``Memory.value_spec``, which callers should use to build specs.

The table holds a buffer export of every buffer (``PyObject_GetBuffer``),
so the memory its pointers point into stays alive and cannot be resized
while the table exists (a ``bytearray`` refuses to grow, for instance). It
does not notice if an emulator replaces its memory (a power cycle): build a
new table then.
"""

from cpython.buffer cimport PyBUF_RECORDS_RO, PyBuffer_Release, PyObject_GetBuffer
from cpython.long cimport PyLong_FromLongLong, PyLong_FromUnsignedLongLong
from cpython.mem cimport PyMem_Free, PyMem_Malloc
cimport cython
from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.string cimport memset

from operator import index as _index

__all__ = ["ValueTable", "decode", "decode_many"]

cdef uint64_t BCD_BYTE[256]
cdef uint64_t LN_BYTE[256]


cdef void _init_tables() noexcept:
    cdef int b
    for b in range(256):
        BCD_BYTE[b] = ((b >> 4) % 10) * 10 + (b & 15) % 10
        LN_BYTE[b] = (b & 15) % 10


_init_tables()


cdef uint64_t _combine(const uint8_t *b, int w, int fmt, bint *negative) noexcept nogil:
    """The value of ``w`` bytes, ``b[k]`` of significance ``k``, as 64 bits.

    Signed values are sign-extended to 64 bits and set ``negative``; every
    other value is unsigned (``negative`` is cleared).
    """
    cdef int k
    cdef uint64_t bits = 0
    cdef uint64_t weight = 1
    negative[0] = False
    if fmt == FMT_U or fmt == FMT_I:
        for k in range(w):
            bits |= (<uint64_t>b[k]) << (8 * k)
        if fmt == FMT_I and (bits >> (8 * w - 1)) & 1:
            negative[0] = True
            if w < MAX_WIDTH:
                bits |= (~<uint64_t>0) << (8 * w)   # sign-extend to 64 bits
    elif fmt == FMT_D:
        for k in range(w):
            bits += BCD_BYTE[b[k]] * weight
            weight *= 100
    else:
        for k in range(w):
            bits += LN_BYTE[b[k]] * weight
            weight *= 10
    return bits


cdef uint64_t entry_bits(const Entry *e, bint *negative) noexcept nogil:
    """An entry's value with its C mask applied, as 64 bits (``negative``: read it as int64).

    Python's ``v & m`` for ``v`` and ``m`` in ``[-2**63, 2**64)``: the low 64
    bits are the AND of the low 64 bits; the result is negative iff both are.
    A ``MASK_PY`` mask is not applied here.
    """
    cdef int k
    cdef uint8_t b[MAX_WIDTH]
    cdef uint64_t bits
    for k in range(e.width):
        b[k] = e.src[k][0]
    bits = _combine(b, e.width, e.fmt, negative)
    if e.mask_kind == MASK_C:
        bits &= e.mask
        negative[0] = negative[0] and e.mask_negative
    return bits


cdef inline object _as_int(uint64_t bits, bint negative):
    if negative:
        return PyLong_FromLongLong(<int64_t>bits)
    return PyLong_FromUnsignedLongLong(bits)

_FORMATS = {"u": FMT_U, "i": FMT_I, "d": FMT_D, "n": FMT_N}


cdef int _format_code(fmt, str where) except -1:
    if not isinstance(fmt, str) or fmt not in _FORMATS:
        raise ValueError(f"{where}format {fmt!r} is not one of 'u', 'i', 'd', 'n'")
    return _FORMATS[fmt]


cdef int _positions(positions, Py_ssize_t *out, str where) except -1:
    """Copy ``positions`` (1 to 8 non-negative ints) into ``out``; the width."""
    cdef Py_ssize_t k, w = len(positions)
    if not 1 <= w <= MAX_WIDTH:
        raise ValueError(f"{where}width {w} is not 1-{<int>MAX_WIDTH}")
    for k in range(w):
        out[k] = positions[k]
        if out[k] < 0:
            raise IndexError(f"{where}position {out[k]} is negative")
    return <int>w


cdef bint _is_unsigned_byte_format(const char *fmt) noexcept:
    """True for struct format "B", optionally after a byte-order character (NULL means "B")."""
    if fmt == NULL:
        return True
    if fmt[0] in b"@=<>!":
        fmt += 1
    return fmt[0] == b"B" and fmt[1] == 0


cdef str _format_name(const char *fmt):
    return "B" if fmt == NULL else fmt.decode("ascii", "replace")


_MASK_LO = -(1 << 63)
_MASK_HI = 1 << 64


cdef class ValueTable:
    """Typed values at fixed places in byte buffers, read all at once.

    Args:
        buffers: 1-D buffers of unsigned bytes (numpy ``uint8`` arrays,
            memoryviews, ``bytes``...), writable or read-only.
        specs: one ``(locations, fmt, mask)`` per value; see the module
            documentation.

    Raises ``IndexError`` if a location's buffer index or offset is out of
    range, ``ValueError`` for an unknown ``fmt``, a width outside 1-8 or a
    buffer that is not 1-D unsigned bytes, ``TypeError`` for an object
    without the buffer protocol or a mask that is not an int.
    """

    def __cinit__(self):
        self._entries = NULL
        self._n = 0
        self._buffers = NULL
        self._nbuf = 0

    def __init__(self, buffers, specs):
        if self._buffers != NULL or self._entries != NULL:
            raise RuntimeError("ValueTable is already initialised")
        buffers = list(buffers)
        specs = list(specs)
        cdef Py_ssize_t nbuf = len(buffers)
        cdef Py_ssize_t n = len(specs)
        cdef Py_ssize_t i, k, bi, off
        cdef Py_buffer *view
        cdef Entry *e
        cdef list py_masks = [None] * n
        # Acquire every buffer first; __dealloc__ releases what was acquired if anything fails.
        if nbuf:
            self._buffers = <Py_buffer *>PyMem_Malloc(nbuf * sizeof(Py_buffer))
            if self._buffers == NULL:
                raise MemoryError()
        for i in range(nbuf):
            view = &self._buffers[i]
            PyObject_GetBuffer(buffers[i], view, PyBUF_RECORDS_RO)
            self._nbuf = i + 1
            if view.ndim != 1 or view.itemsize != 1 or not _is_unsigned_byte_format(view.format):
                raise ValueError(f"buffer {i} is not a 1-D buffer of unsigned bytes "
                                 f"(format {_format_name(view.format)!r}, {view.ndim} dimensions, "
                                 f"items of {view.itemsize} bytes)")
        if n:
            self._entries = <Entry *>PyMem_Malloc(n * sizeof(Entry))
            if self._entries == NULL:
                raise MemoryError()
            memset(self._entries, 0, n * sizeof(Entry))
        for i in range(n):
            locations, fmt, mask = specs[i]
            locations = list(locations)
            e = &self._entries[i]
            e.fmt = _format_code(fmt, f"value {i}: ")
            if not 1 <= len(locations) <= MAX_WIDTH:
                raise ValueError(f"value {i}: width {len(locations)} is not 1-{<int>MAX_WIDTH}")
            e.width = <int>len(locations)
            for k in range(e.width):
                b, o = locations[k]
                bi = b
                off = o
                if bi < 0 or bi >= nbuf:
                    raise IndexError(f"value {i}: buffer index {bi} is out of range "
                                     f"(there are {nbuf} buffers)")
                view = &self._buffers[bi]
                if off < 0 or off >= view.shape[0]:
                    raise IndexError(f"value {i}: offset {off} is out of range for buffer {bi} "
                                     f"of {view.shape[0]} bytes")
                e.src[k] = <const uint8_t *>view.buf + off * view.strides[0]
            if mask is None:
                e.mask_kind = MASK_NONE
            else:
                mask = _index(mask)
                if _MASK_LO <= mask < _MASK_HI:
                    e.mask_kind = MASK_C
                    e.mask_negative = mask < 0
                    e.mask = <uint64_t>(mask & (_MASK_HI - 1))
                else:
                    e.mask_kind = MASK_PY
                    py_masks[i] = mask
        self._n = n
        self._py_masks = py_masks

    def __dealloc__(self):
        cdef Py_ssize_t i
        for i in range(self._nbuf):
            PyBuffer_Release(&self._buffers[i])
        PyMem_Free(self._buffers)
        PyMem_Free(self._entries)

    def __len__(self):
        return self._n

    def read(self):
        """All values, in the order of ``specs``, as a list of ints."""
        cdef list out = [None] * self._n
        cdef Py_ssize_t i
        for i in range(self._n):
            out[i] = self._value(i)
        return out

    def read_dict(self, tuple keys not None):
        """``dict(zip(keys, self.read()))``, built without the intermediate list.

        ``keys`` is a tuple of one hashable key per value (``ValueError`` if
        its length differs from the table's).
        """
        if len(keys) != self._n:
            raise ValueError(f"{len(keys)} keys for {self._n} values")
        cdef dict out = {}
        cdef Py_ssize_t i
        for i in range(self._n):
            out[keys[i]] = self._value(i)
        return out

    def value(self, Py_ssize_t i):
        """Value ``i`` alone (``IndexError`` outside ``0 <= i < len(self)``)."""
        if not 0 <= i < self._n:
            raise IndexError(f"value {i} of a table of {self._n}")
        return self._value(i)

    cdef object _value(self, Py_ssize_t i):
        """Value ``i`` as a Python int."""
        cdef bint negative
        cdef uint64_t bits = entry_bits(&self._entries[i], &negative)
        value = _as_int(bits, negative)
        if self._entries[i].mask_kind == MASK_PY:
            return value & self._py_masks[i]
        return value

    def __repr__(self):
        return f"<ValueTable {self._n} values over {self._nbuf} buffers>"


def decode(data, positions, fmt):
    """The value of the bytes ``data[positions[k]]`` (significance ``k``) read as ``fmt``.

    ``data`` is a 1-D buffer of unsigned bytes; ``positions`` holds 1 to 8
    offsets into it, least significant byte first; ``fmt`` is ``'u'``,
    ``'i'``, ``'d'`` or ``'n'`` (see the module documentation). ``IndexError``
    for a position outside ``data``.
    """
    cdef Py_ssize_t pos[MAX_WIDTH]
    cdef uint8_t b[MAX_WIDTH]
    cdef int k, w, f
    cdef bint negative
    cdef uint64_t bits
    cdef Py_buffer view
    f = _format_code(fmt, "")
    w = _positions(positions, pos, "")
    PyObject_GetBuffer(data, &view, PyBUF_RECORDS_RO)
    try:
        if view.ndim != 1 or view.itemsize != 1 or not _is_unsigned_byte_format(view.format):
            raise ValueError(f"not a 1-D buffer of unsigned bytes (format {_format_name(view.format)!r})")
        for k in range(w):
            if pos[k] >= view.shape[0]:
                raise IndexError(f"position {pos[k]} is out of range for {view.shape[0]} bytes")
            b[k] = (<const uint8_t *>view.buf)[pos[k] * view.strides[0]]
    finally:
        PyBuffer_Release(&view)
    bits = _combine(b, w, f, &negative)
    return _as_int(bits, negative)


@cython.boundscheck(False)
@cython.wraparound(False)
def decode_many(const uint8_t[:] block not None, positions, fmt, int64_t[::1] out not None,
                const int64_t[:] offsets=None):
    """Decode one type at many offsets of ``block`` into ``out``.

    ``out[i]`` becomes the value whose byte of significance ``k`` is
    ``block[offset + positions[k]]``, where ``offset`` is ``offsets[i]``, or
    ``i`` when ``offsets`` is None (every offset from 0 on, as many as
    ``out`` holds). Values are stored as int64; an unsigned 8-byte value
    keeps its 64 bits (view ``out`` as uint64 to read it). ``IndexError``
    if a value would read outside ``block`` (``out`` is then partly
    written).
    """
    cdef Py_ssize_t pos[MAX_WIDTH]
    cdef uint8_t b[MAX_WIDTH]
    cdef int k, w, f
    cdef bint negative
    cdef Py_ssize_t i, off, last = 0
    cdef Py_ssize_t n = out.shape[0]
    cdef Py_ssize_t size = block.shape[0]
    f = _format_code(fmt, "")
    w = _positions(positions, pos, "")
    for k in range(w):
        if pos[k] > last:
            last = pos[k]
    if offsets is None:
        if n and n - 1 + last >= size:
            raise IndexError(f"{n} values of {w} bytes do not fit in {size} bytes")
        with nogil:
            for i in range(n):
                for k in range(w):
                    b[k] = block[i + pos[k]]
                out[i] = <int64_t>_combine(b, w, f, &negative)
        return
    if offsets.shape[0] != n:
        raise ValueError(f"{offsets.shape[0]} offsets for {n} values")
    for i in range(n):
        off = offsets[i]
        if off < 0 or off + last >= size:
            raise IndexError(f"offset {off} is out of range for values of {w} bytes in {size} bytes")
        for k in range(w):
            b[k] = block[off + pos[k]]
        out[i] = <int64_t>_combine(b, w, f, &negative)

"""Read many typed values out of byte buffers in one C loop.

:class:`ValueTable` is the per-frame accelerator behind
``GameData.update_ram`` and ``GameData.lookup_all``: the variables of a
``data.json`` are compiled once into a table of byte pointers, and
:meth:`ValueTable.read` (a list) or :meth:`ValueTable.read_dict` (a dict
keyed by the caller's names) decodes all of them in a single C loop, with no
Python call per variable.

It knows nothing about scenarios, addresses or overlays. Each value is
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
from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.string cimport memset

from operator import index as _index

__all__ = ["ValueTable"]

cdef enum:
    MAX_WIDTH = 8   # bytes

cdef enum:
    FMT_U = 0
    FMT_I = 1
    FMT_D = 2
    FMT_N = 3

cdef enum:
    MASK_NONE = 0   # no mask
    MASK_C = 1      # -2**63 <= mask < 2**64: applied on 64-bit words
    MASK_PY = 2     # any other int: applied with Python's &

ctypedef struct Entry:
    const uint8_t *src[MAX_WIDTH]   # byte of significance k lives at src[k]
    int width
    int fmt
    int mask_kind
    bint mask_negative              # MASK_C: the mask is a negative int
    uint64_t mask                   # MASK_C: the mask's low 64 bits

# Digit value of each byte: BCD bytes carry two digits, low-nibble BCD one.
cdef uint64_t BCD_BYTE[256]
cdef uint64_t LN_BYTE[256]


cdef void _init_tables() noexcept:
    cdef int b
    for b in range(256):
        BCD_BYTE[b] = ((b >> 4) % 10) * 10 + (b & 15) % 10
        LN_BYTE[b] = (b & 15) % 10


_init_tables()

_FORMATS = {"u": FMT_U, "i": FMT_I, "d": FMT_D, "n": FMT_N}


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

    cdef Entry *_entries
    cdef Py_ssize_t _n
    cdef Py_buffer *_buffers    # one export per buffer, released in __dealloc__
    cdef Py_ssize_t _nbuf       # how many of _buffers are held
    cdef list _py_masks         # per entry: the mask object for MASK_PY entries, else None

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
            if not isinstance(fmt, str) or fmt not in _FORMATS:
                raise ValueError(f"value {i}: format {fmt!r} is not one of 'u', 'i', 'd', 'n'")
            e.fmt = _FORMATS[fmt]
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

    cdef inline object _value(self, Py_ssize_t i):
        """Value ``i`` as a Python int."""
        cdef int k
        cdef const Entry *e = &self._entries[i]
        cdef int w = e.width
        cdef uint64_t bits, weight
        cdef bint negative = False
        if e.fmt == FMT_U or e.fmt == FMT_I:
            bits = 0
            for k in range(w):
                bits |= (<uint64_t>e.src[k][0]) << (8 * k)
            if e.fmt == FMT_I and (bits >> (8 * w - 1)) & 1:
                negative = True
                if w < MAX_WIDTH:
                    bits |= (~<uint64_t>0) << (8 * w)   # sign-extend to 64 bits
        elif e.fmt == FMT_D:
            bits = 0
            weight = 1
            for k in range(w):
                bits += BCD_BYTE[e.src[k][0]] * weight
                weight *= 100
        else:
            bits = 0
            weight = 1
            for k in range(w):
                bits += LN_BYTE[e.src[k][0]] * weight
                weight *= 10
        # Python's v & m, with v and m in [-2**63, 2**64): the low 64 bits
        # are the AND of the low 64 bits; the result is negative iff both are.
        if e.mask_kind == MASK_C:
            bits &= e.mask
            negative = negative and e.mask_negative
        if negative:
            value = PyLong_FromLongLong(<int64_t>bits)
        else:
            value = PyLong_FromUnsignedLongLong(bits)
        if e.mask_kind == MASK_PY:
            return value & self._py_masks[i]
        return value

    def __repr__(self):
        return f"<ValueTable {self._n} values over {self._nbuf} buffers>"

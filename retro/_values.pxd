# The one decoder of typed values (retro/_values.pyx), for C code that reads them every frame.
from cpython.buffer cimport Py_buffer
from libc.stdint cimport uint8_t, uint64_t

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


cdef uint64_t entry_bits(const Entry *e, bint *negative) noexcept nogil


cdef class ValueTable:
    cdef Entry *_entries
    cdef Py_ssize_t _n
    cdef Py_buffer *_buffers    # one export per buffer, released in __dealloc__
    cdef Py_ssize_t _nbuf       # how many of _buffers are held
    cdef list _py_masks         # per entry: the mask object for MASK_PY entries, else None

    cdef object _value(self, Py_ssize_t i)

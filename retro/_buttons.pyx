"""Button masks from flat 0/1 action vectors, in one C loop.

``pack_buttons`` turns a MultiBinary action (a numpy array of bools, ints or
floats, player after player) into one joypad bitmask per player, without a
Python call per button. ``pack_masks`` is the loop itself, for Cython
callers that hold a buffer already.
"""

from cpython.buffer cimport PyBUF_FORMAT, PyBUF_STRIDES, PyBuffer_Release, PyObject_CheckBuffer, PyObject_GetBuffer
from libc.stdint cimport int16_t, int32_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy


cdef int pack_masks(const char *buf, const char *fmt, Py_ssize_t itemsize, Py_ssize_t stride,
                    int width, int players, uint64_t *masks) noexcept nogil:
    """Fill ``masks[players]`` from ``width * players`` items of struct format ``fmt``.

    Returns 0, or -1 if the format is not a little-endian/native bool, int or
    float, or a value is other than 0 and 1.
    """
    cdef char code
    cdef Py_ssize_t i, n = <Py_ssize_t>width * players
    cdef const char *item
    cdef uint64_t uv
    cdef double dv
    cdef float fv
    cdef int16_t i16
    cdef int32_t i32
    cdef uint64_t mask = 0
    cdef bint one, ok
    if fmt == NULL:
        fmt = b"B"
    while fmt[0] == b"@" or fmt[0] == b"=" or fmt[0] == b"<" or fmt[0] == b"!" or fmt[0] == b">":
        if (fmt[0] == b">" or fmt[0] == b"!") and itemsize > 1:
            return -1  # big-endian data
        fmt += 1
    code = fmt[0]
    if fmt[0] == 0 or fmt[1] != 0:
        return -1
    for i in range(n):
        item = buf + i * stride
        if code == b"?" or code == b"B" or code == b"b":
            one = item[0] == 1
            ok = one or item[0] == 0
        elif code == b"f" and itemsize == 4:
            memcpy(&fv, item, 4)
            one = fv == 1
            ok = one or fv == 0
        elif code == b"d" and itemsize == 8:
            memcpy(&dv, item, 8)
            one = dv == 1
            ok = one or dv == 0
        elif (code == b"h" or code == b"H" or code == b"i" or code == b"I" or code == b"l"
              or code == b"L" or code == b"q" or code == b"Q") and (itemsize == 2 or itemsize == 4
                                                                    or itemsize == 8):
            uv = 0
            if itemsize == 2:
                memcpy(&i16, item, 2)
                uv = <uint16_t>i16
            elif itemsize == 4:
                memcpy(&i32, item, 4)
                uv = <uint32_t>i32
            else:
                memcpy(&uv, item, 8)
            one = uv == 1
            ok = one or uv == 0
        else:
            return -1
        if not ok:
            return -1
        if one:
            mask |= (<uint64_t>1) << (i % width)
        if i % width == width - 1:
            masks[i // width] = mask
            mask = 0
    return 0


def pack_buttons(action, int width, int players):
    """Button bitmasks, one per player, of a flat 0/1 action vector; None if it is not one.

    ``action`` is a 1-D buffer (a numpy array of bools, ints or floats) of
    ``width * players`` values, player after player; bit ``i`` of player
    ``p``'s mask is set when value ``p * width + i`` is 1. Anything else (not
    a buffer, another shape, a value other than 0 and 1) gives None, for the
    caller to explain.
    """
    cdef Py_buffer view
    cdef uint64_t one_player
    cdef uint64_t *masks
    cdef int rc
    cdef int p
    if players < 1 or width < 1 or width > 64 or not PyObject_CheckBuffer(action):
        return None
    try:
        PyObject_GetBuffer(action, &view, PyBUF_FORMAT | PyBUF_STRIDES)
    except (BufferError, TypeError, ValueError):
        return None
    masks = &one_player if players == 1 else <uint64_t *>malloc(players * sizeof(uint64_t))
    try:
        if masks == NULL:
            raise MemoryError()
        if view.ndim != 1 or view.shape[0] != <Py_ssize_t>width * players:
            return None
        rc = pack_masks(<const char *>view.buf, view.format, view.itemsize, view.strides[0],
                        width, players, masks)
        if rc != 0:
            return None
        return [masks[p] for p in range(players)]
    finally:
        if masks != &one_player:
            free(masks)
        PyBuffer_Release(&view)

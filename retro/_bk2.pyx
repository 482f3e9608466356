"""Fast parsing and writing of movie input logs (.bk2 ``Input Log.txt``, .fm2).

A log is decoded into one uint16 array ``frames[n, fields]``: field 0 holds
console switches and fields 1.. hold one player's joypad each, as bit masks
over the columns the caller's layout names. Two ways to read a field:

- by character (Gym Retro's dialect): every character of the field that the
  field's ``charmap`` knows sets its bits, wherever it stands;
- by position (BizHawk's dialect, FCEUX's): the field's columns are read in
  order, any character but ``.`` (and space) is pressed; analog axes
  (``NNNNN,``) are skipped.
"""

from libc.stdint cimport int16_t, uint8_t, uint16_t

import numpy as np

cdef inline bint _is_axis(const uint8_t[::1] data, Py_ssize_t i, Py_ssize_t end) noexcept nogil:
    cdef Py_ssize_t k
    cdef uint8_t c
    if i + 5 >= end or data[i + 5] != b',':
        return False
    for k in range(5):
        c = data[i + k]
        if not (c == b' ' or c == b'-' or (b'0' <= c <= b'9')):
            return False
    return True


cdef Py_ssize_t _count_frames(const uint8_t[::1] data, Py_ssize_t i) noexcept nogil:
    """How many frame lines (starting with ``|``) the log has from offset ``i`` to ``[/`` or the end."""
    cdef Py_ssize_t n = data.shape[0]
    cdef Py_ssize_t count = 0
    cdef Py_ssize_t line_end
    while i < n:
        line_end = i
        while line_end < n and data[line_end] != b'\n':
            line_end += 1
        if line_end - i >= 7 and data[i] == b'[' and data[i + 1] == b'/':
            break
        if data[i] == b'|':
            count += 1
        i = line_end + 1
    return count


def parse_frames(const uint8_t[::1] data, Py_ssize_t start, int nfields,
                 const uint16_t[:, ::1] charmaps, const int16_t[:, ::1] columns,
                 const uint8_t[::1] positional, Py_ssize_t max_frames=-1):
    """Decode the frame lines of a log from byte offset ``start`` to ``[/Input]`` or the end.

    ``charmaps[f, c]`` is the bit mask character ``c`` sets in field ``f``
    (by-character fields); ``columns[f, k]`` is the bit of column ``k`` of
    field ``f`` (-1: a column to skip; by-position fields);
    ``positional[f]`` says how field ``f`` is read. Lines that do not start
    with ``|`` are skipped. Returns ``(frames uint16[n, nfields], end offset)``.

    The lines are counted first, so the array is allocated once, at its
    size; more than ``max_frames`` (if not negative) raise ``ValueError``
    before anything is allocated.
    """
    cdef Py_ssize_t n = data.shape[0]
    cdef Py_ssize_t i = start
    cdef Py_ssize_t count = 0
    cdef Py_ssize_t line_end
    cdef Py_ssize_t ncols = columns.shape[1]
    cdef int f
    cdef Py_ssize_t col
    cdef uint8_t c
    cdef int16_t bit
    if nfields < 1 or charmaps.shape[0] < nfields or columns.shape[0] < nfields or positional.shape[0] < nfields:
        raise ValueError("the layout describes fewer fields than nfields")
    if charmaps.shape[1] < 256:
        raise ValueError("a charmap needs 256 entries")
    if start < 0:
        start = 0
    cdef Py_ssize_t total
    with nogil:
        total = _count_frames(data, start)
    if max_frames >= 0 and total > max_frames:
        raise ValueError(f"the log has {total} frames, more than the {max_frames} allowed")
    out = np.zeros((total, nfields), dtype=np.uint16)
    cdef uint16_t[:, ::1] frames = out
    i = start
    with nogil:
        while i < n:
            line_end = i
            while line_end < n and data[line_end] != b'\n':
                line_end += 1
            if line_end - i >= 7 and data[i] == b'[' and data[i + 1] == b'/':
                i = line_end
                break
            if data[i] == b'|':
                f = -1
                col = 0
                while i < line_end:
                    c = data[i]
                    if c == b'|':
                        f += 1
                        col = 0
                        i += 1
                        continue
                    if c == b'\r' or f < 0 or f >= nfields:
                        i += 1
                        continue
                    if positional[f]:
                        if _is_axis(data, i, line_end):
                            i += 6
                            col += 1
                            continue
                        if col < ncols:
                            bit = columns[f, col]
                            if bit >= 0 and c != b'.' and c != b' ':
                                frames[count, f] |= <uint16_t>(1 << bit)
                        col += 1
                    else:
                        frames[count, f] |= charmaps[f, c]
                    i += 1
                count += 1
            i = line_end + 1
    return out, i


def write_frames(const uint16_t[:, ::1] frames, list layout, bint crlf=False):
    """Encode ``frames[n, fields]`` as frame lines.

    ``layout[f]`` is the list of ``(bit, char)`` columns of field ``f`` in
    order; a bit of -1 writes ``.`` always. Returns bytes.
    """
    cdef Py_ssize_t n = frames.shape[0]
    cdef Py_ssize_t nf = len(layout)
    cdef Py_ssize_t width = 1
    cdef Py_ssize_t f, k, r, pos
    cdef uint16_t v
    cdef bytes eol = b"\r\n" if crlf else b"\n"
    for f in range(nf):
        width += len(layout[f]) + 1
    width += len(eol)
    bits = np.full(sum(len(cols) for cols in layout), -1, dtype=np.int16)
    chars = np.zeros(len(bits), dtype=np.uint8)
    k = 0
    for f in range(nf):
        for bit, ch in layout[f]:
            bits[k] = bit
            chars[k] = ord(ch)
            k += 1
    cdef const int16_t[::1] vbits = bits
    cdef const uint8_t[::1] vchars = chars
    buf = bytearray(width * n)
    cdef unsigned char[::1] out = buf
    cdef Py_ssize_t ncols
    cdef Py_ssize_t[64] per_field
    if nf > 64:
        raise ValueError("too many fields")
    for f in range(nf):
        per_field[f] = len(layout[f])
    cdef const unsigned char *e = eol
    cdef Py_ssize_t elen = len(eol)
    with nogil:
        pos = 0
        for r in range(n):
            out[pos] = b'|'
            pos += 1
            k = 0
            for f in range(nf):
                v = frames[r, f]
                for ncols in range(per_field[f]):
                    if vbits[k] >= 0 and (v >> vbits[k]) & 1:
                        out[pos] = vchars[k]
                    else:
                        out[pos] = b'.'
                    pos += 1
                    k += 1
                out[pos] = b'|'
                pos += 1
            for ncols in range(elen):
                out[pos] = e[ncols]
                pos += 1
    return bytes(buf)

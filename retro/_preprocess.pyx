"""Pictures for observers: the core's pixels to RGB24, and observations from them.

``convert_frame`` turns one picture in a libretro pixel format into the
frontend's RGB24 buffer (it runs inside the core's video callback: plain C,
no Python). ``observe`` preprocesses the current picture in C for
``Emulator.get_observation``: max-pool of the last two frames, luma, and
area-averaging resize (a :class:`ResizePlan` per output size).
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t
from libc.string cimport memset

cdef extern from "_pixels.h" nogil:
    void retro_indexed_to_rgb24(uint8_t *dst, const uint8_t *src, size_t n, const uint32_t *rgb)
    void retro_xrgb_to_rgb24(uint8_t *dst, const uint32_t *src, size_t n)

from retro._libretro cimport RETRO_PIXEL_FORMAT_RGB565, RETRO_PIXEL_FORMAT_XRGB8888

import numpy as np


cdef void convert_frame(uint8_t *dst_frame, unsigned out_w, unsigned out_h, int pixel_format,
                        const uint8_t *src, unsigned width, unsigned height,
                        size_t pitch, const uint32_t *palette) noexcept nogil:
    """Convert a ``width`` x ``height`` picture in the core's pixel format into RGB24.

    With a ``palette`` (256 colours, each R | G << 8 | B << 16) the picture is
    8-bit palette indices instead, whatever ``pixel_format`` says (retro's
    private extension for its ALE core, see libretro_abi.h).
    ``dst_frame`` is ``out_h`` x ``out_w`` x 3. A picture a whole number of
    times as wide or as high (bsnes-mercury's 512-pixel lines, a 448-line
    interlaced SNES frame) is shown whole, each block of pixels averaged into
    one; what a smaller picture does not cover is black, and any other larger
    one is cropped.
    """
    cdef unsigned kx = width // out_w if width > out_w and width % out_w == 0 else 1
    cdef unsigned ky = height // out_h if height > out_h and height % out_h == 0 else 1
    if kx > 1 or ky > 1:
        convert_frame_scaled(dst_frame, out_w, out_h, pixel_format, src, width // kx,
                             height // ky, pitch, kx, ky, palette)
        return
    cdef unsigned w = width if width < out_w else out_w
    cdef unsigned h = height if height < out_h else out_h
    cdef unsigned x, y
    cdef size_t row_bytes = <size_t>out_w * 3
    cdef uint8_t *dst
    cdef const uint16_t *p16
    cdef uint32_t p
    if w < out_w or h < out_h:
        # a smaller picture: what it does not cover is black
        for y in range(h):
            memset(dst_frame + y * row_bytes + <size_t>w * 3, 0, row_bytes - <size_t>w * 3)
        if h < out_h:
            memset(dst_frame + h * row_bytes, 0, row_bytes * (out_h - h))
    if palette != NULL:
        if w == out_w and pitch == w:  # one run over the whole picture
            retro_indexed_to_rgb24(dst_frame, src, <size_t>w * h, palette)
        else:
            for y in range(h):
                retro_indexed_to_rgb24(dst_frame + y * row_bytes, src + y * pitch, w, palette)
    elif pixel_format == RETRO_PIXEL_FORMAT_XRGB8888:
        for y in range(h):
            retro_xrgb_to_rgb24(dst_frame + y * row_bytes, <const uint32_t *>(src + y * pitch), w)
    elif pixel_format == RETRO_PIXEL_FORMAT_RGB565:
        for y in range(h):
            p16 = <const uint16_t *>(src + y * pitch)
            dst = dst_frame + y * row_bytes
            for x in range(w):
                p = p16[x]
                dst[0] = <uint8_t>((p >> 8) & 0xF8)
                dst[1] = <uint8_t>((p >> 3) & 0xFC)
                dst[2] = <uint8_t>((p << 3) & 0xF8)
                dst += 3
    else:  # 0RGB1555
        for y in range(h):
            p16 = <const uint16_t *>(src + y * pitch)
            dst = dst_frame + y * row_bytes
            for x in range(w):
                p = p16[x]
                dst[0] = <uint8_t>((p >> 7) & 0xF8)
                dst[1] = <uint8_t>((p >> 2) & 0xF8)
                dst[2] = <uint8_t>((p << 3) & 0xF8)
                dst += 3


cdef inline void add_rgb(int pixel_format, const uint8_t *row, unsigned x,
                         unsigned *r, unsigned *g, unsigned *b, const uint32_t *palette) noexcept nogil:
    """Add pixel ``x`` of a source row, as 8-bit RGB (the same expansion as ``convert_frame``)."""
    cdef uint32_t p
    if palette != NULL:
        p = palette[row[x]]
        r[0] += p & 0xFF
        g[0] += (p >> 8) & 0xFF
        b[0] += (p >> 16) & 0xFF
    elif pixel_format == RETRO_PIXEL_FORMAT_XRGB8888:
        p = (<const uint32_t *>row)[x]
        r[0] += (p >> 16) & 0xFF
        g[0] += (p >> 8) & 0xFF
        b[0] += p & 0xFF
    elif pixel_format == RETRO_PIXEL_FORMAT_RGB565:
        p = (<const uint16_t *>row)[x]
        r[0] += (p >> 8) & 0xF8
        g[0] += (p >> 3) & 0xFC
        b[0] += (p << 3) & 0xF8
    else:  # 0RGB1555
        p = (<const uint16_t *>row)[x]
        r[0] += (p >> 7) & 0xF8
        g[0] += (p >> 2) & 0xF8
        b[0] += (p << 3) & 0xF8


cdef void convert_frame_scaled(uint8_t *dst_frame, unsigned out_w, unsigned out_h,
                               int pixel_format, const uint8_t *src, unsigned width,
                               unsigned height, size_t pitch, unsigned kx,
                               unsigned ky, const uint32_t *palette) noexcept nogil:
    """``convert_frame`` of a picture of ``width * kx`` x ``height * ky`` pixels: each
    ``kx`` x ``ky`` block becomes one pixel, the rounded mean of the block."""
    cdef unsigned w = width if width < out_w else out_w
    cdef unsigned h = height if height < out_h else out_h
    cdef unsigned n = kx * ky
    cdef unsigned x, y, i, j, r, g, b
    cdef size_t row_bytes = <size_t>out_w * 3
    cdef uint8_t *dst
    memset(dst_frame, 0, row_bytes * out_h)
    for y in range(h):
        dst = dst_frame + y * row_bytes
        for x in range(w):
            r = g = b = 0
            for j in range(ky):
                for i in range(kx):
                    add_rgb(pixel_format, src + (y * ky + j) * pitch, x * kx + i, &r, &g, &b, palette)
            dst[0] = <uint8_t>((r + n // 2) // n)
            dst[1] = <uint8_t>((g + n // 2) // n)
            dst[2] = <uint8_t>((b + n // 2) // n)
            dst += 3


cdef class ResizePlan:
    """Area-averaging resize from (h, w) to (oh, ow), separable, with optional max-pool and luma."""

    def __init__(self, int h, int w, int oh, int ow):
        self.h, self.w, self.oh, self.ow = h, w, oh, ow
        xs, xc, xi, xw = _area_weights(w, ow)
        ys, yc, yi, yw = _area_weights(h, oh)
        self.xstart, self.xcount, self.xidx, self.xw = xs, xc, xi, xw
        self.ystart, self.ycount, self.yidx, self.yw = ys, yc, yi, yw
        self.rowbuf = np.zeros(w * 3, dtype=np.float32)
        self.tmp = np.zeros(h * ow * 3, dtype=np.float32)

    cdef void run(self, const uint8_t *cur, const uint8_t *prev, bint gray, uint8_t *out) noexcept nogil:
        cdef int channels = 1 if gray else 3
        cdef int y, x, c, i, k, j, n
        cdef const uint8_t *p
        cdef const uint8_t *q
        cdef float r, g, b, acc, acc1, acc2
        cdef float *row = &self.rowbuf[0]
        cdef float *tmp = &self.tmp[0]
        cdef float *trow
        cdef const int *xstart = &self.xstart[0]
        cdef const int *xcount = &self.xcount[0]
        cdef const int *xidx = &self.xidx[0]
        cdef const float *xw = &self.xw[0]
        cdef const int *ystart = &self.ystart[0]
        cdef const int *ycount = &self.ycount[0]
        cdef const int *yidx = &self.yidx[0]
        cdef const float *yw = &self.yw[0]
        cdef int ow = self.ow
        cdef int w = self.w
        cdef size_t stride = <size_t>ow * channels
        for y in range(self.h):
            p = cur + <size_t>y * w * 3
            q = prev + <size_t>y * w * 3 if prev != NULL else NULL
            for x in range(w):
                r = p[3 * x]
                g = p[3 * x + 1]
                b = p[3 * x + 2]
                if q != NULL:
                    if q[3 * x] > r:
                        r = q[3 * x]
                    if q[3 * x + 1] > g:
                        g = q[3 * x + 1]
                    if q[3 * x + 2] > b:
                        b = q[3 * x + 2]
                if gray:
                    row[x] = <float>0.299 * r + <float>0.587 * g + <float>0.114 * b
                else:
                    row[3 * x] = r
                    row[3 * x + 1] = g
                    row[3 * x + 2] = b
            trow = tmp + y * stride
            if gray:
                for i in range(ow):
                    acc = 0
                    j = xstart[i]
                    for k in range(xcount[i]):
                        acc = acc + xw[j + k] * row[xidx[j + k]]
                    trow[i] = acc
            else:
                for i in range(ow):
                    acc = 0
                    acc1 = 0
                    acc2 = 0
                    j = xstart[i]
                    for k in range(xcount[i]):
                        n = 3 * xidx[j + k]
                        acc = acc + xw[j + k] * row[n]
                        acc1 = acc1 + xw[j + k] * row[n + 1]
                        acc2 = acc2 + xw[j + k] * row[n + 2]
                    trow[3 * i] = acc
                    trow[3 * i + 1] = acc1
                    trow[3 * i + 2] = acc2
        for i in range(self.oh):
            j = ystart[i]
            for x in range(<int>stride):
                acc = <float>0.5
                for k in range(ycount[i]):
                    acc = acc + yw[j + k] * tmp[yidx[j + k] * stride + x]
                if acc > 255:
                    acc = 255
                out[i * stride + x] = <uint8_t>acc


def _area_weights(int src, int dst):
    """Per destination index: the source indices it covers and their area weights (sum 1)."""
    starts, counts, idx, weights = [], [], [], []
    scale = (<double>src) / dst  # a true division: with cdivision, int / int would truncate
    for i in range(dst):
        lo, hi = i * scale, (i + 1) * scale
        starts.append(len(idx))
        j = int(lo)
        while j < hi and j < src:
            overlap = min(hi, j + 1) - max(lo, j)
            if overlap > 1e-9:
                idx.append(j)
                weights.append(overlap / scale)
            j += 1
        counts.append(len(idx) - starts[i])
    return (np.array(starts, np.int32), np.array(counts, np.int32), np.array(idx, np.int32),
            np.array(weights, np.float32))


cdef object observe(const uint8_t *frame, const uint8_t *prev, unsigned h, unsigned w, object out,
                    bint gray, object size, bint pool, dict plans):
    """The picture (h x w RGB24 at ``frame``) preprocessed: see ``Emulator.get_observation``.

    ``prev`` is the frame before it, or NULL if there is none to pool with;
    ``plans`` caches a :class:`ResizePlan` per output size.
    """
    cdef int oh, ow
    if size is None:
        oh, ow = h, w
    else:
        oh, ow = size
    if oh <= 0 or ow <= 0:
        raise ValueError(f"size must be positive, got {size}")
    if gray:
        shape = (oh, ow)
    else:
        shape = (oh, ow, 3)
    if out is None:
        out = np.empty(shape, dtype=np.uint8)
    elif (not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != shape
          or not out.flags.c_contiguous or not out.flags.writeable):
        raise ValueError(f"out must be a writable C-contiguous uint8 array of shape {shape}")
    if pool and prev == NULL:
        raise ValueError("get_observation(pool=True) needs a step(n, pool=True) first")
    key = (oh, ow)
    plan = plans.get(key)
    if plan is None:
        plan = ResizePlan(h, w, oh, ow)
        plans[key] = plan
    cdef ResizePlan rp = plan
    cdef uint8_t[::1] flat = out.reshape(-1)
    with nogil:
        rp.run(frame, prev if pool else NULL, gray, &flat[0])
    return out

"""Pictures for observers: the core's pixels to RGB24, and observations from them.

``convert_frame`` turns one picture in a libretro pixel format into the
frontend's RGB24 buffer (it runs inside the core's video callback: plain C,
no Python). ``observe`` preprocesses the current picture in C for
``Emulator.get_observation``: max-pool of the last two frames, luma, and
area-averaging resize (a :class:`ResizePlan` per output size), in fixed
point (``_resize.h``).
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t
from libc.string cimport memset

from retro._libretro cimport RETRO_PIXEL_FORMAT_RGB565, RETRO_PIXEL_FORMAT_XRGB8888

import threading

import numpy as np

from retro.errors import ConfigurationError


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
    cdef unsigned y
    cdef size_t row_bytes = <size_t>out_w * 3
    if w < out_w or h < out_h:
        # a smaller picture: what it does not cover is black
        for y in range(h):
            memset(dst_frame + y * row_bytes + <size_t>w * 3, 0, row_bytes - <size_t>w * 3)
        if h < out_h:
            memset(dst_frame + h * row_bytes, 0, row_bytes * (out_h - h))
    if palette != NULL:
        if w == out_w and pitch == w:  # one run over the whole picture
            retro_indexed_row(dst_frame, src, <size_t>w * h, palette)
        else:
            for y in range(h):
                retro_indexed_row(dst_frame + y * row_bytes, src + y * pitch, w, palette)
        return
    for y in range(h):
        retro_convert_row(dst_frame + y * row_bytes, src + y * pitch, w, pixel_format)


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


cdef extern from "_resize.h" nogil:
    int resize_plan_init(resize_plan *p, int h, int w, int oh, int ow)
    void resize_plan_free(resize_plan *p)
    void resize_run(resize_plan *p, const uint8_t *cur, const uint8_t *prev, int gray,
                    uint8_t *out)


cdef class ResizePlan:
    """Max-pool, luma and area-averaging resize from (h, w) to (oh, ow), in fixed point.

    The plan owns its weights and scratch rows, made here; ``run`` is plain C
    (see ``_resize.h`` for the arithmetic). Luma is (19595 R + 38470 G +
    7471 B) / 65536, the 0.299/0.587/0.114 weights in 16-bit fixed point;
    each output is the area average of what it covers, rounded half up,
    within 1 of the exact average.
    """

    def __cinit__(self, int h, int w, int oh, int ow):
        if h <= 0 or w <= 0 or oh <= 0 or ow <= 0:
            raise ConfigurationError(f"sizes must be positive, got {(h, w)} -> {(oh, ow)}")
        if resize_plan_init(&self.plan, h, w, oh, ow) != 0:
            raise MemoryError()

    def __dealloc__(self):
        resize_plan_free(&self.plan)

    cdef void run(self, const uint8_t *cur, const uint8_t *prev, bint gray, uint8_t *out) noexcept nogil:
        resize_run(&self.plan, cur, prev, gray, out)


cdef ResizePlan observe_plan(unsigned h, unsigned w, object out, bint gray, object size, dict plans):
    """The plan that preprocesses an h x w picture into ``out``, checked; see ``observe``."""
    cdef int oh, ow
    if size is None:
        oh, ow = h, w
    else:
        oh, ow = size
    if oh <= 0 or ow <= 0:
        raise ConfigurationError(f"size must be (height, width) with both positive, got {size}")
    if gray:
        shape = (oh, ow)
    else:
        shape = (oh, ow, 3)
    if (not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != shape
            or not out.flags.c_contiguous or not out.flags.writeable):
        raise ConfigurationError(f"out must be a writable C-contiguous uint8 array of shape {shape}")
    key = (oh, ow)
    plan = plans.get(key)
    if plan is None:
        plan = ResizePlan(h, w, oh, ow)
        plans[key] = plan
    return plan


cdef object observe(const uint8_t *frame, const uint8_t *prev, unsigned h, unsigned w, object out,
                    bint gray, object size, bint pool, dict plans):
    """The picture (h x w RGB24 at ``frame``) preprocessed: see ``Emulator.get_observation``.

    ``prev`` is the frame before it, or NULL if there is none to pool with;
    ``plans`` caches a :class:`ResizePlan` per output size.
    """
    if out is None:
        dims = (h, w) if size is None else tuple(size)
        if not gray:
            dims += (3,)
        if min(dims) > 0:  # (observe_plan refuses other sizes)
            out = np.empty(dims, dtype=np.uint8)
    cdef ResizePlan rp = observe_plan(h, w, out, gray, size, plans)
    if pool and prev == NULL:
        raise ConfigurationError("get_observation(pool=True) needs a step(n, pool=True) first")
    cdef uint8_t[::1] flat = out.reshape(-1)
    with nogil:
        rp.run(frame, prev if pool else NULL, gray, &flat[0])
    return out


def convert(const uint8_t[::1] data not None, unsigned width, unsigned height, size_t pitch, int pixel_format,
            unsigned out_w, unsigned out_h):
    """``convert_frame`` of a picture in ``data`` into a new (out_h, out_w, 3) array (what the video callback does)."""
    if pixel_format not in (0, 1, 2):
        raise ValueError(f"unknown pixel format {pixel_format}")
    cdef size_t bpp = 4 if pixel_format == RETRO_PIXEL_FORMAT_XRGB8888 else 2
    if height and (pitch < width * bpp or <size_t>data.shape[0] < (height - 1) * pitch + width * bpp):
        raise ValueError("data is too small for the picture")
    out = np.zeros((out_h, out_w, 3), np.uint8)
    cdef uint8_t[:, :, ::1] dst = out
    if out_h and out_w and height and width:
        convert_frame(&dst[0, 0, 0], out_w, out_h, pixel_format, &data[0], width, height, pitch, NULL)
    return out


def preprocess(frame, prev=None, out=None, *, bint gray=False, size=None):
    """``Emulator.get_observation`` on arrays: ``frame`` (and ``prev``, to max-pool with) are
    C-contiguous uint8 (H, W, 3) pictures. For tests and measurements of the preprocessing."""
    if (not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3
            or frame.shape[2] != 3 or not frame.flags.c_contiguous):
        raise ConfigurationError("frame must be a C-contiguous uint8 array of shape (H, W, 3)")
    if prev is not None and (not isinstance(prev, np.ndarray) or prev.dtype != np.uint8
                             or prev.shape != frame.shape or not prev.flags.c_contiguous):
        raise ConfigurationError(f"prev must be a C-contiguous uint8 array of shape {frame.shape}")
    cdef const uint8_t[:, :, ::1] cur = frame
    cdef const uint8_t[:, :, ::1] before
    cdef const uint8_t *p = NULL
    if prev is not None:
        before = prev
        p = &before[0, 0, 0]
    # a plan's scratch rows serve one call at a time: each thread keeps its own plans
    cache = getattr(_local, "plans", None)
    if cache is None or len(cache) > 32:  # (many picture sizes: start again)
        cache = _local.plans = {}
    plans = cache.setdefault(frame.shape[:2], {})
    return observe(&cur[0, 0, 0], p, frame.shape[0], frame.shape[1], out, gray, size,
                   prev is not None, plans)


_local = threading.local()  # ResizePlans of preprocess(), per thread and input size

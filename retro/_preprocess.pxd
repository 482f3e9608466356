# Picture conversion and observation preprocessing (retro/_preprocess.pyx).
from libc.stdint cimport uint8_t, uint32_t, uint64_t


cdef extern from "_convert.h" nogil:
    uint64_t retro_rgb_xrgb8888(uint32_t p)
    void retro_convert_row(uint8_t *dst, const uint8_t *src, unsigned w, int pixel_format)
    void retro_indexed_row(uint8_t *dst, const uint8_t *src, size_t n, const uint32_t *rgb)
    void retro_indexed_update(uint8_t *dst, const uint8_t *src, uint8_t *shown, size_t n,
                              const uint32_t *rgb, int valid)


cdef void convert_frame(uint8_t *dst, unsigned out_w, unsigned out_h, int pixel_format,
                        const uint8_t *src, unsigned width, unsigned height,
                        size_t pitch, const uint32_t *palette) noexcept nogil


cdef extern from "_resize.h" nogil:
    ctypedef struct resize_plan:
        int h, w, oh, ow


cdef class ResizePlan:
    cdef resize_plan plan  # weights and scratch rows, owned; see _resize.h

    cdef void run(self, const uint8_t *cur, const uint8_t *prev, bint gray, uint8_t *out) noexcept nogil


cdef ResizePlan observe_plan(unsigned h, unsigned w, object out, bint gray, object size, dict plans)


cdef object observe(const uint8_t *frame, const uint8_t *prev, unsigned h, unsigned w, object out,
                    bint gray, object size, bint pool, dict plans)

# Picture conversion and observation preprocessing (retro/_preprocess.pyx).
from libc.stdint cimport uint8_t


cdef void convert_frame(uint8_t *dst, unsigned out_w, unsigned out_h, int pixel_format,
                        const uint8_t *src, unsigned width, unsigned height,
                        size_t pitch) noexcept nogil


cdef extern from "_resize.h" nogil:
    ctypedef struct resize_plan:
        int h, w, oh, ow


cdef class ResizePlan:
    cdef resize_plan plan  # weights and scratch rows, owned; see _resize.h

    cdef void run(self, const uint8_t *cur, const uint8_t *prev, bint gray, uint8_t *out) noexcept nogil


cdef ResizePlan observe_plan(unsigned h, unsigned w, object out, bint gray, object size, dict plans)


cdef object observe(const uint8_t *frame, const uint8_t *prev, unsigned h, unsigned w, object out,
                    bint gray, object size, bint pool, dict plans)

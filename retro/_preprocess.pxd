# Picture conversion and observation preprocessing (retro/_preprocess.pyx).
from libc.stdint cimport uint8_t, uint32_t


cdef extern from "_pixels.h" nogil:
    void retro_indexed_update_rgb24(uint8_t *dst, const uint8_t *src, uint8_t *shown, size_t n,
                                    const uint32_t *rgb, int valid)


cdef void convert_frame(uint8_t *dst, unsigned out_w, unsigned out_h, int pixel_format,
                        const uint8_t *src, unsigned width, unsigned height,
                        size_t pitch, const uint32_t *palette) noexcept nogil


cdef class ResizePlan:
    cdef int h, w, oh, ow
    cdef int[::1] xstart, xcount, ystart, ycount
    cdef int[::1] xidx, yidx
    cdef float[::1] xw, yw
    cdef float[::1] rowbuf      # one source row, 1 or 3 channels
    cdef float[::1] tmp         # h rows x ow columns x 3 channels

    cdef void run(self, const uint8_t *cur, const uint8_t *prev, bint gray, uint8_t *out) noexcept nogil


cdef object observe(const uint8_t *frame, const uint8_t *prev, unsigned h, unsigned w, object out,
                    bint gray, object size, bint pool, dict plans)

# Joypad masks from MultiBinary actions (retro/_buttons.pyx).
from libc.stdint cimport uint64_t


cdef int pack_masks(const char *buf, const char *fmt, Py_ssize_t itemsize, Py_ssize_t stride,
                    int width, int players, uint64_t *masks) noexcept nogil

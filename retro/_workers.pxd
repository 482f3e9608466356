# The worker thread pool (retro/_workers.h) and StepPool (retro/_workers.pyx).

cdef extern from "_workers.h" nogil:
    ctypedef struct retro_workers:
        pass
    ctypedef void (*retro_job_fn)(void *arg, int job) noexcept nogil
    retro_workers *retro_workers_new(int nthreads, long spin_ns)
    void retro_workers_run(retro_workers *w, retro_job_fn fn, void *arg, int njobs)
    void retro_workers_free(retro_workers *w)


cdef class StepPool:
    cdef retro_workers *w
    cdef readonly int threads
    cdef bint busy
    cdef long spin_ns
    cdef object pid   # the process whose threads these are

    cdef int _ready(self) except -1

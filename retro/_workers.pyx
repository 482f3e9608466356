"""Step many emulators at once on C worker threads (``StepPool``).

The threads live in ``_workers.h`` (plain C: a spin-then-sleep job pool);
each job is one emulator's ``step`` (``run_step_job`` of the frontend), run
with the GIL released.
"""

from libc.stdlib cimport calloc, free

from retro._core cimport Emulator, RestoreJob, StepJob, run_restore_jobs, run_step_jobs

import os

from retro.errors import RetroError


cdef class StepPool:
    """Steps many emulators at once on C worker threads, with the GIL released.

    ``StepPool(threads)`` starts ``threads - 1`` worker threads (default:
    one per CPU); the calling thread is the first worker. ``step(emulators,
    ...)`` runs ``Emulator.step`` on every emulator, spread over the
    threads, and returns when all are done. Workers spin for ``spin_us``
    microseconds after a round before they sleep, so back-to-back rounds do
    not pay for a thread wake-up. One call at a time per pool.
    """

    def __cinit__(self, threads=None, double spin_us=200.0):
        n = (os.cpu_count() or 1) if threads is None else int(threads)
        if n < 1:
            raise ValueError(f"threads must be >= 1, got {n}")
        if spin_us < 0:
            raise ValueError(f"spin_us must be >= 0, got {spin_us}")
        self.spin_ns = <long>(spin_us * 1000)
        self.w = retro_workers_new(n - 1, self.spin_ns)
        if self.w == NULL:
            raise RetroError(f"cannot start {n - 1} worker threads")
        self.threads = n
        self.pid = os.getpid()

    cdef int _ready(self) except -1:
        """Refuse a closed or busy pool; in a forked child, start the child's own threads."""
        if self.w == NULL:
            raise RetroError("this StepPool is closed")
        if self.busy:
            raise RetroError("this StepPool is already stepping on another thread")
        if self.pid != os.getpid():
            # a forked child has the pool but not its threads: start its own (the
            # parent's structure is left alone, its lock may be in any state)
            self.w = retro_workers_new(self.threads - 1, self.spin_ns)
            self.pid = os.getpid()
            if self.w == NULL:
                raise RetroError(f"cannot start {self.threads - 1} worker threads")
        return 0

    def step(self, emulators, *, int n=1, bint pool=False, int skip=0, outs=None, programs=None,
             obs=None, bint gray=False, size=None):
        """``em.step(n, pool=, skip=, out=outs[i], program=programs[i], obs=obs[i], gray=, size=)``
        for every emulator, in parallel.

        ``outs``, ``programs`` and ``obs`` are None or one entry (or None) per
        emulator, as ``out``, ``program`` and ``obs`` of :meth:`Emulator.step`.
        Returns the frames each emulator played. If a core fails, every other
        emulator still finishes its step and the first error is raised.
        """
        cdef list ems = list(emulators)
        cdef list targets
        cdef Py_ssize_t k = len(ems), i
        cdef StepJob *jobs
        cdef Emulator em
        self._ready()
        targets = [None] * k if outs is None else list(outs)
        if len(targets) != k:
            raise ValueError(f"outs has {len(targets)} entries for {k} emulators")
        progs = [None] * k if programs is None else list(programs)
        if len(progs) != k:
            raise ValueError(f"programs has {len(progs)} entries for {k} emulators")
        views = [None] * k if obs is None else list(obs)
        if len(views) != k:
            raise ValueError(f"obs has {len(views)} entries for {k} emulators")
        if len({id(e) for e in ems}) != k:
            raise ValueError("an emulator appears twice; each can run one step at a time")
        for i in range(k):
            if not isinstance(ems[i], Emulator):
                raise TypeError(f"expected Emulator objects, got {type(ems[i]).__name__}")
            (<Emulator>ems[i])._check_step(n, pool, targets[i])
        if k <= 0:
            return []
        jobs = <StepJob *>calloc(<size_t>k, sizeof(StepJob))
        if jobs == NULL:
            raise MemoryError()
        self.busy = True
        try:
            for i in range(k):
                (<Emulator>ems[i])._prepare_extras(&jobs[i], progs[i], views[i], gray, size, pool)
            for i in range(k):
                (<Emulator>ems[i])._prepare_step(&jobs[i], n, pool, skip, targets[i])
            with nogil:
                retro_workers_run(self.w, run_step_jobs, jobs, <int>k)
            error = None
            for i in range(k):
                try:
                    (<Emulator>ems[i])._finish_step(&jobs[i], n, targets[i])
                except BaseException as e:
                    if error is None:
                        error = e
            if error is not None:
                raise error
            return [jobs[i].played for i in range(k)]
        finally:
            self.busy = False
            free(jobs)

    def restore(self, emulators, states):
        """``retro_unserialize`` of ``states[i]`` on emulator ``i``, for every emulator in parallel, with the GIL
        released: the core's part of a restore (``retro.emulator.restore_states`` does the rest).

        Each state is a bytes-like object of the size of its core's states.
        Returns per emulator 1 (taken), 0 (the core refused it) or -1 (the
        core threw while reading it: it may be half loaded).
        """
        cdef list ems = list(emulators)
        cdef list views
        cdef Py_ssize_t k = len(ems), i, taken = 0
        cdef RestoreJob *jobs
        cdef const unsigned char[::1] view
        self._ready()
        if len(states) != k:
            raise ValueError(f"{len(states)} states for {k} emulators")
        if len({id(e) for e in ems}) != k:
            raise ValueError("an emulator appears twice; each can run one restore at a time")
        for i in range(k):
            if not isinstance(ems[i], Emulator):
                raise TypeError(f"expected Emulator objects, got {type(ems[i]).__name__}")
        views = [memoryview(s).cast("B") for s in states]
        for i in range(k):
            if views[i].nbytes == 0:
                raise ValueError(f"state {i} is empty")
        if k <= 0:
            return []
        jobs = <RestoreJob *>calloc(<size_t>k, sizeof(RestoreJob))
        if jobs == NULL:
            raise MemoryError()
        self.busy = True
        try:
            for i in range(k):
                view = views[i]
                (<Emulator>ems[i])._prepare_restore(&jobs[i], view)
                taken += 1
            with nogil:
                retro_workers_run(self.w, run_restore_jobs, jobs, <int>k)
        finally:
            results = [(<Emulator>ems[i])._finish_restore(&jobs[i]) for i in range(taken)]
            self.busy = False
            free(jobs)
        return results

    def close(self):
        """Stop the worker threads (also done when the pool is collected)."""
        if self.busy:
            raise RetroError("cannot close a StepPool while it steps")
        retro_workers_free(self.w)
        self.w = NULL

    def __dealloc__(self):
        if self.w != NULL:
            retro_workers_free(self.w)
            self.w = NULL

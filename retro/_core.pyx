"""The libretro frontend: loads a core, installs C callbacks, runs frames.

Everything a core calls back into is plain C (``noexcept nogil``) and never
touches Python: frames are converted into one RGB buffer owned by the
emulator, audio is appended to a per-step buffer, input is read from
per-port button masks, and log lines are queued and handed to Python logging
after the core call returns. Callbacks find their emulator through a
thread-local pointer set around every core call, and each emulator loads a
private copy of its core, so many emulators can live and run in one process.

A loaded copy of a core is a :class:`_CoreCopy` (C struct ``Core``): the
library handle, its function table, and what it was given and told. An
emulator runs one copy at a time; a power cycle replaces it, possibly with a
spare copy loaded in the background (``keep_spare``), by moving one pointer.
Picture conversion and observations live in ``retro._preprocess``, the
worker pool in ``retro._workers``, button packing in ``retro._buttons``.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.buffer cimport PyBUF_WRITABLE
from libc.stdint cimport int16_t, uint8_t, uint16_t, uint32_t, uint64_t, uintptr_t
from libc.stdlib cimport calloc, free, malloc, realloc, srand
from libc.string cimport memcpy, memset, strcmp, strlen, strchr
from posix.dlfcn cimport dlclose, dlsym

from retro._libretro cimport *
from retro._preprocess cimport (ResizePlan, convert_frame, observe, observe_plan, retro_indexed_update,
                               retro_rgb_xrgb8888)
from retro._program cimport FrameProgram, program_frame

import logging
import os
import threading

import numpy as np

from retro.errors import (
    ContentLoadError,
    CoreLoadError,
    EmulatorClosedError,
    RetroError,
    StateError,
)

cdef extern from "_frontend.h" nogil:
    void retro_fe_enter(void *fe, retro_fe_log *log)
    void retro_fe_leave()
    void *retro_fe_get_current()
    void retro_fe_log_printf(retro_log_level level, const char *fmt, ...)
    void retro_fe_log_append(retro_fe_log *log, int level, const char *text, size_t n)
    void retro_fe_log_free(retro_fe_log *log)
    void *retro_fe_dlopen_private(const char *path, const char *tmpdir, char *err, size_t errlen)
    char *retro_fe_library_base(void *handle)

cdef extern from "_copyheap.h" nogil:
    int retro_copyheap_attach(void *handle, const char *path)
    int retro_copyheap_attached(void *handle)
    size_t retro_copyheap_blocks(void *handle)
    size_t retro_copyheap_close(void *handle)

cdef extern from "_digest.h" nogil:
    void retro_ram_digest(const uint8_t *ram, size_t n, uint64_t *out)
    uint64_t retro_hash64(const uint8_t *p, size_t n, uint64_t seed)

cdef extern from "_guard.h" nogil:
    int retro_guard_unserialize(retro_unserialize_fn fn, const void *data, size_t size)
    int retro_guard_serialize(retro_serialize_fn fn, void *data, size_t size)
    int retro_guard_load_game(retro_load_game_fn fn, const retro_game_info *game)
    int retro_guard_run(retro_run_fn fn, int frames)

cdef extern from "<string.h>" nogil:
    char *strdup(const char *s)

cdef extern from "<unistd.h>" nogil:
    ctypedef int pid_t
    pid_t fork()
    void _exit(int status)
    int usleep(unsigned usec)

cdef extern from "<sys/wait.h>" nogil:
    pid_t waitpid(pid_t pid, int *status, int options)
    int WNOHANG
    int WIFSIGNALED(int status)
    int WTERMSIG(int status)
    int WIFEXITED(int status)
    int WEXITSTATUS(int status)

cdef extern from "<signal.h>" nogil:
    ctypedef void (*sighandler_t)(int)
    int kill(pid_t pid, int sig)
    sighandler_t signal(int signum, sighandler_t handler)
    sighandler_t SIG_DFL
    int SIGKILL, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT

cdef extern from "<sys/resource.h>" nogil:
    ctypedef unsigned long rlim_t
    struct rlimit:
        rlim_t rlim_cur
        rlim_t rlim_max
    int setrlimit(int resource, const rlimit *rlim)
    int RLIMIT_CPU

core_log = logging.getLogger("retro.core")

#: Some cores draw from the C library's process-wide ``rand()`` when they power
#: on or reset (picodrive starts the 68000 at a random point of the frame), so
#: a second emulator in a process would start differently from the first. The
#: frontend reseeds it before each of those calls, under this lock, so every
#: emulator starts as the first one in a fresh process does.
cdef unsigned _LIBC_RAND_SEED = 1
_libc_rand_lock = threading.Lock()

#: Number of joypad ports the frontend serves (players beyond a core's own
#: ports read as released buttons).
MAX_PLAYERS = MAX_PORTS

PIXEL_FORMATS = {0: "0RGB1555", 1: "XRGB8888", 2: "RGB565"}


# ---------------------------------------------------------------------------
# C callbacks. They run inside core calls, with or without the GIL.
# ---------------------------------------------------------------------------

cdef inline Frontend *current() noexcept nogil:
    return <Frontend *>retro_fe_get_current()


cdef inline void finish_frame(Frontend *fe) noexcept nogil:
    """The step's target gets the picture from before the step (the core showed no new one)."""
    if fe.frame_pending:
        if fe.frame_before != NULL and fe.frame_before != fe.frame:
            memcpy(fe.frame, fe.frame_before, <size_t>fe.out_w * fe.out_h * 3)
            fe.shown_valid = fe.shown_valid and fe.frame != fe.own_frame
        fe.frame_pending = False


cdef bint alloc_shown(Frontend *fe) noexcept nogil:
    fe.shown = <uint8_t *>malloc(<size_t>fe.out_w * fe.out_h)
    fe.shown_valid = False
    return fe.shown != NULL


cdef void video_refresh_cb(const void *data, unsigned width, unsigned height,
                           size_t pitch) noexcept nogil:
    cdef Frontend *fe = current()
    if fe == NULL:
        return
    if data == NULL or data == RETRO_HW_FRAME_BUFFER_VALID:
        fe.frames_duped += 1
        if fe.frame_pending:
            finish_frame(fe)
        return
    fe.frames_presented += 1
    fe.last_pitch = pitch
    fe.last_src_w = width
    if fe.skip_video or not fe.running:
        # a picture outside retro_run (no core should show one) never
        # lands in an array a step handed out
        return
    fe.frame_pending = False
    fe.last_w = width
    fe.last_h = height
    if (fe.core.paletted and width == fe.out_w and height == fe.out_h and pitch == width
            and (fe.shown != NULL or alloc_shown(fe))):
        # the emulator's own buffer gets only what changed since the picture it shows
        # (a few runs of pixels a frame), and a step's target a copy of it
        retro_indexed_update(fe.own_frame, <const uint8_t *>data, fe.shown, <size_t>width * height,
                                   fe.core.palette, fe.shown_valid)
        fe.shown_valid = True
        if fe.frame != fe.own_frame:
            memcpy(fe.frame, fe.own_frame, <size_t>width * height * 3)
        return
    if fe.frame == fe.own_frame:
        fe.shown_valid = False
    convert_frame(fe.frame, fe.out_w, fe.out_h, fe.core.pixel_format, <const uint8_t *>data,
                  width, height, pitch, fe.core.palette if fe.core.paletted else NULL)


cdef inline void keep_prev(Frontend *fe) noexcept nogil:
    """Keep the current picture as the frame before the last, for max-pooling."""
    finish_frame(fe)
    memcpy(fe.prev, fe.frame, <size_t>fe.out_w * fe.out_h * 3)
    fe.prev_valid = True


cdef bint digest_room(uint64_t **buf, size_t *cap, size_t need) noexcept nogil:
    """Room for ``need`` words in a digest buffer (grown by doubling); False if memory ran out."""
    cdef size_t n
    cdef uint64_t *grown
    if need <= cap[0]:
        return True
    n = cap[0] * 2 if cap[0] else 4096
    while n < need:
        n *= 2
    grown = <uint64_t *>realloc(buf[0], n * sizeof(uint64_t))
    if grown == NULL:
        return False
    buf[0] = grown
    cap[0] = n
    return True


cdef void digest_frame(Frontend *fe) noexcept nogil:
    """Append the digest of the system RAM after the frame just played."""
    cdef Core *c = fe.core
    cdef const uint8_t *ram = <const uint8_t *>c.api.get_memory_data(RETRO_MEMORY_SYSTEM_RAM)
    cdef size_t n = c.api.get_memory_size(RETRO_MEMORY_SYSTEM_RAM) if ram != NULL else 0
    if not digest_room(&fe.digests, &fe.cap_digests, 2 * (fe.n_digests + 1)):
        fe.digest_failed = True
        return
    retro_ram_digest(ram, n, &fe.digests[2 * fe.n_digests])
    fe.n_digests += 1


cdef void digest_picture(Frontend *fe) noexcept nogil:
    """Append the current picture's hash, with the index of the frame that showed it (if ``picture_every``
    frames have passed since the last one)."""
    if fe.n_digests == 0 or fe.n_digests - 1 < fe.next_picture:
        return
    fe.next_picture = fe.n_digests - 1 + (fe.picture_every if fe.picture_every else 1)
    if not digest_room(&fe.pictures, &fe.cap_pictures, 2 * (fe.n_pictures + 1)):
        fe.digest_failed = True
        return
    fe.pictures[2 * fe.n_pictures] = fe.n_digests - 1
    fe.pictures[2 * fe.n_pictures + 1] = retro_hash64(fe.frame, <size_t>fe.out_w * fe.out_h * 3, 0)
    fe.n_pictures += 1


cdef int run_frames(StepJob *job, Frontend *fe, retro_run_fn run) noexcept nogil:
    """The frame loop: the job's frames one by one. The first ``skip`` frames, which no one observes,
    skip the picture's conversion, the frame before the last is kept for max-pooling (``pool``), and
    the scenario program, if any, is evaluated after each frame, the loop stopping at the frame it is
    done."""
    cdef int n = job.frames
    cdef int f, rc = 0
    cdef bint was_skipping = fe.skip_video
    for f in range(n):
        fe.skip_video = was_skipping or f < job.skip
        if job.pool and f == n - 1:
            keep_prev(fe)
        rc = retro_guard_run(run, 1)
        if rc != 0:
            break
        job.played += 1
        if fe.digest_on:
            digest_frame(fe)
        if job.prog != NULL and program_frame(job.prog):
            break
    fe.skip_video = was_skipping
    return rc


cdef void run_step_job(StepJob *job) noexcept nogil:
    """The frames of one ``Emulator.step`` call, then its observation; plain C, on any thread."""
    cdef Frontend *fe = job.fe
    cdef int rc
    retro_fe_enter(fe, &fe.log)
    fe.running = True
    rc = run_frames(job, fe, fe.core.api.run)
    finish_frame(fe)
    fe.frame_before = NULL
    fe.running = False
    if fe.digest_on and rc == 0 and job.played > job.skip and not fe.skip_video:
        digest_picture(fe)  # the step's last frame had its picture converted
    if rc == 0 and job.plan != NULL:
        (<ResizePlan>job.plan).run(fe.frame, fe.prev if job.pool and fe.prev_valid else NULL, job.obs_gray,
                                   job.obs_out)
    retro_fe_leave()
    job.rc = rc


cdef void run_step_jobs(void *jobs, int j) noexcept nogil:
    run_step_job(&(<StepJob *>jobs)[j])


cdef void run_restore_job(RestoreJob *job) noexcept nogil:
    """One ``retro_unserialize``; plain C, on any thread."""
    retro_fe_enter(job.fe, &job.fe.log)
    job.rc = retro_guard_unserialize(job.fe.core.api.unserialize, job.state, job.size)
    retro_fe_leave()


cdef void run_restore_jobs(void *jobs, int j) noexcept nogil:
    run_restore_job(&(<RestoreJob *>jobs)[j])


cdef bint audio_reserve(Frontend *fe, size_t frames) noexcept nogil:
    cdef size_t need = fe.audio_frames + frames
    cdef size_t cap
    cdef int16_t *grown
    if need <= fe.audio_cap:
        return True
    cap = fe.audio_cap if fe.audio_cap else 2048
    while cap < need:
        cap *= 2
    grown = <int16_t *>realloc(fe.audio, cap * 2 * sizeof(int16_t))
    if grown == NULL:
        return False
    fe.audio = grown
    fe.audio_cap = cap
    return True


cdef size_t audio_batch_cb(const int16_t *data, size_t frames) noexcept nogil:
    cdef Frontend *fe = current()
    if fe == NULL or data == NULL:
        return frames
    if audio_reserve(fe, frames):
        memcpy(fe.audio + fe.audio_frames * 2, data, frames * 2 * sizeof(int16_t))
        fe.audio_frames += frames
    return frames


cdef void audio_sample_cb(int16_t left, int16_t right) noexcept nogil:
    cdef Frontend *fe = current()
    if fe == NULL:
        return
    if audio_reserve(fe, 1):
        fe.audio[fe.audio_frames * 2] = left
        fe.audio[fe.audio_frames * 2 + 1] = right
        fe.audio_frames += 1


cdef void input_poll_cb() noexcept nogil:
    pass


cdef int16_t input_state_cb(unsigned port, unsigned device, unsigned index,
                            unsigned id) noexcept nogil:
    cdef Frontend *fe = current()
    if fe == NULL or port >= MAX_PORTS:
        return 0
    if (device & RETRO_DEVICE_MASK) != RETRO_DEVICE_JOYPAD:
        return 0
    if id == RETRO_DEVICE_ID_JOYPAD_MASK:
        return <int16_t>fe.masks[port]
    if id < 16:
        return (fe.masks[port] >> id) & 1
    return 0


cdef CoreOption *find_option(Core *c, const char *key) noexcept nogil:
    cdef unsigned i
    for i in range(c.num_options):
        if strcmp(c.options[i].key, key) == 0:
            return &c.options[i]
    return NULL


cdef CoreOption *add_option(Core *c, const char *key) noexcept nogil:
    cdef CoreOption *grown
    cdef unsigned cap
    cdef CoreOption *opt
    if c.num_options == c.cap_options:
        cap = c.cap_options * 2 if c.cap_options else 16
        grown = <CoreOption *>realloc(c.options, cap * sizeof(CoreOption))
        if grown == NULL:
            return NULL
        c.options = grown
        c.cap_options = cap
    opt = &c.options[c.num_options]
    opt.key = strdup(key)
    if opt.key == NULL:
        return NULL
    opt.value = NULL
    opt.default_value = NULL
    opt.spec = NULL
    c.num_options += 1
    return opt


cdef char *first_choice(const char *spec) noexcept nogil:
    """The default of a "Description; a|b|c" declaration: its first choice."""
    cdef const char *p = strchr(spec, b';')
    cdef const char *end
    cdef size_t n
    cdef char *out
    if p == NULL:
        return NULL
    p += 1
    while p[0] == b' ':
        p += 1
    end = strchr(p, b'|')
    n = <size_t>(end - p) if end != NULL else strlen(p)
    out = <char *>malloc(n + 1)
    if out == NULL:
        return NULL
    memcpy(out, p, n)
    out[n] = 0
    return out


cdef void declare_variables(Core *c, const retro_variable *vars) noexcept nogil:
    cdef CoreOption *opt
    while vars != NULL and vars.key != NULL:
        opt = find_option(c, vars.key)
        if opt == NULL:
            opt = add_option(c, vars.key)
            if opt == NULL:
                return
        if vars.value != NULL:
            free(opt.spec)
            opt.spec = strdup(vars.value)
            free(opt.default_value)
            opt.default_value = first_choice(vars.value)
        vars += 1


cdef void copy_memory_map(Core *c, const retro_memory_map *mmap) noexcept nogil:
    cdef size_t n
    free(c.descs)
    c.descs = NULL
    c.num_descs = 0
    if mmap == NULL or mmap.descriptors == NULL or mmap.num_descriptors == 0:
        return
    n = mmap.num_descriptors
    c.descs = <retro_memory_descriptor *>malloc(n * sizeof(retro_memory_descriptor))
    if c.descs == NULL:
        return
    memcpy(c.descs, mmap.descriptors, n * sizeof(retro_memory_descriptor))
    c.num_descs = mmap.num_descriptors


cdef enum:
    EXP = RETRO_ENVIRONMENT_EXPERIMENTAL


cdef c_bool take_palette(Core *c, const retro_paletted_video *video) noexcept nogil:
    """retro's private extension (libretro_abi.h): pictures of palette indices, converted in one pass."""
    if video == NULL or video.palette == NULL:
        return False
    for i in range(256):
        c.palette[i] = <uint32_t>retro_rgb_xrgb8888(video.palette[i])  # as R | G << 8 | B << 16
    c.paletted = True
    return True


cdef c_bool environment_cb(unsigned cmd, void *data) noexcept nogil:
    cdef Frontend *fe = current()
    cdef Core *c
    cdef unsigned base
    cdef CoreOption *opt
    cdef retro_variable *var
    cdef const retro_controller_info *ports
    cdef unsigned n
    cdef unsigned fmt
    cdef const retro_message *msg
    if fe == NULL or fe.core == NULL:
        return False
    c = fe.core
    base = cmd & ~(<unsigned>RETRO_ENVIRONMENT_EXPERIMENTAL)
    if base == RETRO_ENVIRONMENT_GET_CAN_DUPE:
        if data != NULL:
            (<c_bool *>data)[0] = True
        return True
    if base == RETRO_ENVIRONMENT_GET_OVERSCAN:
        if data != NULL:
            (<c_bool *>data)[0] = False
        return True
    if base == RETRO_ENVIRONMENT_SET_PIXEL_FORMAT:
        if data == NULL:
            return False
        fmt = (<unsigned *>data)[0]
        if fmt > 2:
            return False
        c.pixel_format = <int>fmt
        return True
    if base == RETRO_ENVIRONMENT_RETRO_PALETTED_VIDEO:
        fe.shown_valid = False
        return take_palette(c, <const retro_paletted_video *>data)
    if base == RETRO_ENVIRONMENT_GET_VARIABLE:
        var = <retro_variable *>data
        if var == NULL or var.key == NULL:
            return False
        opt = find_option(c, var.key)
        if opt == NULL or opt.value == NULL:
            return False
        var.value = opt.value
        return True
    if base == RETRO_ENVIRONMENT_GET_VARIABLE_UPDATE:
        if data != NULL:
            (<c_bool *>data)[0] = c.options_updated
        c.options_updated = False
        return True
    if base == RETRO_ENVIRONMENT_SET_VARIABLES:
        declare_variables(c, <const retro_variable *>data)
        return True
    if base == RETRO_ENVIRONMENT_SET_VARIABLE:
        var = <retro_variable *>data
        if var == NULL:
            return True
        if var.key == NULL or var.value == NULL:
            return False
        opt = find_option(c, var.key)
        if opt == NULL:
            return False
        free(opt.value)
        opt.value = strdup(var.value)
        c.options_updated = True
        return True
    if base == RETRO_ENVIRONMENT_GET_CORE_OPTIONS_VERSION:
        # Version 0: cores declare options through SET_VARIABLES.
        if data != NULL:
            (<unsigned *>data)[0] = 0
        return False
    if base == RETRO_ENVIRONMENT_GET_SYSTEM_DIRECTORY or base == RETRO_ENVIRONMENT_GET_CORE_ASSETS_DIRECTORY:
        if data == NULL:
            return False
        (<const char **>data)[0] = c.system_dir
        return c.system_dir != NULL
    if base == RETRO_ENVIRONMENT_GET_SAVE_DIRECTORY:
        if data == NULL:
            return False
        (<const char **>data)[0] = c.save_dir
        return c.save_dir != NULL
    if base == RETRO_ENVIRONMENT_GET_LIBRETRO_PATH:
        if data == NULL:
            return False
        (<const char **>data)[0] = c.core_path
        return c.core_path != NULL
    if base == RETRO_ENVIRONMENT_GET_LOG_INTERFACE:
        if data == NULL:
            return False
        (<retro_log_callback *>data).log = retro_fe_log_printf
        return True
    if base == RETRO_ENVIRONMENT_SET_MESSAGE:
        msg = <const retro_message *>data
        if msg != NULL and msg.msg != NULL:
            retro_fe_log_append(&fe.log, RETRO_LOG_INFO, msg.msg, strlen(msg.msg))
        return True
    if base == (RETRO_ENVIRONMENT_SET_MEMORY_MAPS & ~EXP):
        copy_memory_map(c, <const retro_memory_map *>data)
        return True
    if base == RETRO_ENVIRONMENT_SET_CONTROLLER_INFO:
        ports = <const retro_controller_info *>data
        n = 0
        while ports != NULL and ports[n].types != NULL and n < 64:
            n += 1
        if n:
            c.num_ports = n
        return True
    if base == RETRO_ENVIRONMENT_SET_GEOMETRY:
        if data == NULL:
            return False
        c.av.geometry = (<const retro_game_geometry *>data)[0]
        c.av_changed = True
        return True
    if base == RETRO_ENVIRONMENT_SET_SYSTEM_AV_INFO:
        if data == NULL:
            return False
        c.av = (<const retro_system_av_info *>data)[0]
        c.av_changed = True
        return True
    if base == RETRO_ENVIRONMENT_SET_ROTATION:
        if data == NULL:
            return False
        c.rotation = (<unsigned *>data)[0] & 3
        return True
    if base == RETRO_ENVIRONMENT_SHUTDOWN:
        c.shutdown = True
        return True
    if base == (RETRO_ENVIRONMENT_GET_INPUT_BITMASKS & ~EXP):
        return True
    if base == RETRO_ENVIRONMENT_GET_INPUT_MAX_USERS:
        if data != NULL:
            (<unsigned *>data)[0] = MAX_PORTS
        return True
    if base == RETRO_ENVIRONMENT_GET_LANGUAGE:
        if data != NULL:
            (<unsigned *>data)[0] = 0  # English
        return True
    if base == (RETRO_ENVIRONMENT_GET_AUDIO_VIDEO_ENABLE & ~EXP):
        if data != NULL:
            # audio always; video unless this frame's picture is skipped (frame skip, video off)
            (<int *>data)[0] = 2 if fe.skip_video else 3
        return True
    if base == (RETRO_ENVIRONMENT_GET_FASTFORWARDING & ~EXP):
        if data != NULL:
            (<c_bool *>data)[0] = False
        return True
    if base == RETRO_ENVIRONMENT_SET_SERIALIZATION_QUIRKS:
        if data != NULL:
            c.serialization_quirks = (<uint64_t *>data)[0]
        return True
    if (base == RETRO_ENVIRONMENT_SET_PERFORMANCE_LEVEL
            or base == RETRO_ENVIRONMENT_SET_INPUT_DESCRIPTORS
            or base == RETRO_ENVIRONMENT_SET_SUPPORT_NO_GAME
            or base == (RETRO_ENVIRONMENT_SET_SUPPORT_ACHIEVEMENTS & ~EXP)):
        return True
    if fe.unknown_env_calls < 32:
        fe.unknown_cmds[fe.unknown_env_calls] = cmd
    fe.unknown_env_calls += 1
    return False




cdef int set_option_value(Core *c, const char *key, const char *value) noexcept nogil:
    """Set an option's value in a core copy (declaring the key if the core has not); -1 if out
    of memory."""
    cdef CoreOption *opt = find_option(c, key)
    cdef char *copy = strdup(value)
    if copy == NULL:
        return -1
    if opt == NULL:
        opt = add_option(c, key)
        if opt == NULL:
            free(copy)
            return -1
    free(opt.value)
    opt.value = copy
    return 0


# ---------------------------------------------------------------------------
# Buffers shared with numpy, and the core copies they point into.
# ---------------------------------------------------------------------------

cdef class _View:
    """A 1-D uint8 buffer over memory owned by an emulator's core.

    It keeps the emulator (and so the core library and its memory) alive for
    as long as any numpy array made from it exists.
    """
    cdef object owner       # keeps the memory alive: the emulator, or a core copy
    cdef Emulator counted   # the emulator whose frame buffer this views, or None
    cdef void *ptr
    cdef Py_ssize_t size
    cdef bint readonly
    cdef Py_ssize_t shape[1]
    cdef Py_ssize_t strides[1]

    def __getbuffer__(self, Py_buffer *buf, int flags):
        if self.readonly and (flags & PyBUF_WRITABLE):
            raise BufferError("this view of the emulator is read-only")
        self.shape[0] = self.size
        self.strides[0] = 1
        buf.buf = self.ptr
        buf.obj = self
        buf.len = self.size
        buf.readonly = self.readonly
        buf.itemsize = 1
        buf.format = b"B"
        buf.ndim = 1
        buf.shape = self.shape
        buf.strides = self.strides
        buf.suboffsets = NULL
        buf.internal = NULL
        if self.counted is not None:
            self.counted.exports += 1

    def __releasebuffer__(self, Py_buffer *buf):
        if self.counted is not None:
            self.counted.exports -= 1

    def __dealloc__(self):
        cdef _CoreCopy copy
        if isinstance(self.owner, _CoreCopy):
            copy = <_CoreCopy>self.owner
            copy.views -= 1
            if copy.views == 0 and copy.unload_pending:
                copy._unload_now()


cdef void unload_game_and_core(Frontend *fe, Core *c) noexcept nogil:
    """``retro_unload_game`` and ``retro_deinit`` of ``c`` (as far as it got), its callbacks going to ``fe``."""
    retro_fe_enter(fe, &fe.log)
    if c.loaded:
        if c.before_unload != NULL:
            c.before_unload()
        c.api.unload_game()
    if c.initialised:
        c.api.deinit()
    retro_fe_leave()


cdef class _CoreCopy:
    """One loaded copy of a core library and what belongs to it (a C ``Core``).

    The copy owns the strings and content it handed the core, which the core
    may keep pointers to while it is loaded, and what the core told the
    frontend (pixel format, memory map, options it declared and their
    values). The emulator holds its current copy; views into core memory
    hold the copy they point into, so they stay readable after a power cycle
    or ``close()`` (showing the old run), and the library is unmapped and
    the strings freed after them.

    A copy whose emulator lets go of it (``close()``, a power cycle, a
    restore on a spare copy) while views into its memory are alive keeps its
    game loaded until the last of them goes, then unloads it: a core frees
    the game's memory at unload (the ALE core's RAM is on the heap), and the
    next game loaded in the process would be handed it, so writes through an
    old view would land in another emulator. Until then the memory stays the
    old run's, and :data:`_pending` keeps the copy.
    """

    cdef void _unload_now(self) noexcept:
        """Unload the game and deinit the core of a copy whose emulator let go of it, on a frontend of its
        own (the core's callbacks see this copy's options), then let the copy go."""
        cdef Core *c = self.c
        cdef Frontend *fe = <Frontend *>calloc(1, sizeof(Frontend))
        self.unload_pending = False
        if fe != NULL and c != NULL:
            fe.core = c
            with nogil:
                unload_game_and_core(fe, c)
            c.loaded = False
            c.initialised = False
            c.reusable = self.reuse_after
            retro_fe_log_free(&fe.log)
        free(fe)
        try:
            _pending.remove(self)
        except Exception:  # not there, or the interpreter is shutting down
            pass

    def __cinit__(self):
        self.c = <Core *>calloc(1, sizeof(Core))
        if self.c == NULL:
            raise MemoryError()
        self.c.num_ports = 2

    def __dealloc__(self):
        cdef Core *c = self.c
        cdef void *h
        cdef unsigned i
        if c == NULL:
            return
        self.c = NULL
        h = c.handle
        c.handle = NULL
        if h != NULL and c.reusable and c.core_path != NULL and _keep_idle_copy(c.core_path, h):
            h = NULL
        if h != NULL:
            with nogil:
                retro_copyheap_close(h)
        for i in range(c.num_options):
            free(c.options[i].key)
            free(c.options[i].value)
            free(c.options[i].default_value)
            free(c.options[i].spec)
        free(c.options)
        free(c.descs)
        free(c.system_dir)
        free(c.save_dir)
        free(c.core_path)
        free(c.rom_path)
        free(c)


# Private copies of cores that are reused: loaded copies whose emulators are gone wait
# here, deinitialised, for the next emulator of the same core, which initialises one
# again (retro_init) instead of loading a new copy. Some cores allocate memory in
# their library's initialisers that unloading never frees (Stella, snes9x); with
# reuse, making and closing emulators does not grow the process.
cdef dict _idle_copies = {}     # core path -> [handle, ...]
cdef set _reused_cores = set()  # core paths whose copies are reused
cdef dict _power_on = {}        # core path -> ((offset, bytes), ...) written before reuse
cdef dict _before_unload = {}   # core path -> name of a function the core exports, called before unload

#: Most closed copies kept per core (beyond these, a closed copy is unloaded).
MAX_IDLE_COPIES = 8


def reuse_core_copies(core_path, bint enable=True, power_on=()):
    """Reuse closed private copies of the core at ``core_path`` (or stop, and unload the
    idle ones). A reused copy is deinitialised (``retro_deinit``) when its emulator
    goes and initialised (``retro_init``) for the next one, so it must be a core whose
    ``retro_init`` starts it afresh, once ``power_on`` is written.

    ``power_on``: ``(offset, value)`` pairs, each a variable of the library that
    ``retro_init`` does not set again (an offset from the library's load address,
    inside its writable data) and the bytes it holds in a newly loaded copy. They are
    written into a closed copy before it is initialised again."""
    path = os.fspath(core_path)
    if enable:
        _power_on[path] = tuple((int(offset), bytes(value)) for offset, value in power_on)
        _reused_cores.add(path)
        return
    _reused_cores.discard(path)
    _power_on.pop(path, None)
    for handle in _idle_copies.pop(path, []):
        retro_copyheap_close(<void *><uintptr_t>handle)


def call_before_unload(core_path, symbol):
    """Call ``symbol``, a function that the core at ``core_path`` exports and that takes no arguments, on every
    copy of that core before its game is unloaded (copies loaded from now on, and those of emulators that ask
    with ``Emulator._call_before_unload``; a copy that does not export it is left alone); ``None`` stops. For a
    core whose own unload path trips over state it keeps, where one of its functions puts that state right
    first."""
    path = os.fspath(core_path)
    if symbol is None:
        _before_unload.pop(path, None)
    else:
        _before_unload[path] = str(symbol)


cdef core_hook_fn _resolve_hook(void *handle, str symbol) noexcept:
    """``symbol`` of the core library ``handle``, NULL if it does not export it."""
    return <core_hook_fn>dlsym(handle, symbol.encode())


def pending_core_copies():
    """How many core copies keep their game loaded until the views into their memory go."""
    return len(_pending)


def idle_core_copies():
    """``{core path: number of closed copies waiting to be reused}``."""
    return {path: len(handles) for path, handles in _idle_copies.items() if handles}


cdef bint _keep_idle_copy(const char *core_path, void *handle) noexcept:
    """Park a deinitialised copy for reuse; False if it is to be unloaded."""
    try:
        if _idle_copies is None or _reused_cores is None:  # interpreter shutdown
            return False
        path = core_path.decode("utf-8", "surrogateescape")
        if path not in _reused_cores:
            return False
        idle = _idle_copies.setdefault(path, [])
        if len(idle) >= MAX_IDLE_COPIES:
            return False
        idle.append(<uintptr_t>handle)
        return True
    except BaseException:
        return False


cdef void *_take_idle_copy(str core_path) except? NULL:
    """A parked copy of the core at ``core_path`` with its power-on values written back,
    or NULL."""
    cdef char *base
    cdef const char *value
    cdef void *handle
    idle = _idle_copies.get(core_path)
    writes = _power_on.get(core_path, ())
    while idle:
        handle = <void *><uintptr_t>idle.pop()
        base = retro_fe_library_base(handle)
        if base == NULL and writes:
            retro_copyheap_close(handle)  # cannot put it back as new
            continue
        for offset, data in writes:
            value = data
            memcpy(base + <size_t>offset, value, len(data))
        return handle
    return NULL


#: Core copies whose game stays loaded until the views into their memory go (see ``_CoreCopy``).
cdef list _pending = []


cdef object make_view(object owner, void *ptr, size_t size, bint readonly):
    cdef _View v = _View.__new__(_View)
    v.owner = owner
    if isinstance(owner, Emulator):
        v.counted = owner
    elif isinstance(owner, _CoreCopy):
        (<_CoreCopy>owner).views += 1
    v.ptr = ptr
    v.size = <Py_ssize_t>size
    v.readonly = readonly
    return np.asarray(v)


def _memory_region_names():
    return {
        "save_ram": RETRO_MEMORY_SAVE_RAM,
        "rtc": RETRO_MEMORY_RTC,
        "system_ram": RETRO_MEMORY_SYSTEM_RAM,
        "video_ram": RETRO_MEMORY_VIDEO_RAM,
    }


cdef char *dup_str(object s) except? NULL:
    """A malloc'd UTF-8 copy of ``s``, or NULL for None."""
    cdef char *out
    if s is None:
        return NULL
    out = strdup(str(s).encode())
    if out == NULL:
        raise MemoryError()
    return out


# ---------------------------------------------------------------------------
# The emulator.
# ---------------------------------------------------------------------------

cdef tuple _SYMBOLS = (
    "retro_set_environment", "retro_set_video_refresh", "retro_set_audio_sample",
    "retro_set_audio_sample_batch", "retro_set_input_poll", "retro_set_input_state",
    "retro_init", "retro_deinit", "retro_api_version", "retro_get_system_info",
    "retro_get_system_av_info", "retro_set_controller_port_device", "retro_reset",
    "retro_run", "retro_serialize_size", "retro_serialize", "retro_unserialize",
    "retro_cheat_reset", "retro_cheat_set", "retro_load_game", "retro_unload_game",
    "retro_get_region", "retro_get_memory_data", "retro_get_memory_size",
)


# The garbage collector must not clear the core copy before __dealloc__ unloads
# the core (an emulator in a reference cycle would call into an unmapped library).
@cython.no_gc_clear
cdef class Emulator:
    """One running libretro core with one loaded game.

    This is the low-level frontend; ``retro.RetroEmulator`` builds on it and
    picks the core and system settings from the ROM.

    Args:
        rom_path: the game to load.
        core_path: the core's shared library (``*_libretro.so``).
        options: core option values to set; options not given keep the core's
            built-in defaults.
        system_dir: directory handed to the core for BIOS files.
        save_dir: directory handed to the core for battery saves.
        screen_size: ``(width, height)`` of the picture; defaults to the
            core's base geometry.
        private_copy: load a private copy of the core library (the default),
            so several emulators of one core can coexist in a process.
        free_leaks: for a core that leaks when its game is unloaded (private
            copies only): record what each copy allocates, and free what it
            still holds when the copy is closed (``_copyheap.h``).

    ``keep_spare = True`` keeps a fresh copy of the core and game loading in
    the background, which the next power cycle (or ``_restore_on_spare``)
    swaps in instead of loading one then (private copies only).
    """

    def __cinit__(self, *args, **kwargs):
        self.fe = <Frontend *>calloc(1, sizeof(Frontend))
        if self.fe == NULL:
            raise MemoryError()
        self._plans = {}
        self._port_devices = {}

    def __init__(self, rom_path, core_path, *, options=None, system_dir=None,
                 save_dir=None, screen_size=None, private_copy=True, free_leaks=False):
        rom_path = os.fspath(rom_path)
        core_path = os.fspath(core_path)
        self.rom_path = rom_path
        self.core_path = core_path
        self._private_copy = bool(private_copy)
        self._ctor = dict(system_dir=system_dir, save_dir=save_dir, screen_size=screen_size,
                          private_copy=private_copy, free_leaks=bool(free_leaks))
        if not os.path.isfile(core_path):
            raise CoreLoadError(f"libretro core not found: {core_path}")
        try:
            with open(rom_path, "rb") as f:
                self._rom_data = f.read()
        except OSError as e:
            raise ContentLoadError(f"cannot read ROM {rom_path}: {e.strerror}") from e
        if not self._rom_data:
            raise ContentLoadError(f"ROM {rom_path} is empty")
        self._open_core({str(k): str(v) for k, v in (options or {}).items()})
        self._init_core()
        self._load_content()
        self._setup_video(screen_size)
        self.drain_log()

    # -- loading -------------------------------------------------------------

    cdef void _open_core(self, dict options) except *:
        """Load a new copy of the core library with ``options`` and make it the current one."""
        cdef char err[1024]
        cdef bytes bpath = self.core_path.encode()
        cdef bytes btmp
        cdef const char *tmpdir = NULL
        cdef const char *cpath = bpath
        cdef void *handle = NULL
        cdef void *sym
        cdef _CoreCopy copy = _CoreCopy.__new__(_CoreCopy)
        cdef Core *c = copy.c
        cdef void **slots = <void **>&c.api
        cdef list missing = []
        cdef Py_ssize_t i
        cdef unsigned version
        cdef bytes bkey, bvalue
        path = self.core_path
        err[0] = 0
        if self._private_copy:
            handle = _take_idle_copy(path)
        if handle != NULL:
            pass
        elif self._private_copy:
            for candidate in _private_copy_dirs():
                btmp = candidate.encode()
                tmpdir = btmp
                with nogil:
                    handle = retro_fe_dlopen_private(cpath, tmpdir, err, sizeof(err))
                if handle != NULL:
                    break
        else:
            with nogil:
                handle = retro_fe_dlopen_private(cpath, NULL, err, sizeof(err))
        if handle == NULL:
            raise CoreLoadError(
                f"cannot load libretro core {path}: {err.decode(errors='replace')}")
        c.handle = handle  # from here on, dropping `copy` unloads the library
        for i, name in enumerate(_SYMBOLS):
            sym = dlsym(handle, name.encode())
            if sym == NULL:
                missing.append(name)
            slots[i] = sym
        if missing:
            raise CoreLoadError(
                f"{path} is not a libretro core: it does not export {', '.join(missing)}")
        if path in _before_unload:
            c.before_unload = _resolve_hook(handle, _before_unload[path])
        if self._ctor["free_leaks"] and self._private_copy and not retro_copyheap_attached(handle):
            retro_copyheap_attach(handle, cpath)  # where it cannot, the copy runs unattached
        version = c.api.api_version()
        if version != RETRO_API_VERSION:
            raise CoreLoadError(
                f"{path} speaks libretro API version {version}; retro speaks version "
                f"{RETRO_API_VERSION}")
        c.system_dir = dup_str(self._ctor["system_dir"])
        c.save_dir = dup_str(self._ctor["save_dir"])
        c.core_path = dup_str(path)
        c.rom_path = dup_str(os.path.abspath(self.rom_path))
        copy.rom_data = self._rom_data
        for key, value in options.items():
            bkey, bvalue = key.encode(), value.encode()
            if set_option_value(c, bkey, bvalue) != 0:
                raise MemoryError()
        self._copy = copy
        self.fe.core = c

    cdef void _init_core(self) except *:
        cdef Frontend *fe = self.fe
        cdef Core *c = fe.core
        cdef retro_system_info info
        memset(&info, 0, sizeof(info))
        with _libc_rand_lock, nogil:
            srand(_LIBC_RAND_SEED)
            retro_fe_enter(fe, &fe.log)
            c.api.set_environment(environment_cb)
            c.api.set_video_refresh(video_refresh_cb)
            c.api.set_audio_sample(audio_sample_cb)
            c.api.set_audio_sample_batch(audio_batch_cb)
            c.api.set_input_poll(input_poll_cb)
            c.api.set_input_state(input_state_cb)
            c.api.init()
            c.api.get_system_info(&info)
            retro_fe_leave()
        c.initialised = True
        self.library_name = _str(info.library_name)
        self.library_version = _str(info.library_version)
        self.valid_extensions = _str(info.valid_extensions)
        self.need_fullpath = info.need_fullpath

    cdef void _load_content(self) except *:
        cdef Frontend *fe = self.fe
        cdef Core *c = fe.core
        cdef retro_game_info game
        cdef int rc
        memset(&game, 0, sizeof(game))
        c.paletted = False  # until the core asks for it again
        game.path = c.rom_path
        if not self.need_fullpath:
            game.data = PyBytes_AS_STRING(self._copy.rom_data)
            game.size = len(self._copy.rom_data)
        with _libc_rand_lock, nogil:
            srand(_LIBC_RAND_SEED)
            retro_fe_enter(fe, &fe.log)
            rc = retro_guard_load_game(c.api.load_game, &game)
            if rc == 1:
                c.api.get_system_av_info(&c.av)
            retro_fe_leave()
        if rc != 1:
            self.drain_log()
            raise ContentLoadError(
                f"the {self.library_name or 'libretro'} core rejected {self.rom_path}: it is not a "
                f"game this core can run (supported extensions: {self.valid_extensions or '?'})")
        c.loaded = True
        c.av_changed = False
        cdef unsigned port_id, device_id
        for port, device in self._port_devices.items():  # plugged in before this copy loaded
            port_id, device_id = port, device
            retro_fe_enter(fe, &fe.log)
            c.api.set_controller_port_device(port_id, device_id)
            retro_fe_leave()

    cdef void _setup_video(self, screen_size) except *:
        cdef Frontend *fe = self.fe
        w, h = fe.core.av.geometry.base_width, fe.core.av.geometry.base_height
        if screen_size is not None:
            if screen_size[0] is not None:
                w = screen_size[0]
            if screen_size[1] is not None:
                h = screen_size[1]
        if w <= 0 or h <= 0 or w > 8192 or h > 8192:
            raise ContentLoadError(f"the core reported an unusable picture size {w}x{h}")
        fe.out_w = w
        fe.out_h = h
        fe.own_frame = <uint8_t *>calloc(<size_t>w * h * 3, 1)
        if fe.own_frame == NULL:
            raise MemoryError()
        fe.frame = fe.own_frame

    # -- lifecycle ------------------------------------------------------------

    cdef int _check(self) except -1:
        if self._closed:
            raise EmulatorClosedError("this emulator is closed")
        if self.busy:
            raise RetroError("this emulator is already running on another thread")
        return 0

    cdef int _check_open(self) except -1:
        if self._closed or self.fe == NULL or self.fe.core == NULL:
            raise EmulatorClosedError("this emulator is closed")
        return 0

    cdef int _enter(self) except -1:
        """Take the emulator for one call that may release the GIL (the guard ``step`` takes).

        Checking and taking happen with the GIL held and nothing in between,
        so of two threads only one gets the emulator; the other gets a
        ``RetroError`` instead of reaching the core at the same time (or
        after ``close()`` unloaded it). ``_leave`` gives it back."""
        self._check()
        if self.fe == NULL or self.fe.core == NULL:
            raise EmulatorClosedError("this emulator is closed")
        self.busy = True
        return 0

    cdef void _leave(self) noexcept:
        self.busy = False

    def close(self):
        """Unload the game and the core.

        Views handed out earlier (``screen``, ``memory``) keep the core's
        memory mapped until they are gone; the emulator itself is unusable
        after this.
        """
        if self._closed:
            return
        if self.busy:
            raise RetroError("cannot close an emulator while it runs on another thread")
        self._closed = True
        if self._spare_thread is not None:
            self._spare_thread.join()
            for spare in self._spare_thread.box:
                if isinstance(spare, Emulator):
                    spare.close()
            self._spare_thread = None
        if self.exports == 0:
            self._teardown()

    cdef void _teardown(self) noexcept:
        cdef Frontend *fe = self.fe
        if fe == NULL:
            return
        self._unload_core()
        fe.frame = NULL
        free(fe.own_frame)
        fe.own_frame = NULL
        free(fe.shown)
        fe.shown = NULL
        self._frame_obj = None
        free(fe.prev)
        free(fe.audio)
        free(fe.digests)
        free(fe.pictures)
        retro_fe_log_free(&fe.log)
        free(fe)
        self.fe = NULL

    def __dealloc__(self):
        self._teardown()

    cdef void _unload_core(self) noexcept:
        """Unload the game and deinit the current copy; the library is unmapped when the last
        view into it goes."""
        cdef Frontend *fe = self.fe
        cdef Core *c
        if self._copy is None:
            return
        c = self._copy.c
        if self._copy.views > 0:
            # views into this copy's memory are alive: its game stays loaded until they go (see _CoreCopy)
            self._copy.reuse_after = c.initialised and self._private_copy and not c.shutdown and not c.spoiled
            self._copy.unload_pending = True
            _pending.append(self._copy)
            self._copy = None
            fe.core = NULL
            return
        with nogil:
            unload_game_and_core(fe, c)
        c.reusable = c.initialised and self._private_copy and not c.shutdown and not c.spoiled
        c.loaded = False
        c.initialised = False
        self._copy = None
        fe.core = NULL

    def power_cycle(self):
        """Switch the console off and on: a fresh copy of the core loads the game.

        Nothing of the previous run survives, not even state a core keeps
        outside its save states; option values and plugged controllers do.
        Views from ``get_memory()``/``memory`` made before refer to the old
        run; take new ones (``memory_generation`` counts power cycles).
        """
        cdef Frontend *fe = self.fe
        cdef dict options
        self._enter()
        if self.keep_spare and self._private_copy:
            try:
                old = self._swap_in(self._ready_spare())
            finally:
                self._leave()
            self._start_spare(old)
            return
        options = self._option_values()
        try:
            self._unload_core()  # first: without private copies the new load shares its globals
            self.memory_generation += 1
            self.cheat_index = 0
            fe.audio_frames = 0
            self._open_core(options)
            self._init_core()
            self._load_content()
        except BaseException:
            self._closed = True  # no core to run
            raise
        finally:
            self._leave()
            self.drain_log()

    def _start_spare(self, old=None):
        """On a background thread: close ``old`` (an emulator holding a used core), then load
        a fresh copy of the core and game, with this emulator's option values and
        controllers, for the next swap."""
        import threading

        if self._spare_thread is not None:
            if old is not None:
                old.close()
            return
        made_from = (self._option_values(), dict(self._port_devices))
        box = []

        def load():
            if old is not None:
                old.close()
            try:
                box.append(self._new_spare(made_from))
            except Exception as e:  # the next swap loads in the foreground instead
                box.append(e)

        thread = threading.Thread(target=load, name="retro-spare-core", daemon=True)
        thread.box = box
        self._spare_thread = thread
        thread.start()

    def _new_spare(self, made_from):
        """A fresh emulator of this core and game, loaded with ``made_from`` (option values,
        controllers)."""
        cdef Emulator spare
        options, devices = made_from
        spare = Emulator(self.rom_path, self.core_path, options=options, **{
            k: v for k, v in self._ctor.items() if k != "options"})
        for port, device in devices.items():
            spare.set_controller_port_device(port, device)
        spare._made_from = made_from
        return spare

    def _wait_for_spare(self):
        """Wait until the spare loading in the background (if any) is ready, and the core it
        replaced closed."""
        if self._spare_thread is not None:
            self._spare_thread.join()

    cdef object _ready_spare(self):
        """A fresh emulator whose core this one can swap in: the spare loaded in the
        background if it is ready and current, otherwise one loaded now."""
        cdef Emulator spare = None
        made_from = (self._option_values(), dict(self._port_devices))
        if self._spare_thread is not None:
            self._spare_thread.join()
            result = self._spare_thread.box[0] if self._spare_thread.box else None
            self._spare_thread = None
            if isinstance(result, Emulator):
                spare = result
                if spare._made_from != made_from:
                    # options changed or controllers were plugged since it was loaded
                    spare.close()
                    spare = None
        if spare is None:
            spare = self._new_spare(made_from)
        return spare

    cdef object _swap_in(self, Emulator spare):
        """Make the spare's fresh core this emulator's, and this emulator's core the spare's.

        Each core copy carries what it was given and told, so this moves one
        pointer each way. Returns the spare, now holding the used core (to be
        closed)."""
        self._copy, spare._copy = spare._copy, self._copy
        self.fe.core = self._copy.c
        spare.fe.core = spare._copy.c
        self.fe.audio_frames = 0
        self.memory_generation += 1
        self.cheat_index = 0
        return spare

    def _option_values(self):
        """``{key: value}`` of the options set on the current core copy."""
        cdef Core *c = self.fe.core if self.fe != NULL else NULL
        cdef unsigned i
        if c == NULL:
            return {}
        return {_str(c.options[i].key): _str(c.options[i].value)
                for i in range(c.num_options) if c.options[i].value != NULL}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def closed(self):
        """True once ``close()`` was called."""
        return self._closed

    # -- running ---------------------------------------------------------------

    def step(self, int n=1, *, bint pool=False, int skip=0, out=None, program=None, obs=None,
             bint gray=False, size=None):
        """Run ``n`` frames (one ``retro_run`` each) with the GIL released.

        ``pool=True`` keeps the frame before the last one, for
        ``get_observation(pool=True)`` (max-pooling over a frame skip).
        ``skip=k`` does not convert the pictures of the first ``k`` frames,
        which no one observes (``skip=n - 1``, or ``n - 2`` with ``pool``,
        converts only what a frame skip's observation needs): cheaper frame
        skips. The frames are played all the same.

        ``out``, a writable C-contiguous uint8 array of the screen's shape
        (H, W, 3), receives the new picture straight from the core's frame
        conversion, with no copy, and is returned. It then holds the
        emulator's current picture (what ``screen``, ``get_screen()`` and
        ``get_observation()`` read) until the next step; the emulator never
        writes into it again. Without ``out`` the picture goes to the
        emulator's own buffer, and ``step`` returns None.

        ``program``, a ``retro._program.FrameProgram`` over this emulator's
        memory (``GameData.frame_program()``), is evaluated after every frame
        and the step stops after the frame where it is done; between its
        ``begin`` and ``finish`` it sums the step's rewards. ``obs``, an array
        as ``get_observation(out=obs, gray=gray, size=size, pool=pool)``
        fills, receives the observation of the last frame, preprocessed in the
        same call. Returns the number of frames played when ``program`` is
        given.
        """
        cdef StepJob job
        self._check_step(n, pool, out)
        self._prepare_extras(&job, program, obs, gray, size, pool)
        self._prepare_step(&job, n, pool, skip, out)
        with nogil:
            run_step_job(&job)
        result = self._finish_step(&job, n, out)
        return job.played if program is not None else result

    cdef int _check_step(self, int n, bint pool, object out) except -1:
        """Everything that can refuse a step, before anything changes."""
        cdef Frontend *fe = self.fe
        self._check()
        if n < 0:
            raise ValueError(f"step() takes a frame count >= 0, got {n}")
        if out is not None:
            shape = (fe.out_h, fe.out_w, 3)
            if (not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != shape
                    or not out.flags.c_contiguous or not out.flags.writeable):
                raise ValueError(
                    f"out must be a writable C-contiguous uint8 array of shape {shape}, got "
                    f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}")
        if pool and fe.prev == NULL:
            fe.prev = <uint8_t *>calloc(<size_t>fe.out_w * fe.out_h * 3, 1)
            if fe.prev == NULL:
                raise MemoryError()
        return 0

    cdef void _prepare_step(self, StepJob *job, int n, bint pool, int skip, object out):
        cdef Frontend *fe = self.fe
        cdef uint8_t *target = fe.own_frame
        cdef uint8_t[:, :, ::1] dst
        if out is not None:
            dst = out
            target = &dst[0, 0, 0]
        if target != fe.frame:
            # the picture moves to a new place; until the core presents a
            # frame, the one from before the step is the current picture
            fe.frame_before = fe.frame
            fe.frame = target
            fe.frame_pending = True
        job.fe = fe
        job.frames = n
        job.pool = pool
        job.skip = skip
        job.rc = 0
        job.played = 0
        self.busy = True
        fe.audio_frames = 0

    cdef int _prepare_extras(self, StepJob *job, object program, object obs, bint gray, object size,
                             bint pool) except -1:
        """The job's scenario program and preprocessed observation, checked (before ``_prepare_step``)."""
        cdef Frontend *fe = self.fe
        cdef uint8_t[::1] flat
        cdef FrameProgram prog
        cdef ResizePlan plan
        job.prog = NULL
        job.plan = NULL
        job.obs_out = NULL
        job.obs_gray = gray
        if program is not None:
            if not isinstance(program, FrameProgram):
                raise TypeError(f"program must be a retro._program.FrameProgram, not {type(program).__name__}")
            prog = program
            job.prog = &prog.p
        if obs is not None:
            plan = observe_plan(fe.out_h, fe.out_w, obs, gray, size, self._plans)  # kept in self._plans
            job.plan = <void *>plan
            flat = obs.reshape(-1)
            job.obs_out = &flat[0]
        return 0

    cdef object _finish_step(self, StepJob *job, int n, object out):
        self.busy = False
        self._frame_obj = out
        if job.rc != 0:
            self._fail("retro_run")
        self.frame_count += job.played
        if self.fe.log.len or self.fe.log.dropped:
            self.drain_log()
        return out

    def set_controller_port_device(self, unsigned port, unsigned device=RETRO_DEVICE_JOYPAD):
        """Plug a device into a port (``retro_set_controller_port_device``; 1 = joypad)."""
        cdef Frontend *fe = self.fe
        self._check()
        retro_fe_enter(fe, &fe.log)
        fe.core.api.set_controller_port_device(port, device)
        retro_fe_leave()
        self._port_devices[port] = device  # kept plugged in across power cycles
        self.drain_log()

    def reset(self):
        """Press the console's reset button (``retro_reset``)."""
        cdef Frontend *fe = self.fe
        self._enter()
        with _libc_rand_lock, nogil:
            srand(_LIBC_RAND_SEED)
            retro_fe_enter(fe, &fe.log)
            fe.core.api.reset()
            retro_fe_leave()
        self._leave()
        self.drain_log()

    def set_button_mask(self, mask, int player=0):
        """Set the buttons held on a player's joypad.

        ``mask`` is either a sequence of up to 16 truth values, indexed by the
        libretro joypad button id, or an int whose bit ``i`` is button ``i``.
        """
        cdef uint16_t bits = 0
        cdef Py_ssize_t i, n
        if self._closed:
            raise EmulatorClosedError("this emulator is closed")
        if player < 0 or player >= MAX_PORTS:
            raise ValueError(f"player must be in 0..{MAX_PORTS - 1}, got {player}")
        if isinstance(mask, (int, np.integer)):
            if mask < 0 or mask > 0xFFFF:
                raise ValueError(f"a button bitmask must fit in 16 bits, got {mask}")
            bits = <uint16_t>mask
        else:
            n = len(mask)
            if n > 16:
                raise ValueError(f"a joypad has at most 16 buttons, got a mask of {n}")
            for i in range(n):
                if mask[i]:
                    bits |= <uint16_t>(1 << i)
        self.fe.masks[player] = bits

    def get_button_mask(self, int player=0):
        """The buttons currently held on a player's joypad, as an int."""
        self._check_open()
        if player < 0 or player >= MAX_PORTS:
            raise ValueError(f"player must be in 0..{MAX_PORTS - 1}, got {player}")
        return self.fe.masks[player]

    # -- video and audio -------------------------------------------------------

    @property
    def screen(self):
        """Read-only zero-copy view of the frame buffer, shape (H, W, 3).

        It changes in place on every step: copy it to keep a frame. (After a
        ``step(out=arr)`` it is a view of ``arr``, which later steps leave
        alone: take ``screen`` again after such a step.)
        """
        self._check_open()
        cdef Frontend *fe = self.fe
        if self._frame_obj is not None:
            view = self._frame_obj.view()
            view.flags.writeable = False
            return view
        return make_view(self, fe.frame, <size_t>fe.out_w * fe.out_h * 3, True).reshape(
            fe.out_h, fe.out_w, 3)

    def get_screen(self, out=None):
        """The last frame as a new (H, W, 3) uint8 array, or written into ``out``."""
        cdef Frontend *fe = self.fe
        cdef uint8_t[:, :, ::1] dst
        self._check_open()
        shape = (fe.out_h, fe.out_w, 3)
        if out is None:
            out = np.empty(shape, dtype=np.uint8)
        elif (not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != shape
              or not out.flags.c_contiguous or not out.flags.writeable):
            raise ValueError(
                f"out must be a writable C-contiguous uint8 array of shape {shape}, got "
                f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}")
        dst = out
        self._enter()  # the copy runs without the GIL; close() must wait for it
        with nogil:
            memcpy(&dst[0, 0, 0], fe.frame, <size_t>fe.out_w * fe.out_h * 3)
        self._leave()
        return out

    @property
    def digests_on(self):
        """Whether every frame played records a digest of the game (``take_digests``): for verifiable movies."""
        return self.fe != NULL and self.fe.digest_on

    @digests_on.setter
    def digests_on(self, bint on):
        self._check_open()
        self.fe.digest_on = on

    def take_digests(self):
        """The digests recorded since the last call, and forget them: ``(frames, pictures)``.

        ``frames`` is ``uint64[n, 2]``, per frame played (while
        ``digests_on``) the hash of the system RAM after it and one bit per
        64th of the RAM (the low bit of that part's hash); ``pictures`` is
        ``uint64[m, 2]``, per step (at most one each ``picture_digest_frames``
        frames) the index (into ``frames``) of its last frame and the hash of
        the picture it showed.
        """
        cdef Frontend *fe = self.fe
        self._check_open()
        if fe.digest_failed:
            fe.digest_failed = False
            fe.n_digests = fe.n_pictures = fe.next_picture = 0
            raise MemoryError("the digest buffers could not grow: these digests are incomplete")
        frames = np.empty((fe.n_digests, 2), np.uint64)
        pictures = np.empty((fe.n_pictures, 2), np.uint64)
        if fe.n_digests:
            memcpy(<void *><uintptr_t>frames.ctypes.data, fe.digests, fe.n_digests * 2 * sizeof(uint64_t))
        if fe.n_pictures:
            memcpy(<void *><uintptr_t>pictures.ctypes.data, fe.pictures, fe.n_pictures * 2 * sizeof(uint64_t))
        fe.n_digests = fe.n_pictures = fe.next_picture = 0
        return frames, pictures

    @property
    def picture_digest_frames(self):
        """With ``digests_on``: at least this many frames between two pictures' hashes (1: every step's
        picture; a recording takes fewer, a replay that checks one takes every one)."""
        return self.fe.picture_every if self.fe != NULL and self.fe.picture_every else 1

    @picture_digest_frames.setter
    def picture_digest_frames(self, size_t frames):
        self._check_open()
        self.fe.picture_every = max(frames, 1)

    def set_screen(self, picture):
        """Show ``picture``, an ``(H, W, 3)`` uint8 array (or its bytes) of the screen's shape, as the current
        picture: what a restored state showed, since a core's state holds no picture. The picture moves back
        to the emulator's own buffer (arrays earlier steps wrote into are left alone), and the next pooled
        step has no frame before it to pool with."""
        cdef Frontend *fe = self.fe
        cdef const uint8_t[::1] src
        self._check()
        if fe == NULL or fe.core == NULL:
            raise EmulatorClosedError("this emulator is closed")
        n = <size_t>fe.out_w * fe.out_h * 3
        if isinstance(picture, np.ndarray):
            if picture.dtype != np.uint8 or picture.shape != (fe.out_h, fe.out_w, 3):
                raise ValueError(f"a picture is a uint8 array of shape {(fe.out_h, fe.out_w, 3)}, got "
                                 f"{picture.dtype} {picture.shape}")
            src = np.ascontiguousarray(picture).reshape(-1)
        else:
            src = memoryview(picture).cast("B")
        if <size_t>src.shape[0] != n:
            raise ValueError(f"a picture of this screen has {n} bytes ({fe.out_h}x{fe.out_w} RGB), got "
                             f"{src.shape[0]}")
        memcpy(fe.own_frame, &src[0], n)
        fe.frame = fe.own_frame
        fe.frame_before = NULL
        fe.frame_pending = False
        fe.shown_valid = False
        fe.prev_valid = False
        self._frame_obj = None

    def get_observation(self, out=None, *, bint gray=False, size=None, bint pool=False):
        """The screen preprocessed in C: max-pooled, grayscale and/or resized.

        ``pool`` takes the per-pixel maximum of the last two frames of the
        last ``step(n, pool=True)``; ``gray`` gives luma (0.299 R + 0.587 G +
        0.114 B, in 16-bit fixed point: 19595, 38470 and 7471 / 65536);
        ``size=(height, width)`` resizes by area averaging (in fixed point,
        within 1 of the exact average). Returns a new uint8 array of shape
        ``(h, w)`` (gray) or ``(h, w, 3)``, or writes into ``out``.
        """
        cdef Frontend *fe = self.fe
        self._enter()  # the conversion runs without the GIL; close() must wait for it
        try:
            return observe(fe.frame, fe.prev if fe.prev_valid else NULL, fe.out_h, fe.out_w, out,
                           gray, size, pool, self._plans)
        finally:
            self._leave()

    def get_resolution(self):
        """``(width, height)`` of the picture."""
        if self.fe == NULL:
            return (0, 0)
        return (self.fe.out_w, self.fe.out_h)

    def get_screen_rate(self):
        """Frames per second of the emulated system."""
        self._check_open()
        return self.fe.core.av.timing.fps

    def get_audio_rate(self):
        """Audio sample rate in Hz."""
        self._check_open()
        return self.fe.core.av.timing.sample_rate

    def get_audio(self):
        """Stereo samples produced by the last ``step()`` call, int16 (N, 2)."""
        self._check_open()
        cdef size_t n = self.fe.audio_frames
        out = np.empty((n, 2), dtype=np.int16)
        cdef int16_t[:, ::1] dst = out
        if n:
            memcpy(&dst[0, 0], self.fe.audio, n * 2 * sizeof(int16_t))
        return out

    @property
    def pixel_format(self):
        """The core's pixel format name (``XRGB8888``, ``RGB565`` or ``0RGB1555``)."""
        if self.fe == NULL or self.fe.core == NULL:
            return "?"
        return PIXEL_FORMATS.get(self.fe.core.pixel_format, "?")

    @property
    def geometry(self):
        """The core's current geometry: dict of base/max size and aspect ratio."""
        self._check_open()
        cdef retro_game_geometry g = self.fe.core.av.geometry
        return {"base_width": g.base_width, "base_height": g.base_height,
                "max_width": g.max_width, "max_height": g.max_height,
                "aspect_ratio": g.aspect_ratio}

    @property
    def rotation(self):
        """Screen rotation the core asked for, in quarter turns (0-3)."""
        return self.fe.core.rotation if self.fe != NULL and self.fe.core != NULL else 0

    @property
    def num_ports(self):
        """Number of controller ports the core declared (2 if it did not say)."""
        return self.fe.core.num_ports if self.fe != NULL and self.fe.core != NULL else 0

    @property
    def video_enabled(self):
        """Whether frames are converted into the screen buffer (default True).

        Turn it off when only RAM is observed: steps get cheaper and the
        screen keeps its last converted frame.
        """
        return self.fe != NULL and not self.fe.skip_video

    @video_enabled.setter
    def video_enabled(self, value):
        self._check_open()
        self.fe.skip_video = not value

    @property
    def last_frame_size(self):
        """``(width, height, pitch)`` of the last frame the core handed over."""
        if self.fe == NULL:
            return (0, 0, 0)
        return (self.fe.last_src_w, self.fe.last_h, self.fe.last_pitch)

    @property
    def unhandled_environment_calls(self):
        """Environment commands the core asked for that retro does not serve (first 32)."""
        if self.fe == NULL:
            return []
        n = min(self.fe.unknown_env_calls, 32)
        return [self.fe.unknown_cmds[i] for i in range(n)]

    @property
    def frames_presented(self):
        """Frames the core handed over (not counting dupes)."""
        return self.fe.frames_presented if self.fe != NULL else 0

    # -- state -----------------------------------------------------------------

    def get_state_size(self):
        """Size in bytes of a state of this core and game."""
        cdef Frontend *fe = self.fe
        cdef size_t n
        self._enter()
        with nogil:
            retro_fe_enter(fe, &fe.log)
            n = fe.core.api.serialize_size()
            retro_fe_leave()
        self._leave()
        return n

    def get_state(self):
        """Serialise the emulator (``retro_serialize``) into bytes."""
        cdef Frontend *fe = self.fe
        cdef size_t n
        cdef int rc
        cdef char *buf
        self._enter()
        try:
            with nogil:
                retro_fe_enter(fe, &fe.log)
                n = fe.core.api.serialize_size()
                retro_fe_leave()
            if n == 0:
                raise StateError(f"the {self.library_name} core does not support save states")
            state = PyBytes_FromStringAndSize(NULL, n)
            buf = PyBytes_AS_STRING(state)
            with nogil:
                memset(buf, 0, n)
                retro_fe_enter(fe, &fe.log)
                rc = retro_guard_serialize(fe.core.api.serialize, buf, n)
                retro_fe_leave()
        finally:
            self._leave()
        self.drain_log()
        if rc < 0:
            fe.core.spoiled = True
        if rc != 1:
            raise StateError(f"the {self.library_name} core failed to save its state")
        return state

    def set_state(self, state):
        """Restore a state made by ``get_state()`` of the same core and game.

        Raises ``StateError`` if the state has the wrong size for this core and
        game or the core rejects it. Returns True for compatibility.
        """
        self._unserialize(self._state_view(state))
        return True

    def _state_view(self, state):
        """``state`` as a flat byte view, if it has the size of this core's states (else
        ``StateError``; ``TypeError`` if it is not bytes-like)."""
        cdef size_t n, expected
        self._check()
        if isinstance(state, str):
            raise TypeError("set_state() takes bytes, not str")
        view = memoryview(state).cast("B")
        n = view.nbytes
        if n == 0:
            raise StateError("state is empty")
        expected = self.get_state_size()
        if n != expected:
            raise StateError(
                f"state has {n} bytes but the {self.library_name} core expects {expected} for "
                f"this game: it was made by another core, core version or game, or it is "
                f"truncated")
        return view

    cdef int _call_unserialize(self, const unsigned char[::1] view) except -2:
        """``retro_unserialize`` on the current core: 1 taken, 0 refused, -1 the core threw."""
        cdef RestoreJob job
        self._prepare_restore(&job, view)
        with nogil:
            run_restore_job(&job)
        return self._finish_restore(&job)

    cdef int _prepare_restore(self, RestoreJob *job, const unsigned char[::1] view) except -1:
        """Take the emulator for a restore job of ``view`` (which the caller keeps alive until it is run)."""
        self._enter()
        job.fe = self.fe
        job.state = &view[0]
        job.size = <size_t>view.shape[0]
        job.rc = 0
        return 0

    cdef int _finish_restore(self, RestoreJob *job) noexcept:
        """Give the emulator back after its restore job; the job's result (a core that threw is spoiled)."""
        if job.rc < 0:
            self.fe.core.spoiled = True
        self._leave()
        if self.fe.log.len or self.fe.log.dropped:
            try:
                self.drain_log()
            except Exception:
                pass
        return job.rc

    def _try_state_in_child(self, const unsigned char[::1] view, int frames, int cpu_seconds,
                            double wall_seconds):
        """Restore ``view`` and run ``frames`` frames in a forked copy of this process.

        The child is this process at this moment (the same core copy in the
        same memory), so what a state does there is what it would do here;
        it runs only C (no Python, no logging) and ends with ``_exit``. It
        may use ``cpu_seconds`` of CPU (then SIGXCPU ends it: the core hangs)
        and ``wall_seconds`` in all. Returns ``("ok", 0)``, ``("refused", 0)``,
        ``("threw", 0)``, ``("signal", signo)`` or ``("timeout", 0)``; or
        ``("unavailable", errno)`` if no child could be made."""
        cdef Frontend *fe = self.fe
        cdef pid_t pid
        cdef int status = 0
        cdef int rc
        cdef long waited = 0
        cdef long limit = <long>(wall_seconds * 1000)
        cdef rlimit lim
        self._enter()
        try:
            with nogil:
                pid = fork()
                if pid == 0:
                    # die of the fault itself (no crash report from handlers inherited)
                    signal(SIGSEGV, SIG_DFL)
                    signal(SIGBUS, SIG_DFL)
                    signal(SIGILL, SIG_DFL)
                    signal(SIGFPE, SIG_DFL)
                    signal(SIGABRT, SIG_DFL)
                    lim.rlim_cur = cpu_seconds
                    lim.rlim_max = cpu_seconds + 1
                    setrlimit(RLIMIT_CPU, &lim)
                    retro_fe_enter(fe, NULL)
                    fe.skip_video = True
                    rc = retro_guard_unserialize(fe.core.api.unserialize, &view[0], view.shape[0])
                    if rc != 1:
                        _exit(1 if rc == 0 else 2)
                    fe.running = True
                    if retro_guard_run(fe.core.api.run, frames) != 0:
                        _exit(2)
                    _exit(0)
                while pid > 0:
                    rc = waitpid(pid, &status, WNOHANG)
                    if rc == pid:
                        break
                    if rc < 0 or waited >= limit:
                        kill(pid, SIGKILL)
                        waitpid(pid, &status, 0)
                        status = -1
                        break
                    usleep(1000)
                    waited += 1
        finally:
            self._leave()
        if pid < 0:
            return ("unavailable", 0)
        if status == -1:
            return ("timeout", 0)
        if WIFSIGNALED(status):
            return ("signal", WTERMSIG(status))
        code = WEXITSTATUS(status)
        return (("ok", "refused", "threw")[code] if code < 3 else "threw", 0)

    def _unserialize(self, view):
        """Hand a state (checked by ``_state_view``) to the current core.

        A state the core refuses raises ``StateError``; if the core threw while
        reading it, it may be half loaded, so it is power-cycled first."""
        cdef int rc = self._call_unserialize(view)
        if rc < 0:
            self.power_cycle()
            raise StateError(f"the {self.library_name} core could not read the state: it is corrupt")
        if rc == 0:
            raise StateError(f"the {self.library_name} core rejected the state")

    def _restore_on_spare(self, view):
        """Restore a state (checked by ``_state_view``) on a fresh copy of the core, then swap
        that copy in.

        A state the fresh core refuses leaves this emulator as it was (the
        spare it spoiled is replaced) and raises ``StateError``."""
        cdef Emulator spare
        cdef int rc
        self._enter()
        try:
            spare = self._ready_spare()
            rc = spare._call_unserialize(view)
            if rc == 1:
                spare = self._swap_in(spare)
        finally:
            self._leave()
        self._start_spare(spare)  # closes the used or spoiled core, loads another
        if rc < 0:
            raise StateError(f"the {self.library_name} core could not read the state: it is corrupt")
        if rc == 0:
            raise StateError(f"the {self.library_name} core rejected the state")

    # -- memory ------------------------------------------------------------------

    def get_memory(self, region=RETRO_MEMORY_SYSTEM_RAM):
        """Writable zero-copy uint8 view of a core memory region, or None.

        ``region`` is a libretro memory id (2 = system RAM) or one of
        ``"system_ram"``, ``"save_ram"``, ``"video_ram"``, ``"rtc"``.

        A view keeps the memory it shows: after ``close()`` or a power cycle
        it shows the old run, and writing to it changes no other emulator;
        the old game is unloaded when the last such view goes.
        """
        address, size = self._memory_address(region)
        if address == 0 or size == 0:
            return None
        return make_view(self._copy, <void *><uintptr_t>address, size, False)

    def _heap_blocks(self):
        """Blocks the current copy allocated and still holds, as recorded for ``free_leaks`` (None: not
        recorded)."""
        self._check()
        if self._copy is None or not retro_copyheap_attached(self._copy.c.handle):
            return None
        return int(retro_copyheap_blocks(self._copy.c.handle))

    def _call_before_unload(self, symbol):
        """Call ``symbol`` (a function the core exports, no arguments) before this emulator's game is unloaded,
        on its current copy and on every copy of its core loaded from now on (``call_before_unload``). Returns
        whether the core exports it (if not, nothing is called)."""
        self._enter()
        try:
            call_before_unload(self.core_path, symbol)
            self._copy.c.before_unload = NULL if symbol is None else _resolve_hook(self._copy.c.handle, str(symbol))
            return self._copy.c.before_unload != NULL
        finally:
            self._leave()

    def _memory_address(self, region=RETRO_MEMORY_SYSTEM_RAM):
        """``(address, size)`` of a core memory region in this process, ``(0, 0)`` if none."""
        cdef Frontend *fe = self.fe
        cdef void *ptr
        cdef size_t size
        cdef unsigned rid
        self._check()
        if isinstance(region, str):
            names = _memory_region_names()
            if region not in names:
                raise ValueError(f"unknown memory region {region!r}; expected one of {sorted(names)}")
            region = names[region]
        rid = region
        retro_fe_enter(fe, &fe.log)
        ptr = fe.core.api.get_memory_data(rid)
        size = fe.core.api.get_memory_size(rid)
        retro_fe_leave()
        if ptr == NULL or size == 0:
            return (0, 0)
        return (<uintptr_t>ptr, size)

    def memory_descriptors(self):
        """The core's memory map as a list of dicts (empty if it has none).

        Each has ``flags``, ``start``, ``select``, ``disconnect``, ``len``,
        ``offset``, ``addrspace`` and ``const``.
        """
        cdef Core *c
        cdef unsigned i
        cdef retro_memory_descriptor *d
        self._check()
        c = self.fe.core
        out = []
        for i in range(c.num_descs):
            d = &c.descs[i]
            out.append({
                "flags": d.flags, "start": d.start, "select": d.select,
                "disconnect": d.disconnect, "len": d.len, "offset": d.offset,
                "addrspace": _str(d.addrspace), "const": bool(d.flags & RETRO_MEMDESC_CONST),
                "has_ptr": d.ptr != NULL,
            })
        return out

    def descriptor_view(self, unsigned index, size_t length):
        """Writable view of ``length`` bytes of memory-map descriptor ``index``."""
        cdef Core *c
        cdef retro_memory_descriptor *d
        self._check()
        c = self.fe.core
        if index >= c.num_descs:
            raise IndexError(f"no memory descriptor {index}")
        d = &c.descs[index]
        if d.ptr == NULL:
            raise ValueError(f"memory descriptor {index} has no host memory")
        return make_view(self._copy, <uint8_t *>d.ptr + d.offset, length,
                         bool(d.flags & RETRO_MEMDESC_CONST))

    # -- options, cheats, logging ----------------------------------------------

    @property
    def options(self):
        """Core option values retro sets, ``{key: value}``.

        Options not set here are not answered, so the core keeps its own
        built-in default for them, as under Gym Retro; this keeps save states
        and movies made there replaying identically. ``option_info()`` lists
        every option the core declared.
        """
        self._check()
        return self._option_values()

    def option_info(self):
        """Declared options: ``{key: (description-and-choices, default)}``."""
        self._check()
        cdef Core *c = self.fe.core
        cdef unsigned i
        return {_str(c.options[i].key): (_str(c.options[i].spec), _str(c.options[i].default_value))
                for i in range(c.num_options)}

    def set_option(self, key, value):
        """Change a core option; the core sees it on its next frame (and every core loaded
        for this emulator later starts with it)."""
        self._check()
        self._set_option(str(key), str(value), True)

    cdef void _set_option(self, str key, str value, bint notify) except *:
        cdef bytes bkey = key.encode()
        cdef bytes bvalue = value.encode()
        if set_option_value(self.fe.core, bkey, bvalue) != 0:
            raise MemoryError()
        if notify:
            self.fe.core.options_updated = True

    def add_cheat(self, code):
        """Enable a cheat code (``retro_cheat_set``)."""
        self._check()
        cdef bytes bcode = str(code).encode()
        cdef const char *s = bcode
        retro_fe_enter(self.fe, &self.fe.log)
        self.fe.core.api.cheat_set(self.cheat_index, True, s)
        retro_fe_leave()
        self.cheat_index += 1
        self.drain_log()

    def clear_cheats(self):
        """Disable all cheats (``retro_cheat_reset``)."""
        self._check()
        retro_fe_enter(self.fe, &self.fe.log)
        self.fe.core.api.cheat_reset()
        retro_fe_leave()
        self.cheat_index = 0

    def drain_log(self):
        """Hand queued core log lines to the ``retro.core`` logger."""
        cdef Frontend *fe = self.fe
        if fe == NULL or (fe.log.len == 0 and fe.log.dropped == 0):
            return
        data = fe.log.data[:fe.log.len] if fe.log.len else b""
        dropped = fe.log.dropped
        fe.log.len = 0
        fe.log.dropped = 0
        levels = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)
        name = self.library_name or "core"
        for record in data.split(b"\0"):
            if record:
                core_log.log(levels[record[0] - 48], "%s: %s", name,
                             record[1:].decode("utf-8", "replace"))
        if dropped:
            core_log.warning("%s: %d log lines dropped (log buffer full)", name, dropped)

    cdef int _fail(self, str call) except -1:
        if self.fe != NULL and self.fe.core != NULL:
            self.fe.core.spoiled = True
        self.drain_log()
        self._closed = True
        raise RetroError(
            f"the {self.library_name} core failed inside {call} (it threw an exception); this "
            f"emulator is closed, create a new one")


cdef bint _swept = False  # this process swept copies of dead processes


def _private_copy_dirs():
    """Where private copies of cores are made: memory-backed first."""
    import tempfile

    dirs = []
    env = os.environ.get("RETRO_CORE_TMPDIR")
    if env:
        dirs.append(env)
    for d in ("/dev/shm", tempfile.gettempdir()):
        if os.path.isdir(d) and os.access(d, os.W_OK) and d not in dirs:
            dirs.append(d)
    global _swept
    if not _swept:
        _swept = True
        for d in dirs:
            sweep_dead_copies(d)
    return dirs


def sweep_dead_copies(folder):
    """Delete private core copies in ``folder`` left by processes that no longer exist.

    A copy lives as a file only between its creation and ``dlopen`` (then it
    is unlinked); a process killed in between (SIGKILL while an emulator is
    made) leaves it behind. Its name carries the pid that made it
    (``retro-core-<pid>-<n>-XXXXXX``); copies of live processes are left
    alone. Each process sweeps once, before its first copy. Returns the
    number of files deleted.
    """
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        parts = name.split("-")
        if len(parts) != 5 or parts[0] != "retro" or parts[1] != "core" or not parts[2].isdigit():
            continue
        pid = int(parts[2])
        if pid == os.getpid() or _pid_alive(pid):
            continue
        try:
            os.unlink(os.path.join(folder, name))
            removed += 1
        except OSError:
            pass
    return removed


def _pid_alive(int pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True


cdef str _str(const char *s):
    if s == NULL:
        return ""
    return s.decode("utf-8", "replace")

"""The libretro frontend: loads a core, installs C callbacks, runs frames.

Everything a core calls back into is plain C (``noexcept nogil``) and never
touches Python: frames are converted into one RGB buffer owned by the
emulator, audio is appended to a per-step buffer, input is read from
per-port button masks, and log lines are queued and handed to Python logging
after the core call returns. Callbacks find their emulator through a
thread-local pointer set around every core call, and each emulator loads a
private copy of its core, so many emulators can live and run in one process.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.buffer cimport (PyBUF_FORMAT, PyBUF_STRIDES, PyBUF_WRITABLE, PyBuffer_Release,
                             PyObject_CheckBuffer, PyObject_GetBuffer)
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memset, strcmp, strlen, strchr
from posix.dlfcn cimport dlclose, dlsym

from retro._libretro cimport *

import logging
import os

import numpy as np

from retro.errors import (
    ContentLoadError,
    CoreLoadError,
    EmulatorClosedError,
    RetroError,
    StateError,
)

cdef extern from "_frontend.h" nogil:
    ctypedef struct retro_fe_log:
        char *data
        size_t len
        size_t cap
        unsigned long dropped
    void retro_fe_enter(void *fe, retro_fe_log *log)
    void retro_fe_leave()
    void *retro_fe_get_current()
    void retro_fe_log_printf(retro_log_level level, const char *fmt, ...)
    void retro_fe_log_append(retro_fe_log *log, int level, const char *text, size_t n)
    void retro_fe_log_free(retro_fe_log *log)
    void *retro_fe_dlopen_private(const char *path, const char *tmpdir, char *err, size_t errlen)

cdef extern from "_workers.h" nogil:
    ctypedef struct retro_workers:
        pass
    ctypedef void (*retro_job_fn)(void *arg, int job) noexcept nogil
    retro_workers *retro_workers_new(int nthreads, long spin_ns)
    void retro_workers_run(retro_workers *w, retro_job_fn fn, void *arg, int njobs)
    void retro_workers_free(retro_workers *w)

cdef extern from * nogil:
    int retro_guard_unserialize(retro_unserialize_fn fn, const void *data, size_t size)
    int retro_guard_serialize(retro_serialize_fn fn, void *data, size_t size)
    int retro_guard_load_game(retro_load_game_fn fn, const retro_game_info *game)
    int retro_guard_run(retro_run_fn fn, int frames)

cdef extern from "<string.h>" nogil:
    char *strdup(const char *s)

core_log = logging.getLogger("retro.core")

cdef enum:
    MAX_PORTS = 8

#: Number of joypad ports the frontend serves (players beyond a core's own
#: ports read as released buttons).
MAX_PLAYERS = MAX_PORTS

PIXEL_FORMATS = {0: "0RGB1555", 1: "XRGB8888", 2: "RGB565"}


cdef struct CoreApi:
    retro_set_environment_fn set_environment
    retro_set_video_refresh_fn set_video_refresh
    retro_set_audio_sample_fn set_audio_sample
    retro_set_audio_sample_batch_fn set_audio_sample_batch
    retro_set_input_poll_fn set_input_poll
    retro_set_input_state_fn set_input_state
    retro_init_fn init
    retro_deinit_fn deinit
    retro_api_version_fn api_version
    retro_get_system_info_fn get_system_info
    retro_get_system_av_info_fn get_system_av_info
    retro_set_controller_port_device_fn set_controller_port_device
    retro_reset_fn reset
    retro_run_fn run
    retro_serialize_size_fn serialize_size
    retro_serialize_fn serialize
    retro_unserialize_fn unserialize
    retro_cheat_reset_fn cheat_reset
    retro_cheat_set_fn cheat_set
    retro_load_game_fn load_game
    retro_unload_game_fn unload_game
    retro_get_region_fn get_region
    retro_get_memory_data_fn get_memory_data
    retro_get_memory_size_fn get_memory_size


cdef struct CoreOption:
    char *key
    char *value
    char *default_value
    char *spec          # "Description; a|b|c" as the core declared it, or NULL


cdef struct Frontend:
    CoreApi api
    # video: one RGB24 picture of out_h x out_w, converted in the callback.
    # `frame` is where the current picture lives: the emulator's own buffer
    # (`own_frame`) or an array handed to step(out=...).
    int pixel_format
    uint8_t *frame
    uint8_t *own_frame
    # while a step converts into a new target: the picture before it, for a
    # core that repeats its last frame (or shows none) before presenting one
    const uint8_t *frame_before
    bint frame_pending
    bint running              # inside step()'s retro_run calls
    unsigned out_w
    unsigned out_h
    unsigned last_w
    unsigned last_h
    unsigned long frames_presented
    unsigned long frames_duped
    bint skip_video
    size_t last_pitch
    unsigned last_src_w
    # the frame before the last, kept for max-pooling over frame skips
    uint8_t *prev
    bint prev_valid
    # audio of the current step, interleaved stereo int16
    int16_t *audio
    size_t audio_frames
    size_t audio_cap
    # input
    uint16_t masks[MAX_PORTS]
    unsigned num_ports
    # memory map, copied from the core
    retro_memory_descriptor *descs
    unsigned num_descs
    # core options
    CoreOption *options
    unsigned num_options
    unsigned cap_options
    bint options_updated
    # paths handed to the core
    char *system_dir
    char *save_dir
    char *core_path
    # what the core told us
    retro_system_av_info av
    bint av_changed
    unsigned rotation
    bint shutdown
    uint64_t serialization_quirks
    unsigned long unknown_env_calls
    unsigned unknown_cmds[32]
    retro_fe_log log


# ---------------------------------------------------------------------------
# C callbacks. They run inside core calls, with or without the GIL.
# ---------------------------------------------------------------------------

cdef inline Frontend *current() noexcept nogil:
    return <Frontend *>retro_fe_get_current()


cdef void convert_frame(Frontend *fe, const uint8_t *src, unsigned width, unsigned height,
                        size_t pitch) noexcept nogil:
    cdef unsigned w = width if width < fe.out_w else fe.out_w
    cdef unsigned h = height if height < fe.out_h else fe.out_h
    cdef unsigned x, y
    cdef size_t row_bytes = <size_t>fe.out_w * 3
    cdef uint8_t *dst
    cdef const uint32_t *p32
    cdef const uint16_t *p16
    cdef uint32_t p
    fe.frame_pending = False
    fe.last_w = width
    fe.last_h = height
    if w < fe.out_w or h < fe.out_h:
        # a smaller picture: what it does not cover is black
        for y in range(h):
            memset(fe.frame + y * row_bytes + <size_t>w * 3, 0, row_bytes - <size_t>w * 3)
        if h < fe.out_h:
            memset(fe.frame + h * row_bytes, 0, row_bytes * (fe.out_h - h))
    if fe.pixel_format == RETRO_PIXEL_FORMAT_XRGB8888:
        for y in range(h):
            p32 = <const uint32_t *>(src + y * pitch)
            dst = fe.frame + y * row_bytes
            for x in range(w):
                p = p32[x]
                dst[0] = <uint8_t>(p >> 16)
                dst[1] = <uint8_t>(p >> 8)
                dst[2] = <uint8_t>p
                dst += 3
    elif fe.pixel_format == RETRO_PIXEL_FORMAT_RGB565:
        for y in range(h):
            p16 = <const uint16_t *>(src + y * pitch)
            dst = fe.frame + y * row_bytes
            for x in range(w):
                p = p16[x]
                dst[0] = <uint8_t>((p >> 8) & 0xF8)
                dst[1] = <uint8_t>((p >> 3) & 0xFC)
                dst[2] = <uint8_t>((p << 3) & 0xF8)
                dst += 3
    else:  # 0RGB1555
        for y in range(h):
            p16 = <const uint16_t *>(src + y * pitch)
            dst = fe.frame + y * row_bytes
            for x in range(w):
                p = p16[x]
                dst[0] = <uint8_t>((p >> 7) & 0xF8)
                dst[1] = <uint8_t>((p >> 2) & 0xF8)
                dst[2] = <uint8_t>((p << 3) & 0xF8)
                dst += 3


cdef inline void finish_frame(Frontend *fe) noexcept nogil:
    """The step's target gets the picture from before the step (the core showed no new one)."""
    if fe.frame_pending:
        if fe.frame_before != NULL and fe.frame_before != fe.frame:
            memcpy(fe.frame, fe.frame_before, <size_t>fe.out_w * fe.out_h * 3)
        fe.frame_pending = False


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
    convert_frame(fe, <const uint8_t *>data, width, height, pitch)


cdef struct StepJob:
    Frontend *fe
    int head            # frames before the last
    int tail            # 1 if there is a last frame
    bint pool
    bint observe_last
    int rc              # 0, or what retro_guard_run returned on failure


cdef void run_step_job(StepJob *job) noexcept nogil:
    """The frames of one ``Emulator.step`` call; plain C, on any thread."""
    cdef Frontend *fe = job.fe
    cdef int rc = 0
    cdef int head = job.head
    cdef bint was_skipping = fe.skip_video
    retro_fe_enter(fe, &fe.log)
    fe.running = True
    if job.observe_last and head > (1 if job.pool else 0):
        fe.skip_video = True
        rc = retro_guard_run(fe.api.run, head - (1 if job.pool else 0))
        fe.skip_video = was_skipping
        head = 1 if job.pool else 0
    if rc == 0 and head:
        rc = retro_guard_run(fe.api.run, head)
    if rc == 0 and job.tail:
        if job.pool:
            finish_frame(fe)
            memcpy(fe.prev, fe.frame, <size_t>fe.out_w * fe.out_h * 3)
            fe.prev_valid = True
        rc = retro_guard_run(fe.api.run, job.tail)
    finish_frame(fe)
    fe.frame_before = NULL
    fe.running = False
    retro_fe_leave()
    job.rc = rc


cdef void run_step_jobs(void *jobs, int j) noexcept nogil:
    run_step_job(&(<StepJob *>jobs)[j])


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


cdef CoreOption *find_option(Frontend *fe, const char *key) noexcept nogil:
    cdef unsigned i
    for i in range(fe.num_options):
        if strcmp(fe.options[i].key, key) == 0:
            return &fe.options[i]
    return NULL


cdef CoreOption *add_option(Frontend *fe, const char *key) noexcept nogil:
    cdef CoreOption *grown
    cdef unsigned cap
    cdef CoreOption *opt
    if fe.num_options == fe.cap_options:
        cap = fe.cap_options * 2 if fe.cap_options else 16
        grown = <CoreOption *>realloc(fe.options, cap * sizeof(CoreOption))
        if grown == NULL:
            return NULL
        fe.options = grown
        fe.cap_options = cap
    opt = &fe.options[fe.num_options]
    opt.key = strdup(key)
    if opt.key == NULL:
        return NULL
    opt.value = NULL
    opt.default_value = NULL
    opt.spec = NULL
    fe.num_options += 1
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


cdef void declare_variables(Frontend *fe, const retro_variable *vars) noexcept nogil:
    cdef CoreOption *opt
    while vars != NULL and vars.key != NULL:
        opt = find_option(fe, vars.key)
        if opt == NULL:
            opt = add_option(fe, vars.key)
            if opt == NULL:
                return
        if vars.value != NULL:
            free(opt.spec)
            opt.spec = strdup(vars.value)
            free(opt.default_value)
            opt.default_value = first_choice(vars.value)
        vars += 1


cdef void copy_memory_map(Frontend *fe, const retro_memory_map *mmap) noexcept nogil:
    cdef size_t n
    free(fe.descs)
    fe.descs = NULL
    fe.num_descs = 0
    if mmap == NULL or mmap.descriptors == NULL or mmap.num_descriptors == 0:
        return
    n = mmap.num_descriptors
    fe.descs = <retro_memory_descriptor *>malloc(n * sizeof(retro_memory_descriptor))
    if fe.descs == NULL:
        return
    memcpy(fe.descs, mmap.descriptors, n * sizeof(retro_memory_descriptor))
    fe.num_descs = mmap.num_descriptors


cdef enum:
    EXP = RETRO_ENVIRONMENT_EXPERIMENTAL


cdef c_bool environment_cb(unsigned cmd, void *data) noexcept nogil:
    cdef Frontend *fe = current()
    cdef unsigned base
    cdef CoreOption *opt
    cdef retro_variable *var
    cdef const retro_controller_info *ports
    cdef unsigned n
    cdef unsigned fmt
    cdef const retro_message *msg
    if fe == NULL:
        return False
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
        fe.pixel_format = <int>fmt
        return True
    if base == RETRO_ENVIRONMENT_GET_VARIABLE:
        var = <retro_variable *>data
        if var == NULL or var.key == NULL:
            return False
        opt = find_option(fe, var.key)
        if opt == NULL or opt.value == NULL:
            return False
        var.value = opt.value
        return True
    if base == RETRO_ENVIRONMENT_GET_VARIABLE_UPDATE:
        if data != NULL:
            (<c_bool *>data)[0] = fe.options_updated
        fe.options_updated = False
        return True
    if base == RETRO_ENVIRONMENT_SET_VARIABLES:
        declare_variables(fe, <const retro_variable *>data)
        return True
    if base == RETRO_ENVIRONMENT_SET_VARIABLE:
        var = <retro_variable *>data
        if var == NULL:
            return True
        if var.key == NULL or var.value == NULL:
            return False
        opt = find_option(fe, var.key)
        if opt == NULL:
            return False
        free(opt.value)
        opt.value = strdup(var.value)
        fe.options_updated = True
        return True
    if base == RETRO_ENVIRONMENT_GET_CORE_OPTIONS_VERSION:
        # Version 0: cores declare options through SET_VARIABLES.
        if data != NULL:
            (<unsigned *>data)[0] = 0
        return False
    if base == RETRO_ENVIRONMENT_GET_SYSTEM_DIRECTORY or base == RETRO_ENVIRONMENT_GET_CORE_ASSETS_DIRECTORY:
        if data == NULL:
            return False
        (<const char **>data)[0] = fe.system_dir
        return fe.system_dir != NULL
    if base == RETRO_ENVIRONMENT_GET_SAVE_DIRECTORY:
        if data == NULL:
            return False
        (<const char **>data)[0] = fe.save_dir
        return fe.save_dir != NULL
    if base == RETRO_ENVIRONMENT_GET_LIBRETRO_PATH:
        if data == NULL:
            return False
        (<const char **>data)[0] = fe.core_path
        return fe.core_path != NULL
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
        copy_memory_map(fe, <const retro_memory_map *>data)
        return True
    if base == RETRO_ENVIRONMENT_SET_CONTROLLER_INFO:
        ports = <const retro_controller_info *>data
        n = 0
        while ports != NULL and ports[n].types != NULL and n < 64:
            n += 1
        if n:
            fe.num_ports = n
        return True
    if base == RETRO_ENVIRONMENT_SET_GEOMETRY:
        if data == NULL:
            return False
        fe.av.geometry = (<const retro_game_geometry *>data)[0]
        fe.av_changed = True
        return True
    if base == RETRO_ENVIRONMENT_SET_SYSTEM_AV_INFO:
        if data == NULL:
            return False
        fe.av = (<const retro_system_av_info *>data)[0]
        fe.av_changed = True
        return True
    if base == RETRO_ENVIRONMENT_SET_ROTATION:
        if data == NULL:
            return False
        fe.rotation = (<unsigned *>data)[0] & 3
        return True
    if base == RETRO_ENVIRONMENT_SHUTDOWN:
        fe.shutdown = True
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
            (<int *>data)[0] = 3  # video and audio
        return True
    if base == (RETRO_ENVIRONMENT_GET_FASTFORWARDING & ~EXP):
        if data != NULL:
            (<c_bool *>data)[0] = False
        return True
    if base == RETRO_ENVIRONMENT_SET_SERIALIZATION_QUIRKS:
        if data != NULL:
            fe.serialization_quirks = (<uint64_t *>data)[0]
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


# ---------------------------------------------------------------------------
# Buffers shared with numpy.
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


cdef class _CoreCopy:
    """One loaded copy of a core library; unmapped when the last reference goes.

    The emulator holds its current copy; views into core memory hold the
    copy they point into, so they stay readable after a power cycle or
    ``close()`` (showing the old run) and the copy is unloaded after them.
    """
    cdef void *handle

    def __dealloc__(self):
        cdef void *h = self.handle
        self.handle = NULL
        if h != NULL:
            with nogil:
                dlclose(h)


cdef object make_view(object owner, void *ptr, size_t size, bint readonly):
    cdef _View v = _View.__new__(_View)
    v.owner = owner
    if isinstance(owner, Emulator):
        v.counted = owner
    v.ptr = ptr
    v.size = <Py_ssize_t>size
    v.readonly = readonly
    return np.asarray(v)


cdef class _ResizePlan:
    """Area-averaging resize from (h, w) to (oh, ow), separable, with optional max-pool and luma."""
    cdef int h, w, oh, ow
    cdef int[::1] xstart, xcount, ystart, ycount
    cdef int[::1] xidx, yidx
    cdef float[::1] xw, yw
    cdef float[::1] rowbuf      # one source row, 1 or 3 channels
    cdef float[::1] tmp         # h rows x ow columns x 3 channels

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


def _memory_region_names():
    return {
        "save_ram": RETRO_MEMORY_SAVE_RAM,
        "rtc": RETRO_MEMORY_RTC,
        "system_ram": RETRO_MEMORY_SYSTEM_RAM,
        "video_ram": RETRO_MEMORY_VIDEO_RAM,
    }


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
    """

    cdef Frontend *fe
    cdef void *handle
    cdef bint loaded          # a game is loaded and the core is initialised
    cdef bint initialised
    cdef bint _closed
    cdef bint busy
    cdef int exports
    cdef bytes _rom_data
    cdef bytes _rom_path_b
    cdef bint _private_copy
    cdef _CoreCopy _copy
    cdef dict _ctor
    cdef object _spare_thread
    cdef public bint keep_spare
    cdef readonly unsigned long memory_generation
    cdef public bint reload_before_set_state
    cdef public bint settle_states
    cdef readonly str rom_path
    cdef readonly str core_path
    cdef readonly str library_name
    cdef readonly str library_version
    cdef readonly str valid_extensions
    cdef readonly bint need_fullpath
    cdef readonly unsigned long long frame_count
    cdef unsigned cheat_index
    cdef dict _plans
    cdef object _frame_obj    # the array the current picture lives in, if not our own buffer

    def __cinit__(self, *args, **kwargs):
        self.fe = <Frontend *>calloc(1, sizeof(Frontend))
        if self.fe == NULL:
            raise MemoryError()
        self.fe.num_ports = 2
        self._plans = {}

    def __init__(self, rom_path, core_path, *, options=None, system_dir=None,
                 save_dir=None, screen_size=None, private_copy=True):
        import os

        rom_path = os.fspath(rom_path)
        core_path = os.fspath(core_path)
        self.rom_path = rom_path
        self.core_path = core_path
        self._private_copy = bool(private_copy)
        self.settle_states = True
        self._ctor = dict(options=dict(options or {}), system_dir=system_dir, save_dir=save_dir,
                          screen_size=screen_size, private_copy=private_copy)
        if not os.path.isfile(core_path):
            raise CoreLoadError(f"libretro core not found: {core_path}")
        try:
            with open(rom_path, "rb") as f:
                self._rom_data = f.read()
        except OSError as e:
            raise ContentLoadError(f"cannot read ROM {rom_path}: {e.strerror}") from e
        if not self._rom_data:
            raise ContentLoadError(f"ROM {rom_path} is empty")
        self._rom_path_b = os.path.abspath(rom_path).encode()
        self._open_core(core_path, self._private_copy)
        self._set_string_fields(system_dir, save_dir, core_path)
        if options:
            for key, value in options.items():
                self._set_option(str(key), str(value), False)
        self._init_core()
        self._load_content(rom_path)
        self._setup_video(screen_size)
        self.drain_log()

    # -- loading -------------------------------------------------------------

    cdef void _open_core(self, str path, bint private_copy) except *:
        cdef char err[1024]
        cdef bytes bpath = path.encode()
        cdef bytes btmp
        cdef const char *tmpdir = NULL
        cdef const char *cpath = bpath
        cdef void *handle = NULL
        cdef void *sym
        cdef void **slots = <void **>&self.fe.api
        cdef list missing = []
        cdef Py_ssize_t i
        cdef unsigned version
        if private_copy:
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
        self.handle = handle
        if self.handle == NULL:
            raise CoreLoadError(
                f"cannot load libretro core {path}: {err.decode(errors='replace')}")
        self._copy = _CoreCopy.__new__(_CoreCopy)
        self._copy.handle = self.handle
        for i, name in enumerate(_SYMBOLS):
            sym = dlsym(self.handle, name.encode())
            if sym == NULL:
                missing.append(name)
            slots[i] = sym
        if missing:
            self.handle = NULL
            self._copy = None
            raise CoreLoadError(
                f"{path} is not a libretro core: it does not export {', '.join(missing)}")
        version = self.fe.api.api_version()
        if version != RETRO_API_VERSION:
            self.handle = NULL
            self._copy = None
            raise CoreLoadError(
                f"{path} speaks libretro API version {version}; retro speaks version "
                f"{RETRO_API_VERSION}")

    cdef void _set_string_fields(self, system_dir, save_dir, str core_path) except *:
        if system_dir is not None:
            self.fe.system_dir = strdup(str(system_dir).encode())
        if save_dir is not None:
            self.fe.save_dir = strdup(str(save_dir).encode())
        self.fe.core_path = strdup(core_path.encode())

    cdef void _init_core(self) except *:
        cdef Frontend *fe = self.fe
        cdef retro_system_info info
        memset(&info, 0, sizeof(info))
        with nogil:
            retro_fe_enter(fe, &fe.log)
            fe.api.set_environment(environment_cb)
            fe.api.set_video_refresh(video_refresh_cb)
            fe.api.set_audio_sample(audio_sample_cb)
            fe.api.set_audio_sample_batch(audio_batch_cb)
            fe.api.set_input_poll(input_poll_cb)
            fe.api.set_input_state(input_state_cb)
            fe.api.init()
            fe.api.get_system_info(&info)
            retro_fe_leave()
        self.initialised = True
        self.library_name = _str(info.library_name)
        self.library_version = _str(info.library_version)
        self.valid_extensions = _str(info.valid_extensions)
        self.need_fullpath = info.need_fullpath

    cdef void _load_content(self, str rom_path) except *:
        cdef Frontend *fe = self.fe
        cdef retro_game_info game
        cdef int rc
        memset(&game, 0, sizeof(game))
        game.path = self._rom_path_b
        if not self.need_fullpath:
            game.data = PyBytes_AS_STRING(self._rom_data)
            game.size = len(self._rom_data)
        with nogil:
            retro_fe_enter(fe, &fe.log)
            rc = retro_guard_load_game(fe.api.load_game, &game)
            if rc == 1:
                fe.api.get_system_av_info(&fe.av)
            retro_fe_leave()
        if rc != 1:
            self.drain_log()
            raise ContentLoadError(
                f"the {self.library_name or 'libretro'} core rejected {rom_path}: it is not a "
                f"game this core can run (supported extensions: {self.valid_extensions or '?'})")
        self.loaded = True
        fe.av_changed = False

    cdef void _setup_video(self, screen_size) except *:
        cdef Frontend *fe = self.fe
        w, h = fe.av.geometry.base_width, fe.av.geometry.base_height
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

    cdef inline int _check(self) except -1:
        if self._closed:
            raise EmulatorClosedError("this emulator is closed")
        if self.busy:
            raise RetroError("this emulator is already running on another thread")
        return 0

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
        cdef unsigned i
        if fe == NULL:
            return
        self._unload_core()
        fe.frame = NULL
        free(fe.own_frame)
        fe.own_frame = NULL
        self._frame_obj = None
        free(fe.prev)
        free(fe.audio)
        free(fe.descs)
        for i in range(fe.num_options):
            free(fe.options[i].key)
            free(fe.options[i].value)
            free(fe.options[i].default_value)
            free(fe.options[i].spec)
        free(fe.options)
        free(fe.system_dir)
        free(fe.save_dir)
        free(fe.core_path)
        retro_fe_log_free(&fe.log)
        free(fe)
        self.fe = NULL

    def __dealloc__(self):
        self._teardown()

    cdef void _unload_core(self) noexcept:
        cdef Frontend *fe = self.fe
        cdef bint loaded = self.loaded
        cdef bint initialised = self.initialised
        if self.handle == NULL:
            return
        with nogil:
            retro_fe_enter(fe, &fe.log)
            if loaded:
                fe.api.unload_game()
            if initialised:
                fe.api.deinit()
            retro_fe_leave()
        self.loaded = False
        self.initialised = False
        # the copy is unmapped now, or when the last view into its memory goes
        self._copy = None
        self.handle = NULL

    def power_cycle(self):
        """Switch the console off and on: a fresh copy of the core loads the game.

        Nothing of the previous run survives, not even state a core keeps
        outside its save states. Views from ``get_memory()``/``memory`` made
        before refer to the old run; take new ones (``memory_generation``
        counts power cycles).
        """
        cdef Frontend *fe = self.fe
        self._check()
        if self.keep_spare:
            old = self._take_spare()
            if old is not None:
                self.memory_generation += 1
                self.cheat_index = 0
                self._start_spare(old)
                return
        self._unload_core()
        free(fe.descs)
        fe.descs = NULL
        fe.num_descs = 0
        fe.pixel_format = 0
        fe.num_ports = 2
        fe.rotation = 0
        fe.shutdown = False
        fe.audio_frames = 0
        self._open_core(self.core_path, self._private_copy)
        self._init_core()
        self._load_content(self.rom_path)
        self.memory_generation += 1
        self.cheat_index = 0
        self.drain_log()
        if self.keep_spare:
            self._start_spare()

    def _start_spare(self, old=None):
        """On a background thread: unload ``old`` (a used core), then load a fresh
        copy of the core and game for the next power cycle."""
        import threading

        if self._spare_thread is not None:
            return
        box = []

        def load():
            if old is not None:
                old.close()
            try:
                box.append(Emulator(self.rom_path, self.core_path, **self._ctor))
            except Exception as e:  # the next power cycle reloads in the foreground instead
                box.append(e)

        thread = threading.Thread(target=load, name="retro-spare-core", daemon=True)
        thread.box = box
        self._spare_thread = thread
        thread.start()

    cdef object _take_spare(self):
        """Swap a waiting fresh core in for the current one.

        Returns the emulator now holding the old core (to be closed), or None
        if no fresh core was waiting."""
        cdef Emulator spare
        cdef Frontend *a = self.fe
        cdef Frontend *b
        cdef CoreApi api
        cdef retro_memory_descriptor *descs
        cdef unsigned n
        cdef void *handle
        if self._spare_thread is None:
            return None
        self._spare_thread.join()
        result = self._spare_thread.box[0] if self._spare_thread.box else None
        self._spare_thread = None
        if not isinstance(result, Emulator):
            return None
        spare = result
        b = spare.fe
        # the spare gets this emulator's core (to unload), this emulator the fresh one
        api = a.api
        a.api = b.api
        b.api = api
        descs, n = a.descs, a.num_descs
        a.descs, a.num_descs = b.descs, b.num_descs
        b.descs, b.num_descs = descs, n
        a.pixel_format, b.pixel_format = b.pixel_format, a.pixel_format
        a.num_ports, b.num_ports = b.num_ports, a.num_ports
        a.av, b.av = b.av, a.av
        a.rotation, b.rotation = b.rotation, a.rotation
        a.serialization_quirks, b.serialization_quirks = b.serialization_quirks, a.serialization_quirks
        a.shutdown = False
        a.audio_frames = 0
        handle = self.handle
        self.handle = spare.handle
        spare.handle = handle
        self._copy, spare._copy = spare._copy, self._copy
        return spare

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def closed(self):
        """True once ``close()`` was called."""
        return self._closed

    # -- running ---------------------------------------------------------------

    def step(self, int n=1, *, bint pool=False, bint observe_last=False, out=None):
        """Run ``n`` frames (one ``retro_run`` each) with the GIL released.

        ``pool=True`` keeps the frame before the last one, for
        ``get_observation(pool=True)`` (max-pooling over a frame skip).
        ``observe_last=True`` converts only the frames that can be observed
        (the last, and the one before with ``pool``): cheaper frame skips.

        ``out``, a writable C-contiguous uint8 array of the screen's shape
        (H, W, 3), receives the new picture straight from the core's frame
        conversion, with no copy, and is returned. It then holds the
        emulator's current picture (what ``screen``, ``get_screen()`` and
        ``get_observation()`` read) until the next step; the emulator never
        writes into it again. Without ``out`` the picture goes to the
        emulator's own buffer, and ``step`` returns None.
        """
        cdef StepJob job
        self._check_step(n, pool, out)
        self._prepare_step(&job, n, pool, observe_last, out)
        with nogil:
            run_step_job(&job)
        return self._finish_step(&job, n, out)

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

    cdef void _prepare_step(self, StepJob *job, int n, bint pool, bint observe_last, object out):
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
        job.tail = 1 if n >= 1 else 0
        job.head = n - job.tail
        job.pool = pool
        job.observe_last = observe_last
        job.rc = 0
        self.busy = True
        fe.audio_frames = 0

    cdef object _finish_step(self, StepJob *job, int n, object out):
        self.busy = False
        self._frame_obj = out
        if job.rc != 0:
            self._fail("retro_run")
        self.frame_count += n
        if self.fe.log.len or self.fe.log.dropped:
            self.drain_log()
        return out

    def set_controller_port_device(self, unsigned port, unsigned device=RETRO_DEVICE_JOYPAD):
        """Plug a device into a port (``retro_set_controller_port_device``; 1 = joypad)."""
        cdef Frontend *fe = self.fe
        self._check()
        retro_fe_enter(fe, &fe.log)
        fe.api.set_controller_port_device(port, device)
        retro_fe_leave()
        self.drain_log()

    def reset(self):
        """Press the console's reset button (``retro_reset``)."""
        cdef Frontend *fe = self.fe
        self._check()
        with nogil:
            retro_fe_enter(fe, &fe.log)
            fe.api.reset()
            retro_fe_leave()
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
        self._check_open()
        cdef Frontend *fe = self.fe
        cdef uint8_t[:, :, ::1] dst
        shape = (fe.out_h, fe.out_w, 3)
        if out is None:
            out = np.empty(shape, dtype=np.uint8)
        elif (not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != shape
              or not out.flags.c_contiguous or not out.flags.writeable):
            raise ValueError(
                f"out must be a writable C-contiguous uint8 array of shape {shape}, got "
                f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}")
        dst = out
        with nogil:
            memcpy(&dst[0, 0, 0], fe.frame, <size_t>fe.out_w * fe.out_h * 3)
        return out

    def get_observation(self, out=None, *, bint gray=False, size=None, bint pool=False):
        """The screen preprocessed in C: max-pooled, grayscale and/or resized.

        ``pool`` takes the per-pixel maximum of the last two frames of the
        last ``step(n, pool=True)``; ``gray`` gives luma (0.299 R + 0.587 G +
        0.114 B); ``size=(height, width)`` resizes by area averaging. Returns
        a new uint8 array of shape ``(h, w)`` (gray) or ``(h, w, 3)``, or
        writes into ``out``.
        """
        self._check_open()
        cdef Frontend *fe = self.fe
        cdef int oh, ow
        if size is None:
            oh, ow = fe.out_h, fe.out_w
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
        if pool and not fe.prev_valid:
            raise ValueError("get_observation(pool=True) needs a step(n, pool=True) first")
        key = (oh, ow)
        plan = self._plans.get(key)
        if plan is None:
            plan = _ResizePlan(fe.out_h, fe.out_w, oh, ow)
            self._plans[key] = plan
        cdef _ResizePlan rp = plan
        cdef uint8_t[::1] flat = out.reshape(-1)
        with nogil:
            rp.run(fe.frame, fe.prev if pool else NULL, gray, &flat[0])
        return out

    def get_resolution(self):
        """``(width, height)`` of the picture."""
        if self.fe == NULL:
            return (0, 0)
        return (self.fe.out_w, self.fe.out_h)

    def get_screen_rate(self):
        """Frames per second of the emulated system."""
        self._check_open()
        return self.fe.av.timing.fps

    def get_audio_rate(self):
        """Audio sample rate in Hz."""
        self._check_open()
        return self.fe.av.timing.sample_rate

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
        if self.fe == NULL:
            return "?"
        return PIXEL_FORMATS.get(self.fe.pixel_format, "?")

    @property
    def geometry(self):
        """The core's current geometry: dict of base/max size and aspect ratio."""
        self._check_open()
        cdef retro_game_geometry g = self.fe.av.geometry
        return {"base_width": g.base_width, "base_height": g.base_height,
                "max_width": g.max_width, "max_height": g.max_height,
                "aspect_ratio": g.aspect_ratio}

    @property
    def rotation(self):
        """Screen rotation the core asked for, in quarter turns (0-3)."""
        return self.fe.rotation if self.fe != NULL else 0

    @property
    def num_ports(self):
        """Number of controller ports the core declared (2 if it did not say)."""
        return self.fe.num_ports if self.fe != NULL else 0

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
        self._check()
        cdef size_t n
        with nogil:
            retro_fe_enter(self.fe, &self.fe.log)
            n = self.fe.api.serialize_size()
            retro_fe_leave()
        return n

    def get_state(self):
        """Serialise the emulator (``retro_serialize``) into bytes."""
        cdef Frontend *fe = self.fe
        cdef size_t n
        cdef int rc
        cdef char *buf
        self._check()
        n = self.get_state_size()
        if n == 0:
            raise StateError(f"the {self.library_name} core does not support save states")
        state = PyBytes_FromStringAndSize(NULL, n)
        buf = PyBytes_AS_STRING(state)
        memset(buf, 0, n)
        with nogil:
            retro_fe_enter(fe, &fe.log)
            rc = retro_guard_serialize(fe.api.serialize, buf, n)
            retro_fe_leave()
        self.drain_log()
        if rc != 1:
            raise StateError(f"the {self.library_name} core failed to save its state")
        if self.settle_states:
            # Continue from exactly what a restore of this state gives, so that
            # running on after a save and restoring the save replay the same.
            self.set_state(state)
        return state

    def set_state(self, state):
        """Restore a state made by ``get_state()`` of the same core and game.

        Raises ``StateError`` if the state has the wrong size for this core and
        game or the core rejects it. Returns True for compatibility.
        """
        cdef Frontend *fe = self.fe
        cdef const unsigned char[::1] view
        cdef size_t n, expected
        cdef int rc
        self._check()
        if isinstance(state, str):
            raise TypeError("set_state() takes bytes, not str")
        view = memoryview(state).cast("B")
        n = view.shape[0]
        if n == 0:
            raise StateError("state is empty")
        expected = self.get_state_size()
        if n != expected:
            raise StateError(
                f"state has {n} bytes but the {self.library_name} core expects {expected} for "
                f"this game: it was made by another core, core version or game, or it is "
                f"truncated")
        if self.reload_before_set_state:
            self.power_cycle()
            fe = self.fe
        with nogil:
            retro_fe_enter(fe, &fe.log)
            rc = retro_guard_unserialize(fe.api.unserialize, &view[0], n)
            retro_fe_leave()
        self.drain_log()
        if rc < 0:
            # The core threw while reading the state: it may be half loaded,
            # so start it afresh before reporting.
            self.power_cycle()
            raise StateError(f"the {self.library_name} core could not read the state: it is corrupt")
        if rc == 0:
            raise StateError(f"the {self.library_name} core rejected the state")
        return True

    # -- memory ------------------------------------------------------------------

    def get_memory(self, region=RETRO_MEMORY_SYSTEM_RAM):
        """Writable zero-copy uint8 view of a core memory region, or None.

        ``region`` is a libretro memory id (2 = system RAM) or one of
        ``"system_ram"``, ``"save_ram"``, ``"video_ram"``, ``"rtc"``.
        """
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
        ptr = fe.api.get_memory_data(rid)
        size = fe.api.get_memory_size(rid)
        retro_fe_leave()
        if ptr == NULL or size == 0:
            return None
        return make_view(self._copy, ptr, size, False)

    def memory_descriptors(self):
        """The core's memory map as a list of dicts (empty if it has none).

        Each has ``flags``, ``start``, ``select``, ``disconnect``, ``len``,
        ``offset``, ``addrspace`` and ``const``.
        """
        cdef Frontend *fe = self.fe
        cdef unsigned i
        cdef retro_memory_descriptor *d
        self._check_open()
        out = []
        for i in range(fe.num_descs):
            d = &fe.descs[i]
            out.append({
                "flags": d.flags, "start": d.start, "select": d.select,
                "disconnect": d.disconnect, "len": d.len, "offset": d.offset,
                "addrspace": _str(d.addrspace), "const": bool(d.flags & RETRO_MEMDESC_CONST),
                "has_ptr": d.ptr != NULL,
            })
        return out

    def descriptor_view(self, unsigned index, size_t length):
        """Writable view of ``length`` bytes of memory-map descriptor ``index``."""
        cdef Frontend *fe = self.fe
        cdef retro_memory_descriptor *d
        self._check_open()
        if index >= fe.num_descs:
            raise IndexError(f"no memory descriptor {index}")
        d = &fe.descs[index]
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
        self._check_open()
        cdef unsigned i
        return {_str(self.fe.options[i].key): _str(self.fe.options[i].value)
                for i in range(self.fe.num_options) if self.fe.options[i].value != NULL}

    def option_info(self):
        """Declared options: ``{key: (description-and-choices, default)}``."""
        self._check_open()
        cdef unsigned i
        return {_str(self.fe.options[i].key):
                (_str(self.fe.options[i].spec), _str(self.fe.options[i].default_value))
                for i in range(self.fe.num_options)}

    def set_option(self, key, value):
        """Change a core option; the core sees it on its next frame."""
        self._check()
        self._set_option(str(key), str(value), True)

    cdef void _set_option(self, str key, str value, bint notify) except *:
        cdef bytes bkey = key.encode()
        cdef bytes bvalue = value.encode()
        cdef CoreOption *opt = find_option(self.fe, bkey)
        if opt == NULL:
            opt = add_option(self.fe, bkey)
            if opt == NULL:
                raise MemoryError()
        free(opt.value)
        opt.value = strdup(bvalue)
        if notify:
            self.fe.options_updated = True

    def add_cheat(self, code):
        """Enable a cheat code (``retro_cheat_set``)."""
        self._check()
        cdef bytes bcode = str(code).encode()
        cdef const char *c = bcode
        retro_fe_enter(self.fe, &self.fe.log)
        self.fe.api.cheat_set(self.cheat_index, True, c)
        retro_fe_leave()
        self.cheat_index += 1
        self.drain_log()

    def clear_cheats(self):
        """Disable all cheats (``retro_cheat_reset``)."""
        self._check()
        retro_fe_enter(self.fe, &self.fe.log)
        self.fe.api.cheat_reset()
        retro_fe_leave()
        self.cheat_index = 0

    def drain_log(self):
        """Hand queued core log lines to the ``retro.core`` logger."""
        cdef Frontend *fe = self.fe
        cdef size_t pos = 0
        cdef size_t n
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
        self.drain_log()
        self._closed = True
        raise RetroError(
            f"the {self.library_name} core failed inside {call} (it threw an exception); this "
            f"emulator is closed, create a new one")

    cdef inline int _check_open(self) except -1:
        if self._closed or self.fe == NULL:
            raise EmulatorClosedError("this emulator is closed")
        return 0


def pack_buttons(action, int width, int players):
    """Button bitmasks, one per player, of a flat 0/1 action vector; None if it is not one.

    ``action`` is a 1-D buffer (a numpy array of bools, ints or floats) of
    ``width * players`` values, player after player; bit ``i`` of player
    ``p``'s mask is set when value ``p * width + i`` is 1. Anything else (not
    a buffer, another shape, a value other than 0 and 1) gives None, for the
    caller to explain.
    """
    cdef Py_buffer view
    cdef const char *fmt
    cdef char code
    cdef Py_ssize_t i, n
    cdef const char *item
    cdef int64_t iv
    cdef uint64_t uv
    cdef double dv
    cdef float fv
    cdef int8_t b8
    cdef int16_t i16
    cdef int32_t i32
    cdef uint64_t mask = 0
    cdef bint one, ok = True
    cdef list masks
    if players < 1 or width < 1 or width > 64 or not PyObject_CheckBuffer(action):
        return None
    try:
        PyObject_GetBuffer(action, &view, PyBUF_FORMAT | PyBUF_STRIDES)
    except (BufferError, TypeError, ValueError):
        return None
    try:
        n = <Py_ssize_t>width * players
        if view.ndim != 1 or view.shape[0] != n:
            return None
        fmt = view.format
        if fmt == NULL:
            fmt = b"B"
        while fmt[0] == b"@" or fmt[0] == b"=" or fmt[0] == b"<" or fmt[0] == b"!" or fmt[0] == b">":
            if (fmt[0] == b">" or fmt[0] == b"!") and view.itemsize > 1:
                return None  # big-endian data
            fmt += 1
        code = fmt[0]
        if fmt[0] == 0 or fmt[1] != 0:
            return None
        masks = []
        for i in range(n):
            item = <const char *>view.buf + i * view.strides[0]
            if code == b"?" or code == b"B" or code == b"b":
                one = item[0] == 1
                ok = one or item[0] == 0
            elif code == b"f" and view.itemsize == 4:
                memcpy(&fv, item, 4)
                one = fv == 1
                ok = one or fv == 0
            elif code == b"d" and view.itemsize == 8:
                memcpy(&dv, item, 8)
                one = dv == 1
                ok = one or dv == 0
            elif code in b"hHiIlLqQ" and view.itemsize in (2, 4, 8):
                uv = 0
                if view.itemsize == 2:
                    memcpy(&i16, item, 2)
                    uv = <uint16_t>i16
                elif view.itemsize == 4:
                    memcpy(&i32, item, 4)
                    uv = <uint32_t>i32
                else:
                    memcpy(&uv, item, 8)
                one = uv == 1
                ok = one or uv == 0
            else:
                return None
            if not ok:
                return None
            if one:
                mask |= (<uint64_t>1) << (i % width)
            if i % width == width - 1:
                masks.append(mask)
                mask = 0
        return masks
    finally:
        PyBuffer_Release(&view)


cdef class StepPool:
    """Steps many emulators at once on C worker threads, with the GIL released.

    ``StepPool(threads)`` starts ``threads - 1`` worker threads (default:
    one per CPU); the calling thread is the first worker. ``step(emulators,
    ...)`` runs ``Emulator.step`` on every emulator, spread over the
    threads, and returns when all are done. Workers spin for ``spin_us``
    microseconds after a round before they sleep, so back-to-back rounds do
    not pay for a thread wake-up. One call at a time per pool.
    """
    cdef retro_workers *w
    cdef readonly int threads
    cdef bint busy
    cdef long spin_ns
    cdef object pid   # the process whose threads these are

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

    def step(self, emulators, *, int n=1, bint pool=False, bint observe_last=False, outs=None):
        """``em.step(n, pool=, observe_last=, out=outs[i])`` for every emulator, in parallel.

        ``outs`` is None or one array (or None) per emulator, as ``out`` of
        :meth:`Emulator.step`. If a core fails, every other emulator still
        finishes its step and the first error is raised.
        """
        cdef list ems = list(emulators)
        cdef list targets
        cdef Py_ssize_t k = len(ems), i
        cdef StepJob *jobs
        cdef Emulator em
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
        targets = [None] * k if outs is None else list(outs)
        if len(targets) != k:
            raise ValueError(f"outs has {len(targets)} entries for {k} emulators")
        if len({id(e) for e in ems}) != k:
            raise ValueError("an emulator appears twice; each can run one step at a time")
        for i in range(k):
            if not isinstance(ems[i], Emulator):
                raise TypeError(f"expected Emulator objects, got {type(ems[i]).__name__}")
            (<Emulator>ems[i])._check_step(n, pool, targets[i])
        if k <= 0:
            return
        jobs = <StepJob *>calloc(<size_t>k, sizeof(StepJob))
        if jobs == NULL:
            raise MemoryError()
        self.busy = True
        try:
            for i in range(k):
                (<Emulator>ems[i])._prepare_step(&jobs[i], n, pool, observe_last, targets[i])
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
        finally:
            self.busy = False
            free(jobs)

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


def _private_copy_dirs():
    """Where private copies of cores are made: memory-backed first."""
    import os
    import tempfile

    dirs = []
    env = os.environ.get("RETRO_CORE_TMPDIR")
    if env:
        dirs.append(env)
    for d in ("/dev/shm", tempfile.gettempdir()):
        if os.path.isdir(d) and os.access(d, os.W_OK) and d not in dirs:
            dirs.append(d)
    return dirs


cdef str _str(const char *s):
    if s == NULL:
        return ""
    return s.decode("utf-8", "replace")

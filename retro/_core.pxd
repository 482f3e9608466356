# The libretro frontend's C-level interface (retro/_core.pyx), for the worker
# pool (retro/_workers.pyx) and any other Cython module that drives emulators.
from libc.stdint cimport int16_t, uint8_t, uint16_t, uint32_t, uint64_t

from retro._libretro cimport *
from retro._program cimport Program

cdef extern from "_frontend.h" nogil:
    ctypedef struct retro_fe_log:
        char *data
        size_t len
        size_t cap
        unsigned long dropped

cdef enum:
    MAX_PORTS = 8

ctypedef void (*core_hook_fn)() noexcept nogil


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


cdef struct Core:
    # One loaded copy of a core library and everything that belongs to it:
    # what it was given (it may keep these pointers for as long as it is
    # loaded, so the copy owns them) and what it told the frontend.
    void *handle
    CoreApi api
    bint initialised          # retro_init was called
    bint loaded               # retro_load_game succeeded
    char *system_dir
    char *save_dir
    char *core_path
    char *rom_path
    CoreOption *options
    unsigned num_options
    unsigned cap_options
    bint options_updated
    int pixel_format
    # pictures are 8-bit palette indices (RETRO_ENVIRONMENT_RETRO_PALETTED_VIDEO);
    # each index's colour as R | G << 8 | B << 16
    bint paletted
    uint32_t palette[256]
    retro_system_av_info av
    bint av_changed
    unsigned rotation
    unsigned num_ports
    retro_memory_descriptor *descs
    unsigned num_descs
    uint64_t serialization_quirks
    bint shutdown
    bint reusable             # unloaded and deinitialised cleanly: may be initialised again
    bint spoiled              # the core threw inside a call: never reused
    # a function of the core's own, called before its game is unloaded (call_before_unload), or NULL
    core_hook_fn before_unload


cdef struct Frontend:
    # What the emulator owns across core copies: the picture, audio, input
    # and log. `core` is the copy running now (owned by Emulator._copy).
    Core *core
    # video: one RGB24 picture of out_h x out_w, converted in the callback.
    # `frame` is where the current picture lives: the emulator's own buffer
    # (`own_frame`) or an array handed to step(out=...).
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
    # palette indices (a paletted core) `own_frame` shows, when `shown_valid`:
    # only what changed is converted into it again
    uint8_t *shown
    bint shown_valid
    size_t last_pitch
    unsigned last_src_w
    # the frame before the last, kept for max-pooling over frame skips
    uint8_t *prev
    bint prev_valid
    # audio of the current step, interleaved stereo int16
    int16_t *audio
    size_t audio_frames
    size_t audio_cap
    # a movie's digests (retro/_digest.h): while `digest_on`, each frame played appends its RAM's
    # (hash, chunk bits) to `digests`, and each step's last picture (frame index, hash) to `pictures`
    bint digest_on
    bint digest_failed        # out of memory: the digests are incomplete
    uint64_t *digests
    size_t n_digests
    size_t cap_digests
    uint64_t *pictures
    size_t n_pictures
    size_t cap_pictures
    size_t picture_every      # frames between two pictures' hashes (at least)
    size_t next_picture       # the first frame whose picture may be hashed next
    # input
    uint16_t masks[MAX_PORTS]
    unsigned long unknown_env_calls
    unsigned unknown_cmds[32]
    retro_fe_log log


cdef struct StepJob:
    Frontend *fe
    int frames          # frames to play
    bint pool           # keep the frame before the last, for max-pooling
    int skip            # frames at the start whose picture is not converted (no one observes them)
    int rc              # 0, or what retro_guard_run returned on failure
    # a scenario evaluated after every frame, stopping at the frame it is done (or NULL)
    Program *prog
    int played          # frames played
    # the observation preprocessed into obs_out after the frames (plan: a ResizePlan, or NULL)
    void *plan
    uint8_t *obs_out
    bint obs_gray


cdef void run_step_job(StepJob *job) noexcept nogil
cdef void run_step_jobs(void *jobs, int j) noexcept nogil


cdef struct RestoreJob:
    Frontend *fe
    const unsigned char *state
    size_t size
    int rc              # 1 taken, 0 refused, -1 the core threw


cdef void run_restore_jobs(void *jobs, int j) noexcept nogil


cdef class _CoreCopy:
    cdef Core *c
    cdef bytes rom_data       # the content handed to retro_load_game
    cdef Py_ssize_t views     # views into its memory alive (numpy arrays from get_memory, memory_blocks)
    cdef bint unload_pending  # its emulator let go while views were alive: unload when the last one goes
    cdef bint reuse_after     # whether the copy may be reused once unloaded
    cdef void _unload_now(self) noexcept


cdef class Emulator:
    cdef Frontend *fe
    cdef bint _closed
    cdef bint busy
    cdef int exports
    cdef bytes _rom_data
    cdef bint _private_copy
    cdef _CoreCopy _copy
    cdef dict _ctor
    cdef dict _port_devices
    cdef object _spare_thread
    cdef object _made_from    # for a spare: the options and devices it was loaded with
    cdef public bint keep_spare
    cdef readonly unsigned long memory_generation
    cdef readonly str rom_path
    cdef readonly str core_path
    cdef readonly str library_name
    cdef readonly str library_version
    cdef readonly str valid_extensions
    cdef readonly bint need_fullpath
    cdef public unsigned long long frame_count
    cdef unsigned cheat_index
    cdef dict _plans
    cdef object _frame_obj    # the array the current picture lives in, if not our own buffer

    cdef void _open_core(self, dict options) except *
    cdef void _init_core(self) except *
    cdef void _load_content(self) except *
    cdef void _setup_video(self, screen_size) except *
    cdef void _teardown(self) noexcept
    cdef void _unload_core(self) noexcept
    cdef object _ready_spare(self)
    cdef object _swap_in(self, Emulator spare)
    cdef int _call_unserialize(self, const unsigned char[::1] view) except -2
    cdef int _prepare_restore(self, RestoreJob *job, const unsigned char[::1] view) except -1
    cdef int _finish_restore(self, RestoreJob *job) noexcept
    cdef int _check(self) except -1
    cdef int _check_open(self) except -1
    cdef int _enter(self) except -1
    cdef void _leave(self) noexcept
    cdef int _check_step(self, int n, bint pool, object out) except -1
    cdef void _prepare_step(self, StepJob *job, int n, bint pool, int skip, object out)
    cdef int _prepare_extras(self, StepJob *job, object program, object obs, bint gray, object size, bint pool) except -1
    cdef object _finish_step(self, StepJob *job, int n, object out)
    cdef void _set_option(self, str key, str value, bint notify) except *
    cdef int _fail(self, str call) except -1

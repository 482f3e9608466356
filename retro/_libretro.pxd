# Cython view of retro's own libretro ABI declarations (retro/libretro_abi.h).
from libc.stdint cimport int16_t, uint32_t, uint64_t


cdef extern from "<stdbool.h>":
    ctypedef bint c_bool "bool"


cdef extern from "libretro_abi.h" nogil:
    enum:
        RETRO_API_VERSION
        RETRO_DEVICE_JOYPAD
        RETRO_DEVICE_MASK
        RETRO_DEVICE_ID_JOYPAD_MASK
        RETRO_MEMORY_SAVE_RAM
        RETRO_MEMORY_RTC
        RETRO_MEMORY_SYSTEM_RAM
        RETRO_MEMORY_VIDEO_RAM
        RETRO_MEMDESC_CONST
        RETRO_MEMDESC_BIGENDIAN
        RETRO_ENVIRONMENT_EXPERIMENTAL
        RETRO_ENVIRONMENT_SET_ROTATION
        RETRO_ENVIRONMENT_GET_OVERSCAN
        RETRO_ENVIRONMENT_GET_CAN_DUPE
        RETRO_ENVIRONMENT_SET_MESSAGE
        RETRO_ENVIRONMENT_SHUTDOWN
        RETRO_ENVIRONMENT_SET_PERFORMANCE_LEVEL
        RETRO_ENVIRONMENT_GET_SYSTEM_DIRECTORY
        RETRO_ENVIRONMENT_SET_PIXEL_FORMAT
        RETRO_ENVIRONMENT_SET_INPUT_DESCRIPTORS
        RETRO_ENVIRONMENT_SET_HW_RENDER
        RETRO_ENVIRONMENT_GET_VARIABLE
        RETRO_ENVIRONMENT_SET_VARIABLES
        RETRO_ENVIRONMENT_GET_VARIABLE_UPDATE
        RETRO_ENVIRONMENT_SET_SUPPORT_NO_GAME
        RETRO_ENVIRONMENT_GET_LIBRETRO_PATH
        RETRO_ENVIRONMENT_GET_LOG_INTERFACE
        RETRO_ENVIRONMENT_GET_CORE_ASSETS_DIRECTORY
        RETRO_ENVIRONMENT_GET_SAVE_DIRECTORY
        RETRO_ENVIRONMENT_SET_SYSTEM_AV_INFO
        RETRO_ENVIRONMENT_SET_CONTROLLER_INFO
        RETRO_ENVIRONMENT_SET_MEMORY_MAPS
        RETRO_ENVIRONMENT_SET_GEOMETRY
        RETRO_ENVIRONMENT_GET_LANGUAGE
        RETRO_ENVIRONMENT_SET_SUPPORT_ACHIEVEMENTS
        RETRO_ENVIRONMENT_SET_SERIALIZATION_QUIRKS
        RETRO_ENVIRONMENT_GET_AUDIO_VIDEO_ENABLE
        RETRO_ENVIRONMENT_GET_FASTFORWARDING
        RETRO_ENVIRONMENT_GET_INPUT_BITMASKS
        RETRO_ENVIRONMENT_GET_CORE_OPTIONS_VERSION
        RETRO_ENVIRONMENT_GET_INPUT_MAX_USERS
        RETRO_ENVIRONMENT_SET_VARIABLE
        RETRO_ENVIRONMENT_RETRO_PALETTED_VIDEO

    enum retro_pixel_format:
        RETRO_PIXEL_FORMAT_0RGB1555
        RETRO_PIXEL_FORMAT_XRGB8888
        RETRO_PIXEL_FORMAT_RGB565

    struct retro_paletted_video:
        const uint32_t *palette

    enum retro_log_level:
        RETRO_LOG_DEBUG
        RETRO_LOG_INFO
        RETRO_LOG_WARN
        RETRO_LOG_ERROR

    void *RETRO_HW_FRAME_BUFFER_VALID

    struct retro_system_info:
        const char *library_name
        const char *library_version
        const char *valid_extensions
        c_bool need_fullpath
        c_bool block_extract

    struct retro_game_geometry:
        unsigned base_width
        unsigned base_height
        unsigned max_width
        unsigned max_height
        float aspect_ratio

    struct retro_system_timing:
        double fps
        double sample_rate

    struct retro_system_av_info:
        retro_game_geometry geometry
        retro_system_timing timing

    struct retro_game_info:
        const char *path
        const void *data
        size_t size
        const char *meta

    struct retro_variable:
        const char *key
        const char *value

    struct retro_memory_descriptor:
        uint64_t flags
        void *ptr
        size_t offset
        size_t start
        size_t select
        size_t disconnect
        size_t len
        const char *addrspace

    struct retro_memory_map:
        const retro_memory_descriptor *descriptors
        unsigned num_descriptors

    struct retro_controller_description:
        const char *desc
        unsigned id

    struct retro_controller_info:
        const retro_controller_description *types
        unsigned num_types

    struct retro_message:
        const char *msg
        unsigned frames

    ctypedef void (*retro_log_printf_t)(retro_log_level level, const char *fmt, ...) noexcept nogil

    struct retro_log_callback:
        retro_log_printf_t log

    ctypedef c_bool (*retro_environment_t)(unsigned cmd, void *data) noexcept nogil
    ctypedef void (*retro_video_refresh_t)(const void *data, unsigned width, unsigned height,
                                           size_t pitch) noexcept nogil
    ctypedef void (*retro_audio_sample_t)(int16_t left, int16_t right) noexcept nogil
    ctypedef size_t (*retro_audio_sample_batch_t)(const int16_t *data, size_t frames) noexcept nogil
    ctypedef void (*retro_input_poll_t)() noexcept nogil
    ctypedef int16_t (*retro_input_state_t)(unsigned port, unsigned device, unsigned index,
                                            unsigned id) noexcept nogil

    ctypedef void (*retro_set_environment_fn)(retro_environment_t) noexcept nogil
    ctypedef void (*retro_set_video_refresh_fn)(retro_video_refresh_t) noexcept nogil
    ctypedef void (*retro_set_audio_sample_fn)(retro_audio_sample_t) noexcept nogil
    ctypedef void (*retro_set_audio_sample_batch_fn)(retro_audio_sample_batch_t) noexcept nogil
    ctypedef void (*retro_set_input_poll_fn)(retro_input_poll_t) noexcept nogil
    ctypedef void (*retro_set_input_state_fn)(retro_input_state_t) noexcept nogil
    ctypedef void (*retro_init_fn)() noexcept nogil
    ctypedef void (*retro_deinit_fn)() noexcept nogil
    ctypedef unsigned (*retro_api_version_fn)() noexcept nogil
    ctypedef void (*retro_get_system_info_fn)(retro_system_info *) noexcept nogil
    ctypedef void (*retro_get_system_av_info_fn)(retro_system_av_info *) noexcept nogil
    ctypedef void (*retro_set_controller_port_device_fn)(unsigned port, unsigned device) noexcept nogil
    ctypedef void (*retro_reset_fn)() noexcept nogil
    ctypedef void (*retro_run_fn)() noexcept nogil
    ctypedef size_t (*retro_serialize_size_fn)() noexcept nogil
    ctypedef c_bool (*retro_serialize_fn)(void *data, size_t size) noexcept nogil
    ctypedef c_bool (*retro_unserialize_fn)(const void *data, size_t size) noexcept nogil
    ctypedef void (*retro_cheat_reset_fn)() noexcept nogil
    ctypedef void (*retro_cheat_set_fn)(unsigned index, c_bool enabled, const char *code) noexcept nogil
    ctypedef c_bool (*retro_load_game_fn)(const retro_game_info *game) noexcept nogil
    ctypedef void (*retro_unload_game_fn)() noexcept nogil
    ctypedef unsigned (*retro_get_region_fn)() noexcept nogil
    ctypedef void *(*retro_get_memory_data_fn)(unsigned id) noexcept nogil
    ctypedef size_t (*retro_get_memory_size_fn)(unsigned id) noexcept nogil

/*
 * testcore: tiny deterministic libretro cores for retro's frontend tests.
 *
 * One source, many variants: tests/cores/build.py compiles it with
 * -DTC_<VARIANT> (upper case: TC_XRGB8888, TC_SYSRAM, TC_0RGB1555, ...) and
 * -DTC_NAME="<variant>". tests/cores/build.py (VARIANTS) is the reference for
 * what each variant does; the notes here are about how.
 *
 * Shared scaffold: every variant that loads content presents a 64x48 test
 * pattern each frame through a frame buffer whose pitch is wider than a row
 * (the padding is filled with 0xAB), fps 60, sample rate 48000.
 * `frame` counts retro_run calls since retro_load_game (or retro_reset); the
 * first retro_run draws frame 1. Pixel (x, y) of frame f has
 *     R = (x*4 + f) & 0xFF,  G = (y*5) & 0xFF,  B = (x ^ y) & 0xFF
 * before quantisation to the pixel format (see put_pixel).
 *
 * Only the ABI facts in retro/libretro_abi.h are used.
 */
#include <stdio.h>
#include <string.h>

#include "libretro_abi.h"

#ifndef TC_NAME
#define TC_NAME "testcore"
#endif

/* ---- variant switches ---------------------------------------------------- */
/* (TC_FORMAT is an enum constant: test TC_RGB565 etc. in #if, not TC_FORMAT.) */

#if defined(TC_RGB565)
#define TC_FORMAT RETRO_PIXEL_FORMAT_RGB565
#define TC_BPP 2
#elif defined(TC_0RGB1555)
#define TC_FORMAT RETRO_PIXEL_FORMAT_0RGB1555
#define TC_BPP 2
#else
#define TC_FORMAT RETRO_PIXEL_FORMAT_XRGB8888
#define TC_BPP 4
#endif

/* Bytes of SYSTEM_RAM (0: the core has none). */
#if defined(TC_SYSRAM) || defined(TC_MEMMAP) || defined(TC_STATE)
#define TC_RAM_SIZE 256
#define TC_RAM_PATTERN 1 /* ram[i] = (i + frame) & 0xFF every frame */
#elif defined(TC_INPUT) || defined(TC_OPTIONS)
#define TC_RAM_SIZE 16
#elif defined(TC_FULLPATH) || defined(TC_INMEMORY)
#define TC_RAM_SIZE 32
#elif defined(TC_GLOBALS)
#define TC_RAM_SIZE 4
#elif defined(TC_KEEPER)
#define TC_RAM_SIZE 64
#else
#define TC_RAM_SIZE 0
#endif

#define WIDTH 64
#define HEIGHT 48
#define SMALL_WIDTH 32  /* options: picture size from frame 3 on */
#define SMALL_HEIGHT 24
#define PAD_BYTES 24    /* per row, beyond WIDTH * TC_BPP */
#define PITCH (WIDTH * TC_BPP + PAD_BYTES)
#define PAD_FILL 0xAB

/* ---- state shared by all variants ---------------------------------------- */

static retro_environment_t environ_cb;
static retro_video_refresh_t video_cb;
static retro_audio_sample_t audio_cb;
static retro_audio_sample_batch_t audio_batch_cb;
static retro_input_poll_t input_poll_cb;
static retro_input_state_t input_state_cb;

static unsigned frame; /* retro_run calls since load */
static unsigned char fb[HEIGHT * PITCH];
#if TC_RAM_SIZE
static unsigned char ram[TC_RAM_SIZE];
#endif

static inline void put_le32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline uint32_t get_le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Quantise 8-bit R, G, B to the pixel format and store it (native endian).
 * XRGB8888: 0xAB<<24 | R<<16 | G<<8 | B (the X byte is garbage on purpose).
 * RGB565:   (R>>3)<<11 | (G>>2)<<5 | (B>>3).
 * 0RGB1555: (R>>3)<<10 | (G>>3)<<5 | (B>>3), top bit 0. */
static inline void put_pixel(unsigned char *dst, unsigned r, unsigned g, unsigned b) {
#if TC_BPP == 4
    uint32_t p = (uint32_t)PAD_FILL << 24 | r << 16 | g << 8 | b;
    memcpy(dst, &p, 4);
#elif defined(TC_RGB565)
    uint16_t p = (uint16_t)((r >> 3) << 11 | (g >> 2) << 5 | (b >> 3));
    memcpy(dst, &p, 2);
#else
    uint16_t p = (uint16_t)((r >> 3) << 10 | (g >> 3) << 5 | (b >> 3));
    memcpy(dst, &p, 2);
#endif
}

static inline void draw(unsigned width, unsigned height) {
    unsigned x, y;
    memset(fb, PAD_FILL, sizeof fb);
    for (y = 0; y < height; y++)
        for (x = 0; x < width; x++)
            put_pixel(fb + y * PITCH + x * TC_BPP, (x * 4 + frame) & 0xFF, (y * 5) & 0xFF,
                      (x ^ y) & 0xFF);
    video_cb(fb, width, height, PITCH);
}

/* ---- variant: wide -------------------------------------------------------- */

#if defined(TC_WIDE)
/* Pictures up to twice the base size each way, drawn with the same formula at
 * their own coordinates, in a buffer of their own. */
#define WIDE_PITCH (2 * WIDTH * TC_BPP + PAD_BYTES)
static unsigned char wide_fb[2 * HEIGHT * WIDE_PITCH];

static void draw_wide(unsigned width, unsigned height) {
    unsigned x, y;
    memset(wide_fb, PAD_FILL, sizeof wide_fb);
    for (y = 0; y < height; y++)
        for (x = 0; x < width; x++)
            put_pixel(wide_fb + y * WIDE_PITCH + x * TC_BPP, (x * 4 + frame) & 0xFF,
                      (y * 5) & 0xFF, (x ^ y) & 0xFF);
    video_cb(wide_fb, width, height, WIDE_PITCH);
}

static const unsigned wide_sizes[5][2] = {
    {2 * WIDTH, HEIGHT}, {WIDTH, 2 * HEIGHT}, {2 * WIDTH, 2 * HEIGHT}, {WIDTH + WIDTH / 2, HEIGHT},
    {WIDTH, HEIGHT},
};
#endif

/* ---- variant: memmap ----------------------------------------------------- */

#if defined(TC_MEMMAP)
static const unsigned char const_table[64] = {
    0xC0, 0xFF, 0xEE, 0x01, 0x02, 0x03, 0x04, 0x05, /* the rest is zero */
};
static const struct retro_memory_descriptor memmap_descs[3] = {
    {RETRO_MEMDESC_SYSTEM_RAM, ram, 0, 0x1000, 0, 0, 128, NULL},
    {RETRO_MEMDESC_SYSTEM_RAM, ram, 128, 0x8000, 0, 0, 128, NULL},
    {RETRO_MEMDESC_CONST, (void *)const_table, 0, 0x20000, 0, 0, sizeof const_table, NULL},
};
#endif

/* ---- variant: state -------------------------------------------------------- */

#if defined(TC_STATE)
#define STATE_MAGIC "RTSTATE1"
#define STATE_SIZE (8 + 4 + 4 + TC_RAM_SIZE) /* magic, frame, lcg, ram (LE) */
#define LCG_SEED 0x12345678u
static uint32_t lcg;
static unsigned char lcg_bytes[4]; /* lcg, little-endian: the SAVE_RAM region */
#endif

/* ---- variant: input -------------------------------------------------------- */

#if defined(TC_INPUT)
#define AUDIO_BATCH 400
static const struct retro_controller_description joypad_type[1] = {{"Joypad", RETRO_DEVICE_JOYPAD}};
static const struct retro_controller_info controller_info[5] = {
    {joypad_type, 1}, {joypad_type, 1}, {joypad_type, 1}, {joypad_type, 1}, {NULL, 0},
};
static int16_t audio_buf[2 * AUDIO_BATCH];
#endif

/* ---- variant: options ------------------------------------------------------ */

#if defined(TC_OPTIONS)
static const struct retro_variable option_defs[3] = {
    {"testcore_speed", "Speed; normal|fast|slow"},
    {"testcore_colour", "Colour; red|green|blue"},
    {NULL, NULL},
};
static const char *const speed_values[3] = {"normal", "fast", "slow"};
static const char *const colour_values[3] = {"red", "green", "blue"};
static retro_log_printf_t log_cb;
static unsigned char dirs_seen[2]; /* system, save directory non-NULL */
static unsigned updates_seen;

static unsigned char option_index(const char *key, const char *const values[3]) {
    struct retro_variable var = {key, NULL};
    unsigned i;
    if (!environ_cb(RETRO_ENVIRONMENT_GET_VARIABLE, &var) || var.value == NULL)
        return 0xFF;
    for (i = 0; i < 3; i++)
        if (strcmp(var.value, values[i]) == 0)
            return (unsigned char)i;
    return 0xFF;
}
#endif

/* ---- variant: keeper ------------------------------------------------------- */

#if defined(TC_KEEPER)
static const struct retro_variable keeper_defs[2] = {
    {"testcore_speed", "Speed; normal|fast|slow"},
    {NULL, NULL},
};
static const char *kept_speed;   /* as GET_VARIABLE gave it */
static const char *kept_dir;     /* as GET_SYSTEM_DIRECTORY gave it */

static const char *read_speed(void) {
    struct retro_variable var = {"testcore_speed", NULL};
    return environ_cb(RETRO_ENVIRONMENT_GET_VARIABLE, &var) ? var.value : NULL;
}

static void copy_kept(unsigned char *dst, const char *src, size_t n) {
    memset(dst, 0, n);
    if (src)
        strncpy((char *)dst, src, n - 1);
}
#endif

/* ---- variant: slow ----------------------------------------------------------- */

#if defined(TC_SLOW)
#define SLOW_ITERATIONS 2000000u /* about 2 ms of CPU */
static volatile uint32_t slow_sink;
#endif

/* ---- variant: globals -------------------------------------------------------- */

#if defined(TC_GLOBALS)
static uint32_t global_counter; /* never reset: only a private copy of the core starts at 0 */
#endif

/* ---- entry points ------------------------------------------------------------ */

unsigned retro_api_version(void) {
#if defined(TC_BADAPI)
    return 2;
#else
    return RETRO_API_VERSION;
#endif
}

void retro_set_environment(retro_environment_t cb) {
    environ_cb = cb;
#if defined(TC_OPTIONS)
    cb(RETRO_ENVIRONMENT_SET_VARIABLES, (void *)option_defs);
#endif
#if defined(TC_KEEPER)
    cb(RETRO_ENVIRONMENT_SET_VARIABLES, (void *)keeper_defs);
#endif
#if defined(TC_INPUT)
    cb(RETRO_ENVIRONMENT_SET_CONTROLLER_INFO, (void *)controller_info);
#endif
}

void retro_set_video_refresh(retro_video_refresh_t cb) { video_cb = cb; }
void retro_set_audio_sample(retro_audio_sample_t cb) { audio_cb = cb; }
void retro_set_audio_sample_batch(retro_audio_sample_batch_t cb) { audio_batch_cb = cb; }
void retro_set_input_poll(retro_input_poll_t cb) { input_poll_cb = cb; }
void retro_set_input_state(retro_input_state_t cb) { input_state_cb = cb; }

void retro_init(void) {
#if defined(TC_OPTIONS)
    struct retro_log_callback logging = {NULL};
    log_cb = environ_cb(RETRO_ENVIRONMENT_GET_LOG_INTERFACE, &logging) ? logging.log : NULL;
#endif
}

void retro_deinit(void) {}

void retro_get_system_info(struct retro_system_info *info) {
    memset(info, 0, sizeof *info);
    info->library_name = "testcore";
    info->library_version = "1.0 " TC_NAME;
    info->valid_extensions = "bin|tst";
#if defined(TC_FULLPATH)
    info->need_fullpath = true;
#endif
}

void retro_get_system_av_info(struct retro_system_av_info *info) {
    memset(info, 0, sizeof *info);
    info->geometry.base_width = WIDTH;
    info->geometry.base_height = HEIGHT;
#if defined(TC_WIDE)
    info->geometry.max_width = 2 * WIDTH;
    info->geometry.max_height = 2 * HEIGHT;
#else
    info->geometry.max_width = WIDTH;
    info->geometry.max_height = HEIGHT;
#endif
    info->geometry.aspect_ratio = 4.0f / 3.0f;
    info->timing.fps = 60.0;
    info->timing.sample_rate = 48000.0;
}

void retro_set_controller_port_device(unsigned port, unsigned device) {
    (void)port;
    (void)device;
}

static void start(void) {
    frame = 0;
#if TC_RAM_SIZE && !defined(TC_FULLPATH) && !defined(TC_INMEMORY)
    memset(ram, 0, sizeof ram);
#endif
#if defined(TC_STATE)
    lcg = LCG_SEED;
    put_le32(lcg_bytes, lcg);
#endif
}

void retro_reset(void) { start(); }

#if !defined(TC_NOSYM)
void retro_run(void) {
    unsigned w = WIDTH, h = HEIGHT;
    frame++;
#if defined(TC_RAM_PATTERN)
    {
        unsigned i;
        for (i = 0; i < TC_RAM_SIZE; i++)
            ram[i] = (unsigned char)((i + frame) & 0xFF);
    }
#endif
#if defined(TC_STATE)
    lcg = lcg * 1664525u + 1013904223u;
    put_le32(lcg_bytes, lcg);
#endif
#if defined(TC_GLOBALS)
    global_counter++;
    put_le32(ram, global_counter);
#endif
#if defined(TC_SLOW)
    {
        uint32_t i;
        for (i = 0; i < SLOW_ITERATIONS; i++)
            slow_sink = slow_sink * 33u + i;
    }
#endif
#if defined(TC_INPUT)
    {
        unsigned port, id, k, batch;
        input_poll_cb();
        for (port = 0; port < 8; port++) {
            unsigned mask = 0;
            for (id = 0; id < 16; id++)
                if (input_state_cb(port, RETRO_DEVICE_JOYPAD, 0, id))
                    mask |= 1u << id;
            ram[2 * port] = (unsigned char)mask;
            ram[2 * port + 1] = (unsigned char)(mask >> 8);
        }
        /* sample k of frame f: left = (int16)(f*1000 + k), right = (int16)-left */
        for (batch = 0; batch < 2; batch++) {
            for (k = 0; k < AUDIO_BATCH; k++) {
                uint16_t left = (uint16_t)(frame * 1000u + batch * AUDIO_BATCH + k);
                audio_buf[2 * k] = (int16_t)left;
                audio_buf[2 * k + 1] = (int16_t)(uint16_t)(0u - left);
            }
            audio_batch_cb(audio_buf, AUDIO_BATCH);
        }
        audio_cb((int16_t)(uint16_t)frame, (int16_t)(uint16_t)(0u - frame));
    }
#endif
#if defined(TC_OPTIONS)
    {
        bool updated = false;
        if (environ_cb(RETRO_ENVIRONMENT_GET_VARIABLE_UPDATE, &updated) && updated && updates_seen < 255)
            updates_seen++;
        ram[0] = option_index("testcore_speed", speed_values);
        ram[1] = option_index("testcore_colour", colour_values);
        ram[2] = dirs_seen[0];
        ram[3] = dirs_seen[1];
        ram[4] = (unsigned char)updates_seen;
        ram[5] = log_cb != NULL;
        if (log_cb)
            log_cb(RETRO_LOG_INFO, "testcore frame %u", frame);
        if (frame == 3) {
            struct retro_game_geometry geom = {SMALL_WIDTH, SMALL_HEIGHT, WIDTH, HEIGHT, 4.0f / 3.0f};
            ram[6] = environ_cb(RETRO_ENVIRONMENT_SET_GEOMETRY, &geom);
        }
        if (frame >= 3) {
            w = SMALL_WIDTH;
            h = SMALL_HEIGHT;
        }
    }
#endif
#if defined(TC_KEEPER)
    {
        bool updated = false;
        if (environ_cb(RETRO_ENVIRONMENT_GET_VARIABLE_UPDATE, &updated) && updated)
            kept_speed = read_speed();
        copy_kept(ram, kept_speed, 16);
        copy_kept(ram + 16, kept_dir, 48);
    }
#endif
#if defined(TC_WIDE)
    {
        const unsigned *size = wide_sizes[frame <= 5 ? frame - 1 : 4];
        draw_wide(size[0], size[1]);
        return;
    }
#endif
#if defined(TC_DUPE)
    if (frame & 1) {
        video_cb(NULL, w, h, PITCH);
        return;
    }
#endif
    draw(w, h);
}
#endif

size_t retro_serialize_size(void) {
#if defined(TC_STATE)
    return STATE_SIZE;
#else
    return 0;
#endif
}

bool retro_serialize(void *data, size_t size) {
#if defined(TC_STATE)
    unsigned char *p = data;
    if (size < STATE_SIZE)
        return false;
    memcpy(p, STATE_MAGIC, 8);
    put_le32(p + 8, frame);
    put_le32(p + 12, lcg);
    memcpy(p + 16, ram, TC_RAM_SIZE);
    return true;
#else
    (void)data;
    (void)size;
    return false;
#endif
}

bool retro_unserialize(const void *data, size_t size) {
#if defined(TC_STATE)
    const unsigned char *p = data;
    if (size != STATE_SIZE || memcmp(p, STATE_MAGIC, 8) != 0)
        return false;
    frame = get_le32(p + 8);
    lcg = get_le32(p + 12);
    put_le32(lcg_bytes, lcg);
    memcpy(ram, p + 16, TC_RAM_SIZE);
    return true;
#else
    (void)data;
    (void)size;
    return false;
#endif
}

void retro_cheat_reset(void) {}

void retro_cheat_set(unsigned index, bool enabled, const char *code) {
    (void)index;
    (void)enabled;
    (void)code;
}

bool retro_load_game(const struct retro_game_info *game) {
    enum retro_pixel_format fmt = TC_FORMAT;
#if defined(TC_FAILLOAD)
    (void)game;
    return false;
#endif
    if (!environ_cb(RETRO_ENVIRONMENT_SET_PIXEL_FORMAT, &fmt))
        return false;
    start();
#if defined(TC_FULLPATH)
    {
        /* ram: [0,16) first bytes of the file, [16] data was NULL,
         * [17] path was non-NULL, [20,24) file size (LE) */
        FILE *f;
        long n;
        if (game == NULL || game->path == NULL || (f = fopen(game->path, "rb")) == NULL)
            return false;
        memset(ram, 0, sizeof ram);
        n = fread(ram, 1, 16, f) < 16 && ferror(f) ? -1 : fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
        fclose(f);
        if (n < 0)
            return false;
        ram[16] = game->data == NULL;
        ram[17] = 1;
        put_le32(ram + 20, (uint32_t)n);
    }
#elif defined(TC_INMEMORY)
    /* ram: [0,16) first bytes of game->data, [16] data was NULL (always 0
     * once loaded), [17] path was non-NULL, [20,24) game->size (LE) */
    if (game == NULL || game->data == NULL || game->size == 0)
        return false;
    memset(ram, 0, sizeof ram);
    memcpy(ram, game->data, game->size < 16 ? game->size : 16);
    ram[17] = game->path != NULL;
    put_le32(ram + 20, (uint32_t)game->size);
#else
    (void)game;
#endif
#if defined(TC_MEMMAP)
    {
        struct retro_memory_map map = {memmap_descs, 3};
        environ_cb(RETRO_ENVIRONMENT_SET_MEMORY_MAPS, &map);
    }
#endif
#if defined(TC_OPTIONS)
    {
        const char *dir = NULL;
        dirs_seen[0] = environ_cb(RETRO_ENVIRONMENT_GET_SYSTEM_DIRECTORY, &dir) && dir != NULL;
        dir = NULL;
        dirs_seen[1] = environ_cb(RETRO_ENVIRONMENT_GET_SAVE_DIRECTORY, &dir) && dir != NULL;
        updates_seen = 0;
    }
#endif
#if defined(TC_KEEPER)
    kept_speed = read_speed();
    kept_dir = NULL;
    environ_cb(RETRO_ENVIRONMENT_GET_SYSTEM_DIRECTORY, &kept_dir);
#endif
    return true;
}

void retro_unload_game(void) {}

unsigned retro_get_region(void) { return RETRO_REGION_NTSC; }

void *retro_get_memory_data(unsigned id) {
#if defined(TC_STATE)
    if (id == RETRO_MEMORY_SAVE_RAM)
        return lcg_bytes;
#endif
#if TC_RAM_SIZE
    if (id == RETRO_MEMORY_SYSTEM_RAM)
        return ram;
#endif
    (void)id;
    return NULL;
}

size_t retro_get_memory_size(unsigned id) {
#if defined(TC_STATE)
    if (id == RETRO_MEMORY_SAVE_RAM)
        return sizeof lcg_bytes;
#endif
#if TC_RAM_SIZE
    if (id == RETRO_MEMORY_SYSTEM_RAM)
        return sizeof ram;
#endif
    (void)id;
    return 0;
}

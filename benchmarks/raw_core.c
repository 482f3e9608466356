/*
 * The reference for retro's speed: a minimal C frontend that loads a libretro
 * core and a ROM and calls retro_run in a loop, doing the per-frame work any
 * frontend must do (take the frame and convert it to RGB24, take the audio,
 * answer input), and nothing else. It converts pictures with the same code as
 * retro (retro/_convert.h), so the comparison measures the frontend around it.
 *
 *   raw_core CORE.so ROM FRAMES [convert=1] [option=value ...]
 *
 * Prints "frames=N seconds=S fps=F". Input: a new pseudo-random joypad mask
 * on port 0 every frame, as the Python benchmark does.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libretro_abi.h"
#include "_convert.h"  /* the same RGB24 conversion as retro's frontend */

static int pixel_format = RETRO_PIXEL_FORMAT_0RGB1555;
static unsigned out_w, out_h;
static unsigned char *frame;
static int convert = 1;
static int16_t audio[1 << 16];
static size_t audio_frames;
static uint16_t mask;
static int n_options;
static struct retro_variable options[32];
static char system_dir[] = "/tmp";

static void log_cb(enum retro_log_level level, const char *fmt, ...) {
    (void)level;
    (void)fmt;
}

static bool env_cb(unsigned cmd, void *data) {
    cmd &= ~RETRO_ENVIRONMENT_EXPERIMENTAL;
    switch (cmd) {
    case RETRO_ENVIRONMENT_SET_PIXEL_FORMAT:
        pixel_format = (int)*(const enum retro_pixel_format *)data;
        return pixel_format <= 2;
    case RETRO_ENVIRONMENT_GET_CAN_DUPE:
        *(bool *)data = true;
        return true;
    case RETRO_ENVIRONMENT_GET_VARIABLE: {
        struct retro_variable *var = data;
        for (int i = 0; i < n_options; i++) {
            if (strcmp(options[i].key, var->key) == 0) {
                var->value = options[i].value;
                return true;
            }
        }
        return false;
    }
    case RETRO_ENVIRONMENT_GET_SYSTEM_DIRECTORY:
    case RETRO_ENVIRONMENT_GET_SAVE_DIRECTORY:
        *(const char **)data = system_dir;
        return true;
    case RETRO_ENVIRONMENT_GET_LOG_INTERFACE:
        ((struct retro_log_callback *)data)->log = log_cb;
        return true;
    case RETRO_ENVIRONMENT_SET_MEMORY_MAPS & ~RETRO_ENVIRONMENT_EXPERIMENTAL:
        return true;
    default:
        return false;
    }
}

static void video_cb(const void *data, unsigned width, unsigned height, size_t pitch) {
    if (!data || !convert) return;
    unsigned w = width < out_w ? width : out_w;
    unsigned h = height < out_h ? height : out_h;
    for (unsigned y = 0; y < h; y++)
        retro_convert_row(frame + (size_t)y * out_w * 3, (const uint8_t *)data + y * pitch, w, pixel_format);
}

static size_t audio_batch_cb(const int16_t *data, size_t frames) {
    size_t room = sizeof audio / sizeof audio[0] / 2 - audio_frames;
    size_t n = frames < room ? frames : room;
    memcpy(audio + audio_frames * 2, data, n * 2 * sizeof(int16_t));
    audio_frames += n;
    return frames;
}

static void audio_cb(int16_t l, int16_t r) {
    int16_t s[2] = {l, r};
    audio_batch_cb(s, 1);
}

static void poll_cb(void) {}

static int16_t input_cb(unsigned port, unsigned device, unsigned index, unsigned id) {
    (void)index;
    if (port != 0 || (device & RETRO_DEVICE_MASK) != RETRO_DEVICE_JOYPAD) return 0;
    if (id == RETRO_DEVICE_ID_JOYPAD_MASK) return (int16_t)mask;
    return id < 16 ? (mask >> id) & 1 : 0;
}

#define SYM(name) name##_fn name = (name##_fn)dlsym(h, #name); if (!name) { fprintf(stderr, "missing %s\n", #name); return 2; }

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s CORE.so ROM FRAMES [convert=1] [key=value ...]\n", argv[0]);
        return 2;
    }
    long frames = atol(argv[3]);
    for (int i = 4; i < argc && n_options < 32; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) continue;
        *eq = 0;
        if (strcmp(argv[i], "convert") == 0) {
            convert = atoi(eq + 1);
            continue;
        }
        options[n_options].key = argv[i];
        options[n_options].value = eq + 1;
        n_options++;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "%s\n", dlerror());
        return 2;
    }
    SYM(retro_set_environment) SYM(retro_set_video_refresh) SYM(retro_set_audio_sample)
    SYM(retro_set_audio_sample_batch) SYM(retro_set_input_poll) SYM(retro_set_input_state)
    SYM(retro_init) SYM(retro_get_system_info) SYM(retro_load_game) SYM(retro_get_system_av_info)
    SYM(retro_run) SYM(retro_unload_game) SYM(retro_deinit)

    retro_set_environment(env_cb);
    retro_set_video_refresh(video_cb);
    retro_set_audio_sample(audio_cb);
    retro_set_audio_sample_batch(audio_batch_cb);
    retro_set_input_poll(poll_cb);
    retro_set_input_state(input_cb);
    retro_init();

    struct retro_system_info info;
    memset(&info, 0, sizeof info);
    retro_get_system_info(&info);
    FILE *f = fopen(argv[2], "rb");
    if (!f) {
        perror(argv[2]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *rom = malloc((size_t)size);
    if (fread(rom, 1, (size_t)size, f) != (size_t)size) {
        perror(argv[2]);
        return 2;
    }
    fclose(f);
    struct retro_game_info game = {argv[2], info.need_fullpath ? NULL : rom,
                                   info.need_fullpath ? 0 : (size_t)size, NULL};
    if (!retro_load_game(&game)) {
        fprintf(stderr, "the core rejected %s\n", argv[2]);
        return 2;
    }
    struct retro_system_av_info av;
    retro_get_system_av_info(&av);
    out_w = av.geometry.max_width;
    out_h = av.geometry.max_height;
    frame = calloc((size_t)out_w * out_h, 3);

    uint32_t rng = 12345;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < frames; i++) {
        rng = rng * 1664525u + 1013904223u;
        mask = (uint16_t)((rng >> 8) & 0xFFF);
        audio_frames = 0;
        retro_run();
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("frames=%ld seconds=%.6f fps=%.1f\n", frames, secs, (double)frames / secs);
    retro_unload_game();
    retro_deinit();
    return 0;
}

// Calls into a libretro core that turn a C++ exception escaping the core into
// an error code, instead of std::terminate ending the whole process. Cores
// written in C++ may throw on malformed input (a corrupt save state, say).
#include "_guard.h"

extern "C" {

int retro_guard_unserialize(retro_unserialize_fn fn, const void *data, size_t size) {
    try {
        return fn(data, size) ? 1 : 0;
    } catch (...) {
        return -1;
    }
}

int retro_guard_serialize(retro_serialize_fn fn, void *data, size_t size) {
    try {
        return fn(data, size) ? 1 : 0;
    } catch (...) {
        return -1;
    }
}

int retro_guard_load_game(retro_load_game_fn fn, const struct retro_game_info *game) {
    try {
        return fn(game) ? 1 : 0;
    } catch (...) {
        return -1;
    }
}

int retro_guard_run(retro_run_fn fn, int frames) {
    try {
        for (int i = 0; i < frames; i++) fn();
        return 0;
    } catch (...) {
        return -1;
    }
}

}  // extern "C"

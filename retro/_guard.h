/*
 * Calls into a libretro core that turn a C++ exception escaping the core into
 * an error code (see _guard.cpp): 1 true, 0 false, -1 the core threw.
 * retro_guard_run returns 0, or -1 if the core threw.
 */
#ifndef RETRO_GUARD_H
#define RETRO_GUARD_H

#include "libretro_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

int retro_guard_unserialize(retro_unserialize_fn fn, const void *data, size_t size);
int retro_guard_serialize(retro_serialize_fn fn, void *data, size_t size);
int retro_guard_load_game(retro_load_game_fn fn, const struct retro_game_info *game);
int retro_guard_run(retro_run_fn fn, int frames);

#ifdef __cplusplus
}
#endif

#endif /* RETRO_GUARD_H */

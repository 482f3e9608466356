// The training run of the ALE core's profile-guided build (retro._ale_core).
//
// Set-up links this program with the instrumented objects of the core (the
// ALE's emulator and our shim) and runs it on a few provisioned Atari ROMs:
// it plays each as a frontend would (random joypads held for a few frames,
// RESET now and then, a save state taken and restored now and then), with
// palette-index pictures (what retro's frontend takes) on some games and
// XRGB8888 pictures on others, and audio on every other game. The counts it
// leaves behind steer the optimised build. It prints nothing and exits 0 when
// every game loaded and ran.
//
//     ale_train FRAMES ROM...

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "libretro_abi.h"

extern "C" {
void retro_set_environment(retro_environment_t);
void retro_set_video_refresh(retro_video_refresh_t);
void retro_set_audio_sample_batch(retro_audio_sample_batch_t);
void retro_set_input_poll(retro_input_poll_t);
void retro_set_input_state(retro_input_state_t);
void retro_init(void);
void retro_deinit(void);
bool retro_load_game(const struct retro_game_info *);
void retro_unload_game(void);
void retro_run(void);
size_t retro_serialize_size(void);
bool retro_serialize(void *, size_t);
bool retro_unserialize(const void *, size_t);
}

namespace {

unsigned game_index = 0;
uint16_t pads[2] = {0, 0};
uint64_t rng = 0x9E3779B97F4A7C15ull;
uint32_t palette[256];
uint8_t picture[300 * 160 * 3];
unsigned long checksum = 0;

uint64_t next() {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

bool environment(unsigned cmd, void *data) {
  switch (cmd) {
    case RETRO_ENVIRONMENT_SET_PIXEL_FORMAT:
    case RETRO_ENVIRONMENT_SET_VARIABLES:
    case RETRO_ENVIRONMENT_GET_INPUT_BITMASKS:
      return true;
    case RETRO_ENVIRONMENT_GET_VARIABLE: {
      auto *var = static_cast<retro_variable *>(data);
      var->value = (game_index & 1) ? "enabled" : "disabled";
      return true;
    }
    case RETRO_ENVIRONMENT_GET_AUDIO_VIDEO_ENABLE:
      *static_cast<int *>(data) = 3;
      return true;
    case RETRO_ENVIRONMENT_RETRO_PALETTED_VIDEO:
      if (game_index % 3 == 2)
        return false;  // this game's pictures come as XRGB8888
      for (int i = 0; i < 256; ++i) {
        const uint32_t p = static_cast<const retro_paletted_video *>(data)->palette[i];
        palette[i] = ((p >> 16) & 0xFF) | (p & 0xFF00) | ((p & 0xFF) << 16);
      }
      return true;
    default:
      return false;
  }
}

void video(const void *data, unsigned width, unsigned height, size_t pitch) {
  if (!data || width > 160 || height > 300)
    return;
  const auto *src = static_cast<const uint8_t *>(data);
  uint8_t *dst = picture;
  for (unsigned y = 0; y < height; ++y)
    for (unsigned x = 0; x < width; ++x, dst += 3) {
      const uint32_t p = pitch == width ? palette[src[y * pitch + x]]
                                        : reinterpret_cast<const uint32_t *>(src + y * pitch)[x];
      std::memcpy(dst, &p, 3);
    }
  checksum += picture[(height / 2 * width + width / 2) * 3];
}

size_t audio(const int16_t *data, size_t frames) {
  checksum += frames ? static_cast<unsigned long>(data[0]) : 0;
  return frames;
}

void poll() {}

int16_t input(unsigned port, unsigned, unsigned, unsigned id) {
  if (port > 1)
    return 0;
  return id == RETRO_DEVICE_ID_JOYPAD_MASK ? static_cast<int16_t>(pads[port]) : (pads[port] >> id) & 1;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FRAMES ROM...\n", argv[0]);
    return 2;
  }
  const long frames = std::strtol(argv[1], nullptr, 10);
  retro_set_environment(environment);
  retro_set_video_refresh(video);
  retro_set_audio_sample_batch(audio);
  retro_set_input_poll(poll);
  retro_set_input_state(input);
  retro_init();
  for (int g = 2; g < argc; ++g, ++game_index) {
    retro_game_info game = {argv[g], nullptr, 0, nullptr};
    if (!retro_load_game(&game)) {
      std::fprintf(stderr, "the ALE core did not load %s\n", argv[g]);
      return 1;
    }
    std::vector<uint8_t> state(retro_serialize_size());
    for (long f = 0; f < frames; ++f) {
      if (f % 8 == 0) {
        // joystick directions and fire on both ports; RESET (START) now and then
        const uint64_t r = next();
        pads[0] = static_cast<uint16_t>((r & 0xF1) | ((r >> 8) % 97 == 0 ? 1u << 3 : 0u));
        pads[1] = static_cast<uint16_t>((r >> 16) & 0xF1);
      }
      retro_run();
      if (f % 600 == 599 && !state.empty()) {
        if (!retro_serialize(state.data(), state.size()) || !retro_unserialize(state.data(), state.size())) {
          std::fprintf(stderr, "a save state of %s did not round-trip\n", argv[g]);
          return 1;
        }
      }
    }
    retro_unload_game();
  }
  retro_deinit();
  return checksum == 0xFFFFFFFFFFFFFFFFul ? 1 : 0;  // keep the pictures and sound observable
}

// retro's libretro core around the Arcade Learning Environment's Atari 2600 emulator.
//
// This file is the whole core of our making: it implements the libretro API
// (declared in retro/libretro_abi.h) on top of the ALE's emulator classes
// (OSystem, Console, System, TIA, Event), which set-up compiles from the
// pinned ale-py source distribution (retro._ale_core). It drives the emulator
// layer only, never the ALE's environment layer: one retro_run is exactly one
// emulated frame (one TIA update), with no frame skip, colour averaging,
// sticky actions, reward logic or reset sequence. Input is applied the way
// the ALE applies its actions, so a frame here is a frame of the ALE:
//
// - joypad port 0 and 1 are the left and right joysticks (UP DOWN LEFT RIGHT,
//   B = fire); START is the console's RESET switch and SELECT its SELECT
//   switch (either port); L and R held on port 0 put the left and right
//   difficulty switch to A (B otherwise);
// - in paddle games, port p's LEFT and RIGHT turn paddle p by the ALE's step
//   per frame (LEFT raises the resistance, RIGHT lowers it) within the ALE's
//   limits, and B is its fire button.
//
// Video is XRGB8888 through the ALE's standard palette, 160 wide and as high
// as the ALE's screen (210 lines NTSC, 250 PAL). A frontend that answers
// retro's private RETRO_ENVIRONMENT_RETRO_PALETTED_VIDEO (libretro_abi.h; only
// retro's own does) gets the palette once and then the TIA's palette indices
// as they are, with no conversion here: it converts them into its own picture
// in one pass. System RAM is the 2600's 128
// bytes (0x80-0xFF). Save states hold the emulator's own serialisation, both
// frame buffers and the paddle positions, behind a header and a checksum.
// Audio (the ALE's raw TIA samples, 512 per frame at 31,400 Hz, mono, sent as
// stereo) is produced when the core option ale_audio is "enabled".

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "libretro_abi.h"

#include "ale/common/ColourPalette.hpp"
#include "ale/common/Log.hpp"
#include "ale/common/SoundRaw.hxx"
#include "ale/emucore/Console.hxx"
#include "ale/emucore/Deserializer.hxx"
#include "ale/emucore/Event.hxx"
#include "ale/emucore/MediaSrc.hxx"
#include "ale/emucore/OSystem.hxx"
#include "ale/emucore/Props.hxx"
#include "ale/emucore/Serializer.hxx"
#include "ale/emucore/Settings.hxx"
#include "ale/emucore/Sound.hxx"
#include "ale/emucore/System.hxx"

#ifndef RETRO_ALE_VERSION
#define RETRO_ALE_VERSION "unknown"
#endif

#define EXPORT extern "C" __attribute__((visibility("default")))

using ale::stella::Deserializer;
using ale::stella::Event;
using ale::stella::OSystem;
using ale::stella::Serializer;
using ale::stella::Settings;

namespace {

// The ALE's paddle range and step (environment/ale_state.hpp): restated here
// because the environment layer is not built into this core.
constexpr int kPaddleMin = 27450;
constexpr int kPaddleMax = 790196;
constexpr int kPaddleDelta = 23000;
constexpr int kPaddleDefault = (kPaddleMax - kPaddleMin) / 2 + kPaddleMin;

constexpr unsigned kWidth = 160;
constexpr unsigned kMaxHeight = 300;  // the TIA's frame buffers
constexpr unsigned kSamplesPerFrame = 512;
constexpr double kSampleRate = 31400.0;

constexpr char kMagic[8] = {'R', 'E', 'T', 'R', 'O', 'A', 'L', 'E'};
constexpr uint32_t kStateVersion = 2;    // version 1 (FNV-1a checksums) is still read
// header: magic, version, payload size, checksum, paddles, height
constexpr size_t kHeaderSize = 8 + 4 * 6;
constexpr size_t kSystemSlack = 1024;  // room for the emulator's blob to vary

enum : unsigned {
  kB = 0, kSelect = 2, kStart = 3, kUp = 4, kDown = 5, kLeft = 6, kRight = 7, kL = 10, kR = 11,
};

retro_environment_t env_cb;
retro_video_refresh_t video_cb;
retro_audio_sample_batch_t audio_batch_cb;
retro_input_poll_t input_poll_cb;
retro_input_state_t input_state_cb;
retro_log_printf_t log_cb;

struct Machine {
  std::unique_ptr<OSystem> osystem;
  std::unique_ptr<Settings> settings;  // registers itself with the OSystem
  std::string md5;
  bool paddles = false;
  bool audio = false;
  bool paletted = false;  // the frontend takes palette indices
  unsigned height = 210;
  double fps = 60.0;
  int paddle[2] = {kPaddleDefault, kPaddleDefault};
  uint32_t palette[256] = {};
  std::vector<uint32_t> pixels;
  std::vector<uint8_t> shown;  // the palette indices ``pixels`` holds
  bool shown_valid = false;
  std::vector<int16_t> samples;
  std::vector<uint8_t> mono;
  size_t state_size = 0;
};

Machine *m = nullptr;
bool bitmasks = false;

void logf(retro_log_level level, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (log_cb)
    log_cb(level, "%s\n", buf);
}

uint32_t fnv1a(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

// The payload's checksum (state version 2): four independent multiply-xorshift lanes over 64-bit
// words, so a restore spends a few microseconds on it rather than the byte loop's ~100.
uint32_t checksum(const uint8_t *p, size_t n) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h[4] = {n, n ^ 0x5851F42D4C957F2Dull, n ^ 0x14057B7EF767814Full, n ^ 0xDA942042E4DD58B5ull};
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) {
      uint64_t w;
      std::memcpy(&w, p + i + 8 * k, 8);
      h[k] = (h[k] ^ w) * kMul;
      h[k] ^= h[k] >> 31;
    }
  }
  uint64_t t = 0;
  for (size_t j = 0; i < n; ++i, ++j)
    t |= static_cast<uint64_t>(p[i]) << (8 * j);
  uint64_t r = ((h[0] ^ t) * kMul) ^ (h[1] * 0xC2B2AE3D27D4EB4Full);
  r ^= r >> 29;
  r = (r ^ h[2]) * kMul;
  r ^= r >> 32;
  r = (r ^ h[3]) * 0x165667B19E3779F9ull;
  return static_cast<uint32_t>(r ^ (r >> 32));
}

void put32(uint8_t *p, uint32_t v) { std::memcpy(p, &v, 4); }
uint32_t get32(const uint8_t *p) { uint32_t v; std::memcpy(&v, p, 4); return v; }

bool option_enabled(const char *key) {
  retro_variable var = {key, nullptr};
  return env_cb && env_cb(RETRO_ENVIRONMENT_GET_VARIABLE, &var) && var.value &&
         std::strcmp(var.value, "enabled") == 0;
}

uint16_t joypad(unsigned port) {
  if (!input_state_cb)
    return 0;
  if (bitmasks)
    return static_cast<uint16_t>(input_state_cb(port, RETRO_DEVICE_JOYPAD, 0, RETRO_DEVICE_ID_JOYPAD_MASK));
  uint16_t mask = 0;
  for (unsigned id = 0; id < 16; ++id)
    if (input_state_cb(port, RETRO_DEVICE_JOYPAD, 0, id))
      mask |= static_cast<uint16_t>(1u << id);
  return mask;
}

inline bool held(uint16_t mask, unsigned id) { return (mask >> id) & 1; }

// Sets every event the ALE sets before a frame, from the two joypads.
void apply_input(uint16_t p0, uint16_t p1) {
  Event *ev = m->osystem->event();
  ev->set(Event::ConsoleReset, held(p0, kStart) || held(p1, kStart));
  ev->set(Event::ConsoleSelect, held(p0, kSelect) || held(p1, kSelect));
  ev->set(Event::ConsoleLeftDifficultyA, held(p0, kL));
  ev->set(Event::ConsoleLeftDifficultyB, !held(p0, kL));
  ev->set(Event::ConsoleRightDifficultyA, held(p0, kR));
  ev->set(Event::ConsoleRightDifficultyB, !held(p0, kR));

  ev->set(Event::JoystickZeroUp, held(p0, kUp));
  ev->set(Event::JoystickZeroDown, held(p0, kDown));
  ev->set(Event::JoystickZeroLeft, held(p0, kLeft));
  ev->set(Event::JoystickZeroRight, held(p0, kRight));
  ev->set(Event::JoystickZeroFire, held(p0, kB));
  ev->set(Event::JoystickOneUp, held(p1, kUp));
  ev->set(Event::JoystickOneDown, held(p1, kDown));
  ev->set(Event::JoystickOneLeft, held(p1, kLeft));
  ev->set(Event::JoystickOneRight, held(p1, kRight));
  ev->set(Event::JoystickOneFire, held(p1, kB));

  if (m->paddles) {
    const uint16_t pads[2] = {p0, p1};
    for (int i = 0; i < 2; ++i) {
      int delta = 0;
      if (held(pads[i], kRight))
        delta = -kPaddleDelta;
      else if (held(pads[i], kLeft))
        delta = kPaddleDelta;
      int v = m->paddle[i] + delta;
      m->paddle[i] = v < kPaddleMin ? kPaddleMin : (v > kPaddleMax ? kPaddleMax : v);
    }
    ev->set(Event::PaddleZeroResistance, m->paddle[0]);
    ev->set(Event::PaddleOneResistance, m->paddle[1]);
    ev->set(Event::PaddleZeroFire, held(p0, kB));
    ev->set(Event::PaddleOneFire, held(p1, kB));
  }
}

void set_paddles_default() {
  m->paddle[0] = m->paddle[1] = kPaddleDefault;
  if (m->paddles) {
    m->osystem->event()->set(Event::PaddleZeroResistance, kPaddleDefault);
    m->osystem->event()->set(Event::PaddleOneResistance, kPaddleDefault);
  }
}

uint8_t *ram() {
  if (!m)
    return nullptr;
  // The RIOT maps its 128 bytes for direct access at 0x80 (pages 0x80-0xBF and 0xC0-0xFF).
  const auto &access = m->osystem->console().system().getPageAccess(0x80 >> 6);
  return access.directPeekBase;
}

// Converts the TIA's palette indices into the XRGB picture. Consecutive
// Atari frames differ in few pixels, so only the 8-pixel runs whose indices
// changed since the last conversion are converted again.
void convert_picture() {
  const uint8_t *src = m->osystem->console().mediaSource().currentFrameBuffer();
  uint32_t *dst = m->pixels.data();
  uint8_t *shown = m->shown.data();
  const size_t n = static_cast<size_t>(kWidth) * m->height;  // a multiple of 8
  if (!m->shown_valid) {
    for (size_t i = 0; i < n; ++i)
      dst[i] = m->palette[src[i]];
    std::memcpy(shown, src, n);
    m->shown_valid = true;
    return;
  }
  for (size_t i = 0; i < n; i += 8) {
    uint64_t now, was;
    std::memcpy(&now, src + i, 8);
    std::memcpy(&was, shown + i, 8);
    if (now == was)
      continue;
    std::memcpy(shown + i, &now, 8);
    for (size_t j = i; j < i + 8; ++j)
      dst[j] = m->palette[src[j]];
  }
}

void send_video() {
  if (!video_cb)
    return;
  if (m->paletted) {
    video_cb(m->osystem->console().mediaSource().currentFrameBuffer(), kWidth, m->height, kWidth);
    return;
  }
  int av = 3;
  // When the frontend does not want this picture, the last one is handed over unconverted.
  if (!env_cb || !env_cb(RETRO_ENVIRONMENT_GET_AUDIO_VIDEO_ENABLE, &av) || (av & 1))
    convert_picture();
  video_cb(m->pixels.data(), kWidth, m->height, kWidth * 4);
}

void send_audio() {
  if (!m->audio || !audio_batch_cb)
    return;
  std::fill(m->mono.begin(), m->mono.end(), 0);
  m->osystem->sound().process(m->mono.data(), kSamplesPerFrame);
  for (unsigned i = 0; i < kSamplesPerFrame; ++i) {
    const int16_t s = static_cast<int16_t>((static_cast<int>(m->mono[i]) - 128) << 8);
    m->samples[2 * i] = m->samples[2 * i + 1] = s;
  }
  audio_batch_cb(m->samples.data(), kSamplesPerFrame);
}

// The emulator's serialisation of the whole system (CPU, RIOT, TIA, cartridge, RNG).
bool system_blob(std::string &out) {
  Serializer ser;
  if (!m->osystem->console().system().saveState(m->md5, ser))
    return false;
  out = ser.get_str();
  return true;
}

size_t frame_bytes() { return static_cast<size_t>(kWidth) * m->height; }

}  // namespace

EXPORT void retro_set_environment(retro_environment_t cb) {
  env_cb = cb;
  static const retro_variable vars[] = {
      {"ale_audio", "Audio (the TIA's raw samples); disabled|enabled"},
      {nullptr, nullptr},
  };
  cb(RETRO_ENVIRONMENT_SET_VARIABLES, const_cast<retro_variable *>(vars));
  retro_log_callback logging;
  if (cb(RETRO_ENVIRONMENT_GET_LOG_INTERFACE, &logging))
    log_cb = logging.log;
}

EXPORT void retro_set_video_refresh(retro_video_refresh_t cb) { video_cb = cb; }
EXPORT void retro_set_audio_sample(retro_audio_sample_t) {}
EXPORT void retro_set_audio_sample_batch(retro_audio_sample_batch_t cb) { audio_batch_cb = cb; }
EXPORT void retro_set_input_poll(retro_input_poll_t cb) { input_poll_cb = cb; }
EXPORT void retro_set_input_state(retro_input_state_t cb) { input_state_cb = cb; }

EXPORT void retro_init(void) {
  ale::Logger::setMode(ale::Logger::Error);
  bool yes = false;
  bitmasks = env_cb && env_cb(RETRO_ENVIRONMENT_GET_INPUT_BITMASKS, &yes);
}

EXPORT void retro_deinit(void) {
  delete m;
  m = nullptr;
}

EXPORT unsigned retro_api_version(void) { return RETRO_API_VERSION; }

EXPORT void retro_get_system_info(struct retro_system_info *info) {
  std::memset(info, 0, sizeof *info);
  info->library_name = "ALE Stella";
  info->library_version = "ale-py " RETRO_ALE_VERSION;
  info->valid_extensions = "a26|bin";
  info->need_fullpath = true;  // the ALE opens the ROM file itself
  info->block_extract = false;
}

EXPORT void retro_get_system_av_info(struct retro_system_av_info *info) {
  std::memset(info, 0, sizeof *info);
  info->geometry.base_width = kWidth;
  info->geometry.base_height = m ? m->height : 210;
  info->geometry.max_width = kWidth;
  info->geometry.max_height = kMaxHeight;
  info->geometry.aspect_ratio = 4.0f / 3.0f;
  info->timing.fps = m ? m->fps : 60.0;
  info->timing.sample_rate = kSampleRate;
}

EXPORT void retro_set_controller_port_device(unsigned, unsigned) {}

EXPORT void retro_reset(void) {
  if (!m)
    return;
  // What the ALE does first on every reset: the system's own reset (RAM and
  // timer filled from the emulator's seeded generator), paddles centred.
  m->osystem->console().system().reset();
  set_paddles_default();
}

EXPORT void retro_run(void) {
  if (!m)
    return;
  if (input_poll_cb)
    input_poll_cb();
  apply_input(joypad(0), joypad(1));
  m->osystem->console().mediaSource().update();
  send_video();
  send_audio();
}

EXPORT bool retro_load_game(const struct retro_game_info *game) {
  if (!game || !game->path)
    return false;
  unsigned fmt = 1;  // XRGB8888
  if (!env_cb || !env_cb(RETRO_ENVIRONMENT_SET_PIXEL_FORMAT, &fmt)) {
    logf(RETRO_LOG_ERROR, "the frontend does not take XRGB8888 pictures");
    return false;
  }
  delete m;
  m = new Machine();
  try {
    m->osystem = std::make_unique<OSystem>();
    m->settings = std::make_unique<Settings>(m->osystem.get());
    m->audio = option_enabled("ale_audio");
    m->settings->setBool("sound_obs", m->audio);
    m->settings->validate();
    m->osystem->create();
    if (!m->osystem->createConsole(game->path)) {
      logf(RETRO_LOG_ERROR, "the ALE's emulator cannot run %s", game->path);
      delete m;
      m = nullptr;
      return false;
    }
    auto &console = m->osystem->console();
    m->osystem->colourPalette().setPalette("standard", console.getFormat());
    m->md5 = console.properties().get(ale::stella::Cartridge_MD5);
    m->paddles = console.properties().get(ale::stella::Controller_Left) == "PADDLES" ||
                 console.properties().get(ale::stella::Controller_Right) == "PADDLES";
    m->height = console.mediaSource().height();
    if (m->height == 0 || m->height > kMaxHeight || console.mediaSource().width() != kWidth) {
      logf(RETRO_LOG_ERROR, "unexpected picture size %ux%u", console.mediaSource().width(), m->height);
      delete m;
      m = nullptr;
      return false;
    }
    m->fps = console.getFrameRate();
    for (int i = 0; i < 256; ++i)
      m->palette[i] = m->osystem->colourPalette().getRGB(i) & 0x00FFFFFF;
    retro_paletted_video paletted = {m->palette};
    m->paletted = env_cb(RETRO_ENVIRONMENT_RETRO_PALETTED_VIDEO, &paletted);
    if (!m->paletted) {
      m->pixels.assign(static_cast<size_t>(kWidth) * m->height, 0);
      m->shown.assign(static_cast<size_t>(kWidth) * m->height, 0);
    }
    m->samples.assign(2 * kSamplesPerFrame, 0);
    m->mono.assign(kSamplesPerFrame, 0);
    if (m->audio)
      m->osystem->sound().initialize();
    set_paddles_default();
    std::string blob;
    if (!system_blob(blob) || ram() == nullptr) {
      logf(RETRO_LOG_ERROR, "the emulator cannot serialise this game");
      delete m;
      m = nullptr;
      return false;
    }
    m->state_size = kHeaderSize + blob.size() + kSystemSlack + 2 * frame_bytes();
  } catch (const std::exception &e) {
    logf(RETRO_LOG_ERROR, "the ALE's emulator failed to load %s: %s", game->path, e.what());
    delete m;
    m = nullptr;
    return false;
  } catch (...) {
    logf(RETRO_LOG_ERROR, "the ALE's emulator failed to load %s", game->path);
    delete m;
    m = nullptr;
    return false;
  }
  return true;
}

EXPORT bool retro_load_game_special(unsigned, const struct retro_game_info *, size_t) { return false; }

EXPORT void retro_unload_game(void) {
  delete m;
  m = nullptr;
}

EXPORT unsigned retro_get_region(void) {
  return m && m->fps < 55.0 ? RETRO_REGION_PAL : RETRO_REGION_NTSC;
}

EXPORT size_t retro_serialize_size(void) { return m ? m->state_size : 0; }

// Layout: magic, version, payload size, FNV-1a of the payload, paddle 0,
// paddle 1, picture height; then the payload: the emulator's blob, the
// current and the previous frame buffer; zeros up to the fixed size.
EXPORT bool retro_serialize(void *data, size_t size) {
  if (!m || !data || size < m->state_size)
    return false;
  std::string blob;
  try {
    if (!system_blob(blob))
      return false;
  } catch (...) {
    return false;
  }
  const size_t fb = frame_bytes();
  const size_t payload = blob.size() + 2 * fb;
  if (kHeaderSize + payload > m->state_size)
    return false;
  auto *out = static_cast<uint8_t *>(data);
  std::memset(out, 0, m->state_size);
  uint8_t *p = out + kHeaderSize;
  std::memcpy(p, blob.data(), blob.size());
  std::memcpy(p + blob.size(), m->osystem->console().mediaSource().currentFrameBuffer(), fb);
  std::memcpy(p + blob.size() + fb, m->osystem->console().mediaSource().previousFrameBuffer(), fb);
  std::memcpy(out, kMagic, 8);
  put32(out + 8, kStateVersion);
  put32(out + 12, static_cast<uint32_t>(payload));
  put32(out + 16, checksum(p, payload));
  put32(out + 20, static_cast<uint32_t>(m->paddle[0]));
  put32(out + 24, static_cast<uint32_t>(m->paddle[1]));
  put32(out + 28, m->height);
  return true;
}

EXPORT bool retro_unserialize(const void *data, size_t size) {
  if (!m || !data || size < kHeaderSize)
    return false;
  const auto *in = static_cast<const uint8_t *>(data);
  const uint32_t version = get32(in + 8);
  if (std::memcmp(in, kMagic, 8) != 0 || (version != kStateVersion && version != 1) || get32(in + 28) != m->height)
    return false;
  const size_t payload = get32(in + 12);
  const size_t fb = frame_bytes();
  if (payload < 2 * fb || kHeaderSize + payload > size)
    return false;
  const uint8_t *body = in + kHeaderSize;
  if ((version == 1 ? fnv1a(body, payload) : checksum(body, payload)) != get32(in + 16))
    return false;
  const int p0 = static_cast<int>(get32(in + 20)), p1 = static_cast<int>(get32(in + 24));
  if (p0 < kPaddleMin || p0 > kPaddleMax || p1 < kPaddleMin || p1 > kPaddleMax)
    return false;
  // A payload whose checksum holds was written by retro_serialize, so it loads. One that still fails
  // (forged, or from another build of the emulator) may leave the machine partly loaded: the frontend
  // tries unknown states in a disposable process first, and power-cycles a core that refused one.
  const std::string blob(reinterpret_cast<const char *>(in + kHeaderSize), payload - 2 * fb);
  bool ok = false;
  try {
    Deserializer des(blob);
    ok = m->osystem->console().system().loadState(m->md5, des);
  } catch (...) {
    ok = false;
  }
  if (!ok)
    return false;
  const uint8_t *frames = in + kHeaderSize + blob.size();
  std::memcpy(m->osystem->console().mediaSource().currentFrameBuffer(), frames, fb);
  std::memcpy(m->osystem->console().mediaSource().previousFrameBuffer(), frames + fb, fb);
  m->shown_valid = false;
  m->paddle[0] = p0;
  m->paddle[1] = p1;
  if (m->paddles) {
    m->osystem->event()->set(Event::PaddleZeroResistance, p0);
    m->osystem->event()->set(Event::PaddleOneResistance, p1);
  }
  return true;
}

EXPORT void retro_cheat_reset(void) {}
EXPORT void retro_cheat_set(unsigned, bool, const char *) {}

EXPORT void *retro_get_memory_data(unsigned id) {
  return id == RETRO_MEMORY_SYSTEM_RAM ? ram() : nullptr;
}

EXPORT size_t retro_get_memory_size(unsigned id) {
  return id == RETRO_MEMORY_SYSTEM_RAM && ram() ? 128 : 0;
}

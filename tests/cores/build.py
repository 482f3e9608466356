"""Build the libretro test cores in ``testcore.c`` and say what they should do.

Every variant is ``testcore.c`` compiled with ``-DTC_<VARIANT>`` (upper case)
into ``<variant>_libretro.so``. They are deterministic, so tests can compare
the frontend's output exactly; the helpers below (``expected_frame``,
``expected_audio``, ``pattern_ram``, ``lcg_after``) compute what that output
must be.

Library use::

    from tests.cores.build import build_core, expected_frame
    core = build_core("rgb565", tmp_path)          # -> tmp_path / "rgb565_libretro.so"
    assert em.get_screen().tobytes() == expected_frame("rgb565", em_frames_run)

Command line (builds every variant)::

    python3 tests/cores/build.py OUTDIR

Conventions shared by all variants
----------------------------------
* ``frame`` counts ``retro_run`` calls since ``retro_load_game`` (or
  ``retro_reset``); the first ``retro_run`` is frame 1.
* Video: base = max geometry 64x48, aspect 4:3, 60 fps, audio 48000 Hz. Each
  frame presents a test pattern whose pitch is ``64 * bytes_per_pixel + 24``
  bytes; the 24 bytes of padding at the end of every row are 0xAB, so a
  frontend that ignores the pitch gets garbage. Pixel (x, y) of frame f is,
  before quantisation, ``R = (x*4 + f) & 0xFF``, ``G = (y*5) & 0xFF``,
  ``B = (x ^ y) & 0xFF``. Quantisation (native endian):

  - XRGB8888 (variants other than rgb565/0rgb1555): ``0xAB << 24 | R << 16 |
    G << 8 | B``; the X byte is garbage a frontend must ignore.
  - RGB565: ``r5 = R >> 3``, ``g6 = G >> 2``, ``b5 = B >> 3``,
    pixel ``r5 << 11 | g6 << 5 | b5``.
  - 0RGB1555: ``r5 = R >> 3``, ``g5 = G >> 3``, ``b5 = B >> 3``,
    pixel ``r5 << 10 | g5 << 5 | b5`` (top bit 0).

  The frontend's RGB24 screen shifts 5/6-bit channels up, as Gym Retro does
  (so observations match it): ``c8 = c5 << 3`` and ``c8 = c6 << 2``;
  XRGB8888 channels are taken as they are. ``expected_frame`` does this.
* Every variant sets its pixel format with SET_PIXEL_FORMAT in
  ``retro_load_game``. Cores without SYSTEM_RAM return NULL/0 for it.
* ``library_name`` is ``"testcore"``, ``library_version`` ``"1.0 <variant>"``,
  valid extensions ``bin|tst``.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
SOURCE = HERE / "testcore.c"
HEADER = REPO / "retro" / "libretro_abi.h"
SUFFIX = "_libretro.so"

#: Variant name -> what the core does (the names are a contract with the tests).
VARIANTS: dict[str, str] = {
    "xrgb8888": "XRGB8888 test pattern, 64x48, pitch 280 (24 padding bytes of 0xAB per row), "
                "X byte 0xAB. No SYSTEM_RAM, no audio, no save states.",
    "rgb565": "Same pattern in RGB565 (r5=R>>3, g6=G>>2, b5=B>>3), pitch 152.",
    "0rgb1555": "Same pattern in 0RGB1555 (r5=R>>3, g5=G>>3, b5=B>>3, top bit 0), pitch 152.",
    "dupe": "Like xrgb8888, but odd frames (1, 3, ...) call video_refresh(NULL, ...): a dupe, "
            "the frontend keeps the previous picture. Frame 1 is a dupe before any picture.",
    "sysram": "SYSTEM_RAM of 256 bytes; every retro_run sets ram[i] = (i + frame) & 0xFF.",
    "memmap": "RAM as in sysram, plus SET_MEMORY_MAPS (in retro_load_game) with three "
              "descriptors: ram[0:128] at 0x1000 (len 128), ram[128:256] at 0x8000 (ptr = ram, "
              "offset 128, len 128), and a 64-byte CONST table at 0x20000 (must be skipped). "
              "select = disconnect = 0. SYSTEM_RAM still exposes all 256 bytes.",
    "state": "RAM as in sysram; save states of 272 bytes: 'RTSTATE1', frame (u32 LE), LCG "
             "(u32 LE), the 256 RAM bytes. LCG starts at 0x12345678 and advances once per "
             "retro_run (x*1664525 + 1013904223 mod 2**32); it is also exposed as SAVE_RAM (4 "
             "bytes LE). retro_unserialize rejects size != 272 or a wrong magic; retro_serialize "
             "rejects size < 272.",
    "input": "Declares 4 joypad ports (SET_CONTROLLER_INFO, in retro_set_environment). Each "
             "retro_run: input_poll once, then input_state(port, JOYPAD, 0, id) for ports 0-7, "
             "ids 0-15; the mask of port p goes to SYSTEM_RAM[2p:2p+2] (u16 LE; 16 bytes). "
             "Audio: two audio_sample_batch calls of 400 stereo frames, sample k (0..799) of "
             "frame f being left = int16(f*1000 + k), right = int16(-left); then one "
             "audio_sample(int16(f), int16(-f)): 801 stereo frames per retro_run.",
    "options": "SET_VARIABLES in retro_set_environment: testcore_speed 'Speed; normal|fast|slow', "
               "testcore_colour 'Colour; red|green|blue'. GET_LOG_INTERFACE in retro_init; "
               "GET_SYSTEM_DIRECTORY and GET_SAVE_DIRECTORY in retro_load_game. Each retro_run: "
               "GET_VARIABLE_UPDATE, then GET_VARIABLE for both keys, then logs "
               "'testcore frame %u' at RETRO_LOG_INFO. SYSTEM_RAM (16 bytes): [0] speed index "
               "(normal 0, fast 1, slow 2; 0xFF if GET_VARIABLE failed or the value is unknown), "
               "[1] colour index (red 0, green 1, blue 2; 0xFF likewise), [2] system dir given, "
               "[3] save dir given, [4] frames on which GET_VARIABLE_UPDATE said true "
               "(saturating), [5] log interface given, [6] SET_GEOMETRY returned true. On frame 3 "
               "it calls SET_GEOMETRY with base 32x24 (max 64x48) and from frame 3 on presents "
               "32x24 XRGB8888 pictures (same pattern, same pitch 280).",
    "fullpath": "need_fullpath = true. retro_load_game fails unless game->path is readable; it "
                "reads the file itself. SYSTEM_RAM (32 bytes): [0:16] first 16 bytes of the file "
                "(zero padded), [16] 1 if game->data was NULL, [17] 1 if game->path was "
                "non-NULL, [20:24] file size (u32 LE).",
    "inmemory": "need_fullpath = false. retro_load_game fails if game->data is NULL or size 0. "
                "SYSTEM_RAM (32 bytes): [0:16] first 16 bytes of game->data, [16] 0, [17] 1 if "
                "game->path was non-NULL, [20:24] game->size (u32 LE).",
    "failload": "retro_load_game always returns false.",
    "nosym": "Does not export retro_run (every other retro_* entry point is there).",
    "badapi": "retro_api_version returns 2.",
    "globals": "A file-scope counter, never reset (not even on load), incremented by each "
               "retro_run and exposed as SYSTEM_RAM (4 bytes, u32 LE): two emulators share it "
               "unless each loads a private copy of the core.",
    "keeper": "Keeps the pointers it is handed, as cores may: SET_VARIABLES declares testcore_speed "
              "'Speed; normal|fast|slow'; retro_load_game keeps the value GET_VARIABLE gives for it "
              "(NULL if unset) and the GET_SYSTEM_DIRECTORY string, and reads the option again "
              "only on frames where GET_VARIABLE_UPDATE says true. Each retro_run copies the kept "
              "strings into SYSTEM_RAM (64 bytes): [0:16] the option value, [16:64] the system "
              "directory, each NUL padded (all zero for NULL).",
    "wide": "Like xrgb8888 (base 64x48, max 128x96), but frames 1-5 present pictures of other "
            "sizes, drawn with the same formula at their own coordinates, pitch 536: frame 1 "
            "128x48, frame 2 64x96, frame 3 128x96, frame 4 96x48; frame 5 on 64x48.",
    "slow": "Each retro_run busy-loops a fixed 2 million iterations on a volatile (about 2 ms "
            "of CPU), for tests that check step() releases the GIL.",
}

WIDTH, HEIGHT = 64, 48
SMALL_WIDTH, SMALL_HEIGHT = 32, 24  # options: picture size from GEOMETRY_CHANGE_FRAME on
GEOMETRY_CHANGE_FRAME = 3
# wide: picture (width, height) on frames 1, 2, ... (then WIDTH x HEIGHT)
WIDE_SIZES = ((2 * WIDTH, HEIGHT), (WIDTH, 2 * HEIGHT), (2 * WIDTH, 2 * HEIGHT), (WIDTH + WIDTH // 2, HEIGHT))
PAD_BYTES = 24
PAD_FILL = 0xAB
FPS = 60.0
SAMPLE_RATE = 48000.0
LIBRARY_NAME = "testcore"

PIXEL_FORMAT = {"rgb565": "RGB565", "0rgb1555": "0RGB1555"}  # every other variant: XRGB8888
BYTES_PER_PIXEL = {"XRGB8888": 4, "RGB565": 2, "0RGB1555": 2}

RAM_SIZE = {"sysram": 256, "memmap": 256, "state": 256, "input": 16, "options": 16,
            "fullpath": 32, "inmemory": 32, "globals": 4, "keeper": 64}  # others: no SYSTEM_RAM

MEMMAP_BLOCKS = {0x1000: (0, 128), 0x8000: (128, 128)}  # start: (RAM offset, length)
MEMMAP_CONST_START = 0x20000

STATE_MAGIC = b"RTSTATE1"
STATE_SIZE = 8 + 4 + 4 + 256
LCG_SEED = 0x12345678

INPUT_PORTS = 4          # declared with SET_CONTROLLER_INFO
INPUT_PORTS_READ = 8     # ports the core reads
AUDIO_BATCH = 400
AUDIO_FRAMES_PER_RUN = 2 * AUDIO_BATCH + 1

SPEED_VALUES = ("normal", "fast", "slow")
COLOUR_VALUES = ("red", "green", "blue")
OPTION_DEFAULTS = {"testcore_speed": "normal", "testcore_colour": "red"}
LOG_FORMAT = "testcore frame %u"

SLOW_ITERATIONS = 2_000_000


def core_filename(variant: str) -> str:
    return variant + SUFFIX


def _command(variant: str, output: pathlib.Path) -> list[str]:
    return [
        os.environ.get("CC", "cc"), "-shared", "-fPIC", "-O2", "-Wall", "-Werror",
        f"-I{REPO / 'retro'}", f"-DTC_{variant.upper()}", f'-DTC_NAME="{variant}"',
        "-o", str(output), str(SOURCE),
    ]


def build_core(variant: str, outdir: pathlib.Path) -> pathlib.Path:
    """Compile ``variant`` into ``outdir/<variant>_libretro.so`` (if not up to date)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown test core variant {variant!r}; known: {', '.join(VARIANTS)}")
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / core_filename(variant)
    newest_input = max(p.stat().st_mtime for p in (SOURCE, HEADER, pathlib.Path(__file__)))
    if target.is_file() and target.stat().st_mtime >= newest_input:
        return target
    fd, tmp_name = tempfile.mkstemp(prefix=f".{variant}-", suffix=".so", dir=outdir)
    os.close(fd)
    tmp = pathlib.Path(tmp_name)
    try:
        result = subprocess.run(_command(variant, tmp), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"compiling test core {variant!r} failed:\n{' '.join(_command(variant, tmp))}\n"
                f"{result.stdout}{result.stderr}")
        tmp.chmod(0o755)
        os.replace(tmp, target)  # atomic: concurrent builders never see half a file
    finally:
        tmp.unlink(missing_ok=True)
    return target


def build_all(outdir: pathlib.Path) -> dict[str, pathlib.Path]:
    """Build every variant; ``{variant: path}``."""
    return {variant: build_core(variant, outdir) for variant in VARIANTS}


# -- what the frontend must see ------------------------------------------------

def pixel_format(variant: str) -> str:
    """``"XRGB8888"``, ``"RGB565"`` or ``"0RGB1555"``."""
    return PIXEL_FORMAT.get(variant, "XRGB8888")


def pitch(variant: str) -> int:
    """Bytes per row of the frames the core presents."""
    return WIDTH * BYTES_PER_PIXEL[pixel_format(variant)] + PAD_BYTES


def frame_size(variant: str, frame: int) -> tuple[int, int]:
    """``(width, height)`` of the picture the core presents on ``frame``."""
    if variant == "options" and frame >= GEOMETRY_CHANGE_FRAME:
        return SMALL_WIDTH, SMALL_HEIGHT
    if variant == "wide" and 1 <= frame <= len(WIDE_SIZES):
        return WIDE_SIZES[frame - 1]
    return WIDTH, HEIGHT


def _expand5(c5: int) -> int:
    return c5 << 3


def _expand6(c6: int) -> int:
    return c6 << 2


def pattern_rgb(variant: str, x: int, y: int, frame: int) -> tuple[int, int, int]:
    """The RGB24 colour of pixel (x, y) of ``frame`` after the frontend's conversion."""
    r, g, b = (x * 4 + frame) & 0xFF, (y * 5) & 0xFF, (x ^ y) & 0xFF
    fmt = pixel_format(variant)
    if fmt == "RGB565":
        return _expand5(r >> 3), _expand6(g >> 2), _expand5(b >> 3)
    if fmt == "0RGB1555":
        return _expand5(r >> 3), _expand5(g >> 3), _expand5(b >> 3)
    return r, g, b


def presented_frame(variant: str, frame: int) -> int:
    """The last frame up to ``frame`` that presented a picture (0: none yet)."""
    if variant == "dupe" and frame % 2 == 1:
        return frame - 1
    return frame


def expected_frame(variant: str, frame: int) -> bytes:
    """The RGB24 picture (row-major, ``frame_size`` pixels) after ``frame`` retro_runs.

    For ``dupe`` this is the last picture presented (odd frames are dupes);
    before any picture (frame 0, or dupe frame 1) it is all black, the
    frontend's initial screen.
    """
    shown = presented_frame(variant, frame)
    width, height = frame_size(variant, shown)
    if shown <= 0:
        return bytes(width * height * 3)
    out = bytearray(width * height * 3)
    i = 0
    for y in range(height):
        for x in range(width):
            out[i:i + 3] = bytes(pattern_rgb(variant, x, y, shown))
            i += 3
    return bytes(out)


def pattern_ram(frame: int, size: int = 256) -> bytes:
    """SYSTEM_RAM of sysram, memmap and state after ``frame`` retro_runs (from load)."""
    if frame == 0:
        return bytes(size)
    return bytes((i + frame) & 0xFF for i in range(size))


def lcg_after(frames: int) -> int:
    """The state core's LCG after ``frames`` retro_runs."""
    x = LCG_SEED
    for _ in range(frames):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
    return x


def _int16(v: int) -> int:
    v &= 0xFFFF
    return v - 0x10000 if v & 0x8000 else v


def expected_audio(frame: int) -> list[tuple[int, int]]:
    """The input core's 801 stereo samples of ``frame``, in order: ``(left, right)``."""
    out = []
    for k in range(2 * AUDIO_BATCH):
        left = _int16(frame * 1000 + k)
        out.append((left, _int16(-left)))
    out.append((_int16(frame), _int16(-frame)))
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTDIR", file=sys.stderr)
        return 2
    for variant, path in build_all(pathlib.Path(argv[1])).items():
        print(f"{variant:<10} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""A minimal libretro frontend in ctypes, to check the test cores themselves.

It is independent of retro's frontend, so when a test of the frontend on a
test core fails, ``tests/cores/test_testcores.py`` tells whether the core or
the frontend is at fault. It serves only what the test cores use and is not
thread-safe. The log interface is not offered (a ctypes callback cannot be
variadic), so the options core runs without logging here.
"""

from __future__ import annotations

import ctypes
import os
import pathlib
import shutil
import tempfile
from typing import Any

# -- the ABI, as in retro/libretro_abi.h ----------------------------------------

ENV_GET_SYSTEM_DIRECTORY = 9
ENV_SET_PIXEL_FORMAT = 10
ENV_GET_VARIABLE = 15
ENV_SET_VARIABLES = 16
ENV_GET_VARIABLE_UPDATE = 17
ENV_GET_LOG_INTERFACE = 27
ENV_GET_SAVE_DIRECTORY = 31
ENV_SET_CONTROLLER_INFO = 35
ENV_SET_MEMORY_MAPS = 36 | 0x10000
ENV_SET_GEOMETRY = 37
DEVICE_JOYPAD = 1
MEMDESC_CONST = 1
API_VERSION = 1
FORMATS = {0: "0RGB1555", 1: "XRGB8888", 2: "RGB565"}

SYMBOLS = (
    "retro_set_environment", "retro_set_video_refresh", "retro_set_audio_sample",
    "retro_set_audio_sample_batch", "retro_set_input_poll", "retro_set_input_state",
    "retro_init", "retro_deinit", "retro_api_version", "retro_get_system_info",
    "retro_get_system_av_info", "retro_set_controller_port_device", "retro_reset",
    "retro_run", "retro_serialize_size", "retro_serialize", "retro_unserialize",
    "retro_cheat_reset", "retro_cheat_set", "retro_load_game", "retro_unload_game",
    "retro_get_region", "retro_get_memory_data", "retro_get_memory_size",
)


class SystemInfo(ctypes.Structure):
    _fields_ = [("library_name", ctypes.c_char_p), ("library_version", ctypes.c_char_p),
                ("valid_extensions", ctypes.c_char_p), ("need_fullpath", ctypes.c_bool),
                ("block_extract", ctypes.c_bool)]


class Geometry(ctypes.Structure):
    _fields_ = [("base_width", ctypes.c_uint), ("base_height", ctypes.c_uint),
                ("max_width", ctypes.c_uint), ("max_height", ctypes.c_uint),
                ("aspect_ratio", ctypes.c_float)]


class AvInfo(ctypes.Structure):
    _fields_ = [("geometry", Geometry), ("fps", ctypes.c_double), ("sample_rate", ctypes.c_double)]


class GameInfo(ctypes.Structure):
    _fields_ = [("path", ctypes.c_char_p), ("data", ctypes.c_void_p), ("size", ctypes.c_size_t),
                ("meta", ctypes.c_char_p)]


class Variable(ctypes.Structure):
    _fields_ = [("key", ctypes.c_char_p), ("value", ctypes.c_char_p)]


class MemoryDescriptor(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("ptr", ctypes.c_void_p), ("offset", ctypes.c_size_t),
                ("start", ctypes.c_size_t), ("select", ctypes.c_size_t),
                ("disconnect", ctypes.c_size_t), ("len", ctypes.c_size_t),
                ("addrspace", ctypes.c_char_p)]


class MemoryMap(ctypes.Structure):
    _fields_ = [("descriptors", ctypes.POINTER(MemoryDescriptor)), ("num_descriptors", ctypes.c_uint)]


class ControllerInfo(ctypes.Structure):
    _fields_ = [("types", ctypes.c_void_p), ("num_types", ctypes.c_uint)]


ENVIRONMENT = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_uint, ctypes.c_void_p)
VIDEO = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_size_t)
AUDIO_SAMPLE = ctypes.CFUNCTYPE(None, ctypes.c_int16, ctypes.c_int16)
AUDIO_BATCH = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.POINTER(ctypes.c_int16), ctypes.c_size_t)
INPUT_POLL = ctypes.CFUNCTYPE(None)
INPUT_STATE = ctypes.CFUNCTYPE(ctypes.c_int16, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint,
                               ctypes.c_uint)


def _expand5(c: int) -> int:
    return c << 3


def _expand6(c: int) -> int:
    return c << 2


def to_rgb24(fmt: str, raw: bytes, width: int, height: int, pitch: int) -> bytes:
    """Convert a core's frame to RGB24, shifting 5/6-bit channels up (as Gym Retro)."""
    out = bytearray()
    for y in range(height):
        row = raw[y * pitch:]
        for x in range(width):
            if fmt == "XRGB8888":
                p = int.from_bytes(row[4 * x:4 * x + 4], "little")
                out += bytes(((p >> 16) & 0xFF, (p >> 8) & 0xFF, p & 0xFF))
            elif fmt == "RGB565":
                p = int.from_bytes(row[2 * x:2 * x + 2], "little")
                out += bytes((_expand5(p >> 11), _expand6((p >> 5) & 0x3F), _expand5(p & 0x1F)))
            else:
                p = int.from_bytes(row[2 * x:2 * x + 2], "little")
                out += bytes((_expand5((p >> 10) & 0x1F), _expand5((p >> 5) & 0x1F),
                              _expand5(p & 0x1F)))
    return bytes(out)


def missing_symbols(core: pathlib.Path) -> list[str]:
    lib = ctypes.CDLL(str(core))
    return [name for name in SYMBOLS if not hasattr(lib, name)]


class MiniFrontend:
    """Load a private copy of a core and one game; run frames; observe everything."""

    def __init__(self, core: pathlib.Path, rom: pathlib.Path | None,
                 options: dict[str, str] | None = None) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            copy = pathlib.Path(tmp) / core.name
            shutil.copyfile(core, copy)
            self.lib: Any = ctypes.CDLL(str(copy))  # private copy: fresh globals
        self.pixel_format = "0RGB1555"
        self.frame: bytes | None = None  # RGB24 of the last picture presented
        self.frame_size = (0, 0)
        self.raw_frame = b""
        self.pitch = 0
        self.dupes = 0
        self.audio: list[tuple[int, int]] = []
        self.audio_calls: list[tuple[str, int]] = []
        self.masks = [0] * 8
        self.input_calls: list[tuple[int, int, int, int]] = []
        self.polls = 0
        self.option_specs: dict[str, str] = {}
        self.option_values = dict(options or {})
        self.memory_map: list[dict[str, int]] = []
        self.geometry_changes: list[tuple[int, int, int, int]] = []
        self.controller_ports = 0
        self.directory = os.path.dirname(os.path.abspath(core)).encode()
        self._keep: list[Any] = []
        lib = self.lib
        self._cbs = (ENVIRONMENT(self._environment), VIDEO(self._video),
                     AUDIO_SAMPLE(self._audio_sample), AUDIO_BATCH(self._audio_batch),
                     INPUT_POLL(self._poll), INPUT_STATE(self._input_state))
        lib.retro_api_version.restype = ctypes.c_uint
        self.api_version = lib.retro_api_version()
        lib.retro_set_environment(self._cbs[0])
        lib.retro_set_video_refresh(self._cbs[1])
        lib.retro_set_audio_sample(self._cbs[2])
        lib.retro_set_audio_sample_batch(self._cbs[3])
        lib.retro_set_input_poll(self._cbs[4])
        lib.retro_set_input_state(self._cbs[5])
        lib.retro_init()
        info = SystemInfo()
        lib.retro_get_system_info(ctypes.byref(info))
        self.library_name = (info.library_name or b"").decode()
        self.library_version = (info.library_version or b"").decode()
        self.need_fullpath = bool(info.need_fullpath)
        self.loaded = False
        if rom is not None:
            game = GameInfo(str(rom).encode(), None, 0, None)
            if not self.need_fullpath:
                data = pathlib.Path(rom).read_bytes()
                self._rom = ctypes.create_string_buffer(data, len(data))
                game.data = ctypes.cast(self._rom, ctypes.c_void_p)
                game.size = len(data)
            lib.retro_load_game.restype = ctypes.c_bool
            self.loaded = bool(lib.retro_load_game(ctypes.byref(game)))
        av = AvInfo()
        lib.retro_get_system_av_info(ctypes.byref(av))
        self.av = av

    # -- callbacks ---------------------------------------------------------------

    def _environment(self, cmd: int, data: Any) -> bool:
        if cmd == ENV_SET_PIXEL_FORMAT:
            fmt = ctypes.cast(data, ctypes.POINTER(ctypes.c_uint))[0]
            if fmt not in FORMATS:
                return False
            self.pixel_format = FORMATS[fmt]
            return True
        if cmd == ENV_SET_VARIABLES:
            var = ctypes.cast(data, ctypes.POINTER(Variable))
            i = 0
            while var[i].key:
                self.option_specs[var[i].key.decode()] = var[i].value.decode()
                i += 1
            return True
        if cmd == ENV_GET_VARIABLE:
            var = ctypes.cast(data, ctypes.POINTER(Variable))[0]
            key = var.key.decode()
            if key in self.option_values:
                value = self.option_values[key]
            elif key in self.option_specs:
                value = self.option_specs[key].split(";", 1)[1].strip().split("|")[0]
            else:
                return False
            buf = ctypes.create_string_buffer(value.encode())
            self._keep.append(buf)
            var.value = ctypes.cast(buf, ctypes.c_char_p)  # var shares the core's memory
            return True
        if cmd == ENV_GET_VARIABLE_UPDATE:
            ctypes.cast(data, ctypes.POINTER(ctypes.c_bool))[0] = False
            return True
        if cmd in (ENV_GET_SYSTEM_DIRECTORY, ENV_GET_SAVE_DIRECTORY):
            buf = ctypes.create_string_buffer(self.directory)
            self._keep.append(buf)
            ctypes.cast(data, ctypes.POINTER(ctypes.c_void_p))[0] = ctypes.cast(buf, ctypes.c_void_p)
            return True
        if cmd == ENV_SET_MEMORY_MAPS:
            mmap = ctypes.cast(data, ctypes.POINTER(MemoryMap))[0]
            self.memory_map = []
            for i in range(mmap.num_descriptors):
                d = mmap.descriptors[i]
                self.memory_map.append({"flags": d.flags, "ptr": d.ptr or 0, "offset": d.offset,
                                        "start": d.start, "select": d.select, "len": d.len})
            return True
        if cmd == ENV_SET_GEOMETRY:
            g = ctypes.cast(data, ctypes.POINTER(Geometry))[0]
            self.geometry_changes.append((g.base_width, g.base_height, g.max_width, g.max_height))
            return True
        if cmd == ENV_SET_CONTROLLER_INFO:
            ports = ctypes.cast(data, ctypes.POINTER(ControllerInfo))
            n = 0
            while ports[n].types:
                n += 1
            self.controller_ports = n
            return True
        return False  # includes ENV_GET_LOG_INTERFACE

    def _video(self, data: int | None, width: int, height: int, pitch: int) -> None:
        if not data:
            self.dupes += 1
            return
        self.pitch = pitch
        self.frame_size = (width, height)
        self.raw_frame = ctypes.string_at(data, pitch * height)
        self.frame = to_rgb24(self.pixel_format, self.raw_frame, width, height, pitch)

    def _audio_sample(self, left: int, right: int) -> None:
        self.audio.append((left, right))
        self.audio_calls.append(("sample", 1))

    def _audio_batch(self, data: Any, frames: int) -> int:
        for i in range(frames):
            self.audio.append((data[2 * i], data[2 * i + 1]))
        self.audio_calls.append(("batch", frames))
        return frames

    def _poll(self) -> None:
        self.polls += 1

    def _input_state(self, port: int, device: int, index: int, id_: int) -> int:
        self.input_calls.append((port, device, index, id_))
        if device != DEVICE_JOYPAD or port >= 8 or id_ >= 16:
            return 0
        return (self.masks[port] >> id_) & 1

    # -- driving -------------------------------------------------------------------

    def run(self, frames: int = 1) -> None:
        self.audio = []
        self.audio_calls = []
        for _ in range(frames):
            self.lib.retro_run()

    def memory(self, region: int = 2) -> bytes | None:
        self.lib.retro_get_memory_data.restype = ctypes.c_void_p
        self.lib.retro_get_memory_size.restype = ctypes.c_size_t
        ptr = self.lib.retro_get_memory_data(region)
        size = self.lib.retro_get_memory_size(region)
        if not ptr or not size:
            return None
        return ctypes.string_at(ptr, size)

    def serialize(self, size: int | None = None) -> bytes | None:
        self.lib.retro_serialize_size.restype = ctypes.c_size_t
        self.lib.retro_serialize.restype = ctypes.c_bool
        n = self.lib.retro_serialize_size() if size is None else size
        buf = ctypes.create_string_buffer(n)
        if not self.lib.retro_serialize(buf, ctypes.c_size_t(n)):
            return None
        return buf.raw

    def unserialize(self, state: bytes) -> bool:
        self.lib.retro_unserialize.restype = ctypes.c_bool
        return bool(self.lib.retro_unserialize(state, ctypes.c_size_t(len(state))))

    def close(self) -> None:
        if self.loaded:
            self.lib.retro_unload_game()
        self.lib.retro_deinit()

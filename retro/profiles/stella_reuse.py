"""Reusing a closed Stella copy: what survives ``retro_deinit`` + ``retro_init``, and putting it back.

Every private copy of the Stella core (3.9.3 as stable-retro builds it)
leaves 72 KiB behind when it is unloaded: the core links libstdc++
statically, and libstdc++'s emergency pool for exceptions (one
``malloc(73728)`` in a static initialiser) is never freed. So a process
that makes and closes Stella emulators grows by ~72 KiB each time, unless
closed copies are reused (:func:`retro._core.reuse_core_copies`).

A reused copy has run a game before. Its ``retro_deinit`` and ``retro_init``
(libretro glue ``cores/atari2600/libretro.cxx``) do nothing but take the log
interface, so everything the library holds outside the console that
``retro_load_game`` creates and ``retro_unload_game`` deletes survives. The
library's writable variables (its ``.data`` and ``.bss``, from its symbol
table) and the objects they own, one by one:

* ``retro_run``'s ``static tiaSamplesPerFrame`` (and its guard) is set on the
  copy's first frame from the console's frame rate then, and never again: a
  copy that first ran a PAL game (49.92 Hz) gives 629 audio samples a frame
  to every later NTSC game, instead of 524. **Put back** (:data:`SYMBOLS`).
* ``KidVid::getNextSampleByte``'s ``static oddeven`` (which half of a Kid Vid
  tape sample plays next). **Put back**.
* ``retro_run``'s ``frameBuffer``/``sampleBuffer``: filled before they are
  handed out, for the size handed out. ``videoWidth``/``videoHeight``, the
  callbacks, ``console``/``cartridge``/``settings``: set again at load.
* The static ``OSystem``'s objects: the ``EventHandler``'s event values (the
  glue's ``update_input`` writes every event it uses, then calls the only
  readers, the controllers' and switches' ``update``; the other events and
  the key table are never written, so they hold their constructor's zeros in
  every copy); the ``SoundSDL`` (``Console::initializeAudio`` closes it, which
  resets the TIA sound generator and empties its register queue, and opens it
  with this game's channels and volume); the ``PropertiesSet`` (only read:
  nothing inserts into it); the stub ``FrameBuffer`` and ``SerialPort``.
  ``OSystem::myConsole`` and ``mySettings`` point at the last game's objects
  until the next load sets them, and nothing reads them in between.
* Class statics: the palettes (``Console::setColorLossPalette`` writes the odd
  entries from the even ones, the same values each time),
  ``CartridgeAR::ourDummyROMCode`` (its two patched bytes are written at each
  load), ``Paddles::_MOUSE_SENSITIVITY`` (its sign follows the last paddles'
  ``swapdir``; it only scales mouse events, which the glue never sets),
  ``Cartridge::myAboutString`` and the ``Common::Base``/``Variant`` formatting
  state (text only), ``TIATables`` (computed again, to the same values, by
  every TIA), ``Random::ourSystem`` (never set).
* libstdc++'s own state (locale caches, streams, the emergency pool).

Checked by comparing a fresh and a reused copy's writable segment word by
word (pointers mapped back to the copy) after load: only ``retro_run``'s
statics differ (``tiaSamplesPerFrame``, its guard, and ``frameBuffer``'s
contents, which every frame overwrites before handing it out); and by playing
both side by side (``tests/test_lifecycle.py``).

Not from the library but from the heap: ``TIA::myStartP0``, ``myStartP1``,
``myStartM0`` and ``myStartM1`` are never initialised (no constructor or reset
writes them, nothing but ``TIA::save``/``load`` touches them), so bytes 107-122
of a state's TIA section hold whatever the allocator's memory held, in every
copy, fresh or reused. :func:`retro.profiles.stella_restore.StateLayout` knows where
they are; ``RetroEmulator.get_state`` clears them.
"""

from __future__ import annotations

import functools
import os
import struct
from retro.profiles.protocol import CoreHost
from retro.profiles.stella_restore import applies

__all__ = ["SYMBOLS", "power_on", "power_on_writes"]

#: The variables a reused copy gets back, by symbol name: all in ``.bss``, so
#: a newly loaded copy holds zeros there (no static initialiser writes them).
SYMBOLS = (
    "_ZGVZ9retro_runE18tiaSamplesPerFrame",         # guard variable for retro_run::tiaSamplesPerFrame
    "_ZZ9retro_runE18tiaSamplesPerFrame",           # retro_run::tiaSamplesPerFrame
    "_ZZN6KidVid17getNextSampleByteEvE7oddeven",    # KidVid::getNextSampleByte()::oddeven
)

_SHT_SYMTAB, _SHT_NOBITS = 2, 8
_SHF_WRITE = 1
_STT_OBJECT = 1


def _bss_symbols(path: str, names: tuple[str, ...]) -> dict[str, tuple[int, int]] | None:
    """``{name: (address, size)}`` of the ``names`` that are objects in a writable ``.bss``
    section of the ELF64 little-endian shared library at ``path``; None if it is not one,
    has no symbol table, or lacks any of them."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1 or len(data) < 64:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    if shentsize != 64 or shoff + shnum * 64 > len(data):
        return None
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * 64) for i in range(shnum)]
    wanted = {name.encode(): name for name in names}
    found: dict[str, tuple[int, int]] = {}
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if kind != _SHT_SYMTAB or entsize != 24 or link >= shnum or offset + size > len(data):
            continue
        str_offset, str_size = sections[link][4], sections[link][5]
        strings = data[str_offset:str_offset + str_size]
        for st_name, st_info, _other, shndx, value, sym_size in struct.iter_unpack("<IBBHQQ",
                                                                                   data[offset:offset + size]):
            if st_info & 0xF != _STT_OBJECT or shndx >= shnum:
                continue
            end = strings.find(b"\0", st_name)
            name = wanted.get(strings[st_name:end])
            if name is None:
                continue
            section = sections[shndx]
            sec_addr, sec_size = section[3], section[5]
            if (section[1] != _SHT_NOBITS or not section[2] & _SHF_WRITE
                    or not sec_addr <= value <= value + sym_size <= sec_addr + sec_size):
                return None
            found[name] = (value, sym_size)
    return found if len(found) == len(names) else None


@functools.lru_cache(maxsize=8)
def power_on_writes(core_path: str) -> tuple[tuple[int, bytes], ...] | None:
    """What a Stella copy of the library at ``core_path`` holds in :data:`SYMBOLS` when it
    is newly loaded, as ``(offset, bytes)`` for ``reuse_core_copies``; None if the library
    does not have them where expected."""
    symbols = _bss_symbols(os.fspath(core_path), SYMBOLS)
    if symbols is None:
        return None
    return tuple((address, bytes(size)) for address, size in symbols.values())


def power_on(em: CoreHost) -> tuple[tuple[int, bytes], ...] | None:
    """The writes that make a closed copy of ``em``'s core a new one, or None if its copies
    are not to be reused (another Stella build than the one read above)."""
    if not applies(em):
        return None
    return power_on_writes(em.core_path)

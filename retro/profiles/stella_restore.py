"""Restores on a used Stella core that equal restores on a fresh one, in place.

Stella 3.9.3 as built for stable-retro (libretro glue ``cores/atari2600/
libretro.cxx``: ``retro_serialize`` is ``StateManager::saveState``, which
writes a header, the cartridge's name and ``Console::save``) saves the CPU,
RIOT, TIA registers, cartridge, the controllers' pins and the switches, but
not:

* the page table of the 6502's address space. ``retro_unserialize`` sets a
  cartridge's bank registers, but some cartridge types do not remap the pages
  from them (``CartridgeE0::load`` only reads ``myCurrentSlice``), so the CPU
  goes on fetching from the banks mapped before the restore. On a fresh core
  those are the banks the cartridge maps at reset.
* the sound generator's counters (``TIASound``: ``SoundSDL::load`` sets its
  registers, not its dividers and polynomial counters), so the sound after a
  restore depends on what played before.

  Fix for both: press reset (``retro_reset``: ``System::reset``, whose
  devices the state then overwrites; ``TIA::reset`` resets the sound) before
  unserialising, as a fresh core has just been reset.
* the paddles' digital emulation (``Paddles`` turns LEFT/RIGHT/UP/DOWN into a
  charge): ``myCharge``, ``myLastCharge``, the key-repeat flags and the
  repeat distance, which only grows while a direction is held, so no input
  brings it back. A fresh core has the constructor's values (charge centred,
  last charge 0, so the first frame re-derives the pins). Fix: write those
  values back into the ``Paddles`` objects.
* ``TIA::myPartialFrameFlag``: a frame in which the game does not strobe
  VSYNC within ``TIA::update``'s 25000 instructions (Q*bert while RESET is
  held) leaves it set, and the next frame then continues that one instead of
  starting a new frame. ``TIA::reset`` does not clear it; a fresh core has it
  clear. Fix: clear it.

The objects are found from the RIOT's RAM, the one core pointer the API gives
(``retro_get_memory_data``): RAM is at ``M6532+0x20``, the RIOT's
``Console&`` at ``M6532+0x10``, the controllers at ``Console+0x2c0/0x2c8``,
the TIA at ``Console+0x2d0``. Offsets are those of this build (x86-64). The
walk (:func:`locate`) checks every step (the console leads back to the same
RIOT, the TIA to the same console and system, each controller reads as a
``Joystick`` or ``Paddles`` by type and name, the fields hold plausible
values) with reads that cannot fault (``/proc/self/mem``), once per core
copy; before every restore :func:`verify` re-reads the links of the cached
chain (a few reads) and the policy hands over to reloading the core
(:class:`retro.profiles.restore.ReloadWithSpare`) if they no longer hold. Driving
controllers and others keep state of their own, so with them the policy does
not apply at all.

Stella's loader refuses a state only when one of the names it carries (the
header, the cartridge's, each device's) differs from its own, and by then it
has loaded every device before that one. So before the console is touched,
the state's names are compared with those of a state this core made
(:class:`StateLayout`); a state that fails is refused with the core left as
it was.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import struct
import sys
from dataclasses import dataclass
from retro.errors import StateError
from retro.profiles.protocol import CoreHost, RestorePolicy
from retro.profiles.restore import ReloadWithSpare

__all__ = ["StellaInPlace", "StateLayout", "locate", "verify"]

log = logging.getLogger("retro")

VERSION = "3.9.3 ec7a6271"
RIOT_RAM = 0x20          # M6532::myRAM
RIOT_CONSOLE = 0x10      # M6532::myConsole
CONSOLE_PORTS = 0x2C0    # Console::myControllers[Left, Right], then myTIA, (one), mySystem
CONSOLE_TIA = 0x2D0      # Console::myTIA
CONSOLE_SYSTEM = 0x2E0   # Console::mySystem
SYSTEM_RIOT = 0x350      # System::myM6532
DEVICE_SYSTEM = 0x08     # Device::mySystem
TIA_CONSOLE = 0x10       # TIA::myConsole
TIA_FLAGS = 0x345        # TIA::myColorLossEnabled, myPartialFrameFlag, myAutoFrameEnabled (bool)
CTRL_TYPE = 0x20         # Controller::myType
CTRL_NAME = 0x28         # Controller::myName (std::string, short-string buffer at +0x10)
KNOWN = {3: b"Paddles", 4: b"Joystick"}  # Controller::Type
PADDLES = 3
KEY_REPEAT = 0xA0        # Paddles::myKeyRepeat0, myKeyRepeat1 (bool)
DIGITAL = 0xA4           # myPaddleRepeat0/1, myCharge[2], myLastCharge[2], myLastAxisX/Y (int),
                         # then myAxisDigitalZero/One (int)
POWER_ON = (0, 0, 2048, 2048, 0, 0, 0, 0)  # the Paddles constructor's values

STATE_HEADER = b"03090100state"   # StateManager's STATE_HEADER
# What each device writes after its name (Stella 3.9.3): System (cycles, data bus), M6502,
# M6532 (RAM, timer, ports, flags), TIASound (six registers, last register-set cycle).
SYSTEM_BODY, M6502_BODY, M6532_BODY, TIASOUND_BODY = 5, 43, 151, 10
TIA_BODY_MAX = 1024
# TIA::save writes myStartP0, myStartP1, myStartM0 and myStartM1 (int each) this far into its
# body; nothing initialises them (see retro.profiles.stella_reuse), so they hold heap garbage
TIA_UNSET, TIA_UNSET_SIZE = 111, 16


def applies(em: CoreHost) -> bool:
    """Whether ``em`` runs the Stella build these offsets are for, in a process they fit."""
    return (em.library_name == "Stella" and em.library_version == VERSION
            and sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")
            and sys.maxsize > 2**32)


class _ProcessMemory:
    """Reads of this process's memory that cannot fault (``/proc/self/mem``): an unmapped
    address reads as None. One descriptor per process, reopened after a fork."""

    _fd = -1
    _pid = -1

    @classmethod
    def read(cls, address: int, n: int) -> bytes | None:
        if address <= 0:
            return None
        if cls._pid != os.getpid():
            try:
                fd = os.open("/proc/self/mem", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return None
            cls._fd, cls._pid = fd, os.getpid()  # a forked child's inherited one reads the parent
        try:
            data = os.pread(cls._fd, n, address)
        except (OSError, OverflowError):
            return None
        return data if len(data) == n else None

    @classmethod
    def pointer(cls, address: int) -> int:
        """The 8-aligned pointer stored at ``address``, or 0."""
        data = cls.read(address, 8) if address % 8 == 0 else None
        value = struct.unpack("<Q", data)[0] if data else 0
        return value if value % 8 == 0 else 0


@dataclass
class Chain:
    """The core objects a restore writes to, found from the RIOT's RAM, for one core copy."""

    riot: int
    console: int
    system: int
    tia: int
    controllers: tuple[int, int]
    paddles: tuple[int, ...]
    generation: int = -1   # the emulator's memory_generation it was found for


def _controller_kind(ctrl: int) -> int | None:
    """The ``Controller::Type`` of a Joystick or Paddles at ``ctrl``, else None."""
    head = _ProcessMemory.read(ctrl + CTRL_TYPE, 0x28) if ctrl else None
    if head is None:
        return None
    kind = struct.unpack_from("<i", head, 0)[0]
    name_ptr, name_len = struct.unpack_from("<QQ", head, CTRL_NAME - CTRL_TYPE)
    name = KNOWN.get(kind)
    buf = CTRL_NAME + 0x10
    if (name is None or name_ptr != ctrl + buf or name_len != len(name)
            or head[buf - CTRL_TYPE:buf - CTRL_TYPE + name_len] != name):
        return None
    return kind


def locate(ram_address: int, fresh: bool = False) -> Chain | None:
    """Walk from the RIOT's RAM to the TIA and the controllers, checking every link; None if
    the layout does not check out. ``fresh``: the core has not run a frame, so the fields a
    restore writes must hold their power-on values."""
    mem = _ProcessMemory
    riot = ram_address - RIOT_RAM
    console = mem.pointer(riot + RIOT_CONSOLE)
    system = mem.pointer(console + CONSOLE_SYSTEM) if console else 0
    if not system or mem.pointer(system + SYSTEM_RIOT) != riot:
        return None
    tia = mem.pointer(console + CONSOLE_TIA)
    if not tia or mem.pointer(tia + TIA_CONSOLE) != console or mem.pointer(tia + DEVICE_SYSTEM) != system:
        return None
    flags = mem.read(tia + TIA_FLAGS, 3)
    if flags is None or set(flags) - {0, 1} or (fresh and flags[1]):
        return None
    controllers = (mem.pointer(console + CONSOLE_PORTS), mem.pointer(console + CONSOLE_PORTS + 8))
    paddles = []
    for ctrl in controllers:
        kind = _controller_kind(ctrl)
        if kind is None:
            return None
        if kind != PADDLES:
            continue
        body = mem.read(ctrl + KEY_REPEAT, 0x30)
        if body is None:
            return None
        keys = body[0:2]
        ints = struct.unpack_from("<10i", body, DIGITAL - KEY_REPEAT)
        repeat, charge, last, axis, digital = ints[0:2], ints[2:4], ints[4:6], ints[6:8], ints[8:10]
        if (set(keys) - {0, 1} or sorted(digital) != [0, 1] or axis != (0, 0)
                or not all(0 <= r <= 100 for r in repeat)
                or not all(0 <= c <= 4096 for c in charge + last)):
            return None
        if fresh and (keys != b"\0\0" or ints[:8] != POWER_ON):
            return None
        paddles.append(ctrl)
    return Chain(riot, console, system, tia, controllers, tuple(paddles))


def verify(chain: Chain, ram_address: int) -> bool:
    """Whether the links of ``chain`` still hold, re-read before a restore writes through
    it: the RIOT, console, system and TIA lead to each other, the ports hold the same
    controllers and the paddles still read as paddles."""
    mem = _ProcessMemory
    riot = ram_address - RIOT_RAM
    if riot != chain.riot or mem.pointer(riot + RIOT_CONSOLE) != chain.console:
        return False
    ports = mem.read(chain.console + CONSOLE_PORTS, CONSOLE_SYSTEM + 8 - CONSOLE_PORTS)
    if ports is None:
        return False
    left, right = struct.unpack_from("<QQ", ports, 0)
    tia = struct.unpack_from("<Q", ports, CONSOLE_TIA - CONSOLE_PORTS)[0]
    system = struct.unpack_from("<Q", ports, CONSOLE_SYSTEM - CONSOLE_PORTS)[0]
    if (left, right) != chain.controllers or tia != chain.tia or system != chain.system:
        return False
    if mem.pointer(system + SYSTEM_RIOT) != riot:
        return False
    links = mem.read(tia + DEVICE_SYSTEM, TIA_CONSOLE + 8 - DEVICE_SYSTEM)
    if links is None or struct.unpack("<QQ", links) != (system, chain.console):
        return False
    flags = mem.read(tia + TIA_FLAGS, 3)
    if flags is None or set(flags) - {0, 1}:
        return False
    return all(_controller_kind(ctrl) == PADDLES for ctrl in chain.paddles)


def _read_string(data: bytes, pos: int) -> tuple[bytes, int] | None:
    """A Stella ``Serializer`` string (int length, then the bytes) of printable ASCII at
    ``pos``, and the position after it."""
    if pos < 0 or pos + 4 > len(data):
        return None
    n = int.from_bytes(data[pos:pos + 4], "little")
    end = pos + 4 + n
    if not 0 < n <= 64 or end > len(data):
        return None
    text = data[pos + 4:end]
    return (text, end) if all(32 <= b < 127 for b in text) else None


class StateLayout:
    """Where a state of this game on this core carries the names Stella's loader checks.

    Learnt from a state the core made (:meth:`learn`); every state of the game
    has the same size and layout, so a state whose names differ from these is
    one the core would refuse, after loading the devices before the mismatch.
    """

    def __init__(self, size: int, spans: tuple[tuple[int, bytes], ...], unset: int) -> None:
        self.size = size
        self.spans = spans
        self.unset = unset   # where the TIA's never-set fields are

    @classmethod
    def learn(cls, reference: bytes) -> "StateLayout | None":
        spans: list[tuple[int, bytes]] = []

        def name_at(pos: int, expected: bytes | None) -> int | None:
            found = _read_string(reference, pos)
            if found is None or (expected is not None and found[0] != expected):
                return None
            spans.append((pos, reference[pos:found[1]]))
            return found[1]

        header_end = name_at(0, STATE_HEADER)
        cart = _read_string(reference, header_end) if header_end is not None else None
        if header_end is None or cart is None:
            return None
        pos = name_at(header_end, cart[0])
        for name, body in ((b"System", SYSTEM_BODY), (b"M6502", M6502_BODY), (b"M6532", M6532_BODY)):
            end = name_at(pos, name) if pos is not None else None
            if end is None:
                return None
            pos = end + body
        pos = name_at(pos, b"TIA") if pos is not None else None
        if pos is None:
            return None
        unset = pos + TIA_UNSET
        sound = reference.find(len(b"TIASound").to_bytes(4, "little") + b"TIASound", pos,
                               pos + TIA_BODY_MAX)
        if sound < 0 or name_at(sound, b"TIASound") is None:
            return None
        if name_at(sound + 12 + TIASOUND_BODY, cart[0]) is None:
            return None
        if sound < unset + TIA_UNSET_SIZE:
            return None
        return cls(len(reference), tuple(spans), unset)

    def problem(self, view: memoryview) -> str | None:
        """Why the core would refuse ``view``, or None if it carries every name."""
        if view.nbytes != self.size:
            return f"it has {view.nbytes} bytes, not {self.size}"
        for pos, name in self.spans:
            if view[pos:pos + len(name)] != name:
                return f"bytes {pos}-{pos + len(name) - 1} should name {name[4:].decode()!r}"
        return None


class StellaInPlace(RestorePolicy):
    """Restore in place: validate, press reset, put the left-out state back, unserialise."""

    name = "stella-in-place"
    settles_saves = True   # restores reset what saves leave out; in place, so views stay valid

    def __init__(self, chain: Chain, layout: StateLayout) -> None:
        # no reference to the emulator: a cycle through it would leave its teardown to the
        # garbage collector
        self._chain: Chain | None = chain
        self._layout = layout

    @classmethod
    def start(cls, em: CoreHost) -> "StellaInPlace | None":
        """The policy for ``em``'s core, checked on the core just loaded; None if it does not
        apply (another build, other controllers, a layout that does not check out)."""
        if not applies(em) or em.frame_count != 0:
            return None
        ram, size = em.memory_address(2)
        chain = locate(ram, fresh=True) if size == 128 else None
        layout = StateLayout.learn(em.serialize()) if chain is not None else None
        if chain is None or layout is None:
            return None
        chain.generation = em.memory_generation
        return cls(chain, layout)

    def install(self, em: CoreHost) -> None:
        em.keep_spare(False)

    def prepare(self, em: CoreHost, view: memoryview) -> bool:
        problem = self._layout.problem(view)
        if problem is not None:
            raise StateError(f"the {em.library_name} core would refuse this state ({problem}): it is "
                             f"corrupt, or from another game or core version")
        chain = self._checked_chain(em)
        if chain is None:
            log.warning("%s: the core's objects are not where they were; restores reload the core "
                        "from now on", em.library_name)
            fallback = ReloadWithSpare()
            em.use_restore_policy(fallback)
            fallback.restore(em, view)
            return False
        em.reset()
        ctypes.c_uint8.from_address(chain.tia + TIA_FLAGS + 1).value = 0
        for ctrl in chain.paddles:
            ctypes.c_uint16.from_address(ctrl + KEY_REPEAT).value = 0
            (ctypes.c_int32 * 8).from_address(ctrl + DIGITAL)[:] = list(POWER_ON)
        return True

    def refused(self, em: CoreHost) -> None:
        # its names checked out, so the core should have taken it; it may hold part of it
        em.power_cycle()

    def tidy(self, state: bytes) -> bytes:
        """``state`` with the TIA's four never-set ints cleared: they are heap garbage (saved
        and loaded, never used), which would make saves of one run differ between processes,
        and between fresh and reused core copies."""
        at, n = self._layout.unset, TIA_UNSET_SIZE
        if len(state) != self._layout.size or state[at:at + n] == bytes(n):
            return state
        return state[:at] + bytes(n) + state[at + n:]

    def _checked_chain(self, em: CoreHost) -> Chain | None:
        """The chain for ``em``'s current core copy, found anew after a power cycle and
        re-verified otherwise; None if it does not hold."""
        ram, size = em.memory_address(2)
        if size != 128:
            return None
        chain = self._chain
        if chain is None or chain.generation != em.memory_generation:
            chain = locate(ram)
            if chain is not None:
                chain.generation = em.memory_generation
            self._chain = chain
            return chain
        return chain if verify(chain, ram) else None

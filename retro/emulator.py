"""``RetroEmulator``: a game running on its system's libretro core.

A thin layer over the Cython frontend (:mod:`retro._core`): it tells the
system from the ROM, picks and finds the core, applies the system's settings
(picture size, core options, RAM base) and lays RAM out in blocks the way Gym
Retro does.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np

from retro import paths
from retro._core import Emulator, StepPool, pack_buttons
from retro.cores import CoreLocation, core_for_system
from retro.errors import ContentLoadError, RomNotFoundError, StateError, UnknownSystemError
from retro.systems import SYSTEMS, SystemInfo, system_for_rom

__all__ = ["RetroEmulator", "CoreDescription", "StepPool", "pack_buttons"]

#: Per-core behaviour, keyed by the core's library name.
#: Stella keeps state outside its save states, so a restore must give what a
#: restore on a freshly loaded core gives, as in Gym Retro. For the build
#: stable-retro ships, ``stella_fresh_restore`` brings that state back to its
#: power-on values in place (see :class:`_StellaFreshRestore`); with any other
#: build, or controllers it does not know, every restore reloads the core
#: (``reload_before_set_state``), which is exact but costs a core load.
#: Nestopia reads the joypads only once told that joypads are plugged in.
CORE_QUIRKS: dict[str, dict[str, bool]] = {
    "Stella": {"reload_before_set_state": True, "stella_fresh_restore": True},
    "Nestopia": {"plug_joypads": True},
}

#: Largest ROM retro loads (GBA carts are 32 MiB; CD images are not ROMs).
MAX_ROM_SIZE = 64 << 20


class _StellaFreshRestore:
    """Make a restore on a used Stella core give what it gives on a fresh core.

    Stella 3.9.3 as built for stable-retro (libretro glue ``cores/atari2600/
    libretro.cxx``: ``retro_serialize`` is ``Console::save``) saves the CPU,
    RIOT, TIA registers, cartridge, the controllers' pins and the switches, but
    not:

    * the page table of the 6502's address space. ``retro_unserialize`` sets
      a cartridge's bank registers, but some cartridge types do not remap the
      pages from them (``CartridgeE0::load`` only reads ``myCurrentSlice``), so
      the CPU goes on fetching from the banks mapped before the restore. On a
      fresh core those are the banks the cartridge maps at reset.
    * the sound generator's counters (``TIASound``: ``SoundSDL::load`` sets its
      registers, not its dividers and polynomial counters), so the sound after
      a restore depends on what played before.

      Fix for both: press reset (``retro_reset``: ``System::reset``, whose
      devices the state then overwrites; ``TIA::reset`` resets the sound)
      before unserialising, as a fresh core has just been reset.
    * the paddles' digital emulation (``Paddles`` turns LEFT/RIGHT/UP/DOWN into
      a charge): ``myCharge``, ``myLastCharge``, the key-repeat flags and the
      repeat distance, which only grows while a direction is held, so no input
      brings it back. A fresh core has the constructor's values (charge
      centred, last charge 0, so the first frame re-derives the pins). Fix:
      write those values back into the ``Paddles`` objects.
    * ``TIA::myPartialFrameFlag``: a frame in which the game does not strobe
      VSYNC within ``TIA::update``'s 25000 instructions (Q*bert while RESET is
      held) leaves it set, and the next frame then continues that one instead
      of starting a new frame. ``TIA::reset`` does not clear it; a fresh core
      has it clear. Fix: clear it.

    The objects are found from the RIOT's RAM, the one core pointer the API
    gives (``retro_get_memory_data``): RAM is at ``M6532+0x20``, the RIOT's
    ``Console&`` at ``M6532+0x10``, the controllers at ``Console+0x2c0/0x2c8``,
    the TIA at ``Console+0x2d0``. Offsets are those of this build (x86-64);
    every step is checked (the console leads back to the same RIOT, the TIA to
    the same console and system, each controller reads as a ``Joystick`` or
    ``Paddles`` by type and name, the fields hold plausible values) with reads
    that cannot fault (``/proc/self/mem``). If a check fails, or a controller
    is of another kind (driving controllers and others keep state of their
    own), ``locate`` returns None and the caller reloads the core on every
    restore instead.
    """

    VERSION = "3.9.3 ec7a6271"
    RIOT_RAM = 0x20          # M6532::myRAM
    RIOT_CONSOLE = 0x10      # M6532::myConsole
    CONSOLE_PORTS = (0x2C0, 0x2C8)  # Console::myControllers[Left, Right]
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

    @classmethod
    def applies(cls, em: "RetroEmulator") -> bool:
        import platform
        import sys
        return (em.library_name == "Stella" and em.library_version == cls.VERSION
                and sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")
                and sys.maxsize > 2**32)

    def __init__(self, targets: tuple[int, tuple[int, ...]], generation: int) -> None:
        # no reference to the emulator: a cycle through it would leave its teardown to the
        # garbage collector
        self._tia, self._paddles = targets
        self._generation = generation

    @classmethod
    def start(cls, em: "RetroEmulator") -> "_StellaFreshRestore | None":
        """The procedure for ``em``'s core, checked on the core just loaded; None if it does
        not apply."""
        if not cls.applies(em) or em.frame_count != 0:
            return None
        targets = cls.locate(em, fresh=True)
        return None if targets is None else cls(targets, em.memory_generation)

    @classmethod
    def locate(cls, em: "RetroEmulator", fresh: bool = False) -> tuple[int, tuple[int, ...]] | None:
        """The address of the TIA's partial-frame flag and those of the ``Paddles`` objects,
        or None if the layout does not check out. ``fresh``: the core has not run a frame,
        so they must hold their power-on values."""
        import struct

        ram = em.get_memory(2)
        if ram is None:
            return None
        view = np.asarray(ram)
        if view.dtype != np.uint8 or view.size != 128:
            return None
        ram_addr = int(view.__array_interface__["data"][0])
        del ram, view
        try:
            fd = os.open("/proc/self/mem", os.O_RDONLY)
        except OSError:
            return None
        try:
            def read(addr: int, n: int) -> bytes | None:
                if addr <= 0:
                    return None
                try:
                    data = os.pread(fd, n, addr)
                except (OSError, OverflowError):
                    return None
                return data if len(data) == n else None

            def ptr(addr: int) -> int:
                data = read(addr, 8) if addr % 8 == 0 else None
                value = struct.unpack("<Q", data)[0] if data else 0
                return value if value % 8 == 0 else 0

            riot = ram_addr - cls.RIOT_RAM
            console = ptr(riot + cls.RIOT_CONSOLE)
            system = ptr(console + cls.CONSOLE_SYSTEM) if console else 0
            if not system or ptr(system + cls.SYSTEM_RIOT) != riot:
                return None
            tia = ptr(console + cls.CONSOLE_TIA)
            if (not tia or ptr(tia + cls.TIA_CONSOLE) != console
                    or ptr(tia + cls.DEVICE_SYSTEM) != system):
                return None
            flags = read(tia + cls.TIA_FLAGS, 3)
            if flags is None or set(flags) - {0, 1} or (fresh and flags[1]):
                return None
            paddles = []
            for port in cls.CONSOLE_PORTS:
                ctrl = ptr(console + port)
                head = read(ctrl, 0x48) if ctrl else None
                if head is None:
                    return None
                kind = struct.unpack_from("<i", head, cls.CTRL_TYPE)[0]
                name_ptr, name_len = struct.unpack_from("<QQ", head, cls.CTRL_NAME)
                name = cls.KNOWN.get(kind)
                if (name is None or name_ptr != ctrl + cls.CTRL_NAME + 0x10
                        or name_len != len(name) or head[0x38:0x38 + name_len] != name):
                    return None
                if kind != cls.PADDLES:
                    continue
                body = read(ctrl + cls.KEY_REPEAT, 0x30)
                if body is None:
                    return None
                keys = body[0:2]
                ints = struct.unpack_from("<10i", body, cls.DIGITAL - cls.KEY_REPEAT)
                repeat, charge, last, axis, digital = ints[0:2], ints[2:4], ints[4:6], ints[6:8], ints[8:10]
                if (set(keys) - {0, 1} or sorted(digital) != [0, 1] or axis != (0, 0)
                        or not all(0 <= r <= 100 for r in repeat)
                        or not all(0 <= c <= 4096 for c in charge + last)):
                    return None
                if fresh and (keys != b"\0\0" or ints[:8] != cls.POWER_ON):
                    return None
                paddles.append(ctrl)
            return tia + cls.TIA_FLAGS + 1, tuple(paddles)
        finally:
            os.close(fd)

    def prepare(self, em: "RetroEmulator") -> bool:
        """Bring the state a save state leaves out to its power-on values. False if the
        core's objects could not be found (then the caller must reload the core)."""
        import ctypes

        if em.memory_generation != self._generation:  # power-cycled: another copy of the core
            targets = self.locate(em)
            if targets is None:
                return False
            (self._tia, self._paddles), self._generation = targets, em.memory_generation
        em.reset()
        ctypes.c_uint8.from_address(self._tia).value = 0
        for ctrl in self._paddles:
            ctypes.c_uint16.from_address(ctrl + self.KEY_REPEAT).value = 0
            (ctypes.c_int32 * 8).from_address(ctrl + self.DIGITAL)[:] = list(self.POWER_ON)
        return True


class CoreDescription:
    """Which core an emulator runs: name, library path, provider, version."""

    __slots__ = ("name", "path", "provider", "library_name", "library_version")

    def __init__(self, location: CoreLocation, library_name: str, library_version: str) -> None:
        self.name = location.name
        self.path = location.path
        self.provider = location.provider
        self.library_name = library_name
        self.library_version = library_version

    def __repr__(self) -> str:
        return (f"<core {self.name} ({self.library_name} {self.library_version}) "
                f"from {self.provider}: {self.path}>")


def _check_rom(rom_path: str, system: str | None) -> None:
    """Cheap checks that turn a file that is not a ROM into a clear error."""
    try:
        size = os.path.getsize(rom_path)
    except FileNotFoundError:
        raise RomNotFoundError(f"ROM not found: {rom_path}") from None
    except OSError as e:
        raise ContentLoadError(f"cannot read ROM {rom_path}: {e.strerror}") from e
    if os.path.isdir(rom_path):
        raise ContentLoadError(f"{rom_path} is a directory, not a ROM file")
    if size == 0:
        raise ContentLoadError(f"ROM {rom_path} is empty")
    if size > MAX_ROM_SIZE:
        raise ContentLoadError(
            f"{rom_path} is {size} bytes; no cartridge of a supported system is larger than "
            f"{MAX_ROM_SIZE} bytes, so it is not a ROM")
    if system in ("Genesis", "32x"):
        with open(rom_path, "rb") as f:
            header = f.read(0x200)
        if b"SEGA" not in header[0x100:0x110]:
            raise ContentLoadError(
                f"{rom_path} is not a {system} ROM: a cartridge image has 'SEGA' in its header at "
                f"0x100 (interleaved .smd dumps must be converted to .md first)")
    elif system == "Nes":
        with open(rom_path, "rb") as f:
            header = f.read(16)
        if header[:4] != b"NES\x1a" or len(header) < 16:
            raise ContentLoadError(f"{rom_path} is not an iNES ROM: it does not start with 'NES\\x1a'")
        prg, chr_, flags6 = header[4], header[5], header[6]
        if header[7] & 0x0C != 0x08:  # iNES 1.0: sizes are in the header as given
            need = 16 + (512 if flags6 & 4 else 0) + prg * 16384 + chr_ * 8192
            if prg == 0 or size < need:
                raise ContentLoadError(
                    f"{rom_path} is a truncated or corrupt iNES ROM: its header declares "
                    f"{prg} x 16 KiB PRG and {chr_} x 8 KiB CHR ({need} bytes), the file has {size}")
    elif system == "Snes":
        body = size - 512 if size % 1024 == 512 else size
        if body < 0x8000:
            raise ContentLoadError(
                f"{rom_path} is {size} bytes; the smallest SNES cartridge is 32 KiB, so it is not a SNES ROM")


class RetroEmulator(Emulator):
    """Run a ROM on its system's libretro core.

    Args:
        rom_path: the ROM. Its extension tells the system (``.md`` Genesis,
            ``.a26`` Atari 2600, ``.nes``, ``.sfc``, ...), unless ``system`` is
            given.
        core: a core name (``"nestopia"``) or a path to a core library; by
            default the system's default core.
        system: the system name (``"Nes"``), overriding the extension.
        options: core option values on top of the system's defaults.
        private_copy: load a private copy of the core library (default), so
            many emulators live in one process.

    Methods follow Gym Retro's ``RetroEmulator``: ``step``, ``set_button_mask``,
    ``get_state``, ``set_state``, ``get_screen``, ``get_screen_rate``,
    ``get_audio``, ``get_audio_rate``, ``get_resolution``, ``add_cheat``,
    ``clear_cheats``; plus ``step(n)``, ``memory``, ``get_ram``, ``screen``,
    ``close`` and use as a context manager.
    """

    def __init__(
        self,
        rom_path: str | os.PathLike[str],
        core: str | os.PathLike[str] | None = None,
        *,
        system: str | None = None,
        options: Mapping[str, str] | None = None,
        private_copy: bool = True,
    ) -> None:
        rom = os.path.expanduser(os.fspath(rom_path))
        if system is None:
            try:
                system = system_for_rom(rom)
            except UnknownSystemError:
                if core is None:
                    raise
        elif system not in SYSTEMS:
            raise UnknownSystemError(f"unknown system {system!r}; known systems are {sorted(SYSTEMS)}")
        _check_rom(rom, system)
        location = core_for_system(system, core)
        info = SYSTEMS.get(system) if system else None
        merged = dict(info.options) if info else {}
        if options:
            merged.update(options)
        for d in (paths.system_dir(), paths.saves_dir()):
            d.mkdir(parents=True, exist_ok=True)
        super().__init__(
            rom,
            location.path,
            options=merged,
            system_dir=str(paths.system_dir()),
            save_dir=str(paths.saves_dir()),
            screen_size=info.screen if info else None,
            private_copy=private_copy,
        )
        self._quirks = CORE_QUIRKS.get(self.library_name, {})
        self._fresh_restore: _StellaFreshRestore | None = None
        if self._quirks.get("stella_fresh_restore"):
            self._fresh_restore = _StellaFreshRestore.start(self)
        if self._quirks.get("reload_before_set_state") and self._fresh_restore is None:
            self._reload_on_restore()
        self._plug_joypads()
        self._system = system
        self._info = info
        self._core = CoreDescription(location, self.library_name, self.library_version)

    def _reload_on_restore(self) -> None:
        self._fresh_restore = None
        self.reload_before_set_state = True
        self.keep_spare = True  # restores swap in a core loaded in the background

    def set_state(self, state: Any) -> bool:
        """Restore a state made by ``get_state()`` of the same core and game.

        Raises ``StateError`` if the state has the wrong size for this core and
        game or the core rejects it. Returns True for compatibility.
        """
        if not isinstance(state, str):
            state = self._unpadded(state)
        fix = self._fresh_restore
        if fix is not None and not isinstance(state, str):
            try:
                size = memoryview(state).nbytes
            except TypeError:
                size = -1
            # only for a state the core will take, so a rejected one changes nothing
            if size > 0 and size == self.get_state_size() and not fix.prepare(self):
                self._reload_on_restore()
        return super().set_state(state)

    def _unpadded(self, state: Any) -> Any:
        """The core's state within ``state``: a state followed by zero bytes is the state.

        stable-retro and Gym Retro keep Stella states padded with zeros to
        512 bytes and accept them; any other size mismatch, or a tail that is
        not all zeros, is left for ``set_state`` to refuse before the core
        sees it.
        """
        try:
            view = memoryview(state).cast("B")
        except (TypeError, ValueError):
            return state
        expected = self.get_state_size()
        n = view.nbytes
        if expected <= 0 or n <= expected:
            return state
        if view[expected:] != bytes(n - expected):
            raise StateError(
                f"state has {n} bytes but the {self.library_name} core expects {expected} for this game, "
                f"and the {n - expected} bytes past them are not zero padding: it was made by another core, "
                f"core version or game, or it is corrupt")
        return view[:expected]

    def _plug_joypads(self) -> None:
        if self._quirks.get("plug_joypads"):
            for port in range(min(self.num_ports, 2)):
                self.set_controller_port_device(port, 1)

    def power_cycle(self) -> None:
        super().power_cycle()
        self._plug_joypads()

    @property
    def system(self) -> str | None:
        """The system name (``"Genesis"``), or None for a core given by path alone."""
        return self._system

    @property
    def system_info(self) -> SystemInfo | None:
        return self._info

    @property
    def core(self) -> CoreDescription:
        """Which core runs this game."""
        return self._core

    def configure_data(self, data: Any) -> None:
        """Bind a ``retro.data.GameData`` to this emulator (Gym Retro's spelling)."""
        data.configure(self)

    @property
    def rambase(self) -> int:
        return self._info.rambase if self._info else 0

    def memory_blocks(self) -> dict[int, np.ndarray]:
        """RAM as ``{start address: writable uint8 view}``, in Gym Retro's layout.

        With a core memory map, one block per descriptor that is not CONST,
        at its start address; its length is the descriptor's address window
        (the lowest set bit of ``select``), capped by ``len``. Without one,
        system RAM as a single block at the system's RAM base, cut to the
        system's RAM size where the core's buffer is larger (Genesis Plus GX
        gives 64 KB for the 8 KB of a Master System or Game Gear).
        """
        blocks: dict[int, np.ndarray] = {}
        for i, d in enumerate(self.memory_descriptors()):
            if d["const"] or not d["has_ptr"]:
                continue
            select = d["select"]
            length = select & -select if select else d["len"]
            if d["len"] and d["len"] < length:
                length = d["len"]
            if length:
                blocks[d["start"]] = self.descriptor_view(i, length)
        if not blocks:
            ram = self.get_memory(2)
            if ram is not None:
                size = self._info.ramsize if self._info else None
                blocks[self.rambase] = ram[:size] if size else ram
        return dict(sorted(blocks.items()))

    @property
    def memory(self) -> dict[int, np.ndarray]:
        """Same as :meth:`memory_blocks`."""
        return self.memory_blocks()

    def get_ram(self) -> np.ndarray:
        """All RAM blocks concatenated in address order (a copy)."""
        blocks = self.memory_blocks()
        if not blocks:
            return np.zeros(0, dtype=np.uint8)
        return np.concatenate(list(blocks.values()))

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"frame {self.frame_count}"
        return f"<RetroEmulator {self.system or '?'} {os.path.basename(self.rom_path)} on {self.core.name}, {state}>"

    def describe(self) -> dict[str, Any]:
        """A summary: system, core, picture, rates, RAM blocks."""
        return {
            "system": self.system,
            "core": self.core.name,
            "core_path": self.core.path,
            "provider": self.core.provider,
            "library": f"{self.library_name} {self.library_version}",
            "resolution": self.get_resolution(),
            "pixel_format": self.pixel_format,
            "fps": self.get_screen_rate(),
            "audio_rate": self.get_audio_rate(),
            "ram_blocks": {hex(k): len(v) for k, v in self.memory_blocks().items()},
        }

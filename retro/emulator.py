"""``RetroEmulator``: a game running on its system's libretro core.

A thin layer over the Cython frontend (:mod:`retro._core`): it tells the
system from the ROM, picks and finds the core, applies the system's settings
(picture size, core options, RAM base) and lays RAM out in blocks the way Gym
Retro does.
"""

from __future__ import annotations

import os
import zipfile
from typing import Any, Mapping

import numpy as np

from collections import deque

from retro import _state_probe, paths
from retro._buttons import pack_buttons
from retro._core import Emulator, reuse_core_copies
from retro._restore import RestorePolicy, choose as choose_restore_policy
from retro._statecmp import host_pointer_spans
from retro._workers import StepPool
from retro.cores import CoreLocation, core_for_system
from retro.errors import ContentLoadError, RomNotFoundError, StateError, UnknownSystemError
from retro.policy import GYM_RETRO, ApiPolicy
from retro.systems import SYSTEMS, SystemInfo, canonical_system, load_core_info as _load_core_info, \
    system_for_rom, system_names

__all__ = ["RetroEmulator", "CoreDescription", "StepPool", "pack_buttons"]

#: Per-core behaviour, keyed by the core's library name.
#: ``restore`` names the restore policy (see :mod:`retro._restore`): Stella
#: keeps state outside its save states, so a restore must give what a restore
#: on a freshly loaded core gives, as in Gym Retro; ``"stella"`` does that in
#: place for the build stable-retro ships (:mod:`retro._stella_restore`) and
#: swaps in a freshly loaded core otherwise. Cores not listed restore plainly.
#: Nestopia reads the joypads only once told that joypads are plugged in.
#: ``state_magic``: every state of the core starts with these bytes (retro's
#: ALE core), so a state of another core is told apart before the core sees it;
#: ``core`` names that core, so a state tells which core plays it
#: (:func:`core_for_state`). ``audio_options``: the option values that make a
#: core produce audio it leaves out by default (:func:`audio_options`).
#: ``reuse_copies``: closed private copies of the core are initialised again
#: for the next emulator instead of loading new ones (see
#: ``retro._core.reuse_core_copies``): snes9x's and Stella's libraries
#: allocate memory in their initialisers that unloading never frees, so
#: without reuse every emulator made and closed leaves ~140 KB (snes9x) or
#: ~72 KB (Stella) behind. snes9x's ``retro_init`` starts it afresh;
#: ``"stella"``: a few of Stella's variables survive ``retro_init``, and are
#: put back to their values in a new copy first (:mod:`retro._stella_reuse`).
CORE_QUIRKS: dict[str, dict[str, Any]] = {
    "Stella": {"restore": "stella", "reuse_copies": "stella"},
    "Snes9x": {"reuse_copies": True},
    "Nestopia": {"plug_joypads": True},
    # PicoDrive's 32X restores depend on what ran before (its SH-2 poll detection and
    # wake-ups are not in its states), so a restore starts from a fresh copy
    "PicoDrive": {"restore": "reload"},
    # its states hold pointers into the process (see retro._statecmp)
    "Genesis Plus GX": {"state_host_pointers": True},
    "ALE Stella": {"state_magic": b"RETROALE", "core": "ale", "audio_options": {"ale_audio": "enabled"}},
}


def core_for_state(state: Any) -> str | None:
    """The core whose states start with a magic of their own that ``state`` starts with (``"ale"``), else None."""
    if not state:
        return None
    try:
        head = bytes(memoryview(state).cast("B")[:16])
    except (TypeError, ValueError):
        return None
    for quirks in CORE_QUIRKS.values():
        magic = quirks.get("state_magic")
        if magic and head.startswith(magic):
            return str(quirks["core"])
    return None


def audio_options(core: str | None) -> dict[str, str]:
    """Option values that make the core named ``core`` produce audio (the ALE core makes none unless
    asked, for speed); empty for cores that always do."""
    for quirks in CORE_QUIRKS.values():
        if core is not None and quirks.get("core") == core:
            return dict(quirks.get("audio_options", {}))
    return {}

#: Largest ROM retro loads (GBA carts are 32 MiB; CD images are not ROMs).
MAX_ROM_SIZE = 64 << 20


def _reuse_copies(em: "RetroEmulator", core_path: str) -> None:
    """Reuse closed copies of ``em``'s core, with what makes one new again."""
    if em._quirks["reuse_copies"] == "stella":
        from retro._stella_reuse import power_on

        writes = power_on(em)
        if writes is not None:
            reuse_core_copies(core_path, power_on=writes)
        return
    reuse_core_copies(core_path)


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
    try:
        with open(rom_path, "rb") as f:
            header = f.read(0x200)  # the longest header checked below
    except OSError as e:
        raise ContentLoadError(f"cannot read ROM {rom_path}: {e.strerror}") from e
    if system in ("Genesis", "32x"):
        if b"SEGA" not in header[0x100:0x110]:
            raise ContentLoadError(
                f"{rom_path} is not a {system} ROM: a cartridge image has 'SEGA' in its header at "
                f"0x100 (interleaved .smd dumps must be converted to .md first)")
    elif system == "Nes":
        if header[:4] != b"NES\x1a" or len(header) < 16:
            raise ContentLoadError(f"{rom_path} is not an iNES ROM: it does not start with 'NES\\x1a'")
        prg, chr_, flags6 = header[4], header[5], header[6]
        if header[7] & 0x0C != 0x08:  # iNES 1.0: sizes are in the header as given
            need = 16 + (512 if flags6 & 4 else 0) + prg * 16384 + chr_ * 8192
            if prg == 0 or size < need:
                raise ContentLoadError(
                    f"{rom_path} is a truncated or corrupt iNES ROM: its header declares "
                    f"{prg} x 16 KiB PRG and {chr_} x 8 KiB CHR ({need} bytes), the file has {size}")
    elif system == "NintendoDs":
        if len(header) < 0x160 or _crc16_modbus(header[:0x15E]) != int.from_bytes(header[0x15E:0x160], "little"):
            raise ContentLoadError(
                f"{rom_path} is not a Nintendo DS ROM: its header's CRC-16 (at 0x15E, over bytes "
                f"0x000-0x15D) does not match")
    elif system == "Saturn":
        if header[:8] != b"MComprHD":
            raise ContentLoadError(
                f"{rom_path} is not a Saturn disc image: retro loads CHD images, which start with "
                f"'MComprHD'")
    elif system == "Arcade":
        if not zipfile.is_zipfile(rom_path):
            raise ContentLoadError(f"{rom_path} is not an arcade ROM set: FBNeo loads ROM sets as .zip files")
    elif system == "Snes":
        body = size - 512 if size % 1024 == 512 else size
        if body < 0x8000:
            raise ContentLoadError(
                f"{rom_path} is {size} bytes; the smallest SNES cartridge is 32 KiB, so it is not a SNES ROM")


def _crc16_modbus(data: bytes) -> int:
    """CRC-16 with the reflected polynomial 0xA001 and start value 0xFFFF (the DS header's)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


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
        state_probe: try every state not seen before in a disposable process
            before this emulator restores it (see :meth:`check_state`);
            default on unless ``RETRO_STATE_PROBE=0``. Turn it off only for
            trusted states.
        first_frame: play the game's first frame, with no buttons held, once
            it is loaded (default), as Gym Retro's and stable-retro's
            ``RetroEmulator`` do: a new emulator shows that frame, and
            ``step()`` plays the second one, so frame for frame it shows
            what theirs shows. False leaves the game at power-on with no
            frame played (``frame_count`` 0), where save-state recipes count
            their frames from. ``power_cycle()`` loads the game again and
            plays nothing.

    Methods follow Gym Retro's ``RetroEmulator``: ``step``, ``set_button_mask``,
    ``get_state``, ``set_state``, ``get_screen``, ``get_screen_rate``,
    ``get_audio``, ``get_audio_rate``, ``get_resolution``, ``add_cheat``,
    ``clear_cheats``; plus ``step(n)``, ``memory``, ``get_ram``, ``screen``,
    ``close`` and use as a context manager.
    """

    #: Which API's conventions this emulator follows where Gym Retro's and stable-retro's differ (:mod:`retro.policy`).
    policy: ApiPolicy = GYM_RETRO

    def __init__(
        self,
        rom_path: str | os.PathLike[str],
        core: str | os.PathLike[str] | None = None,
        *,
        system: str | None = None,
        options: Mapping[str, str] | None = None,
        private_copy: bool = True,
        state_probe: bool | None = None,
        first_frame: bool = True,
    ) -> None:
        rom = os.path.expanduser(os.fspath(rom_path))
        if system is None:
            try:
                system = system_for_rom(rom)
            except UnknownSystemError:
                if core is None:
                    raise
        else:
            system = canonical_system(system)
            if system not in SYSTEMS:
                raise UnknownSystemError(f"unknown system {system!r}; known systems are {system_names()}")
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
        if self._quirks.get("reuse_copies") and private_copy:
            _reuse_copies(self, location.path)
        self.state_probe = _state_probe.enabled() if state_probe is None else bool(state_probe)
        self._probe_target: _state_probe.ProbeTarget = (
            location.path, os.path.abspath(rom), tuple(sorted(merged.items())), str(paths.system_dir()),
            str(paths.saves_dir()), info.screen if info else None)
        self._checked: deque[bytes] = deque(maxlen=4)  # states known good, by identity
        self._plug_joypads()
        self._system = system
        self._info = info
        self._core = CoreDescription(location, self.library_name, self.library_version)
        self._restore: RestorePolicy = choose_restore_policy(self, self._quirks)
        self._restore.install(self)
        if first_frame:
            self.step()

    def _use_restore_policy(self, policy: RestorePolicy) -> None:
        """Restore with ``policy`` from now on."""
        self._restore = policy
        policy.install(self)

    def get_state(self) -> bytes:
        """Serialise the emulator into bytes (``retro_serialize``).

        Where the core's restores reset state its saves leave out, the
        emulator then continues from what a restore of this state gives, so
        playing on after a save and restoring the save replay the same.
        """
        state = self._restore.tidy(super().get_state())
        if self._restore.settles_saves:
            self._restore.restore(self, memoryview(state))
        self._checked.append(state)  # this core made it: restoring it needs no probe
        return state

    @property
    def state_has_host_pointers(self) -> bool:
        """Whether this core's states hold pointers into the process that made them, so
        that equal runs give states that differ there (Genesis Plus GX's do)."""
        return bool(self._quirks.get("state_host_pointers"))

    def states_equal(self, a: bytes, b: bytes) -> bool:
        """Whether two states of this core and game hold the same emulated machine.

        Byte for byte, except, for a core whose states hold host pointers, in 8-byte
        words that are pointers in both (see ``retro._statecmp.host_pointer_spans``):
        states made by equal runs in two emulators or two processes compare equal.
        """
        if a == b:
            return True
        return self.state_has_host_pointers and host_pointer_spans(a, b) is not None

    def set_state(self, state: Any) -> bool:
        """Restore a state made by ``get_state()`` of the same core and game.

        The result is what restoring it on a freshly loaded core gives.
        Raises ``StateError`` if the state has the wrong size for this core and
        game or the core would refuse it, leaving the emulator as it was.
        Returns True for compatibility; under stable-retro's API
        (``self.policy``, :data:`retro.policy.STABLE_RETRO`) a refused state
        returns False instead of raising.
        """
        if isinstance(state, str):
            raise TypeError("set_state() takes bytes, not str")
        try:
            view = self._checked_view(state)
            self._restore.restore(self, view)
        except StateError:
            if self.policy.state_errors_raise:
                raise
            return False  # stable-retro's answer (retro.policy.STABLE_RETRO)
        return True

    def check_state(self, state: Any) -> None:
        """Raise ``StateError`` unless ``state`` is one this emulator can restore safely.

        The state must have the size of this core's states for this game (a
        state followed by zero bytes is that state, as Gym Retro and
        stable-retro pad Stella's), and, unless ``state_probe`` is off, a
        forked copy of this process must restore it on this emulator's core
        and run a few frames without crashing or hanging (see
        :mod:`retro._state_probe`). Each distinct state is probed once per
        process (verdicts are cached by hash), and ``set_state`` of a
        ``bytes`` object that passed does not hash it again, so restoring a
        start state on every ``reset()`` stays cheap. ``set_state`` checks
        by itself; this checks without restoring.
        """
        if isinstance(state, str):
            raise TypeError("check_state() takes bytes, not str")
        self._checked_view(state)

    def _checked_view(self, state: Any) -> memoryview:
        """``state`` as the core's state, checked: this core's kind of state, its size, and (once) the probe."""
        if not self.accepts_state(state):
            raise StateError("this state " + self.foreign_state_reason())
        view = self._state_view(self._unpadded(state))
        if not self._known_good(state):
            self._probe(view)
            self._note_good(state)
        return view

    def trust_state(self, state: Any) -> None:
        """Mark ``state`` (bytes-like) as good for this core and game without probing it."""
        _state_probe.trust(self._probe_target, _state_probe.digest(self._unpadded(state)))
        self._note_good(state)

    def _known_good(self, state: Any) -> bool:
        if not self.state_probe:
            return True
        return type(state) is bytes and any(state is s for s in self._checked)

    def _note_good(self, state: Any) -> None:
        if type(state) is bytes:  # immutable: the same object is the same state
            self._checked.append(state)

    def _probe(self, view: memoryview) -> None:
        _state_probe.probe_emulator(self, self._probe_target, view, self.library_name)

    def foreign_state_reason(self) -> str:
        """Why a state of another core cannot load here, and what to do (the end of a sentence)."""
        return (f"was not made by the {self.library_name} core ({self.core.name}), and a state of another "
                f"core cannot load into it. stable-retro's and Gym Retro's Atari 2600 states are Stella 3.9.3 "
                f"states of the stella core: play them with core='stella' (the default), start from power-on "
                f"(state=retro.State.NONE), or use a state made on this core (the state_recipes in an "
                f"integration's metadata.json make its start states on it)")

    def accepts_state(self, state: Any) -> bool:
        """False if ``state`` is certainly not a state of this core (for cores whose states say so)."""
        magic = self._quirks.get("state_magic")
        if magic is None:
            return True
        try:
            head = bytes(memoryview(state).cast("B")[:len(magic)])
        except (TypeError, ValueError):
            return True  # set_state reports what is wrong with it
        return head == magic

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

    def get_screen(self, out: np.ndarray | None = None, *, apply_rotation: bool = False) -> np.ndarray:
        """The last frame as an ``(height, width, 3)`` uint8 RGB array (a copy, or written into ``out``).

        With ``apply_rotation``, the frame is turned as the core asked
        (:meth:`get_rotation` quarter turns counter-clockwise, libretro's
        convention), as stable-retro's env shows it; ``out`` must then have
        the turned shape. Cores that ask for no rotation give the frame as is.
        """
        if not apply_rotation:
            return super().get_screen(out)
        turns = self.get_rotation()
        if not turns:
            return super().get_screen(out)
        turned = np.rot90(super().get_screen(), turns)
        if out is None:
            return np.ascontiguousarray(turned)
        if out.shape != turned.shape or out.dtype != np.uint8:
            raise ValueError(f"out must be a uint8 array of shape {turned.shape} (the turned frame), "
                             f"got {out.dtype} {out.shape}")
        np.copyto(out, turned)
        return out

    def get_rotation(self) -> int:
        """How the core asked for the picture to be turned, in quarter turns counter-clockwise (0-3).

        stable-retro's ``RetroEmulator.get_rotation``: what the core said
        with ``RETRO_ENVIRONMENT_SET_ROTATION`` (0 unless it said so).
        """
        return int(self.rotation)

    @staticmethod
    def load_core_info(text: str) -> bool:
        """Register the systems of a core-info JSON document (Gym Retro's static ``load_core_info``); True.

        The same as :func:`retro.systems.load_core_info`: the systems become
        known to ``retro.get_system_info``, ``EMU_INFO``, ``EMU_CORES``,
        ``EMU_EXTENSIONS`` and new emulators.
        """
        return _load_core_info(text)

    @property
    def system(self) -> str | None:
        """The system name (``"Genesis"``), or None for a core given by path alone."""
        return self._system

    @property
    def system_info(self) -> SystemInfo | None:
        """What retro knows about the system (None for a core given by path alone)."""
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
        """The address of the first byte of system RAM (Gym Retro's ``rambase``; 0 if unknown)."""
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

"""``RetroEmulator``: a game running on its system's libretro core.

A thin layer over the Cython frontend (:mod:`retro._core`): it tells the
system from the ROM, picks and finds the core, applies the system's settings
(picture size, core options, RAM base) and lays RAM out in blocks the way Gym
Retro does.
"""

from __future__ import annotations

import os
from collections import deque
from typing import Any, Mapping, Sequence

import numpy as np

from retro import _state_probe, paths
from retro._buttons import pack_buttons
from retro._core import Emulator
from retro._workers import StepPool
from retro.cores import CoreLocation, core_for_system
from retro.errors import StateError, UnknownSystemError
from retro.policy import GYM_RETRO, ApiPolicy
from retro.profiles import CoreProfile, RestorePolicy, audio_options, core_for_state, profile_for
from retro.systems import SYSTEMS, SystemInfo, canonical_system, check_rom_file, \
    load_core_info as _load_core_info, system_for_rom, system_names

__all__ = ["RetroEmulator", "CoreDescription", "CoreHost", "StepPool", "pack_buttons", "core_for_state",
           "audio_options", "restore_states"]

class CoreHost:
    """An emulator as its core's profile and restore policy see it (:class:`retro.profiles.protocol.CoreHost`).

    Made for one call and dropped after it, so a policy never holds the emulator.
    """

    __slots__ = ("_em",)

    def __init__(self, em: "RetroEmulator") -> None:
        self._em = em

    @property
    def library_name(self) -> str:
        return str(self._em.library_name)

    @property
    def library_version(self) -> str:
        return str(self._em.library_version)

    @property
    def core_path(self) -> str:
        return str(self._em.core_path)

    @property
    def frame_count(self) -> int:
        return int(self._em.frame_count)

    @property
    def memory_generation(self) -> int:
        return int(self._em.memory_generation)

    @property
    def num_ports(self) -> int:
        return int(self._em.num_ports)

    def serialize(self) -> bytes:
        return bytes(Emulator.get_state(self._em))  # the frontend's save: not tidied, not settled

    def unserialize(self, view: memoryview) -> None:
        self._em._unserialize(view)

    def restore_on_spare(self, view: memoryview) -> None:
        self._em._restore_on_spare(view)

    def keep_spare(self, on: bool) -> None:
        self._em.keep_spare = on
        if on:
            self._em._start_spare()

    def memory_address(self, region: int) -> tuple[int, int]:
        address, size = self._em._memory_address(region)
        return int(address), int(size)

    def set_controller_port_device(self, port: int, device: int) -> None:
        self._em.set_controller_port_device(port, device)

    def call_before_unload(self, symbol: str) -> bool:
        return bool(self._em._call_before_unload(symbol))

    def reset(self) -> None:
        self._em.reset()

    def power_cycle(self) -> None:
        self._em.power_cycle()

    def use_restore_policy(self, policy: RestorePolicy) -> None:
        self._em._use_restore_policy(policy)


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
        check_rom_file(rom, system)
        location = core_for_system(system, core)
        info = SYSTEMS.get(system) if system else None
        merged = dict(info.options) if info else {}
        if options:
            merged.update(options)
        for d in (paths.system_dir(), paths.saves_dir()):
            d.mkdir(parents=True, exist_ok=True)
        named = profile_for(location.name)  # as far as the name tells, before the core says what it is
        super().__init__(
            rom,
            location.path,
            options=merged,
            system_dir=str(paths.system_dir()),
            save_dir=str(paths.saves_dir()),
            screen_size=info.screen if info else None,
            private_copy=private_copy,
            free_leaks=named.free_leaks,
        )
        self._profile: CoreProfile = profile_for(location.name, self.library_name)
        if private_copy:
            self._profile.reuse_closed_copies(CoreHost(self))
        self.state_probe = _state_probe.enabled() if state_probe is None else bool(state_probe)
        self._probe_target: _state_probe.ProbeTarget = (
            location.path, os.path.abspath(rom), tuple(sorted(merged.items())), str(paths.system_dir()),
            str(paths.saves_dir()), info.screen if info else None)
        self._checked: deque[bytes] = deque(maxlen=4)  # states known good, by identity
        self._profile.after_load(CoreHost(self))
        self._system = system
        self._info = info
        self._core = CoreDescription(location, self.library_name, self.library_version)
        self._restore: RestorePolicy = self._profile.restore_policy(CoreHost(self))
        self._restore.install(CoreHost(self))
        if first_frame:
            self.step()

    def _use_restore_policy(self, policy: RestorePolicy) -> None:
        """Restore with ``policy`` from now on."""
        self._restore = policy
        policy.install(CoreHost(self))

    def get_state(self) -> bytes:
        """Serialise the emulator into bytes (``retro_serialize``).

        Where the core's restores reset state its saves leave out, the
        emulator then continues from what a restore of this state gives, so
        playing on after a save and restoring the save replay the same.
        """
        state = self._restore.tidy(super().get_state())
        if self._restore.settles_saves:
            self._restore.restore(CoreHost(self), memoryview(state))
        self._checked.append(state)  # this core made it: restoring it needs no probe, here or
        if self.state_probe:         # on another emulator of the same core and game
            _state_probe.trust(self._probe_target, _state_probe.digest(state))
        return state

    @property
    def state_has_host_pointers(self) -> bool:
        """Whether this core's states hold pointers into the process that made them, so
        that equal runs give states that differ there (Genesis Plus GX's do)."""
        return self._profile.state_host_pointers

    def states_equal(self, a: bytes, b: bytes) -> bool:
        """Whether two states of this core and game hold the same emulated machine.

        Byte for byte, except, for a core whose states hold host pointers, in 8-byte
        words that are pointers in both (see ``retro._statecmp.host_pointer_spans``):
        states made by equal runs in two emulators or two processes compare equal.
        """
        return self._profile.states_equal(a, b)

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
            self._restore.restore(CoreHost(self), view)
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
        magic = self._profile.state_magic
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

        The views keep the memory they show: after ``close()`` or a power
        cycle they show the old run, and writing to them changes no other
        emulator; the old game is unloaded when the last of them goes.
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


def restore_states(emulators: Sequence[RetroEmulator], states: Sequence[Any],
                   steps: StepPool | None = None) -> list[StateError | None]:
    """``set_state(states[i])`` on ``emulators[i]`` for every emulator, the cores reading their states on ``steps``
    all at once, with the GIL released. Returns per emulator None (restored) or the ``StateError`` that
    ``set_state`` would have raised (the emulator is then left as a failed ``set_state`` leaves it).

    Each state is checked as ``set_state`` checks it and prepared by its
    core's restore policy; what is left to the running cores (their
    ``retro_unserialize``) runs on the pool.
    """
    if len(states) != len(emulators):
        raise ValueError(f"{len(states)} states for {len(emulators)} emulators")
    errors: list[StateError | None] = [None] * len(emulators)
    ready: list[int] = []
    views: list[memoryview] = []
    for i, (em, state) in enumerate(zip(emulators, states)):
        try:
            view = em._checked_view(state)
            if em._restore.prepare(CoreHost(em), view):
                ready.append(i)
                views.append(view)
        except StateError as e:
            errors[i] = e
    if steps is None or len(ready) < 2:
        for i, view in zip(ready, views):
            try:
                emulators[i]._restore.restore_prepared(CoreHost(emulators[i]), view)
            except StateError as e:
                errors[i] = e
        return errors
    for i, rc in zip(ready, steps.restore([emulators[i] for i in ready], views)):
        if rc != 1:
            em = emulators[i]
            if rc < 0:
                em.power_cycle()  # it may be half loaded
            em._restore.refused(CoreHost(em))
            errors[i] = StateError(f"the {em.library_name} core " + (
                "could not read the state: it is corrupt" if rc < 0 else "rejected the state"))
    return errors

"""Snapshots: everything needed to continue one game identically.

A :class:`Snapshot` is what ``RetroEnv.snapshot()`` and
``RetroVectorEnv.snapshot()`` return and their ``restore`` takes: the
emulator's state and the picture it showed, the start state an episode
resets to, the scenario's running state (totals, previous values, custom
variables), the buttons held, the env's random generators (frame skips,
sticky actions) and its episode counters. It is immutable and picklable,
:meth:`Snapshot.to_bytes` and :meth:`Snapshot.from_bytes` write and read it
as bytes (a self-describing format, never pickle), and :attr:`Snapshot.digest`
is a content hash: equal for two equal games, in any process.
"""

from __future__ import annotations

import functools
import hashlib
import json
import struct
from dataclasses import dataclass, fields
from typing import Any, Mapping

from retro.errors import StateError
from retro.profiles import profile_for

__all__ = ["Snapshot", "MAGIC", "FORMAT_VERSION", "MAX_SNAPSHOT_BYTES"]

#: The first bytes of a snapshot written by :meth:`Snapshot.to_bytes`.
MAGIC = b"RETROSNAP\x00"
#: The version of that format this module writes and reads.
FORMAT_VERSION = 1
#: The largest snapshot :meth:`Snapshot.from_bytes` reads (a header that asks for more is refused).
MAX_SNAPSHOT_BYTES = 256 << 20
_MAX_HEADER = 1 << 20
_BLOBS = ("state", "screen", "start_state")


def _json(value: Any) -> str:
    """Canonical JSON of a value made of dicts, lists, strings, numbers, bools and None (numpy scalars as
    numbers): equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain, allow_nan=False)


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    if item is not None:
        return item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not a snapshot value")


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One game at one moment, with everything needed to continue it identically.

    Made by ``RetroEnv.snapshot()`` and ``RetroVectorEnv.snapshot()``; continued
    by their ``restore`` in an env of the same game, core and arguments.
    """

    #: The game's id.
    game: str
    #: The core's name (``"stella"``, ``"ale"``, ...).
    core: str
    #: The emulator's state, as ``RetroEmulator.get_state()`` gives it.
    state: bytes
    #: The picture the game showed (RGB, ``screen_shape + (3,)``): a core's state holds none.
    screen: bytes
    #: ``(height, width)`` of :attr:`screen`.
    screen_shape: tuple[int, int]
    #: Frames the emulator had played.
    frame_count: int
    #: The state an episode starts from (None: from power-on).
    start_state: bytes | None
    #: The start state's name or path.
    statename: str | None
    #: Whether a reset power-cycles the game (from power-on).
    power_on_reset: bool
    #: Whether the game is at power-on, no frame played since.
    at_power_on: bool
    #: The buttons held, one mask per player.
    held: tuple[int, ...]
    #: The scenario's running state (``GameData.episode_state()``), as canonical JSON.
    episode_json: str
    #: Whether the episode had ended (the env needs a reset, or the lane an autoreset).
    needs_reset: bool = False
    #: Agent steps played in the episode.
    episode_steps: int = 0
    #: The env's random generators (``np_random``, the sticky-action one, the seed), as canonical JSON.
    rngs_json: str = "{}"

    @classmethod
    def make(cls, *, episode: Mapping[str, Any], rngs: Mapping[str, Any] | None = None,
             **values: Any) -> "Snapshot":
        """A snapshot from its values, ``episode`` and ``rngs`` as mappings."""
        return cls(episode_json=_json(episode), rngs_json=_json(rngs or {}), **values)

    def episode(self) -> dict[str, Any]:
        """The scenario's running state (a new dict, for ``GameData.set_episode_state``)."""
        return dict(json.loads(self.episode_json))

    def rngs(self) -> dict[str, Any]:
        """The env's random generators' states (a new dict)."""
        return dict(json.loads(self.rngs_json))

    @functools.cached_property
    def parsed(self) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        """``(episode(), rngs())``, read once and shared: for restores, which only read them (a snapshot
        restored many times, as branching does, is parsed once)."""
        return self.episode(), self.rngs()

    def replace(self, **values: Any) -> "Snapshot":
        """A copy with some values changed (an env adds its own to its session's)."""
        mine = {f.name: getattr(self, f.name) for f in fields(self)}
        if "episode" in values:
            values["episode_json"] = _json(values.pop("episode"))
        if "rngs" in values:
            values["rngs_json"] = _json(values.pop("rngs"))
        mine.update(values)
        return Snapshot(**mine)

    # -- bytes --------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The snapshot as bytes: :data:`MAGIC`, a 4-byte header length, a JSON header, then the state, the
        screen and the start state. :meth:`from_bytes` reads them back."""
        return self._encode(self.state)

    def _encode(self, state: bytes) -> bytes:
        blobs = {"state": state, "screen": self.screen, "start_state": self.start_state}
        header = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _BLOBS}
        header["version"] = FORMAT_VERSION
        header["sizes"] = {name: None if blob is None else len(blob) for name, blob in blobs.items()}
        text = _json(header).encode()
        return b"".join([MAGIC, struct.pack("<I", len(text)), text,
                         *(blob for blob in blobs.values() if blob is not None)])

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> "Snapshot":
        """Read a snapshot :meth:`to_bytes` wrote; ``StateError`` saying what is wrong for anything else."""
        raw = bytes(data)
        if len(raw) > MAX_SNAPSHOT_BYTES:
            raise StateError(f"a snapshot has at most {MAX_SNAPSHOT_BYTES} bytes, got {len(raw)}")
        if not raw.startswith(MAGIC):
            raise StateError("not a retro snapshot (it does not start with RETROSNAP): pass the bytes "
                             "Snapshot.to_bytes() wrote")
        at = len(MAGIC)
        if len(raw) < at + 4:
            raise StateError("the snapshot is truncated in its header length")
        (n,) = struct.unpack_from("<I", raw, at)
        at += 4
        if n > _MAX_HEADER or at + n > len(raw):
            raise StateError(f"the snapshot's header claims {n} bytes; {len(raw) - at} follow")
        try:
            header = json.loads(raw[at:at + n].decode())
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise StateError(f"the snapshot's header is not valid JSON: {e}") from None
        at += n
        if not isinstance(header, dict):
            raise StateError("the snapshot's header is not a JSON object")
        if header.get("version") != FORMAT_VERSION:
            raise StateError(f"snapshot format version {header.get('version')!r}; this retro reads version "
                             f"{FORMAT_VERSION}")
        sizes = header.get("sizes")
        if not isinstance(sizes, dict) or set(sizes) != set(_BLOBS):
            raise StateError(f"the snapshot's header must give the sizes of {', '.join(_BLOBS)}")
        values: dict[str, Any] = {}
        for name in _BLOBS:
            size = sizes[name]
            if size is None and name == "start_state":
                values[name] = None
                continue
            if not _is_int(size) or size < 0 or at + size > len(raw):
                raise StateError(f"the snapshot's {name} has {size!r} bytes; {len(raw) - at} are left")
            values[name] = raw[at:at + size]
            at += size
        if at != len(raw):
            raise StateError(f"{len(raw) - at} bytes follow the snapshot's last part")
        checked = _checked_header(header)
        h, w = checked["screen_shape"]
        if len(values["screen"]) != h * w * 3:
            raise StateError(f"the snapshot's screen has {len(values['screen'])} bytes, not {h}x{w} RGB")
        return cls(**values, **checked)

    # -- identity ----------------------------------------------------------------------

    @functools.cached_property
    def digest(self) -> str:
        """A content hash (SHA-256, hex): equal for equal games, in any process (bytes where a core's state
        holds host pointers, which differ between processes, do not count), different once a frame is played."""
        return hashlib.sha256(self._encode(profile_for(self.core).canonical_state(self.state))).hexdigest()

    def __repr__(self) -> str:
        return (f"<Snapshot {self.game} on {self.core}, frame {self.frame_count}, step {self.episode_steps}"
                f"{' (episode over)' if self.needs_reset else ''}, {self.digest[:12]}>")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked_header(header: Mapping[str, Any]) -> dict[str, Any]:
    """The header's values, each of the type its field has (``StateError`` naming the first that is not)."""
    kinds: dict[str, Any] = {
        "game": str, "core": str, "screen_shape": "shape", "frame_count": "count", "statename": (str, None),
        "power_on_reset": bool, "at_power_on": bool, "held": "masks", "episode_json": "json",
        "needs_reset": bool, "episode_steps": "count", "rngs_json": "json"}
    values: dict[str, Any] = {}
    for name, kind in kinds.items():
        if name not in header:
            raise StateError(f"the snapshot's header has no {name!r}")
        value = header[name]
        ok = {
            str: lambda v: isinstance(v, str),
            bool: lambda v: isinstance(v, bool),
            (str, None): lambda v: v is None or isinstance(v, str),
            "count": lambda v: _is_int(v) and 0 <= v < 1 << 63,
            "shape": lambda v: isinstance(v, list) and len(v) == 2 and all(_is_int(x) and 0 < x <= 8192 for x in v),
            "masks": lambda v: isinstance(v, list) and len(v) <= 8 and all(_is_int(x) and 0 <= x <= 0xFFFF
                                                                            for x in v),
            "json": lambda v: isinstance(v, str) and _is_object(v),
        }[kind](value)
        if not ok:
            raise StateError(f"the snapshot's {name!r} is not what a snapshot holds there: {value!r:.80}")
        values[name] = tuple(value) if kind in ("shape", "masks") else value
    return values


def _is_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False

"""Movies: ``.bk2`` input recordings (Gym Retro's and BizHawk's dialects) and FCEUX ``.fm2``.

``Movie(path)`` reads a movie; ``Movie(path, record=True, players=n)``
records one. The API is Gym Retro's (``step``, ``get_key``, ``set_key``,
``get_game``, ``get_state``, ``set_state``, ``players``, ``configure``,
``close``), with keyword defaults that Gym Retro lacked.

A ``.bk2`` is a zip. Gym Retro writes ``Input Log.txt``, ``Header.txt`` and,
when the movie starts from a save state, ``Core.bin`` (the raw state). Its
input log has no ``LogKey:`` and its columns are matched by character.
BizHawk writes ``LogKey:#Reset|Power|#P1 Up|...`` and positional columns,
may omit ``Core.bin`` (a power-on movie) and may zstd-compress it. Both are
read; Gym Retro's dialect is written by default (so stable-retro plays our
movies; a power-on movie gets an empty ``Core.bin``, without which
stable-retro cannot open it) and BizHawk's on request (``dialect="bizhawk"``). Console switches
(reset, power, and the Atari 2600's RESET) are recorded in the log's first
field rather than dropped.

Files are written atomically: a movie appears complete on ``close()`` (or
when the interpreter exits), never half-written.
"""

from __future__ import annotations

import hashlib
import logging
import lzma
import re
import os
import weakref
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterator, Sequence

import numpy as np

from retro._bk2 import parse_frames, write_frames
from retro._fileutil import atomic_writer, read_regular
from retro.errors import MovieFormatError
from retro.systems import SYSTEMS, SystemInfo, canonical_system

log = logging.getLogger(__name__)

__all__ = ["Movie", "MovieDigests", "DigestReport", "PLATFORMS", "CONSOLE_RESET", "CONSOLE_POWER", "DIGESTS_MEMBER"]

#: Console switch bits of a frame's first field.
CONSOLE_RESET = 0
"""Console switch bit of a frame's first field: the console's reset."""
CONSOLE_POWER = 1
"""Console switch bit of a frame's first field: power."""
CONSOLE_SELECT = 2  # BizHawk's Atari 2600 console Select
CONSOLE_DIFF_LEFT = 3
CONSOLE_DIFF_RIGHT = 4
CONSOLE_PAUSE = 5  # BizHawk's Master System console Pause

#: Buttons that BizHawk logs as console switches, per system: button -> console bit.
CONSOLE_BUTTONS = {
    "Atari2600": {"RESET": CONSOLE_RESET, "SELECT": CONSOLE_SELECT},
    "Sms": {"PAUSE": CONSOLE_PAUSE},
}

PLATFORMS = {
    "GEN": "Genesis", "SNES": "Snes", "NES": "Nes", "A26": "Atari2600",
    "SMS": "Sms", "GG": "GameGear", "GB": "GameBoy", "GBC": "GbColor", "GBA": "GbAdvance",
    "PCE": "PCEngine", "32X": "32x",
}
"""A ``.bk2`` header's ``Platform`` values and retro's system names."""
_GYM_PLATFORM = {"Genesis": "GEN", "Snes": "SNES", "Nes": "NES", "Atari2600": "A26"}
_BIZHAWK_PLATFORM = {v: k for k, v in PLATFORMS.items()}

#: Gym Retro's mnemonics: retro button name -> (log character, key-list name).
GYM_MNEMONICS = {
    "A": ("A", "A"), "B": ("B", "B"), "C": ("C", "C"), "X": ("X", "X"), "Y": ("Y", "Y"), "Z": ("Z", "Z"),
    "START": ("S", "Start"), "SELECT": ("s", "Select"), "MODE": ("M", "Mode"),
    "UP": ("U", "Up"), "DOWN": ("D", "Down"), "LEFT": ("L", "Left"), "RIGHT": ("R", "Right"),
    "L": ("l", "L"), "R": ("r", "R"),
}
_ATARI_MNEMONICS = {"BUTTON": ("B", "Button")}
#: Buttons Gym Retro has no character for (so it drops them); retro records
#: them with these, which Gym Retro's reader ignores.
RETRO_MNEMONICS = {
    "PAUSE": ("p", "Pause"), "RUN": ("n", "Run"), "RESET": ("e", "Reset"),
    "I": ("1", "I"), "II": ("2", "II"), "III": ("3", "III"), "IV": ("4", "IV"), "V": ("5", "V"), "VI": ("6", "VI"),
    "C-UP": ("u", "C-Up"), "C-RIGHT": ("g", "C-Right"), "C-MODE": ("m", "C-Mode"),
    "L2": ("k", "L2"), "R2": ("t", "R2"), "L3": ("i", "L3"), "R3": ("j", "R3"),
}

#: BizHawk control names -> retro button names, and BizHawk's mnemonics.
BIZHAWK_NAMES = {
    "Up": "UP", "Down": "DOWN", "Left": "LEFT", "Right": "RIGHT", "Start": "START", "Select": "SELECT",
    "Mode": "MODE", "A": "A", "B": "B", "C": "C", "X": "X", "Y": "Y", "Z": "Z", "L": "L", "R": "R",
    "Button": "BUTTON", "Run": "RUN", "I": "I", "II": "II", "III": "III", "IV": "IV", "V": "V", "VI": "VI",
    "Pause": "PAUSE",
}
BIZHAWK_MNEMONICS = {
    "Up": "U", "Down": "D", "Left": "L", "Right": "R", "Start": "S", "Select": "s", "Mode": "M",
    "L": "l", "R": "r", "Button": "B", "Power": "P", "Reset": "r", "Pause": "p", "Run": "R",
    "Toggle Left Difficulty": "l", "Toggle Right Difficulty": "r",
    "I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6",
}
_BIZHAWK_CONSOLE = {"Reset": CONSOLE_RESET, "Power": CONSOLE_POWER, "Select": CONSOLE_SELECT,
                    "Toggle Left Difficulty": CONSOLE_DIFF_LEFT, "Toggle Right Difficulty": CONSOLE_DIFF_RIGHT,
                    "Pause": CONSOLE_PAUSE}
#: BizHawk's controller layouts: (console group, per-player buttons), from its core definitions.
BIZHAWK_LAYOUTS = {
    "Genesis": (["Power", "Reset"], ["Up", "Down", "Left", "Right", "A", "B", "C", "Start", "X", "Y", "Z", "Mode"]),
    "Nes": (["Reset", "Power"], ["Up", "Down", "Left", "Right", "Start", "Select", "B", "A"]),
    "Snes": (["Reset", "Power"], ["Up", "Down", "Left", "Right", "Select", "Start", "Y", "B", "X", "A", "L", "R"]),
    "Atari2600": (["Reset", "Select", "Power", "Toggle Left Difficulty", "Toggle Right Difficulty"],
                  ["Up", "Down", "Left", "Right", "Button"]),
    "GameBoy": (["Power"], ["Up", "Down", "Left", "Right", "Start", "Select", "B", "A"]),
    "GbColor": (["Power"], ["Up", "Down", "Left", "Right", "Start", "Select", "B", "A"]),
    "GbAdvance": (["Power"], ["Up", "Down", "Left", "Right", "Start", "Select", "B", "A", "L", "R"]),
    "Sms": (["Reset", "Pause"], ["Up", "Down", "Left", "Right", "B", "A"]),
    "GameGear": (["Reset"], ["Up", "Down", "Left", "Right", "B", "A", "Start"]),
    "PCEngine": (["Reset", "Power"],
                 ["Up", "Down", "Left", "Right", "I", "II", "III", "IV", "V", "VI", "Select", "Run"]),
    "32x": (["Power", "Reset"], ["Up", "Down", "Left", "Right", "A", "B", "C", "Start", "X", "Y", "Z", "Mode"]),
}
#: FCEUX's .fm2 port columns.
FM2_COLUMNS = ["RIGHT", "LEFT", "DOWN", "UP", "START", "SELECT", "B", "A"]

#: Limits that keep a hostile file from exhausting memory.
MAX_LOG_BYTES = 64 << 20
MAX_STATE_BYTES = 64 << 20
MAX_HEADER_BYTES = 1 << 20
#: The zip member that holds a movie's digests (readers that do not know it, Gym Retro's, stable-retro's and
#: BizHawk's, leave it alone).
DIGESTS_MEMBER = "RetroDigests.bin"
"""The zip member of a ``.bk2`` that holds the game's digests (:class:`MovieDigests`); other readers ignore it."""
_DIGESTS_MAGIC = b"RETRODG\x01"
MAX_DIGESTS_BYTES = 256 << 20


@dataclass(frozen=True)
class MovieDigests:
    """What a movie recorded here says its game did, frame by frame (``retro verify`` checks a replay against it).

    ``frames``, ``uint64[n, 2]``: per frame of the movie, the hash of the
    system RAM after it and one bit per 64th of the RAM (the low bit of that
    part's hash, so the bits that differ name parts that differ).
    ``pictures``, ``uint64[m, 2]``: the frame index and the hash of the
    picture at the end of each recorded step.
    """

    frames: np.ndarray
    pictures: np.ndarray

    def to_bytes(self) -> bytes:
        """The ``RetroDigests.bin`` member: a magic, the two counts, then both tables as little-endian uint64."""
        frames = np.ascontiguousarray(self.frames, "<u8").reshape(-1, 2)
        pictures = np.ascontiguousarray(self.pictures, "<u8").reshape(-1, 2)
        return b"".join([_DIGESTS_MAGIC, np.array([len(frames), len(pictures)], "<u8").tobytes(),
                         frames.tobytes(), pictures.tobytes()])

    @classmethod
    def from_bytes(cls, data: bytes, path: str = "movie") -> "MovieDigests":
        """Read what :meth:`to_bytes` wrote; ``MovieFormatError`` (naming ``path``) for anything else."""
        if not data.startswith(_DIGESTS_MAGIC) or len(data) < len(_DIGESTS_MAGIC) + 16:
            raise MovieFormatError(f"{path}: {DIGESTS_MEMBER} is not a digest record retro wrote")
        n, m = (int(x) for x in np.frombuffer(data, "<u8", 2, len(_DIGESTS_MAGIC)))
        at = len(_DIGESTS_MAGIC) + 16
        if len(data) != at + 16 * (n + m):
            raise MovieFormatError(f"{path}: {DIGESTS_MEMBER} claims {n} frames and {m} pictures but holds "
                                   f"{len(data) - at} bytes of them")
        frames = np.frombuffer(data, "<u8", 2 * n, at).reshape(n, 2).astype(np.uint64)
        pictures = np.frombuffer(data, "<u8", 2 * m, at + 16 * n).reshape(m, 2).astype(np.uint64)
        index = pictures[:, 0]
        if m and (int(index.max()) >= n or (np.diff(index.astype(np.int64)) <= 0).any()):
            raise MovieFormatError(f"{path}: {DIGESTS_MEMBER} has pictures of frames it does not have")
        return cls(frames, pictures)

    def check(self, replayed: "MovieDigests", ram_size: int) -> "DigestReport":
        """How a replay's digests (one per frame, a picture every frame) compare with these, the recording's;
        ``ram_size`` is the system RAM's size, to name the parts of it that differ."""
        n = len(self.frames)
        played = min(n, len(replayed.frames))
        mine, theirs = self.frames[:played], replayed.frames[:played]
        ram_bad = np.flatnonzero((mine != theirs).any(axis=1))
        shown = {int(f): int(h) for f, h in replayed.pictures}
        recorded = {int(f): int(h) for f, h in self.pictures}
        picture_bad = [f for f, h in recorded.items() if f < played and shown.get(f, h) != h]
        firsts = [int(ram_bad[0])] if ram_bad.size else []
        firsts += picture_bad[:1]
        if not firsts:
            return DigestReport(n, played, None)
        at = min(firsts)
        ranges: list[tuple[int, int]] = []
        ram = bool((mine[at] != theirs[at]).any())
        if ram:
            chunk = -(-max(ram_size, 1) // 64)
            bits = int(mine[at, 1]) ^ int(theirs[at, 1])
            for c in range(64):
                if bits >> c & 1 and c * chunk < ram_size:
                    start, end = c * chunk, min((c + 1) * chunk, ram_size) - 1
                    if ranges and ranges[-1][1] + 1 == start:
                        start = ranges.pop()[0]  # next to the one before: one range
                    ranges.append((start, end))
        picture = at in recorded and shown.get(at, recorded[at]) != recorded[at]
        return DigestReport(n, played, at, ram, ranges, picture)


@dataclass(frozen=True)
class DigestReport:
    """A replay checked against a movie's digests: identical, or the first frame where the game differs."""

    #: Frames the movie has.
    frames: int
    #: Frames the replay played (of those).
    played: int
    #: The first frame (0: the one the recording's reset played) where the game differs; None if none does.
    first: int | None
    #: Whether the RAM differs there.
    ram: bool = False
    #: Where in the system RAM it differs (inclusive offsets; the parts the digests can name, at least these).
    ram_ranges: list[tuple[int, int]] | None = None
    #: Whether the picture differs there.
    picture: bool = False

    @property
    def identical(self) -> bool:
        """Whether the replay played every frame of the movie and the game did what it did when recorded."""
        return self.first is None and self.played == self.frames

    def __str__(self) -> str:
        if self.first is None:
            if self.played < self.frames:
                return f"the replay ended after {self.played} of the movie's {self.frames} frames"
            return f"identical over {self.frames} frames"
        what = []
        if self.ram:
            where = ", ".join(f"0x{a:04x}-0x{b:04x}" for a, b in self.ram_ranges or [])
            what.append(f"the RAM (system RAM offsets {where})" if where else "the RAM")
        if self.picture:
            what.append("the picture")
        return f"frame {self.first} of {self.frames} differs: {' and '.join(what) or 'the game'}"
MAX_PLAYERS = 8
#: Most frames a movie may hold (19 hours at 60 frames a second).
MAX_FRAMES = 1 << 22
#: Most fields (console, players) and controls per field a BizHawk ``LogKey`` may name.
MAX_LOG_FIELDS = 2 * MAX_PLAYERS
MAX_FIELD_CONTROLS = 64
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _gym_mnemonics(info: SystemInfo) -> dict[int, tuple[str, str]]:
    table = dict(GYM_MNEMONICS)
    table.update(RETRO_MNEMONICS)
    if info.name == "Atari2600":
        table.update(_ATARI_MNEMONICS)
    return {i: table[name] for i, name in enumerate(info.buttons) if name in table}


@dataclass
class _Layout:
    """How a log's fields map to console bits and button indexes."""

    system: str
    players: int
    charmaps: np.ndarray  # uint16[fields, 256]
    columns: np.ndarray  # int16[fields, max columns]
    positional: np.ndarray  # uint8[fields]
    roles: list[int]  # per field: -1 console, else player index


#: What reading a damaged zip member raises: bad headers, CRC or inflate errors, encrypted members,
#: compression methods zipfile lacks.
_ZIP_READ_ERRORS = (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError, RuntimeError,
                    zlib.error, lzma.LZMAError)


def _read_member(zf: zipfile.ZipFile, name: str, limit: int, path: str) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise MovieFormatError(f"{path}: the movie has no {name!r} member") from None
    if info.file_size > limit:
        raise MovieFormatError(f"{path}: {name} claims {info.file_size} bytes, more than the {limit} allowed")
    try:
        with zf.open(info) as f:
            data = f.read(limit + 1)
    except _ZIP_READ_ERRORS as e:
        raise MovieFormatError(f"{path}: {name} cannot be read: {e}") from e
    if len(data) > limit:
        raise MovieFormatError(f"{path}: {name} is larger than the {limit} bytes allowed")
    return data


def _decode_state(data: bytes, path: str) -> bytes:
    """A ``Core.bin``'s state: zstd data decompressed (at most :data:`MAX_STATE_BYTES`), else as is.

    The size a zstd frame header claims is never trusted for an allocation:
    the data is streamed, and reading stops one byte past the limit.
    """
    if not data.startswith(ZSTD_MAGIC):
        return data
    try:
        import zstandard
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise MovieFormatError(f"{path}: Core.bin is zstd-compressed; pip install zstandard") from e
    try:
        claimed = zstandard.frame_content_size(data)
        if claimed > MAX_STATE_BYTES:
            raise MovieFormatError(f"{path}: Core.bin claims a {claimed}-byte state, more than the "
                                   f"{MAX_STATE_BYTES} allowed")
        with zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True) as reader:
            state = reader.read(MAX_STATE_BYTES + 1)
            while len(state) <= MAX_STATE_BYTES:
                more = reader.read(MAX_STATE_BYTES + 1 - len(state))
                if not more:
                    break
                state += more
    except zstandard.ZstdError as e:
        raise MovieFormatError(f"{path}: Core.bin is corrupt zstd data: {e}") from e
    if len(state) > MAX_STATE_BYTES:
        raise MovieFormatError(f"{path}: Core.bin decompresses to more than the {MAX_STATE_BYTES} bytes allowed")
    return state


def _encode_state(state: bytes) -> bytes:
    """``Core.bin`` bytes for a state: raw, as Gym Retro writes, unless that would read back as zstd.

    A reader takes a ``Core.bin`` that starts with the zstd magic for a
    compressed state (BizHawk compresses them), so a state whose own bytes
    start with the magic is stored compressed; it then reads back exactly.
    """
    if not state.startswith(ZSTD_MAGIC):
        return state
    import zstandard

    return zstandard.ZstdCompressor(write_content_size=True).compress(state)


class Movie:
    """A movie being read (``record=False``) or recorded (``record=True``).

    ``Movie(path)`` makes a :class:`MovieReader` and ``Movie(path, record=True,
    players=n)`` a :class:`MovieWriter`: two classes behind Gym Retro's one
    ``Movie`` API. Reading loads the whole input log at once (a fast Cython
    parser); ``step()`` moves to the next frame and returns False at the end;
    ``get_key(button, player)`` tells whether a button is held on the current
    frame. Recording: ``configure(game, emulator)``, then per frame
    ``set_key(...)`` and ``step()`` (or ``append_frame(masks)``); ``close()``
    writes the file.
    """

    #: Makes the HTML a movie being read shows as in Jupyter. Rendering plays the movie, which takes layers
    #: above this module: :mod:`retro.notebook` sets it when imported (``retro.notebook.movie``'s video).
    _html_renderer: ClassVar[Callable[["Movie"], str] | None] = None

    def __new__(cls, *args: Any, **kwargs: Any) -> "Movie":
        if cls is __class__:  # type: ignore[name-defined]  # this class, even where its module name is patched
            record = args[1] if len(args) > 1 else kwargs.get("record", False)
            cls = MovieWriter if record else MovieReader
        return super().__new__(cls)

    def __init__(self, path: str | os.PathLike[str], record: bool = False, players: int = 1,
                 *, dialect: str = "gym") -> None:
        if bool(record) != isinstance(self, MovieWriter):
            raise ValueError(f"{type(self).__name__} is for {'reading' if record else 'recording'}; "
                             f"Movie(path, record={bool(record)}) makes the class that does")
        self.path = os.fspath(path)
        self._players = int(players)
        self._game = "?"
        self._state = b""
        self._system: str | None = None
        self._sha1 = "?"
        self._closed = False
        self._header: dict[str, str] = {}
        if dialect not in ("gym", "bizhawk"):
            raise ValueError(f"dialect must be 'gym' or 'bizhawk', got {dialect!r}")
        self.dialect = dialect

    @property
    def players(self) -> int:
        """Number of players the movie has."""
        return self._players

    @property
    def system(self) -> str | None:
        """retro's system name of the movie's platform."""
        return self._system

    @property
    def header(self) -> dict[str, str]:
        """The movie's ``Header.txt`` fields (a copy)."""
        return dict(self._header)

    @property
    def recording(self) -> bool:
        """Whether the movie is being recorded (a :class:`MovieWriter`)."""
        return False

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def frames(self) -> np.ndarray:
        """All frames, ``uint16[n, 1 + players]``: console switches, then each player's buttons."""
        raise NotImplementedError

    @property
    def digests(self) -> MovieDigests | None:
        """Reading: the game's digests recorded with the movie (:class:`MovieDigests`), None if it has none."""
        return None

    def get_game(self) -> str:
        """The game the movie plays (its ``GameName``; ``"?"`` if it names none)."""
        return self._game

    def get_state(self) -> bytes:
        """The save state the movie starts from (empty for a power-on movie)."""
        return self._state

    def set_state(self, state: bytes) -> None:
        """Recording: the save state the movie starts from (empty: power-on)."""
        self._state = bytes(state)

    def configure(self, game_name: str, emulator: Any) -> None:
        """Recording: name the game and take the system (key map, platform) from the emulator."""
        system = emulator.system
        if system not in SYSTEMS:
            raise MovieFormatError(f"cannot record a movie of system {system!r}")
        if self.dialect == "bizhawk" and system not in BIZHAWK_LAYOUTS:
            raise MovieFormatError(
                f"no BizHawk controller layout is known for {system}; record its movies in "
                f"Gym Retro's dialect (dialect='gym')")
        self._game = game_name
        self._system = system
        try:
            with open(emulator.rom_path, "rb") as f:
                self._sha1 = hashlib.sha1(f.read()).hexdigest()
        except OSError:
            self._sha1 = "?"

    def step(self) -> bool:
        """Reading: go to the next frame (False at the end). Recording: write this frame's keys."""
        raise NotImplementedError

    def get_key(self, key: int, player: int = 0) -> bool:
        """Whether button ``key`` (its index in the system's buttons) is held by ``player``."""
        raise NotImplementedError

    def get_console(self) -> int:
        """Console switch bits of the current frame (reset, power, ...)."""
        raise NotImplementedError

    def masks(self) -> list[int]:
        """The current frame's button mask per player."""
        raise NotImplementedError

    def actions(self, buttons: int) -> Iterator[tuple[np.ndarray, int]]:
        """The frames left to play, stepping the movie, each as ``(keys, switches)``: the held buttons as an
        env's MultiBinary action (``buttons`` per player, players in order, ``uint8`` 0/1) and the console
        switches to work before the frame (``RetroEnv.session.console``)."""
        bits = np.arange(buttons)
        while self.step():
            keys = np.zeros(buttons * self.players, np.uint8)
            for p, mask in enumerate(self.masks()):
                keys[p * buttons:(p + 1) * buttons] = (mask >> bits) & 1
            yield keys, self.get_console()

    def set_key(self, key: int, value: bool, player: int = 0) -> None:
        """Recording: hold or release button ``key`` of ``player`` on this frame."""
        raise MovieFormatError("set_key() is for movies being recorded")

    def set_console(self, bits: int) -> None:
        """Recording: the console switch bits of this frame (:data:`CONSOLE_RESET`, ...)."""
        raise MovieFormatError("set_console() is for movies being recorded")

    def append_frame(self, masks: Sequence[int], console: int = 0) -> None:
        """Recording: one frame of per-player button masks (bit ``i`` is button ``i``) and console switch bits.

        The same as :meth:`set_key` for every button, :meth:`set_console` and :meth:`step`, in one call.
        """
        raise MovieFormatError("append_frame() is for movies being recorded")

    def _check_player(self, player: int) -> None:
        if not 0 <= player < self._players:
            raise IndexError(f"player {player} out of range: the movie has {self._players}")

    def close(self) -> None:
        """Recording: write the file (atomically). Reading: nothing to do."""
        self._closed = True

    def __enter__(self) -> "Movie":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _repr_html_(self) -> str | None:
        """In Jupyter, a movie being read shows as ``_html_renderer`` makes it (a video, once ``retro.notebook``
        is imported); a movie being recorded, or with no renderer, as its ``repr``."""
        render = Movie._html_renderer
        if self.recording or render is None:
            return None
        return render(self)

    def __repr__(self) -> str:
        mode = "recording" if self.recording else "reading"
        return f"<Movie {self.path} {mode}, {self._system or '?'}, {self._players} player(s), {len(self)} frames>"


class MovieReader(Movie):
    """A ``.bk2`` or ``.fm2`` movie read whole at construction (``Movie(path)`` makes one)."""

    def __init__(self, path: str | os.PathLike[str], record: bool = False, players: int = 1,
                 *, dialect: str = "gym") -> None:
        super().__init__(path, record, players, dialect=dialect)
        self._index = -1
        self._digest_bytes: bytes | None = None
        self._load()

    @property
    def digests(self) -> MovieDigests | None:
        """The game's digests recorded with the movie (:class:`MovieDigests`), None if it has none;
        ``MovieFormatError`` if they are malformed."""
        if self._digest_bytes is None:
            return None
        return MovieDigests.from_bytes(self._digest_bytes, self.path)

    # -- reading ------------------------------------------------------------------

    def _load(self) -> None:
        ext = os.path.splitext(self.path)[1].lower()
        if not os.path.exists(self.path):
            raise MovieFormatError(f"Could not load movie: {self.path} does not exist")
        if not os.path.isfile(self.path):
            raise MovieFormatError(f"Could not load movie: {self.path} is not a regular file")
        if ext == ".bk2":
            self._load_bk2()
        elif ext == ".fm2":
            self._load_fm2()
        else:
            raise MovieFormatError(
                f"Could not load movie: {self.path} is neither a .bk2 nor an .fm2 file")

    def _load_bk2(self) -> None:
        try:
            zf = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise MovieFormatError(f"Could not load movie: {self.path} is not a valid zip: {e}") from e
        with zf:
            header_text = _read_member(zf, "Header.txt", MAX_HEADER_BYTES, self.path)
            log = _read_member(zf, "Input Log.txt", MAX_LOG_BYTES, self.path)
            if "Core.bin" in zf.namelist():
                self._state = _decode_state(_read_member(zf, "Core.bin", MAX_STATE_BYTES, self.path), self.path)
            if DIGESTS_MEMBER in zf.namelist():
                self._digest_bytes = _read_member(zf, DIGESTS_MEMBER, MAX_DIGESTS_BYTES, self.path)
        for line in header_text.decode("utf-8", "replace").splitlines():
            key, _, value = line.strip().partition(" ")
            if key and key not in self._header:
                self._header[key] = value
        platform = self._header.get("Platform", "")
        system = canonical_system(PLATFORMS.get(platform, platform))
        if system not in SYSTEMS:
            raise MovieFormatError(
                f"{self.path}: unsupported Platform {platform!r} (retro plays {sorted(SYSTEMS)})")
        self._system = system
        self._game = self._header.get("GameName", "?") or "?"
        self._frames = self._parse_bk2_log(log, SYSTEMS[system])

    def _parse_bk2_log(self, log: bytes, info: SystemInfo) -> np.ndarray:
        start = log.find(b"[Input]")
        if start < 0:
            raise MovieFormatError(f"{self.path}: Input Log.txt has no [Input] section")
        pos = log.find(b"\n", start)
        if pos < 0:
            raise MovieFormatError(f"{self.path}: Input Log.txt ends after [Input]")
        key_end = log.find(b"\n", pos + 1)
        key_end = len(log) if key_end < 0 else key_end
        key_line = log[pos + 1:key_end].decode("utf-8", "replace").strip()
        if key_line.startswith("LogKey:"):
            layout = self._bizhawk_layout(key_line[len("LogKey:"):], info)
            body = key_end + 1
        elif re.match(r"P\d+ ", key_line) or key_line.startswith("|"):
            layout = self._gym_layout(key_line, info)
            body = key_end + 1 if not key_line.startswith("|") else pos + 1
        else:
            raise MovieFormatError(f"{self.path}: Input Log.txt has no key line after [Input]: {key_line[:80]!r}")
        raw = self._parse_frames(log, body, layout)
        return self._to_frames(raw, layout, info)

    def _parse_frames(self, log: bytes, body: int, layout: _Layout) -> np.ndarray:
        try:
            raw, _ = parse_frames(np.frombuffer(log, dtype=np.uint8), body, len(layout.roles), layout.charmaps,
                                  layout.columns, layout.positional, MAX_FRAMES)
        except ValueError as e:
            raise MovieFormatError(f"{self.path}: {e}") from e
        return raw

    def _to_frames(self, raw: np.ndarray, layout: _Layout, info: SystemInfo) -> np.ndarray:
        """Fields in file order -> [console, player 1, player 2, ...]."""
        self._players = layout.players
        frames = np.zeros((len(raw), layout.players + 1), dtype=np.uint16)
        for f, role in enumerate(layout.roles):
            frames[:, role + 1] |= raw[:, f]
        for name, bit in CONSOLE_BUTTONS.get(info.name, {}).items():
            # a console switch in the log, a button of player 1 to the core
            index = info.buttons.index(name)
            pressed = (frames[:, 0] >> bit) & 1
            frames[:, 1] |= (pressed << index).astype(np.uint16)
            frames[:, 0] &= ~np.uint16(1 << bit)
        return frames

    def _gym_layout(self, key_line: str, info: SystemInfo) -> _Layout:
        players = 0
        for token in key_line.split("|"):
            token = token.strip()
            if token.startswith("P") and len(token) > 1:
                digits = token[1:].split(" ", 1)[0]
                if digits.isdigit():
                    players = max(players, int(digits))
        if not 1 <= players <= MAX_PLAYERS:
            raise MovieFormatError(f"{self.path}: the key line names {players} players: {key_line[:80]!r}")
        fields = players + 1
        charmaps = np.zeros((fields, 256), dtype=np.uint16)
        for index, (char, _) in _gym_mnemonics(info).items():
            charmaps[1:, ord(char)] |= 1 << index
        charmaps[0, ord("r")] = 1 << CONSOLE_RESET
        charmaps[0, ord("P")] = 1 << CONSOLE_POWER
        return _Layout(info.name, players, charmaps, np.full((fields, 1), -1, np.int16),
                       np.zeros(fields, np.uint8), [-1] + list(range(players)))

    def _bizhawk_layout(self, spec: str, info: SystemInfo) -> _Layout:
        groups = [g for g in spec.split("#") if g.strip("|")]
        if not groups:
            raise MovieFormatError(f"{self.path}: empty LogKey")
        if len(groups) > MAX_LOG_FIELDS:
            raise MovieFormatError(f"{self.path}: the LogKey names {len(groups)} fields, more than the "
                                   f"{MAX_LOG_FIELDS} allowed")
        names = {name: i for i, name in enumerate(info.buttons) if name}
        roles: list[int] = []
        columns: list[list[int]] = []
        players = 0
        for group in groups:
            controls = [c for c in group.split("|") if c]
            if len(controls) > MAX_FIELD_CONTROLS:
                raise MovieFormatError(f"{self.path}: a LogKey field names {len(controls)} controls, more than "
                                       f"the {MAX_FIELD_CONTROLS} allowed")
            player = None
            cols = []
            for control in controls:
                head, _, rest = control.partition(" ")
                if head[:1] == "P" and head[1:].isdigit() and rest:
                    player = int(head[1:]) - 1
                    retro_name = BIZHAWK_NAMES.get(rest)
                    cols.append(names.get(retro_name, -1) if retro_name else -1)
                else:
                    cols.append(_BIZHAWK_CONSOLE.get(control, -1))
            if player is None:
                roles.append(-1)
            else:
                if not 0 <= player < MAX_PLAYERS:
                    raise MovieFormatError(f"{self.path}: LogKey names player {player + 1}")
                roles.append(player)
                players = max(players, player + 1)
            columns.append(cols)
        if players == 0:
            raise MovieFormatError(f"{self.path}: the LogKey names no player controls")
        width = max(len(c) for c in columns)
        table = np.full((len(columns), width), -1, dtype=np.int16)
        for f, cols in enumerate(columns):
            table[f, : len(cols)] = cols
        return _Layout(info.name, players, np.zeros((len(columns), 256), np.uint16), table,
                       np.ones(len(columns), np.uint8), roles)

    def _load_fm2(self) -> None:
        try:
            text = read_regular(self.path, MAX_LOG_BYTES)
        except OSError as e:
            raise MovieFormatError(f"Could not load movie: {self.path}: {e.strerror or e}") from e
        first = text.split(b"\n", 1)[0].strip()
        if first != b"version 3":
            raise MovieFormatError(f"{self.path}: an .fm2 movie starts with 'version 3', not {first[:40]!r}")
        header = {}
        body = text.find(b"\n|")
        for line in text[: body if body >= 0 else len(text)].decode("utf-8", "replace").splitlines():
            key, _, value = line.strip().partition(" ")
            header[key] = value
        self._header = header
        self._system = "Nes"
        self._game = "?"
        info = SYSTEMS["Nes"]
        players = 2 if header.get("port1", "0").strip() == "1" else 1
        fields = 4
        charmaps = np.zeros((fields, 256), dtype=np.uint16)
        charmaps[0, ord("1")] = 1 << CONSOLE_RESET
        charmaps[0, ord("2")] = 1 << CONSOLE_POWER
        charmaps[0, ord("3")] = (1 << CONSOLE_RESET) | (1 << CONSOLE_POWER)
        cols = [info.buttons.index(name) for name in FM2_COLUMNS]
        table = np.full((fields, 8), -1, dtype=np.int16)
        table[1, :] = cols
        table[2, :] = cols
        positional = np.array([0, 1, 1, 1], dtype=np.uint8)
        raw = self._parse_frames(text, max(body, 0), _Layout("Nes", players, charmaps, table, positional,
                                                             [-1, 0, 1, -1]))
        self._players = players
        frames = np.zeros((len(raw), players + 1), dtype=np.uint16)
        frames[:, 0] = raw[:, 0]
        for p in range(players):
            frames[:, p + 1] = raw[:, p + 1]
        self._frames = frames

    @property
    def frames(self) -> np.ndarray:
        """All frames, ``uint16[n, 1 + players]``: console switches, then each player's buttons."""
        return self._frames

    def step(self) -> bool:
        """Go to the next frame; False at the end."""
        if self._index + 1 >= len(self._frames):
            self._index = len(self._frames)
            return False
        self._index += 1
        return True

    def get_key(self, key: int, player: int = 0) -> bool:
        """Whether button ``key`` (its index in the system's buttons) is held by ``player`` on this frame."""
        self._check_player(player)
        if not 0 <= self._index < len(self._frames):
            return False
        return bool(self._frames[self._index, player + 1] >> key & 1)

    def get_console(self) -> int:
        """Console switch bits of the current frame (reset, power, ...)."""
        return int(self._frames[self._index, 0]) if 0 <= self._index < len(self._frames) else 0

    def masks(self) -> list[int]:
        """The current frame's button mask per player."""
        if not 0 <= self._index < len(self._frames):
            return [0] * self._players
        return [int(m) for m in self._frames[self._index, 1:]]


class _Recording:
    """What a movie being recorded writes: everything but the ``Movie`` object, so that its one finaliser
    (on ``close()``, when the movie is collected, or at interpreter exit) holds no reference to the movie."""

    def __init__(self, path: str, dialect: str, players: int) -> None:
        self.path, self.dialect, self.players = path, dialect, players
        self.game, self.state, self.system, self.sha1 = "?", b"", None, "?"
        self.rows: list[tuple[int, ...]] = []
        self.digests: MovieDigests | None = None
        self.error: BaseException | None = None

    def finish(self) -> None:
        """Write the file; an error is kept for ``close()`` to raise (a collected movie has no caller)."""
        try:
            self.write()
        except BaseException as e:  # noqa: BLE001 - handed to close(), or lost with a movie never closed
            self.error = e

    def frames(self) -> np.ndarray:
        return np.array(self.rows, dtype=np.uint16).reshape(-1, self.players + 1)

    def write(self) -> None:
        if self.system is None:
            raise MovieFormatError(f"{self.path}: call configure(game, emulator) before recording")
        info = SYSTEMS[self.system]
        frames = self.frames()
        if self.dialect == "gym":
            members = self._gym_members(info, frames)
        else:
            members = self._bizhawk_members(info, frames)
        if self.digests is not None:
            if len(self.digests.frames) == len(frames):
                members.append((DIGESTS_MEMBER, self.digests.to_bytes()))
            else:  # they would not describe this movie's frames
                log.warning("%s: %d digests for %d frames; the movie is written without them", self.path,
                            len(self.digests.frames), len(frames))
        with atomic_writer(self.path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in members:
                zf.writestr(name, data)

    def _gym_members(self, info: SystemInfo, frames: np.ndarray) -> list[tuple[str, bytes]]:
        mnemonics = _gym_mnemonics(info)
        order = sorted(mnemonics, reverse=True)  # Gym Retro's column order: descending button index
        key_line = "".join(f"P{p + 1} {mnemonics[i][1]}|" for p in range(self.players) for i in order)
        layout = [[(CONSOLE_RESET, "r"), (CONSOLE_POWER, "P")]]
        layout += [[(i, mnemonics[i][0]) for i in order] for _ in range(self.players)]
        body = write_frames(np.ascontiguousarray(frames), layout)
        log = b"[Input]\n" + key_line.encode() + b"\n" + body + b"[/Input]"
        header = "".join(f"{k} {v}\n" for k, v in [
            ("MovieVersion", "Retro"), ("Author", "?"), ("emuVersion", "?"),
            ("Platform", _GYM_PLATFORM.get(info.name, info.name)), ("GameName", self.game),
            ("SHA1", self.sha1), ("Core", "?"), ("rerecordCount", "1")])
        # always a Core.bin, empty for a power-on movie: Gym Retro's and stable-retro's readers refuse a
        # movie without one (though their writers leave it out then), so this keeps ours playable there
        return [("Input Log.txt", log), ("Header.txt", header.encode()), ("Core.bin", _encode_state(self.state))]

    def _bizhawk_members(self, info: SystemInfo, frames: np.ndarray) -> list[tuple[str, bytes]]:
        console, buttons = BIZHAWK_LAYOUTS[info.name]
        names = {name: i for i, name in enumerate(info.buttons) if name}
        frames = frames.copy()
        for name, bit in CONSOLE_BUTTONS.get(info.name, {}).items():
            # player 1's press is the console switch; BizHawk has no such button for others
            index = info.buttons.index(name)
            frames[:, 0] |= (((frames[:, 1] >> index) & 1) << bit).astype(np.uint16)
            frames[:, 1:] &= ~np.uint16(1 << index)
        key = "LogKey:#" + "".join(f"{c}|" for c in console)
        key += "".join("#" + "".join(f"P{p + 1} {b}|" for b in buttons) for p in range(self.players))
        layout = [[(_BIZHAWK_CONSOLE.get(c, -1), BIZHAWK_MNEMONICS.get(c, c[0])) for c in console]]
        player_cols = [(names.get(BIZHAWK_NAMES[b], -1), BIZHAWK_MNEMONICS.get(b, b[0])) for b in buttons]
        layout += [player_cols for _ in range(self.players)]
        body = write_frames(np.ascontiguousarray(frames), layout, crlf=True)
        log = b"[Input]\r\n" + key.encode() + b"\r\n" + body + b"[/Input]\r\n"
        platform = _BIZHAWK_PLATFORM.get(info.name, info.name)
        lines = [("MovieVersion", "BizHawk v2.0.0"), ("emuVersion", "retro"), ("Platform", platform),
                 ("GameName", self.game), ("Author", "retro"), ("rerecordCount", "0"),
                 ("SHA1", self.sha1), ("Core", info.lib)]
        if self.state:
            lines.append(("StartsFromSavestate", "True"))
        header = "".join(f"{k} {v}\r\n" for k, v in lines)
        members = [("Header.txt", header.encode()), ("Input Log.txt", log), ("Comments.txt", b""),
                   ("Subtitles.txt", b""), ("SyncSettings.json", b"{}\r\n")]
        if self.state:
            members.append(("Core.bin", _encode_state(self.state)))
        return members


class MovieWriter(Movie):
    """A movie being recorded (``Movie(path, record=True, players=n)`` makes one); ``close()`` writes it."""

    def __init__(self, path: str | os.PathLike[str], record: bool = True, players: int = 1,
                 *, dialect: str = "gym") -> None:
        if not 1 <= int(players) <= MAX_PLAYERS:
            raise ValueError(f"players must be 1..{MAX_PLAYERS}, got {players}")
        self._out = _Recording(os.fspath(path), dialect, int(players))
        super().__init__(path, record, players, dialect=dialect)
        self._keys = [0] * (self._players + 1)
        self._finalizer = weakref.finalize(self, self._out.finish)

    # what is written lives in the recording, which the finaliser holds
    _game = property(lambda self: self._out.game, lambda self, v: setattr(self._out, "game", v))
    _state = property(lambda self: self._out.state, lambda self, v: setattr(self._out, "state", v))
    _system = property(lambda self: self._out.system, lambda self, v: setattr(self._out, "system", v))
    _sha1 = property(lambda self: self._out.sha1, lambda self, v: setattr(self._out, "sha1", v))

    @property
    def recording(self) -> bool:
        return True

    @property
    def frames(self) -> np.ndarray:
        """The frames recorded so far, ``uint16[n, 1 + players]``."""
        return self._out.frames()

    def __len__(self) -> int:
        return len(self._out.rows)

    def step(self) -> bool:
        """Write this frame's keys and start the next frame; True."""
        self._out.rows.append(tuple(self._keys))
        self._keys = [0] * (self._players + 1)
        return True

    def get_key(self, key: int, player: int = 0) -> bool:
        """Whether button ``key`` of ``player`` is held on the frame being recorded."""
        self._check_player(player)
        return bool(self._keys[player + 1] >> key & 1)

    def get_console(self) -> int:
        """Console switch bits of the frame being recorded."""
        return self._keys[0]

    def masks(self) -> list[int]:
        """The button mask per player of the frame being recorded."""
        return list(self._keys[1:])

    def set_key(self, key: int, value: bool, player: int = 0) -> None:
        self._check_player(player)
        if value:
            self._keys[player + 1] |= 1 << key
        else:
            self._keys[player + 1] &= ~(1 << key)

    def set_console(self, bits: int) -> None:
        self._keys[0] = bits

    def append_frame(self, masks: Sequence[int], console: int = 0) -> None:
        self._out.rows.append((console, *masks))

    def set_digests(self, digests: MovieDigests) -> None:
        """The game's digests for the frames recorded (written with the movie if there is one per frame)."""
        self._out.digests = digests

    def close(self) -> None:
        """Write the file (atomically), once; raises what writing it raised."""
        if self._closed:
            return
        self._closed = True
        self._finalizer()
        error, self._out.error = self._out.error, None
        if error is not None:
            raise error

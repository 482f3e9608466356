"""One game played in Retro Studio: a :class:`~retro.session.GameSession` on its own thread.

:class:`StudioGame` runs the emulation loop at the game's native frame rate
(the core's screen rate) times a speed, on a thread of its own (the
emulator releases the GIL while it steps), and does everything the page
asks between two frames, on that same thread: nothing else touches the
session, so no request can tear a frame or a search. Everything it reads and
writes goes through the library's own code: the session's step path and
recorder, :class:`~retro.data.GameData` for variables, rewards and done,
:class:`~retro.data.Search` for RAM search, :class:`~retro.Movie` for movies,
:func:`~retro.scripts.playback_movie.playback_movie` for video, and a
:class:`~retro.studio.workspace.Workspace` for every file.

Frames are handed to ``publish`` as bytes: a 20-byte little-endian header
(``kind=1, flags, width, height, 0, frame number: u32, reward: f32, total
reward: f32``; flags: 1 done, 2 paused, 4 recording, 8 playing a movie) and
the picture as RGB rows. Status (variables, search candidates, movie
position) goes to ``notify`` as dicts, about ten times a second.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import queue
import re
import struct
import tempfile
import threading
import time
from typing import Any, Callable

import numpy as np

from retro import data as retro_data
from retro.data import GameData, Integrations, Search
from retro.data.ops import OP_NAMES, get_op
from retro.data.types import parse_type
from retro.enums import Actions, State
from retro.errors import ConfigurationError, IntegrationError, MovieFormatError
from retro.movie import Movie
from retro.session import GameSession
from retro.studio.workspace import Workspace, json_digest, safe_name

__all__ = ["StudioGame", "FRAME_HEADER", "SPEEDS", "RELATIONS"]

#: The binary frame header (see the module docs).
FRAME_HEADER = struct.Struct("<BBHHHIff")
SPEEDS = (0.25, 8.0)
#: How the page names the relations of a delta search, as ``(op, reference or None for the user's delta)``.
RELATIONS: dict[str, tuple[str, int | None]] = {
    "equal": ("equal", 0),
    "not-equal": ("not-equal", 0),
    "increased": ("positive", 0),
    "decreased": ("negative", 0),
    "delta": ("equal", None),
}
#: Candidates whose live values are shown; a search with more shows only its count.
SHOWN_CANDIDATES = 200
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_STATUS_PERIOD = 0.1


class _Search:
    """A RAM search of the page: a :class:`Search` and the memory copy its next relation compares with."""

    def __init__(self, types: tuple[str, ...], memory: Any) -> None:
        self.search = Search(types or None)
        self.snapshot = memory.snapshot()
        self.steps: list[str] = []


class StudioGame:
    """A game being played for the page; every method but :meth:`call`, :meth:`set_input` and :meth:`close`
    runs on the game's thread (call them through :meth:`call`)."""

    def __init__(self, game: str, workspace: Workspace, state: str | None,
                 publish: Callable[[bytes], None], notify: Callable[[dict[str, Any]], None]) -> None:
        self.game = game
        self.workspace = workspace
        self._state_name = state
        self._publish = publish
        self._notify = notify
        self._queue: queue.Queue[tuple[Callable[[], Any], concurrent.futures.Future[Any]]] = queue.Queue()
        self._stop = False
        self._input = 0
        self.paused = False
        self.speed = 1.0
        self.frame = 0
        self.searches: dict[str, _Search] = {}
        self.watch_search: str | None = None
        self.recording: str | None = None
        self.playback: dict[str, Any] | None = None
        self.exporting: threading.Thread | None = None
        self.session: GameSession
        self.ready: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, name=f"studio-{game}", daemon=True)
        self._thread.start()

    # -- the loop ------------------------------------------------------------------------

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        """Run ``fn(*args, **kwargs)`` on the game's thread between two frames."""
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if self._stop:
            fut.set_exception(ConfigurationError("this game is closed"))
            return fut
        self._queue.put((lambda: fn(*args, **kwargs), fut))
        return fut

    def set_input(self, mask: int) -> None:
        """Player 1's buttons (a mask over the system's buttons) from the next frame on."""
        self._input = int(mask)

    def close(self) -> None:
        self._stop = True
        self._queue.put((lambda: None, concurrent.futures.Future()))
        if threading.current_thread() is not self._thread:
            self._thread.join(10)

    def _open(self) -> None:
        state: Any = State.DEFAULT if self._state_name is None else self._state_name
        self.session = GameSession(self.game, state=state, inttype=Integrations.ALL,
                                   use_restricted_actions=Actions.ALL)
        self.session.restart()
        self.rate = float(self.session.em.get_screen_rate()) or 60.0
        self._valid = sum(1 << i for i, b in enumerate(self.session.buttons) if b)

    def _run(self) -> None:
        try:
            self._open()
            self.ready.set_result(self.describe())
        except BaseException as e:  # the page is told why the game did not open
            self.ready.set_exception(e)
            return
        try:
            self._loop()
        finally:
            self._stop_recording()
            self.session.close()

    def _loop(self) -> None:
        next_frame = time.monotonic()
        last_status = 0.0
        last_shown = 0.0
        self._show()
        while not self._stop:
            now = time.monotonic()
            wait = 0.05 if self.paused else max(0.0, next_frame - now)
            try:
                fn, fut = self._queue.get(timeout=min(wait, 0.05))
            except queue.Empty:
                pass
            else:
                if fut.set_running_or_notify_cancel():
                    try:
                        fut.set_result(fn())
                    except BaseException as e:  # handed to the caller
                        fut.set_exception(e)
                continue
            now = time.monotonic()
            if not self.paused and now >= next_frame:
                try:
                    self._advance()
                except Exception as e:  # a scenario that fails on this frame (a Lua error, a variable gone)
                    self.paused = True
                    self._notify({"type": "error", "error": f"paused: {e}"})
                next_frame += 1.0 / (self.rate * self.speed)
                if now - next_frame > 0.25:  # far behind (a slow seek, a loaded machine): do not race to catch up
                    next_frame = now
                if self.speed <= 1.0 or now - last_shown >= 1.0 / self.rate:
                    self._show()
                    last_shown = now
            if now - last_status >= _STATUS_PERIOD:
                self._notify(self.status())
                last_status = now

    def _advance(self) -> None:
        s = self.session
        pb = self.playback
        if pb is not None:
            frames = pb["frames"]
            i = pb["index"]
            if i >= len(frames):
                self.paused = True
                return
            if frames[i, 0]:
                s.console(int(frames[i, 0]))
            s.press([int(frames[i, 1])])
            pb["index"] = i + 1
        else:
            s.press([self._input & self._valid])
        s.play(1)
        self.frame += 1

    def _show(self) -> None:
        s = self.session
        screen = s.em.get_screen()
        h, w = screen.shape[:2]
        flags = (int(s.data.is_done()) | 2 * self.paused | 4 * (self.recording is not None)
                 | 8 * (self.playback is not None))
        header = FRAME_HEADER.pack(1, flags, w, h, 0, self.frame & 0xFFFFFFFF,
                                   s.data.current_reward(), s.data.total_reward())
        self._publish(header + screen.tobytes())

    # -- what the page shows --------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        s = self.session
        w, h = s.em.get_resolution()
        return {
            "game": self.game, "system": s.system, "buttons": s.buttons, "fps": self.rate,
            "width": w, "height": h, "state": s.statename[:-6] if s.statename else None,
            "folder": self.workspace.folder, "types": list(s.em.system_info.types if s.em.system_info else ()),
            "relations": list(RELATIONS), "ops": list(OP_NAMES), **self.files(),
        }

    def files(self) -> dict[str, Any]:
        meta = self.workspace.read_json("metadata")
        return {
            "states": retro_data.list_states(self.game, Integrations.ALL),
            "default_state": meta.get("default_state"),
            "movies": self.workspace.files(".bk2"),
            "videos": self.workspace.files(".mp4"),
            "variables": self.session.data.list_variables(),
        }

    def status(self) -> dict[str, Any]:
        d = self.session.data
        values: dict[str, Any] = {}
        for name in d.list_variables():
            try:
                values[name] = d.lookup_value(name)
            except (IndexError, KeyError):
                values[name] = None
        out: dict[str, Any] = {
            "type": "status", "frame": self.frame, "paused": self.paused, "speed": self.speed,
            "reward": d.current_reward(), "total": d.total_reward(), "done": d.is_done(),
            "values": values, "recording": self.recording,
            "playback": None if self.playback is None else {
                "name": self.playback["name"], "frame": self.playback["index"],
                "total": len(self.playback["frames"])},
        }
        if self.watch_search in self.searches:
            out["search"] = self.candidates(self.watch_search)
        return out

    # -- play -------------------------------------------------------------------------------

    def pause(self, paused: bool = True) -> dict[str, Any]:
        self.paused = bool(paused)
        self._show()
        return self.status()

    def step(self, frames: int = 1) -> dict[str, Any]:
        """Frame advance: play ``frames`` frames (1 to 3600) and stay paused."""
        frames = int(frames)
        if not 1 <= frames <= 3600:
            raise ConfigurationError(f"frames must be 1..3600, got {frames}")
        self.paused = True
        for _ in range(frames):
            self._advance()
        self._show()
        return self.status()

    def set_speed(self, speed: float) -> dict[str, Any]:
        speed = float(speed)
        if not SPEEDS[0] <= speed <= SPEEDS[1]:
            raise ConfigurationError(f"speed must be {SPEEDS[0]} to {SPEEDS[1]}, got {speed}")
        self.speed = speed
        return self.status()

    def reset(self) -> dict[str, Any]:
        """Back to the chosen state (or power on), as an env's reset."""
        self.session.restart()
        self.frame = 0
        self._show()
        return self.status()

    # -- states ------------------------------------------------------------------------------

    def load_state(self, name: str) -> dict[str, Any]:
        """Choose a state (by name: one of the game's) and start from it."""
        name = safe_name(name, ".state")
        self.close_movie()
        self.session.load_state(name, Integrations.ALL)
        return self.reset()

    def save_state(self, name: str, overwrite: bool = False) -> dict[str, Any]:
        """The current moment as ``<name>.state`` in the integration folder (gzip, as Gym Retro writes)."""
        path = self.workspace.write_state(name, self.session.em.get_state(), overwrite=bool(overwrite))
        return {"path": path, **self.files()}

    def set_default_state(self, name: str) -> dict[str, Any]:
        name = str(name)
        if name not in retro_data.list_states(self.game, Integrations.ALL):
            raise IntegrationError(f"{self.game} has no state {name!r}; save it first")

        def change(meta: dict[str, Any]) -> None:
            meta["default_state"] = name
        self.workspace.update_json("metadata", change)
        return self.files()

    # -- RAM search --------------------------------------------------------------------------

    def search_start(self, name: str, types: list[str] | None = None) -> dict[str, Any]:
        """A new search called ``name`` (over the system's types, or ``types``); takes a memory copy."""
        name = _variable_name(name)
        chosen = tuple(parse_type(t).type for t in types) if types else ()
        em = self.session.em
        system_types = tuple(em.system_info.types) if em.system_info else ()
        self.searches[name] = _Search(chosen or system_types, self.session.data.memory)
        self.watch_search = name
        return self.candidates(name)

    def _search(self, name: str) -> _Search:
        try:
            return self.searches[name]
        except KeyError:
            raise ConfigurationError(f"no search called {name!r}; start one first") from None

    def search_value(self, name: str, value: int) -> dict[str, Any]:
        """Keep the candidates that show ``value`` now."""
        s = self._search(name)
        memory = self.session.data.memory
        s.search.search(memory, int(value))
        s.snapshot = memory.snapshot()
        s.steps.append(f"= {int(value)}")
        self.watch_search = name
        return self.candidates(name)

    def search_relation(self, name: str, relation: str, delta: int = 0) -> dict[str, Any]:
        """Keep the candidates whose change since the last step is ``relation`` (see :data:`RELATIONS`)."""
        s = self._search(name)
        try:
            op, reference = RELATIONS[relation]
        except KeyError:
            raise ConfigurationError(f"relation must be one of {', '.join(RELATIONS)}, got {relation!r}") from None
        get_op(op)
        memory = self.session.data.memory
        s.search.delta(memory, s.snapshot, op, int(delta) if reference is None else reference)
        s.snapshot = memory.snapshot()
        s.steps.append(relation + (f" {int(delta)}" if reference is None else ""))
        self.watch_search = name
        return self.candidates(name)

    def candidates(self, name: str) -> dict[str, Any]:
        """The search's candidates with their live values (when few enough to show)."""
        s = self._search(name)
        count = s.search.num_results() if s.search.started else None
        out: dict[str, Any] = {"name": name, "count": count, "steps": s.steps, "candidates": []}
        if count is None or count > 4 * SHOWN_CANDIDATES:
            return out
        memory = self.session.data.memory
        every = s.search.typed_results()
        out["places"] = len(every)  # (address, encoding) pairs; each may hold several of the candidate types
        rows = every[:SHOWN_CANDIDATES]
        specs = [(address, types[0], None) for (address, _m, _d, _b), types in rows]
        values = memory.value_table(specs).read() if specs else []
        out["candidates"] = [
            {"address": address, "mult": m, "div": d, "bias": b, "types": types, "value": int(v)}
            for ((address, m, d, b), types), v in zip(rows, values)]
        return out

    def watch(self, name: str | None) -> None:
        self.watch_search = name

    # -- variables and scenario ------------------------------------------------------------------------

    def set_variable(self, name: str, address: int, type: str) -> dict[str, Any]:
        """Define a ``data.json`` variable (a promoted search candidate, or an edit) and save it."""
        name = _variable_name(name)
        var = {"address": int(address), "type": parse_type(type).type}
        self.session.data.set_variable(name, var)  # validates, and shows it live

        def change(doc: dict[str, Any]) -> None:
            info = doc.setdefault("info", {})
            if not isinstance(info, dict):
                raise IntegrationError("data.json: 'info' must be an object of variables")
            info[name] = var
        self.workspace.update_json("data", change)
        return self.files()

    def remove_variable(self, name: str) -> dict[str, Any]:
        """Remove a ``data.json`` variable that the scenario does not read."""
        if name in self.session.data.scenario.watched:
            raise IntegrationError(f"scenario.json reads {name!r}: take it out of the scenario first")

        def change(doc: dict[str, Any]) -> None:
            doc.setdefault("info", {}).pop(name, None)
        self.workspace.update_json("data", change)
        self.session.data.remove_variable(name)
        return self.files()

    def scenario(self) -> dict[str, Any]:
        doc = self.workspace.read_json("scenario")
        return {"doc": doc, "digest": json_digest(doc)}

    def validate_scenario(self, doc: Any) -> dict[str, Any]:
        """Check a scenario document as :func:`retro.make` loads it: :class:`IntegrationError` says what is wrong."""
        if not isinstance(doc, dict):
            raise IntegrationError(f"scenario.json must be a JSON object, got {type(doc).__name__}")
        data_path = self.workspace.path("data", ".json")
        with tempfile.NamedTemporaryFile("w", dir=self.workspace.folder, prefix=".scenario-check-",
                                         suffix=".json", encoding="utf-8") as f:
            json.dump(doc, f)
            f.flush()
            trial = GameData()
            trial.configure(self.session.em)
            trial.load(data_path if os.path.exists(data_path) else None, f.name)
            known = trial.list_variables()
            missing = [n for n in trial.scenario.watched if n not in known]
        if missing:
            raise IntegrationError(f"scenario.json reads variable {missing[0]!r}, which data.json does not define")
        return {"ok": True}

    def save_scenario(self, doc: Any, digest: str | None = None) -> dict[str, Any]:
        """Validate, write (backing up the old file; refused if another tab saved since ``digest``) and apply."""
        self.validate_scenario(doc)
        saved = self.workspace.update_json("scenario", lambda _old: doc, base=digest)
        self.session.data.load(scenario=self.workspace.path("scenario", ".json"))
        return {"doc": saved, "digest": json_digest(saved)}

    # -- movies -----------------------------------------------------------------------------------------

    def record_start(self, name: str, overwrite: bool = False) -> dict[str, Any]:
        """Record from this moment into ``<name>.bk2``: the movie starts from the current state."""
        self.close_movie()
        path = self.workspace.reserve(name, ".bk2", overwrite=bool(overwrite))
        s = self.session
        self._stop_recording()
        chosen = s.initial_state
        s.initial_state = s.em.get_state()
        try:
            s.record_movie(path)
            s.restart()  # the movie's first frame, as an env's reset records it
        except BaseException:
            self.workspace.release(path)
            raise
        finally:
            s.initial_state = chosen
        self.frame = 0
        self.recording = os.path.basename(path)
        self._show()
        return self.status()

    def record_stop(self) -> dict[str, Any]:
        """Write the movie; returns its path, frame count and a SHA-1 of RAM now (where a replay must end)."""
        s = self.session
        if s.movie is None or self.recording is None:
            raise ConfigurationError("not recording")
        frames = len(s.movie)
        path = self._stop_recording()
        return {"path": path, "frames": frames, "ram_sha1": hashlib.sha1(s.em.get_ram().tobytes()).hexdigest(),
                **self.files()}

    def _stop_recording(self) -> str | None:
        """Write the movie being recorded, if any; its path."""
        s = self.session
        if s.movie is None:
            return None
        path = s.movie.path
        try:
            s.stop_record()
        finally:
            self.recording = None
            self.workspace.release(path)
        return path

    def open_movie(self, name: str) -> dict[str, Any]:
        """Play a ``.bk2`` of the folder back from its start (paused at its first frame)."""
        if self.recording is not None:
            raise ConfigurationError("stop recording before playing a movie")
        path = self.workspace.path(name, ".bk2")
        movie = Movie(path)
        if movie.players != 1:
            raise MovieFormatError(f"{name} is a {movie.players}-player movie; the studio plays 1-player movies")
        if movie.system is not None and movie.system != self.session.system:
            raise MovieFormatError(f"{name} is a {movie.system} movie, not {self.session.system}")
        self.playback = {"name": os.path.basename(path), "frames": np.array(movie.frames),
                         "state": movie.get_state(), "index": 0}
        return self.seek(0)

    def seek(self, frame: int) -> dict[str, Any]:
        """Go to a frame of the open movie by replaying it from its start."""
        pb = self.playback
        if pb is None:
            raise ConfigurationError("no movie is open")
        frame = max(1, min(int(frame), len(pb["frames"])))
        s = self.session
        chosen = s.initial_state
        s.initial_state = pb["state"] or None
        try:
            if not pb["state"]:
                s.power_on()  # where a power-on recording's first episode started
            s.restart()  # the movie's frame 0
        finally:
            s.initial_state = chosen
        pb["index"] = 1
        self.frame = 0
        self.paused = True
        while pb["index"] < frame:
            self._advance()
        self._show()
        return self.status()

    def play_movie(self, playing: bool = True) -> dict[str, Any]:
        if self.playback is None:
            raise ConfigurationError("no movie is open")
        return self.pause(not playing)

    def close_movie(self) -> None:
        self.playback = None

    def export_movie(self, name: str) -> dict[str, Any]:
        """Render a ``.bk2`` of the folder to ``.mp4`` beside it (``playback_movie``), progress as notices."""
        if self.exporting is not None and self.exporting.is_alive():
            raise ConfigurationError("a video is being exported already")
        path = self.workspace.path(name, ".bk2")
        Movie(path)  # a clear error now for a file that is not a movie
        notify = self._notify

        def progress(done: int, total: int) -> None:
            notify({"type": "export", "movie": os.path.basename(path), "done": done, "total": total})

        def run() -> None:
            from retro.scripts.playback_movie import playback_movie

            try:
                result = playback_movie(path, on_progress=progress)
                notify({"type": "export", "movie": os.path.basename(path), "finished": True,
                        "video": os.path.basename(result["video"]), "frames": result["frames"]})
            except Exception as e:  # reported to the page
                notify({"type": "export", "movie": os.path.basename(path), "error": str(e)})
        self.exporting = threading.Thread(target=run, name="studio-export", daemon=True)
        self.exporting.start()
        return {"started": os.path.basename(path)}


def _variable_name(name: Any) -> str:
    if not isinstance(name, str) or not _VARIABLE_NAME.fullmatch(name):
        raise ConfigurationError(f"a name is a letter or _ then letters, digits or _ (at most 64), got {name!r}")
    return name

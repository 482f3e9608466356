"""``GameData``: a game's variables, scenario, memory searches and actions.

``GameData`` is Gym Retro's ``retro.data.GameData`` in pure Python. Bind it
to a running emulator with :meth:`GameData.configure` (Gym Retro's
``em.configure_data(data)``), then call :meth:`GameData.update_ram` after
every frame and read :meth:`current_reward`, :meth:`is_done` and
:meth:`lookup_all`.

The per-frame path does no whole-RAM copy and makes no Python call per
variable: the variables are compiled once into tables of byte pointers
(:class:`retro._values.ValueTable`, one for the scenario's variables and one
for all of them) that :meth:`GameData.update_ram` and
:meth:`GameData.lookup_all` read in one C loop; the scenario keeps the
previous value of each variable it reads to form deltas. Single variables
are read from the table of all of them (:meth:`GameData.lookup_value`) and
written by closures that store just their own bytes (see
:mod:`retro.data.memory`). Tables and closures are
rebuilt only when variables change or the emulator power-cycles.

Differences from Gym Retro, on purpose:

- Bad input raises :class:`~retro.errors.IntegrationError` naming the file
  and key (malformed JSON, a variable without ``address`` or ``type``, an
  unknown type, op, measurement or condition, an ``address`` or ``mask``
  beyond 64 bits: see :mod:`retro.data.numbers`) instead of ``load``
  returning False or skipping the entry. ``load``/``save`` still return
  True on success.
- :meth:`reset` clears the previous snapshot, so the first frame after a
  reset has delta 0 instead of the change across the episode boundary.
- ``searches.load``/``searches.save`` work (JSON files).
- ``memory.blocks`` are live views, not copies.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from operator import sub
from typing import Any, Iterator, Mapping, Optional, Sequence

import numpy as np

from retro._program import FrameProgram
from retro._values import ValueTable
from retro.actions import ComboGroups, combo_groups
from retro.data.integrations import Integrations, get_file_path
from retro.data.lua import LuaContext, LuaScriptError
from retro.data.memory import NO_MAPPING, Memory, ValueSpec, Writer
from retro.data.numbers import ADDRESS, MASK, number
from retro.data.ops import get_op
from retro.data.scenario import Scenario, _check_player
from retro.data.search import Search
from retro.data.types import DataType, parse_type
from retro._fileutil import atomic_write_json, read_regular
from retro.errors import ConfigurationError, IntegrationError, UnmappedAddressError

__all__ = ["GameData", "Variable", "Variables", "SearchHandle", "SearchListHandle"]

ALL_ONES = (1 << 64) - 1


@dataclass(frozen=True)
class Variable:
    """A named value in memory: an absolute address, a type, an optional mask."""

    address: int
    type: DataType
    mask: Optional[int] = None

    def to_json(self) -> dict[str, Any]:
        """This variable as ``data.json`` holds it: ``{'address', 'type'[, 'mask']}``."""
        out: dict[str, Any] = {"address": self.address, "type": self.type.type}
        if self.mask is not None:
            out["mask"] = self.mask
        return out

    @classmethod
    def from_json(cls, raw: Any, where: str) -> "Variable":
        """A variable from its ``data.json`` object; ``IntegrationError`` naming ``where`` if it is malformed."""
        if not isinstance(raw, Mapping):
            raise IntegrationError(f"{where}: a variable is an object with 'address' and 'type'")
        for key in ("address", "type"):
            if key not in raw:
                raise IntegrationError(f"{where}: missing '{key}'")
        address = number(raw["address"], ADDRESS, f"{where}.address")
        try:
            dtype = parse_type(raw["type"])
        except IntegrationError as e:
            raise IntegrationError(f"{where}.type: {e}") from None
        mask = raw.get("mask")
        if mask is not None:
            mask = number(mask, MASK, f"{where}.mask")
            if mask == ALL_ONES:
                mask = None
        return cls(address, dtype, mask)


_EMPTY_TABLE = ValueTable((), ())
_UNSET: Any = object()  # an argument not given


class GameData:
    """A game's variables and scenario, optionally bound to an emulator.

    Args:
        game: an integration id (``"Airstriker-Genesis"``); if given,
            ``data`` defaults to ``"data"`` and ``scenario`` to
            ``"scenario"``, ``.json`` is appended when missing, and relative
            names are looked up in the game's integration folders (a file
            that does not exist there is skipped, as in Gym Retro).
        data: path of a ``data.json`` (variables).
        scenario: path of a ``scenario.json``.
        inttype: which integrations to search.
    """

    def __init__(self, game: Optional[str] = None, data: Optional[str | os.PathLike[str]] = None,
                 scenario: Optional[str | os.PathLike[str]] = None,
                 inttype: Integrations = Integrations.DEFAULT) -> None:
        self._vars: dict[str, Variable] = {}
        self._custom: dict[str, Any] = {}
        self._memory = Memory()
        self._types: tuple[str, ...] = ()
        self._buttons: tuple[Optional[str], ...] = ()
        self._system_actions: Sequence[Sequence[Sequence[str]]] = ()
        self._scenario = Scenario()
        self._searches: dict[str, Search] = {}
        self._search_old: dict[str, dict[int, np.ndarray]] = {}
        self._lua: Optional[LuaContext] = None
        self.data_path: Optional[str] = None
        self.scenario_path: Optional[str] = None
        self._action_cache: Optional[ComboGroups] = None
        self._invalidate()
        if game:
            data = _resolve(game, data, "data", inttype)
            scenario = _resolve(game, scenario, "scenario", inttype)
        if data or scenario:
            self.load(data, scenario)

    # -- compiled state ------------------------------------------------------------------------

    def _invalidate(self) -> None:
        """Variables, scenario or memory changed: rebuild readers before the next read."""
        self._compiled_generation = -1
        self._writers: dict[str, Writer] = {}
        # every mapped variable, in definition order: names, one table reading them all, and
        # each variable's index in it (None: an address no block holds)
        self._all_names: tuple[str, ...] = ()
        self._all_table: ValueTable = _EMPTY_TABLE
        self._slot: dict[str, Optional[int]] = {}
        # the scenario's variables: one table reading the mapped ones, in watched order;
        # _watch_slots is None when every watched name is a mapped variable, else for each
        # watched name its index in the table or None (not a variable: reads as 0)
        self._watch_table: ValueTable = _EMPTY_TABLE
        self._watch_slots: Optional[list[Optional[int]]] = None
        self._watch_unmapped = False
        self._watch_unknown: list[tuple[int, str]] = []
        self._prev: Optional[list[int]] = None
        # the scenario compiled to C over the watch table (None: the table holds values C cannot);
        # when there is one it holds the previous frame's values, and it evaluates every frame
        # whose scenario calls no script and that has no custom variables (_program_runs)
        self._program: Optional[FrameProgram] = None
        self._program_runs = False

    def _compile(self) -> None:
        mem = self._memory
        specs: dict[str, ValueSpec] = {}
        slot: dict[str, Optional[int]] = {}
        for name, var in self._vars.items():
            try:
                specs[name] = mem.value_spec(var.address, var.type, var.mask)
                slot[name] = len(specs) - 1
            except IndexError:
                slot[name] = None
        self._slot = slot
        self._writers = {}
        buffers = mem.buffers
        self._all_names = tuple(specs)
        self._all_table = ValueTable(buffers, list(specs.values()))
        watched = self._scenario.watched
        mapped = [n for n in watched if n in specs]
        self._watch_table = ValueTable(buffers, [specs[n] for n in mapped])
        if len(mapped) == len(watched):
            self._watch_slots = None
        else:
            in_table = {n: j for j, n in enumerate(mapped)}
            self._watch_slots = [in_table.get(n) for n in watched]
        # a watched variable whose address no block holds fails every update_ram, as its lookup does
        self._watch_unmapped = any(n in slot and n not in specs for n in watched)
        self._watch_unknown = [(i, n) for i, n in enumerate(watched) if n not in slot]
        self._watched = watched
        prev = self._prev_values()
        self._program = None
        self._program_runs = False
        if self._watch_slots is None and not self._watch_unmapped:
            spec = self._scenario.program_spec()
            try:
                done, players = spec or (None, [])
                self._program = FrameProgram(self._watch_table, done, players, record=self._scenario.state)
                self._program_runs = spec is not None
                self._program.prev = prev
            except ValueError:  # values, references or masks beyond 62 bits: Python's ints
                self._program = None
                self._program_runs = False
        self._prev = prev
        self._compiled_generation = mem.generation

    def _prev_values(self) -> Optional[list[int]]:
        """The previous frame's watched values (for deltas), or None."""
        program = self._program
        return program.prev if program is not None else self._prev

    def _set_prev(self, values: Optional[list[int]]) -> None:
        if self._program is not None:
            self._program.prev = values
        self._prev = values

    def _fresh(self) -> None:
        mem = self._memory
        if mem.refresh() or self._compiled_generation != mem.generation:
            self._compile()

    # -- loading and saving -------------------------------------------------------------------------

    def load(self, data: Optional[str | os.PathLike[str]] = None,
             scen: Optional[str | os.PathLike[str]] = None, *,
             scenario: Optional[str | os.PathLike[str]] = None) -> bool:
        """Load variables and/or a scenario; True on success, :class:`IntegrationError` otherwise.

        ``data`` is a ``data.json``, ``scen`` a scenario file (Gym Retro's
        name; ``scenario=`` is the same). Lua state is discarded; a
        scenario's scripts run as it loads.
        """
        scenario = _one_of("load", "scen", scen, "scenario", scenario)
        self._lua = None
        if data is not None:
            self._vars = _load_variables(os.fspath(data))
            self.data_path = os.fspath(data)
        if scenario is not None:
            loaded = Scenario.load(scenario)
            loaded.frame = self._scenario.frame
            loaded.reward = self._scenario.reward
            loaded.total_reward = self._scenario.total_reward
            self._scenario = loaded
            self.scenario_path = os.fspath(scenario)
            self._action_cache = None
            self._check_actions()
            self._load_scripts()
        self._invalidate()
        return True

    def save(self, data: Optional[str | os.PathLike[str]] = None,
             scen: Optional[str | os.PathLike[str]] = None, *,
             scenario: Optional[str | os.PathLike[str]] = None) -> bool:
        """Write variables to ``data`` and/or the scenario to ``scen`` (``scenario=`` is the same) as JSON; True."""
        scenario = _one_of("save", "scen", scen, "scenario", scenario)
        if data is not None:
            doc = {"info": {name: var.to_json() for name, var in sorted(self._vars.items())}}
            atomic_write_json(data, doc, indent=2, newline=True)
        if scenario is not None:
            self._scenario.save(scenario)
        return True

    def _load_scripts(self) -> None:
        scripts = self._scenario.script_paths()
        refs = self._scenario.script_refs()
        where = self._scenario.path or "<scenario>"
        if refs and not scripts:
            raise IntegrationError(f"{where}: calls script function {refs[0][1]!r} but lists no scripts")
        if not scripts:
            self._lua = None
            return
        lua = LuaContext(self._lua_lookup, self.set_value, self._lua_read_byte, self._scenario_value)
        for path, _scope in scripts:
            lua.load_file(path)
        self._lua = lua

    def _lua_lookup(self, name: str) -> Any:
        return self.lookup_value(name)

    def _lua_read_byte(self, address: int) -> int:
        return self._memory.read_byte(address)

    def _scenario_value(self, key: str) -> int:
        if key == "frame":
            return self._scenario.frame
        if key == "timestep":
            return self._scenario.timestep
        raise KeyError(key)

    def _call_script(self, scope: str, function: str) -> Any:
        if self._lua is None:
            raise LuaScriptError(f"Lua call failed: no Lua scripts are loaded to call {function!r}")
        return self._lua.call(function)

    # -- binding to an emulator ---------------------------------------------------------------------

    def configure(self, emulator: Any) -> None:
        """Bind to an emulator: its memory (with the system's overlay), search types, buttons, actions.

        This is Gym Retro's ``emulator.configure_data(data)``.
        """
        info = getattr(emulator, "system_info", None)
        self._memory = Memory(emulator, overlay=info.overlay if info is not None else None)
        self._types = tuple(info.types) if info is not None else ()
        self._buttons = tuple(info.buttons) if info is not None else ()
        self._system_actions = info.actions if info is not None else ()
        self._action_cache = None
        self._check_actions()
        self._invalidate()

    def release(self) -> None:
        """Let go of the emulator's memory (before it closes): its views, and what was compiled over them.

        An emulator whose memory is still viewed when it closes keeps its game loaded for the views
        (``retro._core``), so the env lets go first.
        """
        self._memory = Memory()
        self._invalidate()

    @property
    def memory(self) -> Memory:
        """Typed access to RAM (empty until :meth:`configure`)."""
        return self._memory

    @property
    def scenario(self) -> Scenario:
        """The loaded scenario and its running state."""
        return self._scenario

    @property
    def buttons(self) -> tuple[Optional[str], ...]:
        """The system's button names by joypad id (None for an unused id); empty before :meth:`configure`."""
        return self._buttons

    # -- per frame ------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Start an episode: frame 0, no reward, custom variables cleared, Lua scripts re-run.

        Also forgets the previous snapshot, so the next :meth:`update_ram` has
        delta 0 (Gym Retro carries the last frame of the previous episode over).
        """
        self._scenario.restart()
        self._custom.clear()
        self._set_prev(None)
        if self._scenario.scripts:
            self._load_scripts()

    def episode_state(self) -> dict[str, Any]:
        """What the episode so far left behind that the next frames' rewards and done depend on.

        The previous frame's values (for deltas), custom variables and the
        scenario's frame, rewards and done flag; :meth:`set_episode_state`
        puts them back (with the emulator's state, the episode continues
        identically). A scenario that runs Lua scripts keeps state in Lua
        that cannot be captured: :class:`ConfigurationError`.
        """
        if self._lua is not None:
            raise ConfigurationError(
                f"{self._scenario.path or 'this scenario'} runs Lua scripts, whose state cannot be saved; "
                f"an env playing it cannot be pickled mid-episode")
        scenario = self._scenario
        prev = self._prev_values()
        return {"prev": None if prev is None else list(prev), "custom": dict(self._custom),
                "frame": scenario.frame, "reward": list(scenario.reward),
                "total_reward": list(scenario.total_reward), "is_done": scenario.is_done}

    def set_episode_state(self, state: Mapping[str, Any]) -> None:
        """Put back what :meth:`episode_state` returned."""
        scenario = self._scenario
        self._fresh()
        self._set_prev(None if state["prev"] is None else list(state["prev"]))
        self._custom = dict(state["custom"])
        scenario.frame = int(state["frame"])
        scenario.reward = list(state["reward"])
        scenario.total_reward = list(state["total_reward"])
        scenario.is_done = bool(state["is_done"])

    def update_ram(self) -> None:
        """Take this frame's values and advance the scenario (done, rewards, frame)."""
        self._fresh()
        self._evaluate()

    def _evaluate(self) -> None:
        """One frame of the scenario over the current values (compiled readers are fresh)."""
        if self._program_runs and not self._custom:
            self._program.update()  # type: ignore[union-attr]
            return
        current = self._watch_table.read()
        if self._watch_slots is not None:
            if self._watch_unmapped:
                unmapped = [n for n in self._watched if n in self._slot and self._slot[n] is None]
                raise UnmappedAddressError(f"{NO_MAPPING}: the scenario uses {', '.join(map(repr, unmapped))}, "
                                           f"whose address no memory block of this game holds; fix it in data.json")
            current = [0 if j is None else current[j] for j in self._watch_slots]
        prev = self._prev_values()
        self._set_prev(current)
        if prev is None:
            deltas: list[int] = [0] * len(current)
        else:
            deltas = list(map(sub, current, prev))
        if self._custom or self._watch_unknown:
            values = self._with_custom(current)
        else:
            values = current
        self._scenario.update(values, deltas, self._call_script)

    def _reward(self, players: int) -> float | list[float]:
        rewards = self._scenario.reward
        if players == 1:
            return float(rewards[0])
        _check_player(players - 1)
        return [float(r) for r in rewards[:players]]

    def frame_program(self) -> Optional[FrameProgram]:
        """The scenario compiled to C, for frames played without Python, or None.

        A step job runs it after every frame, writing the scenario's running
        state (its :class:`~retro._program.ScenarioRecord`) as :meth:`update_ram`
        would. None when the scenario calls a
        script, custom variables are set, or a value does not fit in C:
        then :meth:`update_ram` must run after every frame.
        """
        self._fresh()
        return self._program if self._program_runs and not self._custom else None

    def _with_custom(self, current: list[int]) -> list[int]:
        """Values with custom variables shadowing variables, as Gym Retro's lookups do."""
        custom = self._custom
        values = list(current)
        for i, name in enumerate(self._watched):
            if name in custom:
                values[i] = _as_int(custom[name])
        for _i, name in self._watch_unknown:
            if name not in custom:
                where = self._scenario.path or "<scenario>"
                raise IntegrationError(
                    f"{where}: the scenario reads variable {name!r}, which is not defined"
                    f"{' in ' + self.data_path if self.data_path else ''}")
        return values

    def current_reward(self, player: int = 0) -> float:
        """The reward of the last :meth:`update_ram` for ``player`` (0 or 1)."""
        _check_player(player)
        return self._scenario.reward[player]

    def total_reward(self, player: int = 0) -> float:
        """The reward summed since the last :meth:`reset`."""
        _check_player(player)
        return self._scenario.total_reward[player]

    def is_done(self) -> bool:
        """Whether the scenario's done condition held at the last :meth:`update_ram`."""
        return self._scenario.is_done

    def outcome(self, players: int = 1) -> tuple[float | list[float], bool, dict[str, int]]:
        """``(reward, done, info)`` of the last :meth:`update_ram`, in one call.

        ``reward`` is a float with one player, else one float per player;
        ``info`` is :meth:`lookup_all`.
        """
        return self._reward(players), bool(self._scenario.is_done), self.lookup_all()

    def crop_info(self, player: int = 0) -> tuple[int, int, int, int]:
        """``(x, y, width, height)`` of the observation crop; 0 width/height means "to the edge"."""
        return self._scenario.crop(player)

    # -- values -----------------------------------------------------------------------------------------

    def lookup_value(self, name: str) -> Any:
        """A variable's value (int), or a custom variable's (bool, int, float or None).

        Unknown names raise ``KeyError``; an unmapped address ``IndexError``.
        """
        if name in self._custom:
            return self._custom[name]
        self._fresh()
        try:
            i = self._slot[name]
        except KeyError:
            raise KeyError(name) from None
        if i is None:
            raise UnmappedAddressError(NO_MAPPING)
        return self._all_table.value(i)

    def set_value(self, name: str, val: Any = _UNSET, *, value: Any = _UNSET) -> None:
        """Write ``val`` into variable ``name`` in emulated memory, or set a custom variable (until :meth:`reset`).

        ``val`` is stable-retro's name of the value; ``value=`` is the same.
        """
        if (val is _UNSET) == (value is _UNSET):
            raise TypeError("set_value() takes a name and one value (val=)")
        value = val if val is not _UNSET else value
        if name in self._custom or name not in self._vars:
            self._custom[name] = value
            return
        self._fresh()
        write = self._writers.get(name)
        if write is None:
            var = self._vars[name]
            write = self._memory.writer(var.address, var.type)
            self._writers[name] = write
        write(_as_int(value))

    def lookup_all(self) -> dict[str, int]:
        """Every mapped variable's value, plus custom variables cast to int."""
        self._fresh()
        return self._info()

    def _info(self) -> dict[str, int]:
        out = self._all_table.read_dict(self._all_names)
        if self._custom:
            for name, value in self._custom.items():
                out[name] = _as_int(value)
        return out

    def __getitem__(self, name: str) -> Any:
        return self.lookup_value(name)

    def __setitem__(self, name: str, value: Any) -> None:
        self.set_value(name, value)

    # -- variables ----------------------------------------------------------------------------------------

    def get_variable(self, name: str) -> dict[str, Any]:
        """``{'address', 'type'}`` (and ``'mask'`` if set); ``ValueError`` for unknown names, as Gym Retro."""
        try:
            return self._vars[name].to_json()
        except KeyError:
            raise ValueError(f"unknown variable: {name}") from None

    def set_variable(self, name: str, var: Mapping[str, Any]) -> None:
        """Define (or redefine) a variable from ``{'address', 'type'[, 'mask']}``."""
        self._vars[name] = Variable.from_json(var, f"variable {name!r}")
        self._invalidate()

    def remove_variable(self, name: str) -> None:
        """Remove the variable ``name``, if there is one."""
        if self._vars.pop(name, None) is not None:
            self._invalidate()

    def list_variables(self) -> dict[str, dict[str, Any]]:
        """Every variable as ``{name: {'address', 'type'[, 'mask']}}``, as ``data.json`` holds them."""
        return {name: var.to_json() for name, var in self._vars.items()}

    @property
    def vars(self) -> "Variables":
        """The variables as a mapping-like view (Gym Retro's ``data.vars``)."""
        return Variables(self)

    # -- actions ---------------------------------------------------------------------------------------------

    def _check_actions(self) -> None:
        if self._buttons and self._scenario.actions is not None:
            self._action_groups()

    def _action_groups(self) -> ComboGroups:
        if self._action_cache is not None:
            return self._action_cache
        scen_actions = self._scenario.actions
        if not self._buttons:
            groups = ComboGroups(())  # no emulator: no buttons, no groups (as in Gym Retro)
        elif scen_actions is not None:
            groups = combo_groups(self._buttons, scen_actions, f"{self._scenario.path or '<scenario>'}: actions")
        else:
            groups = combo_groups(self._buttons, self._system_actions, "system actions")
        self._action_cache = groups
        return groups

    def action_groups(self) -> ComboGroups:
        """The action groups (the scenario's ``actions``, else the system's), as the env builds its spaces from."""
        return self._action_groups()

    def system_action_groups(self) -> ComboGroups:
        """The system's action groups, whatever the scenario allows."""
        if not self._buttons:
            return ComboGroups(())
        return combo_groups(self._buttons, self._system_actions, "system actions")

    def valid_actions(self) -> list[list[int]]:
        """The action groups, as sorted lists of button masks, sorted by group mask."""
        return self._action_groups().as_lists()

    def filter_action(self, action: int) -> int:
        """Keep each group's bits only if they form an allowed combo; drop bits of no group."""
        return self._action_groups().filter(action)

    # -- memory search -----------------------------------------------------------------------------------------

    def _new_search(self, name: str) -> Search:
        search = self._searches.get(name)
        if search is None:
            search = Search(self._types or None)
            self._searches[name] = search
        return search

    def search(self, name: str, value: int) -> None:
        """Search memory for ``value``, narrowing the search called ``name``."""
        self._new_search(name).search(self._memory, value)
        self._search_old[name] = self._memory.snapshot()

    def delta_search(self, name: str, op: str, ref: int) -> None:
        """Narrow the search ``name`` to values whose change since its last step satisfies ``op``."""
        get_op(op, "delta_search: ")
        search = self._new_search(name)
        old = self._search_old.get(name)
        if old is None:
            old = self._memory.snapshot()
        search.delta(self._memory, old, op, ref)
        self._search_old[name] = self._memory.snapshot()

    def get_search(self, name: str) -> Search:
        """The search called ``name`` (``KeyError`` if there is none)."""
        try:
            return self._searches[name]
        except KeyError:
            raise KeyError(f"no search called {name!r}") from None

    def remove_search(self, name: str) -> None:
        """Forget the search called ``name``, if there is one."""
        self._searches.pop(name, None)
        self._search_old.pop(name, None)

    def list_searches(self) -> dict[str, Search]:
        """Every search, by name."""
        return dict(self._searches)

    @property
    def searches(self) -> "SearchListHandle":
        """The searches by name (Gym Retro's ``data.searches``)."""
        return SearchListHandle(self)

    def save_searches(self, path: str | os.PathLike[str]) -> None:
        """Write every search (candidates and last memory copy) to a JSON file."""
        doc = {}
        for name, search in self._searches.items():
            entry = search.to_json()
            old = self._search_old.get(name)
            if old is not None:
                entry["memory"] = {str(start): base64.b64encode(block.tobytes()).decode("ascii")
                                   for start, block in old.items()}
            doc[name] = entry
        atomic_write_json(path, {"searches": doc})

    def load_searches(self, path: str | os.PathLike[str]) -> None:
        """Read searches written by :meth:`save_searches`, replacing those of the same names."""
        where = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            entries = doc["searches"]
            for name, entry in entries.items():
                search = Search.from_json(entry)
                self._searches[name] = search
                if "memory" in entry:
                    self._search_old[name] = {
                        int(start): np.frombuffer(base64.b64decode(b), dtype=np.uint8).copy()
                        for start, b in entry["memory"].items()}
        except OSError as e:
            raise IntegrationError(f"cannot read searches from {where}: {e.strerror or e}") from e
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise IntegrationError(f"{where}: not a searches file: {e!r}") from e

    def __repr__(self) -> str:
        return (f"<GameData {len(self._vars)} variables, "
                f"data={self.data_path!r}, scenario={self.scenario_path!r}>")


def _one_of(method: str, name: str, given: Any, alias: str, alias_given: Any) -> Any:
    """The value of an argument that has two keyword names (stable-retro's and retro's former one)."""
    if given is not None and alias_given is not None:
        raise TypeError(f"{method}() got both {name}= and {alias}=, which are the same argument")
    return given if given is not None else alias_given


def _required(method: str, name: str, given: Any, alias: str, alias_given: Any) -> Any:
    value = _one_of(method, name, given, alias, alias_given)
    if value is None:
        raise TypeError(f"{method}() needs the file: {name}=")
    return value


def _as_int(value: Any) -> int:
    """Gym Retro's cast of a custom value to int (floats truncate, None is 0).

    A NaN, an infinity or a value beyond 64 bits is -2**63, what the x86
    conversion Gym Retro's cast compiles to gives.
    """
    if value is None:
        return 0
    if isinstance(value, float) and not (-2.0 ** 63 <= value < 2.0 ** 63):  # NaN fails both comparisons
        return -(2 ** 63)
    return int(value)


def _resolve(game: str, name: Optional[str | os.PathLike[str]], default: str,
             inttype: Integrations) -> Optional[str]:
    name = os.fspath(name) if name else default
    if not name.endswith(".json"):
        name += ".json"
    if os.path.isabs(name):
        return name
    return get_file_path(game, name, inttype)


def _load_variables(path: str) -> dict[str, Variable]:
    try:
        text = read_regular(path)
    except OSError as e:
        raise IntegrationError(f"cannot read data file {path}: {e.strerror or e}") from e
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise IntegrationError(f"{path}: not valid JSON: {e}") from e
    if not isinstance(doc, dict) or "info" not in doc:
        raise IntegrationError(f"{path}: missing 'info' (the variables)")
    info = doc["info"]
    if not isinstance(info, dict):
        raise IntegrationError(f"{path}: 'info' must be an object of variables")
    return {name: Variable.from_json(raw, f"{path}: info.{name}") for name, raw in info.items()}


class Variables:
    """``data.vars``: ``vars[name]`` -> ``{'address', 'type'}``, assignment defines, ``del`` removes.

    Iteration yields ``(name, {'address', 'type'})`` pairs, as in Gym Retro.
    """

    def __init__(self, data: GameData) -> None:
        self._data = data

    def __getitem__(self, name: str) -> dict[str, Any]:
        try:
            return self._data.get_variable(name)
        except ValueError:
            raise KeyError(name) from None

    def __setitem__(self, name: str, var: Mapping[str, Any]) -> None:
        self._data.set_variable(name, var)

    def __delitem__(self, name: str) -> None:
        self._data.remove_variable(name)

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return iter(self._data.list_variables().items())

    def __contains__(self, name: object) -> bool:
        return name in self._data.list_variables()

    def __len__(self) -> int:
        return len(self._data.list_variables())


class SearchHandle:
    """``data.searches[name]``: ``.search(value)``, ``.delta(op, ref)``, and the :class:`Search` API."""

    def __init__(self, data: GameData, name: str) -> None:
        self._data = data
        self._name = name

    def search(self, value: int) -> None:
        """Keep the candidates that show ``value`` now (:meth:`GameData.search`)."""
        self._data.search(self._name, value)

    def delta(self, op: str, ref: int) -> None:
        """Keep the candidates whose change since the last step passes ``op`` against ``ref``.

        See :meth:`GameData.delta_search`.
        """
        self._data.delta_search(self._name, op, ref)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self._data.get_search(self._name), attr)


class SearchListHandle:
    """``data.searches``: handles by name, ``del``, iteration, ``in``, and ``load``/``save`` to JSON."""

    def __init__(self, data: GameData) -> None:
        self._data = data

    def __getitem__(self, name: str) -> SearchHandle:
        return SearchHandle(self._data, name)

    def __delitem__(self, name: str) -> None:
        self._data.remove_search(name)

    def __iter__(self) -> Iterator[tuple[str, Search]]:
        return iter(self._data.list_searches().items())

    def __contains__(self, name: object) -> bool:
        return name in self._data.list_searches()

    def __len__(self) -> int:
        return len(self._data.list_searches())

    def load(self, name: Optional[str | os.PathLike[str]] = None, *,
             path: Optional[str | os.PathLike[str]] = None) -> None:
        """Read searches from the JSON file ``name`` (a path; ``path=`` is the same) that :meth:`save` wrote."""
        self._data.load_searches(_required("load", "name", name, "path", path))

    def save(self, name: Optional[str | os.PathLike[str]] = None, *,
             path: Optional[str | os.PathLike[str]] = None) -> None:
        """Write every search to the JSON file ``name`` (a path; ``path=`` is the same).

        See :meth:`GameData.save_searches`.
        """
        self._data.save_searches(_required("save", "name", name, "path", path))

"""Scenarios (``scenario.json``): what earns reward and what ends an episode.

A scenario is loaded once into plain specs, then compiled into tuples that
:meth:`Scenario.update` evaluates each frame from two lists the caller
fills, the current value and the change since the last frame of every
variable in :attr:`Scenario.watched`.

Semantics (Gym Retro's):

- ``reward`` (player 0) and ``rewards`` (one spec per player, at most
  :data:`MAX_PLAYERS`; both may be given and add up) hold ``variables``
  (name -> reward spec), ``time`` (a reward spec evaluated with value =
  delta = 1 every frame) and ``script`` (``[lua:]function``; when present it
  replaces the variables and the time reward of that player).
- A reward spec: ``x`` is the variable's change (``measurement`` "delta",
  the default) or its value ("absolute"); ``m = op(x, reference)`` (no op:
  ``m = x``); the reward is ``m * reward`` if ``m > 0``, ``m * penalty`` if
  ``m < 0``. ``reward`` and ``penalty`` default to 0.
- ``done``: ``variables`` (name -> done spec: true when ``op(x, reference)
  > 0``, ``measurement`` default "absolute"), ``nodes`` (name -> nested
  ``{variables, nodes, condition}``), ``condition`` "any" (default) or
  "all", ``script``. Variables are tested before nodes, short-circuiting.
- ``actions`` replaces the system's action groups; ``scripts`` are Lua files
  relative to the scenario; ``crop`` ``[x, y, w, h]`` applies to every player
  and ``crops`` gives one per player (0 for w or h means "to the edge").
- Each frame: done first, then each player's reward (added to the total),
  then ``frame += 1``.

Choices where Gym Retro is buggy (§12.7-8 of the behaviour notes):

- Reproduced, because changing them would change users' rewards or
  episodes: the time reward ignores ``penalty`` (value and delta are 1, so
  ``m`` is never negative); a done variable without ``op`` is done when its
  value is > 0; an empty ``all`` condition is done at once; the reset
  frame is scored and counted in ``frame`` (see ``GameData.reset``).
- Fixed: ``crops`` reads each player's own crop (Gym Retro indexes the
  ``crop`` key instead). The delta of the first frame after a reset is 0,
  not a difference spanning two episodes (``GameData`` clears its previous
  snapshot on reset).
- Stricter: an unknown ``op``, ``measurement`` or ``condition``, or a
  malformed value, raises :class:`~retro.errors.IntegrationError` naming the
  file and the key, where Gym Retro silently used a default.

Rewards are Python floats (Gym Retro sums in float32).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

from retro.data.ops import OPS, Op, get_op
from retro.errors import IntegrationError

__all__ = ["Scenario", "RewardSpec", "DoneSpec", "DoneNode", "PlayerReward", "MAX_PLAYERS",
           "SCRIPT_SCOPES", "parse_script_ref"]

MAX_PLAYERS = 2
MEASUREMENTS = ("delta", "absolute")
CONDITIONS = ("any", "all")
#: Script scopes retro runs (the file extension of a script names its scope).
SCRIPT_SCOPES = ("lua",)

ScriptCall = Callable[[str, str], Any]


@dataclass
class RewardSpec:
    measurement: str = "delta"
    op: Optional[str] = None
    reference: int = 0
    reward: float = 0.0
    penalty: float = 0.0

    def calculate(self, value: int, delta: int) -> float:
        x = delta if self.measurement == "delta" else value
        fn = OPS.get(self.op) if self.op else None
        m = x if fn is None else fn(x, self.reference)
        if m > 0:
            return m * self.reward
        if m < 0:
            return m * self.penalty
        return 0.0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.measurement != "delta":
            out["measurement"] = self.measurement
        if self.op:
            out["op"] = self.op
        if self.reference:
            out["reference"] = self.reference
        if self.reward:
            out["reward"] = self.reward
        if self.penalty:
            out["penalty"] = self.penalty
        return out


@dataclass
class DoneSpec:
    measurement: str = "absolute"
    op: Optional[str] = None
    reference: int = 0

    def test(self, value: int, delta: int) -> bool:
        x = delta if self.measurement == "delta" else value
        fn = OPS.get(self.op) if self.op else None
        return (x if fn is None else fn(x, self.reference)) > 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.measurement != "absolute":
            out["measurement"] = self.measurement
        if self.op:
            out["op"] = self.op
        if self.reference:
            out["reference"] = self.reference
        return out


@dataclass
class DoneNode:
    variables: dict[str, DoneSpec] = field(default_factory=dict)
    nodes: dict[str, "DoneNode"] = field(default_factory=dict)
    condition: str = "any"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.variables:
            out["variables"] = {k: v.to_json() for k, v in self.variables.items()}
        if self.nodes:
            out["nodes"] = {k: v.to_json() for k, v in self.nodes.items()}
        if self.condition != "any":
            out["condition"] = self.condition
        return out

    def names(self) -> list[str]:
        out = list(self.variables)
        for node in self.nodes.values():
            out += node.names()
        return out


@dataclass
class PlayerReward:
    variables: dict[str, RewardSpec] = field(default_factory=dict)
    time: Optional[RewardSpec] = None
    script: Optional[tuple[str, str]] = None  # (scope, function); scope "" = the only one

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.variables:
            out["variables"] = {k: v.to_json() for k, v in self.variables.items()}
        if self.time is not None and (self.time.reward or self.time.penalty):
            out["time"] = self.time.to_json()
        if self.script:
            out["script"] = f"{self.script[0]}:{self.script[1]}" if self.script[0] else self.script[1]
        return out

    def empty(self) -> bool:
        return not self.to_json()


def parse_script_ref(ref: Any, where: str) -> tuple[str, str]:
    """``"lua:name"`` -> ("lua", "name"); a bare ``"name"`` -> ("", "name")."""
    if not isinstance(ref, str) or not ref:
        raise IntegrationError(f"{where}: a script must be a function name like 'lua:name', not {ref!r}")
    scope, sep, name = ref.partition(":")
    if not sep:
        return "", ref
    if scope not in SCRIPT_SCOPES:
        raise IntegrationError(f"{where}: unknown script scope {scope!r} in {ref!r}; known: {', '.join(SCRIPT_SCOPES)}")
    if not name:
        raise IntegrationError(f"{where}: {ref!r} names no function")
    return scope, name


# -- reading JSON -------------------------------------------------------------------

def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IntegrationError(f"{where} must be a number, not {value!r}")
    return int(value)


def _float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IntegrationError(f"{where} must be a number, not {value!r}")
    return float(value)


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise IntegrationError(f"{where} must be an object, not {type(value).__name__}")
    return value


def _measurement(spec: Mapping[str, Any], default: str, where: str) -> str:
    m = spec.get("measurement", default)
    if m is None or m == "":
        return default
    if m not in MEASUREMENTS:
        raise IntegrationError(f"{where}.measurement: unknown measurement {m!r}; use 'delta' or 'absolute'")
    return str(m)


def _op(spec: Mapping[str, Any], where: str) -> Optional[str]:
    op = spec.get("op")
    get_op(op, f"{where}.op: ")
    return op or None


def _reward_spec(raw: Any, where: str) -> RewardSpec:
    spec = _obj(raw, where)
    return RewardSpec(
        measurement=_measurement(spec, "delta", where),
        op=_op(spec, where),
        reference=_int(spec.get("reference", 0), f"{where}.reference"),
        reward=_float(spec.get("reward", 0.0), f"{where}.reward"),
        penalty=_float(spec.get("penalty", 0.0), f"{where}.penalty"),
    )


def _done_spec(raw: Any, where: str) -> DoneSpec:
    spec = _obj(raw, where)
    return DoneSpec(
        measurement=_measurement(spec, "absolute", where),
        op=_op(spec, where),
        reference=_int(spec.get("reference", 0), f"{where}.reference"),
    )


def _condition(raw: Mapping[str, Any], where: str) -> str:
    cond = raw.get("condition", "any")
    if cond not in CONDITIONS:
        raise IntegrationError(f"{where}.condition: must be 'any' or 'all', not {cond!r}")
    return str(cond)


def _done_node(raw: Any, where: str) -> DoneNode:
    node = _obj(raw, where)
    variables = _obj(node.get("variables", {}), f"{where}.variables")
    nodes = _obj(node.get("nodes", {}), f"{where}.nodes")
    return DoneNode(
        variables={k: _done_spec(v, f"{where}.variables.{k}") for k, v in variables.items()},
        nodes={k: _done_node(v, f"{where}.nodes.{k}") for k, v in nodes.items()},
        condition=_condition(node, where),
    )


def _player_reward(raw: Any, where: str, into: PlayerReward) -> None:
    spec = _obj(raw, where)
    variables = _obj(spec.get("variables", {}), f"{where}.variables")
    for k, v in variables.items():
        # a variable given in both "reward" and "rewards"[0] keeps its first spec, as in Gym Retro
        into.variables.setdefault(k, _reward_spec(v, f"{where}.variables.{k}"))
    if "time" in spec:
        into.time = _reward_spec(spec["time"], f"{where}.time")
    if "script" in spec:
        into.script = parse_script_ref(spec["script"], f"{where}.script")


def _crop(raw: Any, where: str) -> tuple[int, int, int, int]:
    if not isinstance(raw, (list, tuple)) or len(raw) != 4:
        raise IntegrationError(f"{where} must be [x, y, width, height], not {raw!r}")
    values = tuple(_int(v, f"{where}[{i}]") for i, v in enumerate(raw))
    if any(v < 0 for v in values):
        raise IntegrationError(f"{where} must not be negative: {raw!r}")
    return values  # type: ignore[return-value]


def _actions(raw: Any, where: str) -> list[list[list[str]]]:
    def bad() -> IntegrationError:
        return IntegrationError(f"{where} must be a list of groups of combos of button names, "
                                f"like [[[], ['UP'], ['DOWN']]]")
    if not isinstance(raw, list):
        raise bad()
    out = []
    for group in raw:
        if not isinstance(group, list):
            raise bad()
        combos = []
        for combo in group:
            if not isinstance(combo, list) or not all(isinstance(b, str) for b in combo):
                raise bad()
            combos.append(list(combo))
        out.append(combos)
    return out


# -- compiled evaluation ----------------------------------------------------------------

# (index into watched, use delta, op or None, reference, reward, penalty)
_RewardTerm = tuple[int, bool, Optional[Op], int, float, float]
# (condition is all, [(index, use delta, op, reference)], [sub nodes])
_DoneTree = tuple[bool, list[tuple[int, bool, Optional[Op], int]], list[Any]]


def _eval_done(node: _DoneTree, values: Sequence[int], deltas: Sequence[int]) -> bool:
    is_all, terms, subnodes = node
    for i, use_delta, op, ref in terms:
        x = deltas[i] if use_delta else values[i]
        if (x if op is None else op(x, ref)) > 0:
            if not is_all:
                return True
        elif is_all:
            return False
    for sub in subnodes:
        if _eval_done(sub, values, deltas):
            if not is_all:
                return True
        elif is_all:
            return False
    return is_all


def _generate_update(done: Optional[_DoneTree], players: list[Any]) -> Callable[..., bool]:
    """One Python function doing what :meth:`Scenario.update` does for a scenario without scripts.

    ``update(values, deltas, reward, total)`` evaluates the done tree and
    each player's reward terms as straight-line code (no loops over term
    tuples, no recursion), stores each player's reward in ``reward[p]``, adds
    it to ``total[p]`` and returns done. It computes exactly what the general
    path computes, in the same order, so rewards are bit-identical.
    """
    names: dict[str, Any] = {}

    def term(i: int, use_delta: bool, op: Optional[Op], ref: int) -> str:
        source = f"deltas[{i}]" if use_delta else f"values[{i}]"
        if op is None:
            return source
        k = len(names)
        names[f"op{k}"], names[f"ref{k}"] = op, ref
        return f"op{k}({source}, ref{k})"

    def done_expr(node: _DoneTree) -> str:
        is_all, terms, subnodes = node
        parts = [f"({term(i, d, op, ref)}) > 0" for i, d, op, ref in terms]
        parts += [f"({done_expr(sub)})" for sub in subnodes]
        if not parts:
            return "True" if is_all else "False"
        return (" and " if is_all else " or ").join(parts)

    lines = ["def update(values, deltas, reward, total):",
             f"    done = {done_expr(done) if done is not None else 'False'}"]
    for p, _script, time, terms in players:
        if time is None:
            lines.append(f"    r = 0.0")
        else:
            names[f"time{p}"] = time
            lines.append(f"    r = time{p}.calculate(1, 1)")
        for i, use_delta, op, ref, rew, pen in terms:
            k = len(names)
            names[f"rew{k}"], names[f"pen{k}"] = rew, pen
            lines += [f"    m = {term(i, use_delta, op, ref)}",
                      "    if m > 0:",
                      f"        r += m * rew{k}",
                      "    elif m < 0:",
                      f"        r += m * pen{k}"]
        lines += [f"    reward[{p}] = r", f"    total[{p}] += r"]
    lines.append("    return done")
    exec("\n".join(lines), names)  # noqa: S102  (code built above from numbers and names only)
    return names["update"]  # type: ignore[no-any-return]


class Scenario:
    """A loaded scenario plus its running state (frame, rewards, done).

    Build one with :meth:`load` (a file), :meth:`from_json` (a parsed
    document) or ``Scenario()`` (empty: no reward, never done).
    """

    def __init__(self) -> None:
        self.path: Optional[str] = None
        self.rewards: list[PlayerReward] = [PlayerReward() for _ in range(MAX_PLAYERS)]
        self.done = DoneNode()
        self.done_script: Optional[tuple[str, str]] = None
        self.actions: Optional[list[list[list[str]]]] = None
        self.scripts: list[tuple[str, str]] = []  # (path as written, scope)
        self.crops: list[tuple[int, int, int, int]] = [(0, 0, 0, 0)] * MAX_PLAYERS
        self.frame = 0
        self.reward = [0.0] * MAX_PLAYERS
        self.total_reward = [0.0] * MAX_PLAYERS
        self.is_done = False
        self._compile()

    # -- loading and saving --------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Scenario":
        """Read a scenario file; :class:`IntegrationError` names the file and key on error."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise IntegrationError(f"cannot read scenario {path}: {e.strerror or e}") from e
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise IntegrationError(f"{path}: not valid JSON: {e}") from e
        return cls.from_json(doc, path)

    @classmethod
    def from_json(cls, doc: Any, path: Optional[str] = None) -> "Scenario":
        where = path or "<scenario>"
        doc = _obj(doc, where)
        scen = cls()
        scen.path = path
        if "reward" in doc:
            _player_reward(doc["reward"], f"{where}: reward", scen.rewards[0])
        if "rewards" in doc:
            rewards = doc["rewards"]
            if not isinstance(rewards, list):
                raise IntegrationError(f"{where}: rewards must be a list, one reward spec per player")
            for i, raw in enumerate(rewards[:MAX_PLAYERS]):
                _player_reward(raw, f"{where}: rewards[{i}]", scen.rewards[i])
        if "done" in doc:
            done = _obj(doc["done"], f"{where}: done")
            scen.done = _done_node(done, f"{where}: done")
            if "script" in done:
                scen.done_script = parse_script_ref(done["script"], f"{where}: done.script")
        if "actions" in doc:
            scen.actions = _actions(doc["actions"], f"{where}: actions")
        if "scripts" in doc:
            scripts = doc["scripts"]
            if not isinstance(scripts, list) or not all(isinstance(s, str) and s for s in scripts):
                raise IntegrationError(f"{where}: scripts must be a list of file names")
            for s in scripts:
                scen.scripts.append(_script_file(s, f"{where}: scripts"))
        if "crop" in doc:
            crop = _crop(doc["crop"], f"{where}: crop")
            scen.crops = [crop] * MAX_PLAYERS
        if "crops" in doc:
            crops = doc["crops"]
            if not isinstance(crops, list):
                raise IntegrationError(f"{where}: crops must be a list of [x, y, width, height]")
            scen.crops = [_crop(crops[i], f"{where}: crops[{i}]") if i < len(crops) else (0, 0, 0, 0)
                          for i in range(MAX_PLAYERS)]
        scen._compile()
        return scen

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        players = [r.to_json() for r in self.rewards]
        while players and not players[-1]:
            players.pop()
        if len(players) > 1:
            doc["rewards"] = players
        elif players:
            doc["reward"] = players[0]
        done = self.done.to_json()
        if self.done_script:
            scope, name = self.done_script
            done["script"] = f"{scope}:{name}" if scope else name
        if done:
            doc["done"] = done
        if self.actions is not None:
            doc["actions"] = self.actions
        if self.scripts:
            doc["scripts"] = [p if os.path.splitext(p)[1][1:] == scope else f"{scope}:{p}"
                              for p, scope in self.scripts]
        if any(c != self.crops[0] for c in self.crops):
            doc["crops"] = [list(c) for c in self.crops]
        elif self.crops[0] != (0, 0, 0, 0):
            doc["crop"] = list(self.crops[0])
        return doc

    def save(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, indent=2)
            f.write("\n")

    # -- what the scenario reads -------------------------------------------------------------

    @property
    def base_dir(self) -> str:
        return os.path.dirname(os.path.abspath(self.path)) if self.path else os.getcwd()

    def script_paths(self) -> list[tuple[str, str]]:
        """(absolute path, scope) of each script file."""
        return [(os.path.join(self.base_dir, p), scope) for p, scope in self.scripts]

    def script_refs(self) -> list[tuple[str, str]]:
        refs = [r.script for r in self.rewards if r.script]
        if self.done_script:
            refs.append(self.done_script)
        return refs  # type: ignore[return-value]

    def _compile(self) -> None:
        """Number the variables the scenario reads and build the per-frame tuples."""
        watched: dict[str, int] = {}

        def index(name: str) -> int:
            return watched.setdefault(name, len(watched))

        def tree(node: DoneNode) -> _DoneTree:
            terms = [(index(k), s.measurement == "delta", OPS.get(s.op) if s.op else None, s.reference)
                     for k, s in node.variables.items()]
            return (node.condition == "all", terms, [tree(n) for n in node.nodes.values()])

        self._done_tree: Optional[_DoneTree] = None if self.done_script else tree(self.done)
        self._reward_terms: list[list[_RewardTerm]] = []
        self._time_terms: list[Optional[RewardSpec]] = []
        for player in self.rewards:
            if player.script:
                self._reward_terms.append([])
                self._time_terms.append(None)
                continue
            self._reward_terms.append([
                (index(k), s.measurement == "delta", OPS.get(s.op) if s.op else None, s.reference,
                 s.reward, s.penalty)
                for k, s in player.variables.items()])
            t = player.time
            self._time_terms.append(t if t is not None and (t.reward or t.penalty) else None)
        self.watched: tuple[str, ...] = tuple(watched)
        # players whose reward can be nonzero: (player, script, time spec, terms)
        self._players = [(p, self.rewards[p].script, self._time_terms[p], self._reward_terms[p])
                         for p in range(MAX_PLAYERS)
                         if self.rewards[p].script or self._time_terms[p] or self._reward_terms[p]]
        self._fast_update = None if self.script_refs() else _generate_update(self._done_tree, self._players)

    # -- running ---------------------------------------------------------------------------

    def restart(self) -> None:
        """Back to frame 0 with no reward (the scenario part of ``GameData.reset``)."""
        self.frame = 0
        self.reward = [0.0] * MAX_PLAYERS
        self.total_reward = [0.0] * MAX_PLAYERS
        self.is_done = False

    def update(self, values: Sequence[int], deltas: Sequence[int], call: Optional[ScriptCall] = None) -> None:
        """One frame: done, then rewards, then ``frame += 1``.

        ``values[i]``/``deltas[i]`` belong to ``watched[i]``; ``call(scope,
        function)`` runs a script function.
        """
        if self._fast_update is not None:
            self.is_done = self._fast_update(values, deltas, self.reward, self.total_reward)
            self.frame += 1
            return
        if self.done_script:
            self.is_done = _truth(_run(call, self.done_script))
        else:
            self.is_done = _eval_done(self._done_tree, values, deltas)  # type: ignore[arg-type]
        reward, total = self.reward, self.total_reward
        for p, script, time, terms in self._players:
            if script:
                r = _number(_run(call, script))
            else:
                r = 0.0 if time is None else time.calculate(1, 1)
                for i, use_delta, op, ref, rew, pen in terms:
                    x = deltas[i] if use_delta else values[i]
                    m = x if op is None else op(x, ref)
                    if m > 0:
                        r += m * rew
                    elif m < 0:
                        r += m * pen
            reward[p] = r
            total[p] += r
        self.frame += 1

    @property
    def timestep(self) -> int:
        """``frame // 4`` (Gym Retro's fixed four frames per step)."""
        return self.frame // 4

    def crop(self, player: int = 0) -> tuple[int, int, int, int]:
        _check_player(player)
        return self.crops[player]


def _check_player(player: int) -> None:
    if not 0 <= player < MAX_PLAYERS:
        raise ValueError(f"requested player {player} is out of bounds (0-{MAX_PLAYERS - 1})")


def _run(call: Optional[ScriptCall], ref: tuple[str, str]) -> Any:
    if call is None:
        raise IntegrationError(f"scenario calls script {ref[1]!r} but no script runner is set")
    return call(*ref)


def _number(value: Any) -> float:
    """A script's reward: numbers and booleans count, anything else is 0."""
    if isinstance(value, (bool, int, float)):
        return float(value)
    return 0.0


def _truth(value: Any) -> bool:
    """A script's done flag: true for ``true`` and nonzero numbers."""
    if isinstance(value, (bool, int, float)):
        return bool(value)
    return False


def _script_file(entry: str, where: str) -> tuple[str, str]:
    """(file, scope) of a ``scripts`` entry: ``file.lua`` or ``scope:file``."""
    scope, sep, rest = entry.partition(":")
    if sep and scope in SCRIPT_SCOPES:
        return rest, scope
    ext = os.path.splitext(entry)[1][1:]
    if ext not in SCRIPT_SCOPES:
        raise IntegrationError(f"{where}: cannot run {entry!r}: retro runs {', '.join(SCRIPT_SCOPES)} scripts")
    return entry, ext

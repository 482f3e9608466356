"""Scenarios: the 12 operations, done trees, reward arithmetic, players, update order."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retro.data.ops import OP_NAMES, calculate, calculate_array
from retro.data.scenario import Scenario
from retro.errors import IntegrationError

# Reference model of the operations, from the table in the behaviour notes.
REFERENCE_OPS = {
    "equal": lambda x, r: 1 if x == r else 0,
    "negative-equal": lambda x, r: 1 if x == -r else 0,
    "not-equal": lambda x, r: 1 if x != r else 0,
    "less-than": lambda x, r: 1 if x < r else 0,
    "greater-than": lambda x, r: 1 if x > r else 0,
    "less-or-equal": lambda x, r: 1 if x <= r else 0,
    "greater-or-equal": lambda x, r: 1 if x >= r else 0,
    "nonzero": lambda x, r: 1 if x else 0,
    "zero": lambda x, r: 0 if x else 1,
    "positive": lambda x, r: 1 if x > 0 else 0,
    "negative": lambda x, r: 1 if x < 0 else 0,
    "sign": lambda x, r: -1 if x < 0 else (1 if x > 0 else 0),
    None: lambda x, r: x,
}

ints = st.integers(-1000, 1000)


def run(scen: Scenario, values: dict[str, int], deltas: dict[str, int] | None = None) -> None:
    deltas = deltas or {}
    scen.update([values.get(n, 0) for n in scen.watched], [deltas.get(n, 0) for n in scen.watched])


def test_there_are_twelve_named_operations() -> None:
    assert set(OP_NAMES) == set(REFERENCE_OPS) - {None}
    assert len(OP_NAMES) == 12


@given(st.sampled_from(list(REFERENCE_OPS)), ints, ints)
def test_operations_match_the_reference(op: str | None, x: int, ref: int) -> None:
    assert calculate(op, x, ref) == REFERENCE_OPS[op](x, ref)


@given(st.sampled_from(list(REFERENCE_OPS)), st.lists(ints, min_size=1, max_size=20), ints)
def test_array_operations_match_the_scalar_ones(op: str | None, xs: list[int], ref: int) -> None:
    import numpy as np

    got = calculate_array(op, np.array(xs, dtype=np.int64), ref)
    assert list(got) == [REFERENCE_OPS[op](x, ref) != 0 for x in xs]


# -- reward specs ---------------------------------------------------------------------------

@given(st.sampled_from(list(REFERENCE_OPS)), ints, ints, ints,
       st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0]), st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0]),
       st.sampled_from(["delta", "absolute"]))
def test_reward_spec_matches_the_reference(op: str | None, value: int, delta: int, ref: int,
                                           reward: float, penalty: float, measurement: str) -> None:
    spec: dict[str, Any] = {"reward": reward, "penalty": penalty, "reference": ref,
                            "measurement": measurement}
    if op:
        spec["op"] = op
    scen = Scenario.from_json({"reward": {"variables": {"v": spec}}})
    run(scen, {"v": value}, {"v": delta})
    x = delta if measurement == "delta" else value
    m = REFERENCE_OPS[op](x, ref)
    expected = m * reward if m > 0 else (m * penalty if m < 0 else 0.0)
    assert scen.reward[0] == pytest.approx(expected)


@pytest.mark.parametrize("reward,penalty,delta,expected", [
    (1, 0, 5, 5), (1, 0, -1, 0),     # penalty 0: losses are free
    (0, 1, -1, -1), (0, 1, 3, 0),    # reward 0: gains are free
    (-1, 1, 2, -2), (-1, 1, -2, -2),  # both signs negative
    (1, -1, -3, 3),                  # a negative penalty rewards losses
])
def test_reward_penalty_sign_matrix(reward: float, penalty: float, delta: int, expected: float) -> None:
    scen = Scenario.from_json({"reward": {"variables": {"v": {"reward": reward, "penalty": penalty}}}})
    run(scen, {"v": 100}, {"v": delta})
    assert scen.reward[0] == expected


def test_measurement_defaults_delta_for_rewards_and_absolute_for_done() -> None:
    scen = Scenario.from_json({
        "reward": {"variables": {"score": {"reward": 1}}},
        "done": {"variables": {"lives": {"op": "zero"}}},
    })
    run(scen, {"score": 500, "lives": 0}, {"score": 20, "lives": -1})
    assert scen.reward[0] == 20          # delta, not the value 500
    assert scen.is_done                  # absolute: lives == 0, though its delta is -1
    scen2 = Scenario.from_json({"reward": {"variables": {"score": {"reward": 1, "measurement": "absolute"}}}})
    run(scen2, {"score": 500}, {"score": 20})
    assert scen2.reward[0] == 500


def test_time_reward_adds_reward_each_frame_and_ignores_penalty() -> None:
    scen = Scenario.from_json({"reward": {"time": {"reward": 0.5, "penalty": 2}}})
    for _ in range(4):
        run(scen, {})
        assert scen.reward[0] == 0.5
    assert scen.total_reward[0] == 2.0
    # with an op the value 1 goes through it: 'zero' of 1 is 0, so nothing
    scen = Scenario.from_json({"reward": {"time": {"reward": 3, "op": "zero"}}})
    run(scen, {})
    assert scen.reward[0] == 0


def test_two_players_get_their_own_rewards() -> None:
    scen = Scenario.from_json({"rewards": [
        {"variables": {"p1": {"reward": 1}, "p2": {"penalty": 1}}},
        {"variables": {"p1": {"penalty": -1}, "p2": {"reward": 1}}},
    ]})
    run(scen, {}, {"p1": 1, "p2": 0})
    assert scen.reward == [1.0, 0.0]
    run(scen, {}, {"p1": 0, "p2": 1})
    assert scen.reward == [0.0, 1.0]
    run(scen, {}, {"p1": -2, "p2": 0})
    assert scen.reward == [0.0, 2.0]
    assert scen.total_reward == [1.0, 3.0]


def test_reward_and_rewards_add_up_and_extra_players_are_ignored() -> None:
    scen = Scenario.from_json({
        "reward": {"variables": {"a": {"reward": 1}}},
        "rewards": [{"variables": {"b": {"reward": 10}}}, {}, {"variables": {"c": {"reward": 1}}}],
    })
    assert "c" not in scen.watched
    run(scen, {}, {"a": 1, "b": 1})
    assert scen.reward[0] == 11


# -- done trees --------------------------------------------------------------------------------

VARS = ["a", "b", "c", "d"]
leaf = st.fixed_dictionaries({"op": st.sampled_from(list(OP_NAMES)), "reference": st.integers(-3, 3)})


def node_strategy(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    children = st.dictionaries(st.sampled_from(VARS), leaf, max_size=3)
    if depth == 0:
        nodes = st.just({})
    else:
        nodes = st.dictionaries(st.text("xyz", min_size=1, max_size=3), node_strategy(depth - 1), max_size=2)
    return st.fixed_dictionaries({"variables": children, "nodes": nodes,
                                  "condition": st.sampled_from(["any", "all"])})


def reference_done(node: dict[str, Any], values: dict[str, int]) -> bool:
    results = [REFERENCE_OPS[s["op"]](values[v], s["reference"]) > 0 for v, s in node["variables"].items()]
    results += [reference_done(n, values) for n in node["nodes"].values()]
    return all(results) if node["condition"] == "all" else any(results)


@given(node_strategy(3), st.fixed_dictionaries({v: st.integers(-3, 3) for v in VARS}))
def test_done_trees_match_the_reference(tree: dict[str, Any], values: dict[str, int]) -> None:
    scen = Scenario.from_json({"done": tree})
    run(scen, values)
    assert scen.is_done == reference_done(tree, values)


def test_empty_all_is_done_at_once_and_empty_any_never() -> None:
    scen = Scenario.from_json({"done": {"condition": "all"}})
    run(scen, {})
    assert scen.is_done
    scen = Scenario.from_json({"done": {}})
    run(scen, {})
    assert not scen.is_done
    assert not Scenario().is_done


def test_done_variable_without_op_is_done_when_positive() -> None:
    scen = Scenario.from_json({"done": {"variables": {"flag": {}}}})
    run(scen, {"flag": 0})
    assert not scen.is_done
    run(scen, {"flag": 2})
    assert scen.is_done
    run(scen, {"flag": -1})
    assert not scen.is_done


# -- order of a frame ---------------------------------------------------------------------------

def test_update_order_is_done_then_rewards_then_frame() -> None:
    calls: list[tuple[str, int]] = []
    scen = Scenario.from_json({
        "rewards": [{"script": "lua:r0"}, {"script": "lua:r1"}],
        "done": {"script": "lua:done"},
    })

    def call(scope: str, name: str) -> Any:
        assert scope == "lua"
        calls.append((name, scen.frame))
        return {"r0": 1.5, "r1": True, "done": 0}[name]

    scen.update([], [], call)
    scen.update([], [], call)
    assert calls == [("done", 0), ("r0", 0), ("r1", 0), ("done", 1), ("r0", 1), ("r1", 1)]
    assert scen.frame == 2
    assert scen.reward == [1.5, 1.0]
    assert scen.total_reward == [3.0, 2.0]
    assert not scen.is_done


def test_a_reward_script_replaces_variables_and_time() -> None:
    scen = Scenario.from_json({"reward": {"variables": {"v": {"reward": 1}}, "time": {"reward": 1},
                                          "script": "f"}})
    scen.update([7] * len(scen.watched), [7] * len(scen.watched), lambda scope, name: None)
    assert scen.reward[0] == 0.0  # nil counts as 0


def test_restart_clears_rewards_and_frame() -> None:
    scen = Scenario.from_json({"reward": {"time": {"reward": 1}}})
    run(scen, {})
    run(scen, {})
    assert (scen.frame, scen.total_reward[0]) == (2, 2.0)
    scen.restart()
    assert (scen.frame, scen.total_reward[0], scen.reward[0], scen.is_done) == (0, 0.0, 0.0, False)


# -- crops, actions, files -------------------------------------------------------------------------

def test_crop_applies_to_every_player_and_crops_per_player() -> None:
    scen = Scenario.from_json({"crop": [0, 0, 256, 0]})
    assert scen.crop(0) == scen.crop(1) == (0, 0, 256, 0)
    scen = Scenario.from_json({"crops": [[1, 2, 3, 4], [5, 6, 7, 8]]})
    assert scen.crop(0) == (1, 2, 3, 4)
    assert scen.crop(1) == (5, 6, 7, 8)
    scen = Scenario.from_json({"crops": [[1, 2, 3, 4]]})
    assert scen.crop(1) == (0, 0, 0, 0)
    with pytest.raises(ValueError):
        scen.crop(2)


@pytest.mark.parametrize("doc,key", [
    ({"reward": {"variables": {"score": {"op": "bigger"}}}}, "reward.variables.score.op"),
    ({"done": {"variables": {"lives": {"op": "zeroo"}}}}, "done.variables.lives.op"),
    ({"done": {"nodes": {"n": {"variables": {"x": {"op": "nope"}}}}}}, "done.nodes.n.variables.x.op"),
    ({"done": {"condition": "most"}}, "done.condition"),
    ({"reward": {"variables": {"s": {"measurement": "relative"}}}}, "reward.variables.s.measurement"),
    ({"reward": {"variables": {"s": {"reward": "lots"}}}}, "reward.variables.s.reward"),
    ({"reward": {"variables": {"s": {"reference": [1]}}}}, "reward.variables.s.reference"),
    ({"crop": [0, 0, 10]}, "crop"),
    ({"actions": [["UP"]]}, "actions"),
    ({"rewards": {"variables": {}}}, "rewards"),
    ({"reward": {"script": "python:f"}}, "reward.script"),
    ({"scripts": ["helpers.py"]}, "scripts"),
])
def test_malformed_scenarios_name_the_file_and_key(tmp_path: Any, doc: dict[str, Any], key: str) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(IntegrationError) as info:
        Scenario.load(path)
    assert str(path) in str(info.value)
    assert key in str(info.value)


def test_malformed_json_names_the_file(tmp_path: Any) -> None:
    path = tmp_path / "scenario.json"
    path.write_text('{"reward": ')
    with pytest.raises(IntegrationError, match="scenario.json: not valid JSON"):
        Scenario.load(path)


def test_save_then_load_keeps_the_scenario(tmp_path: Any) -> None:
    doc = {
        "rewards": [{"variables": {"score": {"reward": 1.0, "penalty": 0.5, "op": "sign"}},
                     "time": {"reward": -0.01}},
                    {"script": "lua:p2"}],
        "done": {"variables": {"lives": {"op": "zero"}},
                 "nodes": {"both": {"variables": {"a": {"op": "equal", "reference": 3, "measurement": "delta"}},
                                    "condition": "all"}},
                 "condition": "any"},
        "actions": [[[], ["UP"]]],
        "scripts": ["script.lua"],
        "crops": [[0, 0, 10, 10], [5, 5, 0, 0]],
    }
    scen = Scenario.from_json(doc)
    path = tmp_path / "out.json"
    scen.save(path)
    again = Scenario.load(path)
    assert again.to_json() == scen.to_json()
    saved = json.loads(path.read_text())
    assert saved["done"]["nodes"]["both"]["condition"] == "all"
    assert saved["rewards"][1]["script"] == "lua:p2"
    assert again.crop(1) == (5, 5, 0, 0)


@pytest.mark.parametrize("failure", ["disk full mid-way", "fsync", "unserialisable"])
def test_a_failed_save_leaves_the_old_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    scen = Scenario.from_json({"reward": {"variables": {"score": {"reward": 1.0}}}, "crop": [0, 0, 10, 10]})
    path = tmp_path / "scenario.json"
    old = b'{"done": {"variables": {"lives": {"op": "zero"}}}}\n'
    path.write_bytes(old)
    real_dumps = json.dumps

    def dump_half_then_fail(doc: Any, f: Any, **kwargs: Any) -> None:
        f.write(real_dumps(doc, **kwargs)[:12])
        raise OSError(errno.ENOSPC, "No space left on device")

    def fail_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    if failure == "disk full mid-way":
        monkeypatch.setattr(json, "dump", dump_half_then_fail)
    elif failure == "fsync":
        monkeypatch.setattr(os, "fsync", fail_fsync)
    else:  # the document is written up to the value JSON cannot hold
        monkeypatch.setattr(Scenario, "to_json", lambda self: {"reward": {}, "done": {"bad": object()}})
    with pytest.raises((OSError, TypeError)):
        scen.save(path)
    assert path.read_bytes() == old
    assert not list(tmp_path.glob(".*.part"))
    monkeypatch.undo()
    scen.save(path)
    assert Scenario.load(path).to_json() == scen.to_json()


# -- whole scenarios against a reference model, frame by frame ------------------------------------

MEASURES = st.sampled_from([None, "delta", "absolute"])
OPS_OR_NONE = st.sampled_from([None, *OP_NAMES])
WEIGHTS = st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.5, -0.25, 1e-3])
SCRIPT_ANSWERS = st.sampled_from([None, True, False, 0, 1, -2, 0.5, "text"])
frame_ints = st.one_of(st.integers(-4, 4), st.integers(-(1 << 40), 1 << 40))


def _spec(draw: st.DrawFn, keys: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """A spec with each key present or not."""
    spec = {}
    for key, strategy in keys.items():
        if draw(st.booleans()):
            value = draw(strategy)
            if value is not None:
                spec[key] = value
    return spec


@st.composite
def reward_docs(draw: st.DrawFn) -> dict[str, Any]:
    keys = {"measurement": MEASURES, "op": OPS_OR_NONE, "reference": st.integers(-3, 3),
            "reward": WEIGHTS, "penalty": WEIGHTS}
    doc: dict[str, Any] = {"variables": {v: _spec(draw, keys) for v in draw(st.lists(st.sampled_from(VARS),
                                                                                      unique=True, max_size=4))}}
    if draw(st.booleans()):
        doc["time"] = _spec(draw, keys)
    if draw(st.integers(0, 4)) == 0:
        doc["script"] = draw(st.sampled_from(["lua:r0", "r1"]))
    return doc


@st.composite
def done_docs(draw: st.DrawFn, depth: int = 2) -> dict[str, Any]:
    keys = {"measurement": MEASURES, "op": OPS_OR_NONE, "reference": st.integers(-3, 3)}
    names = draw(st.permutations(VARS))[:draw(st.integers(0, 3))]  # no variables as often as one
    doc: dict[str, Any] = {"variables": {v: _spec(draw, keys) for v in names}}
    if depth:
        doc["nodes"] = {f"n{k}": draw(done_docs(depth - 1)) for k in range(draw(st.integers(0, 2)))}
    if draw(st.booleans()):
        doc["condition"] = draw(st.sampled_from(["any", "all"]))
    return doc


@st.composite
def scenario_docs(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if draw(st.booleans()):
        doc["reward"] = draw(reward_docs())
    if draw(st.booleans()):
        doc["rewards"] = draw(st.lists(reward_docs(), max_size=3))
    if draw(st.booleans()):
        doc["done"] = draw(done_docs())
        if draw(st.integers(0, 4)) == 0:
            doc["done"]["script"] = "lua:done"
    return doc


def reference_measure(spec: dict[str, Any], value: int, delta: int, default: str) -> int:
    x = delta if spec.get("measurement", default) == "delta" else value
    return REFERENCE_OPS[spec.get("op")](x, spec.get("reference", 0))


def reference_tree(node: dict[str, Any], values: dict[str, int], deltas: dict[str, int]) -> bool:
    results = [reference_measure(s, values[v], deltas[v], "absolute") > 0 for v, s in node["variables"].items()]
    results += [reference_tree(n, values, deltas) for n in node.get("nodes", {}).values()]
    return all(results) if node.get("condition", "any") == "all" else any(results)


def reference_players(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Each player's reward spec: "reward" then "rewards"[p]; a variable keeps its first spec,
    time and script their last."""
    players: list[dict[str, Any]] = [{"variables": {}}, {"variables": {}}]
    sources = [(0, doc["reward"])] if "reward" in doc else []
    sources += list(enumerate(doc.get("rewards", [])[:2]))
    for p, spec in sources:
        for v, s in spec["variables"].items():
            players[p]["variables"].setdefault(v, s)
        for key in ("time", "script"):
            if key in spec:
                players[p][key] = spec[key]
    return players


def reference_reward(player: dict[str, Any], values: dict[str, int], deltas: dict[str, int],
                     answers: dict[str, Any]) -> float:
    if "script" in player:
        answer = answers[player["script"].split(":")[-1]]
        return float(answer) if isinstance(answer, (bool, int, float)) else 0.0
    r = 0.0
    time = player.get("time")
    if time is not None:
        m = reference_measure(time, 1, 1, "delta")
        r += m * time.get("reward", 0.0) if m > 0 else 0.0  # m is never negative for value 1
    for v, s in player["variables"].items():
        m = reference_measure(s, values[v], deltas[v], "delta")
        if m > 0:
            r += m * s.get("reward", 0.0)
        elif m < 0:
            r += m * s.get("penalty", 0.0)
    return r


@settings(max_examples=300, deadline=None)
@given(scenario_docs(), st.lists(st.tuples(st.fixed_dictionaries({v: frame_ints for v in VARS}),
                                           st.fixed_dictionaries({v: frame_ints for v in VARS}),
                                           st.fixed_dictionaries({f: SCRIPT_ANSWERS for f in ("r0", "r1", "done")})),
                                 min_size=1, max_size=6))
def test_scenarios_match_the_reference_frame_by_frame(doc: dict[str, Any], frames: list[Any]) -> None:
    scen = Scenario.from_json(json.loads(json.dumps(doc)))
    players = reference_players(doc)
    totals = [0.0, 0.0]
    for frame, (values, deltas, answers) in enumerate(frames):
        calls: list[str] = []

        def call(scope: str, name: str, calls: list[str] = calls, answers: Any = answers) -> Any:
            calls.append(name)
            return answers[name]

        scen.update([values[n] for n in scen.watched], [deltas[n] for n in scen.watched], call)
        done_doc = doc.get("done", {"variables": {}})
        if "script" in done_doc:
            answer = answers["done"]
            done = bool(answer) if isinstance(answer, (bool, int, float)) else False
        else:
            done = reference_tree(done_doc, values, deltas)
        rewards = [reference_reward(p, values, deltas, answers) for p in players]
        totals = [t + r for t, r in zip(totals, rewards)]
        assert scen.is_done == done, frame
        assert scen.reward == rewards, frame
        assert scen.total_reward == totals, frame
        assert scen.frame == frame + 1
        expected_calls = ["done"] if "script" in done_doc else []
        expected_calls += [p["script"].split(":")[-1] for p in players if "script" in p]
        assert calls == expected_calls, frame


@given(st.sampled_from([None, "delta", "absolute"]), OPS_OR_NONE, st.integers(-3, 3), WEIGHTS, WEIGHTS,
       frame_ints, frame_ints)
def test_spec_methods_follow_the_scenario_rules(measurement: str | None, op: str | None, ref: int,
                                                reward: float, penalty: float, value: int, delta: int) -> None:
    spec: dict[str, Any] = {"reference": ref, "reward": reward, "penalty": penalty}
    if measurement:
        spec["measurement"] = measurement
    if op:
        spec["op"] = op
    scen = Scenario.from_json({"reward": {"variables": {"v": spec}},
                               "done": {"variables": {"v": {k: spec[k] for k in ("measurement", "op", "reference")
                                                            if k in spec}}}})
    m_reward = reference_measure(spec, value, delta, "delta")
    expected = m_reward * reward if m_reward > 0 else m_reward * penalty if m_reward < 0 else 0.0
    assert scen.rewards[0].variables["v"].calculate(value, delta) == expected
    assert scen.done.variables["v"].test(value, delta) == (reference_measure(spec, value, delta, "absolute") > 0)

"""The scenario compiled to C (``retro._program.FrameProgram``) agrees with the Python evaluator.

Both evaluate the same scenario over the same RAM, frame after frame: the
rewards, totals, done flags and frame counts must be identical (floats
compared exactly), for random scenarios, random variable types and random
RAM.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retro import Observations

from retro._program import FrameProgram
from retro._values import ValueTable
from retro.data import GameData
from retro.data.ops import OP_CODES, OP_NAMES
from retro.data.scenario import Scenario

VARS = ["a", "b", "c", "d", "e"]
TYPES = ["|u1", "|i1", "<u2", ">i2", "<u4", ">i4", "|d1", ">d2", "<n2", "<u7", "<i7", "|d8"]
ops = st.one_of(st.none(), st.sampled_from(list(OP_NAMES)))
numbers = st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, 0.1, 1e-3, 3.3, -7.25])
measurement = st.sampled_from(["delta", "absolute"])

reward_spec = st.fixed_dictionaries({"op": ops, "reference": st.integers(-300, 300), "reward": numbers,
                                     "penalty": numbers, "measurement": measurement})
done_spec = st.fixed_dictionaries({"op": ops, "reference": st.integers(-300, 300), "measurement": measurement})


def node(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    nodes = st.just({}) if depth == 0 else st.dictionaries(st.text("xyz", min_size=1, max_size=2), node(depth - 1),
                                                          max_size=2)
    return st.fixed_dictionaries({"variables": st.dictionaries(st.sampled_from(VARS), done_spec, max_size=3),
                                  "nodes": nodes, "condition": st.sampled_from(["any", "all"])})


player = st.fixed_dictionaries({"variables": st.dictionaries(st.sampled_from(VARS), reward_spec, max_size=4)},
                               optional={"time": reward_spec})
scenarios = st.fixed_dictionaries({"done": node(2)}, optional={"reward": player,
                                                               "rewards": st.lists(player, max_size=2)})
variables = st.fixed_dictionaries({v: st.tuples(st.sampled_from(TYPES), st.integers(0, 24),
                                                st.one_of(st.none(), st.integers(0, 0xFFFF), st.just(-256)))
                                   for v in VARS})


def game_data(ram: np.ndarray, variables: dict[str, tuple[str, int, int | None]], scen: dict[str, Any]) -> GameData:
    data = GameData()
    for name, (type_, address, mask) in variables.items():
        var: dict[str, Any] = {"address": address, "type": type_}
        if mask is not None:
            var["mask"] = mask
        data.set_variable(name, var)
    data._scenario = Scenario.from_json(scen)  # noqa: SLF001  (a scenario of our own, no file)
    data._invalidate()  # noqa: SLF001
    data.configure({0: ram})
    return data


@settings(max_examples=150, deadline=None)
@given(scenarios, variables, st.integers(0, 2**32 - 1))
def test_the_c_program_and_the_python_evaluator_agree(scen: dict[str, Any],
                                                        variables: dict[str, tuple[str, int, int | None]],
                                                        seed: int) -> None:
    rng = np.random.default_rng(seed)
    ram = np.zeros(32, np.uint8)
    c_side = game_data(ram, variables, scen)
    py_side = game_data(ram, variables, scen)
    assert c_side.frame_program() is not None
    py_side.set_value("not watched", 1)  # a custom variable: this one stays with the Python evaluator
    assert py_side.frame_program() is None
    for frame in range(12):
        # mostly small changes (so deltas and references meet), sometimes any bytes
        if rng.random() < 0.3:
            ram[:] = rng.integers(0, 256, ram.size)
        else:
            ram[rng.integers(0, ram.size, 3)] += rng.integers(-2, 3, 3).astype(np.uint8)
        if frame == 6:
            c_side.reset()
            py_side.reset()
        c_side.update_ram()
        py_side.update_ram()
        a, b = c_side.scenario, py_side.scenario
        assert (a.reward, a.total_reward, a.is_done, a.frame) == (b.reward, b.total_reward, b.is_done, b.frame)
        assert c_side.episode_state()["prev"] == py_side.episode_state()["prev"]


def test_values_beyond_62_bits_stay_with_python() -> None:
    ram = np.zeros(16, np.uint8)
    data = game_data(ram, {"big": ("<u8", 0, None)}, {"reward": {"variables": {"big": {"reward": 1.0}}}})
    assert data.frame_program() is None
    ram[7] = 0xFF
    data.update_ram()
    ram[0] = 1
    data.update_ram()
    assert data.scenario.reward[0] == 1.0


def test_a_scenario_calling_a_script_has_no_program() -> None:
    scen = Scenario.from_json({"reward": {"script": "lua:reward"}, "scripts": ["s.lua"]})
    assert scen.program_spec() is None


def test_the_program_refuses_what_it_cannot_hold() -> None:
    ram = np.zeros(8, np.uint8)
    table = ValueTable([ram], [([(0, i) for i in range(8)], "u", None)])
    with pytest.raises(ValueError, match="8 bytes"):
        FrameProgram(table, None, [])
    table = ValueTable([ram], [([(0, 0)], "u", None)])
    with pytest.raises(ValueError, match="reference"):
        FrameProgram(table, (False, [(0, False, OP_CODES["equal"], 1 << 70)], []), [])


def _vector_run(game: str, steps: int, **kwargs: Any) -> list[Any]:
    from retro.vector import RetroVectorEnv

    env = RetroVectorEnv(game, 2, frameskip=4, **kwargs)
    try:
        obs, info = env.reset(seed=3)
        rng = np.random.default_rng(5)
        out: list[Any] = [obs.copy(), info]
        for _ in range(steps):
            actions = rng.integers(0, 2, (2, *env.single_action_space.shape))
            obs, rew, term, trunc, info = env.step(actions)
            out += [obs.copy(), rew.copy(), term.copy(), trunc.copy(), info]
        return out
    finally:
        env.close()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return bool(a == b)


DIES = {"reward": {"variables": {"score": {"reward": 0.01}}},
        "done": {"variables": {"lives": {"op": "less-than", "reference": 3},
                               "score": {"op": "greater-than", "reference": 0}}}}


@pytest.mark.parametrize("game,kwargs", [
    ("Airstriker-Genesis", {"max_pool": True, "grayscale": True, "resize": (84, 84)}),
    ("Airstriker-Genesis", {"scenario": DIES}),
    ("Pong-Atari2600", {"max_pool": True, "grayscale": True, "resize": (84, 84)}),
    ("Pong-Atari2600", {"obs_type": Observations.RAM}),
    ("Pong-Atari2600", {"core": "ale", "scenario": "retro", "max_pool": True, "grayscale": True, "resize": (84, 84)}),
])
def test_frame_skips_in_c_play_exactly_as_frame_by_frame_in_python(game: str, kwargs: dict[str, Any], tmp_path: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A vector env's frame skip in one C job per env gives what one pool round per frame gave."""
    dies = isinstance(kwargs.get("scenario"), dict)
    if dies:
        path = tmp_path / "scenario.json"
        path.write_text(json.dumps(kwargs["scenario"]))
        kwargs = {**kwargs, "scenario": str(path)}
    in_c = _vector_run(game, 250, **kwargs)
    monkeypatch.setattr(GameData, "frame_program", lambda self: None)
    in_python = _vector_run(game, 250, **kwargs)
    assert len(in_c) == len(in_python)
    for a, b in zip(in_c, in_python):
        assert _same(a, b)
    assert any(float(np.abs(x).sum()) > 0 for x in in_c[3::5])  # rewards were earned
    if dies:
        assert sum(int(t.sum()) for t in in_c[4::5]) >= 2  # episodes ended inside frame skips


def _single_run(steps: int) -> list[Any]:
    import retro

    env = retro.make("Airstriker-Genesis", frameskip=4, repeat_action_probability=0.25)
    try:
        out: list[Any] = [env.reset(seed=11)]  # the classic API: reset gives the observation
        rng = np.random.default_rng(2)
        for _ in range(steps):
            obs, rew, done, info = env.step(rng.integers(0, 2, env.action_space.shape))
            out += [obs.copy(), rew, done, info]
            if done:
                out.append(env.reset())
        return out
    finally:
        env.close()


def test_a_single_envs_frame_skip_with_sticky_actions_plays_as_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    in_c = _single_run(200)
    monkeypatch.setattr(GameData, "frame_program", lambda self: None)
    in_python = _single_run(200)
    assert len(in_c) == len(in_python)
    assert all(_same(a, b) for a, b in zip(in_c, in_python))
    assert sum(x for x in in_c if isinstance(x, float)) > 0

"""The fuzz target: hostile and mutated inputs give typed errors, never a crash, a hang or an untyped exception.

Marked ``fuzz`` (``pytest -m fuzz`` runs only these). Each kind runs its
whole corpus of known hostile inputs (:mod:`tests.fuzz.corpus`) and a small
fixed budget of mutants in worker processes (:mod:`tests.fuzz.harness`);
big campaigns run with ``python3 -m tests.fuzz``. The Hypothesis tests
drive the parsers in this process.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retro
from retro.data.lua import LuaContext, LuaScriptError
from retro.movie import Movie
from tests.fuzz.campaign import campaign
from tests.fuzz.corpus import LUA_ATTACKS
from tests.fuzz.mutate import LUA_SNIPPETS
from tests.fuzz.targets import STATE_ROMS, play_game_data

pytestmark = pytest.mark.fuzz

#: Mutants per kind in the test run (campaigns run thousands).
BUDGET = {"movies": 40, "integrations": 40, "lua": 60, "zips": 15, "cli": 15}


@pytest.mark.parametrize("kind", sorted(BUDGET))
def test_corpus_and_mutants_give_typed_errors_only(kind: str, tmp_path: Path) -> None:
    report = campaign(kind, BUDGET[kind], seed=1, workdir=tmp_path)
    assert report.results, "no cases ran"
    assert not report.failures, "\n".join(f"{r.outcome} {r.name}: {r.error}" for r in report.failures)
    # inputs are not refused wholesale for a trivial reason: some are accepted, some refused
    # (import and the command line report bad input in their output, not with an exception)
    counts = report.counts
    assert counts["ok"] > 0, report.summary()
    if kind in ("movies", "integrations", "lua"):
        assert counts["typed"] > 0, report.summary()


def test_the_harness_tells_crashes_hangs_and_untyped_errors_apart(tmp_path: Path) -> None:
    report = campaign("selftest", 2, workdir=tmp_path, memory=1 << 30, timeout=2.0)
    outcomes = {r.name.split("/", 1)[1]: (r.outcome, r.error) for r in report.results if r.name.startswith("corpus")}
    assert outcomes["ok"][0] == "ok"
    assert outcomes["typed"] == ("typed", "MovieFormatError: a typed error")
    assert outcomes["untyped"][0] == "untyped" and outcomes["untyped"][1].startswith("ValueError: an untyped error")
    assert outcomes["crash"] == ("crash", "killed by SIGABRT")
    assert outcomes["hang"][0] == "hang"
    assert outcomes["memory"][0] == "untyped" and outcomes["memory"][1].startswith("MemoryError")
    # a worker replaced after a crash or hang runs the cases that follow
    assert [r.outcome for r in report.results[-2:]] == ["ok", "ok"]


@pytest.mark.parametrize("core", sorted(STATE_ROMS))
def test_mutated_states_on_every_core_give_typed_errors_only(core: str, tmp_path: Path) -> None:
    """The states campaign's short form on every core (``python3 -m tests.fuzz --kind states --core C`` is the
    long one): all-zero, all-0xFF and random states of the right size, and mutants of real ones, restored and
    played for 60 frames in worker processes: never a crash, a hang or an untyped exception."""
    report = campaign("states", 6, core=core, seed=2, workdir=tmp_path)
    assert len(report.results) == 3 + 6
    assert not report.failures, "\n".join(f"{r.outcome} {r.name}: {r.error}" for r in report.failures)
    assert report.counts["ok"] + report.counts["typed"] == len(report.results), report.summary()


# -- Hypothesis: the parsers in this process --------------------------------------------------------

PONG_HEADER = "MovieVersion Retro\nPlatform A26\nGameName Pong-Atari2600\n"
log_lines = st.lists(st.text(alphabet="|.BUDLRrP#1234567890 ,-\r:[]/\x00é", max_size=40), max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["P1 Button|P2 Button|", "LogKey:#Reset|Power|#P1 Up|P1 Down|P1 Button|", "", "|",
                            "LogKey:", "LogKey:#|#", "P9 Up|", "LogKey:#P1 X Axis|P1 Up|"]),
       lines=log_lines, header=st.text(max_size=80), state=st.binary(max_size=64))
def test_any_bk2_reads_or_is_a_movie_format_error(tmp_path: Path, key: str, lines: list[str], header: str,
                                                 state: bytes) -> None:
    path = tmp_path / "m.bk2"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Header.txt", PONG_HEADER + header)
        zf.writestr("Input Log.txt", "[Input]\n" + key + "\n" + "\n".join(lines) + "\n[/Input]\n")
        if state:
            zf.writestr("Core.bin", b"\x28\xb5\x2f\xfd" + state if state[0] & 1 else state)
    try:
        movie = Movie(path)
    except retro.MovieFormatError:
        return
    assert movie.frames.shape == (len(movie), movie.players + 1)
    while movie.step():
        movie.masks()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.binary(max_size=300))
def test_any_fm2_reads_or_is_a_movie_format_error(tmp_path: Path, text: bytes) -> None:
    path = tmp_path / "m.fm2"
    path.write_bytes(b"version 3\n" + text)
    try:
        movie = Movie(path)
    except retro.MovieFormatError:
        return
    assert movie.system == "Nes" and movie.frames.shape[1] == movie.players + 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2 ** 70, max_value=2 ** 70) | st.floats() |
    st.sampled_from(["|u1", ">u4", "<i2", "=n2", ">d4", "|p3", "u9", "", "lua:f", "equal", "all", "any",
                     "greater-than", "score", "UP"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["info", "score", "address", "type", "mask", "reward", "penalty", "variables", "done",
                         "nodes", "condition", "op", "reference", "measurement", "rewards", "actions", "crop",
                         "time", "script"]), children, max_size=5),
    max_leaves=20)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=json_values, scenario=json_values)
def test_any_data_and_scenario_json_load_or_are_integration_errors(tmp_path: Path, data: Any, scenario: Any) -> None:
    (tmp_path / "data.json").write_text(json.dumps(data))
    (tmp_path / "scenario.json").write_text(json.dumps(scenario))
    try:
        play_game_data(tmp_path)
    except retro.RetroError:
        pass


def _context() -> LuaContext:
    def lookup(name: str) -> Any:
        raise KeyError(name)

    return LuaContext(lookup, lambda name, value: None, lambda address: 0, lambda key: 0,
                      max_instructions=2_000_000, max_seconds=1.0)


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.sampled_from(LUA_SNIPPETS + ["function f() return 1 end", "return", "end", "local x = ",
                                                      "for i = 1, 10 do", "if true then", "(", ")", "..", "{",
                                                      "}", "while true do end", "f()"]), max_size=8))
def test_any_lua_chunk_runs_or_is_a_lua_script_error(parts: list[str]) -> None:
    context = _context()
    try:
        context.load_string("\n".join(parts))
        context.call("f")
    except LuaScriptError:
        pass


#: Attacks that fail harmlessly without an error: string.rep of 2^31 bytes is "" in LuaJIT; setfenv changes
#: only the script's own environment.
HARMLESS = {"memory-bomb-rep", "setfenv-globals"}


@pytest.mark.parametrize("name", sorted(LUA_ATTACKS))
def test_lua_attacks_are_lua_script_errors_in_this_process(name: str) -> None:
    """The attack corpus in this process too: a regression of the C-stack guard would crash the test run."""
    context = _context()
    with pytest.raises(LuaScriptError) if name not in HARMLESS else _nothing():
        context.load_string(LUA_ATTACKS[name])
        context.call("reward")
    context.load_string("function after() return 7 end")  # the state stays usable after the attack
    assert context.call("after") in (7, None)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None

"""Lua scenario scripts: the data and scenario globals, reloads, errors, the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retro.data import GameData, LuaScriptError
from retro.errors import IntegrationError
from retro.systems import SYSTEMS


class FakeGenesis:
    """A stand-in emulator: 64 KiB of Genesis work RAM and the Genesis system info."""

    system_info = SYSTEMS["Genesis"]

    def __init__(self) -> None:
        self.ram = np.zeros(0x10000, dtype=np.uint8)
        self.memory_generation = 0

    def memory_blocks(self) -> dict[int, np.ndarray]:
        return {0xFF0000: self.ram}


DATA = {"info": {
    "score": {"address": 0xFF0010, "type": ">u4"},
    "lives": {"address": 0xFF0020, "type": ">u2"},
}}


def make_game(tmp_path: Path, lua: str, scenario: dict[str, Any]) -> tuple[GameData, FakeGenesis]:
    (tmp_path / "data.json").write_text(json.dumps(DATA))
    (tmp_path / "script.lua").write_text(lua)
    (tmp_path / "scenario.json").write_text(json.dumps({"scripts": ["script.lua"], **scenario}))
    data = GameData(data=tmp_path / "data.json", scenario=tmp_path / "scenario.json")
    em = FakeGenesis()
    data.configure(em)
    data.reset()
    return data, em


def test_reward_and_done_scripts_follow_frames(tmp_path: Path) -> None:
    data, _ = make_game(tmp_path, """
        function rew() return scenario.frame + 0.25 end
        function done() return scenario.timestep >= 2 end
    """, {"reward": {"script": "lua:rew"}, "done": {"script": "lua:done"}})
    data.update_ram()                    # the reset frame
    rewards, step = [], 0
    while True:
        data.update_ram()
        step += 1
        rewards.append(data.current_reward())
        if data.is_done():
            break
    assert rewards[:3] == [1.25, 2.25, 3.25]
    assert step == 8


def test_scripts_read_variables_bytes_and_custom_values(tmp_path: Path) -> None:
    data, em = make_game(tmp_path, """
        data.best = nil   -- a custom variable holding nil reads as nil
        function rew()
          local gained = 0
          if data.best ~= nil then gained = data.score - data.best end
          data.best = data.score
          return gained
        end
        function first_byte() return data[0xFF0010] end
        function lives_word() return data.lives end
    """, {"reward": {"script": "rew"}})
    data.memory.assign(0xFF0010, ">u4", 0x01020304)
    data.update_ram()
    assert data.current_reward() == 0.0
    assert data.lookup_value("best") == float(0x01020304)   # custom values set from Lua are numbers
    data.memory.assign(0xFF0010, ">u4", 0x01020304 + 50)
    data.update_ram()
    assert data.current_reward() == 50.0
    assert data._call_script("lua", "first_byte") == 0x01     # the byte the 68000 sees, not the raw one
    assert em.ram[0x10] == 0x02
    assert data.lookup_all()["best"] == 0x01020304 + 50


def test_script_writes_go_to_memory_or_custom_variables(tmp_path: Path) -> None:
    data, em = make_game(tmp_path, """
        function setup() data.lives = 7; data.flag = true; data.nothing = nil; return 0 end
    """, {"reward": {"script": "lua:setup"}})
    data.update_ram()
    assert data["lives"] == 7
    assert list(em.ram[0x20:0x22]) == [7, 0]            # host-order word
    assert data["flag"] is True and data["nothing"] is None
    assert data.lookup_all()["flag"] == 1


def test_custom_variables_are_cleared_and_scripts_rerun_on_reset(tmp_path: Path) -> None:
    data, _ = make_game(tmp_path, """
        calls = 0
        data.loaded = 1
        function rew() calls = calls + 1; data.calls = calls; return calls end
    """, {"reward": {"script": "lua:rew"}})
    data.update_ram()
    data.update_ram()
    assert data["calls"] == 2.0
    data.set_value("mine", 5)
    data.reset()
    assert "mine" not in data.lookup_all()
    assert "calls" not in data.lookup_all()
    assert data["loaded"] == 1.0                          # the top level ran again
    data.update_ram()
    assert data.current_reward() == 1.0                   # Lua globals started over


def test_call_errors_raise_lua_call_failed(tmp_path: Path) -> None:
    data, _ = make_game(tmp_path, """
        function bad() return nil + 1 end
        function oob() return data[0x10] end
        function unknown() return data.nope end
    """, {"reward": {"script": "lua:bad"}})
    with pytest.raises(LuaScriptError, match="^Lua call failed: ") as info:
        data.update_ram()
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, IntegrationError)
    with pytest.raises(LuaScriptError, match="Out of bounds access"):
        data._call_script("lua", "oob")
    with pytest.raises(LuaScriptError, match="nope"):
        data._call_script("lua", "unknown")
    with pytest.raises(LuaScriptError, match="Lua call failed"):
        data._call_script("lua", "missing_function")


def test_script_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(LuaScriptError, match="script.lua"):
        make_game(tmp_path, "function f( return end", {"reward": {"script": "lua:f"}})
    (tmp_path / "scenario.json").write_text(json.dumps({"scripts": ["missing.lua"]}))
    with pytest.raises(IntegrationError, match="missing.lua"):
        GameData(scenario=tmp_path / "scenario.json")


def test_precompiled_bytecode_is_refused(tmp_path: Path) -> None:
    (tmp_path / "script.lua").write_bytes(b"\x1bLJ\x02garbage")
    (tmp_path / "scenario.json").write_text(json.dumps({"scripts": ["script.lua"]}))
    with pytest.raises(LuaScriptError, match="bytecode"):
        GameData(scenario=tmp_path / "scenario.json")


SANDBOX_PROBES = {
    "io": "return io",
    "os": "return os",
    "require": "return require",
    "package": "return package",
    "debug": "return debug",
    "dofile": "return dofile",
    "loadfile": "return loadfile",
    "load": "return load",
    "loadstring": "return loadstring",
    "collectgarbage": "return collectgarbage",
    "python": "return python",
    "jit": "return jit",
    "ffi": "return ffi",
    "string.dump": "return string.dump",
    "coroutine": "return coroutine",
    "data metatable": "return getmetatable(data) and getmetatable(data).__index",
}


@pytest.mark.parametrize("name", sorted(SANDBOX_PROBES))
def test_sandbox_hides_dangerous_globals(tmp_path: Path, name: str) -> None:
    data, _ = make_game(tmp_path, f"function probe() {SANDBOX_PROBES[name]} end",
                        {"reward": {"script": "lua:probe"}})
    assert data._call_script("lua", "probe") in (None, False)


def test_sandbox_blocks_escapes_but_keeps_the_libraries(tmp_path: Path) -> None:
    data, _ = make_game(tmp_path, """
        function libs()
          return math.floor(2.5) + string.len("abc") + #table.concat({"a", "b"}) + select("#", 1, 2)
        end
        function escape() return os.execute("true") end
        function req() return require("os") end
    """, {"reward": {"script": "lua:libs"}})
    assert data._call_script("lua", "libs") == 2 + 3 + 2 + 2
    for fn in ("escape", "req"):
        with pytest.raises(LuaScriptError):
            data._call_script("lua", fn)


def test_scenario_global_rejects_unknown_keys_and_ignores_writes(tmp_path: Path) -> None:
    data, _ = make_game(tmp_path, """
        function w() scenario.frame = 99; return scenario.frame end
        function bad() return scenario.lives end
    """, {"reward": {"script": "lua:w"}})
    data.update_ram()
    assert data.current_reward() == 0.0
    with pytest.raises(LuaScriptError, match="Unknown scenario property"):
        data._call_script("lua", "bad")


def test_a_script_function_needs_a_script_file(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_text(json.dumps({"reward": {"script": "lua:f"}}))
    with pytest.raises(IntegrationError, match="lists no scripts"):
        GameData(scenario=tmp_path / "scenario.json")


LIMITED = {
    "endless loop": ("function rew() while true do end end", "Lua instructions allowed"),
    "loop behind pcall": ("function rew() while true do pcall(function() while true do end end) end end",
                          "Lua instructions allowed"),
    "memory bomb": ("function rew() local s = 'x' while true do s = s .. s end end", "MiB of memory allowed"),
    "gsub recursion": ("local function f(s) return (string.gsub(s, '.', f)) end function rew() return f('x') end",
                       "string.gsub nested more than"),
    "catastrophic pattern": ("function rew() return string.rep('a', 5000):find(string.rep('a*', 20) .. 'b') end",
                             "pattern too complex"),
}


@pytest.mark.parametrize("name", sorted(LIMITED))
def test_limits_stop_a_call_with_a_lua_script_error(tmp_path: Path, name: str) -> None:
    code, message = LIMITED[name]
    data, _ = make_game(tmp_path, code, {"reward": {"script": "lua:rew"}})
    with pytest.raises(LuaScriptError, match=message):
        data.update_ram()
    data.reset()  # the game goes on: the next episode runs the script again


def test_ctrl_c_interrupts_a_long_lua_call(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "spin.py"
    script.write_text(
        # Ctrl-C as in a terminal: a process started in the background by a non-interactive shell (as CI
        # may be) inherits SIGINT ignored, and Python then leaves it ignored
        "import signal\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from retro.data.lua import LuaContext\n"
        "c = LuaContext(lambda n: 0, lambda n, v: None, lambda a: 0, lambda k: 0,\n"
        "               max_seconds=600, max_instructions=10**15)\n"
        "c.load_string('function go() while true do pcall(function() while true do end end) end end')\n"
        "print('spinning', flush=True)\n"
        "try:\n"
        "    c.call('go')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n")
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(root)))
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "spinning"
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert out.strip() == "interrupted"
    finally:  # a child that did not stop is not left running into the next test
        proc.kill()
        proc.communicate()

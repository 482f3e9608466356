"""Lua scenario scripts, run in a sandbox through ``lupa``.

Gym Retro runs a scenario's ``scripts`` in LuaJIT with only the ``base``,
``table``, ``string`` and ``math`` libraries. retro does the same with
lupa's LuaJIT 2.1 runtime (falling back to another Lua lupa ships), and
keeps only those libraries' names in the global table: ``dofile``,
``loadfile``, ``load``, ``loadstring``, ``require``, ``collectgarbage``,
``module``, ``io``, ``os``, ``debug``, ``package``, ``coroutine``, ``jit``,
``ffi``, ``bit`` and lupa's ``python`` are unreachable, Python objects
expose no attributes to Lua, and precompiled bytecode is refused.

Two globals connect a script to the game:

- ``data``: ``data.name`` reads a variable (or a custom variable, which can
  hold nil); ``data[address]`` reads the byte the game sees at an absolute
  address (``"Out of bounds access"`` if unmapped); ``data.name = v``
  (number, boolean or nil) writes a variable into emulated memory, or sets a
  custom variable that lives until the next reset.
- ``scenario``: ``scenario.frame`` (frames since the reset) and
  ``scenario.timestep`` (``frame // 4``); other keys are an error, writes
  are ignored.

A failing call raises :class:`LuaScriptError` with Gym Retro's message,
``"Lua call failed: ..."``. The class derives from both
:class:`~retro.errors.IntegrationError` (a broken script is a broken
integration) and ``RuntimeError`` (what Gym Retro raises).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

from retro._fileutil import read_regular
from retro.errors import IntegrationError

#: Largest Lua script a scenario may load.
MAX_SCRIPT_BYTES = 4 << 20

__all__ = ["LuaScriptError", "LuaContext", "lua_runtime_class"]


class LuaScriptError(IntegrationError, RuntimeError):
    """A Lua script failed to load or a Lua function call failed."""


_KEEP = ("assert", "error", "ipairs", "next", "pairs", "pcall", "print", "rawequal", "rawget",
         "rawlen", "rawset", "select", "setmetatable", "getmetatable", "tonumber", "tostring",
         "type", "unpack", "xpcall", "getfenv", "setfenv", "_G", "_VERSION",
         "math", "string", "table")

# Runs once in a fresh state with the Python callbacks as arguments. The
# callbacks stay upvalues of the metamethods, out of the scripts' reach.
_SETUP = """
local get_data, set_data, get_scenario, keep = ...
local error, setmetatable = error, setmetatable
data = setmetatable({}, {
  __index = function(_, key)
    local ok, value = get_data(key)
    if not ok then error(value, 2) end
    return value
  end,
  __newindex = function(_, key, value)
    local ok, message = set_data(key, value)
    if not ok then error(message, 2) end
  end,
  __metatable = false,
})
scenario = setmetatable({}, {
  __index = function(_, key)
    local ok, value = get_scenario(key)
    if not ok then error(value, 2) end
    return value
  end,
  __newindex = function() end,
  __metatable = false,
})
local allowed = {}
for _, name in ipairs(keep) do allowed[name] = true end
allowed.data, allowed.scenario = true, true
for name in pairs(_G) do
  if not allowed[name] then _G[name] = nil end
end
if string.dump then string.dump = nil end
"""


def lua_runtime_class() -> Any:
    """lupa's ``LuaRuntime``, preferring LuaJIT 2.1 (the Lua of Gym Retro)."""
    import importlib

    for name in ("lupa.luajit21", "lupa.luajit20", "lupa.lua51", "lupa"):
        try:
            return importlib.import_module(name).LuaRuntime
        except ImportError:
            continue
    raise IntegrationError("this scenario has Lua scripts, which need the 'lupa' package: pip install lupa")


def _deny_attributes(obj: Any, name: Any, is_setting: bool) -> Any:
    raise AttributeError("Python attributes are not accessible from Lua scripts")


class LuaContext:
    """One sandboxed Lua state bound to a game's data and scenario.

    Args:
        lookup: ``lookup(name)`` -> value; raises ``KeyError`` for unknown names.
        assign: ``assign(name, value)`` stores a variable or custom variable.
        read_byte: ``read_byte(address)`` -> int; raises ``IndexError`` if unmapped.
        scenario_value: ``scenario_value(key)`` -> int for "frame"/"timestep",
            ``KeyError`` otherwise.
    """

    def __init__(
        self,
        lookup: Callable[[str], Any],
        assign: Callable[[str, Any], None],
        read_byte: Callable[[int], int],
        scenario_value: Callable[[str], int],
    ) -> None:
        runtime_class = lua_runtime_class()
        self._lua = runtime_class(register_eval=False, register_builtins=False,
                                  unpack_returned_tuples=True, attribute_filter=_deny_attributes)

        def get_data(key: Any) -> tuple[bool, Any]:
            if isinstance(key, (int, float)) and not isinstance(key, bool):
                try:
                    return True, read_byte(int(key))
                except IndexError:
                    return False, "Out of bounds access"
            if isinstance(key, str):
                try:
                    return True, lookup(key)
                except KeyError:
                    return False, f"Unknown variable: {key}"
                except IndexError:
                    return False, f"Out of bounds access: variable {key} is not mapped"
            return False, "Invalid variable name"

        def set_data(key: Any, value: Any) -> tuple[bool, Optional[str]]:
            if not isinstance(key, str):
                return False, "Invalid variable name"
            if value is None or isinstance(value, bool):
                pass
            elif isinstance(value, (int, float)):
                value = float(value)  # Lua numbers are doubles, as in Gym Retro
            else:
                return False, "Invalid variable type"
            try:
                assign(key, value)
            except IndexError:
                return False, f"Out of bounds access: variable {key} is not mapped"
            return True, None

        def get_scenario(key: Any) -> tuple[bool, Any]:
            try:
                return True, scenario_value(key)
            except (KeyError, TypeError):
                return False, "Unknown scenario property"

        keep = self._lua.table_from(list(_KEEP))
        self._lua.execute(_SETUP, get_data, set_data, get_scenario, keep)
        self._globals = self._lua.globals()

    def load_file(self, path: str) -> None:
        """Run a script file (defining its functions); errors name the file."""
        try:
            code = read_regular(path, MAX_SCRIPT_BYTES)
        except OSError as e:
            raise LuaScriptError(f"cannot read Lua script {path}: {e.strerror or e}") from e
        if code[:1] == b"\x1b":
            raise LuaScriptError(f"{path}: precompiled Lua bytecode is not allowed; use Lua source")
        try:
            self._lua.execute(code.decode("utf-8"), name="@" + os.path.basename(path))
        except UnicodeDecodeError as e:
            raise LuaScriptError(f"{path}: not UTF-8 text: {e}") from e
        except Exception as e:  # lupa.LuaError, LuaSyntaxError, errors raised by callbacks
            raise LuaScriptError(f"{path}: Lua script failed to load: {_message(e)}") from e

    def load_string(self, code: str, name: str = "=script") -> None:
        try:
            self._lua.execute(code, name=name)
        except Exception as e:
            raise LuaScriptError(f"Lua script failed to load: {_message(e)}") from e

    def call(self, function: str) -> Any:
        """Call a global function with no arguments; its first result."""
        fn = self._globals[function]
        if fn is None:
            raise LuaScriptError(f"Lua call failed: attempt to call a nil value (global '{function}')")
        try:
            result = fn()
        except Exception as e:
            raise LuaScriptError(f"Lua call failed: {_message(e)}") from e
        if isinstance(result, tuple):
            result = result[0] if result else None
        return result


def _message(e: BaseException) -> str:
    text = str(e)
    return text.splitlines()[0] if text else type(e).__name__

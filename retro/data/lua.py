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

Every call a script makes (its top level as it loads, each reward or done
function) runs within limits, and breaking one raises
:class:`LuaScriptError`:

- at most :data:`MAX_INSTRUCTIONS` Lua instructions and
  :data:`MAX_CALL_SECONDS` seconds per call (an endless loop, or a recursive
  ``__tostring`` that never grows the stack, stops there);
- at most :data:`MAX_MEMORY` bytes of Lua memory (a memory bomb is a
  ``LuaScriptError``, not a ``MemoryError`` of the process);
- library functions that call back into Lua from C (``string.gsub``,
  ``table.sort``, ``tostring``, ``string.format``, ``print``) nest at most
  :data:`MAX_C_DEPTH` deep, so recursion through them cannot overflow the C
  stack;
- a pattern (``string.find``, ``match``, ``gmatch``, ``gsub``) whose
  worst-case backtracking on its subject exceeds :data:`MAX_PATTERN_STEPS`
  is refused before it runs, since pattern matching is C code that no
  instruction count reaches.

Ctrl-C interrupts a long call (``KeyboardInterrupt``). The JIT compiler is
off: compiled loops would not count their instructions.

A failing call raises :class:`LuaScriptError` with Gym Retro's message,
``"Lua call failed: ..."``. The class derives from both
:class:`~retro.errors.IntegrationError` (a broken script is a broken
integration) and ``RuntimeError`` (what Gym Retro raises).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any, Callable, Optional

from retro._fileutil import read_regular
from retro.errors import IntegrationError

#: Largest Lua script a scenario may load.
MAX_SCRIPT_BYTES = 4 << 20
#: Lua instructions one call may run.
MAX_INSTRUCTIONS = 20_000_000
#: Seconds one call may take.
MAX_CALL_SECONDS = 2.0
#: Bytes of memory one Lua state may hold.
MAX_MEMORY = 64 << 20
#: How deep C library functions that call back into Lua may nest.
MAX_C_DEPTH = 64
#: Worst-case steps of one pattern match (about 0.5 s of the C matcher).
MAX_PATTERN_STEPS = 100_000_000
#: Instructions between two checks of the limits.
_CHECK_EVERY = 10_000

__all__ = ["LuaScriptError", "LuaContext", "lua_runtime_class", "MAX_INSTRUCTIONS", "MAX_CALL_SECONDS",
           "MAX_MEMORY", "MAX_C_DEPTH", "MAX_PATTERN_STEPS"]


class LuaScriptError(IntegrationError, RuntimeError):
    """A Lua script failed to load or a Lua function call failed."""


_KEEP = ("assert", "error", "ipairs", "next", "pairs", "pcall", "print", "rawequal", "rawget",
         "rawlen", "rawset", "select", "setmetatable", "getmetatable", "tonumber", "tostring",
         "type", "unpack", "xpcall", "getfenv", "setfenv", "_G", "_VERSION",
         "math", "string", "table")

# Runs once in a fresh state with the Python callbacks as arguments. The
# callbacks, the hook and the library functions the guards wrap stay
# upvalues, out of the scripts' reach. Returns the two entry points.
_SETUP = """
local get_data, set_data, get_scenario, keep, check, interrupted, limits = ...
local error, setmetatable, pcall, type, rawget, select = error, setmetatable, pcall, type, rawget, select
local byte, tostring_c = string.byte, tostring
local sethook, G = debug.sethook, _G
local load, getfenv = load, getfenv
local MAX_DEPTH, MAX_STEPS, EVERY = limits[1], limits[2], limits[3]
if jit then jit.off() end  -- compiled traces do not run count hooks

-- the instruction, time and interrupt limits: a count hook asks Python every EVERY
-- instructions; once a limit is broken it fires on every instruction, so no pcall
-- in the script can swallow the error
local fast = false
local hook
hook = function()
  local ok, message = pcall(check)
  if not ok then
    local ok2, m2 = pcall(interrupted)
    message = ok2 and m2 or "interrupted"
  end
  if message then
    if not fast then fast = true; sethook(hook, "", 1) end
    error(message, 0)
  elseif fast then
    fast = false; sethook(hook, "", EVERY)
  end
end
sethook(hook, "", EVERY)

-- C functions that call back into Lua nest at most MAX_DEPTH deep
local depth = 0
local function leave(ok, ...)
  depth = depth - 1
  if not ok then error((...), 0) end
  return ...
end
local function guard(f, name)
  return function(...)
    if depth >= MAX_DEPTH then
      error(name .. " nested more than " .. MAX_DEPTH .. " deep (recursion through a C function)", 2)
    end
    depth = depth + 1
    return leave(pcall(f, ...))
  end
end

-- the worst-case backtracking of a pattern on a subject, refused above MAX_STEPS
local function check_pattern(name, s, p, anchorable)
  if type(s) ~= "string" or type(p) ~= "string" then return end
  local n, q, o, i, len = #s, 0, 0, 1, #p
  while i <= len do
    local c = byte(p, i)
    if c == 37 then                                   -- %: an escape, %bxy or a back-reference
      local d = byte(p, i + 1)
      if d == 98 then q = q + 1; i = i + 4
      elseif d and d >= 49 and d <= 57 then q = q + 1; i = i + 2
      else i = i + 2 end
    else
      if c == 42 or c == 43 or c == 45 then q = q + 1  -- * + -
      elseif c == 63 then o = o + 1 end                -- ?
      i = i + 1
    end
  end
  local steps = (anchorable and byte(p, 1) == 94) and 1 or n + 1
  for k = 1, q do steps = steps * (n + k) / k end
  for _ = 1, o do steps = steps * 2 end
  if steps > MAX_STEPS then
    error(name .. ": pattern too complex for a subject of " .. n .. " bytes (up to "
          .. string.format("%.3g", steps) .. " matching steps, the limit is " .. MAX_STEPS .. ")", 3)
  end
end
local find, match, gmatch, gsub = string.find, string.match, string.gmatch, string.gsub
string.find = function(s, p, init, plain)
  if not plain then check_pattern("string.find", s, p, true) end
  return find(s, p, init, plain)
end
string.match = function(s, p, init)
  check_pattern("string.match", s, p, true)
  return match(s, p, init)
end
string.gmatch = function(s, p)
  check_pattern("string.gmatch", s, p, false)
  return gmatch(s, p)
end
local guarded_gsub = guard(gsub, "string.gsub")
string.gsub = function(s, p, repl, n)
  check_pattern("string.gsub", s, p, true)
  return guarded_gsub(s, p, repl, n)
end
string.format = guard(string.format, "string.format")
table.sort = guard(table.sort, "table.sort")
tostring = guard(tostring_c, "tostring")
print = guard(print, "print")
-- xpcall runs its handler after the stack unwinds, as a plain call: LuaJIT runs a
-- handler with hooks off while the error came from the hook, so a looping handler
-- could not be stopped
local function handled(handler, ok, ...)
  if ok then return true, ... end
  local _, result = pcall(handler, (...))
  return false, result
end
xpcall = function(f, handler, ...)
  return handled(handler, pcall(f, ...))
end

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
string.dump = nil

-- the entry points: run a chunk of source text, call a global function
local function run(code, name)
  depth = 0
  local f, message = load(code, name, "t")
  if not f then error(message, 0) end
  return f()
end
local function invoke(name)
  depth = 0
  local f = rawget(getfenv and getfenv(0) or G, name)  -- the globals, as lua_getglobal sees them
  if f == nil then error("attempt to call a nil value (global '" .. name .. "')", 0) end
  return f()
end
return run, invoke
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
        max_instructions, max_seconds, max_memory: the limits of one call
            (the module's ``MAX_*`` by default).
    """

    def __init__(
        self,
        lookup: Callable[[str], Any],
        assign: Callable[[str, Any], None],
        read_byte: Callable[[int], int],
        scenario_value: Callable[[str], int],
        *,
        max_instructions: int = MAX_INSTRUCTIONS,
        max_seconds: float = MAX_CALL_SECONDS,
        max_memory: int = MAX_MEMORY,
    ) -> None:
        runtime_class = lua_runtime_class()
        self._lua = runtime_class(register_eval=False, register_builtins=False, max_memory=max_memory,
                                  unpack_returned_tuples=True, attribute_filter=_deny_attributes)
        self.max_instructions = int(max_instructions)
        self.max_seconds = float(max_seconds)
        self.max_memory = int(max_memory)
        self._count = 0
        self._deadline = float("inf")
        self._broken: Optional[str] = None
        self._interrupted = False
        self._sigint = False

        def get_data(key: Any) -> tuple[bool, Any]:
            if isinstance(key, (int, float)) and not isinstance(key, bool):
                try:
                    return True, read_byte(int(key))
                except (IndexError, OverflowError, ValueError):
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
            except (OverflowError, ValueError) as e:
                return False, f"Cannot store {value!r} in variable {key}: {e}"
            return True, None

        def get_scenario(key: Any) -> tuple[bool, Any]:
            try:
                return True, scenario_value(key)
            except (KeyError, TypeError):
                return False, "Unknown scenario property"

        keep = self._lua.table_from(list(_KEEP))
        limits = self._lua.table_from([MAX_C_DEPTH, MAX_PATTERN_STEPS, _CHECK_EVERY])
        self._start()
        self._run, self._invoke = self._lua.execute(_SETUP, get_data, set_data, get_scenario, keep,
                                                    self._check, self._note_interrupt, limits)

    # -- limits -------------------------------------------------------------------------------------

    def _start(self) -> None:
        self._count = 0
        self._deadline = time.monotonic() + self.max_seconds
        self._broken = None
        self._interrupted = False

    def _check(self) -> Optional[str]:
        """Called by the count hook: the message of a broken limit, or None."""
        if self._sigint:  # Ctrl-C arrived (the handler _guarded installs)
            return self._note_interrupt()
        if self._broken is None:
            self._count += _CHECK_EVERY
            if self._count > self.max_instructions:
                self._broken = f"the call ran more than the {self.max_instructions} Lua instructions allowed"
            elif time.monotonic() > self._deadline:
                self._broken = f"the call took more than the {self.max_seconds:g} s allowed"
        return self._broken

    def _catch_sigint(self) -> Any:
        """On the main thread, while a call runs, Ctrl-C only sets a flag the count hook reads: a
        ``KeyboardInterrupt`` raised in whatever Python code runs when the signal lands (the Lua
        binding's own, which cannot pass it on) could be lost, and the call spin on. Returns the
        handler to put back, or None (another thread: Python's own handler raises there)."""
        self._sigint = False
        if threading.current_thread() is not threading.main_thread():
            return None
        previous = signal.getsignal(signal.SIGINT)
        if previous is not signal.default_int_handler:
            return None  # the program handles Ctrl-C itself: left to it
        signal.signal(signal.SIGINT, self._on_sigint)
        return previous

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self._sigint = True

    def _note_interrupt(self) -> str:
        """Called by the count hook when ``_check`` raised (Ctrl-C arrived): stop the call."""
        self._interrupted = True
        self._broken = "interrupted"
        return self._broken

    def _guarded(self, fn: Any, *args: Any) -> Any:
        self._start()
        previous = self._catch_sigint()
        try:
            result = fn(*args)
        except Exception as e:
            if self._interrupted:
                raise KeyboardInterrupt from None
            raise LuaScriptError(self._explain(e)) from e
        finally:
            self._deadline = float("inf")
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            missed, self._sigint = self._sigint and not self._interrupted, False
            if missed:  # Ctrl-C landed as the call ended, before the hook read it: it is not lost
                raise KeyboardInterrupt
        # a limit broken inside a pcall whose caller then returned (a tail call) still fails the call
        if self._interrupted:
            raise KeyboardInterrupt
        if self._broken is not None:
            raise LuaScriptError(self._broken)
        return result

    def _explain(self, e: BaseException) -> str:
        if self._broken is not None:
            return self._broken
        if isinstance(e, MemoryError) or "not enough memory" in str(e):
            return f"the script used more than the {self.max_memory >> 20} MiB of memory allowed"
        return _message(e)

    # -- loading and calling ------------------------------------------------------------------------

    def load_file(self, path: str) -> None:
        """Run a script file (defining its functions); errors name the file."""
        try:
            code = read_regular(path, MAX_SCRIPT_BYTES)
        except OSError as e:
            raise LuaScriptError(f"cannot read Lua script {path}: {e.strerror or e}") from e
        if code[:1] == b"\x1b":
            raise LuaScriptError(f"{path}: precompiled Lua bytecode is not allowed; use Lua source")
        try:
            text = code.decode("utf-8")
        except UnicodeDecodeError as e:
            raise LuaScriptError(f"{path}: not UTF-8 text: {e}") from e
        try:
            self._guarded(self._run, text, "@" + os.path.basename(path))
        except LuaScriptError as e:
            raise LuaScriptError(f"{path}: Lua script failed to load: {e}") from e.__cause__

    def load_string(self, code: str, name: str = "=script") -> None:
        """Run a chunk of Lua source."""
        if code[:1] == "\x1b":
            raise LuaScriptError("precompiled Lua bytecode is not allowed; use Lua source")
        try:
            self._guarded(self._run, code, name)
        except LuaScriptError as e:
            raise LuaScriptError(f"Lua script failed to load: {e}") from e.__cause__

    def call(self, function: str) -> Any:
        """Call a global function with no arguments; its first result."""
        try:
            result = self._guarded(self._invoke, function)
        except LuaScriptError as e:
            raise LuaScriptError(f"Lua call failed: {e}") from e.__cause__
        if isinstance(result, tuple):
            result = result[0] if result else None
        return result


def _message(e: BaseException) -> str:
    text = str(e)
    return text.splitlines()[0] if text else type(e).__name__

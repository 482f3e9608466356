"""What Retro Studio accepts from the browser, checked in one place before anything acts on it.

Every HTTP request's query and every WebSocket message goes through this
module: :func:`check_query` for a route's query parameters and
:func:`parse_message` for a socket message. Anything outside the bounds
below raises :class:`BadMessage`, which names the field at fault
(``args.frames``, ``cmd``, ``message``...); the server answers it as a
typed error and the connection stays open.

Bounds: a message is at most :data:`MAX_MESSAGE_BYTES` and nests at most
:data:`MAX_DEPTH` objects and arrays; numbers are finite (``NaN``,
``Infinity`` and literals too large for a float, such as ``1e400``, are
refused); integers lie within JavaScript's safe range unless a field says
less; strings are at most :data:`MAX_STRING` characters (a scenario
document's own strings, at most :data:`MAX_DOC_STRING`); each command takes
exactly the fields of its schema, with their types and ranges.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Callable, Mapping

from multidict import MultiMapping

from retro.errors import RetroError

__all__ = ["BadMessage", "Message", "parse_message", "check_query", "COMMANDS", "QUERIES",
           "MAX_MESSAGE_BYTES", "MAX_DEPTH", "MAX_STRING", "MAX_DOC_STRING", "MAX_ID", "MAX_SAFE_INT"]

#: Largest text message read from a socket (a scenario document is the largest the page sends).
MAX_MESSAGE_BYTES = 1 << 20
#: Deepest nesting of objects and arrays in a message (the message itself is depth 1).
MAX_DEPTH = 32
#: Longest string in a command's own fields (names, types, digests).
MAX_STRING = 256
#: Longest string inside a scenario document.
MAX_DOC_STRING = 64 << 10
#: Largest integer (either sign) inside a scenario document.
MAX_DOC_INT = (1 << 63) - 1
#: Longest query parameter of an HTTP request.
MAX_QUERY = 512
#: Largest integer the page can send exactly (JavaScript's ``Number.MAX_SAFE_INTEGER``).
MAX_SAFE_INT = (1 << 53) - 1
#: Largest integer or longest string accepted as a request id.
MAX_ID = MAX_SAFE_INT


class BadMessage(RetroError, ValueError):
    """A request or message from the browser is malformed or out of bounds; :attr:`field` names what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        field = field or '""'  # a field the message named with the empty string
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
        #: The message's ``id``, when it parsed and has a usable one: its error reply carries it.
        self.id: int | str | None = None


@dataclass
class Message:
    """A checked socket message: ``cmd`` is a known command, ``args`` match its schema."""

    cmd: str
    id: int | str | None = None
    args: dict[str, Any] = field(default_factory=dict)


# -- field checkers -----------------------------------------------------------------------------

Check = Callable[[str, Any], Any]


class _NonFinite:
    """What ``NaN``, ``Infinity`` and ``-Infinity`` parse to: no field accepts it, and the field is named."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, _NonFinite):
        return value.name
    if type(value) is float and not math.isfinite(value):
        return "a number too large for a float"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def integer(lo: int = -MAX_SAFE_INT, hi: int = MAX_SAFE_INT) -> Check:
    def check(name: str, value: Any) -> int:
        if type(value) is not int:
            raise BadMessage(name, f"expected an integer, got {_kind(value)}")
        if not lo <= value <= hi:
            shown = value if abs(value) < 10**30 else "a larger number"
            raise BadMessage(name, f"{_short(name)} must be {lo}..{hi}, got {shown}")
        return value
    return check


def number(lo: float, hi: float) -> Check:
    def check(name: str, value: Any) -> float:
        if type(value) not in (int, float) or (type(value) is float and not math.isfinite(value)):
            raise BadMessage(name, f"expected a finite number, got {_kind(value)}")
        if not lo <= value <= hi:
            shown = value if abs(value) < 10**30 else "a larger number"
            raise BadMessage(name, f"{_short(name)} must be {lo} to {hi}, got {shown}")
        return float(value)
    return check


def boolean(name: str, value: Any) -> bool:
    if type(value) is not bool:
        raise BadMessage(name, f"expected true or false, got {_kind(value)}")
    return value


def string(max_len: int = MAX_STRING) -> Check:
    def check(name: str, value: Any) -> str:
        if type(value) is not str:
            raise BadMessage(name, f"expected a string, got {_kind(value)}")
        if len(value) > max_len:
            raise BadMessage(name, f"longer than {max_len} characters")
        if "\0" in value:
            raise BadMessage(name, "contains a NUL character")
        return value
    return check


def optional(inner: Check) -> Check:
    def check(name: str, value: Any) -> Any:
        return None if value is None else inner(name, value)
    return check


def array(inner: Check, max_items: int) -> Check:
    def check(name: str, value: Any) -> list[Any]:
        if type(value) is not list:
            raise BadMessage(name, f"expected an array, got {_kind(value)}")
        if len(value) > max_items:
            raise BadMessage(name, f"more than {max_items} items")
        return [inner(f"{name}[{i}]", v) for i, v in enumerate(value)]
    return check


def document(name: str, value: Any) -> dict[str, Any]:
    """A JSON object of any shape (a scenario): only its strings are bounded here; its loader checks the rest."""
    if type(value) is not dict:
        raise BadMessage(name, f"expected an object, got {_kind(value)}")
    stack: list[tuple[str, Any]] = [(name, value)]
    while stack:
        where, v = stack.pop()
        if type(v) is dict:
            for k, item in v.items():
                if len(k) > MAX_DOC_STRING:
                    raise BadMessage(where, f"a key is longer than {MAX_DOC_STRING} characters")
                stack.append((f"{where}.{k[:40]}", item))
        elif type(v) is list:
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(v))
        elif type(v) is str and len(v) > MAX_DOC_STRING:
            raise BadMessage(where, f"longer than {MAX_DOC_STRING} characters")
        elif isinstance(v, _NonFinite) or (type(v) is float and not math.isfinite(v)):
            raise BadMessage(where, f"expected a finite number, got {_kind(v)}")
        elif type(v) is int and abs(v) > MAX_DOC_INT:
            raise BadMessage(where, f"an integer beyond +-{MAX_DOC_INT}")
    return value


_NAME = string(128)
#: Each command's fields: ``name -> (check, required)``; a field left out takes the method's default.
COMMANDS: dict[str, dict[str, tuple[Check, bool]]] = {
    "pause": {"paused": (boolean, False)},
    "step": {"frames": (integer(1, 3600), False)},
    "speed": {"speed": (number(0.25, 8.0), True)},
    "reset": {},
    "load_state": {"name": (_NAME, True)},
    "save_state": {"name": (_NAME, True), "overwrite": (boolean, False)},
    "default_state": {"name": (_NAME, True)},
    "search_start": {"name": (string(64), True), "types": (optional(array(string(16), 32)), False)},
    "search_value": {"name": (string(64), True), "value": (integer(), True)},
    "search_relation": {"name": (string(64), True), "relation": (string(32), True), "delta": (integer(), False)},
    "candidates": {"name": (string(64), True)},
    "watch": {"name": (optional(string(64)), False)},
    "set_variable": {"name": (string(64), True), "address": (integer(0, MAX_SAFE_INT), True),
                     "type": (string(16), True)},
    "remove_variable": {"name": (string(64), True)},
    "scenario": {},
    "validate_scenario": {"doc": (document, True)},
    "save_scenario": {"doc": (document, True), "digest": (optional(string(128)), False)},
    "record_start": {"name": (_NAME, True), "overwrite": (boolean, False)},
    "record_stop": {},
    "open_movie": {"name": (_NAME, True)},
    "seek": {"frame": (integer(0, (1 << 31) - 1), True)},
    "play_movie": {"playing": (boolean, False)},
    "close_movie": {},
    "export_movie": {"name": (_NAME, True)},
    "files": {},
    "describe": {},
    "status": {},
    # no reply: the buttons held from the next frame on
    "input": {"mask": (integer(0, (1 << 32) - 1), False)},
}
_ENVELOPE = {"id", "cmd", "args", "mask"}

#: Each HTTP route's query parameters (besides the token): ``name -> required``.
QUERIES: dict[str, dict[str, bool]] = {
    "/api/file": {"game": True, "name": True},
    "/api/movie": {"game": True, "name": True},
    "/api/new": {"filename": True, "name": False},
    "/ws": {"game": True, "state": False},
}


# -- parsing ------------------------------------------------------------------------------------

# a string, or the rest of the text after an unterminated quote: never backtracks, so linear in the text
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def _depth(text: str) -> int:
    """How deep ``text``'s arrays and objects nest, without parsing it (strings are skipped)."""
    brackets = _BRACKETS.findall(_STRINGS.sub("", text))
    return max(accumulate(1 if b in "[{" else -1 for b in brackets), default=0)


def loads(text: str | bytes) -> Any:
    """``text`` as JSON within the bounds above, or :class:`BadMessage` (field ``message``)."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise BadMessage("message", f"larger than {MAX_MESSAGE_BYTES} bytes")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise BadMessage("message", "not UTF-8") from None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        raise BadMessage("message", f"larger than {MAX_MESSAGE_BYTES} bytes")
    if _depth(text) > MAX_DEPTH:
        raise BadMessage("message", f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_NonFinite)
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise BadMessage("message", f"not JSON: {e}") from None


def message_id(doc: Any) -> int | str | None:
    """The message's ``id`` if it is one a reply can carry (else None: the reply still comes, without it)."""
    if type(doc) is not dict:
        return None
    ident = doc.get("id")
    if type(ident) is int and abs(ident) <= MAX_ID:
        return ident
    if type(ident) is str and len(ident) <= 64:
        return ident
    return None


def parse_message(text: str | bytes) -> Message:
    """A socket message checked against its command's schema, or :class:`BadMessage` naming the field."""
    doc = loads(text)
    try:
        return _parse(doc)
    except BadMessage as e:
        e.id = message_id(doc)
        raise


def _parse(doc: Any) -> Message:
    if type(doc) is not dict:
        raise BadMessage("message", f"expected a JSON object, got {_kind(doc)}")
    for key in doc:
        if key not in _ENVELOPE:
            raise BadMessage(key[:40], "unknown field (a message has id, cmd, args)")
    ident = doc.get("id")
    if ident is not None and message_id(doc) is None:
        raise BadMessage("id", f"expected an integer up to {MAX_ID} or a string up to 64 characters")
    cmd = doc.get("cmd")
    if type(cmd) is not str:
        raise BadMessage("cmd", f"expected a command name, got {_kind(cmd)}")
    schema = COMMANDS.get(cmd)
    if schema is None:
        raise BadMessage("cmd", f"unknown command {cmd[:40]!r}")
    if cmd == "input":
        if "args" in doc:
            raise BadMessage("args", "input takes mask, not args")
        raw: Any = {"mask": doc["mask"]} if "mask" in doc else {}
    else:
        if "mask" in doc:
            raise BadMessage("mask", f"{cmd} takes args, not mask")
        raw = doc.get("args")
        if raw is None:
            raw = {}
        if type(raw) is not dict:
            raise BadMessage("args", f"expected an object, got {_kind(raw)}")
    return Message(cmd, message_id(doc), _check_args(cmd, schema, raw, "args" if cmd != "input" else ""))


def _check_args(cmd: str, schema: Mapping[str, tuple[Check, bool]], raw: dict[str, Any], prefix: str
                ) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in raw:
        if key not in schema:
            known = ", ".join(schema) or "none"
            raise BadMessage(f"{prefix}.{key[:40]}".lstrip("."), f"{cmd} has no such field (it takes: {known})")
    for key, (check, required) in schema.items():
        where = f"{prefix}.{key}".lstrip(".")
        if key in raw:
            out[key] = check(where, raw[key])
        elif required:
            raise BadMessage(where, f"{cmd} needs this field")
    return out


def check_query(route: str, query: Mapping[str, str]) -> dict[str, str]:
    """A route's query parameters (token aside), each a bounded string without NUL; others are refused."""
    schema = QUERIES[route]
    for key in query:
        if key != "token" and key not in schema:
            raise BadMessage(key[:40], f"unknown query parameter (this request takes: {', '.join(schema)})")
    out: dict[str, str] = {}
    for key, required in schema.items():
        values = list(query.getall(key, [])) if isinstance(query, MultiMapping) else (
            [query[key]] if key in query else [])
        if len(values) > 1:
            raise BadMessage(key, "given more than once")
        if not values:
            if required:
                raise BadMessage(key, "this request needs it")
            continue
        value = values[0]
        if len(value) > MAX_QUERY:
            raise BadMessage(key, f"longer than {MAX_QUERY} characters")
        if "\0" in value:
            raise BadMessage(key, "contains a NUL character")
        out[key] = value
    return out

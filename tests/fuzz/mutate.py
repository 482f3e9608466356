"""Deterministic mutators: bytes, JSON documents, Lua source, zip archives."""

from __future__ import annotations

import io
import json
import random
import zipfile
from typing import Any

#: Values that break parsers: wrong types, extremes, odd strings.
INTERESTING: list[Any] = [
    None, True, False, 0, -1, 1, 255, 256, 65535, 2 ** 31, -2 ** 31, 2 ** 63, 2 ** 64, -2 ** 70, 10 ** 400,
    0.5, -0.0, 1e308, float("inf"), float("nan"), "", "x", "|u1", ">u4", "<d5", "=i2", ">n8", "|p3", "u1",
    "\x00", "../../etc/passwd", "/tmp", "lua:", "lua:missing", "a" * 300, "é\udcff", [], [[]], {}, {"": {}},
    [1, 2, 3], ["x"], {"address": 1}, {"type": "|u1"}, {"variables": {}}, {"condition": "any"},
]

_BOUNDARY_BYTES = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0A, 0x0D, 0x7C, 0x23, 0x2E]


def mutate_bytes(rng: random.Random, data: bytes, rounds: int | None = None) -> bytes:
    """A few random byte-level edits: flips, boundary bytes, inserts, deletes, repeats, truncation."""
    out = bytearray(data)
    for _ in range(rounds or rng.randint(1, 4)):
        op = rng.randrange(8)
        n = len(out)
        if n == 0:
            out += bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            continue
        i = rng.randrange(n)
        if op == 0:
            out[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            out[i] = rng.choice(_BOUNDARY_BYTES)
        elif op == 2:
            out[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 3:
            del out[i:i + rng.randint(1, 64)]
        elif op == 4:
            chunk = out[i:i + rng.randint(1, 32)]
            out[i:i] = chunk * rng.randint(2, 200)
        elif op == 5:
            del out[i:]
        elif op == 6:
            j = rng.randrange(n)
            out[i:i + 4] = out[j:j + 4]
        else:
            k = rng.randrange(4)
            out[i:i + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff",
                                       b"\x80\x00\x00\x00"])[:4 - k] + b""
    return bytes(out)


def mutate_state(rng: random.Random, state: bytes) -> bytes:
    """A save state of the same size with a few bytes changed (what a core must survive)."""
    out = bytearray(state)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(out))
        op = rng.randrange(4)
        if op == 0:
            out[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            out[i] = rng.choice(_BOUNDARY_BYTES)
        elif op == 2:
            out[i:i + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff",
                                       b"\x00\x00\x00\x80"])[: len(out) - i]
        else:
            out[i] = rng.randrange(256)
    return bytes(out[: len(state)])


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        doc = doc[k]
    return doc


def mutate_json(rng: random.Random, doc: Any) -> Any:
    """A structure-aware edit of a JSON document: replace, delete, duplicate, rename or nest a value."""
    doc = json.loads(json.dumps(doc))
    for _ in range(rng.randint(1, 3)):
        paths = _paths(doc)
        path = rng.choice(paths)
        op = rng.randrange(6)
        if not path:
            if op == 0:
                doc = rng.choice(INTERESTING)
            continue
        parent, key = _get(doc, path[:-1]), path[-1]
        if op <= 1:
            parent[key] = rng.choice(INTERESTING)
        elif op == 2:
            del parent[key]
        elif op == 3 and isinstance(parent, dict):
            parent[rng.choice(["address", "type", "reward", "penalty", "op", "reference", "measurement",
                               "variables", "nodes", "condition", "script", "scripts", "done", "rewards",
                               "actions", "crop", "default_state", "default_player_state", "info", "time"])] = \
                parent[key]
        elif op == 4:
            parent[key] = [parent[key]] if rng.random() < 0.5 else {"x": parent[key]}
        else:
            value = parent[key]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                parent[key] = rng.choice([value * 2 ** rng.randint(8, 70), -value - 1, value + 0.5])
            elif isinstance(value, str):
                parent[key] = value[: rng.randrange(len(value) + 1)] + rng.choice(["", "\x00", "x", "/", ":"])
    return doc


def mutate_json_bytes(rng: random.Random, text: bytes) -> bytes:
    """Mostly structure-aware JSON edits, sometimes raw byte edits of the text."""
    if rng.random() < 0.7:
        try:
            doc = json.loads(text)
        except ValueError:
            return mutate_bytes(rng, text)
        dumped = json.dumps(mutate_json(rng, doc), allow_nan=True)
        return dumped.encode()
    return mutate_bytes(rng, text)


LUA_SNIPPETS = [
    "data.score", "data[0]", "data[-1]", "data[2^53]", "data.x = {}", "data.x = 'str'", "data.lives = 1e308",
    "data.lives = -1", "data.lives = 0/0", "scenario.frame", "scenario.nope", "tostring(data)",
    "setmetatable({}, {__index = data})", "pcall(error)", "error({})", "error(setmetatable({}, {}))",
    "string.rep('x', 1e6)", "('a'):rep(1000):find('a-a-a-b')", "table.sort({3, 1, 2}, function() return true end)",
    "select(-1)", "unpack({}, 1, 1e6)", "math.floor(1/0)", "tonumber('0x', 99)", "string.char(256)",
    "string.format('%d', 1.5)", "(' '):rep(-1)", "next({}, 'x')", "rawset(_G, 'data', nil)",
    "setmetatable(_G, {__index = function() return 1 end})", "getmetatable('').__index.gsub = nil",
    "coroutine", "load", "string.dump", "getfenv(0)", "setfenv(1, {})",
]


def mutate_lua(rng: random.Random, code: str, donors: list[str]) -> str:
    """Line-level edits of a Lua script: splice lines from donors, insert snippets, delete, duplicate."""
    lines = code.splitlines() or [""]
    for _ in range(rng.randint(1, 4)):
        if not lines:
            lines = [""]
        op = rng.randrange(5)
        i = rng.randrange(len(lines) + 1)
        if op == 0:
            donor = rng.choice(donors).splitlines() or [""]
            lines[i:i] = donor[rng.randrange(len(donor)):][: rng.randint(1, 5)]
        elif op == 1:
            lines.insert(i, rng.choice(LUA_SNIPPETS))
        elif op == 2 and lines:
            del lines[min(i, len(lines) - 1)]
        elif op == 3 and lines:
            j = min(i, len(lines) - 1)
            lines.insert(j, lines[j])
        else:
            j = min(i, len(lines) - 1)
            line = lines[j]
            cut = rng.randrange(len(line) + 1)
            lines[j] = line[:cut] + rng.choice(["(", ")", "end", " .. ", "[[", "]]", "--", "#", "..."]) + line[cut:]
    return "\n".join(lines) + "\n"


def zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def unzip(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]

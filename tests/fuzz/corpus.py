"""Known hostile inputs, built by code (no binaries in git), run as regression cases by every fuzz run.

Each builder writes its case into a fresh folder and returns the case (a
dict the kind's target runs). The inputs are the ones that once crashed,
hung or blew up retro: recursion through ``string.gsub`` and
``__tostring``, endless loops, catastrophic patterns, memory bombs,
``string.dump``/``load`` of bytecode, a ``LogKey`` of 50,000 fields, zstd
headers claiming huge sizes, gzip and zip bombs, nested and overlapping
zips, FIFOs, a ``GameName`` that is a path.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable

from tests.fuzz.mutate import zip_bytes

Builder = Callable[[Path, dict[str, Any]], dict[str, Any]]

# -- Lua -------------------------------------------------------------------------------------------

#: Scripts that attack the sandbox or the process; each defines ``reward`` (and may attack as it loads).
LUA_ATTACKS = {
    "gsub-recursion": "local function f(s) return (string.gsub(s, '.', f)) end\nfunction reward() return f('x') end",
    "gsub-table-recursion": "local t; t = setmetatable({}, {__index = function() return ('x'):gsub('x', t) end})\n"
                            "function reward() return ('x'):gsub('x', t) end",
    "tostring-tail-recursion": "local t = setmetatable({}, {__tostring = function(t) return tostring(t) end})\n"
                               "function reward() return tostring(t) end",
    "tostring-recursion": "local t; t = setmetatable({}, {__tostring = function() return 'a' .. tostring(t) end})\n"
                          "function reward() return tostring(t) end",
    "format-recursion": "local t; t = setmetatable({}, {__tostring = function() return string.format('%s', t) end})\n"
                        "function reward() return #string.format('%s', t) end",
    "print-recursion": "local t; t = setmetatable({}, {__tostring = function() print(t) return '' end})\n"
                       "function reward() print(t) return 0 end",
    "sort-recursion": "local function c(a, b) table.sort({3, 2, 1}, c) return a < b end\n"
                      "function reward() table.sort({3, 2, 1}, c) return 0 end",
    "lua-recursion": "local function f() return 1 + f() end\nfunction reward() return f() end",
    "endless-loop": "function reward() while true do end end",
    "endless-loop-at-load": "while true do end\nfunction reward() return 0 end",
    "endless-pcall-loop": "function reward() while true do pcall(function() while true do end end) end end",
    "endless-xpcall-handler": "function reward() while true do xpcall(function() while true do end end,\n"
                              "  function() while true do end end) end end",
    "endless-loop-in-tail-pcall": "function reward() return pcall(function() while true do end end) end",
    "catastrophic-find": "function reward() return string.rep('a', 5000):find(string.rep('a*', 20) .. 'b') end",
    "catastrophic-match": "function reward() return #(string.rep('a', 100000):match('.-.-.-b') or '') end",
    "catastrophic-gmatch": "function reward() for _ in string.rep('a', 3000):gmatch('a*a*a*a*b') do end return 0 end",
    "catastrophic-gsub": "function reward() return (select(2, string.rep('a', 4000):gsub('a-a-a-a-b', ''))) end",
    "memory-bomb-table": "function reward() local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end end",
    "memory-bomb-concat": "function reward() local s = 'x' while true do s = s .. s end end",
    "memory-bomb-rep": "function reward() return #string.rep('x', 2^31) end",
    "memory-bomb-at-load": "big = {} for i = 1, 1e9 do big[i] = {i} end\nfunction reward() return 0 end",
    "string-dump": "function reward() return #string.dump(reward) end",
    "load-bytecode": "function reward() return load('\\27LJ\\2') end",
    "loadstring": "function reward() return loadstring('return 1')() end",
    "string-metatable-dump": "function reward() return getmetatable('').__index.dump(reward) end",
    "getfenv-escape": "function reward() return getfenv(0).debug.getinfo(1) end",
    "setfenv-globals": "function reward() setfenv(0, {}) return 0 end",
    "python-bridge": "function reward() return python.eval('1') end",
    "unpack-huge": "function reward() return unpack({}, 1, 1e8) end",
    "data-metatable": "function reward() return getmetatable(data).__index end",
    "error-object-tostring-loop": "function reward() error(setmetatable({}, {__tostring = function()\n"
                                  "  while true do end end})) end",
    "collectgarbage": "function reward() return collectgarbage('count') end",
    "coroutine-hook-escape": "function reward() return coroutine.wrap(function() while true do end end)() end",
}


def _lua_case(code: str) -> Builder:
    def build(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
        (folder / "script.lua").write_text(code)
        return {"script": str(folder / "script.lua")}
    return build


# -- movies ----------------------------------------------------------------------------------------

PONG_HEADER = b"MovieVersion Retro\nPlatform A26\nGameName Pong-Atari2600\n"


def _bk2(folder: Path, members: list[tuple[str, bytes]], name: str = "movie.bk2") -> dict[str, Any]:
    path = folder / name
    path.write_bytes(zip_bytes(members))
    return {"movie": str(path), "play": True}


def _raw_movie(data: bytes, name: str = "movie.bk2") -> Builder:
    def build(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
        (folder / name).write_bytes(data)
        return {"movie": str(folder / name), "play": True}
    return build


def _members(*members: tuple[str, bytes]) -> Builder:
    return lambda folder, seeds: _bk2(folder, list(members))


def _zstd_claiming(size: int) -> bytes:
    """A zstd frame whose header claims ``size`` bytes of content, followed by one empty raw block."""
    return b"\x28\xb5\x2f\xfd" + bytes([0xE0]) + struct.pack("<Q", size) + b"\x01\x00\x00"


def _zstd_bomb() -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(write_content_size=False).compress(bytes(96 << 20))


def _deflate_member_claiming(name: str, claimed: int, data: bytes) -> bytes:
    """A zip whose member's headers claim ``claimed`` bytes but whose data inflate to ``data``."""
    raw = zip_bytes([(name, data)])
    real = struct.pack("<I", len(data))
    fake = struct.pack("<I", claimed & 0xFFFFFFFF)
    # the uncompressed size sits in the local header (offset 22) and the central directory (offset 24)
    local = raw.index(b"PK\x03\x04")
    central = raw.index(b"PK\x01\x02")
    out = bytearray(raw)
    assert out[local + 22:local + 26] == real and out[central + 24:central + 28] == real
    out[local + 22:local + 26] = fake
    out[central + 24:central + 28] = fake
    return bytes(out)


def _flag_members(raw: bytes, flag: int = 0, method: int | None = None) -> bytes:
    """A zip with its members' general-purpose flags or compression method changed (encrypted, unknown method)."""
    out = bytearray(raw)
    for sig, flag_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        start = 0
        while (i := out.find(sig, start)) >= 0:
            if flag:
                out[i + flag_at] |= flag
            if method is not None:
                out[i + method_at:i + method_at + 2] = struct.pack("<H", method)
            start = i + 4
    return bytes(out)


def _log(lines: bytes) -> bytes:
    return b"[Input]\n" + lines + b"[/Input]\n"


def _fifo(name: str) -> Builder:
    def build(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
        os.mkfifo(folder / name)
        return {"movie": str(folder / name)}
    return build


def _gamename(name: str) -> Builder:
    header = b"MovieVersion Retro\nPlatform A26\nGameName " + name.encode() + b"\n"
    return _members(("Input Log.txt", _log(b"P1 Button|\n|..|\n" * 3)), ("Header.txt", header))


MOVIES: dict[str, Builder] = {
    "logkey-50000-fields": _members(
        ("Header.txt", PONG_HEADER),
        ("Input Log.txt", b"[Input]\nLogKey:" + b"#P1 Up|P1 Down|" * 50_000 + b"\n" + b"|" * 60_000 + b"\n")),
    "logkey-100000-controls": _members(
        ("Header.txt", PONG_HEADER),
        ("Input Log.txt", b"[Input]\nLogKey:#" + b"P1 Up|" * 100_000 + b"\n" + b"|" + b"." * 100_000 + b"|\n" * 200)),
    "33-million-frames": _members(("Header.txt", PONG_HEADER),
                                  ("Input Log.txt", b"[Input]\nLogKey:#P1 Up|\n" + b"|\n" * (33 << 20))),
    "deflate-bomb-log": _members(("Header.txt", PONG_HEADER), ("Input Log.txt", b"[Input]\n" + bytes(300 << 20))),
    "log-claims-small-inflates-big": lambda folder, seeds: _raw_movie(
        _deflate_member_claiming("Input Log.txt", 100, _log(b"P1 Up|\n" + b"|.|\n" * 100_000)))(folder, seeds),
    "zstd-header-claims-1-TiB": _members(("Header.txt", PONG_HEADER),
                                         ("Input Log.txt", _log(b"P1 Button|\n|..|\n")),
                                         ("Core.bin", _zstd_claiming(1 << 40))),
    "zstd-header-claims-2^64-1": _members(("Header.txt", PONG_HEADER),
                                          ("Input Log.txt", _log(b"P1 Button|\n|..|\n")),
                                          ("Core.bin", _zstd_claiming((1 << 64) - 1))),
    "zstd-bomb-no-size": lambda folder, seeds: _bk2(folder, [
        ("Header.txt", PONG_HEADER), ("Input Log.txt", _log(b"P1 Button|\n|..|\n")), ("Core.bin", _zstd_bomb())]),
    "zstd-magic-then-garbage": _members(("Header.txt", PONG_HEADER), ("Input Log.txt", _log(b"P1 Button|\n")),
                                        ("Core.bin", b"\x28\xb5\x2f\xfd" + b"\xff" * 64)),
    "encrypted-members": lambda folder, seeds: _raw_movie(_flag_members(zip_bytes(
        [("Header.txt", PONG_HEADER), ("Input Log.txt", _log(b"P1 Button|\n"))]), flag=1))(folder, seeds),
    "unknown-compression-method": lambda folder, seeds: _raw_movie(_flag_members(zip_bytes(
        [("Header.txt", PONG_HEADER), ("Input Log.txt", _log(b"P1 Button|\n"))]), method=99))(folder, seeds),
    "bzip2-members": lambda folder, seeds: _raw_movie(zip_bytes(
        [("Header.txt", PONG_HEADER), ("Input Log.txt", _log(b"P1 Button|\n|..|\n"))], zipfile.ZIP_BZIP2))(
            folder, seeds),
    "not-a-zip": _raw_movie(b"not a zip at all"),
    "empty-file": _raw_movie(b""),
    "empty-zip": _members(),
    "no-header": _members(("Input Log.txt", _log(b"P1 Button|\n"))),
    "no-platform": _members(("Header.txt", b"GameName Pong-Atari2600\n"), ("Input Log.txt", _log(b"P1 Button|\n"))),
    "unknown-platform": _members(("Header.txt", b"Platform N64\n"), ("Input Log.txt", _log(b"P1 Button|\n"))),
    "no-input-section": _members(("Header.txt", PONG_HEADER), ("Input Log.txt", b"|..|\n")),
    "nine-players": _members(("Header.txt", PONG_HEADER), ("Input Log.txt", _log(b"P9 Button|\n|..|\n"))),
    "player-zero": _members(("Header.txt", PONG_HEADER), ("Input Log.txt", _log(b"P0 Button|\n|..|\n"))),
    "player-huge": _members(("Header.txt", PONG_HEADER),
                            ("Input Log.txt", _log(b"LogKey:#P99999999999999999999 Up|\n|.|\n"))),
    "header-not-utf8": _members(("Header.txt", b"Platform \xff\xfe\nGameName \x80\n"),
                                ("Input Log.txt", _log(b"P1 Button|\n"))),
    "analog-axes": _members(("Header.txt", PONG_HEADER),
                            ("Input Log.txt", _log(b"LogKey:#P1 X Axis|P1 Up|\n|  123,-0001,.|\n|99999,|\n"))),
    "gamename-absolute-path": _gamename("/tmp"),
    "gamename-relative-path": _gamename("../../../../tmp/Pong-Atari2600"),
    "gamename-dot-dot": _gamename(".."),
    "gamename-empty": _gamename(""),
    "gamename-nul": _gamename("Pong\x00-Atari2600"),
    "fifo-bk2": _fifo("movie.bk2"),
    "fifo-fm2": _fifo("movie.fm2"),
    "folder-named-bk2": lambda folder, seeds: ((folder / "movie.bk2").mkdir(),
                                               {"movie": str(folder / "movie.bk2")})[1],
    "fm2-no-version": _raw_movie(b"port0 1\n|0|........|\n", "movie.fm2"),
    "fm2-many-frames": _raw_movie(b"version 3\n" + b"|0|\n" * (5 << 20), "movie.fm2"),
    "fm2-garbage": _raw_movie(b"version 3\n" + bytes(range(256)) * 100, "movie.fm2"),
}

# -- integrations ----------------------------------------------------------------------------------


def _replace(file: str, content: bytes | str) -> Builder:
    def build(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
        data = content.encode() if isinstance(content, str) else content
        (folder / file).write_bytes(data)
        return {}
    return build


def _integration_fifo(file: str) -> Builder:
    def build(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
        (folder / file).unlink()
        os.mkfifo(folder / file)
        return {}
    return build


def _json_patch(file: str, patch: Callable[[Any], Any]) -> Builder:
    def build(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
        doc = json.loads((folder / file).read_text())
        (folder / file).write_text(json.dumps(patch(doc)))
        return {}
    return build


def _set(path: list[Any], value: Any) -> Callable[[Any], Any]:
    def patch(doc: Any) -> Any:
        node = doc
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
        return doc
    return patch


def _gzip_bomb() -> bytes:
    bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return bomb.compress(bytes(256 << 20)) + bomb.flush()


def _sparse(file: str, size: int) -> Builder:
    def build(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
        with open(folder / file, "wb") as f:
            f.truncate(size)
        return {}
    return build


def _lua_integration(code: str) -> Builder:
    def build(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
        (folder / "script.lua").write_text(code)
        scenario = json.loads((folder / "scenario.json").read_text())
        scenario["reward"] = {"script": "lua:reward"}
        (folder / "scenario.json").write_text(json.dumps(scenario))
        return {}
    return build


def _truncated_state(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
    whole = (folder / "Start.state").read_bytes()
    (folder / "Start.state").write_bytes(whole[: len(whole) // 2])
    return {}


INTEGRATIONS: dict[str, Builder] = {
    **{f"fifo-{f}": _integration_fifo(f) for f in ("data.json", "scenario.json", "metadata.json", "script.lua",
                                                   "Start.state", "rom.sha")},
    "gzip-bomb-state": lambda folder, seeds: _replace("Start.state", _gzip_bomb())(folder, seeds),
    "truncated-gzip-state": _truncated_state,
    "empty-state": _replace("Start.state", b""),
    "garbage-state": _replace("Start.state", gzip.compress(b"\xff" * 1000)),
    "sparse-64MiB-data.json": _sparse("data.json", 64 << 20),
    **{f"deep-json-{f}": _replace(f, "[" * 100_000 + "]" * 100_000)
       for f in ("data.json", "scenario.json", "metadata.json")},
    "json-not-utf8": _replace("data.json", b'{"info": {"\xff": {"address": 1, "type": "|u1"}}}'),
    "json-huge-number": _json_patch("data.json", _set(["info", "score", "address"], 10 ** 400)),
    "address-2^70": _json_patch("data.json", _set(["info", "score", "address"], 2 ** 70)),
    "address-negative": _json_patch("data.json", _set(["info", "score", "address"], -5)),
    "type-u9999": _json_patch("data.json", _set(["info", "score", "type"], "|u9999")),
    "type-empty": _json_patch("data.json", _set(["info", "score", "type"], "")),
    "mask-huge": _json_patch("data.json", _set(["info", "score", "mask"], 2 ** 80)),
    "info-list": _json_patch("data.json", _set(["info"], [1, 2])),
    "reward-string": _json_patch("scenario.json", _set(["reward", "variables", "score", "reward"], "lots")),
    "reward-nan": _replace("scenario.json", '{"reward": {"variables": {"score": {"reward": NaN}}}}'),
    "reward-infinity": _replace("scenario.json", '{"reward": {"variables": {"score": {"reward": Infinity}}}}'),
    "op-unknown": _json_patch("scenario.json", _set(["done", "variables", "score", "op"], "xor")),
    "reference-string": _json_patch("scenario.json", _set(["done", "variables", "score", "reference"], "ten")),
    "done-nodes-deep": _replace("scenario.json", json.dumps(
        {"done": {"nodes": {"a": {"nodes": {"b": {"nodes": {"c": {"variables": {"score": {"op": "equal"}}}}}}}}}})),
    "done-nodes-1000-deep": _replace("scenario.json", '{"done": ' + '{"nodes": {"n": ' * 1000 + "{}" + "}}" * 1000
                                     + "}"),
    "script-absolute-path": _json_patch("scenario.json", _set(["scripts"], ["/etc/passwd"])),
    "script-parent-path": _json_patch("scenario.json", _set(["scripts"], ["../../script.lua"])),
    "script-not-lua": _json_patch("scenario.json", _set(["scripts"], ["rom.sha"])),
    "actions-garbage": _json_patch("scenario.json", _set(["actions"], [[["UP", 5]], "x"])),
    "crop-garbage": _json_patch("scenario.json", _set(["crop"], [1, 2, -3, 10 ** 9])),
    "default-state-path": _json_patch("metadata.json", _set(["default_state"], "../../../../etc/passwd")),
    "default-state-missing": _json_patch("metadata.json", _set(["default_state"], "Nope")),
    "default-state-number": _json_patch("metadata.json", _set(["default_state"], 5)),
    "player-states-garbage": _json_patch("metadata.json", _set(["default_player_state"], [None, 3, "/x"])),
    "rom.sha-garbage": _replace("rom.sha", bytes(range(256))),
    "rom.sha-empty": _replace("rom.sha", b""),
    **{f"lua-{name}": _lua_integration(code) for name, code in LUA_ATTACKS.items()},
}

# -- zips for import ------------------------------------------------------------------------------


def _overlapping_zip(copies: int) -> bytes:
    """A zip whose central directory names one compressed member ``copies`` times (all at offset 0)."""
    raw = zip_bytes([("a.bin", bytes(30 << 20))])
    central = raw.index(b"PK\x01\x02")
    end = raw.index(b"PK\x05\x06")
    entry = raw[central:end]
    name_len = struct.unpack("<H", entry[28:30])[0]
    entries = b"".join(entry[:46] + f"{i:05d}".encode()[:name_len].ljust(name_len, b"_") + entry[46 + name_len:]
                       for i in range(copies))
    eocd = bytearray(raw[end:])
    struct.pack_into("<HHII", eocd, 8, copies, copies, len(entries), central)
    return raw[:central] + entries + bytes(eocd)


def _nested_bomb(levels: int, width: int) -> bytes:
    inner = zip_bytes([(f"z{i}.bin", bytes(32 << 20)) for i in range(width)])
    for level in range(levels):
        inner = zip_bytes([(f"l{level}-{i}.zip", inner) for i in range(width)])
    return inner


def _deep_zip(depth: int, rom: bytes) -> bytes:
    data = zip_bytes([("pong.a26", rom)])
    for i in range(depth):
        data = zip_bytes([(f"level{i}.zip", data)])
    return data


def _zip_file(name: str, make: Callable[[dict[str, Any]], bytes]) -> Builder:
    def build(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
        (folder / name).write_bytes(make(seeds))
        return {"path": str(folder / name)}
    return build


def _zip_folder(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
    root = folder / "roms"
    root.mkdir()
    os.mkfifo(root / "fifo.a26")
    os.mkfifo(root / "fifo.zip")
    os.symlink("loop", root / "loop")
    os.symlink(root / "missing", root / "dangling.a26")
    (root / "sub").mkdir()
    os.symlink(root, root / "sub" / "up")
    return {"path": str(root)}


ZIPS: dict[str, Builder] = {
    "overlapping-entries": _zip_file("overlap.zip", lambda seeds: _overlapping_zip(2000)),
    "nested-bomb": _zip_file("nested.zip", lambda seeds: _nested_bomb(2, 8)),
    "deep-nesting": _zip_file("deep.zip", lambda seeds: _deep_zip(12, seeds["pong"])),
    "inner-zip-claims-small": _zip_file("claims.zip", lambda seeds: zip_bytes(
        [("inner.zip", _deflate_member_claiming("x.bin", 10, bytes(40 << 20)))])),
    "member-claims-small": _zip_file("claims2.zip", lambda seeds: _deflate_member_claiming(
        "x.a26", 4096, bytes(40 << 20))),
    "encrypted-member": _zip_file("enc.zip", lambda seeds: _flag_members(zip_bytes([("pong.a26", seeds["pong"])]),
                                                                        flag=1)),
    "unknown-method": _zip_file("method.zip", lambda seeds: _flag_members(
        zip_bytes([("pong.a26", seeds["pong"])]), method=99)),
    "hostile-names": _zip_file("names.zip", lambda seeds: zip_bytes(
        [("../../escape.a26", seeds["pong"]), ("/abs/pong.a26", b"x"), ("dir/", b""), ("a\x00b.a26", b"z")])),
    "million-empty-members": _zip_file("many.zip", lambda seeds: zip_bytes(
        [(f"{i}.a26", b"") for i in range(20_000)], zipfile.ZIP_STORED)),
    "truncated-zip": _zip_file("trunc.zip", lambda seeds: zip_bytes([("pong.a26", seeds["pong"])])[:-30]),
    "not-a-zip": _zip_file("fake.zip", lambda seeds: b"PK\x05\x06" + b"\xff" * 40),
    "hostile-folder": _zip_folder,
}

# -- command line ---------------------------------------------------------------------------------

CLI: dict[str, list[str]] = {
    "info-path": ["info", "../../etc"],
    "info-absolute": ["info", "/tmp"],
    "info-empty": ["info", ""],
    "info-long": ["info", "x" * 10_000],
    "info-surrogate": ["info", "\udcff"],
    "list-system-odd": ["list", "--system", "../\udcff"],
    "unknown-command": ["frobnicate"],
    "no-arguments": [],
    "import-missing": ["import", "-n", "/nonexistent/path"],
    "import-dev-null": ["import", "-n", "/dev/null"],
    "import-unknown-option": ["import", "--bogus"],
    "playback-missing": ["playback", "/nonexistent.bk2"],
    "playback-no-args": ["playback"],
    "help": ["--help"],
    "info-help": ["info", "--help"],
}


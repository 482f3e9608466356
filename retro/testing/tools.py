"""Integration checks: Gym Retro's and stable-retro's ``retro.testing.tools``.

Each check looks at one game's integration (a game id and an
:class:`~retro.data.Integrations` flag saying which folders to search) and
returns ``(warnings, errors)``, two lists of ``(file, message)`` pairs, where
``file`` names the file as ``<kind>/<Game>/<file>`` (``str(inttype)`` is
empty for stable integrations) or the game. Messages are Gym Retro's:

- :func:`verify_data`: ``data.json`` - ``fail decode``, ``fail I/O``,
  ``missing info``, ``missing address for X``, ``missing type for X``,
  ``invalid type T for X``; warnings ``suspicious type T for X`` (a
  two-character byte order, or BCD of 5 to 8 bytes), and for ``lives``
  and ``score`` types that rarely fit them;
- :func:`verify_scenario`: a scenario - ``missing reward``, ``missing
  done`` and other warnings; ``invalid variable X``, ``blank reward X``,
  ``invalid done condition X``, ``op: negative on unsigned X``...;
- :func:`verify_default_state`: ``metadata.json`` - ``default state
  missing``, ``invalid default state S``;
- :func:`verify_rom` (:func:`verify_genesis`, :func:`verify_extension`):
  the ROM - ``ROM file missing``, ``invalid extension for rom.X``,
  ``invalid genesis rom``;
- :func:`verify_hash_collisions`: every integration - ``sha duplicate``
  for games whose ``rom.sha`` share a hash;
- :func:`scan_missing`: ``(game, file)`` for each standard file a game lacks.

A game's ``metadata.json`` may hold a ``whitelist``: ``{"data.json":
[warning, ...], "scenario.json": [...], "rom.md": ...}``. Whitelisted
warnings are dropped; a whitelisted warning that no longer occurs is an
error (``missing warning "..."``), so whitelists stay true. A whitelisted
ROM file name skips the ROM's checks.

Unlike Gym Retro's, these run to the end on any input (a missing or
malformed file is reported, never raised), :func:`verify_hash_collisions`
reads the ``rom.sha`` files it lists (Gym Retro's opens a wrong path and
finds nothing), a ROM with another system's extension is found and
reported, reward variables of every ``rewards[i]`` are checked too, and a
scenario with variables of its own (``info``, as this project's named
variants have) is checked against those. ``python3 -m retro.testing`` runs
every check on every integration and prints the counts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from typing import Any, Iterable, Optional

from retro import data as _data
from retro.data import Integrations
from retro.systems import EMU_EXTENSIONS, canonical_system

__all__ = [
    "load_whitelist",
    "scan_missing",
    "verify_data",
    "verify_scenario",
    "verify_default_state",
    "verify_hash_collisions",
    "verify_genesis",
    "verify_extension",
    "verify_rom",
    "verify_game",
    "verify_all",
    "main",
]

Report = list[tuple[str, str]]
"""``(file, message)`` pairs."""

#: Byte orders a type may start with, by how many bytes it has: Gym Retro's grammar.
_ONE_BYTE = "|"
_ORDERS = {">", "<", "=", "><", ">=", "<>", "<=", "=>", "=<"}
_KINDS = set("dinu")

_UNREADABLE = object()


def _rel(game: str, inttype: Integrations, name: str) -> str:
    return os.path.join(str(inttype), game, name)


def _read_json(path: Optional[str], raw: Optional[str | bytes]) -> Any:
    """The JSON document of ``raw`` if given, else of the file; raises ``ValueError`` (bad JSON) or ``OSError``."""
    if raw is not None:
        return json.loads(raw)
    assert path is not None
    with open(path, "rb") as f:
        return json.loads(f.read())


def _load(path: Optional[str], raw: Optional[str | bytes], file: str) -> tuple[Any, Report]:
    """``(document, errors)``: ``fail decode`` for bad JSON, ``fail I/O`` for a file that cannot be read."""
    try:
        return _read_json(path, raw), []
    except (ValueError, RecursionError):
        return None, [(file, "fail decode")]
    except OSError:
        return None, [(file, "fail I/O")]


def _whitelist_filter(warnings: Report, errors: Report, whitelist: dict[str, Any], file: str,
                      key: str) -> tuple[Report, Report]:
    """Drop whitelisted warnings; a whitelisted one that did not occur becomes an error."""
    listed = whitelist.get(key) or []
    allowed = {(file, str(w)) for w in listed} if isinstance(listed, list) else set()
    seen = set(warnings)
    kept = sorted(seen - allowed)
    stale = [("metadata.json", f'missing warning "{f}: {w}"') for f, w in sorted(allowed - seen)]
    return kept, errors + stale


def load_whitelist(game: str, inttype: Integrations) -> tuple[Optional[dict[str, Any]], Report]:
    """``(whitelist, errors)``: the ``whitelist`` object of ``game``'s ``metadata.json``.

    ``({}, [])`` when the game has no metadata or no whitelist;
    ``(None, [(file, 'fail decode' | 'fail I/O')])`` when the metadata cannot be read.
    """
    file = _rel(game, inttype, "metadata.json")
    path = _data.get_file_path(game, "metadata.json", inttype | Integrations.STABLE)
    if path is None:
        return {}, []
    doc, errors = _load(path, None, file)
    if errors:
        return None, errors
    if not isinstance(doc, dict):
        return None, [(file, "fail decode")]
    whitelist = doc.get("whitelist", {})
    if not isinstance(whitelist, dict):
        return None, [(file, "invalid whitelist")]
    return whitelist, []


def scan_missing() -> list[tuple[str, str]]:
    """``(game, file)`` for every standard file an integration lacks (any kind of integration searched).

    The files: ``data.json``, ``scenario.json``, ``metadata.json``, a
    ``*.state`` and ``rom.sha``. The integrations are the games
    :func:`retro.data.list_games` lists and the folders named like a game
    (``Name-System``) of any kind, so that one without a ``rom.sha`` is
    reported too.
    """
    everywhere = Integrations.ALL
    missing = []
    games = set(_data.list_games(everywhere))
    # folders named like a game (Name-System) that no folder of any kind gives a rom.sha are integrations too
    for base in _data.integrations.integration_dirs(everywhere):
        try:
            names = os.listdir(base)
        except OSError:
            continue
        games.update(_data.integrations.canonical_game(n) for n in names
                     if _data.integrations.game_system(n) and os.path.isdir(os.path.join(base, n)))
    for game in sorted(games):
        for name in ("data.json", "scenario.json", "metadata.json"):
            if not _data.get_file_path(game, name, everywhere):
                missing.append((game, name))
        if not _data.list_states(game, everywhere):
            missing.append((game, "*.state"))
        if not _data.get_file_path(game, "rom.sha", everywhere):
            missing.append((game, "rom.sha"))
    return missing


def type_problem(type_: Any) -> Optional[str]:
    """``"invalid"`` or ``"suspicious"`` for a variable's type string that is so, else None.

    Valid: ``|`` with a one-byte ``d``/``i``/``n``/``u``, or a byte order
    (``>``, ``<``, ``=``, or two of them) with 2 to 8 bytes. Suspicious: a
    two-character byte order, or binary-coded decimal of 5 or more bytes.
    """
    if not isinstance(type_, str) or len(type_) < 3:
        return "invalid"
    order, kind, size = type_[:-2], type_[-2], type_[-1]
    if kind not in _KINDS or not size.isdigit():
        return "invalid"
    n = int(size)
    if order == _ONE_BYTE:
        return None if n == 1 else "invalid"
    if order not in _ORDERS or not 2 <= n <= 8:
        return "invalid"
    if len(order) == 2 or (kind == "d" and n >= 5):
        return "suspicious"
    return None


def verify_data(game: str, inttype: Integrations, raw: Optional[str | bytes] = None) -> tuple[Report, Report]:
    """Check ``game``'s ``data.json`` (or the JSON text ``raw`` in its place); ``(warnings, errors)``.

    A game without a ``data.json`` (and no ``raw``) has nothing to check.
    """
    file = _rel(game, inttype, "data.json")
    path = _data.get_file_path(game, "data.json", inttype)
    if path is None and raw is None:
        return [], []
    doc, errors = _load(path, raw, file)
    if errors:
        return [], errors
    whitelist, errors = load_whitelist(game, inttype)
    if whitelist is None:
        return [], errors
    info = doc.get("info") if isinstance(doc, dict) else None
    if not info or not isinstance(info, dict):
        return [], [(file, "missing info")]
    warnings: Report = []
    for variable, definition in info.items():
        if not isinstance(definition, dict):
            errors.append((file, f"missing address for {variable}"))
            errors.append((file, f"missing type for {variable}"))
            continue
        if "address" not in definition:
            errors.append((file, f"missing address for {variable}"))
        if "type" not in definition:
            errors.append((file, f"missing type for {variable}"))
            continue
        problem = type_problem(definition["type"])
        if problem is not None:
            (errors if problem == "invalid" else warnings).append(
                (file, f"{problem} type {definition['type']} for {variable}"))
    lives = info.get("lives")
    if isinstance(lives, dict) and lives.get("type", "") not in ("|u1", "|i1", "|d1"):
        warnings.append((file, f"suspicious type {lives.get('type')} for lives"))
    score = info.get("score")
    if isinstance(score, dict):
        kind = str(score.get("type", "??"))
        if kind[1:] in ("u1", "d1", "n1", "n2") or "i" in kind:
            warnings.append((file, f"suspicious type {score.get('type')} for score"))
    return _whitelist_filter(warnings, errors, whitelist, file, "data.json")


def _variables(spec: Any) -> dict[str, Any]:
    variables = spec.get("variables") if isinstance(spec, dict) else None
    return variables if isinstance(variables, dict) else {}


def _check_rewards(scen: dict[str, Any], file: str, warnings: Report) -> None:
    if "rewards" in scen:
        rewards = scen["rewards"] if isinstance(scen["rewards"], list) else []
        for i, reward in enumerate(rewards):
            has_vars = isinstance(reward, dict) and "variables" in reward
            has_script = isinstance(reward, dict) and "script" in reward
            if not (has_vars or has_script):
                warnings.append((file, f"missing reward in rewards[{i}]"))
            elif has_vars and has_script:
                warnings.append((file, f"both variables and script present in rewards[{i}]"))
        if "reward" in scen:
            warnings.append((file, "reward and rewards both present"))
        return
    reward = scen.get("reward")
    if not isinstance(reward, dict) or ("variables" not in reward and "script" not in reward):
        warnings.append((file, "missing reward"))
    elif "variables" in reward and "script" in reward:
        warnings.append((file, "both variables and script present in reward"))


CHECK_ZERO_OPS = False
"""Warn ``incorrect op: zero for X`` (``nonzero``, ``negative``, ``positive``) for a done condition that compares
``X`` with a reference of 0 by ``equal`` (``not-equal``, ``less-than``, ``greater-than``), which the op ``zero``
(...) says directly. Gym Retro's and stable-retro's tools mean to and never do (they compare the string
``"op"``), so their users' integrations were never held to it; off by default, to report what theirs report.
"""

#: A done condition on a variable compared with 0 reads better as the op that says so.
_ZERO_OPS = {"equal": "zero", "negative-equal": "zero", "not-equal": "nonzero", "less-than": "negative",
             "greater-than": "positive"}


def verify_scenario(game: str, inttype: Integrations, scenario: str = "scenario", raw: Optional[str | bytes] = None,
                    dataraw: Optional[str | bytes] = None) -> tuple[Report, Report]:
    """Check ``game``'s scenario ``<scenario>.json`` (or ``raw``) against its ``data.json`` (or ``dataraw``).

    Returns ``(warnings, errors)``; a game without the scenario (and no
    ``raw``) has nothing to check.
    """
    file = _rel(game, inttype, f"{scenario}.json")
    path = _data.get_file_path(game, f"{scenario}.json", inttype)
    if path is None and raw is None:
        return [], []
    scen, errors = _load(path, raw, file)
    if errors:
        return [], errors
    if not isinstance(scen, dict):
        return [], [(file, "fail decode")]
    whitelist, errors = load_whitelist(game, inttype)
    if whitelist is None:
        return [], errors
    warnings: Report = []
    _check_rewards(scen, file, warnings)
    done = scen.get("done")
    if not isinstance(done, dict) or not ({"variables", "script", "nodes"} & done.keys()):
        warnings.append((file, "missing done"))

    info: Optional[dict[str, Any]] = None
    data_path = _data.get_file_path(game, "data.json", inttype | Integrations.STABLE)
    if dataraw is None and isinstance(scen.get("info"), dict):
        info = scen["info"]  # a scenario with variables of its own plays with those (retro's named variants)
    elif dataraw is not None or data_path is not None:
        doc, problems = _load(data_path, dataraw, file)
        if not problems and isinstance(doc, dict) and isinstance(doc.get("info"), dict):
            info = doc["info"]

    reward_specs = [scen.get("reward")] + (scen["rewards"] if isinstance(scen.get("rewards"), list) else [])
    for spec in reward_specs:
        for variable, definition in _variables(spec).items():
            if info is not None and variable not in info:
                errors.append((file, f"invalid variable {variable}"))
            if not definition or not isinstance(definition, dict):
                errors.append((file, f"invalid definition {variable}"))
                continue
            if "reward" not in definition and "penalty" not in definition:
                errors.append((file, f"blank reward {variable}"))

    if isinstance(done, dict) and isinstance(done.get("variables"), dict):
        variables: dict[str, Any] = done["variables"]
        nodes = done.get("nodes") if isinstance(done.get("nodes"), dict) else {}
        checks = len(variables) + len(nodes or {})
        condition = done.get("condition", "any")
        if "score" in variables:
            warnings.append((file, "suspicious variable in done condition: score"))
        if "health" in variables and "lives" in variables and "condition" not in done:
            warnings.append((file, "suspicious done condition: health OR lives"))
        if condition == "all" and checks < 2:
            errors.append((file, "incorrect done condition all with only 1 check"))
        if condition == "any" and checks > 2:
            warnings.append((file, "suspicious done condition any with more than 2 checks"))
        for variable, definition in variables.items():
            if not isinstance(definition, dict) or "op" not in definition:
                errors.append((file, f"invalid done condition {variable}"))
            elif CHECK_ZERO_OPS and definition.get("reference", 0) == 0 and definition["op"] in _ZERO_OPS:
                warnings.append((file, f"incorrect op: {_ZERO_OPS[definition['op']]} for {variable}"))
            if info is None:
                continue
            if variable not in info:
                errors.append((file, f"invalid variable {variable}"))
            elif (isinstance(definition, dict) and isinstance(info[variable], dict)
                  and "i" not in str(info[variable].get("type", "")) and definition.get("op") == "negative"
                  and definition.get("measurement") != "delta"):
                errors.append((file, f"op: negative on unsigned {variable}"))
    return _whitelist_filter(warnings, errors, whitelist, file, os.path.basename(file))


def verify_default_state(game: str, inttype: Integrations, raw: Optional[str | bytes] = None) -> tuple[Report, Report]:
    """Check that ``game``'s ``metadata.json`` (or ``raw``) names a ``default_state`` the game has."""
    file = _rel(game, inttype, "metadata.json")
    path = _data.get_file_path(game, "metadata.json", inttype)
    if path is None and raw is None:
        return [], []
    try:
        metadata = _read_json(path, raw)
    except (ValueError, RecursionError):
        return [], [(file, "fail decode")]
    except OSError:
        return [], []
    state = metadata.get("default_state") if isinstance(metadata, dict) else None
    if not state:
        return [], [(file, "default state missing")]
    if state not in _data.list_states(game, inttype | Integrations.STABLE):
        return [], [(file, f"invalid default state {state}")]
    return [], []


def _shas(path: str) -> list[str]:
    with open(path, "rb") as f:
        text = f.read().decode("ascii", "replace")
    return [line.strip().lower() for line in text.splitlines() if line.strip()]


def verify_hash_collisions() -> tuple[Report, Report]:
    """``([], errors)``: ``(game, 'sha duplicate')`` for each integration whose ``rom.sha`` lists a hash
    another integration lists too (every kind of integration searched)."""
    games_by_sha: dict[str, list[str]] = {}
    for game in _data.list_games(Integrations.ALL):
        path = _data.get_file_path(game, "rom.sha", Integrations.ALL)
        if path is None:
            continue
        try:
            shas = _shas(path)
        except OSError:
            continue
        for sha in dict.fromkeys(shas):
            games_by_sha.setdefault(sha, []).append(game)
    errors = [(game, "sha duplicate") for games in games_by_sha.values() if len(games) > 1 for game in games]
    return [], errors


def _rom_file(game: str, inttype: Integrations) -> Optional[str]:
    """The ROM :func:`retro.data.get_romfile_path` finds, else a ``rom.<ext>`` of another system (to report it)."""
    try:
        return _data.get_romfile_path(game, inttype=inttype)
    except FileNotFoundError:
        pass
    folders = [d for _source, d in _data.game_dirs(game, inttype)]
    store = _data.integrations.imported_games_dir()
    folders += [str(store / name) for name in (game, _data.integrations.canonical_game(game))]
    for folder in folders:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:  # a ROM of another system (rom.sha, and patches such as rom.delta, are not ROMs)
            if (name.startswith("rom.") and os.path.splitext(name)[1].lower() in EMU_EXTENSIONS
                    and os.path.isfile(os.path.join(folder, name))):
                return os.path.join(folder, name)
    return None


def _game_base(game: str) -> str:
    return re.sub(r"-v\d+$", "", game)


def verify_genesis(game: str, inttype: Integrations) -> tuple[Report, Report]:
    """Check a Genesis game's ROM: a ``.md`` file with ``SEGA`` at 0x100 (unless ``rom.md`` is whitelisted)."""
    whitelist, errors = load_whitelist(game, inttype)
    if whitelist is None:
        return [], errors
    rom = _rom_file(game, inttype)
    if rom is None:
        return [], [(game, "ROM file missing")]
    if not rom.endswith(".md"):
        errors.append((game, f"invalid extension for {rom}"))
    if "rom.md" in whitelist:
        return [], []
    try:
        with open(rom, "rb") as f:
            header = f.read(512)
    except OSError:
        return [], errors + [(game, "ROM file missing")]
    if header[0x100:0x105] not in (b"SEGA ", b" SEGA"):
        errors.append((game, "invalid genesis rom"))
    return [], errors


def verify_extension(game: str, inttype: Integrations) -> tuple[Report, Report]:
    """Check that the ROM's extension is one of the system the game id names (unless the ROM's name is whitelisted)."""
    whitelist, errors = load_whitelist(game, inttype)
    if whitelist is None:
        return [], errors
    path = _rom_file(game, inttype)
    if path is None:
        return [], [(game, "ROM file missing")]
    rom = os.path.basename(path)
    platform = EMU_EXTENSIONS.get(os.path.splitext(rom)[1].lower())
    suffix = _game_base(game).rsplit("-", 1)[-1]
    if not platform or "-" not in _game_base(game) or canonical_system(suffix) != platform:
        errors.append((game, f"invalid extension for {rom}"))
    if rom in whitelist:
        return [], []
    return [], errors


def verify_rom(game: str, inttype: Integrations) -> tuple[Report, Report]:
    """Check ``game``'s ROM: present, with its system's extension, and a Genesis ROM's header."""
    if _rom_file(game, inttype) is None:
        return [], [(game, "ROM file missing")]
    if _game_base(game).endswith("-Genesis"):
        return verify_genesis(game, inttype)
    return verify_extension(game, inttype)


def verify_game(game: str, inttype: Integrations, rom: bool = True) -> tuple[Report, Report]:
    """Every check of one game: data, scenarios (every one it has), default state, ROM hash and ROM.

    Without ``rom``, the ROM checks are left out (a game whose ROM was not imported has only those to fail).
    """
    warnings: Report = []
    errors: Report = []

    def add(result: tuple[Report, Report]) -> None:
        warnings.extend(result[0])
        errors.extend(result[1])

    add(verify_data(game, inttype))
    scenarios = set(_data.list_scenarios(game, inttype)) | {"scenario"}
    for scenario in sorted(scenarios):
        add(verify_scenario(game, inttype, scenario))
    add(verify_default_state(game, inttype))
    if rom:
        found = verify_rom(game, inttype)
        add(found)
        if not any(message == "ROM file missing" for _f, message in found[1]):
            try:
                errors.extend(_data.verify_hash(game, inttype))
            except FileNotFoundError:
                pass
    return warnings, errors


def _kinds(game: str) -> list[tuple[str, Integrations]]:
    """The kinds of integration with a folder of ``game``: ``(suffix, flag)``, as :mod:`retro.testing` lists them."""
    flags = {"": Integrations.STABLE, "exp": Integrations.EXPERIMENTAL_ONLY, "contrib": Integrations.CONTRIB_ONLY,
             "custom": Integrations.CUSTOM_ONLY}
    kinds = {"stable": "", "experimental": "exp", "contrib": "contrib"}
    found = []
    for source, folder in _data.game_dirs(game, Integrations.ALL):
        suffix = "custom" if source == "custom" else kinds.get(os.path.basename(os.path.dirname(folder)))
        if suffix is not None and suffix not in found:
            found.append(suffix)
    order = ["", "exp", "contrib", "custom"]
    return [(s, flags[s]) for s in sorted(found, key=order.index)]


def verify_all(games: Optional[Iterable[str]] = None, rom: bool = True) -> dict[str, Any]:
    """Run every check on every integration (or on ``games``); a summary.

    Each game is checked once per kind of integration that has a folder of
    it (stable, experimental, contrib, custom), as :mod:`retro.testing`'s
    ``game`` fixture lists them. Returns ``{"games", "checked", "warnings",
    "errors", "missing", "collisions"}``: the warnings and errors are lists
    of ``(file, message)``; ``missing`` is :func:`scan_missing`'s list,
    ``collisions`` :func:`verify_hash_collisions`'s errors.
    """
    names = list(games) if games is not None else _data.list_games(Integrations.ALL)
    warnings: Report = []
    errors: Report = []
    checked = 0
    for game in names:
        for _suffix, flag in _kinds(game):
            w, e = verify_game(game, flag, rom=rom)
            warnings += w
            errors += e
            checked += 1
    return {"games": len(names), "checked": checked, "warnings": warnings, "errors": errors,
            "missing": scan_missing() if games is None else [],
            "collisions": verify_hash_collisions()[1] if games is None else []}


def _message_kind(message: str) -> str:
    """A message without the names in it: ``invalid variable X`` -> ``invalid variable``."""
    for prefix in ("invalid extension for", "invalid default state", "invalid variable", "invalid type",
                   "suspicious type", "missing address for", "missing type for", "blank reward",
                   "invalid definition", "invalid done condition", "op: negative on unsigned", "incorrect op",
                   "missing warning", "missing reward in rewards", "both variables and script present in rewards"):
        if message.startswith(prefix):
            return prefix
    return message


def main(argv: Optional[list[str]] = None) -> int:
    """``python3 -m retro.testing [GAME...]``: run every check and print counts (and, with ``-v``, each finding).

    Exit status 1 if any error was found.
    """
    parser = argparse.ArgumentParser(prog="python3 -m retro.testing", description=main.__doc__)
    parser.add_argument("games", nargs="*", help="games to check (default: every integration)")
    parser.add_argument("--no-rom", action="store_true", help="leave out the ROM checks")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every warning and error")
    parser.add_argument("--zero-ops", action="store_true", help="warn about done conditions that compare with 0 "
                        "by equal/not-equal/less-than/greater-than (see CHECK_ZERO_OPS)")
    args = parser.parse_args(argv)
    global CHECK_ZERO_OPS
    CHECK_ZERO_OPS = CHECK_ZERO_OPS or args.zero_ops
    summary = verify_all(args.games or None, rom=not args.no_rom)
    print(f"{summary['games']} games, {summary['checked']} integration folders checked")
    for name in ("errors", "warnings"):
        found = summary[name]
        print(f"{len(found)} {name}")
        for kind, n in Counter(_message_kind(m) for _f, m in found).most_common():
            print(f"  {n:6d}  {kind}")
    if not args.games:
        print(f"{len(summary['missing'])} files missing (scan_missing)")
        for kind, n in Counter(f for _g, f in summary["missing"]).most_common():
            print(f"  {n:6d}  {kind}")
        print(f"{len(summary['collisions'])} sha duplicates (verify_hash_collisions)")
    if args.verbose:
        for name in ("errors", "warnings"):
            for file, message in summary[name]:
                print(f"{name[:-1]}: {file}: {message}")
        for game, message in summary["collisions"]:
            print(f"error: {game}: {message}")
    return 1 if summary["errors"] or summary["collisions"] else 0


"""retro's console command: ``retro COMMAND`` (or ``python3 -m retro COMMAND``).

Errors exit with a non-zero code. Commands:

``list``
    every integrated game, whether its ROM is present, and its states;
``import PATH...``
    import ROMs of known games (same as ``python3 -m retro.import``);
``info GAME``
    a game's system, ROM, states, scenarios and variables;
``cores``
    which libretro core serves each system, and where it was found;
``playback FILE.bk2...``
    render movies to video (``python3 -m retro.scripts.playback_movie``);
``play GAME``
    play a game with the keyboard (``python3 -m retro.examples.interactive``);
``provision``
    install the pinned cores, ROMs and game library (``python3 -m retro.provision``);
``bench GAME``
    how fast a game runs here: emulator, env and vector env (``python3 -m retro.scripts.bench``).
``studio [GAME or ROM]``
    Retro Studio, the web app that makes integrations (:mod:`retro.studio`).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from typing import Any, Optional

from retro._fileutil import read_regular
from retro.errors import RetroError

__all__ = ["main"]


def _rom_path(game: str) -> Optional[str]:
    from retro import data

    try:
        return data.get_romfile_path(game, inttype=data.Integrations.ALL)
    except FileNotFoundError:
        return None


def _rom_status(game: str, rom: Optional[str]) -> str:
    """``present`` (the dump the integration was made for), ``other dump`` or ``missing``."""
    from retro import data

    if rom is None:
        return "missing"
    return "present" if not data.verify_hash(game, inttype=data.Integrations.ALL) else "other dump"


def _sources(game: str) -> str:
    from retro import data

    order = {"custom": 0, "library": 1, "retro": 2}
    found = {source for source, _ in data.game_dirs(game, data.Integrations.ALL)}
    return "+".join(sorted(found, key=order.__getitem__)) or "-"


def cmd_list(args: argparse.Namespace) -> int:
    from retro import data

    games = data.list_games(data.Integrations.ALL)
    if args.system:
        games = [g for g in games if g.endswith("-" + args.system)]
    counts = {"present": 0, "other dump": 0, "missing": 0}
    in_library = 0
    width = max([len(g) for g in games], default=4)
    print(f"{'game':<{width}}  {'ROM':<10} {'source':<14} states")
    for game in games:
        status = _rom_status(game, _rom_path(game))
        counts[status] += 1
        sources = _sources(game)
        in_library += "library" in sources
        states = ", ".join(data.list_states(game, inttype=data.Integrations.ALL)) or "-"
        print(f"{game:<{width}}  {status:<10} {sources:<14} {states}")
    print(f"{len(games)} game{'s' if len(games) != 1 else ''} ({in_library} from stable-retro's library), "
          f"{counts['present']} with their ROM", end="")
    if counts["other dump"]:
        print(f", {counts['other dump']} with another dump of it", end="")
    if counts["present"] < len(games):
        print("; import the others' ROMs with `python3 -m retro import PATH`", end="")
    print()
    return 0


def _resolve_game(name: str) -> Optional[str]:
    from retro import data

    games = data.list_games(data.Integrations.ALL)
    base = name[:-3] if name.endswith("-v0") else name
    for g in games:
        if g in (name, base) or g.lower() == base.lower():
            return g
    close = difflib.get_close_matches(base, games, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else "; `python3 -m retro list` shows them all"
    print(f"retro: no game {name!r}{hint}", file=sys.stderr)
    return None


def _read_json(path: Optional[str]) -> Any:
    if not path:
        return None
    try:
        return json.loads(read_regular(path))
    except (OSError, ValueError, RecursionError) as e:
        return {"_error": str(e)}


def _obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (``info`` shows what it can of a broken file)."""
    return value if isinstance(value, dict) else {}


def _describe_spec(spec: Any) -> str:
    spec = _obj(spec)
    parts = []
    for key in ("measurement", "op", "reference", "reward", "penalty"):
        if key in spec:
            parts.append(f"{key}={spec[key]}")
    return " ".join(parts) or "(defaults)"


def cmd_info(args: argparse.Namespace) -> int:
    from retro import data
    from retro.data.integrations import game_system

    game = _resolve_game(args.game)
    if game is None:
        return 1
    inttype = data.Integrations.ALL
    folder = os.path.dirname(data.get_file_path(game, "rom.sha", inttype=inttype) or "")
    system = game_system(game)
    rom = _rom_path(game)
    print(f"game:        {game}")
    print(f"system:      {system}")
    print(f"integration: {folder}")
    for source, d in data.game_dirs(game, inttype):
        if d != folder:
            print(f"             {d} ({'variants' if source == 'retro' else source})")
    status = _rom_status(game, rom)
    if rom is None:
        print("ROM:         missing: import it with `python3 -m retro import PATH`")
    else:
        print(f"ROM:         {rom}" + ("" if status == "present" else f" ({status}: not in rom.sha)"))
    try:
        shas = read_regular(os.path.join(folder, "rom.sha")).decode("ascii", "replace").split() if folder else []
        print(f"ROM SHA-1:   {', '.join(shas) or '-'}")
    except OSError as e:
        print(f"ROM SHA-1:   unreadable rom.sha: {e.strerror or e}")

    meta = _obj(_read_json(data.get_file_path(game, "metadata.json", inttype=inttype)))
    states = data.list_states(game, inttype=inttype)
    default = meta.get("default_state")
    print("states:      " + (", ".join(s + (" (default)" if s == default else "") for s in states) or "-"))
    per_player = meta.get("default_player_state")
    if isinstance(per_player, list) and per_player:
        print(f"per players: {', '.join(f'{i + 1}: {s}' for i, s in enumerate(per_player))}")
    print(f"scenarios:   {', '.join(data.list_scenarios(game, inttype=inttype)) or '-'}")

    info = _obj(_obj(_read_json(data.get_file_path(game, "data.json", inttype=inttype))).get("info"))
    print("variables:")
    for name, var in sorted(info.items()):
        if not isinstance(var, dict):
            continue
        mask = f" mask {var['mask']:#x}" if isinstance(var.get("mask"), int) else ""
        addr = var.get("address")
        addr_s = f"{addr:#x}" if isinstance(addr, int) else str(addr)
        print(f"  {name:<28} {addr_s:>10} {str(var.get('type', '?')):<5}{mask}")

    scen = _obj(_read_json(data.get_file_path(game, "scenario.json", inttype=inttype)))
    if scen:
        print("scenario.json:")
        specs = scen.get("rewards") or ([scen["reward"]] if "reward" in scen else [])
        for i, spec in enumerate(specs if isinstance(specs, list) else []):
            spec = _obj(spec)
            for var, s in _obj(spec.get("variables")).items():
                print(f"  reward P{i + 1}: {var} {_describe_spec(s)}")
            if "script" in spec:
                print(f"  reward P{i + 1}: script {spec['script']}")
        _print_done(scen.get("done"), "  done")
    return 0


def _print_done(done: Any, prefix: str, depth: int = 0) -> None:
    done = _obj(done)
    cond = done.get("condition", "any")
    for var, s in _obj(done.get("variables")).items():
        print(f"{prefix} ({cond}): {var} {_describe_spec(s)}")
    for name, node in _obj(done.get("nodes")).items():
        if depth >= 32:
            print(f"{prefix} ({cond}) > ...")
            break
        _print_done(node, f"{prefix} ({cond}) > {name}", depth + 1)
    if "script" in done:
        print(f"{prefix}: script {done['script']}")


def cmd_import(argv: list[str]) -> int:
    from retro.scripts.import_path import main as import_main

    return import_main(argv, prog="python3 -m retro import")


def cmd_cores(args: argparse.Namespace) -> int:
    from retro import cores

    cores.main()
    return 0


def _passthrough(module: str) -> Any:
    """A subcommand that hands all its arguments to another module's ``main``."""
    def run(argv: list[str]) -> int:
        import importlib

        return int(importlib.import_module(module).main(argv) or 0)
    return run


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="retro", description="retro: console games as RL environments.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("list", help="integrated games and whether their ROMs are present")
    p.add_argument("--system", help="only games of this system (e.g. Atari2600)")
    p.set_defaults(func=cmd_list)
    # ``import`` hands all its arguments (options included) to the importer.
    sub.add_parser("import", help="import ROMs from files, folders and zips (see `import --help`)")
    p = sub.add_parser("info", help="a game's system, ROM, states, scenarios and variables")
    p.add_argument("game")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("cores", help="which libretro core serves each system")
    p.set_defaults(func=cmd_cores)
    sub.add_parser("playback", help="render .bk2 movies to video (see `playback --help`)")
    sub.add_parser("play", help="play a game with the keyboard (see `play --help`)")
    sub.add_parser("provision", help="install the pinned cores, ROMs and game library (see `provision --help`)")
    sub.add_parser("bench", help="how fast a game runs here: emulator, env, vector env (see `bench --help`)")
    sub.add_parser("studio", help="Retro Studio: make integrations in the browser (see `studio --help`)")
    argv = sys.argv[1:] if argv is None else list(argv)
    passthrough = {
        "import": cmd_import,
        "playback": _passthrough("retro.scripts.playback_movie"),
        "play": _passthrough("retro.examples.interactive"),
        "provision": _passthrough("retro.provision"),
        "bench": _passthrough("retro.scripts.bench"),
        "studio": _passthrough("retro.studio"),
    }
    if argv and argv[0] in passthrough:
        return int(passthrough[argv[0]](argv[1:]) or 0)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except BrokenPipeError:
        return 0
    except RetroError as e:
        print(f"retro {args.command}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

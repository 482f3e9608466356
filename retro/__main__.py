"""retro's console command: ``retro COMMAND``.

Commands (``retro COMMAND --help`` tells more):

``list [--system SYSTEM]``
    every integrated game, whether its ROM is present, and its states;
``import PATH...``
    import ROMs of known games from files, folders and zips;
``info GAME``
    a game's system, ROM, states, scenarios and variables;
``cores``
    which libretro core serves each system, and where it was found;
``playback FILE.bk2...``
    render movies to video (no display needed);
``export MOVIE.bk2... --to minari NAME``
    replay movies into a Minari dataset, one episode per movie (the ``minari`` extra);
``verify MOVIE.bk2...``
    replay movies and check, frame by frame, that the game does what it did when they were recorded
    (exit status 0 if every one replays identically, 1 if not);
``play GAME``
    play a game with the keyboard, in a window (the ``play`` extra: ``pip install 'retro[play]'``);
``provision``
    install the pinned cores, ROMs and game library, and import the ROMs;
``bench GAME``
    how fast a game runs here: emulator, env and vector env;
``studio [GAME or ROM]``
    Retro Studio, the web app that makes integrations (the ``studio`` extra: ``pip install 'retro[studio]'``).

Every command that takes a game takes it as its first argument, GAME
(``Airstriker-Genesis``, or stable-retro's ``Airstriker-Genesis-v0``);
``retro list`` shows them all.

A command that fails prints one line on stderr, ``retro COMMAND: what went
wrong``, and exits with status 2 for a mistake in the command line (an
unknown game, a missing file, a bad option value) or 1 for anything else (a
ROM not imported, a missing optional dependency or display, a
:class:`~retro.errors.RetroError`). ``retro --debug COMMAND ...`` (or
``RETRO_DEBUG=1`` in the environment) shows the traceback as well.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Optional

from retro import _cli
from retro._fileutil import read_regular

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
    from retro.data.integrations import game_system

    games = data.list_games(data.Integrations.ALL)
    if args.system:
        systems = {s.lower(): s for s in map(game_system, games) if s}
        system = systems.get(args.system.lower())
        if system is None:
            raise _cli.CommandError(f"unknown system {args.system!r} (systems: {', '.join(sorted(systems.values()))})")
        games = [g for g in games if game_system(g) == system]
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
        print("; import the others' ROMs with `retro import PATH`", end="")
    print()
    return 0


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
    from retro.data.integrations import game_metadata, game_system, read_or_empty

    game = _cli.known_game(_cli.game_argument(args.parser, args) or "")
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
        print("ROM:         missing: import it with `retro import PATH`")
    else:
        print(f"ROM:         {rom}" + ("" if status == "present" else f" ({status}: not in rom.sha)"))
    try:
        shas = read_regular(os.path.join(folder, "rom.sha")).decode("ascii", "replace").split() if folder else []
        print(f"ROM SHA-1:   {', '.join(shas) or '-'}")
    except OSError as e:
        print(f"ROM SHA-1:   unreadable rom.sha: {e.strerror or e}")

    meta = game_metadata(game, inttype)
    states = data.list_states(game, inttype=inttype)
    default = meta.get("default_state")
    print("states:      " + (", ".join(s + (" (default)" if s == default else "") for s in states) or "-"))
    per_player = meta.get("default_player_state")
    if isinstance(per_player, list) and per_player:
        print(f"per players: {', '.join(f'{i + 1}: {s}' for i, s in enumerate(per_player))}")
    print(f"scenarios:   {', '.join(data.list_scenarios(game, inttype=inttype)) or '-'}")

    info = _obj(read_or_empty(data.get_file_path(game, "data.json", inttype=inttype)).get("info"))
    print("variables:")
    for name, var in sorted(info.items()):
        if not isinstance(var, dict):
            continue
        mask = f" mask {var['mask']:#x}" if isinstance(var.get("mask"), int) else ""
        addr = var.get("address")
        addr_s = f"{addr:#x}" if isinstance(addr, int) else str(addr)
        print(f"  {name:<28} {addr_s:>10} {str(var.get('type', '?')):<5}{mask}")

    scen = read_or_empty(data.get_file_path(game, "scenario.json", inttype=inttype))
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

    return import_main(argv, prog="retro import")


def cmd_cores(args: argparse.Namespace) -> int:
    from retro import cores

    cores.main()
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Replay each movie and check it against the digests recorded with it: 0 if every one replays identically."""
    from retro import data
    from retro.scripts.playback_movie import verify_movie

    missing = [m for m in args.movies if not os.path.isfile(m)]
    if missing:
        raise _cli.CommandError(f"no such movie file: {', '.join(missing)}")
    data.add_integrations(data.Integrations.ALL)
    identical = True
    for path in args.movies:
        result = verify_movie(path)
        identical = identical and result.identical
        print(f"{path}: {result}", flush=True)
    return 0 if identical else _cli.FAILURE


def cmd_export(args: argparse.Namespace) -> int:
    """Replay movies into a dataset: one episode per movie."""
    from retro import data
    from retro.datasets import export_movies

    missing = [m for m in args.movies if not os.path.isfile(m)]
    if missing:
        raise _cli.CommandError(f"no such movie file: {', '.join(missing)}")
    data.add_integrations(data.Integrations.ALL)
    _cli.require("minari", "minari")
    dataset = export_movies(args.movies, args.name, obs_type=args.obs_type, grayscale=args.grayscale,
                            resize=tuple(args.resize) if args.resize else None)
    print(f"{args.name}: {dataset.total_episodes} episode(s), {dataset.total_steps} steps, in Minari's datasets "
          f"folder (minari.load_dataset({args.name!r}) loads it)")
    return 0


def _passthrough(module: str) -> Callable[[list[str]], int]:
    """A command that hands all its arguments to another module's ``main`` (which reports its own errors)."""
    def run(argv: list[str]) -> int:
        import importlib

        return int(importlib.import_module(module).main(argv) or 0)
    return run


PASSTHROUGH: dict[str, Callable[[list[str]], int]] = {
    "import": cmd_import,
    "playback": _passthrough("retro.scripts.playback_movie"),
    "play": _passthrough("retro.examples.interactive"),
    "provision": _passthrough("retro.provision"),
    "bench": _passthrough("retro.scripts.bench"),
    "studio": _passthrough("retro.studio"),
}


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The ``retro`` parser, and the parsers of the commands it parses itself."""
    parser = _cli.ArgumentParser(
        prog="retro", description="retro: console games as RL environments. "
        "`retro COMMAND --help` tells more about a command.",
        epilog="A command that fails prints one line and exits with 2 (a mistake in the command line) or 1.")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error (as RETRO_DEBUG=1 does); before COMMAND")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("list", help="integrated games and whether their ROMs are present")
    p.add_argument("--system", help="only games of this system (e.g. Atari2600)")
    p.set_defaults(func=cmd_list)
    # the passthrough commands hand all their arguments (options included) to their module
    sub.add_parser("import", help="import ROMs from files, folders and zips")
    p = sub.add_parser("info", help="a game's system, ROM, states, scenarios and variables")
    _cli.add_game_argument(p, "a game (retro list shows them)")
    p.set_defaults(func=cmd_info, parser=p)
    p = sub.add_parser("cores", help="which libretro core serves each system")
    p.set_defaults(func=cmd_cores)
    sub.add_parser("playback", help="render .bk2 movies to video")
    p = sub.add_parser("export", help="replay movies into an offline-RL dataset (Minari's format)")
    p.add_argument("movies", nargs="+", metavar="MOVIE.bk2", help="the movies, one episode each")
    p.add_argument("--to", choices=["minari"], required=True, help="the dataset format")
    p.add_argument("name", metavar="NAME", help="the dataset's id, namespace/name-v0 (e.g. retro/airstriker-v0)")
    p.add_argument("--obs-type", default="rgb", choices=["rgb", "grayscale", "ram", "rgb_ram"],
                   help="the observations, as retro.make's obs_type (default rgb)")
    p.add_argument("--grayscale", action="store_true", help="grayscale pictures (done in C)")
    p.add_argument("--resize", nargs=2, type=_cli.positive_int, metavar=("HEIGHT", "WIDTH"),
                   help="area-resize pictures (done in C)")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("verify", help="replay movies and check them against the digests recorded with them")
    p.add_argument("movies", nargs="+", metavar="MOVIE.bk2", help="movies recorded by retro")
    p.set_defaults(func=cmd_verify)
    sub.add_parser("play", help="play a game with the keyboard, in a window")
    sub.add_parser("provision", help="install the pinned cores, ROMs and game library")
    sub.add_parser("bench", help="how fast a game runs here: emulator, env, vector env")
    sub.add_parser("studio", help="Retro Studio: make integrations in the browser")
    return parser, {name: choice for name, choice in sub.choices.items() if name not in PASSTHROUGH}


def _dispatch(argv: list[str]) -> int:
    parser, commands = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # the command's own usage error, not retro's
        commands.get(args.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return _cli.USAGE
    return _cli.run(f"retro {args.command}", lambda: args.func(args))


def main(argv: Optional[list[str]] = None) -> int:
    """``retro COMMAND ...``: the exit status of the command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = bool(argv) and argv[0] == "--debug"
    previous = _cli.set_debug(debug) if debug else None
    try:
        if debug:
            argv = argv[1:]
        if argv and argv[0] in PASSTHROUGH:
            return PASSTHROUGH[argv[0]](argv[1:])
        return _cli.run("retro", lambda: _dispatch(argv))
    finally:
        if previous is not None:
            _cli.set_debug(previous)


if __name__ == "__main__":
    sys.exit(main())

"""Retro Studio: a local web app to make and edit integrations (``retro studio``).

Play a game in the browser at its native frame rate, search its RAM, name
variables, edit rewards and done conditions, save states, record and play
back movies, export them to video, and start an integration from a ROM no
integration knows. See ``docs/studio.md``.

The server needs the ``studio`` extra (aiohttp); ``import retro`` never
imports this package. :func:`main` is ``retro studio``.
"""

from __future__ import annotations

import asyncio
import os
import sys

from retro import _cli

__all__ = ["main", "default_root"]


def default_root() -> str:
    """Where the studio writes integrations by default: ``RETRO_HOME/custom``."""
    from retro import paths

    return str(paths.retro_home() / "custom")


def _open_target(target: str | None, root: str, name: str | None) -> str | None:
    """The game id to open for ``target`` (a game id, or a ROM file: imported if known, else a new integration)."""
    from retro import data
    from retro.studio.workspace import create_integration

    if target is None or not os.path.isfile(target):
        return target
    sha = data.rom_sha1(target)
    known = data.get_known_hashes()
    if sha in known:
        data.merge(target)
        return data.integrations.canonical_game(known[sha][0])
    game = create_integration(target, root, name)
    print(f"retro studio: new integration {game} in {os.path.join(root, game)}", flush=True)
    return game


def main(argv: list[str] | None = None) -> int:
    """``retro studio``: its exit status (errors are one line on stderr)."""
    return _cli.run("retro studio", lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    parser = _cli.ArgumentParser(
        prog="retro studio", description="Retro Studio: play, search RAM, define variables and rewards, "
        "save states and record movies in the browser. Needs the studio extra: pip install 'retro[studio]'.")
    _cli.add_game_argument(parser, "a game id (Airstriker-Genesis) or a ROM file", optional=True)
    parser.add_argument("--state", help="the state to start from (default: the game's default state)")
    parser.add_argument("--port", type=_cli.port, default=8765, help="port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--integrations", default=None,
                        help="custom integrations folder the studio writes to (default RETRO_HOME/custom)")
    parser.add_argument("--name", help="name of the new integration made from a ROM no integration knows")
    args = parser.parse_args(argv)
    target = _cli.game_argument(parser, args, optional=True)
    _cli.require("aiohttp", "studio")
    from retro import data
    from retro.studio import server

    root = os.path.realpath(args.integrations or default_root())
    os.makedirs(root, exist_ok=True)
    data.add_custom_integration(root)
    if target is not None and not os.path.isfile(target):
        if os.sep in target or os.path.splitext(target)[1].lower() in data.EMU_EXTENSIONS:
            raise _cli.CommandError(f"no such ROM file: {target}")
        target = _cli.known_game(target, need_rom=True)
    game = _open_target(target, root, args.name)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"retro studio: listening on {args.host}: anyone who can reach it and has the URL's token "
              f"can read and write {root}", file=sys.stderr)

    def ready(url: str) -> None:
        print(f"Retro Studio: open {url}", flush=True)

    try:
        asyncio.run(server.serve(root, game, args.state, args.host, args.port, ready=ready))
    except KeyboardInterrupt:
        pass
    except OSError as e:
        raise _cli.CommandError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}", _cli.FAILURE) from e
    return 0


if __name__ == "__main__":
    sys.exit(main())

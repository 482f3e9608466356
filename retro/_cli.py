"""What every ``retro`` command shares: one-line errors, the GAME argument, optional dependencies.

A command that cannot do what it was asked prints one line on stderr,
``retro COMMAND: what went wrong``, and exits with status 2 for a mistake in
the command line (an unknown game, a missing file, a bad option value) or 1
for anything else (a :class:`~retro.errors.RetroError`, a ROM that is not
imported, a missing optional dependency or display). ``RETRO_DEBUG=1`` in the
environment (or ``retro --debug COMMAND``) shows the traceback as well.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from types import ModuleType
from typing import Callable, NoReturn, Optional

from retro.errors import RetroError

__all__ = ["USAGE", "FAILURE", "CommandError", "ArgumentParser", "run", "add_game_argument", "game_argument",
           "known_game", "require", "set_debug", "debug", "positive_int", "port"]

#: Exit status of a mistake in the command line.
USAGE = 2
#: Exit status of everything else that went wrong.
FAILURE = 1

_debug = False


def set_debug(on: bool) -> bool:
    """Show tracebacks of the errors commands report (``retro --debug``); returns the previous setting."""
    global _debug
    previous, _debug = _debug, on
    return previous


def debug() -> bool:
    """Whether errors show their traceback: ``retro --debug`` or ``RETRO_DEBUG`` set (to anything but 0)."""
    return _debug or os.environ.get("RETRO_DEBUG", "0") not in ("", "0")


class CommandError(Exception):
    """A command's one-line complaint, with its exit status (and the command, if not the running one)."""

    def __init__(self, message: str, code: int = USAGE, prog: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code
        self.prog = prog


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors are one line (a :class:`CommandError`) instead of the usage text."""

    def error(self, message: str) -> NoReturn:
        raise CommandError(f"{message}; see {self.prog} --help", USAGE, self.prog)


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "failed"


def run(prog: str, body: Callable[[], Optional[int]]) -> int:
    """``body()``'s exit status; the errors it raises become one line on stderr and a non-zero status."""
    try:
        return int(body() or 0)
    except BrokenPipeError:  # `retro list | head`: the reader left; what is unwritten goes nowhere
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except (CommandError, RetroError, OSError) as e:
        if debug():
            traceback.print_exc()
        where = e.prog if isinstance(e, CommandError) and e.prog else prog
        print(f"{where}: {_one_line(str(e))}", file=sys.stderr)
        return e.code if isinstance(e, CommandError) else FAILURE


def positive_int(text: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def port(text: str) -> int:
    """An argparse type: a TCP port number, 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535; 0 picks a free one)")
    return value


def add_game_argument(parser: argparse.ArgumentParser, help: str, optional: bool = False) -> None:
    """The positional GAME every command that takes a game takes (``--game`` stays, unlisted, for old scripts).

    Read it back with :func:`game_argument`.
    """
    parser.add_argument("game", nargs="?", metavar="GAME", help=help + (" (optional)" if optional else ""))
    parser.add_argument("--game", dest="game_option", metavar="GAME", help=argparse.SUPPRESS)


def game_argument(parser: argparse.ArgumentParser, args: argparse.Namespace,
                  default: Optional[str] = None, optional: bool = False) -> Optional[str]:
    """The game given as GAME or ``--game`` (or ``default``); a usage error if it is missing or given twice."""
    positional, option = args.game, args.game_option
    if positional and option and positional != option:
        parser.error(f"two games given: {positional} and --game {option}")
    game = positional or option or default
    if game is None and not optional:
        parser.error("the following arguments are required: GAME")
    return game


def known_game(name: str, need_rom: bool = False) -> str:
    """The integrated game ``name`` spells (Gym Retro's or stable-retro's spelling, any letter case).

    An unknown name is a :class:`CommandError` that suggests the games spelt
    like it. With ``need_rom``, a game whose ROM is not imported is one too.
    """
    from retro import data
    from retro.data.integrations import canonical_game
    from retro.env import similar_games
    from retro.session import resolve_game

    inttype = data.Integrations.ALL
    game = canonical_game(resolve_game(name, inttype))
    if data.get_file_path(game, "rom.sha", inttype) is None:
        close = similar_games(name, n=1)
        base = canonical_game(name)
        if len(close) == 1 and close[0].lower() == base.lower():
            game = close[0]
        else:
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise CommandError(f"unknown game {name!r}{hint} (retro list shows every game)", USAGE)
    if need_rom:
        try:
            data.get_romfile_path(game, inttype)
        except FileNotFoundError:
            raise CommandError(f"the ROM of {game} is not imported: `retro import PATH` imports it "
                               f"from a file, folder or zip that holds it", FAILURE) from None
    return game


def require(module: str, extra: str, package: Optional[str] = None) -> ModuleType:
    """``module`` imported, or a :class:`CommandError` naming the extra that installs it."""
    package = package or module
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] != module.split(".")[0]:
            raise CommandError(f"needs {package}, which does not import ({e}): "
                               f"pip install --force-reinstall 'retro[{extra}]'", FAILURE) from e
        raise CommandError(f"needs {package}, which is not installed: pip install 'retro[{extra}]'",
                           FAILURE) from e
    except ImportError as e:
        raise CommandError(f"needs {package}, which does not import ({e}): "
                           f"pip install --force-reinstall 'retro[{extra}]'", FAILURE) from e

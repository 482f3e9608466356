"""Make a save state for an integration by booting its ROM and pressing buttons.

``python3 -m retro.scripts.make_state GAME STATE [--press SPEC]... [--frames N]``
powers the game on, runs ``N`` frames while pressing buttons as the press
specs say, and writes the core's state, gzipped as Gym Retro's ``*.state``
files are, into the game's integration folder as ``STATE.state``. The recipe
(presses and frame count) is recorded in the folder's ``metadata.json`` under
``state_recipes``, so ``--all`` rebuilds every state of a game from scratch. An
existing state file that plays the same as the new state is kept as it is.

A press spec is ``[P<n>:]BUTTON[+BUTTON...]@FRAME[:FRAMES]``: hold the
buttons of player ``n`` (default 1) from frame ``FRAME`` (counted from
power-on, starting at 0) for ``FRAMES`` frames (default 1). Button names are
the system's (``retro/systems/*.json``: ``RESET``, ``SELECT``, ``BUTTON``, ...)
or libretro's joypad names (``START``, ``B``, ``A``, ...). Examples::

    python3 -m retro.scripts.make_state Pong-Atari2600 retro.Start --press RESET@60:5 --frames 120
    python3 -m retro.scripts.make_state Boxing-Atari2600 retro.Start.2P \\
        --press SELECT@30:5 --press RESET@60:5 --frames 120
    python3 -m retro.scripts.make_state Pong-Atari2600 --all

The ROM is the imported one (``retro import``) unless ``--rom``
names a file; the folder is the game's integration folder unless ``--dir``
names one.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
from pathlib import Path
from typing import Sequence

from retro._fileutil import atomic_write, atomic_write_json
from retro.data.recipes import (  # noqa: F401 (re-exported: this module's API)
    LIBRETRO_JOYPAD,
    RECIPES_KEY,
    Press,
    button_id,
    parse_press,
    read_metadata,
    recipes,
)
from retro.emulator import RetroEmulator
from retro.errors import GameNotFoundError, RetroError
from retro.start_states import run_recipe
from retro.systems import SYSTEMS

__all__ = ["Press", "parse_press", "run_recipe", "make_state", "plays_the_same", "write_state", "recipes",
           "integration_dir", "find_rom", "main"]

#: Where this checkout keeps its integrations (used when ``retro.data`` cannot say).
REPO_INTEGRATIONS = Path(__file__).resolve().parent.parent.parent / "integrations"

def _system_of(game: str) -> str:
    system = game.rsplit("-", 1)[-1] if "-" in game else ""
    if system not in SYSTEMS:
        raise GameNotFoundError(f"cannot tell the system of {game!r}: a game is named <Name>-<System>, "
                                f"with System one of {sorted(SYSTEMS)}")
    return system


def integration_dir(game: str) -> Path:
    """The folder of ``game``'s integration that states are written to.

    The first of the game's custom or this project's folders; stable-retro's
    library is read-only, so a game only it has needs ``--dir``.
    """
    try:
        import retro.data as rdata
    except ImportError:
        rdata = None  # type: ignore[assignment]
    if rdata is not None:
        dirs = rdata.integrations.game_dirs(game, rdata.Integrations.ALL)
        for source, folder in dirs:
            if source != "library":
                return Path(folder)
        if dirs:
            raise GameNotFoundError(
                f"{game}'s integration is stable-retro's library ({dirs[0][1]}), which is read-only; "
                f"pass --dir to write states into a folder of your own")
    for kind in ("stable", "experimental", "contrib"):
        d = REPO_INTEGRATIONS / kind / game
        if (d / "rom.sha").is_file():
            return d
    raise GameNotFoundError(f"no integration folder with a rom.sha for {game!r}; pass --dir")


def find_rom(game: str) -> Path:
    """The imported ROM of ``game``."""
    try:
        import retro.data as rdata
    except ImportError:
        rdata = None  # type: ignore[assignment]
    if rdata is not None:
        try:
            return Path(rdata.get_romfile_path(game, inttype=rdata.Integrations.ALL))
        except Exception as e:  # noqa: BLE001
            raise GameNotFoundError(
                f"no ROM for {game}: {e}. Import it with `retro import PATH` or pass --rom") from e
    from retro import paths

    system = _system_of(game)
    for ext in SYSTEMS[system].ext:
        candidate = paths.retro_home() / "games" / game / f"rom.{ext}"
        if candidate.is_file():
            return candidate
    raise GameNotFoundError(f"no ROM for {game}: import it with `retro import PATH` or pass --rom")


def make_state(rom: str | os.PathLike[str], presses: Sequence[Press], frames: int,
               system: str | None = None) -> bytes:
    """Boot ``rom``, run the recipe, and return the core's raw (uncompressed) state.

    The state is loaded back once and saved again, which checks that it
    loads and gives the form an environment sees after loading it. The same
    recipe always gives a state that plays the same, though not always the
    same bytes: Stella serializes 16 bytes it never initialises (zero in a
    fresh process, leftovers otherwise), and ignores them on load.
    """
    last = max([p.end for p in presses], default=0)
    if frames < last:
        raise ValueError(f"--frames {frames} ends before the last press does (frame {last})")
    with RetroEmulator(rom, system=system, first_frame=False) as em:  # frames count from power-on
        run_recipe(em, presses, frames)
        state = em.get_state()
        em.set_state(state)
        return em.get_state()


def write_state(path: Path, state: bytes) -> None:
    """Write ``state`` gzipped, with no timestamp in the gzip header."""
    atomic_write(path, gzip.compress(state, compresslevel=9, mtime=0))


def _read_state(path: Path) -> bytes:
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError):  # not gzip, truncated: it will be replaced
        return b""


def plays_the_same(rom: str | os.PathLike[str], a: bytes, b: bytes, frames: int = 120,
                   system: str | None = None) -> bool:
    """Whether states ``a`` and ``b`` give the same RAM and picture, frame by frame, for ``frames`` frames.

    Rebuilding a state rarely gives the same bytes (see :func:`make_state`);
    this keeps an existing file when the new state is the same game, so
    rebuilding leaves a checkout unchanged.
    """
    if len(a) != len(b) or not b:
        return False
    if a == b:
        return True
    with RetroEmulator(rom, system=system) as ea, RetroEmulator(rom, system=system) as eb:
        try:
            ea.set_state(a)
            eb.set_state(b)
        except RetroError:
            return False
        for _ in range(frames + 1):
            if not (ea.get_ram() == eb.get_ram()).all():
                return False
            ea.step()
            eb.step()
        return bool((ea.get_screen() == eb.get_screen()).all())


def save_recipe(folder: Path, state: str, presses: Sequence[Press], frames: int) -> None:
    """Record how ``state`` was made in ``metadata.json`` (``state_recipes``), rewriting it whole or not at all."""
    doc = read_metadata(folder)
    recipes = doc.setdefault(RECIPES_KEY, {})
    recipes[state] = {"press": [str(p) for p in presses], "frames": frames}
    doc[RECIPES_KEY] = dict(sorted(recipes.items()))
    atomic_write_json(folder / "metadata.json", doc, indent=2, newline=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m retro.scripts.make_state",
        description="Make a save state by booting a game's ROM and pressing buttons.",
        epilog="Press spec: [P<n>:]BUTTON[+BUTTON...]@FRAME[:FRAMES], e.g. RESET@60:5.")
    parser.add_argument("game", help="the game, e.g. Pong-Atari2600")
    parser.add_argument("state", nargs="?", help="the state's name, e.g. Start or Start.2P")
    parser.add_argument("--press", action="append", default=[], metavar="SPEC",
                        help="hold buttons: [P<n>:]BUTTON[+BUTTON...]@FRAME[:FRAMES] (repeatable)")
    parser.add_argument("--frames", type=int, help="frames to run from power-on (default: until the last press ends)")
    parser.add_argument("--rom", help="the ROM file (default: the imported ROM)")
    parser.add_argument("--dir", help="the integration folder to write into (default: the game's)")
    parser.add_argument("--all", action="store_true", help="rebuild every state recorded in metadata.json")
    parser.add_argument("--no-recipe", action="store_true", help="do not record the recipe in metadata.json")
    args = parser.parse_args(argv)

    try:
        system = _system_of(args.game)
        folder = Path(args.dir) if args.dir else integration_dir(args.game)
        rom = Path(args.rom) if args.rom else find_rom(args.game)
        if args.all:
            if args.state or args.press or args.frames is not None:
                parser.error("--all takes no state name, --press or --frames")
            todo = recipes(folder)
            if not todo:
                print(f"{folder}: no state recipes in metadata.json", file=sys.stderr)
                return 1
        else:
            if not args.state:
                parser.error("name the state to make (or pass --all)")
            if "/" in args.state or args.state.startswith("."):
                parser.error(f"bad state name {args.state!r}")
            presses = [parse_press(s) for s in args.press]
            frames = args.frames if args.frames is not None else max([p.end for p in presses], default=0)
            if frames <= 0:
                parser.error("nothing to run: give --frames or at least one --press")
            todo = {args.state: (presses, frames)}
        for name, (presses, frames) in todo.items():
            state = make_state(rom, presses, frames, system=system)
            path = folder / f"{name}.state"
            recipe = " ".join(f"--press {p}" for p in presses) or "no presses"
            if path.is_file() and plays_the_same(rom, state, _read_state(path), system=system):
                print(f"{path}: unchanged (the state it holds plays the same; {recipe})")
            else:
                write_state(path, state)
                print(f"{path}: {len(state)} bytes of state after {frames} frames ({recipe})")
            if not args.all and not args.no_recipe:
                save_recipe(folder, name, presses, frames)
    except (RetroError, ValueError, OSError) as e:
        print(f"make_state: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

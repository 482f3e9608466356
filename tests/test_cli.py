"""``retro COMMAND``: every command's mistakes end in one line on stderr and a non-zero status.

Each case runs the console command in a fresh interpreter, as a user would, so
that nothing (a traceback, a greeting, a usage text) can reach stderr unseen.
A missing optional dependency is simulated with ``sys.modules[name] = None``,
which makes importing it fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping

import pytest

UNKNOWN = "unknown game 'Airstrker-Genesis'; did you mean Airstriker-Genesis? (retro list shows every game)"
NO_DISPLAY: dict[str, str | None] = {"DISPLAY": None, "WAYLAND_DISPLAY": None, "SDL_VIDEODRIVER": None}


def run(args: list[str], missing: tuple[str, ...] = (), env: Mapping[str, str | None] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``retro ARGS`` in a new interpreter, with the ``missing`` modules made unimportable."""
    code = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in missing)
    code += f"from retro.__main__ import main\nsys.exit(main({args!r}))\n"
    environ = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=environ, cwd=cwd)


def one_line(result: subprocess.CompletedProcess[str], status: int) -> str:
    """The single line a failed command printed on stderr (after checking its status and that there is one)."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.returncode == status, (result.returncode, result.stderr)
    return lines[0]


# a misspelt game, a bad file or a bad argument, for every command
CASES = [
    (["list", "--system", "Atari260"], 2, "retro list: unknown system 'Atari260' (systems: "),
    (["import", "no-such-folder"], 2, "retro import: no such file or folder: no-such-folder"),
    (["info", "Airstrker-Genesis"], 2, f"retro info: {UNKNOWN}"),
    (["cores", "Genesis"], 2, "retro cores: unrecognized arguments: Genesis; see retro cores --help"),
    (["playback", "no-such-movie.bk2"], 2, "retro playback: no such movie file: no-such-movie.bk2"),
    (["playback", "broken.bk2"], 1, "retro playback: "),
    (["play", "Airstrker-Genesis", "--frames", "1"], 2, f"retro play: {UNKNOWN}"),
    (["play", "--game", "Airstrker-Genesis", "--frames", "1"], 2, f"retro play: {UNKNOWN}"),
    (["provision", "--cores-only", "--roms-only"], 2,
     "retro provision: argument --roms-only: not allowed with argument --cores-only; see retro provision --help"),
    (["bench", "Airstrker-Genesis", "--seconds", "0.01"], 2, f"retro bench: {UNKNOWN}"),
    (["studio", "Airstrker-Genesis", "--port", "0", "--integrations", "custom"], 2, f"retro studio: {UNKNOWN}"),
    (["studio", "--port", "99999"], 2, "retro studio: argument --port: '99999' is not a port number"),
    (["lst"], 2, "retro: argument COMMAND: invalid choice: 'lst'"),
]


@pytest.mark.parametrize("args,status,start", CASES, ids=[" ".join(c[0][:2]) for c in CASES])
def test_a_mistake_is_one_line_and_a_status(args: list[str], status: int, start: str, tmp_path: Path) -> None:
    (tmp_path / "broken.bk2").write_bytes(b"not a movie")
    # with a display driver that shows nothing, a command that wrongly went on would end (or time out), not hang
    line = one_line(run(args, env={"SDL_VIDEODRIVER": "dummy"}, cwd=tmp_path), status)
    assert line.startswith(start), line
    if "broken.bk2" in args:  # the line names the file
        assert "broken.bk2" in line, line


def test_the_seed_command_reports_the_same_way(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "retro.scripts.playback_movie", "no-such-movie.bk2"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert one_line(r, 2) == "retro playback: no such movie file: no-such-movie.bk2"


@pytest.mark.parametrize("command,module,line", [
    (["play", "Airstriker-Genesis", "--frames", "1"], "pygame",
     "retro play: needs pygame, which is not installed: pip install 'retro[play]'"),
    (["studio", "Airstriker-Genesis", "--port", "0", "--integrations", "custom"], "aiohttp",
     "retro studio: needs aiohttp, which is not installed: pip install 'retro[studio]'"),
])
def test_a_missing_optional_dependency_names_its_extra(command: list[str], module: str, line: str,
                                                       tmp_path: Path) -> None:
    assert one_line(run(command, missing=(module,), env={"SDL_VIDEODRIVER": "dummy"}, cwd=tmp_path), 1) == line


def test_play_without_a_display_says_what_to_do_instead(tmp_path: Path) -> None:
    line = one_line(run(["play", "Airstriker-Genesis"], env=NO_DISPLAY, cwd=tmp_path), 1)
    assert line.startswith("retro play: a window needs a display"), line
    assert "retro playback" in line and "SDL_VIDEODRIVER=dummy" in line
    # with SDL told to show nothing, it plays, and says so
    r = run(["play", "Airstriker-Genesis", "--frames", "30"], env=dict(NO_DISPLAY, SDL_VIDEODRIVER="dummy"),
            cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.splitlines()[-1] == "played 30 frames of Airstriker-Genesis"


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    r = run(["info", "Airstrker-Genesis"], env={"RETRO_DEBUG": "1"}, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" in r.stderr
    assert r.stderr.splitlines()[-1] == f"retro info: {UNKNOWN}"
    r = run(["--debug", "info", "Airstrker-Genesis"], cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" in r.stderr


def test_game_spellings_and_the_hidden_game_option(capsys: pytest.CaptureFixture[str]) -> None:
    from retro.__main__ import main

    for spelling in ("Pong-Atari2600-v0", "pong-atari2600"):
        assert main(["info", spelling]) == 0
        assert "game:        Pong-Atari2600\n" in capsys.readouterr().out
    assert main(["play", "Pong-Atari2600", "--game", "Airstriker-Genesis"]) == 2
    assert capsys.readouterr().err == (
        "retro play: two games given: Pong-Atari2600 and --game Airstriker-Genesis; see retro play --help\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["play", "--help"])
    help_text = capsys.readouterr().out
    assert exit_info.value.code == 0 and "GAME" in help_text and "--game" not in help_text


def test_a_game_named_without_its_system_is_suggested_with_it(tmp_path: Path) -> None:
    line = one_line(run(["info", "pong"], cwd=tmp_path), 2)
    assert line == "retro info: unknown game 'pong'; did you mean Pong-Atari2600? (retro list shows every game)"

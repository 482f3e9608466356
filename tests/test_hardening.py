"""Hostile integration folders: FIFOs, bombs and deep JSON give typed errors, never a hang or a blow-up.

Anything that could hang runs in a child process with a time limit, so a
regression fails the test instead of stalling the suite.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

import retro
from retro.data import Integrations

ROOT = Path(__file__).resolve().parent.parent


def pong_folder(root: Path, name: str = "Hostile-Atari2600") -> Path:
    """A complete custom integration of Pong (its ROM, data, scenario, metadata, a Lua script, a state)."""
    folder = root / name
    folder.mkdir(parents=True)
    rom = Path(retro.data.get_romfile_path("Pong-Atari2600")).read_bytes()
    (folder / "rom.a26").write_bytes(rom)
    (folder / "rom.sha").write_text(hashlib.sha1(rom).hexdigest() + "\n")
    (folder / "data.json").write_text('{"info": {"score": {"address": 142, "type": "|u1"}}}')
    (folder / "scenario.json").write_text(
        '{"reward": {"variables": {"score": {"reward": 1}}}, "scripts": ["script.lua"]}')
    (folder / "script.lua").write_text("function f() return 0 end\n")
    (folder / "metadata.json").write_text('{"default_state": "Start"}')
    em = retro.RetroEmulator(folder / "rom.a26")
    em.step(10)
    (folder / "Start.state").write_bytes(gzip.compress(em.get_state()))
    em.close()
    return folder


def make_in_child(root: Path, game: str, timeout: float = 60.0) -> str:
    """``retro.make(game)`` in a child process; returns the name of the error it raised ("" if none)."""
    code = textwrap.dedent(f"""
        import retro
        retro.data.Integrations.add_custom_path({str(root)!r})
        try:
            retro.make({game!r}, inttype=retro.data.Integrations.ALL).close()
        except retro.RetroError as e:
            print("RetroError", type(e).__name__, e)
        except BaseException as e:
            print("UNTYPED", type(e).__name__, e)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip()


def test_the_hostile_folder_is_playable_as_made(tmp_path: Path) -> None:
    pong_folder(tmp_path)
    assert make_in_child(tmp_path, "Hostile-Atari2600") == ""


@pytest.mark.parametrize("file", ["data.json", "scenario.json", "metadata.json", "script.lua", "Start.state",
                                  "rom.sha"])
def test_a_fifo_in_an_integration_folder_never_blocks(tmp_path: Path, file: str) -> None:
    folder = pong_folder(tmp_path)
    (folder / file).unlink()
    os.mkfifo(folder / file)
    out = make_in_child(tmp_path, "Hostile-Atari2600")  # a hang fails with TimeoutExpired
    assert out.startswith("RetroError"), out


def test_a_fifo_given_as_a_path_never_blocks(tmp_path: Path) -> None:
    pong_folder(tmp_path)
    fifo = tmp_path / "data.json"
    os.mkfifo(fifo)
    code = textwrap.dedent(f"""
        import retro
        retro.data.Integrations.add_custom_path({str(tmp_path)!r})
        for kwargs in ({{"info": {str(fifo)!r}}}, {{"scenario": {str(fifo)!r}}}):
            try:
                retro.make("Hostile-Atari2600", inttype=retro.data.Integrations.ALL, **kwargs).close()
                print("accepted")
            except retro.RetroError as e:
                print(type(e).__name__)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.stdout.split() == ["IntegrationError", "IntegrationError"], r.stdout + r.stderr[-2000:]


def test_a_gzip_bomb_state_is_refused_without_inflating_it(tmp_path: Path) -> None:
    folder = pong_folder(tmp_path)
    bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    data = bomb.compress(bytes(256 << 20)) + bomb.flush()  # 256 MiB of zeros in about 250 KB
    assert len(data) < 1 << 20
    (folder / "Start.state").write_bytes(data)
    out = make_in_child(tmp_path, "Hostile-Atari2600")
    assert "StateError" in out and "larger than" in out, out
    # and in this process: refused fast, with memory bounded by the limit, not by the bomb
    Integrations.add_custom_path(str(tmp_path))
    try:
        with pytest.raises(retro.StateError):
            retro.make("Hostile-Atari2600", inttype=Integrations.ALL)
    finally:
        Integrations.clear_custom_paths()


def test_a_truncated_gzip_state_is_a_state_error(tmp_path: Path) -> None:
    folder = pong_folder(tmp_path)
    whole = (folder / "Start.state").read_bytes()
    (folder / "Start.state").write_bytes(whole[: len(whole) // 2])
    assert make_in_child(tmp_path, "Hostile-Atari2600").startswith("RetroError StateError")


@pytest.mark.parametrize("file", ["data.json", "scenario.json", "metadata.json"])
def test_deeply_nested_json_is_an_integration_error(tmp_path: Path, file: str) -> None:
    folder = pong_folder(tmp_path)
    (folder / file).write_text("[" * 100_000 + "]" * 100_000)
    out = make_in_child(tmp_path, "Hostile-Atari2600")
    assert out.startswith("RetroError IntegrationError"), out


def test_an_oversized_integration_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    folder = pong_folder(tmp_path)
    with open(folder / "data.json", "wb") as f:
        f.truncate(64 << 20)  # sparse: 64 MiB that take no room
    out = make_in_child(tmp_path, "Hostile-Atari2600")
    assert out.startswith("RetroError IntegrationError") and "larger than" in out, out


def test_an_empty_state_file_is_a_state_error(tmp_path: Path) -> None:
    """A 0-byte .state used to make reset() neither load a state nor power-cycle."""
    folder = pong_folder(tmp_path)
    (folder / "Start.state").write_bytes(b"")
    assert make_in_child(tmp_path, "Hostile-Atari2600").startswith("RetroError StateError")

"""``retro import``: finding ROMs of known games in folders and zips.

Every test imports into a temporary ``RETRO_HOME``; the ROMs come from the
ale-py files set-up provisioned, the known hashes from the shipped
integrations.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

import retro
import retro.data as rdata
from retro import paths
from retro.scripts import import_path as ip
from tests.integration_helpers import write_test_rom_integration

REPO = Path(__file__).resolve().parent.parent
SETUP_HINT = "run `bash scripts/setup.sh` (it provisions the ale-py ROMs)"


@pytest.fixture(scope="session")
def ale_dir() -> Path:
    folder = paths.roms_dir() / "ale-py"  # the real RETRO_HOME, before any test moves it
    if not (folder / "pong.a26").is_file():
        pytest.fail(f"{folder} has no pong.a26: {SETUP_HINT}")
    return folder


@pytest.fixture(scope="session")
def pong(ale_dir: Path) -> bytes:
    return (ale_dir / "pong.a26").read_bytes()


@pytest.fixture(scope="session")
def breakout(ale_dir: Path) -> bytes:
    return (ale_dir / "breakout.a26").read_bytes()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ale_dir: Path) -> Path:
    """A fresh RETRO_HOME with no ROMs, and the game library set-up provisioned."""
    from retro.data import library_path

    monkeypatch.setenv("RETRO_LIBRARY_PATH", library_path())
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("RETRO_HOME", str(h))
    monkeypatch.delenv("RETRO_DATA_PATH", raising=False)
    return h


def store(home: Path) -> Path:
    return home / "games"


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def roms_folder(tmp_path: Path, pong: bytes, breakout: bytes) -> Path:
    """A messy folder: good ROMs, copies, zips, and things that are not ROMs."""
    d = tmp_path / "downloads"
    (d / "atari" / "Tennis.a26").mkdir(parents=True)  # a folder named like a ROM: walked, not read
    (d / "pong.a26").write_bytes(pong)
    (d / "atari" / "Tennis.a26" / "Video Olympics (copy).bin").write_bytes(pong)  # renamed copy
    inner = _zip({"breakout.a26": breakout, "readme.txt": b"Breakout, 1978\n"})
    (d / "collection.zip").write_bytes(_zip({"inner/games.zip": inner, "notes.txt": b"hello"}))
    (d / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip archive")
    (d / "Seaquest.a26").symlink_to(d / "nowhere" / "seaquest.a26")  # a broken link: unreadable
    os.mkfifo(d / "pipe.a26")  # not a regular file: never opened (it would block)
    with open(d / "huge.a26", "wb") as f:  # 40 MiB, sparse: too big, never read
        f.truncate(40 << 20)
    altered = bytearray(pong)
    altered[100] ^= 0xFF
    (d / "Pong (alt).a26").write_bytes(bytes(altered))  # named like Pong, another hash: a near match
    (d / "notes.md").write_text("not a ROM\n")
    return d


def outcomes(report: ip.ImportReport) -> dict[str, str]:
    """File name (last path component, zip members included) -> outcome."""
    return {r.source.replace("!", "/").rsplit("/", 1)[-1]: r.outcome for r in report.results}


def test_a_messy_folder(home: Path, roms_folder: Path, pong: bytes, breakout: bytes,
                        capsys: pytest.CaptureFixture[str]) -> None:
    lines: list[str] = []
    report = ip.import_paths([roms_folder], log=lines.append)
    got = outcomes(report)
    assert got == {
        "pong.a26": "imported",
        "Video Olympics (copy).bin": "present",  # the same ROM again, renamed: already there
        "breakout.a26": "imported",  # inside a zip inside a zip
        "readme.txt": "unknown",
        "notes.txt": "unknown",
        "broken.zip": "bad zip",
        "Seaquest.a26": "unreadable",
        "pipe.a26": "unreadable",
        "huge.a26": "too big",
        "Pong (alt).a26": "near match",
        "notes.md": "unknown",
    }
    assert report.imported_games == {"Pong-Atari2600", "Breakout-Atari2600"}
    assert (store(home) / "Pong-Atari2600" / "rom.a26").read_bytes() == pong
    assert (store(home) / "Breakout-Atari2600" / "rom.a26").read_bytes() == breakout
    assert sorted(p.name for p in store(home).iterdir()) == ["Breakout-Atari2600", "Pong-Atari2600"]
    assert not list(store(home).rglob(".rom-*")), "a temporary file was left behind"
    c = report.counts
    assert (c["imported"], c["present"], c["unknown"], c["near match"], c["too big"], c["unreadable"], c["bad zip"]) \
        == (2, 1, 3, 1, 1, 2, 1)
    assert report.skipped == 8
    assert report.summary() == ("Imported 2 games, 1 file already present; skipped 8 files "
                                "(3 unknown, 1 near match, 1 too big, 2 unreadable, 1 bad zip)")
    # Each file's line says why.
    text = "\n".join(lines)
    assert "collection.zip!inner/games.zip!breakout.a26" in text
    assert "named like Pong-Atari2600" in text
    assert "not a regular file" in text and "No such file or directory" in text
    assert "40.0 MiB" in text
    # retro finds the imported ROMs.
    assert rdata.get_romfile_path("Pong-Atari2600") == str(store(home) / "Pong-Atari2600" / "rom.a26")


def test_importing_twice_changes_nothing(home: Path, roms_folder: Path) -> None:
    first = ip.import_paths([roms_folder], log=lambda line: None)
    rom = store(home) / "Pong-Atari2600" / "rom.a26"
    before = rom.stat().st_mtime_ns
    time.sleep(0.01)
    second = ip.import_paths([roms_folder], log=lambda line: None)
    assert second.imported_games == set()
    assert second.games == first.games == {"Pong-Atari2600", "Breakout-Atari2600"}
    assert second.counts["present"] == 3
    assert rom.stat().st_mtime_ns == before
    assert second.summary().startswith("Imported 0 games, 3 files already present; skipped 8 files")


def test_a_different_file_at_the_target_is_never_overwritten(home: Path, tmp_path: Path, pong: bytes) -> None:
    target = store(home) / "Pong-Atari2600" / "rom.a26"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"the user's own file")
    src = tmp_path / "pong.a26"
    src.write_bytes(pong)
    report = ip.import_paths([src], log=lambda line: None)
    assert outcomes(report) == {"pong.a26": "conflict"}
    assert "left alone" in report.results[0].detail
    assert target.read_bytes() == b"the user's own file"
    assert "skipped 1 file (1 conflict)" in report.summary()
    # Nor a link someone put there.
    target.unlink()
    target.symlink_to(tmp_path / "elsewhere.a26")
    assert outcomes(ip.import_paths([src], log=lambda line: None)) == {"pong.a26": "conflict"}
    assert target.is_symlink() and not (tmp_path / "elsewhere.a26").exists()


def test_zip_members_too_big_or_damaged(home: Path, tmp_path: Path, pong: bytes) -> None:
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("disk.a26", "w", force_zip64=True) as f:  # 33 MiB of zeros, a few KiB compressed
            for _ in range(33):
                f.write(bytes(1 << 20))
        zf.writestr("pong.a26", pong)
    damaged = tmp_path / "damaged.zip"
    raw = bytearray(_zip({"pong.a26": pong}))
    start = raw.index(b"pong.a26") + len(b"pong.a26")  # the member's data follows its local header's name
    raw[start + 40] ^= 0xFF
    damaged.write_bytes(bytes(raw))
    report = ip.import_paths([big, damaged], log=lambda line: None)
    assert [(r.source.rsplit("/", 1)[-1], r.outcome) for r in report.results] == [
        ("big.zip!disk.a26", "too big"), ("big.zip!pong.a26", "imported"), ("damaged.zip!pong.a26", "unreadable")]


def test_damaged_zips_are_never_fatal(home: Path, tmp_path: Path, pong: bytes) -> None:
    """Truncated and corrupted archives (nested ones too) are reported, whatever the damage."""
    import random

    inner = _zip({"pong.a26": pong, "notes.txt": b"abc" * 300})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:  # stored: damage reaches the inner zip intact
        zf.writestr("in/inner.zip", inner)
        zf.writestr("pong.a26", pong)
    base = buf.getvalue()
    rng = random.Random(1)
    path = tmp_path / "damaged.zip"
    seen: set[str] = set()
    for _ in range(400):
        raw = bytearray(base)
        if rng.random() < 0.3:
            del raw[rng.randrange(len(raw)):]
        else:
            for _ in range(rng.randrange(1, 6)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
        path.write_bytes(bytes(raw))
        report = ip.import_paths([path], log=lambda line: None, dry_run=True)
        assert report.results
        seen.update(r.outcome for r in report.results)
    assert {"bad zip", "unreadable", "imported"} <= seen


def test_a_file_lying_about_its_size_is_not_read_past_the_cap(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    monkeypatch.setattr(ip, "MAX_ROM_SIZE", 1 << 10)  # the stat size says small, groom_rom's own cap catches it
    f = tmp_path / "grown.a26"
    f.write_bytes(bytes(4096))
    report = ip.import_paths([f], log=lambda line: None)
    assert outcomes(report) == {"grown.a26": "too big"}


def test_nes_roms_are_known_by_their_body(home: Path, tmp_path: Path, test_roms: dict[str, Path]) -> None:
    custom = tmp_path / "custom"
    game = write_test_rom_integration(test_roms["nes"], custom)
    (custom / game / "rom.nes").unlink()  # the integration knows the hash; the ROM is to be imported
    saved = rdata.Integrations.custom_paths()
    rdata.Integrations.add_custom_path(custom)
    try:
        rom = bytearray(test_roms["nes"].read_bytes())
        rom[12:16] = b"DiSk"  # junk in the header's unused bytes, as old dumps have: same ROM
        src = tmp_path / "dump.nes"
        src.write_bytes(bytes(rom))
        report = ip.import_paths([src], log=lambda line: None)
        assert outcomes(report) == {"dump.nes": "imported"}
        assert (store(home) / game / "rom.nes").read_bytes() == bytes(rom)  # stored whole
        body = bytearray(rom)
        body[0x20] ^= 1
        src.write_bytes(bytes(body))
        assert outcomes(ip.import_paths([src], log=lambda line: None)) == {"dump.nes": "unknown"}
    finally:
        rdata.Integrations.clear_custom_paths()
        for p in saved:
            rdata.Integrations.add_custom_path(p)


def test_from_packages(home: Path, ale_dir: Path, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    # only what set-up provisioned into RETRO_HOME, not an ale-py that happens to be installed
    monkeypatch.setattr(ip.importlib.util, "find_spec", lambda name, *a: None)
    provisioned = home / "roms" / "ale-py"
    provisioned.mkdir(parents=True)
    for name in ("pong.a26", "tennis.a26", "adventure.a26", "basic_math.a26"):
        (provisioned / name).symlink_to(ale_dir / name)
    assert ip.main(["--from-packages"]) == 0
    out = capsys.readouterr().out
    assert (store(home) / "Pong-Atari2600" / "rom.a26").is_file()
    assert (store(home) / "Tennis-Atari2600" / "rom.a26").is_file()
    assert (store(home) / "Adventure-Atari2600" / "rom.a26").is_file()  # a game only stable-retro's library has
    assert "basic_math.a26: SHA-1" in out  # no integration for it, in the library or this project
    assert out.strip().splitlines()[-1] == "Imported 3 games; skipped 1 file (1 unknown)"
    assert ip.main(["--from-packages", "--quiet"]) == 0
    assert capsys.readouterr().out == "Imported 0 games, 3 files already present; skipped 1 file (1 unknown)\n"


def test_dry_run_writes_nothing(home: Path, roms_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.main(["--dry-run", str(roms_folder)]) == 0
    assert "would be written to" in capsys.readouterr().out
    assert not store(home).exists()


def test_never_writes_into_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pong: bytes,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    inside = Path(retro.__file__).resolve().parent / "not-a-retro-home"
    monkeypatch.setenv("RETRO_HOME", str(inside))
    src = tmp_path / "pong.a26"
    src.write_bytes(pong)
    assert ip.main([str(src)]) == 1
    assert "refusing to import" in capsys.readouterr().err
    assert not inside.exists()


def test_missing_paths_are_reported_and_the_rest_imported(home: Path, tmp_path: Path, pong: bytes,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "roms").mkdir()
    (tmp_path / "roms" / "pong.a26").write_bytes(pong)
    args = [str(tmp_path / "empty"), str(tmp_path / "no-such-folder"), str(tmp_path / "roms")]
    assert ip.main(args) == 2  # a mistake in the command line: one path does not exist
    captured = capsys.readouterr()
    assert captured.err == f"retro import: no such file or folder: {tmp_path / 'no-such-folder'}\n"
    assert captured.out.strip().splitlines()[-1].startswith("Imported 1 game")
    assert (store(home) / "Pong-Atari2600" / "rom.a26").is_file()  # the other paths were still imported
    assert ip.main([str(tmp_path / "empty")]) == 0  # an empty folder is not an error


def _run(args: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RETRO_HOME=str(home), PYTHONPATH=str(REPO))
    env.pop("RETRO_DATA_PATH", None)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("command", [["-m", "retro.import"], ["-m", "retro", "import"]])
def test_command_line(command: list[str], home: Path, roms_folder: Path) -> None:
    r = _run([*command, str(roms_folder)], home, roms_folder)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[-1].startswith("Imported 2 games, 1 file already present; skipped 8 files")
    assert any(line.startswith("imported   Pong-Atari2600") for line in lines)
    assert any(line.startswith("bad zip") and "broken.zip" in line for line in lines)
    # The default path is the current folder.
    r = _run([*command, "--quiet"], home, roms_folder)
    assert r.returncode == 0 and r.stdout.strip() == "Imported 0 games, 3 files already present; skipped 8 files " \
        "(3 unknown, 1 near match, 1 too big, 2 unreadable, 1 bad zip)"


# -- retro COMMAND --------------------------------------------------------------------------

def test_console_list_and_info(home: Path, tmp_path: Path, pong: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    from retro.__main__ import main

    assert main(["list", "--system", "Atari2600"]) == 0
    out = capsys.readouterr().out
    assert "Pong-Atari2600" in out and "missing" in out and "Airstriker" not in out
    assert "64 games (64 from stable-retro's library), 0 with their ROM" in out
    src = tmp_path / "pong.a26"
    src.write_bytes(pong)
    assert main(["import", "-q", str(src)]) == 0
    capsys.readouterr()
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("Pong-Atari2600"))
    assert line.split()[1:] == ["present", "library+retro", "Start,", "Start.2P,", "retro.Start,", "retro.Start.2P"]
    assert "1030 games (1030 from stable-retro's library), 2 with their ROM" in out  # Airstriker's is in it

    assert main(["info", "Pong-Atari2600-v0"]) == 0
    out = capsys.readouterr().out
    assert "system:      Atari2600" in out
    assert f"ROM:         {store(home) / 'Pong-Atari2600' / 'rom.a26'}\n" in out
    assert "states:      Start (default), Start.2P, retro.Start, retro.Start.2P" in out
    assert "scenarios:   retro, scenario" in out
    assert "score1" in out and "0x8d |u1" in out
    assert "reward P2: score1 reward=1.0" in out
    assert "done (any): score1 op=greater-than reference=20" in out

    assert main(["info", "Ponk-Atari2600"]) == 2
    assert "did you mean Pong-Atari2600" in capsys.readouterr().err


def test_console_cores(capsys: pytest.CaptureFixture[str]) -> None:
    from retro.__main__ import main

    assert main(["cores"]) == 0
    out = capsys.readouterr().out
    assert "Atari2600" in out and "stella" in out
    assert main([]) == 2


def test_console_command_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil
    import subprocess

    from retro.__main__ import main

    assert main(["import", str(tmp_path / "no-such-folder")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["info", "Ponk-Atari2600"]) == 2
    assert "did you mean Pong-Atari2600" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["playback", "--help"])
    assert exit_info.value.code == 0 and "--force" in capsys.readouterr().out
    with pytest.raises(retro.GameNotFoundError, match="did you mean Pong-Atari2600"):
        retro.make("Pong-Atari260")
    exe = shutil.which("retro")
    assert exe is not None, "set-up installs the retro console command"
    r = subprocess.run([exe, "cores"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "Atari2600" in r.stdout

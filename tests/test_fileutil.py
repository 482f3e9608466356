"""retro._fileutil: files appear whole or not at all, and are never replaced when told not to be."""

from __future__ import annotations

import gzip
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from retro._fileutil import atomic_path, atomic_write, atomic_write_json, atomic_writer
from retro.movie import Movie
from retro.scripts.make_state import write_state
from tests.test_movie import fake_emulator


class Boom(Exception):
    pass


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_atomic_write_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file.bin"
    atomic_write(target, b"one")
    assert target.read_bytes() == b"one"
    atomic_write(target, b"two", mode=0o600)
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert leftovers(target.parent) == []


def test_streamed_file_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "stream.bin"
    with atomic_writer(target) as f:
        f.write(b"head")
        assert not target.exists(), "nothing is visible while the file is written"
        assert len(leftovers(tmp_path)) == 1
        f.write(b"tail")
    assert target.read_bytes() == b"headtail"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("existing", [None, b"the old file"])
def test_an_exception_leaves_the_target_as_it_was(tmp_path: Path, existing: bytes | None) -> None:
    target = tmp_path / "file.bin"
    if existing is not None:
        target.write_bytes(existing)
    with pytest.raises(Boom):
        with atomic_writer(target) as f:
            f.write(b"half of the new")
            raise Boom()
    assert (target.read_bytes() if target.exists() else None) == existing
    assert leftovers(tmp_path) == []


def test_replace_false_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    atomic_write(target, b"first", replace=False)
    with pytest.raises(FileExistsError):
        atomic_write(target, b"second", replace=False)
    assert target.read_bytes() == b"first"
    # a file that appears while the new one is being written is not replaced either
    late = tmp_path / "late.bin"
    with pytest.raises(FileExistsError):
        with atomic_writer(late, replace=False) as f:
            f.write(b"mine")
            late.write_bytes(b"someone else's")
    assert late.read_bytes() == b"someone else's"
    assert leftovers(tmp_path) == []


def test_replace_false_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: str, dst: str) -> None:
        raise PermissionError("no hard links here")
    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "file.bin"
    atomic_write(target, b"first", replace=False)
    assert target.read_bytes() == b"first"
    with pytest.raises(FileExistsError):
        atomic_write(target, b"second", replace=False)
    assert target.read_bytes() == b"first"
    assert leftovers(tmp_path) == []


def test_the_bytes_are_on_disk_before_the_file_takes_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        events.append("rename")
        real_replace(src, dst)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    atomic_write(tmp_path / "file.bin", b"data")
    with atomic_path(tmp_path / "video.mp4") as tmp:
        Path(tmp).write_bytes(b"what a program wrote")
    assert events == ["fsync file", "rename", "fsync folder"] * 2


def test_a_failed_fsync_leaves_the_target_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "file.bin"
    target.write_bytes(b"the old file")

    def fail(fd: int) -> None:
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(os, "fsync", fail)
    for write in (lambda: atomic_write(target, b"new"), lambda: atomic_write_json(target, {"new": 1})):
        with pytest.raises(OSError):
            write()
    with pytest.raises(OSError):
        with atomic_path(target) as tmp:
            Path(tmp).write_bytes(b"new")
    assert target.read_bytes() == b"the old file"
    assert leftovers(tmp_path) == []


def test_atomic_path_publishes_what_is_left_at_the_path(tmp_path: Path) -> None:
    target = tmp_path / "out" / "video.mp4"
    with atomic_path(target) as tmp:
        assert Path(tmp).parent == target.parent and tmp.endswith(".part") and os.path.getsize(tmp) == 0
        Path(tmp).write_bytes(b"one")
        assert not target.exists()
    assert target.read_bytes() == b"one" and stat.S_IMODE(target.stat().st_mode) == 0o644
    with pytest.raises(Boom):
        with atomic_path(target) as tmp:
            Path(tmp).write_bytes(b"half")
            raise Boom()
    with pytest.raises(FileExistsError):
        with atomic_path(target, replace=False) as tmp:
            pass
    assert target.read_bytes() == b"one"
    assert leftovers(target.parent) == []


def test_atomic_write_json_writes_json_dump_s_form(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    doc = {"b": [1, 2.5, "x"], "a": {"é": None}}
    atomic_write_json(target, doc, indent=2, newline=True)
    assert target.read_text(encoding="utf-8") == json.dumps(doc, indent=2) + "\n"
    atomic_write_json(target, doc)
    assert target.read_text(encoding="utf-8") == json.dumps(doc)
    with pytest.raises(TypeError):
        atomic_write_json(target, {"a": 1, "b": object()})  # written up to the value JSON cannot hold
    assert target.read_text(encoding="utf-8") == json.dumps(doc)
    assert leftovers(tmp_path) == []


def test_movie_writer_streams_through_the_atomic_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "run.bk2"
    path.write_bytes(b"the user's file")
    m = Movie(path, True, 1)
    m.configure("X", fake_emulator("Nes", tmp_path))
    m.step()

    def fail(self: zipfile.ZipFile, *args: object, **kwargs: object) -> None:
        raise Boom()
    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail)
    with pytest.raises(Boom):
        m.close()
    assert path.read_bytes() == b"the user's file", "a failed write leaves the old file"
    assert not list(tmp_path.glob(".*.part"))
    monkeypatch.undo()
    m = Movie(path, True, 1)
    m.configure("X", fake_emulator("Nes", tmp_path))
    m.step()
    m.close()
    assert Movie(path).players == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_write_state_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "Start.state"
    write_state(path, b"state one")
    assert gzip.decompress(path.read_bytes()) == b"state one"

    def fail(path: str, mode: int) -> None:  # the last step before the new file takes the name
        raise Boom()
    monkeypatch.setattr(os, "chmod", fail)
    with pytest.raises(Boom):
        write_state(path, b"state two")
    assert gzip.decompress(path.read_bytes()) == b"state one"
    assert leftovers(tmp_path) == []

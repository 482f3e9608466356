"""Provisioning: pins are checked, installs are idempotent, tampering is refused."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

import retro
from retro import cores, paths, provision
from retro.errors import ProvisionError
from retro.systems import SYSTEMS


def test_manifest_pins_every_default_core():
    manifest = provision.load_manifest()
    pinned = {c["name"] for c in manifest["cores"] if c["source"] != "debian"}
    for name, info in SYSTEMS.items():
        assert info.lib in pinned, f"{name}'s default core {info.lib} is not pinned"
    for core in manifest["cores"]:
        assert core["license"]
        if "build" in core:  # built at set-up: pinned by its source's sha256
            assert manifest["sources"][core["source"]]["kind"] == "pypi-sdist"
        else:
            assert len(core["sha256"]) == 64
    for source in manifest["sources"].values():
        suffix = ".tar.gz" if source.get("kind") == "pypi-sdist" else ".whl"
        assert len(source["sha256"]) == 64 and source["filename"].endswith(suffix)


def test_provisioned_cores_match_their_pins():
    manifest = provision.load_manifest()
    for core in manifest["cores"]:
        if core["source"] == "debian":
            continue
        path = paths.cores_dir() / f"{core['name']}_libretro.so"
        assert path.is_file(), "run bash scripts/setup.sh"
        if "build" in core:  # its stamp names the pinned source it was built from, and the library itself
            stamp = json.loads(path.with_name(path.name + ".json").read_text())
            assert stamp["ale_py_sdist_sha256"] == manifest["sources"][core["source"]]["sha256"]
            assert stamp["sha256"] == provision.sha256_file(path)
        else:
            assert provision.sha256_file(path) == core["sha256"]


def _fake_source(tmp_path: Path, payload: bytes) -> tuple[dict, Path]:
    cache = tmp_path / "cache"
    cache.mkdir()
    wheel = cache / "fake-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("fake/cores/toy_libretro.so", payload)
    source = {"filename": wheel.name, "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
              "package": "fake", "version": "1.0"}
    return source, cache


def test_extract_verifies_and_is_idempotent(tmp_path):
    payload = b"\x7fELF toy core"
    source, cache = _fake_source(tmp_path, payload)
    wheel = provision.fetch_wheel(source, cache)  # cached and verified: no download
    target = tmp_path / "cores" / "toy_libretro.so"
    with zipfile.ZipFile(wheel) as zf:
        sha = hashlib.sha256(payload).hexdigest()
        assert provision._extract(zf, "fake/cores/toy_libretro.so", target, sha) is True
        assert provision._extract(zf, "fake/cores/toy_libretro.so", target, sha) is False
        target.write_bytes(b"tampered")
        assert provision._extract(zf, "fake/cores/toy_libretro.so", target, sha) is True
        assert target.read_bytes() == payload
        with pytest.raises(ProvisionError, match="pins"):
            provision._extract(zf, "fake/cores/toy_libretro.so", tmp_path / "x.so", "0" * 64)
        with pytest.raises(ProvisionError, match="no member"):
            provision._extract(zf, "fake/missing.so", tmp_path / "y.so", None)


def test_a_wheel_with_the_wrong_hash_is_refused(tmp_path, monkeypatch):
    source, cache = _fake_source(tmp_path, b"core")
    source["sha256"] = "f" * 64
    source.update(platform="any", python_version="3.11", implementation="cp", abi="none")

    def fake_run(cmd, **kwargs):  # pip "downloads" the tampered file that is already there
        class Result:
            returncode = 0
            stdout = stderr = ""
        return Result()

    monkeypatch.setattr(provision.subprocess, "run", fake_run)
    with pytest.raises(ProvisionError, match="refusing"):
        provision.fetch_wheel(source, cache)
    assert not (cache / source["filename"]).exists(), "a file that fails its pin is removed"


def test_core_table_lists_every_system():
    rows = cores.table()
    systems = {r["system"] for r in rows}
    assert systems == set(SYSTEMS)
    genesis = next(r for r in rows if r["system"] == "Genesis" and r["role"] == "default")
    assert genesis["core"] == "genesis_plus_gx" and genesis["path"]


def test_provision_main_reports(capsys):
    assert provision.main([]) == 0
    out = capsys.readouterr().out
    assert "genesis_plus_gx" in out and "ROMs:" in out
    # it imports the ROMs it provisioned, and says so (and what to do next) in its last line
    last = out.splitlines()[-1]
    assert re.fullmatch(r"imported: ROMs of \d+ games in .+ \(\d+ new\); next: `retro list` shows them, "
                        r"`retro play GAME` plays one", last), last
    assert int(last.split()[3]) >= 2  # Airstriker's and the Atari 2600 games' at least
    assert retro.data.get_romfile_path("Airstriker-Genesis", retro.data.Integrations.ALL)
    json.dumps(provision.load_manifest())


def test_provision_quiet_and_bad_arguments(capsys):
    assert provision.main(["--roms-only", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert provision.main(["--cores-only", "--roms-only"]) == 2
    assert capsys.readouterr().err == ("retro provision: argument --roms-only: not allowed with argument "
                                       "--cores-only; see retro provision --help\n")


def test_the_ale_core_build_is_cached(tmp_path, monkeypatch):
    """A second build from the same sdist compiles nothing; a changed library is rebuilt (linked) again."""
    from retro import _ale_core

    manifest = provision.load_manifest()
    source = manifest["sources"]["ale-py-sdist"]
    sdist = paths.cache_dir() / source["filename"]
    if not sdist.is_file():
        pytest.fail("run bash scripts/setup.sh (it downloads the ale-py sdist)")
    target = paths.cores_dir() / "ale_libretro.so"
    calls: list[list[str]] = []
    monkeypatch.setattr(_ale_core, "_run", lambda cmd: calls.append(cmd))
    assert _ale_core.build(sdist, source["sha256"], target, paths.cache_dir()) == "ok"
    assert calls == []
    copy = tmp_path / "ale_libretro.so"
    copy.write_bytes(b"not the core")
    with pytest.raises(FileNotFoundError):  # the (faked) link wrote nothing: only linking was attempted
        _ale_core.build(sdist, source["sha256"], copy, paths.cache_dir())
    assert [c for c in calls if "-c" in c] == [] and len(calls) == 1 and "-shared" in calls[0]


def _fake_compiler(monkeypatch, fail_training: bool) -> list[list[str]]:
    """``_ale_core._run`` writing an empty output for every compile and link, and the training run
    failing if asked: the build's decisions without compiling anything."""
    from retro import _ale_core

    calls: list[list[str]] = []

    def run(cmd: list[str], cwd: Path | None = None, timeout: float | None = None) -> None:
        calls.append(cmd)
        if "-o" in cmd:
            Path(cmd[cmd.index("-o") + 1]).write_bytes(b"")
        elif fail_training:
            raise ProvisionError("building the ALE core failed: the training run crashed")
        else:
            assert cwd is not None
            (cwd / "emucore_TIA.cxx.gcda").write_bytes(b"")  # the counts it leaves

    monkeypatch.setattr(_ale_core, "_run", run)
    return calls


def _ale_sdist() -> tuple[Path, str]:
    source = provision.load_manifest()["sources"]["ale-py-sdist"]
    sdist = paths.cache_dir() / source["filename"]
    if not sdist.is_file():
        pytest.fail("run bash scripts/setup.sh (it downloads the ale-py sdist)")
    return sdist, source["sha256"]


def test_the_ale_core_build_is_profile_guided_and_falls_back_when_training_fails(tmp_path, monkeypatch):
    """With ROMs the build compiles instrumented, trains, compiles with the profile; a failed training
    run gives the plain build, says so, and is not retried by the next set-up."""
    from retro import _ale_core

    sdist, sha = _ale_sdist()
    roms = _ale_core.training_roms()
    if not roms:
        pytest.fail("no Atari ROMs in RETRO_HOME: run bash scripts/setup.sh")
    target = tmp_path / "cores" / "ale_libretro.so"
    calls = _fake_compiler(monkeypatch, fail_training=False)
    assert _ale_core.build(sdist, sha, target, tmp_path / "cache", log=lambda *a: None, roms=roms[:1]) == "built"
    compiles = [c for c in calls if "-c" in c]
    assert len(compiles) == 2 * len(_ale_core.EMULATOR_SOURCES) + 2  # instrumented, then with the profile
    assert all("-fprofile-generate" in c for c in compiles[:len(compiles) // 2])
    assert all("-fprofile-use" in c for c in compiles[len(compiles) // 2:])
    training = [c for c in calls if "-o" not in c]
    assert len(training) == 1 and training[0][-1] == str(roms[0])
    assert json.loads((target.parent / "ale_libretro.so.json").read_text())["pgo"]["roms"] == {
        roms[0].name: hashlib.sha256(roms[0].read_bytes()).hexdigest()}

    failing = tmp_path / "failing" / "ale_libretro.so"
    logged: list[str] = []
    calls = _fake_compiler(monkeypatch, fail_training=True)
    assert _ale_core.build(sdist, sha, failing, tmp_path / "cache2", log=logged.append, roms=roms[:1]) == "built"
    assert any("training run could not happen" in line and "without profile-guided" in line for line in logged)
    assert not any("-fprofile-use" in c for c in calls)
    linked = [c for c in calls if "-shared" in c]
    assert len(linked) == 1 and not any(f.startswith("-fprofile") for f in linked[0])
    stamp = json.loads((failing.parent / "ale_libretro.so.json").read_text())
    assert "training run crashed" in stamp["pgo_failed"]
    calls.clear()
    assert _ale_core.build(sdist, sha, failing, tmp_path / "cache2", log=logged.append, roms=roms[:1]) == "ok"
    assert calls == []


def test_the_ale_core_builds_plain_without_roms(tmp_path, monkeypatch):
    from retro import _ale_core

    sdist, sha = _ale_sdist()
    calls = _fake_compiler(monkeypatch, fail_training=False)
    logged: list[str] = []
    target = tmp_path / "ale_libretro.so"
    assert _ale_core.build(sdist, sha, target, tmp_path / "cache", log=logged.append, roms=[]) == "built"
    assert any("no provisioned Atari ROM" in line for line in logged)
    assert calls and not any(f.startswith("-fprofile") for c in calls for f in c)
    assert json.loads((tmp_path / "ale_libretro.so.json").read_text())["pgo"] is None

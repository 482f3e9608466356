"""Provision libretro cores and registry-carried ROMs: ``python3 -m retro.provision``.

Reads ``vendor/libretro-cores/manifest.json``, downloads the pinned PyPI
wheels with pip (``pip download``, never ``pip install``: the stable-retro
wheel ships a top-level ``retro`` package that would shadow this one),
verifies every sha256, and extracts only what the manifest names into
``RETRO_HOME`` (``cores/``, ``roms/``). Debian's libretro packages are
installed by the set-up script (``scripts/setup.sh``) and only verified here.

Idempotent: files already in place with the right sha256 are left alone.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from retro._fileutil import atomic_write
from retro import paths
from retro.errors import ProvisionError

__all__ = ["manifest_path", "load_manifest", "provision", "main"]


def manifest_path() -> Path:
    """The manifest of a source checkout, or the copy installed with the package."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "vendor" / "libretro-cores" / "manifest.json",
                      here / "cores-manifest.json"):
        if candidate.is_file():
            return candidate
    raise ProvisionError(
        "cannot find vendor/libretro-cores/manifest.json: run provisioning from a source checkout of retro")


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    path = path or manifest_path()
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ProvisionError(f"cannot read the core manifest {path}: {e}") from e


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()





def fetch_wheel(source: dict[str, Any], cache: Path, log: Any = print) -> Path:
    """The pinned wheel of a source, downloaded with pip into ``cache`` if needed."""
    wheel = cache / source["filename"]
    if wheel.is_file() and sha256_file(wheel) == source["sha256"]:
        return wheel
    cache.mkdir(parents=True, exist_ok=True)
    spec = f"{source['package']}=={source['version']}"
    log(f"downloading {spec} ({source['filename']}) with pip")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--platform", source["platform"], "--python-version", source["python_version"],
           "--implementation", source["implementation"], "--abi", source["abi"],
           "--dest", str(cache), "--disable-pip-version-check", "--quiet", spec]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0 or not wheel.is_file():
        raise ProvisionError(
            f"pip could not download {spec}: {(result.stderr or result.stdout).strip()[-2000:]}")
    got = sha256_file(wheel)
    if got != source["sha256"]:
        wheel.unlink()
        raise ProvisionError(
            f"{wheel.name} has sha256 {got}, but the manifest pins {source['sha256']}: refusing it")
    return wheel


def _extract(zf: zipfile.ZipFile, member: str, target: Path, sha256: str | None) -> bool:
    """Extract one member to ``target`` if it is not already there; True if written."""
    if target.is_file() and (sha256 is None or sha256_file(target) == sha256):
        return False
    try:
        data = zf.read(member)
    except KeyError:
        raise ProvisionError(f"{zf.filename} has no member {member}") from None
    if sha256 is not None:
        got = hashlib.sha256(data).hexdigest()
        if got != sha256:
            raise ProvisionError(f"{member} in {zf.filename} has sha256 {got}, the manifest pins {sha256}")
    atomic_write(target, data, mode=0o755 if target.suffix == ".so" else 0o644)
    return True


def provision(cores: bool = True, roms: bool = True, log: Any = print) -> dict[str, Any]:
    """Install the manifest's cores and ROMs into ``RETRO_HOME``; returns a report."""
    manifest = load_manifest()
    sources = manifest["sources"]
    cache = paths.cache_dir()
    report: dict[str, Any] = {"cores": {}, "roms": 0, "debian": {}}
    wheels: dict[str, zipfile.ZipFile] = {}

    def wheel(name: str) -> zipfile.ZipFile:
        if name not in wheels:
            wheels[name] = zipfile.ZipFile(fetch_wheel(sources[name], cache, log))
        return wheels[name]

    try:
        if cores:
            for core in manifest["cores"]:
                if core["source"] == "debian":
                    path = Path(core["file"])
                    if not path.is_file():
                        report["debian"][core["name"]] = "not installed"
                    elif sha256_file(path) != core["sha256"]:
                        report["debian"][core["name"]] = "installed, other build than pinned"
                    else:
                        report["debian"][core["name"]] = "ok"
                    continue
                target = paths.cores_dir() / f"{core['name']}_libretro.so"
                wrote = _extract(wheel(core["source"]), core["member"], target, core["sha256"])
                report["cores"][core["name"]] = "installed" if wrote else "ok"
        if roms:
            for entry in manifest["roms"]:
                zf = wheel(entry["source"])
                if "member" in entry:
                    members = [(entry["member"], entry["target"], entry.get("sha256"))]
                else:
                    members = [
                        (m, entry["target"].format(stem=Path(m).stem), None)
                        for m in sorted(zf.namelist()) if fnmatch.fnmatch(m, entry["members"])
                    ]
                for member, target, sha in members:
                    _extract(zf, member, paths.roms_dir() / target, sha)
                    report["roms"] += 1
    finally:
        for zf in wheels.values():
            zf.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m retro.provision",
        description="Install retro's pinned libretro cores and registry-carried ROMs into RETRO_HOME.")
    parser.add_argument("--cores-only", action="store_true", help="only the cores")
    parser.add_argument("--roms-only", action="store_true", help="only the ROMs")
    parser.add_argument("--quiet", "-q", action="store_true")
    args = parser.parse_args(argv)
    log = (lambda *a: None) if args.quiet else print
    try:
        report = provision(cores=not args.roms_only, roms=not args.cores_only, log=log)
    except ProvisionError as e:
        print(f"retro.provision: {e}", file=sys.stderr)
        return 1
    log(f"RETRO_HOME: {paths.retro_home()}")
    for name, status in sorted(report["cores"].items()):
        log(f"  core {name:<22} {status}")
    for name, status in sorted(report["debian"].items()):
        log(f"  core {name:<22} (Debian) {status}")
    log(f"  ROMs: {report['roms']} in {paths.roms_dir()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

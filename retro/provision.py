"""Provision libretro cores and registry-carried ROMs: ``retro provision``.

Reads ``vendor/libretro-cores/manifest.json``, downloads the pinned PyPI
wheels with pip (``pip download``, never ``pip install``: the stable-retro
wheel ships a top-level ``retro`` package that would shadow this one),
verifies every sha256, and extracts only what the manifest names into
``RETRO_HOME`` (``cores/``, ``roms/``, and ``library/``: stable-retro's game
library, its integration folders with data files only). Debian's libretro packages are
installed by the set-up script (``scripts/setup.sh``) and only verified here.
The ALE core is built here from the pinned ``ale-py`` source distribution
(:mod:`retro._ale_core`), with g++, into ``cores/``; ROMs are provisioned
before it, because its profile-guided build plays some of them.

``retro provision`` then imports the ROMs it provisioned into the games
folder (what ``retro import --from-packages`` does) and says what to do next.

Idempotent: files already in place with the right sha256 are left alone.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Collection

from retro import _cli, paths
from retro._fileutil import atomic_write
from retro.errors import ProvisionError

if TYPE_CHECKING:
    from retro.scripts.import_path import ImportReport

__all__ = ["manifest_path", "load_manifest", "provision", "provision_library", "fetch_sdist", "build_core",
           "import_provisioned_roms", "main"]

#: The file in ``RETRO_HOME/library`` that says which wheel it came from.
LIBRARY_STAMP = "PROVENANCE.json"


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


def _pip_download(source: dict[str, Any], cache: Path, options: Callable[[], list[str]], kind: str,
                  log: Any) -> Path:
    """``source``'s pinned file, downloaded by pip (with ``options()``) into ``cache`` if needed; sha256 checked."""
    path = cache / source["filename"]
    if path.is_file() and sha256_file(path) == source["sha256"]:
        return path
    cache.mkdir(parents=True, exist_ok=True)
    spec = f"{source['package']}=={source['version']}"
    log(f"downloading {spec} ({source['filename']}{kind}) with pip")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", *options(),
           "--dest", str(cache), "--disable-pip-version-check", "--quiet", spec]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0 or not path.is_file():
        raise ProvisionError(
            f"pip could not download {spec}: {(result.stderr or result.stdout).strip()[-2000:]}")
    got = sha256_file(path)
    if got != source["sha256"]:
        path.unlink()
        raise ProvisionError(
            f"{path.name} has sha256 {got}, but the manifest pins {source['sha256']}: refusing it")
    return path


def fetch_wheel(source: dict[str, Any], cache: Path, log: Any = print) -> Path:
    """The pinned wheel of a source, downloaded with pip into ``cache`` if needed."""
    return _pip_download(source, cache, lambda: [
        "--only-binary=:all:", "--platform", source["platform"], "--python-version", source["python_version"],
        "--implementation", source["implementation"], "--abi", source["abi"]], "", log)


def fetch_sdist(source: dict[str, Any], cache: Path, log: Any = print) -> Path:
    """The pinned source distribution of a source, downloaded with pip into ``cache`` if needed."""
    return _pip_download(source, cache, lambda: ["--no-binary", source["package"]], ", source", log)


def build_core(core: dict[str, Any], source: dict[str, Any], cache: Path, log: Any = print) -> str:
    """Build a core the manifest says is built from a pinned source (the ALE core); "ok" if up to date."""
    if core.get("build") != "retro._ale_core":
        raise ProvisionError(f"core {core['name']}: unknown build {core.get('build')!r}")
    from retro import _ale_core

    sdist = fetch_sdist(source, cache, log)
    return _ale_core.build(sdist, source["sha256"], paths.cores_dir() / f"{core['name']}_libretro.so", cache, log)


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


def _library_stamp(source: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"package": source["package"], "version": source["version"], "wheel_sha256": source["sha256"],
            "prefix": spec["prefix"], "kinds": spec["kinds"], "exclude": spec.get("exclude", [])}


def _make_writable(root: Path) -> None:
    for dirpath, _dirs, _files in os.walk(root):
        os.chmod(dirpath, 0o755)


def provision_library(zf: zipfile.ZipFile, source: dict[str, Any], spec: dict[str, Any],
                      log: Any = print) -> dict[str, int]:
    """Extract stable-retro's integration folders into ``RETRO_HOME/library``, read-only.

    Only members under ``spec["prefix"]`` of the listed kinds are taken, and
    no file matching ``spec["exclude"]`` (its Python). The folder is built
    beside its target and renamed into place, so it is whole or absent; a
    library already stamped with the same wheel is left alone. Returns the
    number of integration folders per kind.
    """
    target = paths.library_dir()
    stamp = _library_stamp(source, spec)
    stamp_path = target / LIBRARY_STAMP
    if stamp_path.is_file():
        try:
            have = json.loads(stamp_path.read_text())
        except (OSError, ValueError):
            have = None
        if isinstance(have, dict) and all(have.get(k) == v for k, v in stamp.items()):
            return {k: int(v) for k, v in have.get("folders", {}).items()}
    prefix, kinds, exclude = spec["prefix"], tuple(spec["kinds"]), spec.get("exclude", [])
    folders: dict[str, set[str]] = {k: set() for k in kinds}
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".library-", dir=target.parent))
    try:
        for info in zf.infolist():
            name = info.filename
            if not name.startswith(prefix) or name.endswith("/"):
                continue
            parts = name[len(prefix):].split("/")
            if len(parts) != 3 or parts[0] not in kinds or any(fnmatch.fnmatch(parts[2], p) for p in exclude):
                continue
            kind, game, file = parts
            if not game or game.startswith(".") or not file or file.startswith(".") or "\\" in name:
                raise ProvisionError(f"{zf.filename}: unexpected member {name!r}")
            out = staging / kind / game / file
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(zf.read(info))
            os.chmod(out, 0o444)
            folders[kind].add(game)
        counts = {k: len(v) for k, v in folders.items()}
        expected = spec.get("folders")
        if expected and counts != expected:
            raise ProvisionError(f"{zf.filename} holds {counts} integration folders, the manifest expects {expected}")
        (staging / LIBRARY_STAMP).write_text(json.dumps({**stamp, "folders": counts}, indent=2) + "\n")
        for dirpath, _dirs, _files in os.walk(staging):
            os.chmod(dirpath, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=".library-old-", dir=target.parent))
            os.rename(target, old / "library")
            _make_writable(old)
            shutil.rmtree(old, ignore_errors=True)
        os.rename(staging, target)
        log(f"  library: {sum(counts.values())} integration folders ({counts}) in {target}")
        return counts
    except BaseException:
        _make_writable(staging)
        shutil.rmtree(staging, ignore_errors=True)
        raise


def provision(cores: bool = True, roms: bool = True, log: Any = print, library: bool = True,
              sources_only: Collection[str] | None = None) -> dict[str, Any]:
    """Install the manifest's cores and ROMs into ``RETRO_HOME``; returns a report.

    ``sources_only`` names the manifest's sources to take things from (e.g.
    ``["stable-retro"]``: its cores, library and Airstriker ROM, without the
    Atari ROMs or the ALE core); None takes every source. Debian's cores are
    checked whatever it says.
    """
    manifest = load_manifest()
    sources = manifest["sources"]
    unknown = sorted(set(sources_only or ()) - set(sources))
    if unknown:
        raise ProvisionError(f"unknown source(s) {unknown}; the manifest's sources are {sorted(sources)}")

    def wanted(entry: dict[str, Any]) -> bool:
        return sources_only is None or entry["source"] in sources_only or entry["source"] == "debian"

    cache = paths.cache_dir()
    report: dict[str, Any] = {"cores": {}, "roms": 0, "debian": {}}
    wheels: dict[str, zipfile.ZipFile] = {}

    def wheel(name: str) -> zipfile.ZipFile:
        if name not in wheels:
            wheels[name] = zipfile.ZipFile(fetch_wheel(sources[name], cache, log))
        return wheels[name]

    try:
        # ROMs first: building the ALE core plays some of them (its profile-guided build)
        if roms:
            for entry in filter(wanted, manifest["roms"]):
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
        if cores:
            for core in filter(wanted, manifest["cores"]):
                if core["source"] == "debian":
                    path = Path(core["file"])
                    if not path.is_file():
                        report["debian"][core["name"]] = "not installed"
                    elif sha256_file(path) != core["sha256"]:
                        report["debian"][core["name"]] = "installed, other build than pinned"
                    else:
                        report["debian"][core["name"]] = "ok"
                    continue
                if "build" in core:
                    status = build_core(core, sources[core["source"]], cache, log)
                    report["cores"][core["name"]] = "installed" if status == "built" else "ok"
                    continue
                target = paths.cores_dir() / f"{core['name']}_libretro.so"
                wrote = _extract(wheel(core["source"]), core["member"], target, core["sha256"])
                report["cores"][core["name"]] = "installed" if wrote else "ok"
        if library and "library" in manifest and wanted(manifest["library"]):
            spec = manifest["library"]
            report["library"] = provision_library(wheel(spec["source"]), sources[spec["source"]], spec, log)
    finally:
        for zf in wheels.values():
            zf.close()
    return report


def import_provisioned_roms() -> "ImportReport":
    """Import the ROMs provisioned into ``RETRO_HOME/roms`` (and an installed ale-py's) into the games folder.

    What ``retro import --from-packages`` does; returns its
    :class:`~retro.scripts.import_path.ImportReport`.
    """
    from retro.scripts.import_path import import_paths, package_rom_dirs

    return import_paths(package_rom_dirs(), log=lambda line: None)


def main(argv: list[str] | None = None) -> int:
    """``retro provision``: its exit status (errors are one line on stderr)."""
    return _cli.run("retro provision", lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    parser = _cli.ArgumentParser(
        prog="retro provision",
        description="Install retro's pinned libretro cores, the ROMs that registry packages carry and "
                    "stable-retro's game library into RETRO_HOME, then import the ROMs.")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--cores-only", action="store_true", help="only the cores")
    only.add_argument("--roms-only", action="store_true", help="only the ROMs (provisioned and imported)")
    parser.add_argument("--no-library", action="store_true", help="not stable-retro's game library")
    parser.add_argument("--source", action="append", metavar="NAME",
                        help="only what this source of the manifest gives (repeatable), e.g. --source stable-retro: "
                             "its cores, game library and Airstriker ROM, without the Atari ROMs or the ALE core")
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    args = parser.parse_args(argv)
    log = (lambda *a: None) if args.quiet else print
    limited = args.roms_only or args.cores_only
    report = provision(cores=not args.roms_only, roms=not args.cores_only, log=log,
                       library=not (limited or args.no_library), sources_only=args.source)
    log(f"RETRO_HOME: {paths.retro_home()}")
    for name, status in sorted(report["cores"].items()):
        log(f"  core {name:<22} {status}")
    for name, status in sorted(report["debian"].items()):
        log(f"  core {name:<22} (Debian) {status}")
    log(f"  ROMs: {report['roms']} in {paths.roms_dir()}")
    if "library" in report:
        log(f"  game library: {sum(report['library'].values())} integration folders in {paths.library_dir()}")
    if args.cores_only:
        return 0
    imported = import_provisioned_roms()
    for result in imported.results:
        if result.outcome == "conflict":
            log(f"  {result.line()}")
        elif result.outcome == "failed":
            print(f"retro provision: {result.line()}", file=sys.stderr)
    games = len(imported.games)
    log(f"imported: ROMs of {games} game{'s' if games != 1 else ''} in {paths.retro_home() / 'games'} "
        f"({len(imported.imported_games)} new); next: `retro list` shows them, `retro play GAME` plays one")
    return _cli.FAILURE if imported.counts["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

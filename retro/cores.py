"""Finding libretro cores.

Cores are dependencies, found at run time. Providers are searched in order,
first match wins:

1. ``RETRO_CORE_PATH``: one or more directories (``os.pathsep``-separated);
2. the cores directory that set-up provisions (``retro.paths.cores_dir()``);
3. the prebuilt cores of an installed ``stable-retro`` package (its
   ``cores/*.so`` only);
4. RetroArch's and Debian's libretro directories.

``python3 -m retro.cores`` prints which core serves each system.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from retro import paths
from retro.errors import CoreNotFoundError, UnknownSystemError
from retro.systems import CORE_SUFFIX, SYSTEMS

__all__ = ["CoreLocation", "providers", "find_core", "core_for_system", "table", "PROVISION_COMMAND"]

log = logging.getLogger(__name__)

PROVISION_COMMAND = "python3 -m retro.provision"


@dataclass(frozen=True)
class CoreLocation:
    """A core library found on this machine."""

    name: str
    path: str
    provider: str


def _stable_retro_cores() -> list[Path]:
    found = []
    for pkg in ("stable_retro", "retro"):
        try:
            spec = importlib.util.find_spec(pkg)
        except (ImportError, ValueError):
            continue
        for loc in (spec.submodule_search_locations or []) if spec else []:
            cores = Path(loc) / "cores"
            # only a stable-retro install: our own package has no cores/ dir
            if cores.is_dir() and any(cores.glob("*" + CORE_SUFFIX)):
                found.append(cores)
    return found


def providers() -> list[tuple[str, Path]]:
    """``(provider name, directory)`` pairs in search order."""
    out: list[tuple[str, Path]] = []
    env = os.environ.get("RETRO_CORE_PATH")
    if env:
        out += [("RETRO_CORE_PATH", Path(p)) for p in env.split(os.pathsep) if p]
    out.append(("provisioned", paths.cores_dir()))
    out += [("stable-retro", p) for p in _stable_retro_cores()]
    home = Path(os.path.expanduser("~"))
    out += [
        ("retroarch", home / ".config" / "retroarch" / "cores"),
        ("debian", Path("/usr/lib/x86_64-linux-gnu/libretro")),
        ("debian", Path("/usr/lib/aarch64-linux-gnu/libretro")),
        ("system", Path("/usr/lib/libretro")),
        ("system", Path("/usr/local/lib/libretro")),
    ]
    return out


def find_core(name: str) -> CoreLocation | None:
    """The first provider's copy of core ``name`` (e.g. ``"fceumm"``), or None."""
    filename = name + CORE_SUFFIX
    for provider, directory in providers():
        path = directory / filename
        if path.is_file():
            return CoreLocation(name, str(path), provider)
    return None


def core_for_system(system: str | None, core: str | os.PathLike[str] | None = None) -> CoreLocation:
    """The core to run ``system`` with.

    ``core`` may name a core (``"nestopia"``) or be a path to a core library.
    Without it, the system's default core is used (the one Gym Retro uses, so
    its save states load), falling back to an alternate with a warning.
    """
    if core is not None:
        text = os.fspath(core)
        if os.sep in text or text.endswith(".so"):
            if not os.path.isfile(text):
                raise CoreNotFoundError(f"libretro core not found: {text}")
            return CoreLocation(Path(text).name.removesuffix(CORE_SUFFIX), text, "path")
        found = find_core(text)
        if found is None:
            raise CoreNotFoundError(
                f"libretro core {text!r} ({text}{CORE_SUFFIX}) is not installed in any of: "
                f"{_searched()}. Install the provisioned cores with: {PROVISION_COMMAND}")
        return found
    if system is None:
        raise UnknownSystemError("no system given and no core given: cannot choose a core")
    try:
        info = SYSTEMS[system]
    except KeyError:
        raise UnknownSystemError(f"unknown system {system!r}; known systems are {sorted(SYSTEMS)}") from None
    for i, name in enumerate(info.cores):
        found = find_core(name)
        if found is not None:
            if i:
                log.warning("the default %s core %s is not installed; using %s from %s. "
                            "Save states of the default core will not load. Install it with: %s",
                            system, info.lib, name, found.provider, PROVISION_COMMAND)
            return found
    raise CoreNotFoundError(
        f"no libretro core for {system}: its core is {info.lib} ({info.lib}{CORE_SUFFIX})"
        + (f", alternates {', '.join(info.alternates)}" if info.alternates else "")
        + f"; none is installed in any of: {_searched()}. Install it with: {PROVISION_COMMAND}")


def _searched() -> str:
    return ", ".join(str(d) for _, d in providers())


def table() -> list[dict[str, str | None]]:
    """One row per system and core: system, core, provider, path (None if missing)."""
    rows: list[dict[str, str | None]] = []
    for system, info in sorted(SYSTEMS.items()):
        for i, name in enumerate(info.cores):
            found = find_core(name)
            rows.append({
                "system": system,
                "core": name,
                "role": "default" if i == 0 else "alternate",
                "provider": found.provider if found else None,
                "path": found.path if found else None,
            })
    return rows


def main() -> None:
    rows = table()
    print(f"{'system':<10} {'core':<24} {'role':<9} {'provider':<16} path")
    for r in rows:
        print(f"{r['system']:<10} {r['core']:<24} {r['role']:<9} {r['provider'] or '-':<16} "
              f"{r['path'] or 'missing: ' + PROVISION_COMMAND}")


if __name__ == "__main__":
    main()

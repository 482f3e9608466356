"""Finding libretro cores.

Cores are dependencies, found at run time. Providers are searched in order,
first match wins:

0. the folder :func:`core_path` set, if one was set in this process;
1. ``RETRO_CORE_PATH``: one or more directories (``os.pathsep``-separated);
2. the cores directory that set-up provisions (``retro.paths.cores_dir()``);
3. the prebuilt cores of an installed ``stable-retro`` package (its
   ``cores/*.so`` only);
4. RetroArch's and Debian's libretro directories.

``retro cores`` prints which core serves each system.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from retro import paths
from retro.errors import CoreNotFoundError, UnknownSystemError
from retro.systems import CORE_SUFFIX, SYSTEMS, canonical_system, system_names

__all__ = ["CoreLocation", "providers", "find_core", "core_for_system", "core_path", "table", "PROVISION_COMMAND"]

log = logging.getLogger(__name__)

PROVISION_COMMAND = "retro provision"
"""The command that installs the pinned cores (errors about missing cores name it)."""


@dataclass(frozen=True)
class CoreLocation:
    """A core library found on this machine."""

    name: str
    """The core's name, as ``core=`` takes it (``'genesis_plus_gx'``)."""
    path: str
    """The core library's path."""
    provider: str
    """Where it was found.

    One of ``core_path``, ``RETRO_CORE_PATH``, ``provisioned``, ``stable-retro``, ``retroarch``, ``debian``,
    ``system``, or ``path`` (a core given by its path).
    """


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


_core_path: str | None = None


def core_path(hint: str | os.PathLike[str] | None = None) -> str:
    """The folder of libretro cores (Gym Retro's and stable-retro's ``retro.core_path``).

    As theirs, the folder is decided once: the first call with a ``hint``
    while ``RETRO_CORE_PATH`` is unset makes ``hint`` the folder for the rest
    of the process, searched before every other provider; later hints are
    ignored and the decided folder returned. Until then (and when
    ``RETRO_CORE_PATH`` is set, which wins over a hint), it is the first
    folder of ``RETRO_CORE_PATH``, else the cores folder set-up provisions
    (``RETRO_HOME/cores``). A core missing from the folder is still looked
    for in the other providers.
    """
    global _core_path
    if _core_path is not None:
        return _core_path
    env = [p for p in os.environ.get("RETRO_CORE_PATH", "").split(os.pathsep) if p]
    if env:
        return env[0]
    if hint is not None and os.fspath(hint):
        _core_path = os.path.abspath(os.fspath(hint))
        return _core_path
    return str(paths.cores_dir())


def providers() -> list[tuple[str, Path]]:
    """``(provider name, directory)`` pairs in search order."""
    out: list[tuple[str, Path]] = []
    if _core_path is not None:
        out.append(("core_path", Path(_core_path)))
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
        info = SYSTEMS[canonical_system(system)]
    except (KeyError, TypeError):
        raise UnknownSystemError(f"unknown system {system!r}; known systems are {system_names()}") from None
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

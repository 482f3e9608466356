"""Builds retro's ALE core: the ALE's Atari 2600 emulator behind our libretro shim.

Set-up (``python3 -m retro.provision``) downloads the pinned ``ale-py``
source distribution (sha256 in ``vendor/libretro-cores/manifest.json``) and
calls :func:`build`: it unpacks only the emulator's sources (``src/ale/emucore``
and the few ``src/ale/common`` files they need; none of the ALE's Python
bindings, environment, per-game code or SDL) into ``RETRO_HOME/cache``,
compiles each with ``g++`` into an object cache, compiles our shim
(``ale_libretro.cpp`` beside this file), and links ``ale_libretro.so`` into
the cores directory. Every object and the library carry a stamp of what they
were built from, so a second set-up rebuilds nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Callable

from retro._fileutil import atomic_write
from retro.errors import ProvisionError

__all__ = ["SHIM", "EMULATOR_SOURCES", "build", "built_stamp"]

#: Our libretro shim (C++ of this repository).
SHIM = Path(__file__).with_name("ale_libretro.cpp")
#: retro's own declarations of the libretro ABI, which the shim includes.
ABI_HEADER = Path(__file__).resolve().parent.parent / "libretro_abi.h"

#: The ALE's emulator sources the core needs, relative to ``src/ale``.
EMULATOR_SOURCES = (
    *(f"emucore/{n}.cxx" for n in (
        "Cart", "Cart0840", "Cart2K", "Cart3E", "Cart3F", "Cart4A50", "Cart4K", "CartAR", "CartCV", "CartDPC",
        "CartE0", "CartE7", "CartF4", "CartF4SC", "CartF6", "CartF6SC", "CartF8", "CartF8SC", "CartFASC",
        "CartFE", "CartMB", "CartMC", "CartUA", "Console", "Control", "Deserializer", "Device", "Event",
        "Joystick", "M6502", "M6502Hi", "M6502Low", "M6532", "MD5", "MediaSrc", "NullDev", "OSystem",
        "Paddles", "Props", "PropsSet", "Random", "Serializer", "Settings", "Switches", "System", "TIA",
        "TIASnd")),
    "common/ColourPalette.cpp",
    "common/Log.cpp",
    "common/SoundNull.cxx",
    "common/SoundRaw.cxx",
)

CXX = os.environ.get("CXX", "g++")
CXXFLAGS = ("-std=c++17", "-O3", "-flto", "-fPIC", "-fno-plt", "-DNDEBUG", "-w")
LDFLAGS = ("-shared", "-O3", "-flto=1", "-fPIC", "-Wl,--no-undefined", "-Wl,-O1")
LIBS = ("-lz", "-lpthread")
STAMP_SUFFIX = ".json"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _unpack(sdist: Path, sdist_sha256: str, root: Path) -> tuple[Path, str]:
    """The sdist's ``src`` tree (headers and the sources we build) under ``root``; returns (src dir, version)."""
    tree = root / f"ale-py-{sdist_sha256[:16]}"
    done = tree / ".unpacked"
    if done.is_file():
        return tree / "src", done.read_text().strip()
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    wanted = {f"src/ale/{s}" for s in EMULATOR_SOURCES}
    version = ""
    with tarfile.open(sdist, "r:gz") as tf:
        for member in tf.getmembers():
            name = member.name.split("/", 1)[1] if "/" in member.name else ""
            if name == "version.txt" and member.isfile():
                f = tf.extractfile(member)
                version = f.read().decode().strip() if f else ""
                continue
            if not member.isfile() or not name.startswith("src/ale/"):
                continue
            if ".." in name.split("/"):
                raise ProvisionError(f"{sdist.name}: unexpected member {member.name!r}")
            header = name.endswith((".hxx", ".hpp", ".h", ".ins"))
            if not header and name not in wanted:
                continue
            f = tf.extractfile(member)
            if f is None:
                continue
            out = tree / name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(f.read())
    missing = [s for s in wanted if not (tree / s).is_file()]
    if missing or not version:
        raise ProvisionError(f"{sdist.name} lacks {missing or 'version.txt'}: is it the ale-py sdist?")
    major, minor, patch = (version.split(".") + ["0", "0"])[:3]
    (tree / "src" / "ale" / "version.hpp").write_text(
        "#ifndef __VERSION_HPP__\n#define __VERSION_HPP__\n"
        f'#define ALE_VERSION "{version}"\n#define ALE_VERSION_MAJOR "{major}"\n'
        f'#define ALE_VERSION_MINOR "{minor}"\n#define ALE_VERSION_PATCH "{patch}"\n'
        '#define ALE_VERSION_GIT_SHA ""\n#define STELLA_VERSION "2.4.2"\n#endif\n')
    done.write_text(version + "\n")
    return tree / "src", version


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stderr or result.stdout)[-3000:]
        raise ProvisionError(f"building the ALE core failed: {' '.join(cmd)}\n{output}")


def built_stamp(sdist_sha256: str) -> dict[str, Any]:
    """What a built core is made of: the sdist, our shim and ABI header, the compiler flags."""
    return {"ale_py_sdist_sha256": sdist_sha256, "shim_sha256": _sha256(SHIM.read_bytes()),
            "abi_sha256": _sha256(ABI_HEADER.read_bytes()), "cxx": CXX, "cxxflags": list(CXXFLAGS),
            "ldflags": list(LDFLAGS + LIBS)}


def build(sdist: Path, sdist_sha256: str, target: Path, cache: Path,
          log: Callable[..., Any] = print) -> str:
    """Build ``target`` (``ale_libretro.so``) from the sdist; returns "ok" if it was up to date, else "built"."""
    stamp = built_stamp(sdist_sha256)
    stamp_path = target.with_name(target.name + STAMP_SUFFIX)
    if target.is_file() and stamp_path.is_file():
        try:
            if json.loads(stamp_path.read_text()) == {**stamp, "sha256": _sha256(target.read_bytes())}:
                return "ok"
        except (OSError, ValueError):
            pass
    if shutil.which(CXX) is None:
        raise ProvisionError(f"building the ALE core needs a C++ compiler ({CXX}); install g++ (Debian: g++)")
    src, version = _unpack(sdist, sdist_sha256, cache / "ale-src")
    # the emulator's objects depend on the sdist and the flags; the shim's on itself too
    emulator_key = {k: stamp[k] for k in ("ale_py_sdist_sha256", "cxx", "cxxflags")}
    objdir = cache / "ale-obj" / _sha256(json.dumps(emulator_key, sort_keys=True).encode())[:16]
    objdir.mkdir(parents=True, exist_ok=True)
    include = ["-I", str(src), "-I", str(src / "ale"), "-I", str(ABI_HEADER.parent)]
    objects = []
    shim_key = _sha256((stamp["shim_sha256"] + stamp["abi_sha256"]).encode())[:16]
    units = [(src / "ale" / s, s.replace("/", "_")) for s in EMULATOR_SOURCES]
    units.append((SHIM, f"ale_libretro-{shim_key}.cpp"))
    todo = [u for u in units if not (objdir / (u[1] + ".o")).is_file()]
    if todo:
        log(f"  building the ALE core from ale-py {version}: {len(todo)} of {len(units)} files to compile")
    for source, name in units:
        obj = objdir / (name + ".o")
        objects.append(str(obj))
        if obj.is_file():
            continue
        tmp = obj.with_suffix(".o.tmp")
        defines = [f'-DRETRO_ALE_VERSION="{version}"'] if source == SHIM else []
        _run([CXX, *CXXFLAGS, *defines, *include, "-c", str(source), "-o", str(tmp)])
        os.replace(tmp, obj)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".ale-link-") as tmpdir:
        out = Path(tmpdir) / target.name
        _run([CXX, *LDFLAGS, "-o", str(out), *objects, *LIBS])
        data = out.read_bytes()
    atomic_write(target, data, mode=0o755)
    atomic_write(stamp_path, (json.dumps({**stamp, "sha256": _sha256(data)}, indent=2) + "\n").encode(), mode=0o644)
    return "built"

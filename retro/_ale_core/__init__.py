"""Builds retro's ALE core: the ALE's Atari 2600 emulator behind our libretro shim.

Set-up (``retro provision``) downloads the pinned ``ale-py``
source distribution (sha256 in ``vendor/libretro-cores/manifest.json``) and
calls :func:`build`: it unpacks only the emulator's sources (``src/ale/emucore``
and the few ``src/ale/common`` files they need; none of the ALE's Python
bindings, environment, per-game code or SDL) into ``RETRO_HOME/cache``,
compiles each with ``g++``, compiles our shim (``ale_libretro.cpp`` beside
this file), and links ``ale_libretro.so`` into the cores directory.

The build is profile-guided when Atari ROMs are provisioned (set-up
provisions them first): everything is compiled instrumented and linked with
our training driver (``ale_train.cpp``), which plays a few provisioned games
for a few seconds; then everything is compiled again with the counts it
left (``-fprofile-use -fprofile-partial-training``). It takes about twice
the plain build's time (some 40 s instead of 20 s on two cores). Without a
ROM, or if the training run fails, the log says so and the build is the
plain ``-O3`` one. Emulation is the same either way: the optimiser only
lays out and inlines code by the counts. The library carries a stamp of
what it was built from (and the objects sit in caches keyed by it), so a
second set-up rebuilds nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from retro._fileutil import atomic_write
from retro.errors import ProvisionError

__all__ = ["SHIM", "EMULATOR_SOURCES", "TRAINER", "build", "built_stamp", "training_roms"]

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
CXXFLAGS = ("-std=c++17", "-O3", "-flto", "-fPIC", "-fno-plt", "-fvisibility=hidden", "-fvisibility-inlines-hidden",
            "-fno-semantic-interposition", "-DNDEBUG", "-w")
LDFLAGS = ("-shared", "-O3", "-flto=1", "-fPIC", "-Wl,--no-undefined", "-Wl,-O1")
LIBS = ("-lz", "-lpthread")
STAMP_SUFFIX = ".json"

#: The training run of the profile-guided build (our C++, linked with the instrumented core).
TRAINER = Path(__file__).with_name("ale_train.cpp")
#: Provisioned ROMs (``RETRO_HOME/roms/ale-py``) it plays, those that are there: joystick and
#: paddle games, bank-switched cartridges.
TRAINING_ROMS = ("pong", "breakout", "seaquest", "space_invaders", "ms_pacman", "pitfall")
#: Frames it plays of each.
TRAINING_FRAMES = 2400
PGO_GENERATE = ("-fprofile-generate",)
PGO_USE = ("-fprofile-use", "-fprofile-partial-training", "-Wno-missing-profile")
TRAINING_TIMEOUT = 300.0


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


def _run(cmd: list[str], cwd: Path | None = None, timeout: float | None = None) -> None:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ProvisionError(f"building the ALE core failed: {' '.join(cmd)} took over {timeout:.0f} s") from None
    if result.returncode != 0:
        output = (result.stderr or result.stdout)[-3000:]
        raise ProvisionError(f"building the ALE core failed: {' '.join(cmd)}\n{output}")


def training_roms(roms_dir: Path | None = None) -> list[Path]:
    """The provisioned Atari ROMs of :data:`TRAINING_ROMS` that are there (none before the ROMs are provisioned)."""
    if roms_dir is None:
        from retro import paths

        roms_dir = paths.roms_dir()
    return [p for p in (roms_dir / "ale-py" / f"{name}.a26" for name in TRAINING_ROMS) if p.is_file()]


def built_stamp(sdist_sha256: str, roms: list[Path] | None = None) -> dict[str, Any]:
    """What a built core is made of: the sdist, our shim and ABI header, the compiler flags,
    and for a profile-guided build the training run (its source, ROMs and length)."""
    stamp: dict[str, Any] = {
        "ale_py_sdist_sha256": sdist_sha256, "shim_sha256": _sha256(SHIM.read_bytes()),
        "abi_sha256": _sha256(ABI_HEADER.read_bytes()), "cxx": CXX, "cxxflags": list(CXXFLAGS),
        "ldflags": list(LDFLAGS + LIBS), "pgo": None}
    if roms:
        stamp["pgo"] = {"trainer_sha256": _sha256(TRAINER.read_bytes()), "frames": TRAINING_FRAMES,
                        "generate": list(PGO_GENERATE), "use": list(PGO_USE),
                        "roms": {p.name: _sha256(p.read_bytes()) for p in roms}}
    return stamp


def _compile_all(jobs: list[list[str]]) -> None:
    """Run compiler commands, as many at a time as there are CPUs."""
    with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), os.cpu_count() or 1))) as pool:
        for future in [pool.submit(_run, cmd) for cmd in jobs]:
            future.result()


def _plain_objects(units: list[tuple[Path, str]], compile_args: Callable[[Path], list[str]], objdir: Path) -> list[str]:
    """The objects of an ordinary build, each compiled once into the object cache."""
    objdir.mkdir(parents=True, exist_ok=True)
    jobs, renames = [], []
    for source, name in units:
        obj = objdir / (name + ".o")
        if not obj.is_file():
            tmp = obj.with_suffix(".o.tmp")
            jobs.append([CXX, *CXXFLAGS, *compile_args(source), "-c", str(source), "-o", str(tmp)])
            renames.append((tmp, obj))
    _compile_all(jobs)
    for tmp, obj in renames:
        os.replace(tmp, obj)
    return [str(objdir / (name + ".o")) for _, name in units]


def _pgo_objects(units: list[tuple[Path, str]], compile_args: Callable[[Path], list[str]], workdir: Path,
                 roms: list[Path]) -> list[str]:
    """The objects of a profile-guided build: compiled instrumented, linked with the trainer and
    run on ``roms``, then compiled again with the counts it left (beside each object, so both
    compilations write the same object paths)."""
    done = workdir / ".complete"
    objects = [str(workdir / (name + ".o")) for _, name in units]
    if done.is_file():
        return objects
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    _compile_all([[CXX, *CXXFLAGS, *PGO_GENERATE, *compile_args(source), "-c", str(source), "-o", obj]
                  for (source, _), obj in zip(units, objects)])
    trainer = workdir / "ale_train"
    _run([CXX, "-std=c++17", "-O2", *compile_args(TRAINER), "-o", str(trainer), str(TRAINER), *objects,
          "-O3", "-flto=1", *PGO_GENERATE, *LIBS])
    _run([str(trainer), str(TRAINING_FRAMES), *map(str, roms)], cwd=workdir, timeout=TRAINING_TIMEOUT)
    if not any(workdir.glob("*.gcda")):
        raise ProvisionError("the training run left no profile")
    _compile_all([[CXX, *CXXFLAGS, *PGO_USE, *compile_args(source), "-c", str(source), "-o", obj]
                  for (source, _), obj in zip(units, objects)])
    done.write_text("\n")
    return objects


def build(sdist: Path, sdist_sha256: str, target: Path, cache: Path,
          log: Callable[..., Any] = print, roms: list[Path] | None = None) -> str:
    """Build ``target`` (``ale_libretro.so``) from the sdist; returns "ok" if it was up to date, else "built".

    The build is profile-guided, trained on ``roms`` (default: :func:`training_roms`); with
    no ROM, or if the training run fails, it is an ordinary ``-O3`` build and the log says so.
    """
    roms = training_roms() if roms is None else roms
    stamp = built_stamp(sdist_sha256, roms)
    stamp_path = target.with_name(target.name + STAMP_SUFFIX)
    if target.is_file() and stamp_path.is_file():
        try:
            built = json.loads(stamp_path.read_text())
            built.pop("pgo_failed", None)
            if built == {**stamp, "sha256": _sha256(target.read_bytes())}:
                return "ok"
        except (OSError, ValueError, AttributeError):
            pass
    if shutil.which(CXX) is None:
        raise ProvisionError(f"building the ALE core needs a C++ compiler ({CXX}); install g++ (Debian: g++)")
    src, version = _unpack(sdist, sdist_sha256, cache / "ale-src")
    include = ["-I", str(src), "-I", str(src / "ale"), "-I", str(ABI_HEADER.parent)]

    def compile_args(source: Path) -> list[str]:
        return [*([f'-DRETRO_ALE_VERSION="{version}"'] if source == SHIM else []), *include]

    shim_key = _sha256((stamp["shim_sha256"] + stamp["abi_sha256"]).encode())[:16]
    units = [(src / "ale" / s, s.replace("/", "_")) for s in EMULATOR_SOURCES]
    units.append((SHIM, f"ale_libretro-{shim_key}.cpp"))
    objects: list[str] | None = None
    failed = ""
    linkflags: tuple[str, ...] = ()
    if stamp["pgo"]:
        key = _sha256(json.dumps(stamp, sort_keys=True).encode())[:16]
        log(f"  building the ALE core from ale-py {version}, profile-guided: {len(units)} files compiled twice "
            f"around a training run on {', '.join(p.stem for p in roms)}")
        try:
            objects = _pgo_objects(units, compile_args, cache / "ale-pgo" / key, roms)
            linkflags = PGO_USE
        except ProvisionError as e:
            failed = str(e).strip().splitlines()[-1][:300]
            log(f"  the ALE core's training run could not happen ({failed}); "
                "building it without profile-guided optimisation")
    else:
        log("  no provisioned Atari ROM (RETRO_HOME/roms/ale-py) to train the ALE core on: building it "
            "without profile-guided optimisation; set-up provisions the ROMs first, and then trains it")
    if objects is None:
        # the emulator's objects depend on the sdist and the flags; the shim's on itself too
        emulator_key = {k: stamp[k] for k in ("ale_py_sdist_sha256", "cxx", "cxxflags")}
        objdir = cache / "ale-obj" / _sha256(json.dumps(emulator_key, sort_keys=True).encode())[:16]
        todo = sum(not (objdir / (name + ".o")).is_file() for _, name in units)
        if todo:
            log(f"  building the ALE core from ale-py {version}: {todo} of {len(units)} files to compile")
        objects = _plain_objects(units, compile_args, objdir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".ale-link-") as tmpdir:
        out = Path(tmpdir) / target.name
        _run([CXX, *LDFLAGS, *linkflags, "-o", str(out), *objects, *LIBS])
        data = out.read_bytes()
    atomic_write(target, data, mode=0o755)
    record = {**stamp, "sha256": _sha256(data), **({"pgo_failed": failed} if failed else {})}
    atomic_write(stamp_path, (json.dumps(record, indent=2) + "\n").encode(), mode=0o644)
    return "built"

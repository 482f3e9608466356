"""Builds retro's Cython extensions.

Cython directives are set once here for the whole project. Set
RETRO_DEBUG=1 in the environment to build with bounds checks, assertions
and C debug info.
"""

import os

import shutil
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Command, Extension, setup
from setuptools.command.build import build
from setuptools.command.build_py import build_py

DEBUG = os.environ.get("RETRO_DEBUG", "") not in ("", "0")

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "nonecheck": DEBUG,
    "cdivision": not DEBUG,
    "embedsignature": True,
}

compile_args = ["-O0", "-g"] if DEBUG else ["-O2"]
macros = [] if DEBUG else [("CYTHON_WITHOUT_ASSERTIONS", "1")]

def extension(name, *sources, args=compile_args, **kwargs):
    return Extension(f"retro.{name}", [f"retro/{name}.pyx", *sources], include_dirs=["retro"],
                     extra_compile_args=args, define_macros=macros, **kwargs)


extensions = [
    # the libretro frontend: core loading, callbacks, state, memory
    extension("_core", "retro/_guard.cpp", libraries=["dl", "stdc++"],
              depends=["retro/_digest.h", "retro/_frontend.h"]),
    # frame conversion and observation preprocessing
    # (-O3: the fixed-point loops of _resize.h vectorise only there; 8x faster than -O2 on Atari frames)
    extension("_preprocess", depends=["retro/_resize.h", "retro/_convert.h"], args=["-O0", "-g"] if DEBUG else ["-O3"]),
    # StepPool over the worker threads of _workers.h
    extension("_workers"),
    # MultiBinary actions to joypad masks
    extension("_buttons"),
    extension("_bk2"),
    extension("_values"),
    # a scenario's rewards and done per frame, in C
    extension("_program"),
]

class BuildPy(build_py):
    """Also ship the top-level integrations/ folder and the core manifest inside the package."""

    def run(self):
        super().run()
        root = Path(__file__).parent
        target = Path(self.build_lib) / "retro"
        if (root / "integrations").is_dir():
            shutil.copytree(root / "integrations", target / "integrations", dirs_exist_ok=True)
        manifest = root / "vendor" / "libretro-cores" / "manifest.json"
        if manifest.is_file():
            shutil.copy(manifest, target / "cores-manifest.json")


PTH = "retro-gymnasium.pth"


class BuildPth(Command):
    """Install retro-gymnasium.pth into site-packages: it makes Gymnasium find retro/... ids in every process.

    A regular wheel takes it from build_lib. An editable wheel (PEP 660) takes
    only what lands in the folder its install commands write to, so there it
    goes to install_lib, which setuptools' editable_wheel points at that folder.
    """

    description = "write " + PTH
    user_options = []

    def initialize_options(self):
        self.build_lib = None
        self.editable_mode = False
        self.outputs = []

    def finalize_options(self):
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))

    def run(self):
        folder = self.get_finalized_command("install").install_lib if self.editable_mode else self.build_lib
        target = Path(folder) / PTH
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(__file__).parent / PTH, target)
        self.outputs = [str(target)]

    def get_outputs(self):
        return self.outputs


class Build(build):
    sub_commands = [*build.sub_commands, ("build_pth", None)]


setup(
    ext_modules=cythonize(extensions, compiler_directives=directives, quiet=True),
    cmdclass={"build_py": BuildPy, "build": Build, "build_pth": BuildPth},
)

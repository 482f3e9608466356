"""Shared fixtures: the real ROMs set-up provisions and the test ROMs we assemble."""

from __future__ import annotations

from pathlib import Path

import pytest

from retro import paths
from tests.roms.build import build_rom

SETUP_HINT = "run `bash scripts/setup.sh` (it provisions cores and ROMs from package registries)"


def _provisioned(relative: str) -> Path:
    path = paths.roms_dir() / relative
    if not path.is_file():
        pytest.fail(f"{path} is missing: {SETUP_HINT}")
    return path


@pytest.fixture(scope="session")
def airstriker_rom() -> Path:
    """Airstriker (Genesis), from the stable-retro wheel."""
    return _provisioned("stable-retro/Airstriker-Genesis.md")


@pytest.fixture(scope="session")
def pong_rom() -> Path:
    """Pong (Atari 2600), from the ale-py wheel."""
    return _provisioned("ale-py/pong.a26")


@pytest.fixture(scope="session")
def test_roms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """This repository's homebrew test ROMs, assembled for this session."""
    out = tmp_path_factory.mktemp("roms")
    return {name: build_rom(name, out) for name in ("nes", "snes", "atari2600")}

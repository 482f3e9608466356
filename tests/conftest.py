"""Shared fixtures: the real ROMs set-up provisions and the test ROMs we assemble."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import os

import pytest
from hypothesis import settings

from retro import paths
from tests.roms.build import TARGETS, build_rom

# CI runs property tests derandomized: the same examples on every run, so a
# run fails only on a real change. Locally they explore new examples.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SETUP_HINT = "run `bash scripts/setup.sh --test` (it provisions cores and ROMs from package registries)"


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
    """This repository's homebrew test ROMs (all of ``tests/roms``), assembled for this session."""
    out = tmp_path_factory.mktemp("roms")
    return {name: build_rom(name, out) for name in TARGETS}


@pytest.fixture
def integration_settings() -> Iterator[None]:
    """Custom integration paths and the default integration kinds put back as they were after the test."""
    from retro.data import DefaultIntegrations, Integrations

    custom, default = Integrations.custom_paths(), DefaultIntegrations.DEFAULT
    yield
    Integrations.clear_custom_paths()
    for p in custom:
        Integrations.add_custom_path(p)
    DefaultIntegrations.DEFAULT = default

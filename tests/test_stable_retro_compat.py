"""An integration folder from stable-retro's data loads unchanged as a custom integration.

The folder comes from the stable-retro 1.0.1 wheel that set-up downloads (and
pins) for its cores: its Airstriker integration, with its own Level1 save state
made by the same genesis_plus_gx core.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

import retro
from retro import paths, provision

MEMBER = "stable_retro/data/stable/Airstriker-Genesis-v0/"


@pytest.fixture
def stable_retro_folder(tmp_path, airstriker_rom):
    source = provision.load_manifest()["sources"]["stable-retro"]
    wheel = paths.cache_dir() / source["filename"]
    if not wheel.is_file():
        pytest.fail(f"{wheel} is missing: run bash scripts/setup.sh")
    root = tmp_path / "custom"
    game = root / "AirstrikerSR-Genesis"
    game.mkdir(parents=True)
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if n.startswith(MEMBER) and not n.endswith("/")]
        for name in names:
            (game / name[len(MEMBER):]).write_bytes(zf.read(name))
    assert {p.name for p in game.iterdir()} >= {"data.json", "scenario.json", "metadata.json",
                                                "rom.sha", "Level1.state", "rom.md"}
    retro.data.Integrations.add_custom_path(str(root))
    yield game
    retro.data.Integrations.clear_custom_paths()


def test_stable_retro_integration_loads_unchanged(stable_retro_folder):
    env = retro.make("AirstrikerSR-Genesis", inttype=retro.data.Integrations.ALL)
    try:
        assert env.statename == "Level1.state"
        obs = env.reset()
        assert obs.shape == (224, 320, 3)
        info = env.step(env.action_space.sample())[3]
        assert set(info) >= {"lives", "score"} and info["lives"] > 0
        total, done = 0.0, False
        rng = np.random.default_rng(0)
        for _ in range(3000):
            _obs, rew, done, info = env.step(rng.integers(0, 2, 12))
            total += rew
            if done:
                break
        assert done, "its scenario ends the game"
    finally:
        env.close()

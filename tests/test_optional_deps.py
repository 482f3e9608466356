"""The heavy optional libraries (the ``rl`` extra and others) stay out of ``import retro``."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["torch", "stable_baselines3", "pettingzoo", "ray", "IPython", "tensorflow", "jax", "minari", "h5py"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
                         check=True, capture_output=True, text=True, timeout=120)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_import_retro_imports_no_heavy_library() -> None:
    loaded = _modules_after("import retro, retro.vector, retro.notebook, gymnasium\n"
                            "gymnasium.make('retro/Pong-Atari2600-v0').close()")
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)


def test_the_adapters_import_only_their_own_library() -> None:
    sb3 = {m.split(".")[0] for m in _modules_after("import retro.sb3")}
    assert {"stable_baselines3", "torch"} <= sb3 and "pettingzoo" not in sb3
    pz = {m.split(".")[0] for m in _modules_after("import retro.pettingzoo")}
    assert "pettingzoo" in pz and not {"torch", "stable_baselines3"} & pz

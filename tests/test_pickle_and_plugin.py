"""Pickling envs (rebuilt from their arguments plus their current state) and Gymnasium finding retro/... ids
in spawn/forkserver children that never import retro (retro-gymnasium.pth)."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import gymnasium
import numpy as np
import pytest

import retro
from retro.vector import RetroVectorEnv

ROOT = Path(__file__).resolve().parent.parent


def _run(env, actions):
    out = []
    for a in actions:
        step = env.step(a)
        out.append((step[0].copy(), *step[1:]))
    return out


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert np.array_equal(x[0], y[0])
        assert x[1:] == y[1:]


@pytest.mark.parametrize("make", [
    pytest.param(lambda: gymnasium.make("retro/Pong-Atari2600-v0", frameskip=4), id="pong-gymnasium.make"),
    pytest.param(lambda: retro.make("Pong-Atari2600", frameskip=(2, 6), repeat_action_probability=0.25,
                                    full_action_space=False, obs_type="grayscale"), id="pong-classic-sticky"),
    pytest.param(lambda: retro.make("Airstriker-Genesis", api="gymnasium", frameskip=4, full_action_space=False),
                 id="airstriker"),
])
def test_unpickled_env_continues_the_episode_identically(make):
    env = make()
    try:
        first = env.reset(seed=11)
        classic = not isinstance(first, tuple)
        env.action_space.seed(0)
        actions = [env.action_space.sample() for _ in range(220)]
        _run(env, actions[:100])
        copy = pickle.loads(pickle.dumps(env))
        try:
            assert type(copy) is type(env)
            if classic:
                assert copy.unwrapped.np_random.bit_generator.state == env.unwrapped.np_random.bit_generator.state
            a, b = _run(env, actions[100:]), _run(copy, actions[100:])
            _same(a, b)
            assert any(step[1] != 0 for step in a)  # rewards were compared, not only zeros
        finally:
            copy.close()
    finally:
        env.close()


def test_pickle_before_reset_and_recording_stays_with_the_original(tmp_path):
    env = retro.make("Pong-Atari2600", record=tmp_path, api="gymnasium")
    try:
        copy = pickle.loads(pickle.dumps(env))  # never reset: the copy needs a reset too
        with pytest.raises(retro.ResetNeededError):
            copy.step(copy.action_space.sample())
        copy.close()
        env.reset(seed=0)
        env.step(env.action_space.sample())
        copy = pickle.loads(pickle.dumps(env))
        assert copy.movie_path is None and copy.movie is None  # a movie has one writer
        copy.reset()
        copy.step(copy.action_space.sample())
        copy.close()
        env.reset()
        env.close()
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == [f"Pong-Atari2600-Start-{i:06d}.bk2" for i in range(2)]
    finally:
        env.close()


def test_vector_env_pickles_and_continues_across_autoreset():
    venv = RetroVectorEnv("Pong-Atari2600", 2, frameskip=4, grayscale=True, resize=(84, 84), max_episode_steps=30,
                          num_threads=1, full_action_space=False)
    try:
        assert venv.spec is not None and venv.spec.id == "retro/Pong-Atari2600-v0"
        assert venv.call("get_action_meanings") == (["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"],) * 2
        venv.reset(seed=1)
        rng = np.random.default_rng(0)
        actions = rng.integers(0, 6, (70, 2))
        for a in actions[:20]:
            venv.step(a)
        copy = pickle.loads(pickle.dumps(venv))
        try:
            truncations = 0
            for a in actions[20:]:
                x, y = venv.step(a), copy.step(a)
                for p, q in zip(x[:4], y[:4]):
                    assert np.array_equal(p, q)
                assert x[4].keys() == y[4].keys() and all(np.array_equal(x[4][k], y[4][k]) for k in x[4])
                truncations += int(x[3].sum())
            assert truncations == 4  # both envs truncated at steps 30 and 61 (autoreset between), in both
        finally:
            copy.close()
    finally:
        venv.close()


def test_process_mode_vector_env_refuses_pickling():
    venv = RetroVectorEnv("Pong-Atari2600", 1, mode="process")
    try:
        with pytest.raises(retro.ConfigurationError, match="mode='thread'"):
            pickle.dumps(venv)
    finally:
        venv.close()


# -- Gymnasium finds retro/... ids in every process -----------------------------------------------------------


@pytest.fixture
def pth_site(tmp_path, monkeypatch):
    """retro-gymnasium.pth in a user site-packages folder of this interpreter, which child processes read.

    An installed retro (regular or editable wheel) has the file in site-packages itself; this puts this
    checkout's copy where a fresh interpreter also runs it, so the test holds either way.
    """
    base = tmp_path / "userbase"
    monkeypatch.setenv("PYTHONUSERBASE", str(base))
    site = Path(sysconfig.get_path("purelib", f"{os.name}_user", vars={"userbase": str(base)}))
    site.mkdir(parents=True)
    shutil.copy(ROOT / "retro-gymnasium.pth", site)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return site


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_spawned_child_finds_retro_ids_without_importing_retro(pth_site, method):
    from tests import spawn_child

    ctx = multiprocessing.get_context(method)
    queue = ctx.Queue()
    proc = ctx.Process(target=spawn_child.make_retro_env, args=(queue, "retro/Pong-Atari2600-v0"))
    proc.start()
    try:
        result = queue.get(timeout=120)
    finally:
        proc.join(60)
    assert result == {"retro_before_gymnasium": False, "obs_shape": (210, 160, 3), "hook": True}


def test_hook_costs_nothing_without_gymnasium_and_never_breaks_it(pth_site, tmp_path):
    code = "import sys, json; print('retro' in sys.modules, '_retro_gymnasium' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    broken = tmp_path / "broken"
    (broken / "retro").mkdir(parents=True)
    (broken / "retro" / "__init__.py").write_text("raise ImportError('not built')\n")
    # an empty RETRO_HOME has no index of ids, so the hook imports retro to register them
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(broken), str(ROOT)]), RETRO_HOME=str(tmp_path / "home"))
    code = "import gymnasium; print('retro/Pong-Atari2600-v0' in gymnasium.registry)"
    out = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, env=env,
                         cwd=tmp_path, check=True)
    assert out.stdout.strip() == "False"
    assert "retro's games are not registered with Gymnasium: import retro failed: not built" in out.stderr


def _child(code: str, **env: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **env}, cwd="/")
    return out.stdout.strip()


def test_hook_registers_from_the_index_without_importing_retro(pth_site):
    """The ids come from RETRO_HOME's index, as import retro registers them, and cost no import of retro."""
    import _retro_gymnasium

    assert retro.__name__ in sys.modules  # this process imported retro, which keeps the index
    games, ale_games = _retro_gymnasium.read_index()
    assert games == retro.data.list_games(retro.data.Integrations.ALL)
    assert ale_games == retro.data.ale_variants() and "Pong-Atari2600" in ale_games
    code = ("import sys, gymnasium\n"
            "ids = ['retro/Pong-Atari2600-v0', 'retro/Airstriker-Genesis-v0', 'RetroALE/Pong-v5', "
            "'RetroALE/BreakoutNoFrameskip-v4']\n"
            "{extra}print('retro' in sys.modules, [repr(gymnasium.spec(i)) if i in gymnasium.registry else None "
            "for i in ids])")
    hooked = _child(code.format(extra=""))
    assert hooked.startswith("False [") and ", None" not in hooked and "[None" not in hooked
    imported = _child(code.format(extra="import retro\n"), RETRO_GYMNASIUM_HOOK="0")
    assert imported.startswith("True [")
    assert hooked.split(" ", 1)[1] == imported.split(" ", 1)[1]  # the same specs, field by field
    off = _child("import sys, gymnasium; print('retro' in sys.modules, "
                 "any(i.startswith('retro/') for i in gymnasium.registry))", RETRO_GYMNASIUM_HOOK="0")
    assert off == "False False"


def test_ale_style_ids_play_on_the_ale_core():
    """RetroALE/<Name>-v5 behaves as ALE/<Name>-v5: frame skip 4, sticky actions, minimal actions, 108k frames."""
    env = gymnasium.make("RetroALE/Pong-v5")
    try:
        assert env.spec.max_episode_steps == 27_000
        base = env.unwrapped
        assert (base.em.core.name, base.frameskip, base.repeat_action_probability) == ("ale", 4, 0.25)
        assert base.get_action_meanings() == ["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]
        obs, info = env.reset(seed=3)
        assert obs.shape == (210, 160, 3) and env.action_space == gymnasium.spaces.Discrete(6)
        frames = base.em.frame_count
        env.step(2)
        assert base.em.frame_count - frames == 4
    finally:
        env.close()
    env = gymnasium.make("RetroALE/BreakoutNoFrameskip-v4")
    try:
        assert env.spec.max_episode_steps == 108_000
        assert (env.unwrapped.frameskip, env.unwrapped.repeat_action_probability) == (1, 0.0)
        env.reset(seed=0)
        assert env.unwrapped.ale.lives() == 5
    finally:
        env.close()


def test_sb3_subproc_vec_env_spawn_children_make_retro_envs(pth_site):
    """SB3's SubprocVecEnv with spawn children (as in a notebook), envs made by gymnasium.make alone."""
    import functools

    from stable_baselines3.common.vec_env import SubprocVecEnv

    fns = [functools.partial(gymnasium.make, "retro/Pong-Atari2600-v0", full_action_space=False)] * 2
    venv = SubprocVecEnv(fns, start_method="spawn")
    try:
        obs = venv.reset()
        assert obs.shape == (2, 210, 160, 3)
        obs, rewards, dones, infos = venv.step(np.array([1, 2]))
        assert obs.shape == (2, 210, 160, 3) and "score1" in infos[0]
        assert venv.env_method("get_action_meanings")[0][1] == "FIRE"
    finally:
        venv.close()


def test_lua_scenario_env_refuses_pickling(tmp_path):
    (tmp_path / "script.lua").write_text("function rew() return 1 end\n")
    (tmp_path / "scenario.json").write_text('{"scripts": ["script.lua"], "reward": {"script": "lua:rew"}}')
    env = retro.make("Airstriker-Genesis", scenario=str(tmp_path / "scenario.json"), api="gymnasium")
    try:
        env.reset()
        assert env.step(env.action_space.sample())[1] == 1
        with pytest.raises(retro.ConfigurationError, match="Lua scripts"):
            pickle.dumps(env)
    finally:
        env.close()


def test_the_hook_is_silent_where_retro_is_gone(tmp_path):
    """An install whose source tree moved (an editable install of a deleted checkout): Python starts quietly."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(ROOT / "retro-gymnasium.pth", site)
    code = f"import site, sys; site.addsitedir({str(site)!r}); print('_retro_gymnasium' in sys.modules)"
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         check=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert (out.stdout.strip(), out.stderr) == ("False", "")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert (out.stdout.strip(), out.stderr) == ("True", "")

"""retro on Ray: a two-node cluster on loopback, RayVectorEnv against RetroVectorEnv, RLlib PPO."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import threading

import gymnasium
import numpy as np
import pytest

import retro
import retro.ray
from retro.vector import RetroVectorEnv

# the whole file must end in well under this; past it the watchdog kills the nodes, so every call fails
WATCHDOG_SECONDS = 240

GAME = "Pong-Atari2600"


def test_import_retro_does_not_import_ray() -> None:
    code = ("import sys, retro, retro.ray; "
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('ray', 'torch')]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.fixture(scope="module")
def cluster():
    # two Ray nodes, a head and a node joining it, each a `ray start --block` on a loopback address
    with retro.ray.LoopbackCluster(nodes=2, num_cpus=2, object_store_memory=100 * 2**20, start_timeout=90,
                                   init_kwargs={"log_to_driver": False}) as c:
        watchdog = threading.Timer(WATCHDOG_SECONDS, c.kill)
        watchdog.daemon = True
        watchdog.start()
        try:
            yield c
        finally:
            watchdog.cancel()


def _random_actions(space: gymnasium.Space, steps: int) -> list:
    space.seed(5)
    return [space.sample() for _ in range(steps)]


def test_vector_env_on_two_nodes_matches_local(cluster) -> None:
    kwargs = dict(frameskip=2, max_pool=True, max_episode_steps=9)
    remote = retro.ray.RayVectorEnv(GAME, 4, timeout=60, **kwargs)
    local = RetroVectorEnv(GAME, 4, **kwargs)
    try:
        import ray

        alive = {n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]}
        assert alive == set(cluster.node_addresses) == set(remote.nodes) and len(alive) == 2
        assert [list(r) for r in remote.actor_envs] == [[0, 1], [2, 3]]
        assert remote.single_observation_space == local.single_observation_space
        assert remote.single_action_space == local.single_action_space

        obs, info = remote.reset(seed=11)
        lobs, linfo = local.reset(seed=11)
        np.testing.assert_array_equal(obs, lobs)
        assert obs.shape == (4, 210, 160, 3) and obs.any()
        assert sorted(info) == sorted(linfo)
        truncations = 0
        for step, actions in enumerate(_random_actions(remote.action_space, 24)):
            got = remote.step(actions)
            want = local.step(actions)
            for a, b in zip(got[:4], want[:4]):
                np.testing.assert_array_equal(a, b, err_msg=f"step {step}")
            assert sorted(got[4]) == sorted(want[4])
            for key in want[4]:
                np.testing.assert_array_equal(got[4][key], want[4][key], err_msg=key)
            truncations += int(got[3].sum())
        assert truncations == 8  # every env was truncated twice (steps 9 and 19) and autoreset on all nodes

        assert remote.get_attr("gamename") == local.get_attr("gamename")
        remote.set_attr("movie_id", [1, 2, 3, 4])
        assert remote.get_attr("movie_id") == (1, 2, 3, 4)
        assert remote.call("get_action_meaning", [1, 0, 0, 0, 0, 0, 0, 0]) == local.call(
            "get_action_meaning", [1, 0, 0, 0, 0, 0, 0, 0])
    finally:
        remote.close()
        local.close()


def test_vector_env_records_each_group_on_its_node(cluster, tmp_path) -> None:
    env = retro.ray.RayVectorEnv(GAME, 3, record=tmp_path, timeout=60)
    env.reset(seed=0)
    for actions in _random_actions(env.action_space, 5):
        env.step(actions)
    env.close()
    found = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.bk2"))
    assert found == ["envs0-1/Pong-Atari2600-Start-env0-000000.bk2", "envs0-1/Pong-Atari2600-Start-env1-000000.bk2",
                     "envs2-2/Pong-Atari2600-Start-env0-000000.bk2"]
    movie = retro.Movie(str(tmp_path / found[2]))
    assert movie.get_game().startswith(GAME) and len(movie) >= 6


def test_remote_failures_are_typed_errors_naming_the_env(cluster) -> None:
    env = retro.ray.RayVectorEnv(GAME, 4, timeout=60)
    try:
        env.reset(seed=0)
        actions = list(_random_actions(env.action_space, 1)[0])
        actions[3] = np.full(8, 2)  # not a MultiBinary action
        with pytest.raises(retro.RemoteEnvError, match="env 3 on node 127.0.0.3.*InvalidActionError") as err:
            env.step(actions)
        assert err.value.env_indices == [3] and err.value.node == "127.0.0.3"
        assert isinstance(err.value, retro.RetroError)

        env.step(_random_actions(env.action_space, 1)[0])  # the envs are fine after a refused action
        os.kill(env.actor_pids[0], 9)  # the process holding envs 0-1 dies
        with pytest.raises(retro.RemoteEnvError, match="envs 0-1 on node 127.0.0.2 died") as err:
            env.step(_random_actions(env.action_space, 1)[0])
        assert err.value.env_indices == [0, 1]
    finally:
        env.close()

    with pytest.raises(retro.RemoteEnvError, match="Nope-Atari2600 envs 0-1 on node 127.0.0.2.*GameNotFoundError"):
        retro.ray.RayVectorEnv("Nope-Atari2600", 2, num_actors=1, timeout=60)
    with pytest.raises(retro.ConfigurationError, match="num_cpus_per_actor=8"):
        retro.ray.RayVectorEnv(GAME, 2, num_cpus_per_actor=8)


def test_make_env_gives_what_rllib_takes() -> None:
    env = retro.ray.make_env({"game": GAME})
    plain = retro.make(GAME, use_restricted_actions=retro.Actions.DISCRETE)
    assert isinstance(env.action_space, gymnasium.spaces.Discrete) and env.action_space == plain.action_space
    plain.close()
    assert env.observation_space == gymnasium.spaces.Box(0.0, 1.0, (84, 84, 4), np.float32)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (84, 84, 4)
    assert np.array_equal(obs[..., 0], obs[..., 3])
    first = obs
    for _ in range(3):
        obs, *_ = env.step(0)
    assert np.array_equal(obs[..., 0], first[..., 3]) and not np.array_equal(obs[..., 3], first[..., 3])
    env.close()
    with pytest.raises(retro.ConfigurationError, match="needs the game"):
        retro.ray.make_env({})


class _BreaksAfter(gymnasium.Wrapper):
    """Closes the emulator under its env after ``n`` steps: the next step fails in the game."""

    def __init__(self, env: gymnasium.Env, n: int) -> None:
        super().__init__(env)
        self.n = n

    def step(self, action):
        self.n -= 1
        if self.n == 0:
            self.env.unwrapped.em.close()
        return self.env.step(action)


def _breaking_env(config):
    return _BreaksAfter(retro.ray.make_env(config), 40)


def test_rllib_ppo_trains_on_two_env_runners_and_a_failing_runner_stops_it(cluster) -> None:
    from ray import tune
    from ray.exceptions import RayActorError
    from ray.rllib.algorithms.ppo import PPOConfig

    tune.register_env("retro", retro.ray.make_env)
    tune.register_env("retro-breaking", _breaking_env)

    def config(env: str, runners: int) -> PPOConfig:
        return retro.ray.fail_fast(
            PPOConfig().environment(env, env_config={"game": GAME})
            .env_runners(num_env_runners=runners, rollout_fragment_length=64, num_cpus_per_env_runner=1)
            .training(train_batch_size_per_learner=128, minibatch_size=64, num_epochs=1))

    algo = config("retro", 2).build_algo()
    try:
        for i in (1, 2):
            result = algo.train()
            assert result["training_iteration"] == i
            assert result["env_runners"]["num_env_steps_sampled"] >= 128
        assert algo.env_runner_group.num_healthy_remote_workers() == 2
    finally:
        algo.stop()

    algo = config("retro-breaking", 1).build_algo()
    try:
        with pytest.raises(RayActorError):  # not restarted, not an iteration without samples
            algo.train()
    finally:
        algo.stop()
    logs = ""
    for path in glob.glob(os.path.join(cluster.log_dir, "worker-*.err")):
        with open(path, errors="replace") as f:
            logs += f.read()
    assert "retro.errors.RemoteEnvError: Pong-Atari2600 env (env runner 1, sub-env 0)" in logs
    assert "EmulatorClosedError: this emulator is closed" in logs

"""RetroVectorEnv: Gymnasium's vector API, autoreset, preprocessing, equivalence with single envs."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import retro
from retro.vector import Preprocessing, RetroVectorEnv
from tests.preprocess_reference import reference_preprocess


def test_batches_match_single_envs():
    """Each slot of a thread-mode vector env equals a single env fed the same actions."""
    venv = RetroVectorEnv("Airstriker-Genesis", 3, num_threads=2)
    singles = [retro.make("Airstriker-Genesis", api="gymnasium") for _ in range(3)]
    try:
        obs, infos = venv.reset(seed=0)
        assert obs.shape == (3, 224, 320, 3) and obs.dtype == np.uint8
        for i, env in enumerate(singles):
            o, _ = env.reset()
            assert np.array_equal(obs[i], o)
        rng = np.random.default_rng(1)
        for _ in range(120):
            actions = rng.integers(0, 2, (3, 12))
            obs, rewards, terminated, truncated, infos = venv.step(actions)
            for i, env in enumerate(singles):
                o, r, te, tr, info = env.step(actions[i])
                assert np.array_equal(obs[i], o) and rewards[i] == r and terminated[i] == te
                assert infos["score"][i] == info["score"]
    finally:
        venv.close()
        for env in singles:
            env.close()


def test_more_envs_than_threads_and_batches_are_kept():
    """8 envs on 2 threads match single envs; a batch returned earlier is not changed by later steps."""
    venv = RetroVectorEnv("Pong-Atari2600", 8, num_threads=2, scenario="retro")
    singles = [retro.make("Pong-Atari2600", api="gymnasium", scenario="retro") for _ in range(8)]
    try:
        obs, _ = venv.reset(seed=0)
        for env in singles:
            env.reset()
        kept = []
        rng = np.random.default_rng(3)
        for t in range(60):
            actions = rng.integers(0, 2, (8, venv.single_action_space.n))
            obs, rewards, terminated, _, infos = venv.step(actions)
            kept.append((obs, obs.copy()))
            for i, env in enumerate(singles):
                o, r, te, _, info = env.step(actions[i])
                assert np.array_equal(obs[i], o), f"step {t}, env {i}"
                assert rewards[i] == r and terminated[i] == te and infos["score"][i] == info["score"]
        assert all(np.array_equal(batch, copy) for batch, copy in kept)
        assert len({id(batch) for batch, _ in kept}) == len(kept)
    finally:
        venv.close()
        for env in singles:
            env.close()


def test_autoreset_next_step():
    venv = RetroVectorEnv("Pong-Atari2600", 2, num_threads=2, scenario="retro")
    try:
        start, _ = venv.reset(seed=0)
        env = venv.envs[0]
        venv._needs_autoreset[0] = True  # as if slot 0 had just terminated
        obs, rewards, terminated, truncated, _ = venv.step(venv.action_space.sample())
        assert np.array_equal(obs[0], start[0]), "the next step of a finished env is its reset"
        assert rewards[0] == 0 and not terminated[0]
        assert env.data.lookup_value("score") == 0
    finally:
        venv.close()


def test_native_preprocessing_shapes_and_frames():
    venv = RetroVectorEnv("Pong-Atari2600", 2, frameskip=4, max_pool=True, grayscale=True, resize=(84, 84))
    try:
        obs, _ = venv.reset(seed=0)
        assert obs.shape == (2, 84, 84) and venv.single_observation_space.shape == (84, 84)
        frames = venv.envs[0].em.frame_count
        obs, *_ = venv.step(venv.action_space.sample())
        assert venv.envs[0].em.frame_count == frames + 4
        assert obs.shape == (2, 84, 84) and 0 < obs.mean() < 255
    finally:
        venv.close()


def test_preprocessing_matches_a_reference_on_plain_frames():
    """The wrapper and a vector slot both equal preprocessing done here on a plain env's frames."""
    size = (84, 84)
    wrapper = Preprocessing(retro.make("Pong-Atari2600", api="gymnasium"), frameskip=4, max_pool=True,
                            grayscale=True, resize=size)
    venv = RetroVectorEnv("Pong-Atari2600", 1, frameskip=4, max_pool=True, grayscale=True, resize=size)
    plain = retro.make("Pong-Atari2600", api="gymnasium")
    try:
        o1, _ = wrapper.reset()
        o2, _ = venv.reset()
        p, _ = plain.reset()
        rng = np.random.default_rng(0)
        worst = 0
        for t in range(60):
            a = rng.integers(0, 2, 8)
            o1, r1, *_ = wrapper.step(a)
            o2, r2, *_ = venv.step(a[None])
            frames, reward = [], 0.0
            for _ in range(4):
                obs, rew, terminated, _, _ = plain.step(a)
                frames.append(obs)
                reward += rew
                if terminated:
                    break
            ref = reference_preprocess(frames, size)
            diff = np.abs(o1.astype(int) - ref).max()
            worst = max(worst, int(diff))
            assert diff <= 1, f"step {t}: preprocessing differs from the reference by {diff}"
            assert np.array_equal(o1, o2[0]) and r1 == r2[0] == reward, f"step {t}"
        assert 0 < o1.mean() < 255
        assert worst <= 1  # fixed point in C against float64 here: at most one level of rounding apart
    finally:
        wrapper.close()
        venv.close()
        plain.close()


def test_per_env_states_and_multiplayer():
    venv = RetroVectorEnv("Pong-Atari2600", 2, players=2, num_threads=1)
    try:
        obs, _ = venv.reset()
        obs, rewards, *_ = venv.step(venv.action_space.sample())
        assert rewards.shape == (2, 2)
    finally:
        venv.close()
    with pytest.raises(retro.ConfigurationError):
        RetroVectorEnv("Pong-Atari2600", 2, states=["Start"])


def test_process_mode():
    venv = RetroVectorEnv("Pong-Atari2600", 2, mode="process", frameskip=2, grayscale=True, resize=(42, 42))
    try:
        obs, _ = venv.reset(seed=0)
        assert obs.shape == (2, 42, 42)
        obs, rewards, terminated, truncated, _ = venv.step(venv.action_space.sample())
        assert obs.shape == (2, 42, 42) and rewards.shape == (2,)
    finally:
        venv.close()


def test_truncation_render_and_attributes():
    venv = RetroVectorEnv("Pong-Atari2600", 2, num_threads=2, max_episode_steps=5, render_mode="rgb_array")
    try:
        venv.reset(seed=0)
        for t in range(1, 6):
            _, _, terminated, truncated, _ = venv.step(venv.action_space.sample())
            assert not terminated.any()
            assert truncated.all() == (t == 5) and truncated.any() == (t == 5)
        obs, rewards, _, truncated, _ = venv.step(venv.action_space.sample())  # the autoreset step
        assert not truncated.any() and (rewards == 0).all()
        frames = venv.render()
        assert frames is not None and len(frames) == 2 and frames[0].shape == (210, 160, 3)
        assert venv.get_attr("gamename") == ("Pong-Atari2600", "Pong-Atari2600")
        venv.set_attr("movie_id", [3, 4])
        assert venv.get_attr("movie_id") == (3, 4)
        with pytest.raises(retro.ConfigurationError):
            venv.set_attr("movie_id", [1])
    finally:
        venv.close()
    with pytest.raises(retro.ConfigurationError):
        RetroVectorEnv("Pong-Atari2600", 1, max_episode_steps=0)


def test_make_vec_gives_the_vector_env():
    import gymnasium

    venv = gymnasium.make_vec("retro/Pong-Atari2600-v0", num_envs=2, vectorization_mode="vector_entry_point",
                              max_episode_steps=3)
    try:
        assert isinstance(venv.unwrapped, RetroVectorEnv) and venv.num_envs == 2
        assert venv.spec is not None and venv.spec.id == "retro/Pong-Atari2600-v0"
        venv.reset(seed=0)
        for _ in range(3):
            *_, truncated, _ = venv.step(venv.action_space.sample())
        assert truncated.all()
    finally:
        venv.close()


@pytest.mark.parametrize("signame", ["SIGKILL", "SIGSEGV"])
def test_process_mode_reports_a_dead_worker_and_restarts(signame):
    import os
    import signal

    venv = RetroVectorEnv("Pong-Atari2600", 2, mode="process")
    try:
        venv.reset(seed=0)
        venv.step(venv.action_space.sample())
        os.kill(venv._async.processes[1].pid, getattr(signal, signame))
        venv._async.processes[1].join(timeout=30)
        with pytest.raises(retro.WorkerDiedError) as info:
            venv.step(venv.action_space.sample())
        assert info.value.env_indices == [1] and info.value.exitcodes == [-getattr(signal, signame)]
        assert f"env 1 (killed by {signame})" in str(info.value)
        venv.restart_workers()
        obs, _ = venv.reset(seed=0)
        obs, *_ = venv.step(venv.action_space.sample())
        assert obs.shape == (2, 210, 160, 3)
    finally:
        venv.close()


def test_process_mode_error_carries_the_last_observation_and_can_restart_by_itself():
    import os
    import signal

    venv = RetroVectorEnv("Pong-Atari2600", 2, mode="process")
    try:
        venv.reset(seed=0)
        obs, *_ = venv.step(venv.action_space.sample())
        os.kill(venv._async.processes[0].pid, signal.SIGKILL)
        venv._async.processes[0].join(timeout=30)
        with pytest.raises(retro.WorkerDiedError) as info:
            venv.step(venv.action_space.sample())
        last_obs, _ = info.value.last[0]
        assert (last_obs == obs[0]).all()
    finally:
        venv.close()
    venv = RetroVectorEnv("Pong-Atari2600", 2, mode="process", on_worker_death="restart")
    try:
        venv.reset(seed=0)
        venv.step(venv.action_space.sample())
        os.kill(venv._async.processes[1].pid, signal.SIGKILL)
        venv._async.processes[1].join(timeout=30)
        obs, rew, terminated, truncated, infos = venv.step(venv.action_space.sample())
        assert truncated.all() and not terminated.any() and list(infos["worker_died"]) == [False, True]
        obs, *_ = venv.step(venv.action_space.sample())  # playing on
        assert obs.shape == (2, 210, 160, 3)
    finally:
        venv.close()


def test_the_two_modes_are_two_classes_behind_one_contract():
    from retro.vector import RetroProcessVectorEnv, RetroThreadVectorEnv

    thread = RetroVectorEnv("Airstriker-Genesis", 2)
    process = RetroVectorEnv("Airstriker-Genesis", 2, mode="process")
    try:
        assert type(thread) is RetroThreadVectorEnv and type(process) is RetroProcessVectorEnv
        assert isinstance(thread, RetroVectorEnv) and isinstance(process, RetroVectorEnv)
        assert thread.mode == "thread" and process.mode == "process"
        a, _ = thread.reset(seed=3)
        b, _ = process.reset(seed=3)
        assert np.array_equal(a, b)
        actions = np.stack([thread.single_action_space.sample() for _ in range(2)])
        assert np.array_equal(thread.step(actions)[0], process.step(actions)[0])
        for venv in (thread, process):  # the same attribute calls in both
            venv.set_attr("movie_id", [3, 4])
            assert venv.get_attr("movie_id") == (3, 4)
            with pytest.raises(retro.ConfigurationError, match="needs 2 values"):
                venv.set_attr("movie_id", [1])
        with pytest.raises(retro.ConfigurationError, match="restart_workers"):
            thread.restart_workers()
        with pytest.raises(retro.ConfigurationError, match="cannot be pickled"):
            pickle.dumps(process)
        assert type(pickle.loads(pickle.dumps(thread))) is RetroThreadVectorEnv
    finally:
        thread.close()
        process.close()
    with pytest.raises(retro.ConfigurationError, match="does not run mode='process'"):
        RetroThreadVectorEnv("Airstriker-Genesis", 2, mode="process")


# -- workers that die or stall at any moment -------------------------------------------------------------------------

def _campaign(kills: int, stops: int, seed: int) -> list[str]:
    """SIGKILL a random worker at a random moment ``kills`` times, and SIGSTOP one ``stops`` times, while stepping
    a process-mode env that restarts its workers by itself; what each loss looked like from the caller."""
    import os
    import random
    import signal
    import threading
    import time

    rng = random.Random(seed)
    seen = []
    venv = RetroVectorEnv("Airstriker-Genesis", 2, mode="process", on_worker_death="restart", step_timeout=5.0)
    try:
        venv.reset(seed=0)
        for n in range(kills + stops):
            sig = signal.SIGKILL if n < kills else signal.SIGSTOP
            pids = [p.pid for p in venv._async.processes]
            delay = rng.uniform(0.0, 0.15)
            victim = rng.choice(pids)
            threading.Timer(delay, os.kill, (victim, sig)).start()
            deadline = time.monotonic() + delay + 30
            while time.monotonic() < deadline:
                obs, _rew, _term, trunc, infos = venv.step(venv.action_space.sample())
                if "worker_died" in infos:
                    assert trunc.all() and obs.shape == (2, 224, 320, 3)
                    seen.append(f"{sig.name}: restarted env {list(np.flatnonzero(infos['worker_died']))}")
                    break
            else:
                seen.append(f"{sig.name}: not noticed")
        obs, *_ = venv.step(venv.action_space.sample())  # playing on
        assert obs.shape == (2, 224, 320, 3)
    finally:
        venv.close()
    return seen


def test_workers_killed_or_stopped_at_any_moment_are_reported_and_restarted():
    """Every SIGKILL (mid-step, mid-reset, while idle) and every SIGSTOP (caught by step_timeout) is a
    WorkerDiedError that on_worker_death='restart' turns into restarted workers."""
    import os

    kills, stops = int(os.environ.get("RETRO_KILLS", "4")), int(os.environ.get("RETRO_STOPS", "1"))
    seen = _campaign(kills, stops, seed=1)
    print("\n".join(seen))
    assert len(seen) == kills + stops and all("restarted env" in s for s in seen), seen


def test_a_worker_killed_mid_step_is_a_worker_died_error():
    import os
    import signal
    import threading

    venv = RetroVectorEnv("Airstriker-Genesis", 2, mode="process")
    try:
        venv.reset(seed=0)
        pid = venv._async.processes[1].pid
        threading.Timer(0.05, os.kill, (pid, signal.SIGKILL)).start()
        with pytest.raises(retro.WorkerDiedError) as info:
            for _ in range(100_000):
                venv.step(venv.action_space.sample())
        assert info.value.env_indices == [1] and "killed by SIGKILL" in str(info.value)
    finally:
        venv.close()  # no EOFError from the dead worker's pipe
    with pytest.raises(retro.EmulatorClosedError):
        venv.step(venv.action_space.sample())


def test_a_stopped_worker_is_killed_after_step_timeout():
    import os
    import signal
    import time

    venv = RetroVectorEnv("Airstriker-Genesis", 2, mode="process", step_timeout=2.0)
    try:
        venv.reset(seed=0)
        os.kill(venv._async.processes[0].pid, signal.SIGSTOP)
        start = time.monotonic()
        with pytest.raises(retro.WorkerDiedError, match="did not answer within step_timeout=2.0 s") as info:
            venv.step(venv.action_space.sample())
        assert info.value.env_indices == [0] and time.monotonic() - start < 15
        venv.restart_workers()
        venv.reset(seed=0)
        assert venv.step(venv.action_space.sample())[0].shape == (2, 224, 320, 3)
    finally:
        venv.close()


def test_closed_envs_raise_the_same_error_in_both_modes():
    for mode in ("thread", "process"):
        venv = RetroVectorEnv("Airstriker-Genesis", 2, mode=mode)
        venv.reset(seed=0)
        venv.close()
        with pytest.raises(retro.EmulatorClosedError):
            venv.step(venv.action_space.sample())
        with pytest.raises(retro.EmulatorClosedError):
            venv.reset()
    with pytest.raises(retro.ConfigurationError, match="step_timeout"):
        RetroVectorEnv("Airstriker-Genesis", 2, step_timeout=1.0)

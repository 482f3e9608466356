"""Snapshots and branching on real cores: ``retro.Snapshot``, ``RetroEnv.snapshot``/``restore``, the vector env's
per-lane ``snapshot``/``restore``/``fork`` and ``reset(options={"snapshots": ...})``, ``retro.movie_snapshots``."""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import retro
from retro.profiles import profile_for
from retro.snapshot import MAGIC, Snapshot
from retro.vector import RetroVectorEnv
from tests.integration_helpers import write_test_rom_integration

ROOT = Path(__file__).resolve().parent.parent
FRAMES = 300


@pytest.fixture(scope="module")
def nes_game(test_roms: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The NES test ROM as a custom integration (played on fceumm, the NES default core)."""
    custom = tmp_path_factory.mktemp("custom")
    game = write_test_rom_integration(test_roms["nes"], custom, done_at=5000)
    retro.data.Integrations.add_custom_path(str(custom))
    yield game
    retro.data.Integrations.clear_custom_paths()


#: core -> (game, make() arguments)
GAMES: dict[str, tuple[str, dict[str, Any]]] = {
    "stella": ("Pong-Atari2600", {}),
    "ale": ("Breakout-Atari2600", {"scenario": "retro", "core": "ale"}),
    "genesis_plus_gx": ("Airstriker-Genesis", {}),
    "fceumm": ("RetroTestRom-Nes", {"inttype": retro.data.Integrations.ALL}),
}
CORES = list(GAMES)


def _game(core: str, request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    if core == "fceumm":
        request.getfixturevalue("nes_game")
    return GAMES[core]


def _play(step: Callable[[Any], tuple[Any, ...]], actions: list[Any]) -> list[tuple[Any, ...]]:
    """Each step's outcome, observations as copies."""
    out = []
    for a in actions:
        obs, *rest = step(a)
        out.append((_copy(obs), *rest))
    return out


def _copy(obs: Any) -> Any:
    return {k: v.copy() for k, v in obs.items()} if isinstance(obs, dict) else np.array(obs, copy=True)


def _same(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> None:
    assert len(a) == len(b)
    for k, (x, y) in enumerate(zip(a, b)):
        assert np.array_equal(x[0], y[0]), f"observations differ at step {k}"
        for u, v in zip(x[1:], y[1:]):
            if isinstance(u, dict):
                assert u.keys() == v.keys() and all(np.array_equal(u[key], v[key]) for key in u), f"step {k}"
            else:
                assert np.array_equal(u, v), f"step {k}: {u!r} != {v!r}"


def _actions(space: Any, n: int, seed: int) -> list[Any]:
    space.seed(seed)
    return [space.sample() for _ in range(n)]


# -- one env ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sticky", [False, True], ids=["plain", "sticky-frameskip4"])
@pytest.mark.parametrize("core", CORES)
def test_restore_replays_the_same_frames_in_an_env(core: str, sticky: bool, request: pytest.FixtureRequest) -> None:
    game, kwargs = _game(core, request)
    extra = {"frameskip": 4, "repeat_action_probability": 0.25} if sticky else {}
    env = retro.make(game, api="gymnasium", **kwargs, **extra)
    try:
        assert env.em.core.name == core
        env.reset(seed=5)
        before = _play(env.step, _actions(env.action_space, 40, 1))[-1]  # somewhere into the game
        snap = env.snapshot()
        actions = _actions(env.action_space, FRAMES // (4 if sticky else 1), 2)
        first = _play(env.step, actions)
        obs, info = env.restore(snap)
        assert np.array_equal(obs, before[0]) and info == before[-1]  # what the game showed then
        assert np.array_equal(obs, snap_observation(env, snap))
        assert env.episode_steps == snap.episode_steps == 40
        again = _play(env.step, actions)
        _same(first, again)
        if sticky:  # the sticky-action RNG came back too: without it the same actions would play otherwise
            assert snap.rngs()["sticky"] != env.snapshot().rngs()["sticky"]
    finally:
        env.close()


def snap_observation(env: Any, snap: Snapshot) -> np.ndarray:
    """The observation of a snapshot's picture: its screen (none of these games crops)."""
    return np.frombuffer(snap.screen, np.uint8).reshape(*snap.screen_shape, 3)


@pytest.mark.parametrize("core", CORES)
def test_digest_is_equal_for_equal_games_and_changes_with_a_frame(core: str, request: pytest.FixtureRequest) -> None:
    game, kwargs = _game(core, request)
    a, b = retro.make(game, api="gymnasium", **kwargs), retro.make(game, api="gymnasium", **kwargs)
    try:
        actions = _actions(a.action_space, 30, 3)
        for env in (a, b):
            env.reset(seed=1)
            _play(env.step, actions)
        sa, sb = a.snapshot(), b.snapshot()
        assert sa.digest == sb.digest  # two emulators (two core copies) that played the same frames
        assert Snapshot.from_bytes(sa.to_bytes()).digest == sa.digest
        a.step(actions[0])
        assert a.snapshot().digest != sa.digest
        assert b.snapshot().digest == sb.digest  # taking a snapshot changes nothing
    finally:
        a.close()
        b.close()


def test_snapshot_bytes_round_trip_and_continue(request: pytest.FixtureRequest) -> None:
    game, kwargs = GAMES["genesis_plus_gx"]
    env = retro.make(game, api="gymnasium", frameskip=(2, 5), **kwargs)
    try:
        env.reset(seed=3)
        _play(env.step, _actions(env.action_space, 20, 4))
        snap = env.snapshot()
        raw = snap.to_bytes()
        assert raw.startswith(MAGIC)
        back = Snapshot.from_bytes(raw)
        assert back.to_bytes() == raw and back.held == snap.held and back.episode() == snap.episode()
        actions = _actions(env.action_space, 60, 5)
        first = _play(env.step, actions)
        env.restore(back)
        _same(first, _play(env.step, actions))  # stochastic frame skips drew the same
    finally:
        env.close()


def test_a_snapshot_of_another_game_or_core_is_refused() -> None:
    pong, breakout = retro.make("Pong-Atari2600"), retro.make("Breakout-Atari2600", scenario="retro", core="ale")
    try:
        pong.reset()
        breakout.reset()
        with pytest.raises(retro.StateError, match="Breakout-Atari2600 on the ale core"):
            pong.restore(breakout.snapshot())
        with pytest.raises(TypeError):
            pong.unwrapped.session.restore(b"not a snapshot")  # type: ignore[arg-type]
    finally:
        pong.close()
        breakout.close()


_CHILD = """
import pickle, sys, hashlib
import numpy as np
import retro
game, kwargs, snap, actions = pickle.load(open(sys.argv[1], "rb"))
env = retro.make(game, api="gymnasium", **kwargs)
env.restore(snap)
out = []
for a in actions:
    obs, rew, term, trunc, info = env.step(a)
    out.append((hashlib.sha256(obs.tobytes()).hexdigest(), float(rew), bool(term), dict(info)))
env.close()
pickle.dump(out, open(sys.argv[2], "wb"))
"""


def test_a_pickled_snapshot_continues_identically_in_a_new_process(tmp_path: Path) -> None:
    game, kwargs = GAMES["genesis_plus_gx"]
    kwargs = dict(kwargs, frameskip=4, repeat_action_probability=0.25)
    env = retro.make(game, api="gymnasium", **kwargs)
    try:
        env.reset(seed=9)
        _play(env.step, _actions(env.action_space, 30, 6))
        snap = env.snapshot()
        actions = _actions(env.action_space, 75, 7)
        here = [(hashlib.sha256(o.tobytes()).hexdigest(), float(r), bool(t), dict(i))
                for o, r, t, _, i in _play(env.step, actions)]
    finally:
        env.close()
    job, result = tmp_path / "job.pkl", tmp_path / "out.pkl"
    job.write_bytes(pickle.dumps((game, kwargs, snap, actions)))
    subprocess.run([sys.executable, "-c", _CHILD, str(job), str(result)], check=True, cwd=ROOT, timeout=300)
    assert pickle.loads(result.read_bytes()) == here


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64), st.integers(0, 400), st.binary(max_size=8))
def test_corrupt_snapshot_bytes_give_typed_errors(garbage: bytes, at: int, patch: bytes) -> None:
    raw = bytearray(_SAMPLE)
    raw[at:at + len(patch)] = patch
    for data in (garbage, bytes(raw), MAGIC + garbage, _SAMPLE[:at]):
        try:
            snap = Snapshot.from_bytes(data)
        except retro.StateError:
            continue
        assert snap.to_bytes() == data  # only a well-formed snapshot is read


_SAMPLE = Snapshot.make(game="G", core="stella", state=b"\x01" * 40, screen=bytes(12), screen_shape=(2, 2),
                        frame_count=7, start_state=None, statename=None, power_on_reset=True, at_power_on=False,
                        held=(3,), episode={"frame": 1, "prev": None}).to_bytes()


# -- the vector env -----------------------------------------------------------------------------------------


def _vector(core: str, request: pytest.FixtureRequest, n: int) -> RetroVectorEnv:
    game, kwargs = _game(core, request)
    return RetroVectorEnv(game, n, frameskip=4, max_pool=True, grayscale=True, resize=(84, 84), **kwargs)


@pytest.mark.parametrize("core", CORES)
def test_every_lane_replays_the_same_steps_after_a_restore(core: str, request: pytest.FixtureRequest) -> None:
    venv = _vector(core, request, 3)
    try:
        venv.reset(seed=2)
        _play(venv.step, _actions(venv.action_space, 10, 8))
        snaps = venv.snapshot()
        assert len(snaps) == 3 and all(s.episode_steps == 10 for s in snaps)
        actions = _actions(venv.action_space, FRAMES // 4, 9)
        first = _play(venv.step, actions)
        obs, infos = venv.restore(snaps)
        assert obs.shape == (3, 84, 84) and set(infos) >= {"_" + k for k in infos if not k.startswith("_")}
        again = _play(venv.step, actions)
        _same(first, again)
    finally:
        venv.close()


@pytest.mark.parametrize("core", CORES)
def test_fork_copies_a_lane_and_the_copies_play_on_independently(core: str, request: pytest.FixtureRequest) -> None:
    venv = _vector(core, request, 8)
    try:
        venv.reset(seed=4)
        _play(venv.step, _actions(venv.action_space, 12, 10))
        obs, _ = venv.fork(0, range(1, 8))
        # lane 0's row is its last step's (pooled), the copies' the game's picture now
        assert all(np.array_equal(obs[1], obs[i]) for i in range(1, 8))
        digests = {s.digest for s in venv.snapshot()}
        assert len(digests) == 1  # eight copies of one game
        same = [np.stack([a] * 8) for a in _actions(venv.single_action_space, 40, 11)]
        for a in same:
            obs, rew, term, trunc, info = venv.step(a)
            assert all(np.array_equal(obs[0], obs[i]) for i in range(8))
            assert (rew == rew[0]).all() and (term == term[0]).all()
        snap = venv.snapshot([3])[0]
        venv.fork(3, range(8))
        assert {s.digest for s in venv.snapshot()} == {snap.digest}
        # different actions: the lanes part ways, and each plays as it would alone
        venv.fork(5, range(8))
        [start] = venv.snapshot([5])
        solo = _vector(core, request, 1)
        try:
            solo.reset(seed=0)
            solo.restore([start])
            for _ in range(25):
                a = venv.action_space.sample()
                obs, rew, term, _, _ = venv.step(a)
                alone, alone_rew, alone_term, _, _ = solo.step(a[6:7])
                assert np.array_equal(obs[6], alone[0]) and rew[6] == alone_rew[0] and term[6] == alone_term[0]
        finally:
            solo.close()
        assert len({s.digest for s in venv.snapshot()}) > 1
    finally:
        venv.close()


def test_reset_starts_chosen_lanes_from_snapshots_and_process_mode_refuses(request: pytest.FixtureRequest) -> None:
    venv = _vector("stella", request, 3)
    try:
        venv.reset(seed=0)
        for _ in range(20):
            venv.step(venv.action_space.sample())
        start = venv.snapshot([1])[0]
        obs, _ = venv.reset(seed=0, options={"snapshots": {0: start, 2: start}})
        fresh = venv.snapshot()
        assert fresh[0].digest == fresh[2].digest == start.digest
        assert fresh[1].episode_steps == 0 and fresh[1].digest != start.digest
        with pytest.raises(retro.ConfigurationError, match="lane"):
            venv.restore([start], [3])
    finally:
        venv.close()
    proc = RetroVectorEnv("Pong-Atari2600", 1, mode="process")
    try:
        with pytest.raises(retro.ConfigurationError, match="mode='thread'"):
            proc.snapshot()
    finally:
        proc.close()


def test_movie_snapshots_follow_a_recorded_movie(tmp_path: Path) -> None:
    env = retro.make("Airstriker-Genesis", api="gymnasium", record=str(tmp_path))
    env.reset(seed=0)
    actions = _actions(env.action_space, 90, 12)
    for a in actions:
        env.step(a)
    last = env.snapshot()
    env.close()
    [movie] = tmp_path.glob("*.bk2")
    snaps = list(retro.movie_snapshots(movie, every=30))
    assert [s.frame_count - snaps[0].frame_count for s in snaps] == [0, 30, 60, 90]
    canonical = profile_for("genesis_plus_gx").canonical_state
    assert canonical(snaps[-1].state) == canonical(last.state) and snaps[-1].screen == last.screen
    assert snaps[-1].episode() == last.episode()

"""RetroEnv and retro.make: the seed's API on real games, Gymnasium's on request."""

from __future__ import annotations

import os
import re
import runpy
import sys
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import retro
from retro.actions import combo_groups, discrete_table
from retro.systems import SYSTEMS


def games_with_roms() -> list[str]:
    """Every game whose ROM is present and is the dump its integration was made for."""
    out = []
    for game in retro.data.list_games():
        try:
            if retro.data.verify_hash(game):
                continue
        except FileNotFoundError:
            continue
        out.append(game)
    assert len(out) >= 33, out  # stable-retro's library games whose ROMs set-up provisions
    return out


# -- the seed's snippets, verbatim -------------------------------------------------------

def test_multiplayer_snippet_runs(monkeypatch):
    """Gym Retro's multiplayer example, bounded: rewards are per-player lists."""
    rewards = []

    env = retro.make(game='Pong-Atari2600', players=2)
    obs = env.reset()
    for _ in range(600):
        # action_space will by MultiBinary(16) now instead of MultiBinary(8)
        # the bottom half of the actions will be for player 1 and the top half for player 2
        obs, rew, done, info = env.step(env.action_space.sample())
        # rew will be a list of [player_1_rew, player_2_rew]
        # done and info will remain the same
        rewards.append(rew)
        if done:
            obs = env.reset()
    env.close()
    assert env.action_space.n == 16 if hasattr(env.action_space, "n") else True
    assert all(isinstance(r, list) and len(r) == 2 for r in rewards)
    assert obs.shape == (210, 160, 3)


def test_record_snippet_records_a_movie(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = retro.make(game='Airstriker-Genesis', record='.')
    env.reset()
    steps = 0
    while True:
        _obs, _rew, done, _info = env.step(env.action_space.sample())
        steps += 1
        if done or steps == 400:
            break
    env.close()
    movies = sorted(os.listdir(tmp_path))
    assert movies == ["Airstriker-Genesis-Level1-000000.bk2"]
    movie = retro.Movie(tmp_path / movies[0])
    assert movie.get_game() == "Airstriker-Genesis" and len(movie) == steps + 1


def test_playback_snippet_reproduces_the_episode(tmp_path):
    env = retro.make(game='Airstriker-Genesis', record=str(tmp_path))
    env.reset()
    screens = []
    for _ in range(300):
        _obs, _rew, done, _info = env.step(env.action_space.sample())
        screens.append(env.em.get_screen())
        if done:
            break
    final_ram = env.get_ram()
    env.close()
    path = str(tmp_path / "Airstriker-Genesis-Level1-000000.bk2")

    movie = retro.Movie(path)
    movie.step()

    env = retro.make(game=movie.get_game(), state=None, use_restricted_actions=retro.Actions.ALL,
                     players=movie.players)
    env.initial_state = movie.get_state()
    env.reset()

    replay = []
    while movie.step():
        keys = []
        for p in range(movie.players):
            for i in range(env.num_buttons):
                keys.append(movie.get_key(i, p))
        env.step(keys)
        replay.append(env.em.get_screen())
    assert len(replay) == len(screens)
    assert all(np.array_equal(a, b) for a, b in zip(screens, replay))
    assert np.array_equal(env.get_ram(), final_ram)
    env.close()


# -- construction and attributes -------------------------------------------------------------

def test_attributes_and_defaults():
    env = retro.make("Airstriker-Genesis")
    try:
        assert env.gamename == "Airstriker-Genesis" and env.system == "Genesis"
        assert env.statename == "Level1.state" and env.initial_state
        assert env.players == 1 and env.num_buttons == 12
        assert env.buttons[:4] == ["B", "A", "MODE", "START"]
        assert env.button_combos == [[0, 16, 32], [0, 64, 128],
                                     [0, 1, 2, 3, 256, 257, 512, 513, 1024, 1026, 1536, 2048, 2304, 2560]]
        assert isinstance(env.action_space, gymnasium.spaces.MultiBinary) and env.action_space.n == 12
        assert env.observation_space.shape == (224, 320, 3)
        assert env.get_action_meaning([1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]) == ["B", "LEFT"]
        assert env.movie is None and env.movie_id == 0
    finally:
        env.close()


def test_v0_alias_and_unknown_games():
    env = retro.make("Airstriker-Genesis-v0")
    assert env.gamename == "Airstriker-Genesis-v0"  # stable-retro's id, kept as given
    assert env.statename == "Level1.state"
    env.close()
    with pytest.raises(FileNotFoundError, match="No romfiles found"):
        retro.make("NoSuchGame-Genesis")
    with pytest.raises(retro.GameNotFoundError, match="unknown state"):
        retro.make("Airstriker-Genesis", state="NoSuchState")


def test_game_known_but_rom_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("RETRO_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="import the ROM"):
        retro.make("Airstriker-Genesis")


@pytest.mark.parametrize("system,discrete,multi", [
    ("Atari2600", 18, [2, 3, 3]), ("Nes", 36, [3, 3, 4]), ("Sms", 36, [3, 3, 4]),
    ("GameGear", 36, [3, 3, 4]), ("GameBoy", 72, [3, 3, 8]), ("Genesis", 126, [3, 3, 14]),
    ("32x", 126, [3, 3, 14]), ("Snes", 468, [3, 3, 13, 4]), ("GbAdvance", 288, [3, 3, 8, 4]),
    ("PCEngine", 117, [3, 3, 13]),
])
def test_action_space_sizes_per_system(system, discrete, multi):
    info = SYSTEMS[system]
    groups = combo_groups(info.buttons, info.actions)
    assert groups.discrete_size == discrete and list(groups.sizes) == multi


@pytest.mark.parametrize("kind,space", [
    (retro.Actions.ALL, gymnasium.spaces.MultiBinary(12)),
    (retro.Actions.FILTERED, gymnasium.spaces.MultiBinary(12)),
    (retro.Actions.DISCRETE, gymnasium.spaces.Discrete(126)),
    (retro.Actions.MULTI_DISCRETE, gymnasium.spaces.MultiDiscrete([3, 3, 14])),
])
def test_action_spaces_on_genesis(kind, space):
    env = retro.make("Airstriker-Genesis", use_restricted_actions=kind)
    try:
        assert env.action_space == space
        env.reset()
        for _ in range(20):
            env.step(env.action_space.sample())
    finally:
        env.close()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 126 ** 2 - 1))
def test_discrete_decoding_is_gym_retros_mixed_radix(action):
    groups = combo_groups(SYSTEMS["Genesis"].buttons, SYSTEMS["Genesis"].actions).as_lists()
    table = discrete_table(combo_groups(SYSTEMS["Genesis"].buttons, SYSTEMS["Genesis"].actions))
    expected = []
    a = action
    for _ in range(2):  # player 0 is the least significant block, the first group the least significant digit
        mask = 0
        for group in groups:
            mask |= group[a % len(group)]
            a //= len(group)
        expected.append(mask)
    assert [int(table[action % 126]), int(table[action // 126])] == expected


def test_discrete_two_players_and_multi_discrete_two_players():
    env = retro.make("Pong-Atari2600", players=2, use_restricted_actions=retro.Actions.DISCRETE)
    assert env.action_space.n == 18 ** 2
    up = env.buttons.index("UP")
    env.reset()
    # groups sort by mask: BUTTON (mask 1) is the least significant digit (radix 2), then UP/DOWN
    assert env.session.decode(1) == [1 << env.buttons.index("BUTTON"), 0]
    assert env.session.decode(2 + 18 * 2) == [1 << up, 1 << up]
    env.close()
    env = retro.make("Pong-Atari2600", players=2, use_restricted_actions=retro.Actions.MULTI_DISCRETE)
    assert list(env.action_space.nvec) == [2, 3, 3, 2, 3, 3]
    env.reset()
    for _ in range(30):
        env.step(env.action_space.sample())
    env.close()


def test_filtered_actions_drop_what_no_group_allows():
    env = retro.make("Airstriker-Genesis")
    b = env.buttons
    action = np.zeros(12, np.int8)
    for name in ("UP", "DOWN", "LEFT", "START"):
        action[b.index(name)] = 1
    assert env.session.decode(action) == [1 << b.index("LEFT")]
    env.close()


_DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.int64, np.uint64,
           np.float16, np.float32, np.float64, ">i4", "<u2"]


@pytest.fixture(scope="module")
def two_player_pong():
    env = retro.make("Pong-Atari2600", players=2)
    env_all = retro.make("Pong-Atari2600", players=2, use_restricted_actions=retro.Actions.ALL)
    yield env, env_all
    env.close()
    env_all.close()


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.sampled_from([0, 1, 1, 0, 2, -1, 0.5]), min_size=15, max_size=17),
       dtype=st.sampled_from(_DTYPES), step=st.sampled_from([1, 2]))
def test_multibinary_packing_matches_the_reference_decoder(two_player_pong, values, dtype, step):
    """The C packing of MultiBinary actions gives the Python decoder's masks, or its error."""
    for env in two_player_pong:
        action = np.repeat(np.array(values), step).astype(dtype)[::step]
        try:
            expected = env.session._decode_action(action)  # the pure-Python reference decoder
        except retro.InvalidActionError:
            with pytest.raises(retro.InvalidActionError):
                env.session.decode(action)
        else:
            assert env.session.decode(action) == expected


# -- stepping, determinism, observations -----------------------------------------------------

def test_step_types_and_info():
    env = retro.make("Airstriker-Genesis")
    obs = env.reset()
    assert obs.dtype == np.uint8 and obs in env.observation_space
    obs, rew, done, info = env.step(env.action_space.sample())
    assert isinstance(rew, float) and isinstance(done, bool) and isinstance(info, dict)
    assert set(info) >= {"score", "lives"} and all(isinstance(v, int) for v in info.values())
    first = obs.copy()
    env.step(env.action_space.sample())
    assert np.array_equal(first, obs), "observations are copies the env does not touch again"
    env.close()


def test_determinism_two_envs_same_process():
    a, b = retro.make("Airstriker-Genesis"), retro.make("Airstriker-Genesis")
    a.reset()
    b.reset()
    rng = np.random.default_rng(0)
    for _ in range(500):
        act = rng.integers(0, 2, 12)
        oa, ra, da, ia = a.step(act)
        ob, rb, db, ib = b.step(act)
        assert np.array_equal(oa, ob) and ra == rb and da == db and ia == ib
        if da:
            break
    a.close()
    b.close()


def test_reset_restores_the_start_and_rewards_follow_the_score():
    env = retro.make("Airstriker-Genesis")
    first = env.reset()
    total = 0.0
    start_score = env.data.lookup_value("score")
    env.action_space.seed(0)
    for _ in range(800):
        _obs, rew, done, info = env.step(env.action_space.sample())
        total += rew
        if done:
            break
    assert total > 0, "800 random steps of Airstriker score something"
    assert total == pytest.approx(info["score"] - start_score)  # the reward is the score gained
    again = env.reset()
    assert np.array_equal(first, again)
    env.close()


def test_state_none_power_cycles_on_reset():
    env = retro.make("Airstriker-Genesis", state=retro.State.NONE)
    first = env.reset()
    for _ in range(300):
        env.step(env.action_space.sample())
    assert np.array_equal(env.reset(), first), "State.NONE starts every episode from power-on"
    env.close()


def test_ram_observations():
    env = retro.make("Pong-Atari2600", obs_type=retro.Observations.RAM)
    obs = env.reset()
    assert obs.shape == (128,) and env.observation_space.shape == (128,)
    obs2, *_ = env.step(env.action_space.sample())
    assert obs2.shape == (128,)
    env.close()


def test_step_before_reset_and_bad_actions():
    env = retro.make("Airstriker-Genesis")
    with pytest.raises(retro.ResetNeededError, match="reset"):
        env.step(env.action_space.sample())
    env.reset()
    for bad in ([1, 0, 1], np.zeros(13), np.full(12, 2), "UP", None):
        with pytest.raises(retro.InvalidActionError):
            env.step(bad)
    env.close()
    env = retro.make("Airstriker-Genesis", use_restricted_actions=retro.Actions.DISCRETE)
    env.reset()
    for bad in (-1, 126, 1.5, [3]):
        with pytest.raises(retro.InvalidActionError):
            env.step(bad)
    env.close()


def test_bad_constructor_arguments():
    with pytest.raises(retro.ConfigurationError, match="players"):
        retro.make("Airstriker-Genesis", players=0)
    with pytest.raises(retro.ConfigurationError, match="ports"):
        retro.make("Pong-Atari2600", players=9)
    with pytest.raises(retro.ConfigurationError, match="api"):
        retro.make("Airstriker-Genesis", api="gym")
    with pytest.raises(retro.ConfigurationError, match="render_mode"):
        retro.make("Airstriker-Genesis", render_mode="window")


# -- Gymnasium ------------------------------------------------------------------------------

@pytest.mark.parametrize("game", games_with_roms())
def test_check_env_on_every_integration(game):
    env = gymnasium.make(f"retro/{game}-v0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # check_env reports what it dislikes as warnings: each one fails
        check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=1)
    obs, rew, terminated, truncated, info = env.step(env.action_space.sample())
    assert isinstance(terminated, bool) and truncated is False
    env.close()


def test_gymnasium_api_on_request():
    env = retro.make("Pong-Atari2600", api="gymnasium")
    obs, info = env.reset(seed=3)
    assert obs.shape == (210, 160, 3) and isinstance(info, dict)
    out = env.step(env.action_space.sample())
    assert len(out) == 5
    env.close()


# -- rendering -------------------------------------------------------------------------------

def test_render_modes(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    env = retro.make("Airstriker-Genesis", render_mode="rgb_array")
    env.reset()
    assert env.render().shape == (224, 320, 3)
    env.close()
    env = retro.make("Airstriker-Genesis", render_mode="human")
    env.reset()
    env.step(env.action_space.sample())
    assert env.render() is True
    env.close()
    assert env.viewer is None


def test_human_rendering_without_a_display_warns_once_and_plays_on(monkeypatch):
    import retro.rendering

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(retro.rendering, "_warned", False)
    with pytest.warns(RuntimeWarning, match='render_mode="human" shows nothing: there is no display') as seen:
        env = retro.make("Airstriker-Genesis", render_mode="human")
        again = retro.make("Airstriker-Genesis", render_mode="human")  # once per process
    assert len(seen) == 1
    try:
        env.reset()
        obs, *_ = env.step(env.action_space.sample())
        assert obs.shape == (224, 320, 3) and env.render() is None and env.viewer is None
    finally:
        env.close()
        again.close()
    monkeypatch.setenv("DISPLAY", ":99")
    retro.make("Airstriker-Genesis", render_mode="human").close()  # the window opens on the first frame


def test_check_env_passes_headless_without_flags(monkeypatch):
    """Gymnasium's check_env makes the env again in every render mode, "human" included."""
    import gymnasium
    from gymnasium.utils.env_checker import check_env

    import retro.rendering

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(retro.rendering, "_warned", False)
    env = gymnasium.make("retro/Pong-Atari2600-v0")
    try:
        with pytest.warns(RuntimeWarning, match="shows nothing"):
            check_env(env.unwrapped)  # as Gymnasium recommends
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            check_env(env)  # as made, wrappers and all: only Gymnasium's own advice to unwrap it
        assert [str(w.message) for w in seen if "different from the unwrapped version" not in str(w.message)] == []
    finally:
        env.close()


# -- examples ---------------------------------------------------------------------------------

@pytest.mark.parametrize("module,args,last", [
    ("retro.examples.trivial_random_agent", [], r"episode 1: \d+ steps, total reward -?[\d.]+"),
    ("retro.examples.trivial_random_agent", ["--steps", "200"],
     r"episode 1: 200 steps, total reward -?[\d.]+ \(stopped: --steps reached\)"),
    ("retro.examples.trivial_random_agent_multiplayer", ["--steps", "200"],
     r"episode 1: 200 steps, total rewards: player 1 -?[\d.]+, player 2 -?[\d.]+ \(stopped: --steps reached\)"),
    ("retro.examples.random_agent", ["--game", "Pong-Atari2600", "--max-steps", "200", "-q"],
     r"done! total reward: time=200, reward=-?[\d.]+ \(stopped: --max-steps reached\)"),
    ("retro.examples.discretizer", [], r"played 100 steps of random AirstrikerDiscretizer actions, total reward -?[\d.]+"),
    ("retro.examples.interactive", ["--frames", "60"], r"played 60 frames of Airstriker-Genesis"),
])
def test_examples_run(module, args, last, monkeypatch, capsys, tmp_path):
    """Each example ends by itself and says what it did in its last line."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [module, *args])
    monkeypatch.delitem(sys.modules, module, raising=False)  # run as a script, even where another test imported it
    try:
        runpy.run_module(module, run_name="__main__")
    except SystemExit as e:  # the ones behind a console command exit with its status
        assert e.code == 0
    out = capsys.readouterr().out
    assert re.fullmatch(last, out.splitlines()[-1]), out
    if module.endswith("discretizer"):
        assert "Discrete(126)" in out and "Discrete(7)" in out


def test_resets_do_not_leak_core_copies():
    """Where Stella's restores reload the core (builds other than the pinned one), every
    reset loads a fresh copy: old copies must be unloaded, not kept."""
    def rss_mb() -> float:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024
        return 0.0

    from retro.profiles.restore import ReloadWithSpare

    env = retro.make("Pong-Atari2600")
    env.em._use_restore_policy(ReloadWithSpare())
    env.reset()
    before = rss_mb()
    for _ in range(100):
        env.reset()
        env.step(env.action_space.sample())
    grown = rss_mb() - before
    env.close()
    assert grown < 80, f"RSS grew {grown:.0f} MB over 100 resets (a core copy is ~4 MB)"


def test_pong_player_two_turns_its_paddle():
    """Both Pong paddles hang off port 0; the retro variant routes player 2's UP/DOWN to port 0's LEFT/RIGHT."""
    def run(player):
        env = retro.make("Pong-Atari2600", players=2, scenario="retro")
        env.reset()
        action = np.zeros(16, np.int8)
        if player is not None:
            action[player * 8 + env.buttons.index("DOWN")] = 1
        for _ in range(60):
            env.step(action)
        ram = env.get_ram()
        env.close()
        return ram

    idle, second = run(None), run(1)
    assert second[0x3B] != idle[0x3B], "player 2's paddle position moved"

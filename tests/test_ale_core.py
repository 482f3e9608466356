"""The ALE core: the ALE's Atari 2600 emulator behind retro's libretro shim.

Checked against ale-py's own ``ALEInterface`` (the same emulator, driven by
the ALE's environment layer): from power-on, the ALE's reset sequence played
as joypad input gives the ALE's picture and RAM, and then 1,000 random frames
of the ALE's 18 actions give the same picture, RAM, reward and game over,
frame for frame. Then the core's own promises: states round-trip and replay,
two emulators in a process are independent, Stella states are refused with a
clear error, start states come from the integrations' recipes, switches,
paddles and audio work, and it runs on worker threads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import retro
import retro.data as rdata
from retro import paths
from retro.data.recipes import recipes
from retro.movie import Movie
from retro.start_states import state_from_recipe
from retro.vector import RetroVectorEnv
from tests.integration_helpers import load_state_bytes

ale_py = pytest.importorskip("ale_py")  # the test extra installs it

REPO = Path(__file__).resolve().parent.parent
STABLE = REPO / "integrations" / "stable"
FIRE, SELECT, RESET, UP, DOWN, LEFT, RIGHT, L, R = 0, 2, 3, 4, 5, 6, 7, 10, 11

#: game -> (ALE ROM name, RESET frames in the ALE's reset, the ALE's starting actions).
#: The ALE resets with 60 frames of nothing and RESET for 4 frames, then the
#: game's mode is set (games that override it press RESET 4 more frames; the
#: default mode needs no SELECT), RESET 4 frames again, then the game's
#: starting actions (src/ale/environment/stella_environment.cpp, games/supported).
ALE_RESETS: dict[str, tuple[str, int, tuple[int, ...]]] = {
    "Pong-Atari2600": ("pong", 12, ()),
    "Breakout-Atari2600": ("breakout", 12, ()),  # paddles
    "Seaquest-Atari2600": ("seaquest", 8, ()),
    "SpaceInvaders-Atari2600": ("space_invaders", 12, ()),
    "Enduro-Atari2600": ("enduro", 8, (1,)),  # FIRE
    "BeamRider-Atari2600": ("beam_rider", 8, (3,)),  # RIGHT
}


def ale_mask(action: int) -> int:
    """The joypad buttons of one of the ALE's 18 actions."""
    name = ale_py.Action(action).name
    return ((1 << FIRE if "FIRE" in name else 0) | (1 << UP if "UP" in name else 0)
            | (1 << DOWN if "DOWN" in name else 0) | (1 << LEFT if "LEFT" in name else 0)
            | (1 << RIGHT if "RIGHT" in name else 0))


def rom(name: str) -> Path:
    path = paths.roms_dir() / "ale-py" / f"{name}.a26"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `bash scripts/setup.sh`")
    return path


def make_ale(path: Path) -> object:
    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)
    ale = ale_py.ALEInterface()
    ale.setFloat("repeat_action_probability", 0.0)  # no sticky actions: the ALE does what it is told
    ale.setInt("random_seed", 0)
    ale.loadROM(str(path))
    return ale


def ale_core(path: Path, **kwargs: object) -> retro.RetroEmulator:
    return retro.RetroEmulator(path, core="ale", **kwargs)  # type: ignore[arg-type]


def ale_reset_sequence(em: retro.RetroEmulator, resets: int = 12) -> None:
    """Power on, then what the ALE's reset does: 60 idle frames and RESET held for ``resets`` frames."""
    em.reset()
    em.step(60)
    em.set_button_mask(1 << RESET)
    em.step(resets)


@pytest.fixture(scope="module", autouse=True)
def provisioned() -> None:
    if retro.cores.find_core("ale") is None:
        pytest.fail("the ALE core is not built: run `python3 -m retro.provision` (bash scripts/setup.sh)")


@pytest.mark.parametrize("game", sorted(ALE_RESETS))
def test_same_as_the_ale_from_power_on(game: str) -> None:
    name, resets, starting = ALE_RESETS[game]
    path = rom(name)
    ale = make_ale(path)
    with ale_core(path) as em:
        ale_reset_sequence(em, resets)  # the ALE's reset starts with the system's own reset
        for action in starting:
            em.set_button_mask(ale_mask(action))
            em.step()
        assert np.array_equal(em.get_screen(), ale.getScreenRGB())
        assert np.array_equal(em.get_ram(), ale.getRAM())

        data = rdata.GameData(game, data="retro", scenario="retro", inttype=rdata.Integrations.ALL)
        data.configure(em)
        data.reset()
        data.update_ram()
        actions = ale.getLegalActionSet()
        rng = np.random.default_rng(len(game))
        total = 0.0
        for frame in range(1000):
            action = actions[int(rng.integers(len(actions)))]
            reward = ale.act(action)
            em.set_button_mask(ale_mask(action.value))
            em.step()
            data.update_ram()
            assert np.array_equal(em.get_screen(), ale.getScreenRGB()), f"frame {frame}: pictures differ"
            assert np.array_equal(em.get_ram(), ale.getRAM()), f"frame {frame}: RAM differs"
            assert data.current_reward() == reward, f"frame {frame}: reward {data.current_reward()}, the ALE's {reward}"
            assert data.is_done() == ale.game_over(), f"frame {frame}"
            total += reward
            if ale.game_over():
                break
        assert data.total_reward() == total


def test_difficulty_switches_as_the_ale() -> None:
    """Holding L and R sets the difficulty switches to A, as the ALE's difficulty 3 does (Pong's bat widths)."""
    path = rom("pong")
    ale = make_ale(path)
    with ale_core(path) as em:
        ale_reset_sequence(em)
        ale.setDifficulty(3)
        rng = np.random.default_rng(5)
        widths = set()
        for _ in range(300):
            action = int(rng.integers(6))
            ale.act(ale_py.Action(action))
            em.set_button_mask(ale_mask(action) | 1 << L | 1 << R)
            em.step()
            assert np.array_equal(em.get_screen(), ale.getScreenRGB())
            widths.add(tuple(em.get_screen()[:, 140, 0].tolist()))
    with ale_core(path) as em:
        ale_reset_sequence(em)
        em.set_button_mask(0)
        em.step(300)
        default_picture = em.get_screen()
    assert not np.array_equal(default_picture, ale.getScreenRGB())


def test_select_switch_changes_the_game() -> None:
    with ale_core(rom("pong")) as em:
        ram = em.memory_blocks()[0x80]
        em.step(30)
        mode = int(ram[0x96 - 0x80])
        em.set_button_mask(1 << SELECT)
        em.step(5)
        em.set_button_mask(0)
        em.step(20)
        assert int(ram[0x96 - 0x80]) != mode  # Pong's game number


def test_picture_ram_and_timing() -> None:
    with ale_core(rom("pong")) as em:
        assert em.get_resolution() == (160, 210)
        assert em.pixel_format == "XRGB8888"
        assert em.get_screen_rate() == 60.0
        assert list(em.memory_blocks()) == [0x80] and len(em.memory_blocks()[0x80]) == 128
        em.step()
        assert em.get_audio().shape[0] == 0  # audio only when asked
        em.memory_blocks()[0x80][0x8E - 0x80] = 77  # RAM is the emulator's own: writes land in it
        state = em.get_state()
    with ale_core(rom("pong")) as other:
        other.set_state(state)
        assert int(other.get_ram()[0x8E - 0x80]) == 77
    with retro.RetroEmulator(rom("pong")) as stella:  # the same picture shape as the stella core's
        stella.step()
        assert stella.get_screen().shape == (210, 160, 3)


def test_audio_when_asked() -> None:
    with ale_core(rom("pong"), options={"ale_audio": "enabled"}) as em:
        assert em.get_audio_rate() == 31400.0
        em.set_button_mask(1 << RESET)
        em.step(5)
        em.set_button_mask(0)
        heard = []
        for _ in range(600):
            em.step()
            audio = em.get_audio()
            assert audio.shape == (512, 2)
            heard.append(int(np.abs(audio.astype(np.int32)).max()))
        assert max(heard) > 0  # the ball's blips


def _play(em: retro.RetroEmulator, masks: list[int]) -> list[tuple[bytes, bytes]]:
    out = []
    for m in masks:
        em.set_button_mask(m)
        em.step()
        out.append((em.get_screen().tobytes(), em.get_ram().tobytes()))
    return out


@pytest.mark.parametrize("name", ["pong", "breakout", "pitfall"])  # paddles; a bank-switched cartridge
def test_state_round_trip(name: str) -> None:
    rng = np.random.default_rng(1)
    masks = [int(x) & 0xF1 for x in rng.integers(0, 256, size=400)]
    with ale_core(rom(name)) as em:
        em.set_button_mask(1 << RESET)
        em.step(10)
        _play(em, masks[:100])
        state = em.get_state()
        first = _play(em, masks[100:])
        em.set_state(state)
        assert em.get_state() == state
        assert _play(em, masks[100:]) == first
    with ale_core(rom(name)) as other:  # a fresh emulator continues the same from the state
        other.set_state(state)
        assert _play(other, masks[100:]) == first


def test_two_emulators_in_one_process_are_independent() -> None:
    rng = np.random.default_rng(2)
    a_masks = [int(x) & 0xF1 for x in rng.integers(0, 256, size=300)]
    b_masks = [int(x) & 0xF1 for x in rng.integers(0, 256, size=300)]
    with ale_core(rom("seaquest")) as a:
        alone_a = _play(a, a_masks)
    with ale_core(rom("breakout")) as b:
        alone_b = _play(b, b_masks)
    with ale_core(rom("seaquest")) as a, ale_core(rom("breakout")) as b:
        together_a, together_b = [], []
        for ma, mb in zip(a_masks, b_masks):
            together_a += _play(a, [ma])
            together_b += _play(b, [mb])
    assert together_a == alone_a and together_b == alone_b
    with ale_core(rom("seaquest")) as a, ale_core(rom("seaquest")) as b:  # on worker threads
        pool = retro.StepPool(2)
        for ma, mb in zip(a_masks[:100], b_masks[:100]):
            a.set_button_mask(ma)
            b.set_button_mask(mb)
            pool.step([a, b])
        pool.close()
        with ale_core(rom("seaquest")) as c:
            _play(c, a_masks[:100])
            assert np.array_equal(c.get_ram(), a.get_ram()) and np.array_equal(c.get_screen(), a.get_screen())


def test_record_replay_is_bit_exact(tmp_path: Path) -> None:
    env = retro.make("Breakout-Atari2600", scenario="retro", core="ale", record=str(tmp_path))
    obs = env.reset()  # a restart plays one frame, which the movie records
    played = [(obs.tobytes(), env.get_ram().tobytes())]
    rng = np.random.default_rng(3)
    for _ in range(300):
        obs, _rew, done, _info = env.step(rng.integers(0, 2, size=env.action_space.n))
        played.append((obs.tobytes(), env.get_ram().tobytes()))
        if done:
            break
    env.close()
    [path] = sorted(tmp_path.glob("*.bk2"))
    movie = Movie(path)
    with ale_core(rom("breakout")) as em:
        em.set_state(movie.get_state())
        replay = []
        while movie.step():
            em.set_button_mask(movie.masks()[0])
            em.step()
            replay.append((em.get_screen().tobytes(), em.get_ram().tobytes()))
    assert replay == played


def test_a_vector_env_recording_with_frame_skip_replays_bit_exactly(tmp_path: Path) -> None:
    """Every env records while frame skip and preprocessing run in C: each step's frames are in its movie."""
    venv = RetroVectorEnv("Breakout-Atari2600", 2, scenario="retro", core="ale", frameskip=4, max_pool=True,
                          grayscale=True, resize=(84, 84), record=str(tmp_path))
    venv.reset(seed=0)
    rams: list[list[bytes]] = [[env.get_ram().tobytes()] for env in venv.envs]  # after the restart's frame
    done = [False, False]
    rng = np.random.default_rng(5)
    for _ in range(60):
        _obs, _rew, term, trunc, _info = venv.step(rng.integers(0, 2, size=(2, 8)))
        for i, env in enumerate(venv.envs):
            done[i] = done[i] or bool(term[i] or trunc[i])
            if not done[i]:
                rams[i].append(env.get_ram().tobytes())
    venv.close()
    for i in range(2):
        [path] = sorted(tmp_path.glob(f"*-env{i}-*.bk2"))[:1]
        movie = Movie(path)
        with ale_core(rom("breakout")) as em:
            em.set_state(movie.get_state())
            replay = []
            while movie.step():
                em.set_button_mask(movie.masks()[0])
                em.step()
                replay.append(em.get_ram().tobytes())
        assert [replay[4 * k] for k in range(len(rams[i]))] == rams[i]


def test_stella_states_are_refused_clearly() -> None:
    stella_state = load_state_bytes(paths.library_dir() / "stable" / "Pong-Atari2600-v0" / "Start.state")
    with ale_core(rom("pong")) as em:
        before = em.get_state()
        with pytest.raises(retro.StateError, match="stella core"):
            em.set_state(stella_state)
        with pytest.raises(retro.StateError):
            em.set_state(before[:-1] + bytes([before[-1] ^ 1]) if before[-1] else before[:100] + b"x" + before[101:])
        assert em.get_state() == before  # refused states change nothing
    with retro.RetroEmulator(rom("pong")) as stella, pytest.raises(retro.StateError):
        stella.set_state(before)  # and the other way round
    # stable-retro's integration carries Stella states only, with no recipe for the ALE core
    with pytest.raises(retro.StateError, match="no recipe") as refused:
        retro.make("Pong-Atari2600", core="ale")
    # the error names the calls that work, and they do
    message = str(refused.value)
    calls = ["retro.make('Pong-Atari2600', scenario='retro', core='ale')",
             "retro.make('Pong-Atari2600', state=retro.State.NONE, core='ale')"]
    assert all(call in message for call in calls)
    for call in calls:
        env = eval(call, {"retro": retro})
        try:
            assert env.em.core.name == "ale" and env.reset().shape == (210, 160, 3)
        finally:
            env.close()
    # a game with no variant of this project's is told only of power-on
    with pytest.raises(retro.StateError) as refused:
        retro.make("Alien-Atari2600", core="ale")
    assert "scenario='retro'" not in str(refused.value)
    assert "retro.make('Alien-Atari2600', state=retro.State.NONE, core='ale')" in str(refused.value)


def test_start_states_come_from_the_recipes() -> None:
    env = retro.make("Pong-Atari2600", scenario="retro", core="ale")
    try:
        env.reset()
        presses, frames = recipes(STABLE / "Pong-Atari2600")["retro.Start"]
        made = state_from_recipe(str(rom("pong")), str(retro.cores.find_core("ale").path), presses, frames)
        assert env.session.initial_state == made
        assert env.session.data.lookup_all() == {"score": 0, "opponent_score": 0}
    finally:
        env.close()
    venv = RetroVectorEnv("Pong-Atari2600", 2, scenario="retro", core="ale", frameskip=4,
                          max_pool=True, grayscale=True, resize=(84, 84))
    try:
        obs, _ = venv.reset(seed=0)
        assert obs.shape == (2, 84, 84)
        for _ in range(20):
            obs, rew, term, trunc, _ = venv.step(venv.action_space.sample())
        assert obs.shape == (2, 84, 84)
    finally:
        venv.close()


def test_listed_as_an_atari_core(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [r for r in retro.cores.table() if r["system"] == "Atari2600"]
    assert [(r["core"], r["role"]) for r in rows] == [("stella", "default"), ("ale", "alternate")]
    retro.cores.main()
    assert "ale" in capsys.readouterr().out


@pytest.mark.parametrize("core", ["stella", "ale"])
def test_pong_two_players_each_turn_their_own_paddle(core: str) -> None:
    """Pong's 2-player variant on either core: a player's presses never turn the other's paddle,
    and the core's turning button turns the player's own (on the ALE core player 2's UP/DOWN
    turned player 1's paddle, through input routes meant for the stella core).

    The stella core reads both paddles from port 0 (player 2's through the
    variant's input routes for that core); the ALE core reads paddle p from
    port p's LEFT/RIGHT, as the ALE does, so player 2's presses stay on port 1.
    """
    paddles = (0xB3 - 0x80, 0xBB - 0x80)  # players 1 and 2's paddle positions in RAM
    env = retro.make("Pong-Atari2600", scenario="retro", players=2, core=core)
    try:
        env.reset()
        nb = env.num_buttons
        turn = "UP" if core == "stella" else "LEFT"  # what turns a paddle on this core
        # (on the stella core port 0's LEFT/RIGHT is player 2's knob itself, so only UP/DOWN are players')
        buttons = ("UP", "DOWN") if core == "stella" else ("UP", "DOWN", "LEFT", "RIGHT")
        idle = np.zeros(2 * nb, dtype=np.int8)
        for player in (1, 0):
            mine, theirs = paddles[player], paddles[1 - player]
            for button in buttons:
                before = env.em.get_ram().copy()
                action = idle.copy()
                action[player * nb + env.buttons.index(button)] = 1
                for _ in range(30):
                    env.step(action)
                for _ in range(30):  # the stella core's paddles settle a few frames after a press
                    env.step(idle)
                after = env.em.get_ram()
                assert after[theirs] == before[theirs], f"player {player + 1}'s {button} turned the other paddle"
                if button == turn:
                    assert after[mine] != before[mine], f"player {player + 1}'s {button} did not turn their paddle"
    finally:
        env.close()


def test_playback_renders_a_movie_of_the_ale_core_with_its_audio(tmp_path: Path) -> None:
    """playback_movie plays a movie made on the ALE core on that core (its start state says so) and asks
    the core for audio, so the rendered video has the game's sound, not silence."""
    import subprocess

    from retro.scripts import playback_movie

    env = retro.make("Pong-Atari2600", scenario="retro", core="ale", record=str(tmp_path))
    env.reset()
    idle = np.zeros(env.action_space.n, dtype=np.int8)
    for _ in range(400):  # the ball is served and bounces: blips
        env.step(idle)
    env.close()
    (path,) = tmp_path.glob("*.bk2")
    assert retro.emulator.core_for_state(Movie(path).get_state()) == "ale"
    assert playback_movie.main([str(path)]) == 0
    video = path.with_suffix(".mp4")
    probe = subprocess.run([playback_movie.ffmpeg_exe(), "-hide_banner", "-i", str(video)],
                           capture_output=True, text=True).stderr
    assert "Video: h264" in probe and "160x210" in probe and "Audio: aac" in probe
    pcm = subprocess.run([playback_movie.ffmpeg_exe(), "-loglevel", "error", "-i", str(video), "-map", "0:a:0",
                          "-f", "s16le", "-ac", "1", "-"], capture_output=True, check=True).stdout
    samples = np.frombuffer(pcm, dtype="<i2")
    assert len(samples) > 31400 * 5  # the movie's 400 frames of sound
    assert int(np.abs(samples.astype(np.int32)).max()) > 1000, "the rendered audio is silent"

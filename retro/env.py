"""``RetroEnv`` and ``retro.make``: Gym Retro's environment API on retro's emulator.

By default the environment speaks Gym Retro's classic API: ``reset()``
returns the observation and ``step()`` returns ``(obs, reward, done, info)``.
With ``api="gymnasium"`` (and through Gymnasium's registry,
``gymnasium.make("retro/Airstriker-Genesis-v0")``) it speaks Gymnasium's:
``reset(seed=, options=)`` returns ``(obs, info)`` and ``step()`` returns
``(obs, reward, terminated, truncated, info)``.

What Gym Retro got wrong is fixed, not copied: with ``State.NONE`` the
first episode starts from power-on exactly as stable-retro's does, and
every later reset really power-cycles the game, so each episode starts as
the first (``power_cycle_on_reset=False`` keeps Gym Retro's and
stable-retro's reset, which lets the game run on); MULTI_DISCRETE works with several players;
``record=None`` does not record; ``players`` is checked against the core's
ports; bad actions raise ``InvalidActionError`` naming the action space.
"""

from __future__ import annotations

import os
from typing import Any, Iterator, Mapping

import gymnasium
import numpy as np

from retro import data as retro_data
from retro.ale import (ALEView, action_name, action_set, ale_minimal_action_names, check_frameskip,
                       check_repeat_action_probability)
from retro.enums import Actions, Observations, State
from retro.errors import ConfigurationError, GameNotFoundError, ResetNeededError
from retro.policy import GYM_RETRO, ApiPolicy
from retro.session import GameSession, read_state_file, resolve_game, restore_sessions
from retro.snapshot import Snapshot
from retro.emulator import StepPool
from retro.step import ObservationSpec, StepPlan, play

__all__ = ["RetroEnv", "make", "make_for_movie", "resolve_game", "read_state_file"]

_APIS = ("classic", "gymnasium")
_UNSET: Any = object()  # an argument not given
_RENDER_MODES = (None, "human", "rgb_array")


def make(game: str, state: State | str | None = State.DEFAULT, inttype: Any = None, *,
         env_class: type["RetroEnv"] | None = None, **kwargs: Any) -> "RetroEnv":
    """Create a ``RetroEnv`` for ``game`` (Gym Retro's ``retro.make``).

    Args:
        game: the game id, ``<Game>-<System>`` (``"Airstriker-Genesis"``), or
            stable-retro's spelling with ``-v0``; ``retro list`` shows them.
        state: the start state: ``State.DEFAULT`` (the game's default),
            ``State.NONE`` (power on), or a state's name or path.
        inttype: which integrations are searched (``retro.data.Integrations``;
            default: the process default, stable ones).
        env_class: the class to make (a :class:`RetroEnv`, the default, or
            ``stable_retro.RetroEnv``, which ``stable_retro.make`` passes).
        **kwargs: the other arguments of :class:`RetroEnv`: ``scenario``,
            ``record``, ``players``, ``use_restricted_actions``, ``obs_type``,
            ``api="gymnasium"``, ``core="ale"``, ``frameskip``, ...

    Returns:
        The environment, speaking Gym Retro's classic API unless ``api="gymnasium"``.

    Raises:
        GameNotFoundError: (a ``FileNotFoundError``) the game is unknown (with
            "did you mean") or only its ROM is missing (with how to import it).
        RomMismatchError: the ROM is not the dump the integration was made for
            (``check_rom_hash=False`` skips that check).

    Example:
        ```python
        env = retro.make("Airstriker-Genesis", record=".")
        obs = env.reset()
        obs, rew, done, info = env.step(env.action_space.sample())
        ```
    """
    inttype = retro_data.Integrations.DEFAULT if inttype is None else inttype
    name = resolve_game(game, inttype)
    try:
        retro_data.get_romfile_path(name, inttype)
    except FileNotFoundError as e:
        if retro_data.get_file_path(name, "rom.sha", inttype) is None:
            close = similar_games(game)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise GameNotFoundError(
                f"No romfiles found for game: {game}. It is not a known game; {hint}"
                f"`retro list` shows the games there are") from e
        raise GameNotFoundError(
            f"Game not found: {game}. Did you make sure to import the ROM? "
            f"Run `retro import PATH` on a folder or zip holding it") from e
    return (env_class or RetroEnv)(name, state, inttype=inttype, **kwargs)


def as_classic(result: tuple[Any, ...]) -> tuple[Any, Any, bool, Any]:
    """``(obs, reward, done, info)`` of a step result of either API (Gymnasium's 5-tuple or the classic 4-tuple)."""
    if len(result) == 5:
        obs, rew, terminated, truncated, info = result
        return obs, rew, bool(terminated or truncated), info
    obs, rew, done, info = result
    return obs, rew, bool(done), info


def similar_games(game: str, n: int = 3) -> list[str]:
    """Known game ids spelled like ``game`` (for "did you mean"), closest first."""
    import difflib

    games = retro_data.list_games(retro_data.Integrations.ALL)
    base = game[:-3] if game.endswith("-v0") else game
    by_lower = {g.lower(): g for g in games}
    if base.lower() in by_lower:
        return [by_lower[base.lower()]]
    # a game named without its system ("Pong"): the games of that name on every system
    named = [g for g in games if g.rsplit("-", 1)[0].lower() == base.lower()]
    return named[:n] or difflib.get_close_matches(base, games, n=n, cutoff=0.6)


def _delegate(name: str, doc: str, settable: bool = False) -> Any:
    """A property of ``RetroEnv`` that is its session's attribute (Gym Retro's name for it)."""
    def get(self: "RetroEnv") -> Any:
        return getattr(self.session, name)

    def set(self: "RetroEnv", value: Any) -> None:
        setattr(self.session, name, value)

    return property(get, set if settable else None, doc=doc)


class RetroEnv(gymnasium.Env):
    """A game as an environment: one ``step`` plays one frame.

    Args follow Gym Retro: ``game``, ``state`` (``State.DEFAULT``,
    ``State.NONE``, or a state name or path), ``scenario`` and ``info`` (a
    name in the game's folder or a path ending in ``.json``),
    ``use_restricted_actions`` (an ``Actions``), ``record``, ``players``,
    ``inttype``, ``obs_type`` (an ``Observations``), ``render_mode``
    (None, ``"rgb_array"`` or ``"human"``); plus ``api`` (``"classic"`` or
    ``"gymnasium"``), ``core`` (a core name or path, for an alternate core)
    and ``check_rom_hash`` (default True: refuse a ROM whose SHA-1 the
    integration's ``rom.sha`` does not list).

    From power-on (``State.NONE``, or a game without a default state) the
    first ``reset()`` gives stable-retro's first observation: the emulator
    has played its first frame and the frame the env plays when it is made,
    and ``reset()`` plays one more. Later resets power the game on again and
    play the same frames, so every episode starts as the first
    (``power_cycle_on_reset``: True by default under ``import retro``, False
    under ``import stable_retro``, from :attr:`policy`); ``power_cycle_on_reset=False``
    resets as Gym Retro and stable-retro do, releasing the buttons and
    playing one frame while the game runs on.

    ALE's arguments, on every system (see :mod:`retro.ale`): ``frameskip``
    (an int, or ``(low, high)`` drawn per step), ``repeat_action_probability``
    (sticky actions), ``core_options`` (core option values, as
    ``RetroEmulator(options=...)`` takes them), ``full_action_space`` (True/False: a Discrete action
    space named by :meth:`get_action_meanings`; None keeps Gym Retro's) and
    ``obs_type`` as ``"rgb"``, ``"grayscale"`` or ``"ram"``. ``env.ale`` is
    the part of ale-py's ``ALEInterface`` ALE-style wrappers use (``lives()``
    from the integration's ``lives`` variable). Envs pickle as their
    arguments plus their current state (:meth:`snapshot`).

    A scenario file may carry what a variant of a game needs besides its
    rewards: ``info`` (variables, used when ``info=`` is not given),
    ``input_routes``, ``default_state`` and ``default_player_state``; these
    take the place of ``data.json``'s and ``metadata.json``'s. ROMs are
    checked against the ``rom.sha`` beside the scenario file in use, else
    the game's. This project's own integrations of games in stable-retro's
    library are such variants, named ``retro`` (``scenario="retro"``).

    The game itself is a :class:`retro.session.GameSession` (``env.session``);
    this class adapts it to Gym Retro's and Gymnasium's APIs.
    """

    metadata = {
        "render_modes": ["human", "rgb_array"],
        "render_fps": 60,
        "render.modes": ["human", "rgb_array"],
        "video.frames_per_second": 60.0,
    }

    #: Gym Retro's or stable-retro's conventions where they differ (:mod:`retro.policy`): defaults of ``api``,
    #: ``render_mode``, ``multi_rewards`` and ``power_cycle_on_reset``, and how the emulator answers a bad state.
    policy: ApiPolicy = GYM_RETRO

    em = _delegate("em", "The emulator (``retro.RetroEmulator``).")
    data = _delegate("data", "The game's variables and scenario (``retro.data.GameData``).")
    gamename = _delegate("gamename", "The game id.")
    system = _delegate("system", "The system name.")
    inttype = _delegate("inttype", "Which integrations are searched.")
    players = _delegate("players", "How many players act.")
    buttons = _delegate("buttons", "The system's button names, by joypad bit.")
    num_buttons = _delegate("num_buttons", "How many buttons a player has.")
    button_combos = _delegate("button_combos", "The scenario's (or system's) combo groups.")
    use_restricted_actions = _delegate("use_restricted_actions", "The action space's kind (``retro.Actions``).")
    statename = _delegate("statename", "The start state's file name, or None.", settable=True)
    initial_state = _delegate("initial_state", "The start state's bytes, or None (settable).", settable=True)
    movie = _delegate("movie", "The movie being recorded, or None.", settable=True)
    movie_path = _delegate("movie_path", "Where episodes are recorded, or None.", settable=True)
    movie_id = _delegate("movie_id", "The number of the next auto-recorded movie.", settable=True)
    power_cycle_on_reset = _delegate(
        "power_cycle_on_reset", "Whether a reset after the first, from power-on, power-cycles the game "
        "(True) or lets it run on as stable-retro's does (False); the default is the policy's (settable).",
        settable=True)

    def __init__(
        self,
        game: str,
        state: State | str | None = State.DEFAULT,
        scenario: str | None = None,
        info: str | None = None,
        use_restricted_actions: Actions = Actions.FILTERED,
        record: bool | str | os.PathLike[str] = False,
        players: int = 1,
        inttype: Any = None,
        obs_type: Observations | str = Observations.IMAGE,
        render_mode: str | None = None,
        api: str | None = None,
        core: str | None = None,
        check_rom_hash: bool = True,
        frameskip: int | tuple[int, int] = 1,
        repeat_action_probability: float = 0.0,
        full_action_space: bool | None = None,
        core_options: Mapping[str, str] | None = None,
        power_cycle_on_reset: bool | None = None,
    ) -> None:
        self._init_args: dict[str, Any] = dict(
            game=game, state=state, scenario=scenario, info=info, use_restricted_actions=use_restricted_actions,
            record=False, players=players, inttype=inttype, obs_type=obs_type, render_mode=render_mode, api=api,
            core=core, check_rom_hash=check_rom_hash, frameskip=frameskip,
            repeat_action_probability=repeat_action_probability, full_action_space=full_action_space,
            core_options=core_options, power_cycle_on_reset=power_cycle_on_reset)
        spec = ObservationSpec.named(obs_type)
        self._frameskip = check_frameskip(frameskip)
        self._repeat_p = check_repeat_action_probability(repeat_action_probability)
        if full_action_space is not None and use_restricted_actions not in (Actions.FILTERED, Actions.DISCRETE):
            raise ConfigurationError(
                f"full_action_space gives ALE's Discrete action set; it cannot be combined with "
                f"use_restricted_actions={use_restricted_actions!r}")
        policy = self.policy
        api = policy.api if api is None else api
        power_cycle_on_reset = policy.power_cycle_on_reset if power_cycle_on_reset is None else power_cycle_on_reset
        if api not in _APIS:
            raise ConfigurationError(f"api must be one of {_APIS}, got {api!r}")
        if render_mode not in _RENDER_MODES:
            raise ConfigurationError(f"render_mode must be one of {_RENDER_MODES}, got {render_mode!r}")
        self._headless = False
        if render_mode == "human":
            from retro.rendering import warn_no_display

            self._headless = warn_no_display()  # no display: one warning, then play on showing nothing
        self.api = api
        self.render_mode = render_mode
        #: With several players: True gives a reward per player (a list), False player 1's (stable-retro's default).
        self.multi_rewards = policy.multi_rewards
        self.img: np.ndarray | None = None
        self.ram: np.ndarray | None = None
        self.viewer: Any = None
        self.session = GameSession(game, state, scenario, info, use_restricted_actions, players, inttype,
                                   spec.kind, core, check_rom_hash, core_options, power_cycle_on_reset)
        self.session.em.policy = policy  # a refused state: StateError, or stable-retro's False
        self._action_names: list[str] | None = None
        if full_action_space is not None:
            self._use_ale_actions(bool(full_action_space))
        self.ale = ALEView(self.session)
        self.action_space = self.session.action_space
        frames = self._frameskip if isinstance(self._frameskip, int) else 1
        #: What a step plays: ``frameskip`` frames (drawn per step when stochastic), then the observation.
        self.plan = StepPlan(frames, spec)
        self._new_observation = spec.maker(self.session)
        self.observation_space = spec.space(self.session)
        self._seed_rngs(None)
        if record is True:
            self.auto_record()
        elif record is not False and record is not None:
            self.auto_record(os.fspath(record))
        self._needs_reset = True
        self._episode_steps = 0

    # -- actions ----------------------------------------------------------------

    def _use_ale_actions(self, full: bool) -> None:
        """ALE's Discrete action set: every combination of the system's groups (``full``), else the game's
        minimal set (ALE's own for an Atari ROM ALE knows, the game's combo groups otherwise)."""
        session = self.session
        if full:
            actions = action_set(session.data.system_action_groups(), self.buttons)
        else:
            actions = action_set(session.data.action_groups(), self.buttons)
            if self.system == "Atari2600":
                names = ale_minimal_action_names(session.em.rom_path)
                if names is not None:
                    by_name = dict(action_set(session.data.system_action_groups(), self.buttons))
                    actions = [(name, by_name[name]) for name in names]
        session.use_action_set([mask for _name, mask in actions])
        self._action_names = [name for name, _mask in actions]

    def get_action_meanings(self) -> list[str]:
        """ALE's names of the actions of a ``Discrete`` action space (``full_action_space``, or ``Actions.DISCRETE``).

        With several players an action's name is the players' names joined by ``|``.
        """
        masks = self.session.action_masks
        if masks is None:
            raise ConfigurationError(
                "get_action_meanings() needs a Discrete action space: pass full_action_space=False (or True) "
                "for ALE's action set, or use_restricted_actions=retro.Actions.DISCRETE")
        names = self._action_names or [action_name(m, self.buttons) for m in masks]
        if self.players == 1:
            return list(names)
        out = []
        for a in range(len(names) ** self.players):
            parts = []
            for _ in range(self.players):
                parts.append(names[a % len(names)])
                a //= len(names)
            out.append("|".join(parts))
        return out

    def action_to_array(self, a: Any) -> list[np.ndarray]:
        """Per player, the buttons an action presses, as uint8 arrays (Gym Retro's)."""
        return [((m >> np.arange(self.num_buttons)) & 1).astype(np.uint8) for m in self.session.decode(a)]

    def get_action_meaning(self, act: Any) -> list[str] | list[list[str]]:
        """Button names an action presses: a list, or one list per player."""
        names = [[name for name in (self.buttons[i] for i in np.flatnonzero(bits)) if name]
                 for bits in self.action_to_array(act)]
        return names[0] if self.players == 1 else names

    # -- stepping -----------------------------------------------------------------

    @property
    def needs_reset(self) -> bool:
        """True until ``reset()`` is called (``step`` raises ``ResetNeededError`` then)."""
        return self._needs_reset

    def step(self, a: Any) -> tuple[Any, ...]:
        """Play one step (``frameskip`` frames) with action ``a``.

        Returns ``(obs, reward, done, info)`` with the classic API, ``(obs, reward, terminated,
        truncated, info)`` with ``api="gymnasium"``; ``reward`` is a list with several players.
        Raises ``ResetNeededError`` before the first :meth:`reset` and ``InvalidActionError`` for
        an action outside the action space.
        """
        if self._needs_reset:
            raise ResetNeededError("Please call env.reset() before env.step()")
        session = self.session
        masks = session.decode(a)
        plan = self.plan
        if not isinstance(self._frameskip, int):
            plan = plan.with_frames(int(self.np_random.integers(*self._frameskip)))
        obs = self._new_observation()
        self._episode_steps += 1
        if self._repeat_p:
            rew, done, info = self._play_sticky(masks, plan, obs)
        else:
            session.press(masks)
            [(rew, done, info)] = play(plan, [session], [obs])
        self._keep(obs)
        if self.render_mode == "human":
            self.render()
        if not self.multi_rewards and self.players > 1:
            rew = rew[0]
        if self.api == "classic":
            return obs, rew, done, info
        return obs, rew, done, False, info

    def _play_sticky(self, masks: list[int], plan: StepPlan, obs: np.ndarray) -> tuple[Any, bool, dict[str, Any]]:
        """One agent step with sticky actions: ``(reward, done, info)``, the observation into ``obs``.

        As in ALE, each frame keeps the previous action with probability
        ``repeat_action_probability`` until the new one is taken; the game
        stops at the frame it is done.
        """
        session = self.session
        taken = np.flatnonzero(self._sticky_rng.random(plan.frames) >= self._repeat_p)
        sticky = int(taken[0]) if taken.size else plan.frames
        reward: Any = 0.0
        if sticky:
            if sticky == plan.frames:
                [(reward, done, info)] = play(plan, [session], [obs])
                return reward, done, info
            [(reward, done, info)] = play(plan.with_frames(sticky), [session])
            if done:
                plan.observation.observe(session, obs)
                return reward, done, info
        session.press(masks)
        [(rest, done, info)] = play(plan.with_frames(plan.frames - sticky), [session], [obs])
        if not sticky:
            return rest, done, info
        if isinstance(rest, list):
            return [a + b for a, b in zip(reward, rest)], done, info
        return reward + rest, done, info

    def _keep(self, obs: Any) -> None:
        """The observation's picture as ``img`` and its RAM as ``ram`` (Gym Retro's attributes)."""
        img, ram = self.plan.observation.parts(obs)
        if img is not None:
            self.img = img
        if ram is not None:
            self.ram = ram

    def _seed_rngs(self, seed: int | None) -> None:
        """Seed ``np_random`` (stochastic frame skips, no-op starts) and the sticky-action RNG as ale-py does:
        two words of ``numpy.random.SeedSequence(seed)``."""
        np_seed, sticky_seed = np.random.SeedSequence(seed).generate_state(n_words=2)
        self._np_random, _ = gymnasium.utils.seeding.np_random(int(np_seed))
        self._np_random_seed = seed if seed is not None else -1
        self._sticky_rng = np.random.default_rng(int(sticky_seed))

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        """Start an episode from the start state (from power-on with ``State.NONE``).

        From power-on the first reset plays on from the frames the new env
        played (stable-retro's first episode); later ones power-cycle the game
        first unless ``power_cycle_on_reset`` is False (see the class).

        Returns the observation with the classic API, ``(obs, info)`` with ``api="gymnasium"``.
        ``seed`` seeds ``np_random`` and the sticky-action RNG, as ale-py does.
        """
        if seed is not None:
            self._seed_rngs(seed)
        self.session.restart()
        self._needs_reset = False
        self._episode_steps = 0
        obs = self.plan.observation.observe(self.session)
        self._keep(obs)
        if self.render_mode == "human":
            self.render()
        if self.api == "classic":
            return obs
        return obs, self.data.lookup_all() if self.policy.reset_info else {}

    def compute_step(self) -> tuple[float | list[float], bool, dict[str, Any]]:
        """``(reward, done, info)`` of the frame just played."""
        rew, done, info = self.session.outcome()
        if not self.multi_rewards and self.players > 1:
            rew = rew[0]
        return rew, done, info

    # -- observations, memory, states ------------------------------------------------

    def get_screen(self, player: int = 0, apply_rotation: bool = False) -> np.ndarray:
        """The screen cropped by the scenario's crop for ``player`` (a copy).

        ``apply_rotation`` turns it as the core says its picture is turned
        (:meth:`retro.RetroEmulator.get_rotation`, quarter turns counter-clockwise;
        0 for every core provisioned here), as stable-retro does.
        """
        screen = self.session.screen(player)
        turns = self.em.get_rotation() % 4 if apply_rotation else 0
        return np.ascontiguousarray(np.rot90(screen, turns)) if turns else screen

    def get_ram(self) -> np.ndarray:
        """All RAM blocks concatenated in address order (raw bytes, a copy)."""
        return self.em.get_ram()

    def load_state(self, statename: str, inttype: Any = None) -> None:
        """Load a ``.state`` (the core's state, gzipped or raw) to start from at the next reset."""
        self.session.load_state(statename, inttype)

    def set_value(self, name: str, val: Any = _UNSET, *, value: Any = _UNSET) -> None:
        """Write a variable of ``data.json`` (or set a custom one): ``set_value(name, val)`` (``value=`` too)."""
        given = {k: v for k, v in (("val", val), ("value", value)) if v is not _UNSET}
        self.data.set_value(name, **given)

    # -- recording ---------------------------------------------------------------------

    def record_movie(self, path: str) -> None:
        """Record this env's inputs into a ``.bk2`` movie from now on."""
        self.session.record_movie(path)

    def stop_record(self) -> None:
        """Stop recording and close the movie."""
        self.session.stop_record()

    def auto_record(self, path: str | None = None) -> None:
        """Record every episode into ``path`` (default: the working directory)."""
        self.session.auto_record(path)

    # -- rendering and lifecycle ------------------------------------------------------

    def render(self) -> Any:
        """The current screen with ``render_mode="rgb_array"``; with ``"human"``, shows it in a window."""
        img = self.img if self.img is not None else self.get_screen()
        if self.render_mode == "rgb_array":
            return img
        if self.render_mode == "human":
            if self._headless:
                return None
            if self.viewer is None:
                from retro.rendering import SimpleImageViewer

                self.viewer = SimpleImageViewer(caption=self.gamename)
            self.viewer.imshow(img)
            return self.viewer.isopen
        return None

    # -- pickling ----------------------------------------------------------------------------

    @property
    def frameskip(self) -> int | tuple[int, int]:
        """Frames one step plays: an int, or ``(low, high)`` drawn per step from ``np_random`` (high exclusive)."""
        return self._frameskip

    @property
    def repeat_action_probability(self) -> float:
        """Probability that a frame keeps the previous action (sticky actions)."""
        return self._repeat_p

    @property
    def init_args(self) -> dict[str, Any]:
        """The constructor's arguments (``record`` as False: see :meth:`snapshot`)."""
        return dict(self._init_args)

    @property
    def episode_steps(self) -> int:
        """Agent steps played since the last :meth:`reset` (or restore)."""
        return self._episode_steps

    def snapshot(self) -> Snapshot:
        """Everything needed to continue this game identically (a :class:`retro.Snapshot`): the game
        (:meth:`GameSession.snapshot`) and this env's part, its random generators (frame skips, sticky
        actions), its episode step count and whether it needs a reset. :meth:`restore` continues it, in
        this env or another one built with the same arguments (:attr:`init_args`), in any process."""
        return self.session.snapshot().replace(
            needs_reset=self._needs_reset, episode_steps=self._episode_steps,
            rngs={"np_random": self.np_random.bit_generator.state, "np_random_seed": self._np_random_seed,
                  "sticky": self._sticky_rng.bit_generator.state})

    def restore(self, snapshot: Snapshot | Mapping[str, Any]) -> Any:
        """Continue from a :meth:`snapshot`; returns what :meth:`reset` returns (the observation, with
        the info under ``api="gymnasium"``), of the restored game.

        The game continues identically: the same actions give the same
        observations, rewards and infos as after the snapshot was taken. A
        movie being recorded ends here (its inputs would no longer replay to
        this game); with :meth:`auto_record` the next episode records anew.
        The dict an older retro pickled is taken too.
        """
        if isinstance(snapshot, Mapping):
            return self._restore_pickled(snapshot)
        restore_envs([self], [snapshot])
        return self._restored_observation()

    def _restored_observation(self) -> Any:
        obs = self.plan.observation.observe(self.session)
        self._keep(obs)
        if self.api == "classic":
            return obs
        return obs, self.data.lookup_all()

    def _restore_pickled(self, snapshot: Mapping[str, Any]) -> Any:
        """The dict form an older retro pickled: the game's state, its data, the env's RNGs and observation."""
        game = snapshot["session"]
        now = self.session.snapshot()
        restore_envs([self], [now.replace(
            state=game["emulator"], start_state=game["initial_state"], statename=game["statename"],
            power_on_reset=game["power_on_reset"], at_power_on=bool(game.get("at_power_on", False)),
            held=tuple(game["held"]), episode=game["data"], needs_reset=snapshot["needs_reset"], episode_steps=0,
            rngs={"np_random": snapshot["np_random"], "np_random_seed": snapshot["np_random_seed"],
                  "sticky": snapshot["sticky"]})])
        self.img, self.ram = snapshot["img"], snapshot["ram"]
        return None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled as the constructor's arguments plus :meth:`snapshot`.

        Unpickling builds a new env from those arguments and continues the
        episode identically: same observations, rewards and infos for the
        same actions (RNG states included). Recording stays with this env
        (a movie has one writer): the copy records only once told to
        (:meth:`auto_record`, :meth:`record_movie`).
        """
        return {"args": self._init_args, "snapshot": self.snapshot(), "img": self.img, "ram": self.ram}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["args"])  # type: ignore[misc]
        self.restore(state["snapshot"])
        if "img" in state:
            self.img, self.ram = state["img"], state["ram"]

    def close(self) -> None:
        """Stop recording, close any window and release the emulator."""
        if getattr(self, "viewer", None) is not None:
            self.viewer.close()
            self.viewer = None
        session = self.__dict__.get("session")
        if session is not None:
            session.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def restore_envs(envs: "list[RetroEnv]", snapshots: "list[Snapshot]", steps: StepPool | None = None) -> None:
    """Continue each env from its snapshot, the games' cores reading their states together on ``steps``
    (the vector env's branching; :meth:`RetroEnv.restore` for one env)."""
    restore_sessions([env.session for env in envs], snapshots, steps)
    for env, snapshot in zip(envs, snapshots):
        rngs = snapshot.parsed[1]
        env._needs_reset = snapshot.needs_reset
        env._episode_steps = snapshot.episode_steps
        if rngs:
            env.np_random.bit_generator.state = rngs["np_random"]
            env._np_random_seed = rngs["np_random_seed"]
            env._sticky_rng.bit_generator.state = rngs["sticky"]


def make_for_movie(movie: Any, *, audio: bool = False, **kwargs: Any) -> RetroEnv:
    """An env that replays ``movie`` (a :class:`retro.Movie`), not yet reset: its game, from its start state
    on the core that made it (the state says which), with every integration kind searched, all of the
    system's buttons and the movie's players. ``audio`` asks the core for its audio where it leaves it out
    by default (the ALE core); ``kwargs`` go to :func:`make`. The frames to play are ``movie.actions(env
    .num_buttons)``, each's console switches worked (``env.session.console``) before it is stepped."""
    from retro.data import Integrations
    from retro.emulator import audio_options, core_for_state

    state = movie.get_state() or None
    core = core_for_state(state) if state else None
    kwargs = {"inttype": Integrations.ALL, "use_restricted_actions": Actions.ALL, "players": movie.players,
              "core": core, **({"core_options": audio_options(core) or None} if audio else {}), **kwargs}
    env = make(movie.get_game(), state=State.NONE, **kwargs)
    try:
        env.initial_state = state
    except BaseException:
        env.close()
        raise
    return env


def movie_snapshots(path: str | os.PathLike[str], every: int = 1, **kwargs: Any) -> Iterator[Snapshot]:
    """Snapshots along a recorded movie: the game at its start and after every ``every`` frames of it.

    The movie's game is replayed from its start state on the core that made
    it (the state says which), as ``retro playback`` replays it;
    ``kwargs`` go to :func:`make` (``scenario``, ``obs_type``, ...), so the
    snapshots continue in an env made with the same arguments (for example
    as start states: ``RetroVectorEnv.reset(options={"snapshots": ...})``).
    """
    from retro.movie import Movie

    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ConfigurationError(f"every is a number of frames >= 1, got {every!r}")
    movie = Movie(path)
    try:
        if not movie.step():
            return
        env = make_for_movie(movie, **kwargs)
        try:
            env.reset()
            yield env.snapshot()
            for frame, (keys, switches) in enumerate(movie.actions(env.num_buttons), 1):
                if switches:
                    env.session.console(switches)  # power and reset, before the frame
                env.step(keys)
                if frame % every == 0:
                    yield env.snapshot()
        finally:
            env.close()
    finally:
        movie.close()

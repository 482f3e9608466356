"""A game session: one game being played, with everything that playing it takes.

:class:`GameSession` owns the emulator, the game's data (:class:`~retro.data.GameData`),
action decoding, input routes, the movie recorder and the observation. Its
surface is small: :meth:`~GameSession.decode` an action into button masks,
:meth:`~GameSession.press` them, :meth:`~GameSession.advance` one frame into a new
observation, :meth:`~GameSession.play` k frames, :meth:`~GameSession.observe` into an
array, :meth:`~GameSession.outcome`, :meth:`~GameSession.restart`. Every step,
of one session or of several whose emulators step together on a
:class:`~retro.StepPool`, is played by the step engine (:func:`retro.step.play`),
so every frame is evaluated and recorded the same way.

``RetroEnv`` is the Gym/Gymnasium adapter over one session; ``RetroVectorEnv``
and the ``Preprocessing`` wrapper compose sessions.

Observations: every observation handed out is a new array that the session
and its emulator never write or read again. The session decides once how
they are made: while the core shows a new picture every frame, the picture
is converted straight into the observation (no copy); a core that repeats a
frame ("dupes") or shows none makes the emulator keep the picture in its
own buffer from then on, and observations become copies of it, so a
repeated frame never comes from an array a user may have written into.
(Only a core's very first repeated frame can fall between: cores that dupe
do so from their first frames, which the session plays before handing out
any observation.) RAM observations are copies.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any, Mapping, Sequence, cast

import numpy as np
from gymnasium import spaces

from retro import data as retro_data
from retro.actions import discrete_table, filter_table, multi_discrete_table
from retro.data.integrations import GameFiles
from retro.data.recipes import recipes
from retro._fileutil import read_regular
from retro import step
from retro.emulator import RetroEmulator, StepPool, pack_buttons, restore_states
from retro.enums import Actions, Observations, State
from retro.errors import ConfigurationError, GameNotFoundError, IntegrationError, InvalidActionError, StateError
from retro.movie import Movie, MovieDigests
from retro.snapshot import Snapshot
from retro.start_states import state_from_recipe

__all__ = ["GameSession", "read_state_file", "resolve_game", "restore_sessions", "MAX_STATE_FILE_BYTES"]

#: A recorded movie's digests hold the picture's hash at most once in this many frames (the RAM's every frame).
PICTURE_DIGEST_FRAMES = 16

#: Largest save state read from a file (after decompression).
MAX_STATE_FILE_BYTES = 64 << 20
"""Largest save state read from a file, after decompression (64 MiB)."""

Outcome = tuple[Any, bool, dict[str, Any]]


def resolve_game(game: str, inttype: Any = None) -> str:
    """The id to look ``game`` up by: as given when an integration has it (either spelling of
    ``-v0`` finds it), else without a ``-v<N>`` suffix if that names one."""
    inttype = retro_data.Integrations.DEFAULT if inttype is None else inttype
    if retro_data.get_file_path(game, "rom.sha", inttype) is not None:
        return game
    base, _, version = game.rpartition("-v")
    if base and version.isdigit() and retro_data.get_file_path(base, "rom.sha", inttype) is not None:
        return base
    return game


def read_state_file(path: str) -> bytes:
    """A ``.state`` file's bytes: gzip (as Gym Retro writes) or raw (as stable-retro also reads)."""
    try:
        raw = read_regular(path, MAX_STATE_FILE_BYTES)
        if raw[:2] == b"\x1f\x8b":
            # bounded: a small file that inflates to gigabytes is refused, not inflated
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data = inflate.decompress(raw, MAX_STATE_FILE_BYTES + 1)
            if not inflate.eof and len(data) <= MAX_STATE_FILE_BYTES:
                raise EOFError("the gzip stream ends early")
        else:
            data = raw
    except (OSError, EOFError, zlib.error) as e:
        raise StateError(f"{path} is not a save state (gzip or raw): {getattr(e, 'strerror', None) or e}") from e
    if len(data) > MAX_STATE_FILE_BYTES:
        raise StateError(f"{path}: larger than {MAX_STATE_FILE_BYTES} bytes; not a save state")
    if not data:
        raise StateError(f"{path} is empty; not a save state")
    return data


class GameSession:
    """One game being played. Arguments as :class:`retro.RetroEnv`'s (without the API and rendering ones).

    From power-on (``State.NONE``, or a game without a default state) the
    first episode is stable-retro's: the new emulator plays its first frame,
    construction plays one more, and :meth:`restart` plays the reset frame
    from there. ``power_cycle_on_reset`` (default True) says what a later
    restart from power-on does: switch the console off and on and play the
    same frames again (:meth:`power_on`), so every episode starts as the
    first one; False keeps the game running, as Gym Retro and stable-retro
    do (their reset only releases the buttons and plays one frame).
    """

    def __init__(
        self,
        game: str,
        state: State | str | None = State.DEFAULT,
        scenario: str | None = None,
        info: str | None = None,
        use_restricted_actions: Actions = Actions.FILTERED,
        players: int = 1,
        inttype: Any = None,
        obs_type: Observations = Observations.IMAGE,
        core: str | None = None,
        check_rom_hash: bool = True,
        core_options: Mapping[str, str] | None = None,
        power_cycle_on_reset: bool = True,
    ) -> None:
        inttype = retro_data.Integrations.named(inttype)
        if not isinstance(use_restricted_actions, Actions):
            raise ConfigurationError(
                f"use_restricted_actions must be a retro.Actions, got {use_restricted_actions!r}")
        if not isinstance(obs_type, Observations):
            raise ConfigurationError(f"obs_type must be a retro.Observations, got {obs_type!r}")
        if not isinstance(players, (int, np.integer)) or isinstance(players, bool) or players < 1:
            raise ConfigurationError(f"players must be a positive int, got {players!r}")
        self.obs_type = obs_type
        self.gamename = resolve_game(game, inttype)
        self.inttype = inttype
        self.players = int(players)
        self.statename: str | None = None
        self.initial_state: bytes | None = None
        self.movie: Any = None
        self._ram_views: list[np.ndarray] | None = None
        self._ram_generation = -1
        self.movie_id = 0
        self.movie_path: str | None = None
        self._power_on_reset = False
        self.power_cycle_on_reset = bool(power_cycle_on_reset)
        self._at_power_on = True  # as construction leaves it: the first restart starts from here
        self._routes: list[tuple[int, int, int, int]] = []
        self._held: list[int] = [0] * self.players
        self._movie_label: str | None = None
        self._state_path: str | None = None

        rom_path = retro_data.get_romfile_path(self.gamename, inttype)
        files = GameFiles.open(self.gamename, scenario, info, inttype)
        self.metadata: dict[str, Any] = files.metadata
        if check_rom_hash:
            retro_data.check_rom(self.gamename, rom_path, files.rom_sha_path)
        self._resolve_state(state)

        self.data = retro_data.GameData()
        self.em = RetroEmulator(rom_path, core=core, options=core_options)
        try:
            self.system = self.em.system
            if self.players > self.em.num_ports:
                raise ConfigurationError(
                    f"{self.gamename} runs on a {self.em.core.name} core with {self.em.num_ports} "
                    f"controller ports; players={self.players} is too many")
            self._adapt_start_state()
            if self.initial_state:
                self._check_state(self.initial_state, self._state_path)
            self.data.configure(self.em)
            self.em.step()  # the frame stable-retro's env plays when it is made
            self.data.load(files.info_path, files.scenario_path)
            self._build_actions(use_restricted_actions)
            self._load_routes()
            self._build_observations()
        except BaseException:
            self.em.close()
            raise

    # -- construction ---------------------------------------------------------

    def _resolve_state(self, state: State | str | None) -> None:
        if state is None or state == State.NONE:
            self.statename = None
            self._power_on_reset = True
            return
        if state == State.DEFAULT:
            meta = self.metadata
            per_player = meta.get("default_player_state")
            if isinstance(per_player, list) and per_player and self.players <= len(per_player):
                name = per_player[self.players - 1]
            else:
                name = meta.get("default_state")
            if name is not None and not isinstance(name, str):
                raise IntegrationError(f"metadata.json of {self.gamename}: a default state is a state's name "
                                       f"(a string), not {name!r}")
            if name:
                self.load_state(name, self.inttype)
            else:
                self._power_on_reset = True
            return
        self.load_state(str(state), self.inttype)

    def _build_actions(self, kind: Actions) -> None:
        info = self.em.system_info
        assert info is not None
        self.buttons: list[str | None] = list(info.buttons)
        self.num_buttons = len(self.buttons)
        groups = self.data.action_groups()
        self.button_combos: list[list[int]] = groups.as_lists()
        self.use_restricted_actions = kind
        self._valid_mask = sum(1 << i for i, name in enumerate(self.buttons) if name)
        self._action_cache: dict[Any, list[int]] = {}
        self._filter = filter_table(groups, self.num_buttons) if kind == Actions.FILTERED else None
        self._filter_list: list[int] | None = self._filter.tolist() if self._filter is not None else None
        self._packable = kind in (Actions.ALL, Actions.FILTERED)
        n = self.num_buttons * self.players
        self.action_space: spaces.Space[Any]
        if kind in (Actions.ALL, Actions.FILTERED):
            self.action_space = spaces.MultiBinary(n)
        elif kind == Actions.DISCRETE:
            self._discrete = discrete_table(groups)
            self._discrete_n = len(self._discrete)
            self.action_space = spaces.Discrete(self._discrete_n ** self.players)
        else:
            self._multi = multi_discrete_table(groups)
            self.action_space = spaces.MultiDiscrete(list(groups.sizes) * self.players)

    def _load_routes(self) -> None:
        """Input routes from ``input_routes`` (the scenario's, else ``metadata.json``'s).

        Some games read a player's controls from another port (in Atari
        paddle games both paddles hang off port 0: player 2's knob is port
        0's LEFT/RIGHT). A route ``[player, button, port, button]`` moves a
        player's button press to a port's button. Routes that hold for one
        core only are given per core name, ``{"stella": [...], "ale": [...]}``;
        a core not named there has none (the ALE core reads player 2's paddle
        from port 1, as the ALE does).
        """
        routes = self.metadata.get("input_routes") or []
        if isinstance(routes, dict):
            routes = routes.get(self.em.core.name) or []
        if not isinstance(routes, list):
            raise ConfigurationError(f"{self.gamename}: input_routes must be a list, got {routes!r}")
        for route in routes:
            try:
                player, button, port, target = route
                parsed = (int(player), self.buttons.index(button), int(port), self.buttons.index(target))
            except (ValueError, TypeError) as e:
                raise ConfigurationError(f"{self.gamename}: bad input route {route!r}: {e}") from e
            if parsed[0] < self.players:  # routes of players not playing cost nothing per step
                self._routes.append(parsed)

    def use_action_set(self, masks: Sequence[int]) -> None:
        """Make the action space ``Discrete`` over these button masks (one player's; with several
        players, every combination of theirs, first player least significant, as DISCRETE does)."""
        if not masks:
            raise ConfigurationError(f"{self.gamename}: an action set needs at least one action")
        self.use_restricted_actions = Actions.DISCRETE
        self._packable = False
        self._action_cache = {}
        self._discrete = np.array([int(m) for m in masks], dtype=np.int64)
        self._discrete_n = len(self._discrete)
        self.action_space = spaces.Discrete(self._discrete_n ** self.players)

    @property
    def input_routes(self) -> list[tuple[int, int, int, int]]:
        """The routes in use: ``(player, button index, port, button index)``."""
        return list(self._routes)

    def _build_observations(self) -> None:
        self._crops = [self.data.crop_info(p) for p in range(self.players)]
        self._plain_image = self.obs_type == Observations.IMAGE and not any(self._crops[0])
        # the step path's shortcut: an uncropped screen is converted straight into the observation,
        # for as long as the core shows a new picture every frame
        self._direct = self._plain_image and self.em.frames_presented >= self.em.frame_count
        width, height = self.em.get_resolution()
        self._screen_shape = (height, width, 3)
        #: The shape of the screen as observed (cropped for player 1) and of the RAM.
        self.image_shape: tuple[int, ...] = self.screen(0).shape
        self.ram_shape: tuple[int, ...] = self.em.get_ram().shape
        #: One frame a step, the observation of ``obs_type`` (what :meth:`advance` and :meth:`play` play).
        self.plan = step.StepPlan(1, step.ObservationSpec(self.obs_type))
        self.observation_shape: tuple[int, ...] = self.plan.observation.shape(self)

    # -- actions ----------------------------------------------------------------

    def decode(self, a: Any) -> list[int]:
        """One button mask per player for action ``a`` of :attr:`action_space`.

        Decoded actions are remembered by their bytes, so the step path pays
        for decoding and validation once per distinct action.
        """
        if self._packable:
            # MultiBinary: one C call packs the 0/1 values into each player's bits
            packed = pack_buttons(a, self.num_buttons, self.players)
            if packed is not None:
                table = self._filter_list
                if table is not None:
                    if len(packed) == 1:
                        return [table[packed[0]]]
                    return [table[bits] for bits in packed]
                valid = self._valid_mask
                return [bits & valid for bits in packed]
            return self._decode_action(a)
        if isinstance(a, np.ndarray):
            key: Any = (a.dtype.char, a.shape, a.tobytes())
        elif isinstance(a, (int, np.integer)) and not isinstance(a, bool):
            key = int(a)
        else:
            return self._decode_action(a)
        masks = self._action_cache.get(key)
        if masks is None:
            masks = self._decode_action(a)
            if len(self._action_cache) >= 1 << 16:
                self._action_cache.clear()
            self._action_cache[key] = masks
        return masks

    def _decode_action(self, a: Any) -> list[int]:
        kind = self.use_restricted_actions
        players = self.players
        if kind in (Actions.ALL, Actions.FILTERED):
            arr = np.asarray(a)
            nb = self.num_buttons
            if arr.shape != (nb * players,):
                raise InvalidActionError(
                    f"expected an action of shape ({nb * players},) for {self.action_space}, got "
                    f"{arr.shape if arr.ndim else type(a).__name__ + ' ' + repr(a)}")
            if arr.dtype.kind not in "biuf":
                raise InvalidActionError(f"MultiBinary actions are 0 or 1, got {arr}")
            values = arr.tolist()
            masks = []
            for p in range(players):
                bits = 0
                for i, v in enumerate(values[p * nb:(p + 1) * nb]):
                    if v == 1:
                        bits |= 1 << i
                    elif v != 0:
                        raise InvalidActionError(f"MultiBinary actions are 0 or 1, got {arr}")
                masks.append(int(self._filter[bits]) if self._filter is not None else bits & self._valid_mask)
            return masks
        if kind == Actions.DISCRETE:
            if isinstance(a, np.ndarray) and a.shape == ():
                a = a.item()
            n = self._discrete_n ** players
            if not isinstance(a, (int, np.integer)) or isinstance(a, bool) or not 0 <= a < n:
                raise InvalidActionError(f"expected an int in [0, {n}), got {a!r}")
            a = int(a)
            masks = []
            for _ in range(players):
                masks.append(int(self._discrete[a % self._discrete_n]))
                a //= self._discrete_n
            return masks
        arr = np.asarray(a)
        nvec = np.asarray(cast(spaces.MultiDiscrete, self.action_space).nvec)
        if arr.shape != nvec.shape or arr.dtype.kind not in "iu" or np.any(arr < 0) or np.any(arr >= nvec):
            raise InvalidActionError(f"expected a MultiDiscrete action within {nvec.tolist()}, got {a!r}")
        ng = len(self._multi)
        masks = []
        for p in range(players):
            m = 0
            for g in range(ng):
                m |= int(self._multi[g][arr[p * ng + g]])
            masks.append(m)
        return masks

    @property
    def action_masks(self) -> list[int] | None:
        """With a ``Discrete`` action space, one player's button mask of each action; else None."""
        if self.use_restricted_actions != Actions.DISCRETE:
            return None
        return [int(m) for m in self._discrete]

    @property
    def held(self) -> list[int]:
        """Each player's buttons held now (the masks last given to :meth:`press`)."""
        return list(self._held)

    def press(self, masks: list[int]) -> None:
        """Hold each player's buttons (through the game's input routes) for the frames played next."""
        self._held = masks
        em = self.em
        ports = self._route(masks) if self._routes else masks
        if len(ports) == 1:
            em.set_button_mask(ports[0], 0)
        else:
            for p, m in enumerate(ports):
                em.set_button_mask(m, p)

    def console(self, switches: int) -> None:
        """Work a movie frame's console switches (``retro.movie.CONSOLE_*`` bits) before the frame is played.

        Power turns the console off and on (a power cycle); reset presses its
        reset switch (the core's soft reset). The Atari 2600's RESET and
        SELECT switches and the Master System's PAUSE are joypad buttons
        here (a movie's reader maps them), so they arrive through :meth:`press`.
        """
        from retro.movie import CONSOLE_POWER, CONSOLE_RESET

        if switches >> CONSOLE_POWER & 1:
            self.em.power_cycle()
        if switches >> CONSOLE_RESET & 1:
            self.em.reset()

    def _route(self, masks: list[int]) -> list[int]:
        ports = list(masks) + [0] * max(0, max(r[2] for r in self._routes) + 1 - len(masks))
        for player, button, port, target in self._routes:
            if player < len(masks) and masks[player] >> button & 1:
                ports[player] &= ~(1 << button)
                ports[port] |= 1 << target
        return ports

    # -- playing ------------------------------------------------------------------

    def advance(self) -> np.ndarray:
        """Play one frame with the held buttons; returns its observation (a new array)."""
        obs = self.plan.observation.empty(self)
        step.play(self.plan, [self], [obs])
        return obs

    def play(self, frames: int) -> Any:
        """Play ``frames`` frames with the held buttons, stopping at the frame the game is done.

        Returns the reward summed over the frames played (a list per player
        with several players).
        """
        [(reward, _done, _info)] = step.play(self.plan.with_frames(frames), [self])
        return reward

    @property
    def picture_direct(self) -> bool:
        """Whether a plain observation can be converted straight from the core into the caller's array.

        True for an uncropped screen, for as long as the core shows a new
        picture every frame (see :meth:`keep_picture`).
        """
        return self._direct

    def keep_picture(self) -> None:
        """The core repeated a frame: from now on the emulator keeps the picture in its own buffer.

        ``step(0)`` moves the current picture (which may be in an observation
        handed out) into the emulator's buffer.
        """
        if self._direct:
            self._direct = False
            self.em.step(0)

    def outcome(self) -> Outcome:
        """``(reward, done, info)`` of the frame just played (reward per player with several players)."""
        return self.data.outcome(self.players)

    def ram(self, out: np.ndarray | None = None) -> np.ndarray:
        """All RAM blocks in address order (``RetroEmulator.get_ram``), into ``out`` or a new array.

        The blocks' views are taken once per core copy, so a RAM observation
        is one copy of the bytes.
        """
        em = self.em
        if self._ram_views is None or self._ram_generation != em.memory_generation:
            self._ram_views = list(em.memory_blocks().values())
            self._ram_generation = em.memory_generation
        views = self._ram_views
        if out is None:
            out = np.empty(sum(v.size for v in views), np.uint8)
        if len(views) == 1:
            out[...] = views[0]
        elif views:
            np.concatenate(views, out=out)
        return out

    def observe(self, out: np.ndarray | None = None, *, gray: bool = False, size: tuple[int, int] | None = None,
                pool: bool = False) -> np.ndarray:
        """The observation of the current frame, into ``out`` or a new array.

        IMAGE: the screen cropped for player 1 (``gray``, ``size`` and
        ``pool`` preprocess it in C); RAM: all RAM blocks in address order.
        """
        if self.obs_type == Observations.RAM:
            return self.ram(out)
        if gray or size is not None or pool:
            if out is None:
                h, w = size if size is not None else self._screen_shape[:2]
                out = np.empty((h, w) if gray else (h, w, 3), np.uint8)
            self.em.get_observation(out, gray=gray, size=size, pool=pool)
            return out
        x, y, w, h = self._crops[0]
        if not (x or y or w or h):
            if out is None:
                return self.em.get_screen()
            self.em.get_screen(out)  # copies with the GIL released
            return out
        screen = self.screen(0)
        if out is None:
            return screen
        out[...] = screen
        return out

    def screen(self, player: int = 0) -> np.ndarray:
        """The screen cropped by the scenario's crop for ``player`` (a copy)."""
        x, y, w, h = self._crops[player] if player < len(self._crops) else self.data.crop_info(player)
        if not (x or y or w or h):
            return self.em.get_screen()
        view = self.em.screen
        height, width = view.shape[:2]
        x1 = width if not w or x + w > width else x + w
        y1 = height if not h or y + h > height else y + h
        return np.array(view[y:y1, x:x1])

    def restart(self) -> None:
        """Start an episode: the start state (or power-on), buttons released, one frame played.

        Without a start state, the first restart plays on from where
        construction left the game (stable-retro's first episode); a later
        one powers the game on again (:meth:`power_on`) unless
        ``power_cycle_on_reset`` is False.
        """
        em = self.em
        if self.initial_state:
            em.set_state(self.initial_state)
        elif self._power_on_reset and self.power_cycle_on_reset and not self._at_power_on:
            self.power_on()
        self._at_power_on = False
        self.press([0] * self.players)
        if self.movie_path is not None:
            self._start_auto_movie()
        self.data.reset()
        step.play(self.plan, [self])

    def power_on(self) -> None:
        """Switch the console off and on, and play what a new session plays before its first restart.

        That is the first frame a new ``RetroEmulator`` plays and the frame
        construction plays, with no buttons held, so the next
        :meth:`restart` starts the episode exactly as the first one from
        power-on started (these frames are not recorded).
        """
        em = self.em
        em.power_cycle()
        self.press([0] * self.players)
        digesting, em.digests_on = em.digests_on, False  # frames no movie records
        em.step(2)
        em.digests_on = digesting
        self._at_power_on = True

    # -- states -----------------------------------------------------------------

    def load_state(self, statename: str, inttype: Any = None) -> None:
        """Start from a ``.state`` (the core's state, gzipped or raw) at the next restart."""
        inttype = self.inttype if inttype is None else inttype
        if not statename.endswith(".state"):
            statename += ".state"
        path = retro_data.get_file_path(self.gamename, statename, inttype)
        if path is None:
            if os.path.isabs(statename) and os.path.isfile(statename):
                path = statename
            else:
                known = retro_data.list_states(self.gamename, inttype)
                raise GameNotFoundError(
                    f"unknown state {statename[:-6]!r} for {self.gamename}; its states are {known}")
        before = (self.initial_state, self._state_path, self.statename, self._power_on_reset)
        self.initial_state, self._state_path = read_state_file(path), path
        self.statename, self._power_on_reset = statename, False
        try:
            self._adapt_start_state()
            if hasattr(self, "em") and self.initial_state:
                self._check_state(self.initial_state, path)
        except BaseException:
            self.initial_state, self._state_path, self.statename, self._power_on_reset = before
            raise

    def _adapt_start_state(self) -> None:
        """A state file the core cannot load (a Stella state on the ALE core) is made on it by its recipe.

        The recipe is the state's entry in ``state_recipes`` of the ``metadata.json``
        beside the state file; the state is made from power-on on this core.
        Without one, ``StateError`` says why the state cannot load.
        """
        em = getattr(self, "em", None)
        state, path = self.initial_state, self._state_path
        if em is None or state is None or path is None or em.accepts_state(state):
            return
        name = os.path.basename(path)[:-len(".state")]
        recipe = recipes(Path(path).parent).get(name)
        if recipe is None:
            raise StateError(f"{self.gamename}'s state {name!r} ({path}) {em.foreign_state_reason()}; "
                             f"it has no recipe.{self._state_advice(em.core.name)}")
        self.initial_state = state_from_recipe(em.rom_path, em.core.path, *recipe)

    def _state_advice(self, core: str) -> str:
        """The arguments that play this game on ``core`` instead (a sentence, or nothing)."""
        game = self.gamename
        if "retro" in retro_data.list_scenarios(game, self.inttype) and self.statename \
                and not self.statename.startswith("retro."):
            return (f" To play {game} on this core, use its variant, whose start states are made on either core: "
                    f"retro.make({game!r}, scenario='retro', core={core!r}) (its own variables, and rewards "
                    f"and done as the ALE scores them); or keep the library's scenario from power-on: "
                    f"retro.make({game!r}, state=retro.State.NONE, core={core!r})")
        return (f" To play {game} on this core from power-on: "
                f"retro.make({game!r}, state=retro.State.NONE, core={core!r})")

    def snapshot(self) -> Snapshot:
        """Everything needed to continue this game identically in a session of the same game, core and
        arguments: the emulator's state and picture, the start state, the episode's data
        (:meth:`GameData.episode_state`) and the buttons held. Recording stays with this session (a movie
        has one writer)."""
        em = self.em
        screen = em.get_screen()
        return Snapshot.make(
            game=self.gamename, core=em.core.name, state=em.get_state(), screen=screen.tobytes(),
            screen_shape=screen.shape[:2], frame_count=int(em.frame_count),
            start_state=None if self.initial_state is None else bytes(self.initial_state),
            statename=None if self.statename is None else str(self.statename),
            power_on_reset=bool(self._power_on_reset), at_power_on=bool(self._at_power_on),
            held=tuple(int(m) for m in self._held), episode=self.data.episode_state())

    def restore(self, snapshot: Snapshot) -> None:
        """Continue from a :meth:`snapshot` (of a session of the same game, core and arguments)."""
        restore_sessions([self], [snapshot])

    def _check_snapshot(self, snapshot: Snapshot) -> None:
        if not isinstance(snapshot, Snapshot):
            raise TypeError(f"expected a retro.Snapshot, got {type(snapshot).__name__}")
        core = self.em.core.name
        if snapshot.game != self.gamename or snapshot.core != core:
            raise StateError(f"this snapshot is of {snapshot.game} on the {snapshot.core} core; this session "
                             f"plays {self.gamename} on the {core} core")
        if tuple(snapshot.screen_shape) != self._screen_shape[:2] or len(snapshot.held) != self.players:
            raise StateError(f"this snapshot's screen ({snapshot.screen_shape}) or players ({len(snapshot.held)}) "
                             f"do not match this session's ({self._screen_shape[:2]}, {self.players}): it was "
                             f"made with other arguments")

    def _restored(self, snapshot: Snapshot) -> None:
        """What follows the emulator's state in a restore: the picture, counters, buttons and episode data."""
        if self.movie is not None:
            self.stop_record()  # its inputs no longer replay to this game; the frames until now are kept
        self.initial_state = snapshot.start_state
        self.statename = snapshot.statename
        self._power_on_reset = snapshot.power_on_reset
        self._at_power_on = snapshot.at_power_on
        em = self.em
        em.set_screen(snapshot.screen)
        em.frame_count = snapshot.frame_count
        self.press(list(snapshot.held))
        self.data.set_episode_state(snapshot.parsed[0])

    def _check_state(self, state: bytes, path: str) -> None:
        """Fail now, naming the file, for a state that does not fit or would crash or hang the core."""
        try:
            self.em.check_state(state)
        except StateError as e:
            raise StateError(f"{path}: {e}") from None

    # -- recording ------------------------------------------------------------------

    def record(self, frames: int = 1) -> None:
        """Append ``frames`` frames holding the held buttons (cut to the system's buttons) to the movie."""
        buttons = (1 << self.num_buttons) - 1
        row = [m & buttons for m in self._held]
        append = self.movie.append_frame
        for _ in range(frames):
            append(row)

    def record_movie(self, path: str) -> None:
        """Record every frame played into a ``.bk2`` movie from now on."""
        if self.movie is not None:
            self._finish_movie()
        self.movie = Movie(path, True, self.players)
        self.movie.configure(self.gamename, self.em)
        if self.initial_state:
            self.movie.set_state(self.initial_state)
        em = self.em
        em.take_digests()  # from here on, a digest of every frame recorded (retro verify)
        em.picture_digest_frames = PICTURE_DIGEST_FRAMES
        em.digests_on = True

    def _finish_movie(self) -> None:
        """Close the movie being recorded, with the digests of its frames."""
        movie, self.movie = self.movie, None
        em = self.em
        if not em.closed:
            em.digests_on = False
            frames, pictures = em.take_digests()
            movie.set_digests(MovieDigests(frames, pictures))
        movie.close()

    def stop_record(self) -> None:
        """Stop recording and close the movie."""
        self.movie_path = None
        self.movie_id = 0
        if self.movie is not None:
            self._finish_movie()

    def auto_record(self, path: str | None = None, label: str | None = None) -> None:
        """Record every episode into ``path`` (default: the working directory).

        Movies are named ``<game>-<state>-<number>.bk2`` (Gym Retro's names),
        or ``<game>-<state>-<label>-<number>.bk2`` with a ``label`` (a vector
        env labels each of its envs), numbered from the first free number.
        """
        self.movie_path = path or os.getcwd()
        self._movie_label = label

    def _movie_file(self, folder: str, state: str) -> str:
        label = self._movie_label
        name = f"{self.gamename}-{state}-{label + '-' if label else ''}{self.movie_id:06d}.bk2"
        return os.path.join(folder, name)

    def _start_auto_movie(self) -> None:
        state = os.path.splitext(os.path.basename(self.statename))[0] if self.statename else "none"
        folder = self.movie_path or os.getcwd()
        path = self._movie_file(folder, state)
        while os.path.exists(path):  # never over a movie already there
            self.movie_id += 1
            path = self._movie_file(folder, state)
        self.record_movie(path)
        self.movie_id += 1

    def close(self) -> None:
        """Stop recording and close the emulator."""
        self._ram_views = None  # they keep the core's memory alive
        if getattr(self, "movie", None) is not None:
            self.stop_record()
        data = getattr(self, "data", None)
        if data is not None:
            data.release()
        em = getattr(self, "em", None)
        if em is not None:
            em.close()


def restore_sessions(sessions: Sequence[GameSession], snapshots: Sequence[Snapshot],
                     steps: StepPool | None = None) -> None:
    """Continue each session from its snapshot, the cores reading their states together on ``steps``
    (:func:`retro.emulator.restore_states`). Every snapshot is checked against its session before any
    session changes."""
    if len(snapshots) != len(sessions):
        raise ConfigurationError(f"{len(snapshots)} snapshots for {len(sessions)} games")
    for session, snapshot in zip(sessions, snapshots):
        session._check_snapshot(snapshot)
    errors = restore_states([s.em for s in sessions], [snap.state for snap in snapshots], steps)
    for session, snapshot, error in zip(sessions, snapshots, errors):
        if error is None:
            session._restored(snapshot)
    for session, error in zip(sessions, errors):
        if error is not None:
            raise StateError(f"{session.gamename}: the snapshot's state could not be restored: {error}") from None

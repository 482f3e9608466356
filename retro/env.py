"""``RetroEnv`` and ``retro.make``: Gym Retro's environment API on retro's emulator.

By default the environment speaks Gym Retro's classic API: ``reset()``
returns the observation and ``step()`` returns ``(obs, reward, done, info)``.
With ``api="gymnasium"`` (and through Gymnasium's registry,
``gymnasium.make("retro/Airstriker-Genesis-v0")``) it speaks Gymnasium's:
``reset(seed=, options=)`` returns ``(obs, info)`` and ``step()`` returns
``(obs, reward, terminated, truncated, info)``.

What Gym Retro got wrong is fixed, not copied: ``State.NONE`` really
power-cycles the game on reset; MULTI_DISCRETE works with several players;
``record=None`` does not record; ``players`` is checked against the core's
ports; bad actions raise ``InvalidActionError`` naming the action space.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from typing import Any, Sequence

import gymnasium
import numpy as np
from gymnasium import spaces

from retro import data as retro_data
from retro.actions import ComboGroups, discrete_table, filter_table, multi_discrete_table
from retro.emulator import RetroEmulator, pack_buttons
from retro.enums import Actions, Observations, State
from retro.errors import (
    ConfigurationError,
    GameNotFoundError,
    InvalidActionError,
    IntegrationError,
    ResetNeededError,
    StateError,
)

__all__ = ["RetroEnv", "make", "resolve_game"]

_APIS = ("classic", "gymnasium")
_RENDER_MODES = (None, "human", "rgb_array")


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


def make(game: str, state: State | str | None = State.DEFAULT, inttype: Any = None, **kwargs: Any) -> "RetroEnv":
    """Create a ``RetroEnv`` for ``game`` (Gym Retro's ``retro.make``).

    Raises ``GameNotFoundError`` (a ``FileNotFoundError``) saying whether the
    game is unknown or only its ROM is missing, with how to import it, and
    ``RomMismatchError`` if the ROM is not the dump the integration was made
    for (``check_rom_hash=False`` skips that check).
    """
    inttype = retro_data.Integrations.DEFAULT if inttype is None else inttype
    name = resolve_game(game, inttype)
    try:
        retro_data.get_romfile_path(name, inttype)
    except FileNotFoundError as e:
        if retro_data.get_file_path(name, "rom.sha", inttype) is None:
            raise GameNotFoundError(
                f"No romfiles found for game: {game}. It is not a known game; "
                f"`python3 -m retro list` shows the games there are") from e
        raise GameNotFoundError(
            f"Game not found: {game}. Did you make sure to import the ROM? "
            f"Run `python3 -m retro.import PATH` on a folder or zip holding it") from e
    return RetroEnv(name, state, inttype=inttype, **kwargs)


def _read_object(path: str) -> dict[str, Any]:
    """A JSON file that must hold an object (``IntegrationError`` otherwise)."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise IntegrationError(f"cannot read {path}: {e.strerror or e}") from e
    except (ValueError, RecursionError) as e:
        raise IntegrationError(f"{path}: not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise IntegrationError(f"{path}: expected a JSON object, got {type(doc).__name__}")
    return doc


#: Largest save state read from a file (after decompression).
MAX_STATE_FILE_BYTES = 64 << 20


def read_state_file(path: str) -> bytes:
    """A ``.state`` file's bytes: gzip (as Gym Retro writes) or raw (as stable-retro also reads)."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            if head == b"\x1f\x8b":
                with gzip.GzipFile(fileobj=f) as g:
                    data = g.read(MAX_STATE_FILE_BYTES + 1)
            else:
                data = f.read(MAX_STATE_FILE_BYTES + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise StateError(f"{path} is not a save state (gzip or raw): {e}") from e
    if len(data) > MAX_STATE_FILE_BYTES:
        raise StateError(f"{path}: larger than {MAX_STATE_FILE_BYTES} bytes; not a save state")
    if not data:
        raise StateError(f"{path} is empty; not a save state")
    return data


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

    A scenario file may carry what a variant of a game needs besides its
    rewards: ``info`` (variables, used when ``info=`` is not given),
    ``input_routes``, ``default_state`` and ``default_player_state``; these
    take the place of ``data.json``'s and ``metadata.json``'s. ROMs are
    checked against the ``rom.sha`` beside the scenario file in use, else
    the game's. This project's own integrations of games in stable-retro's
    library are such variants, named ``retro`` (``scenario="retro"``).
    """

    metadata = {
        "render_modes": ["human", "rgb_array"],
        "render_fps": 60,
        "render.modes": ["human", "rgb_array"],
        "video.frames_per_second": 60.0,
    }

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
        obs_type: Observations = Observations.IMAGE,
        render_mode: str | None = None,
        api: str = "classic",
        core: str | None = None,
        check_rom_hash: bool = True,
    ) -> None:
        inttype = retro_data.Integrations.STABLE if inttype is None else inttype
        if api not in _APIS:
            raise ConfigurationError(f"api must be one of {_APIS}, got {api!r}")
        if render_mode not in _RENDER_MODES:
            raise ConfigurationError(f"render_mode must be one of {_RENDER_MODES}, got {render_mode!r}")
        if not isinstance(use_restricted_actions, Actions):
            raise ConfigurationError(
                f"use_restricted_actions must be a retro.Actions, got {use_restricted_actions!r}")
        if not isinstance(obs_type, Observations):
            raise ConfigurationError(f"obs_type must be a retro.Observations, got {obs_type!r}")
        if not isinstance(players, (int, np.integer)) or isinstance(players, bool) or players < 1:
            raise ConfigurationError(f"players must be a positive int, got {players!r}")

        self.api = api
        self.render_mode = render_mode
        self._obs_type = obs_type
        self.img: np.ndarray | None = None
        self.ram: np.ndarray | None = None
        self.viewer: Any = None
        self.gamename = resolve_game(game, inttype)
        self.inttype = inttype
        self.players = int(players)
        self.statename: str | None = None
        self.initial_state: bytes | None = None
        self.movie: Any = None
        self.movie_id = 0
        self.movie_path: str | None = None
        self._power_on_reset = False
        self._routes: list[tuple[int, int, int, int]] = []

        rom_path = retro_data.get_romfile_path(self.gamename, inttype)
        scenario_path = self._json_path(scenario or "scenario")
        if scenario is not None and scenario_path is None:
            known = retro_data.list_scenarios(self.gamename, inttype)
            raise GameNotFoundError(f"unknown scenario {scenario!r} for {self.gamename}; its scenarios are {known}")
        variant = _read_object(scenario_path) if scenario_path else {}
        meta_path = retro_data.get_file_path(self.gamename, "metadata.json", inttype)
        self._metadata = dict(_read_object(meta_path) if meta_path else {})
        for key in ("input_routes", "default_state", "default_player_state"):
            if key in variant:
                self._metadata[key] = variant[key]
        if info is None and "info" in variant:
            info_path: str | None = scenario_path
        else:
            info_path = self._json_path(info or "data")
            if info is not None and info_path is None:
                raise GameNotFoundError(f"no data file {info!r} for {self.gamename}")
        if info_path is None and scenario_path is None:
            raise IntegrationError(
                f"{self.gamename} has no data.json or scenario.json in {self._folders()}; if it is a game of "
                f"stable-retro's library, `python3 -m retro.provision` provisions the library")
        if check_rom_hash:
            beside = os.path.join(os.path.dirname(scenario_path), "rom.sha") if scenario_path else None
            sha_path = beside if beside and os.path.isfile(beside) else retro_data.get_file_path(
                self.gamename, "rom.sha", inttype)
            retro_data.check_rom(self.gamename, rom_path, sha_path)
        self._resolve_state(state)

        self.data = retro_data.GameData()
        self.em = RetroEmulator(rom_path, core=core)
        try:
            self.system = self.em.system
            if self.players > self.em.num_ports:
                raise ConfigurationError(
                    f"{self.gamename} runs on a {self.em.core.name} core with {self.em.num_ports} "
                    f"controller ports; players={self.players} is too many")
            self.data.configure(self.em)
            self.em.step()
            self.data.load(info_path, scenario_path)
            self._build_actions(use_restricted_actions)
            self._load_routes()
            self._build_observations()
        except BaseException:
            self.em.close()
            raise

        if record is True:
            self.auto_record()
        elif record is not False and record is not None:
            self.auto_record(os.fspath(record))
        self._needs_reset = True

    # -- construction ---------------------------------------------------------

    def _folders(self) -> list[str]:
        return [d for _source, d in retro_data.integrations.game_dirs(self.gamename, self.inttype)]

    def _json_path(self, name: str) -> str | None:
        if name.endswith(".json"):
            return name
        return retro_data.get_file_path(self.gamename, name + ".json", self.inttype)

    def _resolve_state(self, state: State | str | None) -> None:
        if state is None or state == State.NONE:
            self.statename = None
            self._power_on_reset = True
            return
        if state == State.DEFAULT:
            meta = self._metadata
            per_player = meta.get("default_player_state")
            if isinstance(per_player, list) and per_player and self.players <= len(per_player):
                name = per_player[self.players - 1]
            else:
                name = meta.get("default_state")
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
        groups_raw = self.data.valid_actions()
        self.button_combos: list[list[int]] = [list(g) for g in groups_raw]
        groups = ComboGroups(tuple(tuple(g) for g in groups_raw))
        self.use_restricted_actions = kind
        self._weights = (1 << np.arange(self.num_buttons)).astype(np.int64)
        self._valid_mask = sum(1 << i for i, name in enumerate(self.buttons) if name)
        self._action_cache: dict[Any, list[int]] = {}
        self._filter = filter_table(groups, self.num_buttons) if kind == Actions.FILTERED else None
        self._filter_list: list[int] | None = self._filter.tolist() if self._filter is not None else None
        self._packable = kind in (Actions.ALL, Actions.FILTERED)
        n = self.num_buttons * self.players
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
        player's button press to a port's button.
        """
        routes = self._metadata.get("input_routes") or []
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

    def _route(self, masks: list[int]) -> list[int]:
        ports = list(masks) + [0] * max(0, max(r[2] for r in self._routes) + 1 - len(masks))
        for player, button, port, target in self._routes:
            if player < len(masks) and masks[player] >> button & 1:
                ports[player] &= ~(1 << button)
                ports[port] |= 1 << target
        return ports

    def _build_observations(self) -> None:
        self._crops = [self.data.crop_info(p) for p in range(self.players)]
        # the step path's shortcut: an uncropped screen is just a copy of the frame
        self._plain_image = self._obs_type == Observations.IMAGE and not any(self._crops[0])
        width, height = self.em.get_resolution()
        self._screen_shape = (height, width, 3)
        obs = self._observe()
        self.observation_space = spaces.Box(low=0, high=255, shape=obs.shape, dtype=np.uint8)
        self.img = self.ram = None

    # -- actions ----------------------------------------------------------------

    def _action_masks(self, a: Any) -> list[int]:
        """One button mask per player for action ``a`` of this env's action space.

        Decoded actions are remembered by their bytes, so the step path pays
        for decoding and validation once per distinct action.
        """
        if self._packable:
            # MultiBinary: one C call packs the 0/1 values into each player's bits
            packed = pack_buttons(a, self.num_buttons, self.players)
            if packed is not None:
                table = self._filter_list
                if table is not None:
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

    def _press(self, masks: list[int]) -> None:
        """Hold each player's buttons on the joypads (through the game's input routes)."""
        em = self.em
        ports = self._route(masks) if self._routes else masks
        if len(ports) == 1:
            em.set_button_mask(ports[0], 0)
        else:
            for p, m in enumerate(ports):
                em.set_button_mask(m, p)

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
        nvec = np.asarray(getattr(self.action_space, "nvec"))
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

    def action_to_array(self, a: Any) -> list[np.ndarray]:
        """Per player, the buttons an action presses, as uint8 arrays (Gym Retro's)."""
        return [((m >> np.arange(self.num_buttons)) & 1).astype(np.uint8) for m in self._action_masks(a)]

    def get_action_meaning(self, act: Any) -> list[str] | list[list[str]]:
        """Button names an action presses: a list, or one list per player."""
        names = [[name for name in (self.buttons[i] for i in np.flatnonzero(bits)) if name]
                 for bits in self.action_to_array(act)]
        return names[0] if self.players == 1 else names

    # -- stepping -----------------------------------------------------------------

    def step(self, a: Any) -> tuple[Any, ...]:
        if self._needs_reset:
            raise ResetNeededError("Please call env.reset() before env.step()")
        masks = self._action_masks(a)
        em = self.em
        self._press(masks)
        if self.movie is not None:
            self._record_masks(masks)
        if self._plain_image:
            # the core's frame is converted straight into the new observation
            obs = self.img = em.step(out=np.empty(self._screen_shape, np.uint8))
        else:
            em.step()
            obs = self._observe()
        data = self.data
        data.update_ram()
        rew, done, info = data.outcome(self.players)
        if self.render_mode == "human":
            self.render()
        if self.api == "classic":
            return obs, rew, done, info
        return obs, rew, done, False, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        if self.api == "gymnasium":
            super().reset(seed=seed)
        elif seed is not None:
            self.np_random, _ = gymnasium.utils.seeding.np_random(seed)
        em = self.em
        if self.initial_state:
            em.set_state(self.initial_state)
        elif self._power_on_reset:
            em.power_cycle()
        for p in range(self.players):
            em.set_button_mask(0, p)
        em.step()
        if self.movie_path is not None:
            self._start_auto_movie()
        if self.movie is not None:
            self._record_masks([0] * self.players)
        self.data.reset()
        self.data.update_ram()
        self._needs_reset = False
        obs = self._observe()
        if self.render_mode == "human":
            self.render()
        if self.api == "classic":
            return obs
        return obs, self.data.lookup_all()

    def compute_step(self) -> tuple[float | list[float], bool, dict[str, Any]]:
        """``(reward, done, info)`` of the frame just played."""
        return self.data.outcome(self.players)

    def _observe(self) -> np.ndarray:
        if self._obs_type == Observations.RAM:
            self.ram = self.em.get_ram()
            return self.ram
        self.img = self.get_screen(0)
        return self.img

    # -- observations, memory, states ------------------------------------------------

    def get_screen(self, player: int = 0) -> np.ndarray:
        """The screen cropped by the scenario's crop for ``player`` (a copy)."""
        x, y, w, h = self._crops[player] if player < len(self._crops) else self.data.crop_info(player)
        if not (x or y or w or h):
            return self.em.get_screen()
        view = self.em.screen
        height, width = view.shape[:2]
        x1 = width if not w or x + w > width else x + w
        y1 = height if not h or y + h > height else y + h
        return np.array(view[y:y1, x:x1])

    def get_ram(self) -> np.ndarray:
        """All RAM blocks concatenated in address order (raw bytes, a copy)."""
        return self.em.get_ram()

    def load_state(self, statename: str, inttype: Any = None) -> None:
        """Load a ``.state`` (the core's state, gzipped or raw) to start from at the next reset."""
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
        self.initial_state = read_state_file(path)
        self.statename = statename
        self._power_on_reset = False

    def set_value(self, name: str, value: Any) -> None:
        """Write a variable of ``data.json`` (or set a custom one)."""
        self.data.set_value(name, value)

    # -- recording (movies plug in here) ---------------------------------------------

    def _record_masks(self, masks: Sequence[int]) -> None:
        movie = self.movie
        for p, m in enumerate(masks):
            for i in range(self.num_buttons):
                movie.set_key(i, bool(m >> i & 1), p)
        movie.step()

    def record_movie(self, path: str) -> None:
        """Record this env's inputs into a ``.bk2`` movie from now on."""
        from retro.movie import Movie

        self.movie = Movie(path, True, self.players)
        self.movie.configure(self.gamename, self.em)
        if self.initial_state:
            self.movie.set_state(self.initial_state)

    def stop_record(self) -> None:
        """Stop recording and close the movie."""
        self.movie_path = None
        self.movie_id = 0
        if self.movie is not None:
            self.movie.close()
            self.movie = None

    def auto_record(self, path: str | None = None) -> None:
        """Record every episode into ``path`` (default: the working directory)."""
        self.movie_path = path or os.getcwd()

    def _start_auto_movie(self) -> None:
        state = os.path.splitext(os.path.basename(self.statename))[0] if self.statename else "none"
        folder = self.movie_path or os.getcwd()
        path = os.path.join(folder, "%s-%s-%06d.bk2" % (self.gamename, state, self.movie_id))
        while os.path.exists(path):  # never over a movie already there
            self.movie_id += 1
            path = os.path.join(folder, "%s-%s-%06d.bk2" % (self.gamename, state, self.movie_id))
        if self.movie is not None:
            self.movie.close()
        self.record_movie(path)
        self.movie_id += 1

    # -- rendering and lifecycle ------------------------------------------------------

    def render(self) -> Any:
        img = self.img if self.img is not None else self.get_screen()
        if self.render_mode == "rgb_array":
            return img
        if self.render_mode == "human":
            if self.viewer is None:
                from retro.rendering import SimpleImageViewer

                self.viewer = SimpleImageViewer(caption=self.gamename)
            self.viewer.imshow(img)
            return self.viewer.isopen
        return None

    def close(self) -> None:
        if getattr(self, "movie", None) is not None:
            self.stop_record()
        if getattr(self, "viewer", None) is not None:
            self.viewer.close()
            self.viewer = None
        em = getattr(self, "em", None)
        if em is not None:
            em.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

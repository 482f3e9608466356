"""The step engine: what a step is (:class:`StepPlan`, :class:`ObservationSpec`) and the one executor that
plays it (:func:`play`).

A plan is built once per env, vector env or wrapper, when its arguments are
known: how many frames a step plays, and what its observation is (the kind,
RGB image or RAM, and the preprocessing done in C: grayscale, area resizing,
max-pooling of the last two frames). Which frames have their picture
converted follows from it (the last, and the one before with pooling).

:func:`play` plays one step of a plan on one or many game sessions whose
buttons are held: every caller (``RetroEnv.step``, ``RetroVectorEnv``,
``Preprocessing``, the session's own ``advance``/``play``/``restart``, the
studio) goes through it. Per session it runs

- the evaluator: the scenario compiled to C, evaluated by the frame loop
  after every frame (a step is then one C job per emulator), or, for a
  scenario that calls Lua or has custom variables, the scenario's Python
  evaluator after every frame (the frames are then played one by one);
- the recorder: the movie being recorded, if any, gets the held masks for
  every frame played;
- the observation: into the caller's array, converted straight from the
  core where nothing is done to the picture, preprocessed in the same C job
  otherwise.

The observation names users pass (ALE's ``"rgb"``, ``"grayscale"``,
``"ram"``; PettingZoo's ``"rgb_image"``, ``"grayscale_image"``; Gym Retro's
``retro.Observations``) are read here, in :meth:`ObservationSpec.named`.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

import numpy as np
from gymnasium import spaces

from retro.emulator import StepPool
from retro.enums import Observations
from retro.errors import ConfigurationError


class GameSession(Protocol):
    """What the executor uses of a session (``retro.session.GameSession``, which imports this module)."""

    em: Any
    data: Any
    movie: Any
    players: int
    image_shape: tuple[int, ...]
    ram_shape: tuple[int, ...]

    @property
    def picture_direct(self) -> bool: ...
    def keep_picture(self) -> None: ...
    def record(self, frames: int = 1) -> None: ...
    def ram(self, out: np.ndarray | None = None) -> np.ndarray: ...
    def observe(self, out: np.ndarray | None = None, *, gray: bool = False, size: tuple[int, int] | None = None,
                pool: bool = False) -> np.ndarray: ...

__all__ = ["ObservationSpec", "StepPlan", "OBS_TYPES", "PETTINGZOO_OBS_TYPES", "play", "row", "copy"]

Outcome = tuple[Any, bool, dict[str, int]]


@dataclass(frozen=True)
class ObservationSpec:
    """What an observation is: the screen (cropped by the scenario) or the RAM, and what C does to a screen.

    ``gray`` converts to luma (an ``(H, W)`` array), ``size=(height, width)``
    area-resizes, ``pool`` takes the pixel-wise maximum of a step's last two
    frames (with a frame skip above 1). ``with_ram`` adds the RAM to the
    picture: the observation is a dict ``{"image": ..., "ram": ...}`` (a
    Gymnasium ``Dict`` space).
    """

    kind: Observations = Observations.IMAGE
    gray: bool = False
    size: tuple[int, int] | None = None
    pool: bool = False
    with_ram: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.kind, Observations):
            raise ConfigurationError(f"an observation kind is a retro.Observations, got {self.kind!r}")
        if self.size is not None:
            try:
                h, w = self.size
                ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in (h, w))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ConfigurationError(f"resize must be (height, width), two ints >= 1, got {self.size!r}")
            object.__setattr__(self, "size", (int(h), int(w)))
        if self.kind == Observations.RAM and (self.gray or self.size is not None or self.pool or self.with_ram):
            raise ConfigurationError("grayscale, resize, max_pool and the RAM alongside are for image "
                                     "observations; a RAM observation is the RAM alone")

    @classmethod
    def named(cls, obs_type: Any) -> "ObservationSpec":
        """The spec of an observation type as users name it: a ``retro.Observations``, or ``"rgb"``,
        ``"grayscale"``, ``"ram"`` (ALE's names; ``"rgb_image"`` and ``"grayscale_image"`` are PettingZoo's)."""
        if isinstance(obs_type, Observations):
            return cls(obs_type)
        spec = _ALL_NAMES.get(obs_type) if isinstance(obs_type, str) else None
        if spec is None:
            raise ConfigurationError(f"Invalid observation type: {obs_type!r}. Expecting: {', '.join(OBS_TYPES)} "
                                     f"(or a retro.Observations)")
        return spec

    @property
    def preprocessed(self) -> bool:
        """Whether C makes the observation from the picture (grayscale, resize or pool)."""
        return self.gray or self.size is not None or self.pool

    def shape(self, session: GameSession) -> tuple[int, ...]:
        """The shape of ``session``'s observations (of their picture, with the RAM alongside)."""
        if self.kind == Observations.RAM:
            return session.ram_shape
        h, w = self.size if self.size is not None else session.image_shape[:2]
        return (h, w) if self.gray else (h, w, 3)

    def space(self, session: GameSession) -> spaces.Space[Any]:
        """The observation space of ``session``'s observations."""
        picture = spaces.Box(0, 255, self.shape(session), np.uint8)
        if not self.with_ram:
            return picture
        return spaces.Dict({"image": picture, "ram": spaces.Box(0, 255, session.ram_shape, np.uint8)})

    def empty(self, session: GameSession) -> Any:
        """A new observation of ``session``'s, to be filled."""
        return self.maker(session)()

    def maker(self, session: GameSession, n: int | None = None) -> Callable[[], Any]:
        """What makes a new observation of ``session``'s (a batch of ``n`` with ``n``), to be filled: for an env
        or a vector env to call every step."""
        lead = () if n is None else (n,)
        shape = (*lead, *self.shape(session))
        if not self.with_ram:
            return functools.partial(np.empty, shape, np.uint8)
        ram = (*lead, *session.ram_shape)
        return lambda: {"image": np.empty(shape, np.uint8), "ram": np.empty(ram, np.uint8)}

    def batch(self, session: GameSession, n: int) -> Any:
        """A zeroed batch of ``n`` observations of ``session``'s (:func:`row` picks one)."""
        picture = np.zeros((n, *self.shape(session)), np.uint8)
        if not self.with_ram:
            return picture
        return {"image": picture, "ram": np.zeros((n, *session.ram_shape), np.uint8)}

    def preprocessed_as(self, gray: bool, size: tuple[int, int] | None, pool: bool) -> "ObservationSpec":
        """This spec with a vector env's (or ``Preprocessing``'s) picture settings (grayscale if either says so)."""
        return dataclasses.replace(self, gray=self.gray or gray, size=size, pool=pool)

    def parts(self, observation: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(picture, RAM)`` of an observation, None for what it does not hold (an env's ``img`` and ``ram``)."""
        if self.with_ram:
            return observation["image"], observation["ram"]
        return (None, observation) if self.kind == Observations.RAM else (observation, None)

    def observe(self, session: GameSession, out: Any = None, *, pool: bool = False) -> Any:
        """The observation of ``session``'s current frame, into ``out`` or a new one.

        ``pool`` max-pools with the frame before (a frame skip's last two).
        """
        if not self.with_ram:
            return session.observe(out, gray=self.gray, size=self.size, pool=pool)
        if out is None:
            out = self.empty(session)
        session.observe(out["image"], gray=self.gray, size=self.size, pool=pool)
        self.observe_ram(session, out)
        return out

    def picture(self, observation: Any) -> np.ndarray:
        """Where an observation's picture goes (the executor has C put it there)."""
        return observation["image"] if self.with_ram else observation

    def observe_ram(self, session: GameSession, out: Any) -> None:
        """The RAM part of an observation (``with_ram``) whose picture C made."""
        if self.with_ram:
            session.ram(out["ram"])


def row(batch: Any, i: int) -> Any:
    """Observation ``i`` of a batch (a view into it)."""
    return {key: part[i] for key, part in batch.items()} if isinstance(batch, dict) else batch[i]


def copy(observations: Any) -> Any:
    """A copy of an observation or a batch of them."""
    return {key: part.copy() for key, part in observations.items()} if isinstance(observations, dict) \
        else observations.copy()


#: The observation types by the names users pass (ALE's); PettingZoo's add ``_image`` to the image ones.
OBS_TYPES: dict[str, ObservationSpec] = {
    "rgb": ObservationSpec(),
    "grayscale": ObservationSpec(gray=True),
    "ram": ObservationSpec(Observations.RAM),
    "rgb_ram": ObservationSpec(with_ram=True),
}
#: PettingZoo's names of the array types.
PETTINGZOO_OBS_TYPES = tuple(f"{name}_image" if spec.kind == Observations.IMAGE else name
                             for name, spec in OBS_TYPES.items() if not spec.with_ram)
_ALL_NAMES = {**OBS_TYPES, **{f"{n}_image": s for n, s in OBS_TYPES.items()
                              if s.kind == Observations.IMAGE and not s.with_ram}}


@dataclass(frozen=True)
class StepPlan:
    """One agent step: ``frames`` frames with the same buttons held, then the ``observation``.

    Rewards are summed over the frames and a step stops at the frame the
    game is done. Only the frames the observation needs have their picture
    converted: the last, and the one before with pooling.
    """

    frames: int = 1
    observation: ObservationSpec = ObservationSpec()

    def __post_init__(self) -> None:
        if not isinstance(self.frames, (int, np.integer)) or isinstance(self.frames, bool) or self.frames < 1:
            raise ConfigurationError(f"frameskip must be an int >= 1, got {self.frames!r}")

    @functools.cached_property
    def pools(self) -> bool:
        """Whether observations max-pool two frames (``pool`` with more than one frame a step)."""
        return self.observation.pool and self.frames > 1

    @functools.cached_property
    def skip(self) -> int:
        """Frames at the start of a step whose picture no one observes."""
        return self.frames - (2 if self.pools else 1)

    @functools.cached_property
    def direct(self) -> bool:
        """Whether the picture can go straight from the core into the observation (nothing done to it)."""
        return self.observation.kind == Observations.IMAGE and not self.observation.preprocessed

    @functools.cached_property
    def made_in_job(self) -> bool:
        """Whether the step job makes the observation's picture in C (grayscale, resize, pooling)."""
        return self.observation.kind == Observations.IMAGE and self.observation.preprocessed

    def with_frames(self, frames: int) -> "StepPlan":
        """The same plan with ``frames`` frames a step (a stochastic frame skip, sticky actions)."""
        if frames == self.frames:
            return self
        variants = self.__dict__.setdefault("_variants", {})  # a stochastic frame skip draws from a few
        plan = variants.get(frames)
        if plan is None:
            plan = variants[frames] = dataclasses.replace(self, frames=frames)
        return plan


def play(plan: StepPlan, sessions: Sequence[GameSession], outs: Sequence[Any] | None = None,
         steps: StepPool | None = None) -> list[Outcome]:
    """Play one step of ``plan`` on every session (buttons already held); ``(reward, done, info)`` per session.

    ``outs``, one observation per session as ``plan.observation.empty`` makes
    them, receive the observations (None: no observation is wanted, the last
    picture is still converted for the screen). The emulators play together
    on ``steps`` (None: one session, on its own emulator). ``reward`` is a
    float with one player, else a list per player.
    """
    spec = plan.observation
    players = sessions[0].players
    programs, ems, shown = [], [], []
    for s in sessions:
        programs.append(s.data.frame_program())
        em = s.em
        ems.append(em)
        shown.append(em.frames_presented)
    # a plain picture goes straight from the core into the caller's array (no copy), while the core shows
    # a new picture every frame; a preprocessed one is made into it by the same job
    targets: list[Any] = [None] * len(sessions)
    views: list[Any] = targets
    if outs is not None:
        pictures = [spec.picture(out) for out in outs] if spec.with_ram else outs
        if plan.direct:
            targets = [out if s.picture_direct else None for s, out in zip(sessions, pictures)]
        elif plan.made_in_job:
            views = list(pictures)
    if None not in programs:
        for program in programs:
            program.begin()  # type: ignore[union-attr]
        if steps is None:
            ems[0].step(plan.frames, pool=plan.pools, skip=plan.skip, out=targets[0], program=programs[0],
                        obs=views[0], gray=spec.gray, size=spec.size)
        else:
            steps.step(ems, n=plan.frames, pool=plan.pools, skip=plan.skip, outs=targets, programs=programs,
                       obs=views, gray=spec.gray, size=spec.size)
        played, results = None, None
    else:
        played, results = _play_frames(plan, sessions, steps, targets, views)
    outcomes: list[Outcome] = []
    for j, s in enumerate(sessions):
        if results is None:  # the program's sums
            sums: Any = programs[j]
            n = sums.frames
            reward, done = sums.step_reward(0) if players == 1 else sums.step_rewards(players), sums.done
        else:
            n = played[j]  # type: ignore[index]
            reward, done = results[j]
        if s.movie is not None:
            s.record(n)
        if ems[j].frames_presented - shown[j] < n:
            s.keep_picture()  # the core repeated a frame: the emulator keeps the picture from now on
        if outs is not None:
            if targets[j] is None and views[j] is None:
                spec.observe(s, outs[j], pool=plan.pools)
            else:  # C made the picture
                spec.observe_ram(s, outs[j])
        outcomes.append((reward, done, s.data.lookup_all()))
    return outcomes


def _play_frames(plan: StepPlan, sessions: Sequence[GameSession], steps: StepPool | None,
                 targets: list[Any], views: list[Any]) -> tuple[list[int], list[tuple[Any, bool]]]:
    """The step's frames one at a time, each session's scenario evaluated in Python after each frame.

    Returns the frames each session played and its ``(reward, done)``. A
    session done before the last frame has its ``targets`` and ``views``
    entries cleared: its observation is made afterwards.
    """
    frames, skip, pool = plan.frames, plan.skip, plan.pools
    gray, size = plan.observation.gray, plan.observation.size
    players = sessions[0].players
    totals = [[0.0] * players for _ in sessions]
    done = [False] * len(sessions)
    played = [0] * len(sessions)
    active = list(range(len(sessions)))
    for f in range(frames):
        last = f == frames - 1
        ems = [sessions[j].em for j in active]
        outs = [targets[j] for j in active] if last else None
        obs = [views[j] for j in active] if last else None
        if steps is None:
            ems[0].step(1, pool=pool and last, skip=1 if f < skip else 0, out=outs[0] if outs else None,
                        obs=obs[0] if obs else None, gray=gray, size=size)
        else:
            steps.step(ems, n=1, pool=pool and last, skip=1 if f < skip else 0, outs=outs, obs=obs, gray=gray,
                       size=size)
        still = []
        for j in active:
            played[j] += 1
            data = sessions[j].data
            data.update_ram()
            total = totals[j]
            for p in range(players):
                total[p] += data.current_reward(p)
            if data.is_done():
                done[j] = True
                targets[j] = views[j] = None  # its picture is not the last frame's: observed after
            else:
                still.append(j)
        active = still
        if not active:
            break
    return played, [(float(t[0]) if players == 1 else [float(x) for x in t], d) for t, d in zip(totals, done)]

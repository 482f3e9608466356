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
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

import numpy as np

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
    def observe(self, out: np.ndarray | None = None, *, gray: bool = False, size: tuple[int, int] | None = None,
                pool: bool = False) -> np.ndarray: ...

__all__ = ["ObservationSpec", "StepPlan", "OBS_TYPES", "PETTINGZOO_OBS_TYPES", "play"]

Outcome = tuple[Any, bool, dict[str, int]]


@dataclass(frozen=True)
class ObservationSpec:
    """What an observation is: the screen (cropped by the scenario) or the RAM, and what C does to a screen.

    ``gray`` converts to luma (an ``(H, W)`` array), ``size=(height, width)``
    area-resizes, ``pool`` takes the pixel-wise maximum of a step's last two
    frames (with a frame skip above 1).
    """

    kind: Observations = Observations.IMAGE
    gray: bool = False
    size: tuple[int, int] | None = None
    pool: bool = False

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
        if self.kind == Observations.RAM and (self.gray or self.size is not None or self.pool):
            raise ConfigurationError("grayscale, resize and max_pool are for image observations, not RAM")

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
        """The shape of ``session``'s observations."""
        if self.kind == Observations.RAM:
            return session.ram_shape
        h, w = self.size if self.size is not None else session.image_shape[:2]
        return (h, w) if self.gray else (h, w, 3)

    def empty(self, session: GameSession) -> np.ndarray:
        """A new array for one of ``session``'s observations."""
        return np.empty(self.shape(session), np.uint8)


#: The observation types by the names users pass (ALE's); PettingZoo's add ``_image`` to the image ones.
OBS_TYPES: dict[str, ObservationSpec] = {
    "rgb": ObservationSpec(),
    "grayscale": ObservationSpec(gray=True),
    "ram": ObservationSpec(Observations.RAM),
}
#: PettingZoo's names of the same types.
PETTINGZOO_OBS_TYPES = tuple(f"{name}_image" if spec.kind == Observations.IMAGE else name
                             for name, spec in OBS_TYPES.items())
_ALL_NAMES = {**OBS_TYPES, **{f"{n}_image": s for n, s in OBS_TYPES.items() if s.kind == Observations.IMAGE}}


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

    @property
    def pools(self) -> bool:
        """Whether observations max-pool two frames (``pool`` with more than one frame a step)."""
        return self.observation.pool and self.frames > 1

    @property
    def skip(self) -> int:
        """Frames at the start of a step whose picture no one observes."""
        return self.frames - (2 if self.pools else 1)

    def with_frames(self, frames: int) -> "StepPlan":
        """The same plan with ``frames`` frames a step (a stochastic frame skip, sticky actions)."""
        return self if frames == self.frames else dataclasses.replace(self, frames=frames)


def play(plan: StepPlan, sessions: Sequence[GameSession], outs: Sequence[np.ndarray] | None = None,
         steps: StepPool | None = None) -> list[Outcome]:
    """Play one step of ``plan`` on every session (buttons already held); ``(reward, done, info)`` per session.

    ``outs``, one array per session of ``plan.observation``'s shape, receive
    the observations (None: no observation is wanted, the last picture is
    still converted for the screen). The emulators play together on
    ``steps`` (None: one session, on its own emulator). ``reward`` is a
    float with one player, else a list per player.
    """
    frames, spec = plan.frames, plan.observation
    players = sessions[0].players
    pool = plan.pools
    programs = [s.data.frame_program() for s in sessions]
    image = spec.kind == Observations.IMAGE
    in_c = None not in programs
    # a plain picture goes straight from the core into the caller's array (no copy), while the core shows
    # a new picture every frame; a preprocessed one is made into it by the same job
    targets = None
    if outs is not None and image and not spec.preprocessed:
        targets = [out if s.picture_direct else None for s, out in zip(sessions, outs)]
    views = outs if in_c and outs is not None and image and spec.preprocessed else None
    ems = [s.em for s in sessions]
    shown = [em.frames_presented for em in ems]
    played = [0] * len(sessions)
    if in_c:
        for program in programs:
            program.begin()  # type: ignore[union-attr]
        try:
            _run(steps, ems, frames, pool, plan.skip, targets, programs, views, spec)
        finally:
            played[:] = [program.frames for program in programs]  # type: ignore[union-attr]
        results = []
        for program in programs:
            rewards = program.step_rewards(players)  # type: ignore[union-attr]
            results.append((rewards[0] if players == 1 else rewards, program.done))  # type: ignore[union-attr]
    else:
        results = _play_frames(plan, sessions, steps, targets, played)
    for s, n, before, em in zip(sessions, played, shown, ems):
        if s.movie is not None:
            s.record(n)
        if em.frames_presented - before < n:
            s.keep_picture()  # the core repeated a frame: the emulator keeps the picture from now on
    outcomes: list[Outcome] = []
    for j, (s, (reward, done)) in enumerate(zip(sessions, results)):
        if outs is not None and (targets is None or targets[j] is None) and views is None:
            s.observe(outs[j], gray=spec.gray, size=spec.size, pool=pool)
        outcomes.append((reward, done, s.data.lookup_all()))
    return outcomes


def _play_frames(plan: StepPlan, sessions: Sequence[GameSession], steps: StepPool | None,
                 targets: list[np.ndarray | None] | None, played: list[int]) -> list[tuple[Any, bool]]:
    """The step's frames one at a time, each session's scenario evaluated in Python after each frame."""
    frames, skip, pool = plan.frames, plan.skip, plan.pools
    players = sessions[0].players
    totals = [[0.0] * players for _ in sessions]
    done = [False] * len(sessions)
    active = list(range(len(sessions)))
    for f in range(frames):
        last = f == frames - 1
        ems = [sessions[j].em for j in active]
        outs = [targets[j] for j in active] if last and targets is not None else None
        _run(steps, ems, 1, pool and last, 1 if f < skip else 0, outs, None, None, None)
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
                if targets is not None:
                    targets[j] = None  # its picture is not the last frame's: observed after
            else:
                still.append(j)
        active = still
        if not active:
            break
    return [(float(t[0]) if players == 1 else [float(x) for x in t], d) for t, d in zip(totals, done)]


def _run(steps: StepPool | None, ems: list[Any], n: int, pool: bool, skip: int,
         targets: list[np.ndarray | None] | None, programs: list[Any] | None, views: Sequence[np.ndarray] | None,
         spec: ObservationSpec | None) -> None:
    """One C job per emulator: ``n`` frames, the first ``skip`` not converted, the program after each."""
    gray = spec.gray if spec is not None else False
    size = spec.size if spec is not None else None
    if steps is None:
        [em] = ems
        em.step(n, pool=pool, skip=skip, out=None if targets is None else targets[0],
                program=None if programs is None else programs[0], obs=None if views is None else views[0],
                gray=gray, size=size)
    else:
        steps.step(ems, n=n, pool=pool, skip=skip, outs=targets, programs=programs, obs=views, gray=gray,
                   size=size)

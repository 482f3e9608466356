"""Check that a game replays identically from saved states: ``python3 -m retro.examples.determinism``.

``check_env`` plays a list of actions once, saving the emulator state every
``CHUNK_LENGTH`` steps, then restarts from each saved state and replays the
rest: every chunk must give the same reward and the same RAM as the first time.
It runs in a child process with a timeout, so a game that crashes or hangs is a
failure, not the end of the check.

``MoreDeterministicRetroState`` is the wrapper the check plays through: its
``get_state()``/``reset(state=...)`` save and restore the emulator and the
observation, and with ``reset_on_step=True`` it restores the state it just saved
before every step (for emulators whose saved state does not hold everything;
this project's cores do not need it, and the check passes either way).

The Atari 2600's Stella core, as Gym Retro and stable-retro build it, leaves
some of the machine out of its saves (the paddles' charge, the sound counters);
so that a restore continues as the save's own run did, a save here settles the
emulator to what a restore of it gives, which makes the run that saved differ
from one that did not. Its games therefore fail the check without
``--deterministic`` (in stable-retro too, where restoring is what differs); the
ALE core (``core="ale"``) saves the whole machine and passes.

With no arguments it checks every game of the library whose ROM is imported
(``--suffix -Atari2600`` for one system); ``--movie-file`` checks the actions of
a ``.bk2`` from its start state.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np

import retro
from retro.env import as_classic

#: Steps between the saved states the check restarts from.
CHUNK_LENGTH = 128


class MoreDeterministicRetroState(gym.Wrapper):
    """A wrapper whose state (emulator state and last observation) can be saved and restored.

    ``get_state()`` returns ``(emulator state, observation)``; ``reset(state=...)``
    restores one and restarts the scenario's reward and done tracking from it
    (a reward or done that depends on a Lua script's own variables may differ).
    With ``reset_on_step=True`` every step first restores the state it saves.
    Wrappers with their own state (``TimeLimit``) would need the same methods.
    """

    def __init__(self, *args: Any, reset_on_step: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_obs: Any = None
        self._terminated = False
        self._truncated = False
        self._reset_on_step = reset_on_step

    def _gymnasium(self) -> bool:
        return getattr(self.unwrapped, "api", "gymnasium") == "gymnasium"

    def reset(self, state: tuple[bytes, Any] | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        """Restore ``state`` (from :meth:`get_state`), or reset the env; returns what the env's ``reset`` does."""
        self._terminated = self._truncated = False
        if state is None:
            result = self.env.reset(**kwargs)
            self._last_obs = result[0] if self._gymnasium() else result
            return result
        em_state, self._last_obs = state
        unwrapped: Any = self.unwrapped
        if unwrapped.em.set_state(em_state) is False:  # stable-retro's policy answers False instead of raising
            raise ValueError("the emulator refused the saved state")
        unwrapped.data.reset()
        unwrapped.data.update_ram()
        return (self._last_obs, {}) if self._gymnasium() else self._last_obs

    def get_ram(self) -> np.ndarray:
        """The game's RAM now."""
        unwrapped: Any = self.unwrapped
        return unwrapped.get_ram()

    def step(self, act: Any) -> Any:
        if self._reset_on_step:
            self.reset(state=self.get_state())
        result = tuple(self.env.step(act))
        self._last_obs = result[0]
        if len(result) == 5:
            self._terminated, self._truncated = bool(result[2]), bool(result[3])
        else:
            self._terminated = bool(result[2])
        return result

    def get_state(self) -> tuple[bytes, Any]:
        """``(emulator state, last observation)``; a finished episode has no state to continue from."""
        assert not (self._terminated or self._truncated), "cannot store a terminal state"
        unwrapped: Any = self.unwrapped
        return unwrapped.em.get_state(), self._last_obs


def rollout(env: Any, acts: Sequence[Any]) -> float:
    """Play ``acts`` (stopping when the game ends); the total reward."""
    total = 0.0
    for act in acts:
        _obs, rew, done, _info = as_classic(tuple(env.step(act)))
        total += rew
        if done:
            break
    return total


def chunk(L: Sequence[Any], length: int) -> list[Sequence[Any]]:
    """``L`` cut into consecutive pieces of ``length`` (the last may be shorter)."""
    return [L[i:i + length] for i in range(0, len(L), length)]


def partition(L: Sequence[Any], pieces: int) -> list[Sequence[Any]]:
    """``L`` cut into at most ``pieces`` consecutive pieces of equal length (the last may be shorter)."""
    return chunk(L, len(L) // pieces + 1)


def check_env_helper(make_env: Callable[[], Any], all_acts: Sequence[Any], verbose: bool, out_success: Any) -> None:
    """The check itself (``check_env`` runs it in a child): sets ``out_success.value``."""
    env = make_env()
    try:
        env.reset()
        valid_acts = []  # the actions before the game ends: a finished game has no state to save
        for act in all_acts:
            if as_classic(tuple(env.step(act)))[2]:
                break
            valid_acts.append(act)

        env.reset()
        in_states = [env.get_state()]
        in_acts = chunk(valid_acts, CHUNK_LENGTH)
        out_rews, out_rams = [], []
        for acts in in_acts:
            out_rews.append(rollout(env, acts))
            out_rams.append(env.get_ram())
            in_states.append(env.get_state())
        in_states.pop()  # no actions follow the last state

        success = True
        for start in range(len(in_states)):
            if verbose:
                print(start + 1, len(in_states))
            env.reset(state=in_states[start])
            for offset, acts in enumerate(in_acts[start:]):
                if not np.array_equal(rollout(env, acts), out_rews[start + offset]):
                    print(f"failed rew: from state {start}, chunk {start + offset}")
                    success = False
                if not np.array_equal(env.get_ram(), out_rams[start + offset]):
                    print(f"failed ram: from state {start}, chunk {start + offset}")
                    success = False
    finally:
        env.close()
    out_success.value = success


def check_env(make_env: Callable[[], Any], acts: Sequence[Any], verbose: bool = False,
              timeout: float | None = None) -> bool:
    """Whether the game ``make_env()`` makes replays ``acts`` identically from every saved state.

    Runs in a child process (forked, so ``make_env`` may be a closure); a child
    that crashes, raises or outlives ``timeout`` seconds is a failure.
    """
    context: Any = mp.get_context("fork" if os.name == "posix" else "spawn")
    out_success = context.Value("b", False)
    p = context.Process(target=check_env_helper, args=(make_env, acts, verbose, out_success), daemon=True)
    p.start()
    p.join(timeout)
    if p.is_alive():
        print("failed to finish in time")
        p.terminate()
        p.join()
        return False
    return bool(out_success.value)


def _movie_actions(path: str, buttons: int) -> tuple[str, bytes | None, list[list[int]]]:
    movie = retro.Movie(path)
    try:
        movie.step()
        game, state = movie.get_game(), movie.get_state()
        acts = []
        while movie.step():
            acts.append([int(movie.get_key(i, p)) for p in range(movie.players) for i in range(buttons)])
        return game, state, acts
    finally:
        movie.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deterministic", action="store_true", help="restore the saved state before every step")
    parser.add_argument("--suffix", default="", help="check the games whose names end with this")
    parser.add_argument("--movie-file", help="check the actions of this .bk2, from its start state")
    parser.add_argument("--timeout", type=float, default=128.0, help="seconds a game's check may take (128)")
    args = parser.parse_args(argv)
    reset_on_step = bool(args.deterministic)

    if args.movie_file is None:
        games = [g for g in sorted(retro.data.list_games()) if g.endswith(args.suffix)]
        failed, checked = [], 0
        for game in games:
            try:
                retro.data.get_romfile_path(game)
            except FileNotFoundError:
                continue  # its ROM is not imported: nothing to check
            print(game)

            def make_env(game: str = game) -> Any:
                return MoreDeterministicRetroState(retro.make(game=game), reset_on_step=reset_on_step)

            env = make_env()
            env.action_space.seed(0)
            acts = [env.action_space.sample() for _ in range(CHUNK_LENGTH * 2)]
            env.close()
            checked += 1
            if not check_env(make_env, acts, timeout=args.timeout):
                failed.append(game)
        for game in failed:
            print("failed:", game)
        print(f"checked {checked} games: {checked - len(failed)} deterministic, {len(failed)} failed")
    else:
        probe = retro.make(_movie_actions(args.movie_file, 0)[0], state=retro.State.DEFAULT,
                           use_restricted_actions=retro.Actions.ALL)
        buttons = probe.num_buttons
        probe.close()
        game, start, acts = _movie_actions(args.movie_file, buttons)

        def make_movie_env() -> Any:
            env = retro.make(game, state=retro.State.DEFAULT, use_restricted_actions=retro.Actions.ALL)
            env.initial_state = start
            return MoreDeterministicRetroState(env, reset_on_step=reset_on_step)

        ok = check_env(make_movie_env, acts, verbose=True, timeout=args.timeout)
        print(f"{args.movie_file}: {len(acts)} frames, {'deterministic' if ok else 'failed'}")


if __name__ == "__main__":
    main()

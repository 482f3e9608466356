"""Play a game with the keyboard, in a window: ``retro play Airstriker-Genesis``.

Keys: arrows move; Z, X, C are A, B, C (Atari fire is Z); A, S, D are X, Y, Z;
Q, W are L, R; TAB is SELECT/MODE; ENTER is START (Atari RESET); ESC quits.

It needs pygame (``pip install 'retro[play]'``) and a display. Without one,
``SDL_VIDEODRIVER=dummy`` plays with nothing shown (``--frames N`` stops it),
and ``retro playback`` renders a movie recorded with ``--record`` to video.
"""

from __future__ import annotations

import abc
import argparse
import os
import sys
import time
from typing import Any

import numpy as np

import retro
from retro import _cli
from retro.env import as_classic

KEYMAP = {
    "UP": "UP", "DOWN": "DOWN", "LEFT": "LEFT", "RIGHT": "RIGHT",
    "z": ("A", "BUTTON", "I"), "x": ("B", "II"), "c": ("C", "III"),
    "a": ("X", "IV"), "s": ("Y", "V"), "d": ("Z", "VI"),
    "q": ("L",), "w": ("R",), "TAB": ("SELECT", "MODE"), "RETURN": ("START", "RESET", "RUN"),
}

NO_DISPLAY = ("a window needs a display: {problem}; `retro playback` renders a movie (recorded with --record) "
              "to video, and SDL_VIDEODRIVER=dummy plays with nothing visible")


def keys_to_action(pressed: set[str], buttons: list[str | None]) -> np.ndarray:
    """The MultiBinary action for a set of pressed key names."""
    action = np.zeros(len(buttons), dtype=np.int8)
    for key in pressed:
        names = KEYMAP.get(key, ())
        names = (names,) if isinstance(names, str) else names
        for name in names:
            if name in buttons:
                action[buttons.index(name)] = 1
    return action


def key_names(key: int) -> list[str]:
    """Names of a pygame key code as Gym Retro's interactive examples spell keys (pyglet's): ``"Z"``, ``"ENTER"``...

    Letters are upper case, digits ``"_1"``; Return is both ``"RETURN"``
    and ``"ENTER"``, as in pyglet, where they are one key.
    """
    pygame = _pygame()
    name = pygame.key.name(key)
    special = {"return": ["ENTER", "RETURN"], "escape": ["ESCAPE"], "left shift": ["LSHIFT"],
               "right shift": ["RSHIFT"], "left ctrl": ["LCTRL"], "right ctrl": ["RCTRL"], "left alt": ["LALT"],
               "right alt": ["RALT"], "space": ["SPACE"], "backspace": ["BACKSPACE"], "tab": ["TAB"],
               "enter": ["NUM_ENTER"]}
    if name in special:
        return list(special[name])
    if len(name) == 1 and name.isdigit():
        return ["_" + name]
    return [name.upper().replace(" ", "_")] if name else []


def _pygame() -> Any:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no greeting on stdout
    return _cli.require("pygame", "play")


class Interactive(abc.ABC):
    """Play a Gymnasium or Gym Retro env with the keyboard, in a window (Gym Retro's and stable-retro's class).

    Subclasses say how keys become an action (:meth:`keys_to_act`) and
    what to show (:meth:`get_image`); :meth:`run` plays until the window
    is closed or ESC is pressed.

    Args:
        env: the env; it is reset here.
        sync: step only when a key is clicked (turn-based games), with the
            keys clicked since the last step; otherwise step ``tps`` times
            a second with the keys held.
        tps: steps per second.
        aspect_ratio: width / height of the window (default: the image's).

    The window is pygame's: constructing one needs a display, as
    stable-retro's (pyglet's) does, or ``SDL_VIDEODRIVER=dummy`` to show
    nothing; without either it raises :class:`~retro.errors.ConfigurationError`.
    """

    def __init__(self, env: Any, sync: bool = True, tps: int = 60, aspect_ratio: float | None = None) -> None:
        from retro.rendering import get_window

        obs = _observation(env.reset())
        self._image = self.get_image(obs, env)
        assert len(self._image.shape) == 3 and self._image.shape[2] == 3, "must be an RGB image"
        image_height, image_width = self._image.shape[:2]
        if aspect_ratio is None:
            aspect_ratio = image_width / image_height

        pygame = _pygame()
        pygame.display.init()
        # a window that does not distort the image much and is neither tiny nor huge
        sizes = pygame.display.get_desktop_sizes() or [(1024, 768)]
        max_win_width, max_win_height = sizes[0][0] * 0.9, sizes[0][1] * 0.9
        win_width = image_width
        win_height = int(win_width / aspect_ratio)
        while win_width > max_win_width or win_height > max_win_height:
            win_width //= 2
            win_height //= 2
        while win_width < max_win_width / 2 and win_height < max_win_height / 2:
            win_width *= 2
            win_height *= 2
        self._pg: Any = pygame
        self._win = get_window(win_width, win_height, None, caption=type(self).__name__)
        self._env = env
        self._key_handler: dict[int, bool] = {}
        """Key code -> held, as the window's events last said (pyglet's ``KeyStateHandler``)."""
        self._key_previous_states: dict[int, bool] = {}

        self._steps = 0
        self._episode_steps = 0
        self._episode_returns: Any = 0
        self._prev_episode_returns: Any = 0

        self._tps = tps
        self._sync = sync
        self._current_time = 0.0
        self._sim_time = 0.0
        self._max_sim_frames_per_update = 4

    def _poll(self) -> None:
        """Take the window's events: keys pressed and released, and the window closed."""
        pg = self._pg
        for event in pg.event.get():
            if event.type == pg.QUIT:
                self._on_close()
            elif event.type == pg.KEYDOWN:
                self._key_handler[event.key] = True
            elif event.type == pg.KEYUP:
                self._key_handler[event.key] = False

    def _update(self, dt: float) -> None:
        # at most a few steps per update, so slow rendering does not make the game race to catch up
        dt = min(dt, self._max_sim_frames_per_update / self._tps)
        self._current_time += dt
        while self._sim_time < self._current_time:
            self._sim_time += 1 / self._tps

            keys_clicked = set()
            keys_pressed = set()
            for key_code, pressed in self._key_handler.items():
                if pressed:
                    keys_pressed.add(key_code)
                if pressed and not self._key_previous_states.get(key_code, False):
                    keys_clicked.add(key_code)
                self._key_previous_states[key_code] = pressed

            if self._pg.K_ESCAPE in keys_pressed:
                self._on_close()

            # an async env repeats the keys held; a sync one takes the keys clicked since its last step
            inputs = keys_clicked if self._sync else keys_pressed
            keys = [name for code in inputs for name in key_names(code)]
            act = self.keys_to_act(keys)
            if self._sync and act is None:
                continue
            obs, rew, done, _info = as_classic(self._env.step(act))
            self._image = self.get_image(obs, self._env)
            self._episode_returns += rew
            self._steps += 1
            self._episode_steps += 1
            np.set_printoptions(precision=2)
            if self._sync:
                print(f"steps={self._steps} episode_steps={self._episode_steps} rew={rew} "
                      f"episode_returns={self._episode_returns} done={int(done)}")
            elif self._steps % self._tps == 0 or done:
                delta = self._episode_returns - self._prev_episode_returns
                self._prev_episode_returns = self._episode_returns
                print(f"steps={self._steps} episode_steps={self._episode_steps} "
                      f"episode_returns_delta={delta} episode_returns={self._episode_returns}")
            if done:
                self._env.reset()
                self._episode_steps = 0
                self._episode_returns = 0
                self._prev_episode_returns = 0

    def _draw(self) -> None:
        pg = self._pg
        image = np.ascontiguousarray(np.asarray(self._image, dtype=np.uint8)[:, :, :3].swapaxes(0, 1))
        surface = pg.surfarray.make_surface(image)
        size = self._win.get_size()
        if surface.get_size() != size:
            surface = pg.transform.scale(surface, size)
        self._win.blit(surface, (0, 0))

    def _on_close(self) -> None:
        self._env.close()
        self._pg.display.quit()
        sys.exit(0)

    @abc.abstractmethod
    def get_image(self, obs: Any, venv: Any) -> np.ndarray:
        """Given an observation and the env, return the RGB array to show."""

    @abc.abstractmethod
    def keys_to_act(self, keys: list[str]) -> Any:
        """Given the names of the keys input, return the action to step the env with.

        A sync env gets the keys clicked since its last step (return None to
        not step); an async env the keys held now.
        """

    def run(self) -> None:
        """Play until the window is closed or ESC is pressed (both end the process, as in Gym Retro)."""
        prev_frame_time = time.time()
        while True:
            self._poll()
            now = time.time()
            self._update(now - prev_frame_time)
            prev_frame_time = now
            self._draw()
            self._pg.display.flip()
            time.sleep(max(0.0, 1 / self._tps - (time.time() - now)) / 2)


def _observation(reset: Any) -> Any:
    """The observation of what ``reset()`` returned: ``obs``, or ``obs`` of Gymnasium's ``(obs, info)``."""
    if isinstance(reset, tuple) and len(reset) == 2 and isinstance(reset[1], dict):
        return reset[0]
    return reset


#: Gym Retro's keys for its button names (key names as :func:`key_names` gives them).
RETRO_KEYS = {
    "BUTTON": "Z", "A": "Z", "B": "X", "C": "C", "X": "A", "Y": "S", "Z": "D", "L": "Q", "R": "W",
    "UP": "UP", "DOWN": "DOWN", "LEFT": "LEFT", "RIGHT": "RIGHT",
    "MODE": "TAB", "SELECT": "TAB", "RESET": "ENTER", "START": "ENTER",
}


class RetroInteractive(Interactive):
    """Play a retro game with the keyboard (Gym Retro's and stable-retro's ``RetroInteractive``).

    Keys: arrows move; Z, X, C are A, B, C (the Atari's fire is Z); A, S, D
    are X, Y, Z; Q, W are L, R; TAB is MODE/SELECT; ENTER is START (the
    Atari's RESET). Buttons without a key there (the PC Engine's II...VI,
    the N64's C buttons...) take the key the system's ``keybinds`` give.
    """

    def __init__(self, game: str, state: Any = retro.State.DEFAULT, scenario: str | None = None,
                 record: Any = False) -> None:
        env = retro.make(game, state, scenario=scenario, record=record or False, render_mode="rgb_array")
        self._buttons: list[str | None] = list(env.buttons)
        system = env.system
        info = retro.get_system_info(system) if system else {}
        self._keybinds: list[str | None] = list(info.get("keybinds") or [None] * len(self._buttons))
        try:
            super().__init__(env=env, sync=False, tps=60, aspect_ratio=4 / 3)
        except BaseException:
            env.close()
            raise

    def get_image(self, _obs: Any, env: Any) -> np.ndarray:
        """The env's screen (``env.render()`` in ``rgb_array`` mode)."""
        return np.asarray(env.render())

    def keys_to_act(self, keys: list[str]) -> list[bool]:
        """One bool per button: whether its key is held."""
        held = set(keys)
        act = []
        for i, button in enumerate(self._buttons):
            key = RETRO_KEYS.get(button) if button else None
            if key is None and button and i < len(self._keybinds):
                key = self._keybinds[i]
            act.append(key is not None and key in held)
        return act


def main(argv: list[str] | None = None) -> int:
    """``retro play``: its exit status (errors are one line on stderr)."""
    return _cli.run("retro play", lambda: play(argv))


def play(argv: list[str] | None = None) -> int:
    parser = _cli.ArgumentParser(prog="retro play", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    _cli.add_game_argument(parser, "the game to play (default Airstriker-Genesis; retro list shows them)")
    parser.add_argument("--state", default=retro.State.DEFAULT, help="the state to start from")
    parser.add_argument("--scenario", default=None, help="the scenario (rewards and done condition)")
    parser.add_argument("--record", default=False, nargs="?", const=True,
                        help="record .bk2 movies (in the given directory, or the working directory)")
    parser.add_argument("--frames", type=int, default=0, help="stop after this many frames (0: until ESC)")
    args = parser.parse_args(argv)
    game = _cli.known_game(_cli.game_argument(parser, args, default="Airstriker-Genesis") or "", need_rom=True)

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no greeting on stdout
    pygame = _cli.require("pygame", "play")
    from retro.rendering import display_problem

    problem = display_problem()
    if problem is not None:
        raise _cli.CommandError(NO_DISPLAY.format(problem=problem), _cli.FAILURE)

    env = retro.make(game, args.state, scenario=args.scenario, record=args.record,
                     use_restricted_actions=retro.Actions.ALL, render_mode="rgb_array",
                     inttype=retro.data.Integrations.ALL)
    frames = 0
    try:
        env.reset()
        try:
            pygame.display.init()
            h, w = env.em.get_resolution()[::-1]
            scale = max(1, 640 // w)
            window = pygame.display.set_mode((w * scale, h * scale))
        except pygame.error as e:
            raise _cli.CommandError(f"cannot open a window: {e}", _cli.FAILURE) from None
        pygame.display.set_caption(f"retro: {game}")
        print(f"playing {game}: arrows move, Z X C are A B C, ENTER is START, ESC quits", flush=True)
        clock = pygame.time.Clock()
        names = {pygame.K_UP: "UP", pygame.K_DOWN: "DOWN", pygame.K_LEFT: "LEFT", pygame.K_RIGHT: "RIGHT",
                 pygame.K_TAB: "TAB", pygame.K_RETURN: "RETURN"}
        running = True
        try:
            while running and (args.frames == 0 or frames < args.frames):
                for event in pygame.event.get():
                    if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                        running = False
                held = pygame.key.get_pressed()
                pressed = {name for key, name in names.items() if held[key]}
                pressed |= {chr(k) for k in range(ord("a"), ord("z") + 1) if held[k]}
                obs, _rew, done, _info = env.step(keys_to_action(pressed, env.buttons))
                surface = pygame.surfarray.make_surface(np.ascontiguousarray(obs.swapaxes(0, 1)))
                window.blit(pygame.transform.scale(surface, (w * scale, h * scale)), (0, 0))
                pygame.display.flip()
                frames += 1
                if done:
                    env.reset()
                if not os.environ.get("SDL_VIDEODRIVER") == "dummy":
                    clock.tick(60)
        except KeyboardInterrupt:  # Ctrl-C ends the game as ESC does
            pass
    finally:
        env.close()
        pygame.display.quit()
    print(f"played {frames} frames of {game}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Play a game with the keyboard: ``python3 -m retro.examples.interactive --game Airstriker-Genesis``.

Keys: arrows move; Z, X, C are A, B, C (Atari fire is Z); A, S, D are X, Y, Z;
Q, W are L, R; TAB is SELECT/MODE; ENTER is START (Atari RESET); ESC quits.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import retro

KEYMAP = {
    "UP": "UP", "DOWN": "DOWN", "LEFT": "LEFT", "RIGHT": "RIGHT",
    "z": ("A", "BUTTON", "I"), "x": ("B", "II"), "c": ("C", "III"),
    "a": ("X", "IV"), "s": ("Y", "V"), "d": ("Z", "VI"),
    "q": ("L",), "w": ("R",), "TAB": ("SELECT", "MODE"), "RETURN": ("START", "RESET", "RUN"),
}


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--game", default="Airstriker-Genesis")
    parser.add_argument("--state", default=retro.State.DEFAULT)
    parser.add_argument("--scenario", default=None)
    parser.add_argument("--record", default=False, nargs="?", const=True,
                        help="record .bk2 movies (in the given directory, or the working directory)")
    parser.add_argument("--frames", type=int, default=0, help="stop after this many frames (0: until ESC)")
    args = parser.parse_args(argv)

    import pygame

    env = retro.make(args.game, args.state, scenario=args.scenario, record=args.record,
                     use_restricted_actions=retro.Actions.ALL, render_mode="rgb_array")
    env.reset()
    pygame.display.init()
    h, w = env.em.get_resolution()[::-1]
    scale = max(1, 640 // w)
    window = pygame.display.set_mode((w * scale, h * scale))
    pygame.display.set_caption(f"retro: {args.game}")
    clock = pygame.time.Clock()
    names = {pygame.K_UP: "UP", pygame.K_DOWN: "DOWN", pygame.K_LEFT: "LEFT", pygame.K_RIGHT: "RIGHT",
             pygame.K_TAB: "TAB", pygame.K_RETURN: "RETURN"}
    frames = 0
    running = True
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
    env.close()
    pygame.display.quit()


if __name__ == "__main__":
    main()

"""A window that shows frames, for ``render_mode="human"`` (pygame).

Nothing opens unless asked; tests run it with ``SDL_VIDEODRIVER=dummy``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SimpleImageViewer", "check_display"]


def check_display() -> None:
    """Raise ``ConfigurationError`` unless a window can be shown (or SDL was told to render nowhere)."""
    import os
    import sys

    from retro.errors import ConfigurationError

    if os.environ.get("SDL_VIDEODRIVER", "").lower() in ("dummy", "offscreen"):
        return  # rendering nowhere on purpose
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise ConfigurationError(
            'render_mode="human" needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is set. '
            'Use render_mode="rgb_array" (e.g. with gymnasium.wrappers.RecordVideo, or show frames '
            'in a notebook), or set SDL_VIDEODRIVER=dummy to render nowhere on purpose')


class SimpleImageViewer:
    """Shows RGB frames scaled up to at least ``min_width`` pixels wide."""

    def __init__(self, caption: str = "retro", min_width: int = 640) -> None:
        try:
            import pygame
        except ImportError as e:  # pragma: no cover - pygame is a test dependency
            from gymnasium.error import DependencyNotInstalled

            raise DependencyNotInstalled(
                'render_mode="human" needs pygame: pip install pygame') from e
        self._pg: Any = pygame
        self.caption = caption
        self.min_width = min_width
        self.window: Any = None
        self.isopen = True

    def imshow(self, arr: np.ndarray) -> None:
        pg = self._pg
        h, w = arr.shape[:2]
        scale = max(1, -(-self.min_width // w))
        if self.window is None:
            pg.display.init()
            self.window = pg.display.set_mode((w * scale, h * scale))
            pg.display.set_caption(self.caption)
        for event in pg.event.get():
            if event.type == pg.QUIT:
                self.close()
                return
        surface = pg.surfarray.make_surface(np.ascontiguousarray(arr.swapaxes(0, 1)))
        if scale != 1:
            surface = pg.transform.scale(surface, (w * scale, h * scale))
        self.window.blit(surface, (0, 0))
        pg.display.flip()

    def close(self) -> None:
        if self.window is not None:
            self._pg.display.quit()
            self.window = None
        self.isopen = False

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

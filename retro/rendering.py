"""A window that shows frames, for ``render_mode="human"`` (pygame).

Nothing opens unless asked; tests run it with ``SDL_VIDEODRIVER=dummy``.
stable-retro's ``retro.rendering`` names are here with their meaning, on
pygame instead of pyglet: :func:`get_display`, :func:`get_window` and
:class:`SimpleImageViewer` (``imshow(arr, rotation=)``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["SimpleImageViewer", "Display", "get_display", "get_window", "check_display", "display_problem",
           "warn_no_display"]


def display_problem() -> str | None:
    """Why no window can be shown here (None where one can, or where SDL was told to render nowhere)."""
    import os
    import sys

    if os.environ.get("SDL_VIDEODRIVER", "").lower() in ("dummy", "offscreen"):
        return None  # rendering nowhere on purpose
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    return None


def check_display() -> None:
    """Raise ``ConfigurationError`` unless a window can be shown (or SDL was told to render nowhere)."""
    from retro.errors import ConfigurationError

    if display_problem() is not None:
        raise ConfigurationError(
            'render_mode="human" needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is set. '
            'Use render_mode="rgb_array" (e.g. with gymnasium.wrappers.RecordVideo, or show frames '
            'in a notebook), or set SDL_VIDEODRIVER=dummy to render nowhere on purpose')


def warn_no_display() -> bool:
    """Warn (once per process) that ``render_mode="human"`` shows nothing here; True where that is so.

    An env asked for ``"human"`` on a machine with no display (a server, CI,
    Gymnasium's ``check_env``, which makes every render mode) plays on
    and shows nothing, rather than failing.
    """
    global _warned
    problem = display_problem()
    if problem is None:
        return False
    if not _warned:
        _warned = True
        import warnings

        warnings.warn(f'render_mode="human" shows nothing: {problem}. Use render_mode="rgb_array" to get frames, '
                      'or set SDL_VIDEODRIVER=dummy to render nowhere without this warning', RuntimeWarning,
                      stacklevel=3)
    return True


_warned = False


class Display:
    """Where windows open: an X display (``":0"``), or ``None`` for the default one (``DISPLAY``).

    What :func:`get_display` gives; nothing connects to the display until a
    window opens on it.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def problem(self) -> str | None:
        """Why no window can open on this display (None where one can): :func:`display_problem` for the default."""
        return None if self.name else display_problem()

    def __repr__(self) -> str:
        return f"Display({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Display) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


def get_display(spec: str | Display | None) -> Display:
    """A display from its specification: None (the default one) or a string like ``":0"`` (stable-retro's).

    Anything else raises ``ValueError``, as stable-retro's does.
    """
    if spec is None or isinstance(spec, str):
        return Display(spec or None)
    if isinstance(spec, Display):
        return spec
    raise ValueError(f"Invalid display specification: {spec}. (Must be a string like :0 or None.)")


def _pygame() -> Any:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no greeting on stdout
    try:
        import pygame
    except ImportError as e:  # pragma: no cover - pygame is a test dependency
        from gymnasium.error import DependencyNotInstalled

        raise DependencyNotInstalled(
            "a window needs pygame, which is not installed: pip install 'retro[play]'") from e
    return pygame


def get_window(width: int, height: int, display: str | Display | None = None, **kwargs: Any) -> Any:
    """Open a ``width`` x ``height`` window on ``display`` and return it (stable-retro's ``get_window``).

    The window is pygame's display surface (pygame has one window per
    process: a second call resizes it). Keyword arguments: ``caption``
    (the title), ``resizable`` and ``vsync`` (bools), as stable-retro passes
    them. With no display (see :func:`display_problem`) it raises
    :class:`~retro.errors.ConfigurationError`; ``SDL_VIDEODRIVER=dummy``
    opens one that shows nothing.
    """
    caption = kwargs.pop("caption", None)
    resizable = bool(kwargs.pop("resizable", False))
    vsync = bool(kwargs.pop("vsync", False))
    if kwargs:
        raise TypeError(f"get_window() got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
    where = get_display(display)
    problem = where.problem()
    if problem is not None:
        from retro.errors import ConfigurationError

        raise ConfigurationError(f"cannot open a window: {problem}. Set SDL_VIDEODRIVER=dummy to render nowhere")
    pg = _pygame()
    if where.name and not pg.display.get_init():
        os.environ["DISPLAY"] = where.name  # SDL opens its windows on the X display DISPLAY names
    pg.display.init()
    flags = pg.RESIZABLE if resizable else 0
    try:
        window = pg.display.set_mode((int(width), int(height)), flags, vsync=1 if vsync else 0)
    except pg.error:
        if not vsync:
            raise
        window = pg.display.set_mode((int(width), int(height)), flags)  # no vsync where the driver has none
    if caption is not None:
        pg.display.set_caption(str(caption))
    return window


class SimpleImageViewer:
    """Shows RGB frames in a window (stable-retro's ``SimpleImageViewer``, on pygame).

    Args:
        display: where the window opens (see :func:`get_display`).
        maxwidth: frames wider than this are shown scaled down to it
            (None: no limit).
        caption: the window's title.
        min_width: frames narrower than this are shown scaled up by a whole
            factor to at least this width, before ``maxwidth`` applies
            (None: no scaling up).

    The window opens on the first :meth:`imshow`; ``isopen`` turns False
    when the user closes it or :meth:`close` is called.
    """

    def __init__(self, display: str | Display | None = None, maxwidth: int | None = 500, caption: str = "retro",
                 min_width: int | None = None) -> None:
        self._pg: Any = _pygame()
        self.display = get_display(display)
        self.maxwidth = maxwidth
        self.caption = caption
        self.min_width = min_width
        self.window: Any = None
        self.isopen = False
        self.width = 0
        self.height = 0
        self._rotation = 0

    def window_size(self, arr_shape: tuple[int, ...], rotation: int = 0) -> tuple[int, int]:
        """``(width, height)`` of the window for frames of shape ``arr_shape`` turned ``rotation`` quarter turns."""
        height, width = int(arr_shape[0]), int(arr_shape[1])
        if int(rotation) % 2:
            width, height = height, width
        if self.min_width and width < self.min_width:
            scale = -(-self.min_width // width)
            width, height = width * scale, height * scale
        if self.maxwidth and width > self.maxwidth:
            factor = self.maxwidth / width
            width, height = int(factor * width), int(factor * height)
        return width, height

    def imshow(self, arr: np.ndarray, rotation: int = 0) -> None:
        """Show an ``(height, width, 3)`` RGB frame, turned ``rotation`` quarter turns counter-clockwise.

        ``rotation`` is what :meth:`RetroEmulator.get_rotation` reports
        (libretro's convention), so a rotated arcade screen shows upright.
        """
        assert len(arr.shape) == 3, "You passed in an image with the wrong number shape"
        pg = self._pg
        self._rotation = int(rotation) % 4
        if self.window is None:
            self.width, self.height = self.window_size(arr.shape, self._rotation)
            self.window = get_window(self.width, self.height, self.display, caption=self.caption, resizable=True)
            self.isopen = True
        for event in pg.event.get():
            if event.type == pg.QUIT:
                self.close()
                return
            if event.type == pg.VIDEORESIZE:
                self.width, self.height = event.w, event.h
        frame = np.rot90(arr[:, :, :3], self._rotation) if self._rotation else arr[:, :, :3]
        surface = pg.surfarray.make_surface(np.ascontiguousarray(frame.swapaxes(0, 1)))
        if surface.get_size() != (self.width, self.height):
            surface = pg.transform.scale(surface, (self.width, self.height))
        self.window.blit(surface, (0, 0))
        pg.display.flip()

    def close(self) -> None:
        """Close the window (if open)."""
        if self.window is not None:
            self._pg.display.quit()
            self.window = None
        self.isopen = False

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

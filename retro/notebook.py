"""Games in Jupyter: a frame as an image, an episode or a movie as a video, inline.

Objects here display themselves through IPython's display protocol
(``_repr_png_``, ``_repr_html_``), so the last expression of a cell shows::

    import retro, retro.notebook

    env = retro.make("Pong-Atari2600")
    env.reset()
    retro.notebook.frame(env)              # the screen, as a PNG
    retro.notebook.episode(env, steps=600) # an episode played by a policy (random by default), as an MP4
    retro.Movie("run.bk2")                 # a movie renders as a video with its sound

Importing this module is what makes a ``retro.Movie`` being read display as
a video. Nothing here imports IPython (``show`` does, when called). Videos
are H.264 MP4s made by ffmpeg (the system's or the ``imageio-ffmpeg``
wheel's) and embedded in the notebook, so long videos make big notebooks:
``every=`` keeps one frame in so many.
"""

from __future__ import annotations

import base64
import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from typing import Any, Callable, Iterable

import numpy as np

from retro._fileutil import atomic_write
from retro.errors import ConfigurationError, RetroError
from retro.movie import Movie

__all__ = ["Frame", "Video", "frame", "episode", "movie", "show", "encode_png"]


def encode_png(image: np.ndarray) -> bytes:
    """A PNG of a uint8 image: ``(H, W)`` gray or ``(H, W, 3)`` RGB."""
    img = np.ascontiguousarray(image)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 3)):
        raise ConfigurationError(f"expected a uint8 (H, W) or (H, W, 3) image, got {img.dtype} {img.shape}")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    h, w = img.shape[:2]
    color = 2 if img.ndim == 3 else 0
    rows = img.reshape(h, -1)
    raw = np.empty((h, rows.shape[1] + 1), np.uint8)
    raw[:, 0] = 0  # filter type None on every row
    raw[:, 1:] = rows

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
            + chunk(b"IEND", b""))


def _upscale(image: np.ndarray, scale: int) -> np.ndarray:
    if not isinstance(scale, int) or scale < 1:
        raise ConfigurationError(f"scale must be an int >= 1, got {scale!r}")
    if scale == 1:
        return image
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


class Frame:
    """One picture (a uint8 array) that shows itself as a PNG, ``scale`` times its size."""

    def __init__(self, image: np.ndarray, scale: int = 2) -> None:
        self.image = np.asarray(image)
        self.scale = scale
        encode_png(self.image[:1, :1])  # checks the type and shape now

    def _repr_png_(self) -> bytes:
        return encode_png(_upscale(self.image, self.scale))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the PNG to ``path`` (whole or not at all)."""
        atomic_write(path, self._repr_png_())

    def __repr__(self) -> str:
        return f"<retro.notebook.Frame {self.image.shape}>"


class Video:
    """An MP4 video (its bytes in ``data``) that shows itself as an HTML5 player."""

    def __init__(self, data: bytes, *, frames: int | None = None, fps: float | None = None) -> None:
        self.data = data
        self.frames = frames
        self.fps = fps

    @classmethod
    def from_frames(cls, frames: Iterable[np.ndarray], fps: float = 60.0, scale: int = 2) -> "Video":
        """Encode RGB (or gray) uint8 frames, all of one size, into an H.264 MP4."""
        from retro.scripts.playback_movie import ffmpeg_exe

        it = iter(frames)
        try:
            first = np.asarray(next(it))
        except StopIteration:
            raise ConfigurationError("a video needs at least one frame") from None
        if first.dtype != np.uint8 or first.ndim not in (2, 3):
            raise ConfigurationError(f"expected uint8 (H, W) or (H, W, 3) frames, got {first.dtype} {first.shape}")
        gray = first.ndim == 2 or first.shape[2] == 1
        h, w = first.shape[:2]
        tmpdir = tempfile.mkdtemp(prefix="retro-video-")
        try:
            out = os.path.join(tmpdir, "video.mp4")
            # even sizes for yuv420p; nearest-neighbour scaling keeps the pixels sharp
            vf = f"scale={w * scale}:{h * scale}:flags=neighbor,pad=ceil(iw/2)*2:ceil(ih/2)*2"
            encoder = subprocess.Popen(
                [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "gray" if gray else "rgb24",
                 "-s", f"{w}x{h}", "-r", repr(float(fps)), "-i", "pipe:0", "-vf", vf, "-c:v", "libx264",
                 "-pix_fmt", "yuv420p", "-crf", "20", "-movflags", "+faststart", out],
                stdin=subprocess.PIPE)
            assert encoder.stdin is not None
            count = 0
            try:
                for f in _chain(first, it):
                    arr = np.ascontiguousarray(f)
                    if arr.shape[:2] != (h, w) or arr.dtype != np.uint8:
                        raise ConfigurationError(
                            f"frame {count} is {arr.dtype} {arr.shape}; the first was {first.shape}")
                    encoder.stdin.write(arr.tobytes())
                    count += 1
            finally:
                encoder.stdin.close()
                code = encoder.wait()
            if code != 0:
                raise RetroError(f"ffmpeg failed (exit code {code}) while encoding {count} frames")
            with open(out, "rb") as fh:
                return cls(fh.read(), frames=count, fps=fps)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> "Video":
        """A video from an MP4 file."""
        with open(path, "rb") as f:
            return cls(f.read())

    def _repr_html_(self) -> str:
        b64 = base64.b64encode(self.data).decode("ascii")
        return f'<video controls loop playsinline src="data:video/mp4;base64,{b64}"></video>'

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the MP4 to ``path`` (whole or not at all)."""
        atomic_write(path, self.data)

    def __repr__(self) -> str:
        return f"<retro.notebook.Video {len(self.data)} bytes, {self.frames or '?'} frames>"


def _chain(first: np.ndarray, rest: Iterable[np.ndarray]) -> Iterable[np.ndarray]:
    yield first
    yield from rest


def _screen(env: Any) -> np.ndarray:
    """An env's current screen: a retro env's (through wrappers), else what ``render()`` returns."""
    inner = getattr(env, "unwrapped", env)
    get_screen = getattr(inner, "get_screen", None)
    if callable(get_screen):
        return np.asarray(get_screen())
    image = env.render()
    if not isinstance(image, np.ndarray):
        raise ConfigurationError(f"{env!r} is not a retro env and its render() gave no image "
                                 f"(make it with render_mode='rgb_array')")
    return image


def frame(source: Any, scale: int = 2) -> Frame:
    """A :class:`Frame` of an env's current screen (a retro env, or any env rendering ``rgb_array``) or of an array."""
    if isinstance(source, np.ndarray):
        return Frame(source, scale)
    return Frame(_screen(source), scale)


def episode(env: Any, policy: Callable[[Any], Any] | None = None, steps: int = 3600, *, seed: int | None = None,
            every: int = 1, fps: float | None = None, scale: int = 2) -> Video:
    """Play one episode of ``env`` (at most ``steps`` steps) and return it as a :class:`Video`.

    ``policy(observation)`` chooses each action (default: random actions
    from the action space). Works with the classic and the Gymnasium step
    API. ``every`` keeps one frame in ``every``; ``fps`` defaults to the
    env's (60 for most games) divided by ``every``.
    """
    if not isinstance(every, int) or every < 1:
        raise ConfigurationError(f"every must be an int >= 1, got {every!r}")
    if policy is None:
        env.action_space.seed(seed)

        def policy(_obs: Any) -> Any:
            return env.action_space.sample()

    out = env.reset(seed=seed) if seed is not None else env.reset()
    obs = out[0] if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict) else out
    frames = [_screen(env)]
    for t in range(steps):
        result = env.step(policy(obs))
        obs = result[0]
        done = bool(result[2] or result[3]) if len(result) == 5 else bool(result[2])
        if (t + 1) % every == 0 or done:
            frames.append(_screen(env))
        if done:
            break
    if fps is None:
        meta = getattr(env, "metadata", {}) or {}
        fps = float(meta.get("render_fps") or 60) / every
    return Video.from_frames(frames, fps=fps, scale=scale)


def movie(source: Any, *, audio: bool = True) -> Video:
    """A ``.bk2`` movie (a ``retro.Movie`` or a path) rendered with its sound, as a :class:`Video`.

    It is rendered by ``retro playback``'s code into
    a temporary folder; nothing is written beside the movie.
    """
    from retro.scripts.playback_movie import playback_movie

    path = os.fspath(getattr(source, "path", source))
    if not os.path.isfile(path):
        raise ConfigurationError(f"{path} is not a movie file")
    tmpdir = tempfile.mkdtemp(prefix="retro-movie-")
    try:
        copy = os.path.join(tmpdir, "movie" + os.path.splitext(path)[1])
        shutil.copyfile(path, copy)
        result = playback_movie(copy, audio=audio, progress=False)
        video = Video.from_file(result["video"])
        video.frames, video.fps = result["frames"], result["fps"]
        return video
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def show(obj: Any, scale: int = 2) -> None:
    """Display an env's screen, an array, a movie or a video in the notebook now (needs IPython)."""
    from IPython.display import display

    if isinstance(obj, (Frame, Video)):
        display(obj)
    elif isinstance(obj, Movie):
        display(movie(obj))
    else:
        display(frame(obj, scale))


def _movie_html(source: Movie) -> str:
    """The HTML a movie being read shows as in Jupyter: its :func:`movie` video."""
    return movie(source)._repr_html_()


Movie._html_renderer = _movie_html

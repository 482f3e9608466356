"""Observation preprocessing written plainly in numpy float64: what retro's C code must match.

Max of the last two frames, luma with the documented weights, area-averaging
resize (each output pixel the mean of the area it covers), rounded half up.
"""

from __future__ import annotations

import numpy as np

# the 0.299/0.587/0.114 luma weights in the 16-bit fixed point retro documents
LUMA = np.array([19595, 38470, 7471]) / 65536


def area_matrix(src: int, dst: int) -> np.ndarray:
    """``dst x src`` weights of an area-averaging resize: each output covers src/dst inputs."""
    m = np.zeros((dst, src))
    scale = src / dst
    for i in range(dst):
        lo, hi = i * scale, (i + 1) * scale
        for j in range(int(lo), min(int(np.ceil(hi)), src)):
            m[i, j] = (min(hi, j + 1) - max(lo, j)) / scale
    return m


def area_resize(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``picture`` (H, W) or (H, W, C), as float64, resized by area averaging, not rounded."""
    rows = area_matrix(picture.shape[0], size[0])
    cols = area_matrix(picture.shape[1], size[1])
    out = np.tensordot(rows, picture.astype(np.float64), axes=(1, 0))
    return np.moveaxis(np.tensordot(cols, out, axes=(1, 1)), 0, 1)


def reference_observation(frame: np.ndarray, prev: np.ndarray | None = None, *, gray: bool = False,
                          size: tuple[int, int] | None = None) -> np.ndarray:
    """What ``get_observation(gray=gray, size=size, pool=prev is not None)`` should give, exactly."""
    picture = (frame if prev is None else np.maximum(frame, prev)).astype(np.float64)
    if gray:
        picture = picture @ LUMA
    if size is not None:
        picture = area_resize(picture, size)
    return np.clip(np.floor(picture + 0.5), 0, 255).astype(np.uint8)


def reference_preprocess(frames: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """Atari preprocessing of one frame skip: the last two ``frames`` pooled, gray, resized."""
    return reference_observation(frames[-1], frames[-2], gray=True, size=size)

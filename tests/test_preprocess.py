"""Observation preprocessing in C (retro/_resize.h): max-pool, luma, area resize, in fixed point.

Every output is within 1 of the exact area average computed in float64 and
rounded half up (tests/preprocess_reference.py), on random pictures of random
sizes, on the sizes the consoles use and on real frames; and within 1 of
OpenCV's INTER_AREA where OpenCV averages areas (downscaling).
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retro
from retro._preprocess import ResizePlan, preprocess
from retro.emulator import RetroEmulator
from tests.preprocess_reference import LUMA, area_resize, reference_observation

# (height, width) of consoles' pictures: Atari 2600, SNES, Genesis, NES
SCREENS = [(210, 160), (224, 256), (224, 320), (240, 256)]


def pictures(shape: tuple[int, int], seed: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Two pictures to pool: noise, flat colour, or blocks of colour (edges on and off the grid)."""
    rng = np.random.default_rng(seed)

    def one() -> np.ndarray:
        if kind == "noise":
            return rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        if kind == "flat":
            return np.full((*shape, 3), rng.integers(0, 256, 3), np.uint8)
        small = rng.integers(0, 256, (max(1, shape[0] // 3), max(1, shape[1] // 2), 3), dtype=np.uint8)
        rows = np.minimum(np.arange(shape[0]) // 3, small.shape[0] - 1)
        cols = np.minimum(np.arange(shape[1]) // 2, small.shape[1] - 1)
        return np.ascontiguousarray(small[rows][:, cols])

    return one(), one()


def check_against_reference(frame: np.ndarray, prev: np.ndarray | None, gray: bool,
                            size: tuple[int, int] | None) -> np.ndarray:
    """The observation, asserted within 1 of the reference everywhere; returns |difference|."""
    got = preprocess(frame, prev, gray=gray, size=size)
    want = reference_observation(frame, prev, gray=gray, size=size)
    assert got.shape == want.shape and got.dtype == np.uint8
    diff = np.abs(got.astype(int) - want)
    assert diff.max() <= 1, f"off by {diff.max()} at {np.unravel_index(diff.argmax(), diff.shape)}"
    return diff


@settings(max_examples=300, deadline=None)
@given(h=st.integers(1, 64), w=st.integers(1, 64), oh=st.integers(1, 64), ow=st.integers(1, 64),
       gray=st.booleans(), pool=st.booleans(), seed=st.integers(0, 2**32 - 1),
       kind=st.sampled_from(["noise", "flat", "blocks"]))
def test_random_sizes_match_the_exact_area_average(h, w, oh, ow, gray, pool, seed, kind):
    """Down, up, mixed and unchanged sizes, one- and many-pixel edges."""
    frame, prev = pictures((h, w), seed, kind)
    check_against_reference(frame, prev if pool else None, gray, (oh, ow))
    if kind == "flat":
        # the weights of each output sum to exactly one: a flat picture stays exactly flat
        value = preprocess(frame, prev if pool else None, gray=gray)[0, 0]
        assert (preprocess(frame, prev if pool else None, gray=gray, size=(oh, ow)) == value).all()


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("size", [(84, 84), (None)], ids=["84x84", "same-size"])
@pytest.mark.parametrize("mode", ["pool+gray", "gray", "rgb", "pool+rgb"])
def test_console_sizes_match_the_exact_area_average(screen, size, mode):
    frame, prev = pictures(screen, 7, "noise")
    diff = check_against_reference(frame, prev if "pool" in mode else None, "gray" in mode, size)
    # only rounding at an exact value within a few 1/256 of a half can go the other way
    assert diff.mean() < 0.01


@pytest.mark.parametrize("screen, size", [((210, 160), (105, 80)), ((224, 256), (112, 128)),
                                          ((210, 160), (70, 40)), ((210, 160), (84, 84)),
                                          ((224, 256), (84, 84)), ((224, 320), (84, 84)),
                                          ((210, 160), (110, 100)), ((37, 53), (10, 7))])
def test_downscaling_matches_opencv_inter_area(screen, size):
    """Whole and fractional ratios: OpenCV averages areas when it shrinks."""
    frame, prev = pictures(screen, 3, "noise")
    dsize = (size[1], size[0])
    rgb = preprocess(frame, size=size)
    assert np.abs(rgb.astype(int) - cv2.resize(frame, dsize, interpolation=cv2.INTER_AREA)).max() <= 1
    pooled = np.maximum(frame, prev)
    luma = cv2.resize(pooled.astype(np.float64) @ LUMA, dsize, interpolation=cv2.INTER_AREA)
    gray = preprocess(frame, prev, gray=True, size=size)
    assert np.abs(gray.astype(int) - np.floor(luma + 0.5)).max() <= 1
    # (OpenCV sums in float32 for whole ratios)
    assert np.abs(luma - area_resize(pooled.astype(np.float64) @ LUMA, size)).max() < 1e-3


def test_plans_are_reused_without_carrying_anything_over():
    """One plan per size serves pooled, plain, gray and RGB calls in any order."""
    a, b = pictures((210, 160), 11, "noise")
    c, d = pictures((210, 160), 12, "blocks")
    first = [preprocess(a, b, gray=True, size=(84, 84)), preprocess(c, size=(84, 84)),
             preprocess(c, d, gray=True, size=(84, 84)), preprocess(a, gray=True, size=(84, 84))]
    again = [preprocess(a, gray=True, size=(84, 84)), preprocess(c, d, gray=True, size=(84, 84)),
             preprocess(c, size=(84, 84)), preprocess(a, b, gray=True, size=(84, 84))]
    for x, y in zip(first, again[::-1]):
        assert np.array_equal(x, y)
    out = np.empty((84, 84), np.uint8)
    assert preprocess(a, b, out, gray=True, size=(84, 84)) is out and np.array_equal(out, first[0])


def test_threads_preprocessing_at_once_get_their_own_results():
    """The GIL is released while a plan runs: threads must not share its scratch rows."""
    inputs = [pictures((210, 160), seed, "noise") for seed in range(4)]
    want = [preprocess(a, b, gray=True, size=(84, 84)) for a, b in inputs]
    failures: list[int] = []

    def work(k: int) -> None:
        a, b = inputs[k]
        for _ in range(300):
            if not np.array_equal(preprocess(a, b, gray=True, size=(84, 84)), want[k]):
                failures.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


@pytest.mark.parametrize("rom", ["pong_rom", "airstriker_rom"])
def test_real_frames_match_the_exact_area_average(rom, request):
    """Atari 2600 (210x160) and Genesis (224x320) frames from the emulator, pooled and not."""
    with RetroEmulator(request.getfixturevalue(rom)) as em:
        em.step(90)
        em.step(1)
        before = em.get_screen()
        for _ in range(3):
            em.step(1, pool=True)
            after = em.get_screen()
            for gray in (True, False):
                for size in ((84, 84), None):
                    want = reference_observation(after, before, gray=gray, size=size)
                    got = em.get_observation(gray=gray, size=size, pool=True)
                    assert np.abs(got.astype(int) - want).max() <= 1
                    want = reference_observation(after, gray=gray, size=size)
                    got = em.get_observation(gray=gray, size=size)
                    assert np.abs(got.astype(int) - want).max() <= 1
            before = after


def test_bad_arrays_and_sizes_are_refused():
    frame = np.zeros((10, 12, 3), np.uint8)
    with pytest.raises(retro.ConfigurationError, match="frame"):
        preprocess(np.zeros((10, 12), np.uint8))
    with pytest.raises(ValueError, match="frame"):
        preprocess(frame[:, ::2])
    with pytest.raises(ValueError, match="prev"):
        preprocess(frame, np.zeros((10, 11, 3), np.uint8))
    with pytest.raises(retro.ConfigurationError, match="positive"):
        preprocess(frame, size=(0, 4))
    with pytest.raises(ValueError, match="shape"):
        preprocess(frame, out=np.empty((5, 5), np.uint8), gray=True, size=(4, 4))
    with pytest.raises(ValueError, match="positive"):
        ResizePlan(10, 0, 4, 4)

"""Pictures to RGB24 (retro/_convert.h through ``convert_frame``): every pixel format, width and pitch."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from retro._preprocess import convert


def reference(words: np.ndarray, pixel_format: int) -> np.ndarray:
    p = words.astype(np.uint32)
    if pixel_format == 1:  # XRGB8888
        rgb = [(p >> 16) & 0xFF, (p >> 8) & 0xFF, p & 0xFF]
    elif pixel_format == 2:  # RGB565
        rgb = [(p >> 8) & 0xF8, (p >> 3) & 0xFC, (p << 3) & 0xF8]
    else:  # 0RGB1555
        rgb = [(p >> 7) & 0xF8, (p >> 2) & 0xF8, (p << 3) & 0xF8]
    return np.stack(rgb, axis=-1).astype(np.uint8)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([0, 1, 2]), st.integers(1, 70), st.integers(1, 5), st.integers(0, 9), st.integers(0, 12),
       st.integers(0, 2**32 - 1))
def test_every_pixel_of_every_format_width_and_pitch(pixel_format: int, width: int, height: int, pad: int,
                                                      margin: int, seed: int) -> None:
    """Widths that are and are not multiples of the 8-pixel blocks, rows with padding, a wider output."""
    dtype = np.uint32 if pixel_format == 1 else np.uint16
    row_words = width + pad
    words = np.random.default_rng(seed).integers(0, np.iinfo(dtype).max, (height, row_words), dtype=dtype,
                                                 endpoint=True)
    out = convert(words.tobytes(), width, height, row_words * words.itemsize, pixel_format, width + margin, height)
    np.testing.assert_array_equal(out[:, :width], reference(words[:, :width], pixel_format))
    assert not out[:, width:].any()  # what the picture does not cover is black

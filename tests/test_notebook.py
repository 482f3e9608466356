"""retro.notebook: frames as PNGs, episodes and movies as MP4 videos, for Jupyter's display protocol."""

from __future__ import annotations

import base64
import os
import struct
import subprocess
import zlib

import gymnasium
import numpy as np
import pytest

import retro
import retro.notebook as nb
from retro.scripts.playback_movie import ffmpeg_exe


def decode_png(data: bytes) -> np.ndarray:
    """The pixels of a PNG whose rows all use filter 0 (what encode_png writes), read chunk by chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, color = struct.unpack(">IIBB", header[:10])
    channels = 3 if color == 2 else 1
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * channels)
    assert depth == 8 and (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape((h, w, 3) if channels == 3 else (h, w))


def video_frames(data: bytes, tmp_path) -> np.ndarray:
    """Decode an MP4 back to RGB frames with ffmpeg."""
    path = tmp_path / "v.mp4"
    path.write_bytes(data)
    probe = subprocess.run([ffmpeg_exe(), "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                           capture_output=True, check=True)
    size = next(tok for tok in probe.stderr.decode().split() if "x" in tok and tok.rstrip(",").replace("x", "").isdigit())
    w, h = (int(v) for v in size.rstrip(",").split("x"))
    return np.frombuffer(probe.stdout, np.uint8).reshape(-1, h, w, 3)


def test_frame_of_an_env_is_its_screen_as_png():
    env = retro.make("Pong-Atari2600")
    env.reset()
    for _ in range(30):
        env.step(env.action_space.sample())
    screen = env.get_screen()
    png = nb.frame(env, scale=1)._repr_png_()
    assert np.array_equal(decode_png(png), screen)
    big = decode_png(nb.frame(env)._repr_png_())
    assert big.shape == (420, 320, 3) and np.array_equal(big[::2, ::2], screen)
    env.close()
    gym_env = gymnasium.make("retro/Pong-Atari2600-v0")
    gym_env.reset(seed=0)
    assert decode_png(nb.frame(gym_env, scale=1)._repr_png_()).shape == (210, 160, 3)
    gym_env.close()
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(decode_png(nb.Frame(gray, scale=1)._repr_png_()), gray)
    with pytest.raises(retro.ConfigurationError):
        nb.Frame(np.zeros((4, 4), np.float32))


def test_episode_is_an_inline_video(tmp_path):
    env = retro.make("Pong-Atari2600", api="gymnasium")
    video = nb.episode(env, steps=90, seed=0, every=3)
    env.close()
    assert video.frames == 31 and video.fps == 20.0
    html = video._repr_html_()
    assert html.startswith("<video") and "data:video/mp4;base64," in html
    data = base64.b64decode(html.split("base64,")[1].split('"')[0])
    assert data[4:8] == b"ftyp"
    frames = video_frames(data, tmp_path)
    assert frames.shape == (31, 420, 320, 3)
    assert frames.std() > 10  # a picture, not a blank


def test_movie_renders_as_video_and_writes_nothing_beside_it(tmp_path):
    rec = tmp_path / "rec"
    rec.mkdir()
    env = retro.make("Pong-Atari2600", record=str(rec))
    env.reset()
    for _ in range(60):
        env.step(env.action_space.sample())
    env.close()
    [name] = os.listdir(rec)
    movie = retro.Movie(str(rec / name))
    html = movie._repr_html_()
    assert html is not None and "data:video/mp4;base64," in html
    assert os.listdir(rec) == [name]
    data = base64.b64decode(html.split("base64,")[1].split('"')[0])
    assert len(video_frames(data, tmp_path)) == 60
    assert retro.Movie(str(tmp_path / "new.bk2"), record=True)._repr_html_() is None

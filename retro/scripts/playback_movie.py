"""Render movies to video: ``python3 -m retro.scripts.playback_movie FILE.bk2...``.

Gym Retro's flags and outputs: a video beside each movie (``.mp4``, or
``.mkv`` for ``-L png``/``-L ffv1``) with its audio, ``-i`` a ``.json`` list
of per-step info, ``-a`` a ``.npz`` of the actions (and the info with
``-i``), ``-c`` a monitor CSV of episode rewards and lengths. No display is
needed. ffmpeg is the system's, or the one in the ``imageio-ffmpeg`` wheel.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from retro.errors import RetroError

LOSSLESS = ("mp4", "mp4rgb", "png", "ffv1")


def ffmpeg_exe() -> str:
    """The system's ffmpeg, else the one shipped in the imageio-ffmpeg wheel."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError as e:
        raise RetroError("rendering video needs ffmpeg: apt-get install ffmpeg, or pip install imageio-ffmpeg") from e
    return imageio_ffmpeg.get_ffmpeg_exe()


def _video_args(lossless: str | None) -> tuple[list[str], str]:
    if lossless is None:
        return ["-c:v", "libx264", "-preset", "slow", "-crf", "17", "-pix_fmt", "yuv420p"], ".mp4"
    if lossless == "mp4":
        return ["-c:v", "libx264", "-preset", "veryslow", "-crf", "0", "-pix_fmt", "yuv444p"], ".mp4"
    if lossless == "mp4rgb":
        return ["-c:v", "libx264rgb", "-crf", "0", "-pix_fmt", "rgb24"], ".mp4"
    if lossless == "png":
        return ["-c:v", "png"], ".mkv"
    return ["-c:v", "ffv1", "-pix_fmt", "bgr0"], ".mkv"


def _audio_args(lossless: str | None) -> list[str]:
    if lossless in ("png", "ffv1"):
        return ["-c:a", "flac"]
    return ["-c:a", "aac", "-b:a", "192k" if lossless == "mp4" else "128k"]


def _progress(name: str, done: int, total: int, start: float) -> None:
    rate = done / max(time.perf_counter() - start, 1e-9)
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r{name}: [{'#' * filled}{'.' * (width - filled)}] {done}/{total} frames, {rate:.0f} fps")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def playback_movie(
    path: str,
    *,
    video: bool = True,
    audio: bool = True,
    info_dict: bool = False,
    npy_actions: bool = False,
    lossless: str | None = None,
    ending: int | None = None,
    viewer: str | None = None,
    monitor_csv: Any = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Play one movie and write what was asked for beside it; returns a summary."""
    import retro
    from retro.data import Integrations
    from retro.movie import Movie

    movie = Movie(path)
    total = len(movie) - 1 if len(movie) else 0
    movie.step()  # the frame the recording's reset() played
    env = retro.make(game=movie.get_game(), state=retro.State.NONE, inttype=Integrations.ALL,
                     use_restricted_actions=retro.Actions.ALL, players=movie.players)
    base = os.path.splitext(path)[0]
    outputs: dict[str, Any] = {}
    try:
        env.initial_state = movie.get_state() or None
        env.reset()
        em = env.em
        fps = em.get_screen_rate()
        rate = em.get_audio_rate()
        extra = max(ending, 0) if ending is not None else 0
        keep_last = -ending if ending is not None and ending < 0 else None
        total += extra
        progress = sys.stderr.isatty() and total > 2000 if progress is None else progress

        tmpdir = tempfile.mkdtemp(prefix="retro-playback-")
        encoder = None
        video_tmp = os.path.join(tmpdir, "video.nut")
        frame_shape = env.observation_space.shape if env.img is not None else em.get_screen().shape
        if video:
            h, w = em.get_screen().shape[:2]
            encoder = subprocess.Popen(
                [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                 "-s", f"{w}x{h}", "-r", repr(fps), "-i", "pipe:0",
                 "-c:v", "rawvideo", "-f", "nut", video_tmp],
                stdin=subprocess.PIPE)
        frames: list[np.ndarray] = []
        sound: list[np.ndarray] = []
        infos: list[dict[str, Any]] = []
        actions: list[np.ndarray] = []
        rewards = np.zeros(movie.players)
        episode_len = 0
        episode_start = 0
        start = time.perf_counter()
        nb = env.num_buttons
        step = 0
        done_before = False
        while True:
            if movie.step():
                keys = np.zeros(nb * movie.players, dtype=np.uint8)
                for p, mask in enumerate(movie.masks()):
                    for i in range(nb):
                        keys[p * nb + i] = mask >> i & 1
                switches = movie.get_console()
                if switches:
                    env.session.console(switches)  # power and reset, before the frame
            elif extra > 0:
                extra -= 1
                keys = np.zeros(nb * movie.players, dtype=np.uint8)
            else:
                break
            _obs, rew, done, info = env.step(keys)
            step += 1
            episode_len += 1
            rewards += np.atleast_1d(rew)
            if video:
                frame = em.get_screen()
                if keep_last is not None:
                    frames.append(frame)
                    if len(frames) > keep_last:
                        frames.pop(0)
                else:
                    assert encoder is not None and encoder.stdin is not None
                    encoder.stdin.write(frame.tobytes())
            if audio:
                sound.append(em.get_audio())
                if keep_last is not None and len(sound) > keep_last:
                    sound.pop(0)
            if info_dict:
                infos.append({k: int(v) if isinstance(v, (bool, np.integer)) else v for k, v in info.items()})
            if npy_actions:
                actions.append(keys.astype(bool))
            if monitor_csv is not None and done and not done_before:
                monitor_csv.writerow([*rewards.tolist(), episode_len, round((step - episode_start) / 60.0, 6)])
                rewards[:] = 0
                episode_len = 0
                episode_start = step
            done_before = bool(done)
            if progress and step % 500 == 0:
                _progress(os.path.basename(path), step, total, start)
        if progress:
            _progress(os.path.basename(path), step, step, start)
        if monitor_csv is not None:
            monitor_csv.writerow([*rewards.tolist(), episode_len, round((step - episode_start) / 60.0, 6)])

        if video:
            assert encoder is not None and encoder.stdin is not None
            for frame in frames:
                encoder.stdin.write(frame.tobytes())
            encoder.stdin.close()
            if encoder.wait() != 0:
                raise RetroError(f"ffmpeg failed while encoding {path}")
            vargs, ext = _video_args(lossless)
            cmd = [ffmpeg_exe(), "-y", "-loglevel", "error", "-i", video_tmp]
            if audio and sound:
                wav = os.path.join(tmpdir, "audio.wav")
                with wave.open(wav, "wb") as wf:
                    wf.setnchannels(2)
                    wf.setsampwidth(2)
                    wf.setframerate(int(round(rate)))
                    wf.writeframes(np.concatenate(sound).astype("<i2").tobytes())
                cmd += ["-i", wav] + _audio_args(lossless)
            else:
                cmd += ["-an"]
            if viewer:
                out = subprocess.Popen(cmd + vargs + ["-f", "nut", "pipe:1"], stdout=subprocess.PIPE)
                view = subprocess.Popen([viewer, "-"], stdin=out.stdout)
                assert out.stdout is not None
                out.stdout.close()
                view.wait()
                out.wait()
            else:
                target = base + ext
                tmp_target = os.path.join(tmpdir, "out" + ext)
                if subprocess.run(cmd + vargs + [tmp_target]).returncode != 0:
                    raise RetroError(f"ffmpeg failed while writing {target}")
                shutil.move(tmp_target, target)
                outputs["video"] = target
        shutil.rmtree(tmpdir, ignore_errors=True)

        if npy_actions:
            arrays: dict[str, Any] = {"actions": np.array(actions, dtype=bool).reshape(-1, nb * movie.players)}
            if info_dict:
                arrays["info"] = np.array(infos, dtype=object)
            np.savez_compressed(base + ".npz", **arrays)
            outputs["npz"] = base + ".npz"
        elif info_dict:
            with open(base + ".json", "w") as f:
                json.dump(infos, f)
            outputs["json"] = base + ".json"
        outputs.update(frames=step, shape=frame_shape, fps=fps, seconds=time.perf_counter() - start)
        return outputs
    finally:
        env.close()


def _play(args: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    path, kwargs = args
    return playback_movie(path, **kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m retro.scripts.playback_movie", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("movies", nargs="+", help=".bk2 or .fm2 files")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--jobs", "-j", type=int, default=1, help="movies rendered at once")
    group.add_argument("--csv-out", "-c", help="write a monitor CSV of episode rewards and lengths")
    parser.add_argument("--ending", "-e", type=int,
                        help="N<0: only the last |N| frames go to the video; N>=0: play N no-op frames after the end")
    parser.add_argument("--viewer", "-v", help="pipe the video to a viewer program (e.g. ffplay)")
    parser.add_argument("--no-audio", "-A", action="store_true")
    parser.add_argument("--no-video", "-V", action="store_true")
    parser.add_argument("--info-dict", "-i", action="store_true", help="write the per-step info")
    parser.add_argument("--npy-actions", "-a", action="store_true", help="write the actions as .npz")
    parser.add_argument("--lossless", "-L", choices=LOSSLESS)
    args = parser.parse_args(argv)
    kwargs = dict(video=not args.no_video, audio=not args.no_audio, info_dict=args.info_dict,
                  npy_actions=args.npy_actions, lossless=args.lossless, ending=args.ending, viewer=args.viewer)
    from retro import data

    data.add_integrations(data.Integrations.ALL)
    try:
        if args.csv_out:
            with open(args.csv_out, "w", newline="") as f:
                f.write('#{"t_start": 0.0, "gym_version": "retro", "env_id": "%s"}\n' % ",".join(args.movies))
                writer = csv.writer(f)
                for path in args.movies:
                    players = _players(path)
                    writer.writerow((["r"] if players == 1 else [f"r{p}" for p in range(players)]) + ["l", "t"])
                    report(playback_movie(path, monitor_csv=writer, **kwargs), path)
        elif args.jobs > 1:
            with ProcessPoolExecutor(args.jobs) as pool:
                for path, result in zip(args.movies, pool.map(_play, [(m, kwargs) for m in args.movies])):
                    report(result, path)
        else:
            for path in args.movies:
                report(playback_movie(path, **kwargs), path)
    except RetroError as e:
        print(f"playback_movie: {e}", file=sys.stderr)
        return 1
    return 0


def _players(path: str) -> int:
    from retro.movie import Movie

    return Movie(path).players


def report(result: dict[str, Any], path: str) -> None:
    made = ", ".join(f"{result[k]}" for k in ("video", "json", "npz") if k in result) or "nothing written"
    print(f"{path}: {result['frames']} frames in {result['seconds']:.1f} s -> {made}")


if __name__ == "__main__":
    raise SystemExit(main())

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
import signal
import subprocess
import sys
import tempfile
import time
import wave
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable

import numpy as np

from retro.errors import OutputExistsError, RetroError

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


TEMP_PREFIX = "retro-playback-"


def _temp_folder() -> str:
    """A private folder for the raw video and audio, named with this process's id.

    Folders that earlier playbacks left (a process killed outright cannot
    clean up) are removed first, once their process is gone.
    """
    root = tempfile.gettempdir()
    try:
        names = os.listdir(root)
    except OSError:
        names = []
    for name in names:
        if not name.startswith(TEMP_PREFIX):
            continue
        pid_text = name[len(TEMP_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        except OSError:
            pass  # alive, or not ours to signal
    return tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-")


def _outputs_planned(base: str, video: bool, viewer: str | None, lossless: str | None, info_dict: bool,
                     npy_actions: bool) -> list[str]:
    planned = []
    if video and not viewer:
        planned.append(base + _video_args(lossless)[1])
    if npy_actions:
        planned.append(base + ".npz")
    elif info_dict:
        planned.append(base + ".json")
    return planned


def _put(tmp: str, target: str, overwrite: bool) -> None:
    """Move a finished file into place: atomically, and never over an existing file unless asked."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise OutputExistsError(f"{target} appeared while the movie played; pass --force to replace it") from None
    os.unlink(tmp)


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
    overwrite: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Play one movie and write what was asked for beside it; returns a summary.

    Files already beside the movie are never replaced unless ``overwrite``
    (``--force``): ``OutputExistsError`` before anything is played. The raw
    video and audio go to a private temporary folder that is removed however
    the playback ends (error, Ctrl-C, SIGTERM; one left by a killed process
    is removed by the next playback). ``on_progress(frames played, frames in
    all)`` is called every 60 frames and once the frames are played.
    """
    import retro
    from retro.data import Integrations
    from retro.emulator import audio_options, core_for_state
    from retro.movie import Movie

    base = os.path.splitext(path)[0]
    if not overwrite:
        for planned in _outputs_planned(base, video, viewer, lossless, info_dict, npy_actions):
            if os.path.lexists(planned):
                raise OutputExistsError(f"{planned} exists; pass --force (overwrite=True) to replace it")
    movie = Movie(path)
    total = len(movie) - 1 if len(movie) else 0
    movie.step()  # the frame the recording's reset() played
    # a movie made on the ALE core starts from that core's state: it plays there, with its audio asked for
    core = core_for_state(movie.get_state())
    env = retro.make(game=movie.get_game(), state=retro.State.NONE, inttype=Integrations.ALL,
                     use_restricted_actions=retro.Actions.ALL, players=movie.players, core=core,
                     core_options=audio_options(core) if audio else None)
    outputs: dict[str, Any] = {}
    tmpdir: str | None = None
    encoder: subprocess.Popen[bytes] | None = None
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

        tmpdir = _temp_folder()
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
            if on_progress is not None and step % 60 == 0:
                on_progress(step, total)
        if on_progress is not None:
            on_progress(step, step)
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
                _put(tmp_target, target, overwrite)
                outputs["video"] = target

        if npy_actions:
            arrays: dict[str, Any] = {"actions": np.array(actions, dtype=bool).reshape(-1, nb * movie.players)}
            if info_dict:
                arrays["info"] = np.array(infos, dtype=object)
            tmp_npz = os.path.join(tmpdir, "out.npz")
            np.savez_compressed(tmp_npz, **arrays)
            _put(tmp_npz, base + ".npz", overwrite)
            outputs["npz"] = base + ".npz"
        elif info_dict:
            tmp_json = os.path.join(tmpdir, "out.json")
            with open(tmp_json, "w") as f:
                json.dump(infos, f)
            _put(tmp_json, base + ".json", overwrite)
            outputs["json"] = base + ".json"
        outputs.update(frames=step, shape=frame_shape, fps=fps, seconds=time.perf_counter() - start)
        return outputs
    finally:
        if encoder is not None and encoder.poll() is None:
            encoder.kill()
            encoder.wait()
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
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
    parser.add_argument("--force", "-f", action="store_true", help="replace output files that already exist")
    args = parser.parse_args(argv)
    kwargs = dict(video=not args.no_video, audio=not args.no_audio, info_dict=args.info_dict,
                  npy_actions=args.npy_actions, lossless=args.lossless, ending=args.ending, viewer=args.viewer,
                  overwrite=args.force)
    # SIGTERM ends the playback as Ctrl-C does: through the clean-up, not around it
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    from retro import data

    data.add_integrations(data.Integrations.ALL)
    try:
        if args.csv_out and os.path.lexists(args.csv_out) and not args.force:
            raise OutputExistsError(f"{args.csv_out} exists; pass --force to replace it")
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
    except (RetroError, OSError) as e:
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

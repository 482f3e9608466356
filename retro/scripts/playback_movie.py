"""Render movies to video: ``retro playback FILE.bk2...``.

Gym Retro's flags and outputs: a video beside each movie (``.mp4``, or
``.mkv`` for ``-L png``/``-L ffv1``) with its audio, ``-i`` a ``.json`` list
of per-step info, ``-a`` a ``.npz`` of the actions (and the info with
``-i``), ``-c`` a monitor CSV of episode rewards and lengths. No display is
needed. ffmpeg is the system's, or the one in the ``imageio-ffmpeg`` wheel.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator, overload

import numpy as np

from retro import _cli
from retro._fileutil import atomic_path
from retro.env import as_classic
from retro.errors import MovieFormatError, OutputExistsError, RetroError

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


#: ffmpeg's name of the format of each video file extension (outputs are written under a temporary name).
_FORMATS = {".mp4": "mp4", ".mkv": "matroska"}


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


def _show(cmd: list[str], viewer: str) -> None:
    """Pipe ffmpeg's output (``cmd``, to which the pipe's format is added) into ``viewer``, until both end."""
    out = subprocess.Popen(cmd + ["-f", "nut", "pipe:1"], stdout=subprocess.PIPE)
    view = subprocess.Popen([viewer, "-"], stdin=out.stdout)
    assert out.stdout is not None
    out.stdout.close()
    view.wait()
    out.wait()


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


@contextmanager
def _output(target: str, overwrite: bool) -> Iterator[str]:
    """The path to write ``target`` at: it takes the name, whole, when the block ends (:func:`atomic_path`).

    An existing file is never replaced unless ``overwrite``.
    """
    try:
        with atomic_path(target, replace=overwrite) as tmp:
            yield tmp
    except FileExistsError:
        raise OutputExistsError(f"{target} appeared while the movie played; pass --force to replace it") from None


def _playback_file(
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
    from retro.env import make_for_movie
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
    env = make_for_movie(movie, audio=audio)
    outputs: dict[str, Any] = {}
    tmpdir: str | None = None
    encoder: subprocess.Popen[bytes] | None = None
    try:
        recorded = movie.digests
        env.em.digests_on = recorded is not None  # checked against the recording's as it replays
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
        released = np.zeros(nb * movie.players, dtype=np.uint8)
        for keys, switches in itertools.chain(movie.actions(nb), itertools.repeat((released, 0), extra)):
            if switches:
                env.session.console(switches)  # power and reset, before the frame
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
                _show(cmd + vargs, viewer)
            else:
                target = base + ext
                with _output(target, overwrite) as tmp_target:
                    if subprocess.run(cmd + vargs + ["-f", _FORMATS[ext], tmp_target]).returncode != 0:
                        raise RetroError(f"ffmpeg failed while writing {target}")
                outputs["video"] = target

        if npy_actions:
            arrays: dict[str, Any] = {"actions": np.array(actions, dtype=bool).reshape(-1, nb * movie.players)}
            if info_dict:
                arrays["info"] = np.array(infos, dtype=object)
            with _output(base + ".npz", overwrite) as tmp_npz, open(tmp_npz, "wb") as out:
                np.savez_compressed(out, **arrays)
            outputs["npz"] = base + ".npz"
        elif info_dict:
            with _output(base + ".json", overwrite) as tmp_json, open(tmp_json, "w") as f:
                json.dump(infos, f)
            outputs["json"] = base + ".json"
        outputs.update(frames=step, shape=frame_shape, fps=fps, seconds=time.perf_counter() - start)
        if recorded is not None:
            outputs["verified"] = check_replay(env, recorded)
        return outputs
    finally:
        _clean_up(encoder, tmpdir)
        env.close()


def _clean_up(encoder: subprocess.Popen[bytes] | None, tmpdir: str | None) -> None:
    """Stop an encoder still running (a render that failed) and remove the render's scratch folder."""
    if encoder is not None and encoder.poll() is None:
        encoder.kill()
        encoder.wait()
    if tmpdir is not None:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _play(args: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    path, kwargs = args
    return _playback_file(path, **kwargs)


_FILE_OPTIONS = ("video", "audio", "info_dict", "npy_actions", "ending", "progress", "overwrite", "on_progress")


@overload
def playback_movie(emulator: str | os.PathLike[str], movie: None = None, monitor_csv: Any = None,
                   video_file: None = None, info_file: None = None, npy_file: None = None,
                   viewer: str | None = None, video_delay: int = 0, lossless: str | None = None,
                   record_audio: bool = True, *, video: bool = True, audio: bool = True, info_dict: bool = False,
                   npy_actions: bool = False, ending: int | None = None, progress: bool | None = None,
                   overwrite: bool = False, on_progress: Callable[[int, int], None] | None = None,
                   ) -> dict[str, Any]: ...


@overload
def playback_movie(emulator: Any, movie: Any, monitor_csv: Any = None, video_file: str | None = None,
                   info_file: str | None = None, npy_file: str | None = None, viewer: str | None = None,
                   video_delay: int = 0, lossless: str | None = None, record_audio: bool = True) -> None: ...


def playback_movie(emulator: Any, movie: Any = None, monitor_csv: Any = None, video_file: str | None = None,
                   info_file: str | None = None, npy_file: str | None = None, viewer: str | None = None,
                   video_delay: int = 0, lossless: str | None = None, record_audio: bool = True,
                   **options: Any) -> dict[str, Any] | None:
    """Play a movie: Gym Retro's and stable-retro's call, or retro's call on a movie file.

    **Their call** (``emulator`` an env, as :func:`load_movie` makes it):
    ``playback_movie(emulator, movie, monitor_csv=None, video_file=None,
    info_file=None, npy_file=None, viewer=None, video_delay=0,
    lossless=None, record_audio=True)`` plays the rest of ``movie`` on
    ``emulator`` and writes what is asked: ``video_file`` (ffmpeg, with audio
    unless ``record_audio`` is false; ``lossless`` one of ``"mp4"``,
    ``"mp4rgb"``, ``"png"``, ``"ffv1"``), or the video piped to the
    ``viewer`` program; ``info_file`` a JSON list of each step's info;
    ``npy_file`` a ``.npz`` of the actions (and of the info with
    ``info_file``); rows ``{r..., l, t}`` of each episode to the
    ``monitor_csv`` writer (a ``csv.DictWriter``, or a ``csv.writer``). A
    positive ``video_delay`` leaves that many first frames out of the video;
    a negative one plays ``-video_delay`` frames in all, with no buttons held
    after the movie's end. Returns None.

    **retro's call** (``emulator`` the path of a ``.bk2``/``.fm2`` file):
    ``playback_movie(path, *, video=True, audio=True, info_dict=False,
    npy_actions=False, lossless=None, ending=None, viewer=None,
    monitor_csv=None, progress=None, overwrite=False, on_progress=None)``
    writes the outputs beside the movie (as ``retro playback`` does) and
    returns a summary dict (see ``retro playback``).
    """
    if isinstance(emulator, (str, os.PathLike)):
        extra = {"movie": movie, "video_file": video_file, "info_file": info_file, "npy_file": npy_file}
        wrong = [k for k, v in extra.items() if v is not None]
        wrong += ["video_delay"] if video_delay else []
        wrong += ["record_audio"] if record_audio is not True else []
        wrong += [k for k in options if k not in _FILE_OPTIONS]
        if wrong:
            raise TypeError(f"playback_movie(path, ...) takes {', '.join(_FILE_OPTIONS)}, lossless, viewer and "
                            f"monitor_csv; not {', '.join(wrong)} (those go with an env and a Movie)")
        return _playback_file(os.fspath(emulator), viewer=viewer, lossless=lossless, monitor_csv=monitor_csv,
                              **options)
    if options:
        raise TypeError(f"playback_movie(emulator, movie, ...) got unexpected keyword arguments: "
                        f"{', '.join(sorted(options))}")
    if movie is None:
        raise TypeError("playback_movie() needs the movie: playback_movie(emulator, movie, ...), "
                        "or a movie file's path")
    if lossless is not None and lossless not in LOSSLESS:
        raise ValueError(f"lossless must be one of {LOSSLESS} or None, got {lossless!r}")
    _playback_env(emulator, movie, monitor_csv, video_file, info_file, npy_file, viewer, video_delay, lossless,
                  record_audio)
    return None


log = logging.getLogger(__name__)

#: What a movie without digests is told.
DIGESTS_NOTE = ("a movie recorded by retro carries them; Gym Retro's, stable-retro's, BizHawk's and older retro's "
                "do not")


def check_replay(env: Any, recorded: Any) -> Any:
    """The replay so far in ``env`` (digests on since its reset) checked against a movie's digests: a
    :class:`retro.movie.DigestReport`."""
    from retro.movie import MovieDigests

    em = env.em
    frames, pictures = em.take_digests()
    ram = em.get_memory(2)
    return recorded.check(MovieDigests(frames, pictures), 0 if ram is None else int(ram.size))


def verify_movie(path: str | os.PathLike[str]) -> Any:
    """Replay a movie and check it against the digests recorded with it: a :class:`retro.movie.DigestReport`
    (``str()`` says "identical over N frames" or the first frame that differs, and what differs).
    ``MovieFormatError`` if the movie has no digests (it was not recorded by retro)."""
    from retro.movie import Movie

    path = os.fspath(path)
    if Movie(path).digests is None:
        raise MovieFormatError(f"{path} has no digests to check a replay against ({DIGESTS_NOTE})")
    return _playback_file(path, video=False, audio=False, progress=False)["verified"]


def load_movie(movie_file: str | os.PathLike[str]) -> tuple[Any, Any, int]:
    """Gym Retro's and stable-retro's ``load_movie``: ``(env, movie, duration)`` ready for :func:`playback_movie`.

    The env plays the movie's game from the movie's start state (every
    integration kind searched, all buttons of every player); the movie has
    taken its first frame (the one the recording's ``reset()`` played), and
    ``duration`` is how many frames are left to play.
    """
    from retro.env import make_for_movie
    from retro.movie import Movie

    path = os.fspath(movie_file)
    movie = Movie(path)
    duration = len(movie) - 1
    movie.step()
    env = make_for_movie(movie, audio=True)
    try:
        env.em.digests_on = movie.digests is not None  # playback_movie checks the replay against them
        env.reset()
    except BaseException:
        env.close()
        raise
    return env, movie, duration


def _playback_env(emulator: Any, movie: Any, monitor_csv: Any, video_file: str | None, info_file: str | None,
                  npy_file: str | None, viewer: str | None, video_delay: int, lossless: str | None,
                  record_audio: bool) -> None:
    """:func:`playback_movie` with an env and a movie (Gym Retro's call)."""
    em = emulator.em
    nb = int(emulator.num_buttons)
    players = int(movie.players)
    reward_fields = ["r"] if players == 1 else [f"r{p}" for p in range(players)]
    info_steps: list[Any] = []
    actions: list[list[bool]] = []
    video = bool(video_file or viewer)
    tmpdir = _temp_folder() if video else None
    encoder: subprocess.Popen[bytes] | None = None
    sound: list[np.ndarray] = []
    try:
        if video:
            assert tmpdir is not None
            h, w = em.get_screen().shape[:2]
            encoder = subprocess.Popen(
                [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                 "-s", f"{w}x{h}", "-r", repr(em.get_screen_rate()), "-i", "pipe:0",
                 "-c:v", "rawvideo", "-f", "nut", os.path.join(tmpdir, "video.nut")],
                stdin=subprocess.PIPE)
        frames = 0
        score = np.zeros(players)
        was_done = False

        def episode_row() -> None:
            values = [float(x) for x in score]
            if isinstance(monitor_csv, csv.DictWriter):
                monitor_csv.writerow({**dict(zip(reward_fields, values)), "l": frames, "t": frames / 60.0})
            else:
                monitor_csv.writerow([*values, frames, frames / 60.0])

        while True:
            if movie.step():
                keys = [bool(movie.get_key(i, p)) for p in range(players) for i in range(nb)]
                if npy_file:
                    actions.append(keys)
                switches = movie.get_console() if hasattr(movie, "get_console") else 0
                session = getattr(emulator, "session", None)
                if switches and session is not None:
                    session.console(switches)  # power and reset, before the frame
            elif video_delay < 0 and frames < -video_delay:
                keys = [False] * (nb * players)
            else:
                break
            _obs, reward, done, info = as_classic(emulator.step(np.array(keys, dtype=np.uint8)))
            if info_file:
                info_steps.append({k: int(v) if isinstance(v, (bool, np.integer)) else v for k, v in info.items()})
            score += np.atleast_1d(np.asarray(reward, dtype=float))[:players]
            frames += 1
            if encoder is not None and frames > video_delay:
                assert encoder.stdin is not None
                encoder.stdin.write(em.get_screen().tobytes())
                if record_audio:
                    sound.append(em.get_audio())
            if done and not was_done:
                if monitor_csv is not None:
                    episode_row()
                frames = 0
                score[:] = 0
            was_done = done
        if monitor_csv is not None and frames:
            episode_row()
        recorded = movie.digests if em.digests_on else None
        if recorded is not None:  # load_movie turned them on: the replay is checked against the recording
            result = check_replay(emulator, recorded)
            (log.info if result.identical else log.warning)("%s: %s", getattr(movie, "path", "movie"), result)
        if npy_file:
            arrays: dict[str, Any] = {"actions": np.array(actions, dtype=bool).reshape(-1, nb * players)}
            if info_file:
                arrays["info"] = np.array(info_steps, dtype=object)
            npz = os.fspath(npy_file)
            npz += "" if npz.endswith(".npz") else ".npz"  # the name numpy gives the file
            try:
                with atomic_path(npz) as tmp, open(tmp, "wb") as out:
                    np.savez_compressed(out, **arrays)
            except OSError:
                pass
        elif info_file:
            try:
                with atomic_path(info_file) as tmp, open(tmp, "w") as f:
                    json.dump(info_steps, f)
            except OSError:
                pass
        if encoder is not None:
            assert encoder.stdin is not None and tmpdir is not None
            encoder.stdin.close()
            if encoder.wait() != 0:
                raise RetroError("ffmpeg failed while encoding the movie's video")
            cmd = [ffmpeg_exe(), "-y", "-loglevel", "error", "-i", os.path.join(tmpdir, "video.nut")]
            if record_audio and sound:
                wav = os.path.join(tmpdir, "audio.wav")
                with wave.open(wav, "wb") as wf:
                    wf.setnchannels(2)
                    wf.setsampwidth(2)
                    wf.setframerate(int(round(em.get_audio_rate())))
                    wf.writeframes(np.concatenate(sound).astype("<i2").tobytes())
                cmd += ["-i", wav] + _audio_args(lossless)
            else:
                cmd += ["-an"]
            vargs, ext = _video_args(lossless)
            if viewer:
                _show(cmd + vargs, viewer)
            elif video_file:
                with atomic_path(video_file) as tmp:
                    if subprocess.run(cmd + vargs + ["-f", _FORMATS[ext], tmp]).returncode != 0:
                        raise RetroError(f"ffmpeg failed while writing {video_file}")
    finally:
        _clean_up(encoder, tmpdir)


def main(argv: list[str] | None = None) -> int:
    """``retro playback``: its exit status (errors are one line on stderr)."""
    return _cli.run("retro playback", lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    parser = _cli.ArgumentParser(prog="retro playback", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("movies", nargs="+", metavar="FILE.bk2", help=".bk2 or .fm2 files")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--jobs", "-j", type=_cli.positive_int, default=1, help="movies rendered at once")
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
    missing = [m for m in args.movies if not os.path.isfile(m)]
    if missing:
        raise _cli.CommandError(f"no such movie file: {', '.join(missing)}")
    kwargs = dict(video=not args.no_video, audio=not args.no_audio, info_dict=args.info_dict,
                  npy_actions=args.npy_actions, lossless=args.lossless, ending=args.ending, viewer=args.viewer,
                  overwrite=args.force)
    # SIGTERM ends the playback as Ctrl-C does: through the clean-up, not around it
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    from retro import data

    data.add_integrations(data.Integrations.ALL)
    if args.csv_out and os.path.lexists(args.csv_out) and not args.force:
        raise OutputExistsError(f"{args.csv_out} exists; pass --force to replace it")
    if args.csv_out:
        with _output(args.csv_out, args.force) as tmp, open(tmp, "w", newline="") as f:
            f.write('#{"t_start": 0.0, "gym_version": "retro", "env_id": "%s"}\n' % ",".join(args.movies))
            writer = csv.writer(f)
            for path in args.movies:
                players = _players(path)
                writer.writerow((["r"] if players == 1 else [f"r{p}" for p in range(players)]) + ["l", "t"])
                report(_playback_file(path, monitor_csv=writer, **kwargs), path)
    elif args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            for path, result in zip(args.movies, pool.map(_play, [(m, kwargs) for m in args.movies])):
                report(result, path)
    else:
        for path in args.movies:
            report(_playback_file(path, **kwargs), path)
    return 0


def _players(path: str) -> int:
    from retro.movie import Movie

    return Movie(path).players


def report(result: dict[str, Any], path: str) -> None:
    made = ", ".join(f"{result[k]}" for k in ("video", "json", "npz") if k in result) or "nothing written"
    checked = f"; replay {result['verified']}" if "verified" in result else ""
    print(f"{path}: {result['frames']} frames in {result['seconds']:.1f} s -> {made}{checked}")


if __name__ == "__main__":
    raise SystemExit(main())

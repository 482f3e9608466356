"""What each kind of fuzz case is made from (parent side) and how it is run (worker side).

A target class has, for the parent, ``seeds(workdir)`` (valid inputs made
once, a dict), ``corpus()`` (named builders of known hostile cases) and
``mutant(rng, seeds, folder)`` (one mutated case); for the worker,
``__init__(options)`` and ``run(case)``, which must return or raise a
:class:`retro.RetroError`.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import random
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from tests.fuzz import corpus
from tests.fuzz.mutate import (mutate_bytes, mutate_json_bytes, mutate_lua, mutate_state, unzip, zip_bytes)

Builder = Callable[[Path, dict[str, Any]], dict[str, Any]]


def _pong_rom() -> Path:
    import retro

    return Path(retro.data.get_romfile_path("Pong-Atari2600"))


# -- movies -----------------------------------------------------------------------------------------

class Movies:
    """``.bk2`` (Gym Retro's and BizHawk's dialects) and ``.fm2``: read every frame, then play it back."""

    @staticmethod
    def seeds(workdir: Path) -> dict[str, Any]:
        import retro
        from retro.movie import Movie

        rom = _pong_rom()
        em = retro.RetroEmulator(rom)
        em.step(30)
        state = em.get_state()
        em.close()
        host = SimpleNamespace(system="Atari2600", rom_path=str(rom))
        rng = np.random.default_rng(0)
        movies: list[str] = []
        for dialect in ("gym", "bizhawk"):
            for players, with_state in ((1, False), (2, True)):
                path = workdir / f"seed-{dialect}-{players}.bk2"
                m = Movie(path, record=True, players=players, dialect=dialect)
                m.configure("Pong-Atari2600", host)
                if with_state:
                    m.set_state(state)
                for _ in range(120):
                    m.append_frame([int(x) for x in rng.integers(0, 1 << 8, players)], int(rng.integers(0, 2) * 0))
                m.close()
                movies.append(str(path))
        fm2 = workdir / "seed.fm2"
        lines = [b"version 3", b"emuVersion 22020", b"port0 1", b"port1 1", b"port2 0", b"romFilename x"]
        for i in range(120):
            pads = [bytes(int(rng.choice([ord("."), c])) for c in b"RLDUTSBA") for _ in range(2)]
            lines.append(b"|" + (b"1" if i == 5 else b"0") + b"|" + pads[0] + b"|" + pads[1] + b"||")
        fm2.write_bytes(b"\n".join(lines) + b"\n")
        movies.append(str(fm2))
        return {"movies": movies}

    @staticmethod
    def corpus() -> dict[str, Builder]:
        return corpus.MOVIES

    @staticmethod
    def mutant(rng: random.Random, seeds: dict[str, Any], folder: Path) -> dict[str, Any]:
        seed = Path(rng.choice(seeds["movies"]))
        data = seed.read_bytes()
        target = folder / seed.name
        if seed.suffix == ".fm2" or rng.random() < 0.25:
            target.write_bytes(mutate_bytes(rng, data))
            return {"movie": str(target), "play": True, "mutated": "file bytes"}
        members = unzip(data)
        weights = [0.15 if name == "Core.bin" else 1.0 if name in ("Input Log.txt", "Header.txt") else 0.2
                   for name, _ in members]
        i = rng.choices(range(len(members)), weights)[0]
        name, content = members[i]
        members[i] = (name, mutate_bytes(rng, content))
        target.write_bytes(zip_bytes(members))
        return {"movie": str(target), "play": True, "mutated": name}

    def __init__(self, options: dict[str, Any]) -> None:
        import retro  # noqa: F401 - loaded before the address-space limit

    def run(self, case: dict[str, Any]) -> None:
        from retro.movie import Movie
        from retro.scripts.playback_movie import playback_movie

        movie = Movie(case["movie"])
        movie.get_game(), movie.get_state(), movie.header, movie.system, repr(movie)
        frames = 0
        while movie.step() and frames < 20_000:
            movie.masks(), movie.get_console()
            for player in range(movie.players):
                movie.get_key(0, player)
            frames += 1
        if case.get("play"):
            playback_movie(case["movie"], video=False, audio=False, overwrite=True, progress=False)


# -- integrations ----------------------------------------------------------------------------------

GAME = "Fuzz-Atari2600"
DATA = {"info": {
    "score": {"address": 142, "type": "|u1"},
    "enemy": {"address": 141, "type": "|u1"},
    "word": {"address": 140, "type": "<u2"},
    "bcd": {"address": 142, "type": "=n1"},
    "masked": {"address": 143, "type": "|u1", "mask": 15},
}}
SCENARIO = {
    "reward": {"variables": {"score": {"reward": 1.0}, "enemy": {"penalty": 1.0}}},
    "done": {"condition": "any", "variables": {"score": {"op": "equal", "reference": 21}},
             "nodes": {"both": {"condition": "all", "variables": {"enemy": {"op": "greater-than", "reference": 20},
                                                                  "word": {"op": "nonzero"}}}}},
    "actions": [[[], ["UP"], ["DOWN"]], [[], ["BUTTON"]]],
    "crop": [0, 0, 160, 210],
    "scripts": ["script.lua"],
}
METADATA = {"default_state": "Start", "default_player_state": ["Start", "Start"]}
SCRIPT = """prev = 0
function rew()
  local delta = data.score - prev
  prev = data.score
  return delta + data[142] * 0
end
function done() return scenario.frame > 100000 end
"""


class Integrations:
    """A game's folder (data.json, scenario.json, metadata.json, script.lua, rom.sha, a state) through
    ``retro.make``, a few steps, and ``retro info``."""

    FILES = {"data.json": 3, "scenario.json": 3, "metadata.json": 1, "script.lua": 1, "rom.sha": 0.3,
             "Start.state": 0.7}

    @staticmethod
    def seeds(workdir: Path) -> dict[str, Any]:
        import retro

        folder = workdir / "seed" / GAME
        folder.mkdir(parents=True)
        rom = _pong_rom().read_bytes()
        (folder / "rom.a26").write_bytes(rom)
        (folder / "rom.sha").write_text(hashlib.sha1(rom).hexdigest() + "\n")
        (folder / "data.json").write_text(json.dumps(DATA, indent=2))
        (folder / "scenario.json").write_text(json.dumps(SCENARIO, indent=2))
        (folder / "metadata.json").write_text(json.dumps(METADATA, indent=2))
        (folder / "script.lua").write_text(SCRIPT)
        em = retro.RetroEmulator(folder / "rom.a26")
        em.step(10)
        (folder / "Start.state").write_bytes(gzip.compress(em.get_state()))
        em.close()
        return {"folder": str(folder)}

    @staticmethod
    def _copy(seeds: dict[str, Any], folder: Path) -> Path:
        game = folder / "root" / GAME
        shutil.copytree(seeds["folder"], game)
        return game

    @staticmethod
    def corpus() -> dict[str, Builder]:
        def wrap(build: Builder) -> Builder:
            def built(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
                game = Integrations._copy(seeds, folder)
                return {"root": str(game.parent), **build(game, seeds)}
            return built
        return {name: wrap(build) for name, build in corpus.INTEGRATIONS.items()}

    @staticmethod
    def mutant(rng: random.Random, seeds: dict[str, Any], folder: Path) -> dict[str, Any]:
        game = Integrations._copy(seeds, folder)
        names = list(Integrations.FILES)
        file = rng.choices(names, [Integrations.FILES[n] for n in names])[0]
        data = (game / file).read_bytes()
        if file.endswith(".json"):
            data = mutate_json_bytes(rng, data)
        elif file == "script.lua":
            donors = [SCRIPT] + list(corpus.LUA_ATTACKS.values())
            data = mutate_lua(rng, data.decode(), donors).encode()
        elif file == "Start.state" and rng.random() < 0.5:
            data = gzip.compress(mutate_bytes(rng, gzip.decompress(data)))  # the state itself, resized or not
        else:
            data = mutate_bytes(rng, data)
        (game / file).write_bytes(data)
        return {"root": str(game.parent), "mutated": file}

    def __init__(self, options: dict[str, Any]) -> None:
        import retro  # noqa: F401

    def run(self, case: dict[str, Any]) -> None:
        import retro
        from retro.__main__ import main as cli
        from retro.data import Integrations as Flags

        Flags.clear_custom_paths()
        Flags.add_custom_path(case["root"])
        try:
            env = retro.make(GAME, inttype=Flags.ALL, players=1)
            try:
                env.reset()
                rng = random.Random(0)
                for _ in range(20):
                    _, _, done, _ = env.step(env.action_space.sample() if rng.random() < 0.5 else
                                             env.action_space.sample() * 0)
                    if done:
                        env.reset()
            finally:
                env.close()
        finally:
            with contextlib.redirect_stdout(io.StringIO()):
                code = cli(["info", GAME])
            Flags.clear_custom_paths()
        if code not in (0, 1):
            raise AssertionError(f"retro info exited {code}")


# -- Lua --------------------------------------------------------------------------------------------

LUA_DATA = {"info": {"score": {"address": 0xFF0010, "type": ">u4"}, "lives": {"address": 0xFF0020, "type": ">u2"}}}
LUA_SCENARIO = {"scripts": ["script.lua"], "reward": {"script": "lua:reward"}, "done": {"script": "lua:done"}}


class _Genesis:
    """A stand-in emulator: 64 KiB of Genesis work RAM and the Genesis system info."""

    def __init__(self) -> None:
        from retro.systems import SYSTEMS

        self.system_info = SYSTEMS["Genesis"]
        self.ram = np.zeros(0x10000, dtype=np.uint8)
        self.memory_generation = 0

    def memory_blocks(self) -> dict[int, np.ndarray]:
        return {0xFF0000: self.ram}


class Lua:
    """A scenario's Lua script: loaded, reset, and its reward and done functions called every frame."""

    @staticmethod
    def seeds(workdir: Path) -> dict[str, Any]:
        from retro.data import library_path

        donors = [SCRIPT.replace("function rew()", "function reward()")]
        for path in sorted(Path(library_path()).glob("*/*/*.lua"))[:60]:
            try:
                donors.append(path.read_text())
            except (OSError, UnicodeDecodeError):
                pass
        return {"donors": donors}

    @staticmethod
    def corpus() -> dict[str, Builder]:
        return {name: corpus._lua_case(code) for name, code in corpus.LUA_ATTACKS.items()}

    @staticmethod
    def mutant(rng: random.Random, seeds: dict[str, Any], folder: Path) -> dict[str, Any]:
        donors = seeds["donors"] + list(corpus.LUA_ATTACKS.values())
        code = mutate_lua(rng, rng.choice(donors), donors)
        # defaults first, so a script that defines its own functions replaces them
        (folder / "script.lua").write_text("function reward() return 0 end\nfunction done() return false end\n"
                                           + code)
        return {"script": str(folder / "script.lua")}

    def __init__(self, options: dict[str, Any]) -> None:
        import lupa  # noqa: F401

        import retro  # noqa: F401

    def run(self, case: dict[str, Any]) -> None:
        folder = Path(case["script"]).parent
        (folder / "data.json").write_text(json.dumps(LUA_DATA))
        (folder / "scenario.json").write_text(json.dumps(LUA_SCENARIO))
        play_game_data(folder)


def play_game_data(folder: Path, frames: int = 4) -> None:
    """Load ``folder``'s data.json and scenario.json on a stand-in Genesis and play a few frames."""
    from retro.data import GameData

    data = GameData(data=folder / "data.json", scenario=folder / "scenario.json")
    data.configure(_Genesis())
    data.reset()
    for _ in range(frames):
        data.update_ram()
        data.current_reward(), data.is_done(), data.lookup_all()


# -- zips for import -----------------------------------------------------------------------------------

class Zips:
    """What ``retro import`` walks: zips (nested, damaged, hostile) and folders, in a dry run."""

    @staticmethod
    def seeds(workdir: Path) -> dict[str, Any]:
        rom = _pong_rom().read_bytes()
        inner = zip_bytes([("pong.a26", rom), ("junk.bin", os.urandom(3000))])
        seeds = [zip_bytes([("pong.a26", rom), ("readme.txt", b"hello" * 100)]),
                 zip_bytes([("games/inner.zip", inner), ("pong.a26", rom)]),
                 zip_bytes([("a/b/c.zip", zip_bytes([("deeper.zip", inner)]))])]
        return {"zips": [s.hex() for s in seeds], "pong": rom.hex()}

    @staticmethod
    def corpus() -> dict[str, Builder]:
        def wrap(build: Builder) -> Builder:
            return lambda folder, seeds: build(folder, {"pong": bytes.fromhex(seeds["pong"])})
        return {name: wrap(build) for name, build in corpus.ZIPS.items()}

    @staticmethod
    def mutant(rng: random.Random, seeds: dict[str, Any], folder: Path) -> dict[str, Any]:
        data = bytes.fromhex(rng.choice(seeds["zips"]))
        if rng.random() < 0.5:
            members = unzip(data)
            i = rng.randrange(len(members))
            name, content = members[i]
            if name.endswith(".zip") and rng.random() < 0.7:
                inner = unzip(content)
                j = rng.randrange(len(inner))
                inner[j] = (inner[j][0], mutate_bytes(rng, inner[j][1]))
                content = zip_bytes(inner)
            else:
                content = mutate_bytes(rng, content)
            data = zip_bytes(members[:i] + [(name, content)] + members[i + 1:])
        else:
            data = mutate_bytes(rng, data)
        (folder / "case.zip").write_bytes(data)
        return {"path": str(folder / "case.zip")}

    def __init__(self, options: dict[str, Any]) -> None:
        from retro.scripts import import_path

        self.module = import_path
        self.known = import_path._load_known()

    def run(self, case: dict[str, Any]) -> None:
        store = Path(case["path"]).parent / "store"
        importer = self.module._Importer(self.known, store, lambda line: None, dry_run=True)
        importer.walk(case["path"])
        importer.report.summary()


# -- command line ----------------------------------------------------------------------------------

_CLI_WORDS = ["list", "info", "import", "cores", "playback", "--system", "-n", "--dry-run", "-q", "--quiet",
              "--from-packages", "--help", "-h", "Pong-Atari2600", "pong-atari2600-v0", "Airstriker-Genesis",
              "Pong", "--", "-", "", "..", "--force", "-x", "=", "Atari2600", "Nes", "\udcff", "x" * 300]


def _argv_case(argv: list[str]) -> Builder:
    return lambda folder, seeds: {"argv": argv}


class Cli:
    """Arguments of ``python3 -m retro`` (list, info, import, cores, playback), run in-process."""

    @staticmethod
    def seeds(workdir: Path) -> dict[str, Any]:
        files = workdir / "files"
        files.mkdir()
        (files / "x.zip").write_bytes(b"PK\x03\x04junk")
        (files / "x.bk2").write_bytes(b"junk")
        os.mkfifo(files / "fifo.a26")
        return {"paths": [str(files / n) for n in ("x.zip", "x.bk2", "fifo.a26")] + [str(files)]}

    @staticmethod
    def corpus() -> dict[str, Builder]:
        return {name: _argv_case(argv) for name, argv in corpus.CLI.items()}

    @staticmethod
    def mutant(rng: random.Random, seeds: dict[str, Any], folder: Path) -> dict[str, Any]:
        words = _CLI_WORDS + seeds["paths"]
        argv = [rng.choice(["list", "info", "import", "cores", "playback"])]
        argv += [rng.choice(words) for _ in range(rng.randint(0, 4))]
        if argv[0] == "import":
            argv.insert(1, "-n")  # never write into the real store
        if argv[0] == "playback":
            argv += ["--no-video", "--no-audio"]
        return {"argv": argv}

    def __init__(self, options: dict[str, Any]) -> None:
        import retro  # noqa: F401

    def run(self, case: dict[str, Any]) -> None:
        from retro.__main__ import main

        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = main(case["argv"])
        except SystemExit as e:  # argparse's usage errors and --help
            code = e.code if isinstance(e.code, int) else 2
        if code not in (0, 1, 2):
            raise AssertionError(f"exit status {code}")


# -- save states ---------------------------------------------------------------------------------------

#: The ROM each core's states are made on: a provisioned game or one of our test ROMs.
#: Core -> what a states campaign plays on it: "pong", "airstriker" or a test ROM of ``tests/roms``.
STATE_ROMS = {"stella": "pong", "ale": "pong", "genesis_plus_gx": "airstriker", "snes9x": "snes", "fceumm": "nes",
              "gambatte": "gbc", "mgba": "gba", "mednafen_pce_fast": "pce", "picodrive": "32x"}


def state_rom(core: str, workdir: Path) -> Path:
    import retro

    which = STATE_ROMS[core]
    if which == "pong":
        return _pong_rom()
    if which == "airstriker":
        return Path(retro.data.get_romfile_path("Airstriker-Genesis"))
    from tests.roms.build import build_rom

    return build_rom(which, workdir)


class States:
    """Save states of the right size with a few bytes changed, restored on a core that then runs 60 frames."""

    @staticmethod
    def seeds(workdir: Path, core: str = "stella") -> dict[str, Any]:
        import retro

        rom = state_rom(core, workdir)
        em = retro.RetroEmulator(rom, core=core)
        rng = np.random.default_rng(1)
        states = []
        for _ in range(3):
            for _ in range(40):
                em.set_button_mask(int(rng.integers(0, 1 << 12)))
                em.step()
            states.append(em.get_state().hex())
        em.close()
        return {"rom": str(rom), "core": core, "states": states}

    @staticmethod
    def corpus() -> dict[str, Builder]:
        def fill(kind: str) -> Builder:
            def build(folder: Path, seeds: dict[str, Any]) -> dict[str, Any]:
                size = len(bytes.fromhex(seeds["states"][0]))
                data = bytes(size) if kind == "zeros" else b"\xff" * size if kind == "ones" else \
                    random.Random(size).randbytes(size)
                (folder / "case.state").write_bytes(data)
                return {"state": str(folder / "case.state")}
            return build
        return {"all-zero": fill("zeros"), "all-ff": fill("ones"), "random": fill("random")}

    @staticmethod
    def mutant(rng: random.Random, seeds: dict[str, Any], folder: Path) -> dict[str, Any]:
        state = bytes.fromhex(rng.choice(seeds["states"]))
        (folder / "case.state").write_bytes(mutate_state(rng, state))
        return {"state": str(folder / "case.state")}

    def __init__(self, options: dict[str, Any]) -> None:
        import retro

        self.em = retro.RetroEmulator(options["rom"], core=options.get("core"))
        self.rng = random.Random(0)

    def run(self, case: dict[str, Any]) -> None:
        self.em.set_state(Path(case["state"]).read_bytes())
        for _ in range(60):
            self.em.set_button_mask(self.rng.randrange(1 << 12))
            self.em.step()
        self.em.get_state()


TARGETS: dict[str, Any] = {"movies": Movies, "integrations": Integrations, "lua": Lua, "zips": Zips, "cli": Cli,
                           "states": States}


class SelfTest:
    """Cases that do what they say (``ok``, ``typed``, ``untyped``, ``crash``, ``hang``): the harness's own test."""

    @staticmethod
    def seeds(workdir: Path) -> dict[str, Any]:
        return {}

    @staticmethod
    def corpus() -> dict[str, Builder]:
        return {do: _selftest_case(do) for do in ("ok", "typed", "untyped", "crash", "hang", "memory", "ok")}

    @staticmethod
    def mutant(rng: random.Random, seeds: dict[str, Any], folder: Path) -> dict[str, Any]:
        return {"do": "ok"}

    def __init__(self, options: dict[str, Any]) -> None:
        pass

    def run(self, case: dict[str, Any]) -> None:
        import time

        import retro

        do = case["do"]
        if do == "typed":
            raise retro.MovieFormatError("a typed error")
        if do == "untyped":
            raise ValueError("an untyped error")
        if do == "crash":
            os.abort()
        if do == "hang":
            time.sleep(3600)
        if do == "memory":
            bytearray(8 << 30)  # more than the worker's address space


def _selftest_case(do: str) -> Builder:
    return lambda folder, seeds: {"do": do}


TARGETS["selftest"] = SelfTest

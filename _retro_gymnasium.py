"""Makes Gymnasium find retro's ``retro/...`` ids in every process, without importing retro.

Gymnasium 1.x has no plugin entry points: a process finds ``retro/...`` ids
once something has registered them. ``import retro`` does (and so does
``gymnasium.register_envs(retro)``, the ALE's convention, or a
``"retro:retro/Pong-Atari2600-v0"`` id, which Gymnasium imports on demand).
Child processes started with ``spawn`` or ``forkserver`` (Stable-Baselines3's
``SubprocVecEnv`` in a notebook, multiprocessing pools, Ray workers) never run
``import retro`` themselves, so ``gymnasium.make("retro/...")`` there would
fail with ``NamespaceNotFound``.

retro's wheel (regular or editable) installs ``retro-gymnasium.pth`` into
site-packages; Python runs its one line at start-up, which calls
:func:`install`. That only puts a finder on ``sys.meta_path``; when
``gymnasium`` itself is imported, :func:`register` puts one ``EnvSpec`` per
game into Gymnasium's registry, read from the index of game ids that
``import retro`` keeps in ``RETRO_HOME`` (``gymnasium-ids.txt``). retro itself
is not imported until an env is made: the whole hook costs a few
milliseconds, once, in a process that imports Gymnasium, and one string
comparison per import elsewhere. Only where no index exists yet (retro was
never imported with this ``RETRO_HOME``) does it import retro, which writes
the index. ``RETRO_GYMNASIUM_HOOK=0`` in the environment turns the hook off.

This module imports nothing but the standard library (and Gymnasium, once
Gymnasium is being imported anyway). It is the one owner of the registered
specs: :func:`register_ids` makes them for the hook and for ``import retro``.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # only the standard library's cheapest parts load at start-up
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any, Iterable, Sequence

__all__ = ["install", "uninstall", "register", "register_ids", "index_path", "read_index", "write_index"]

_TARGET = "gymnasium"
_HEADER = "# retro: games registered with Gymnasium as retro/<game>-v0, one a line (ale: RetroALE/ ids too)\n"
_ALE_MARK = " ale"
ENV_SWITCH = "RETRO_GYMNASIUM_HOOK"


def index_path() -> str:
    """``RETRO_HOME/gymnasium-ids.txt`` (``RETRO_HOME`` as :func:`retro.paths.retro_home` finds it)."""
    home = os.environ.get("RETRO_HOME")
    if home:
        root = os.path.expanduser(home)
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
        root = os.path.join(xdg, "retro")
    return os.path.join(root, "gymnasium-ids.txt")


_PLAIN = r"[A-Za-z0-9_.-]{1,199}"


def read_index() -> tuple[list[str], list[str]] | None:
    """The games in the index and those of them with ``RetroALE/`` ids; None where there is no index."""
    try:
        with open(index_path(), encoding="utf-8") as f:
            text = f.read(1 << 20)
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith(_HEADER):
        return None
    import re  # loaded already wherever Gymnasium is

    body = text[len(_HEADER):]
    return re.findall(rf"^({_PLAIN})(?:{_ALE_MARK})?$", body, re.M), re.findall(rf"^({_PLAIN}){_ALE_MARK}$", body, re.M)


def write_index(games: Iterable[str], ale_games: Iterable[str] = ()) -> None:
    """Keep the index (atomically) of the games ``import retro`` registers; quietly nothing where it can't."""
    import re

    ale = set(ale_games)
    text = _HEADER + "".join(f"{g}{_ALE_MARK if g in ale else ''}\n" for g in games if re.fullmatch(_PLAIN, g))
    path = index_path()
    try:
        with open(path, encoding="utf-8") as f:
            if f.read(len(text) + 1) == text:
                return
    except (OSError, UnicodeDecodeError):
        pass
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:  # a read-only or missing RETRO_HOME: the hook then imports retro, as before
        try:
            os.unlink(tmp)
        except OSError:
            pass


def register_ids(games: Iterable[str], ale_games: Iterable[str] = ()) -> None:
    """Register ``retro/<game>-v0`` for each game (a stable-retro id without ``-v0``); ids present are kept.

    Each of ``ale_games`` (Atari 2600 games with this project's ``retro``
    variant, whose start states are made on either core) also gets the ALE's
    ids on the ALE core: ``RetroALE/<Name>-v5`` as ``ALE/<Name>-v5`` (frame
    skip 4, sticky actions 0.25, the minimal action set, 108,000 frames at
    most) and ``RetroALE/<Name>NoFrameskip-v4`` (one frame a step, no sticky
    actions), for ``AtariPreprocessing`` and SB3's ``make_atari_env``.

    The specs go straight into Gymnasium's registry: ``gymnasium.register``
    checks each new id against the whole registry, which for a thousand
    games takes a large part of a second.
    """
    from gymnasium.envs.registration import EnvSpec, registry

    def spec(game: str) -> EnvSpec:
        # by stable-retro's id, so a stable game is never given an experimental folder's data
        return EnvSpec(id=f"retro/{game}-v0", entry_point="retro.env:RetroEnv",
                       vector_entry_point="retro.vector:RetroVectorEnv",
                       kwargs={"game": f"{game}-v0", "api": "gymnasium", "inttype": "ALL"})

    # EnvSpec parses its id in __post_init__ (most of the cost for a thousand ids); the specs differ only in
    # what that parse gives and in kwargs, so they are copies of one made by the constructor, checked equal to
    # the constructor's (field by field) on the first game, or made by the constructor where they are not.
    template: dict[str, Any] | None = None
    for game in games:
        env_id = f"retro/{game}-v0"
        if env_id in registry:
            continue
        if template is None:
            made = spec(game)
            template = dict(vars(made))
            if _copy(EnvSpec, template, game) != made:
                template = {}
        registry[env_id] = _copy(EnvSpec, template, game) if template else spec(game)
    for game in ale_games:
        name = game.rsplit("-", 1)[0]
        for env_id, frameskip, sticky, steps in ((f"RetroALE/{name}-v5", 4, 0.25, 27_000),
                                                 (f"RetroALE/{name}NoFrameskip-v4", 1, 0.0, 108_000)):
            if env_id not in registry:
                registry[env_id] = EnvSpec(
                    id=env_id, entry_point="retro.env:RetroEnv", max_episode_steps=steps,
                    kwargs={"game": game, "scenario": "retro", "core": "ale", "api": "gymnasium",
                            "frameskip": frameskip, "repeat_action_probability": sticky,
                            "full_action_space": False})


def _copy(cls: Any, template: dict[str, Any], game: str) -> Any:
    spec = cls.__new__(cls)
    vars(spec).update(template, id=f"retro/{game}-v0", name=game,
                      kwargs={"game": f"{game}-v0", "api": "gymnasium", "inttype": "ALL"})
    return spec


def register() -> None:
    """Register retro's games from the index; without one, import retro (which registers them and writes it).

    Never lets a broken retro break ``import gymnasium``: a failure is a
    ``RuntimeWarning``.
    """
    if "retro" in sys.modules:  # retro imports Gymnasium itself, and registers when its import ends
        return
    index = read_index()
    try:
        if index is not None:
            register_ids(*index)
        else:
            import retro  # noqa: F401
    except Exception as e:  # noqa: BLE001 - whatever it is, Gymnasium must still import
        try:
            import warnings

            warnings.warn(f"retro's games are not registered with Gymnasium: import retro failed: {e}",
                          RuntimeWarning, stacklevel=2)
        except Exception:  # noqa: BLE001 - warnings turned into errors
            pass


class _RegisteringLoader:
    """Gymnasium's own loader, which then registers retro's games."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        module.__loader__ = self._loader  # Gymnasium looks as if loaded by its own loader from here on
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        register()

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, ... of the real loader
        return getattr(self._loader, name)


class _GymnasiumFinder:
    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname != _TARGET:
            return None
        uninstall()
        spec = None
        for finder in sys.meta_path:  # the finders that would have found it
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _RegisteringLoader(spec.loader)
        return spec


def install() -> None:
    """Register retro's games when Gymnasium is imported (at once if it already is). Run by the ``.pth`` file."""
    if os.environ.get(ENV_SWITCH, "1") == "0":
        return
    if _TARGET in sys.modules:
        register()
    elif not any(isinstance(f, _GymnasiumFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _GymnasiumFinder())


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _GymnasiumFinder)]

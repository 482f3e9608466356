"""Registers retro's games with Gymnasium in every process that imports Gymnasium.

Gymnasium 1.x has no plugin entry points: a process finds ``retro/...``
ids only once something has run ``import retro``. Child processes started
with ``spawn`` or ``forkserver`` (Stable-Baselines3's ``SubprocVecEnv`` in a
notebook, multiprocessing pools, Ray workers) never do, so
``gymnasium.make("retro/...")`` there fails with ``NamespaceNotFound``.

retro's wheel (regular or editable) installs ``retro-gymnasium.pth`` into
site-packages; Python runs its one line at start-up, which calls
:func:`install`. That only puts a finder on ``sys.meta_path`` which, when
``gymnasium`` itself is imported, runs ``import retro`` right after
Gymnasium has finished loading (``import retro`` registers every game). A
process that never imports Gymnasium never imports retro: the finder costs
one string comparison per import. This module imports nothing but the
standard library.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # only the standard library's cheapest parts load at start-up
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any, Sequence

__all__ = ["install", "register"]

_TARGET = "gymnasium"


def register() -> None:
    """Import retro (which registers its games with Gymnasium), unless retro is being imported already.

    Never lets a broken retro break ``import gymnasium``: a failure is a
    ``RuntimeWarning``.
    """
    if "retro" in sys.modules:  # retro imports Gymnasium itself, and registers when its import ends
        return
    try:
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
    if _TARGET in sys.modules:
        register()
    elif not any(isinstance(f, _GymnasiumFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _GymnasiumFinder())


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _GymnasiumFinder)]

"""``retro.retro_env``: the module Gym Retro and stable-retro define ``RetroEnv`` in.

The class is :class:`retro.env.RetroEnv` (``retro.RetroEnv``); this module
keeps ``from retro.retro_env import RetroEnv`` working.
"""

from __future__ import annotations

from retro.env import RetroEnv

__all__ = ["RetroEnv"]

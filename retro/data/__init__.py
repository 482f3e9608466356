"""``retro.data``: game integrations, their variables and scenarios, memory search.

Gym Retro's ``retro.data`` API, in pure Python:

- finding integrations: :class:`Integrations`, :func:`path`,
  :func:`get_file_path`, :func:`get_romfile_path`,
  :func:`get_original_romfile_path`, :func:`list_games`,
  :func:`list_states`, :func:`list_scenarios` (:mod:`retro.data.integrations`);
- ROMs: :func:`merge`, :func:`verify_hash`, :func:`get_known_hashes`,
  :func:`groom_rom`, :func:`parse_smd` (:mod:`retro.data.roms`);
- a game's data: :class:`GameData` (:mod:`retro.data.gamedata`) over
  :class:`Memory` (:mod:`retro.data.memory`), the type grammar
  (:mod:`retro.data.types`), scenarios (:mod:`retro.data.scenario`), Lua
  scripts (:mod:`retro.data.lua`) and :class:`Search`
  (:mod:`retro.data.search`);
- the systems' core info, re-exported from :mod:`retro.systems`:
  ``EMU_CORES``, ``EMU_INFO``, ``EMU_EXTENSIONS``, :func:`init_core_info`;
  ``EXT``, the file extension of core libraries here.
"""

from __future__ import annotations

import sys

from retro.data.gamedata import GameData, SearchHandle, SearchListHandle, Variable, Variables
from retro.data.integrations import (
    DATA_PATH,
    DefaultIntegrations,
    Integrations,
    add_custom_integration,
    add_integrations,
    ale_variants,
    get_file_path,
    game_dirs,
    get_original_romfile_path,
    get_romfile_path,
    library_path,
    list_games,
    list_scenarios,
    list_states,
    path,
    read_json_object,
)
from retro.data.lua import LuaScriptError
from retro.data.memory import Memory, Overlay
from retro.data.roms import check_rom, get_known_hashes, groom_rom, merge, parse_smd, rom_sha1, verify_hash
from retro.data.scenario import Scenario
from retro.data.search import Search
from retro.data.types import DataType
from retro.systems import EMU_CORES, EMU_EXTENSIONS, EMU_INFO, init_core_info

EXT = {"darwin": "dylib", "win32": "dll"}.get(sys.platform, "so")
"""The file extension of libretro core libraries on this platform (``"so"`` on Linux): Gym Retro's ``EXT``."""

__all__ = [
    "GameData",
    "Integrations",
    "add_integrations",
    "add_custom_integration",
    "path",
    "get_file_path",
    "get_romfile_path",
    "get_original_romfile_path",
    "init_core_info",
    "EXT",
    "game_dirs",
    "library_path",
    "read_json_object",
    "list_games",
    "list_states",
    "list_scenarios",
    "ale_variants",
    "merge",
    "verify_hash",
    "check_rom",
    "rom_sha1",
    "get_known_hashes",
    "groom_rom",
    "parse_smd",
    "DefaultIntegrations",
    "DATA_PATH",
    "EMU_CORES",
    "EMU_INFO",
    "EMU_EXTENSIONS",
    "Memory",
    "Overlay",
    "Search",
    "Scenario",
    "DataType",
    "Variable",
    "Variables",
    "SearchHandle",
    "SearchListHandle",
    "LuaScriptError",
]

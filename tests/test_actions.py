"""Action groups: GameData and the environment's action tables follow one set of rules, Gym Retro's.

The rules are written out again here, independently, from Gym Retro's
``setActions``/``filterAction`` (``src/data.cpp``): a combo is the OR of its
buttons' bits (the first button of that name), a group is ``mask -> set of
combos`` in a ``std::map`` filled with ``emplace`` (so groups come out sorted
by mask and the first group of a mask wins), and filtering keeps a group's
bits only if they are one of its combos.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

import numpy as np
import pytest

import retro
from retro.actions import combo_groups
from retro.data import GameData, library_path
from retro.session import GameSession
from retro.errors import IntegrationError
from retro.systems import SYSTEMS

ROOT = Path(__file__).resolve().parent.parent

Actions = Sequence[Sequence[Sequence[str]]]


# -- the reference model ----------------------------------------------------------------------------

def reference_groups(buttons: Sequence[str | None], actions: Actions) -> list[list[int]]:
    by_mask: dict[int, set[int]] = {}
    for group in actions:
        combos = set()
        mask = 0
        for combo in group:
            bits = 0
            for name in combo:
                bits |= 1 << list(buttons).index(name)
            mask |= bits
            combos.add(bits)
        if mask not in by_mask:          # std::map::emplace keeps what is there
            by_mask[mask] = combos
    return [sorted(by_mask[mask]) for mask in sorted(by_mask)]


def reference_filter(groups: list[list[int]], action: int) -> int:
    out = 0
    for combos in groups:
        mask = 0
        for c in combos:
            mask |= c
        if action & mask in combos:
            out |= action & mask
    return out


def reference_discrete(groups: list[list[int]], action: int) -> int:
    mask = 0
    for combos in groups:  # mixed radix, first group least significant
        mask |= combos[action % len(combos)]
        action //= len(combos)
    return mask


# -- every action list there is -------------------------------------------------------------------------

def _system_of(game: str) -> str:
    name = game[:-3] if game.endswith("-v0") else game
    return name.rsplit("-", 1)[1]


def action_lists() -> list[Any]:
    """(system, actions) for every system's own actions and every integration that gives its own."""
    cases = []
    for path in sorted((ROOT / "retro" / "systems").glob("*.json")):
        for system, info in json.loads(path.read_text()).items():
            cases.append(pytest.param(system, info["actions"], id=f"system-{system}"))
    files = sorted((ROOT / "integrations" / "stable").glob("*/*.json"))
    library = Path(library_path())
    files += sorted(library.glob("*/*/*.json")) if library.is_dir() else []
    for path in files:
        try:
            doc = json.loads(path.read_text())
        except (ValueError, OSError):
            continue
        if not isinstance(doc, dict) or "actions" not in doc:
            continue
        system = _system_of(path.parent.name)
        if system in SYSTEMS:
            cases.append(pytest.param(system, doc["actions"], id=f"{path.parent.name}-{path.stem}"))
    return cases


CASES = action_lists()


class FakeEmulator:
    """What GameData.configure reads of an emulator: the system's facts and (no) memory."""

    memory_generation = 0

    def __init__(self, system: str) -> None:
        self.system_info = SYSTEMS[system]

    def memory_blocks(self) -> dict[int, np.ndarray]:
        return {}


def gamedata(system: str, actions: Actions, tmp_path: Path) -> GameData:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"actions": actions}))
    data = GameData(scenario=scenario)
    data.configure(FakeEmulator(system))
    return data


def bare_env(data: GameData, system: str, kind: retro.Actions) -> GameSession:
    """An environment's action tables, built by its GameSession from ``data`` without a core."""
    env = object.__new__(GameSession)
    env.em = SimpleNamespace(system_info=SYSTEMS[system])  # type: ignore[assignment]
    env.data = data
    env.players = 1
    env._build_actions(kind)
    return env


def test_every_case_is_collected() -> None:
    ids = {p.id for p in CASES}
    assert {f"system-{s}" for s in ("Genesis", "Atari2600", "Nes", "Snes", "PCEngine", "GbAdvance")} <= ids
    assert len(CASES) >= 11


@pytest.mark.parametrize("system,actions", CASES)
def test_gamedata_and_env_tables_follow_gym_retros_rules(system: str, actions: Actions, tmp_path: Path) -> None:
    buttons = SYSTEMS[system].buttons
    expected = reference_groups(buttons, actions)
    data = gamedata(system, actions, tmp_path)
    assert data.valid_actions() == expected
    nb = len(buttons)

    env = bare_env(data, system, retro.Actions.FILTERED)
    assert env.button_combos == expected
    bits = (np.arange(1 << nb)[:, None] >> np.arange(nb)) & 1
    for mask in range(1 << nb):
        want = reference_filter(expected, mask)
        assert data.filter_action(mask) == want, mask
        assert env.decode(bits[mask].astype(np.int8)) == [want], mask
    assert data.filter_action(1 << 20 | 1 << nb) == 0   # bits of no button are dropped

    env = bare_env(data, system, retro.Actions.DISCRETE)
    n = int(np.prod([len(g) for g in expected]))
    assert env.action_space.n == n
    assert [env.decode(a) for a in range(n)] == [[reference_discrete(expected, a)] for a in range(n)]

    env = bare_env(data, system, retro.Actions.MULTI_DISCRETE)
    sizes = [len(g) for g in expected]
    assert list(env.action_space.nvec) == sizes
    for choice in np.ndindex(*sizes):
        want = 0
        for g, c in enumerate(choice):
            want |= expected[g][c]
        assert env.decode(np.array(choice)) == [want]


def test_first_group_of_a_mask_wins(tmp_path: Path) -> None:
    actions = [[["UP"], ["DOWN"]], [["UP", "DOWN"], []], [["LEFT"]]]
    buttons = SYSTEMS["Genesis"].buttons
    up, down, left = (1 << buttons.index(b) for b in ("UP", "DOWN", "LEFT"))
    assert reference_groups(buttons, actions) == [[up, down], [left]]
    assert combo_groups(buttons, actions).as_lists() == [[up, down], [left]]
    data = gamedata("Genesis", actions, tmp_path)
    assert data.valid_actions() == [[up, down], [left]]
    assert data.filter_action(up | down) == 0          # UP+DOWN was only in the ignored group
    assert bare_env(data, "Genesis", retro.Actions.DISCRETE).action_space.n == 2


def test_unknown_buttons_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(IntegrationError, match="scenario.json: actions: unknown button 'TURBO'"):
        gamedata("Genesis", [[["TURBO"]]], tmp_path)
    with pytest.raises(IntegrationError, match="somewhere: unknown button 'TURBO'"):
        combo_groups(SYSTEMS["Genesis"].buttons, [[["TURBO"]]], "somewhere")


def test_real_environment_uses_the_same_groups() -> None:
    env = retro.make("Airstriker-Genesis", use_restricted_actions=retro.Actions.DISCRETE)
    try:
        info = SYSTEMS["Genesis"]
        expected = reference_groups(info.buttons, info.actions)
        assert env.button_combos == env.data.valid_actions() == expected
        assert [env.session.decode(a) for a in range(env.action_space.n)] == \
            [[reference_discrete(expected, a)] for a in range(env.action_space.n)]
    finally:
        env.close()

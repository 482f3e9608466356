"""Numbers in integration files: every numeric field is checked by ``retro.data.numbers.number``.

Python's ``json`` reads ``NaN``, ``Infinity``, ``1e99999`` (an infinity) and
integers of any size; none of them may escape as a bare ``OverflowError`` or
``ValueError``: a bad number is a ``retro.IntegrationError`` naming the file
and the field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retro
from retro.data.gamedata import GameData
from retro.data.integrations import read_json_object
from retro.data.recipes import recipes
from retro.data.scenario import Scenario

T = "<N>"  # where a template takes the number (a raw JSON token)

# field kind -> (file name, template, the field as errors name it)
SCENARIO_FIELDS = {
    "crop": ('{"crop": [<N>, 0, 0, 0]}', "crop[0]"),
    "crops": ('{"crops": [[0, 0, 0, 0], [0, 0, 0, <N>]]}', "crops[1][3]"),
    "reward reference": ('{"reward": {"variables": {"a": {"op": "equal", "reference": <N>, "reward": 1}}}}',
                         "reward.variables.a.reference"),
    "reward": ('{"reward": {"variables": {"a": {"reward": <N>}}}}', "reward.variables.a.reward"),
    "penalty": ('{"rewards": [{}, {"variables": {"a": {"penalty": <N>}}}]}', "rewards[1].variables.a.penalty"),
    "time reward": ('{"reward": {"time": {"reward": <N>}}}', "reward.time.reward"),
    "done reference": ('{"done": {"nodes": {"n": {"variables": {"a": {"op": "less-than", "reference": <N>}}}}}}',
                       "done.nodes.n.variables.a.reference"),
}
DATA_FIELDS = {
    "address": ('{"info": {"a": {"address": <N>, "type": "|u1"}}}', "info.a.address"),
    "mask": ('{"info": {"a": {"address": 0, "type": "|u1", "mask": <N>}}}', "info.a.mask"),
}
METADATA_FIELDS = {
    "recipe frames": ('{"state_recipes": {"start": {"press": ["START@10"], "frames": <N>}}}',
                      "state_recipes.start.frames"),
    "input route port": ('{"input_routes": [[0, "LEFT", <N>, "RIGHT"]]}', "input_routes[0][2]"),
    "input route player": ('{"input_routes": {"stella": [[<N>, "LEFT", 0, "RIGHT"]]}}', "input_routes.stella[0][0]"),
}
FIELDS = {**{k: ("scenario.json", *v) for k, v in SCENARIO_FIELDS.items()},
          **{k: ("data.json", *v) for k, v in DATA_FIELDS.items()},
          **{k: ("metadata.json", *v) for k, v in METADATA_FIELDS.items()}}


def _load_scenario(path: Path) -> None:
    scen = Scenario.load(path)
    n = len(scen.watched)
    scen.update([1] * n, [1] * n)  # loaded numbers also evaluate
    scen.update([-5] * n, [(1 << 64) - 1] * n)


def _load_data(path: Path) -> None:
    data = GameData(data=path)
    data.configure({0: bytearray(16)})
    data.lookup_all()


def _load_metadata(path: Path) -> None:
    read_json_object(path)
    recipes(path.parent)


LOADERS: dict[str, Callable[[Path], None]] = {
    "scenario.json": _load_scenario, "data.json": _load_data, "metadata.json": _load_metadata}


def load(tmp_path: Path, kind: str, token: str) -> None:
    """Write ``kind``'s template with ``token`` in it and load it."""
    name, template, _field = FIELDS[kind]
    path = tmp_path / name
    path.write_text(template.replace(T, token))
    LOADERS[name](path)


BAD = ["NaN", "Infinity", "-Infinity", "1e99999", "-1e99999", "9" * 400, "-" + "9" * 400]


@pytest.mark.parametrize("token", ["Infinity", "1e99999"])
@pytest.mark.parametrize("kind", ["crop", "crops", "reward reference", "done reference"])
def test_infinite_crops_and_references_are_integration_errors(tmp_path: Path, kind: str, token: str) -> None:
    with pytest.raises(retro.IntegrationError, match=re.escape(FIELDS[kind][2])) as e:
        load(tmp_path, kind, token)
    assert "scenario.json" in str(e.value) and "expected" in str(e.value)


def test_a_400_digit_reward_is_an_integration_error(tmp_path: Path) -> None:
    with pytest.raises(retro.IntegrationError, match=r"reward\.variables\.a\.reward: expected a finite number"):
        load(tmp_path, "reward", "4" * 400)


@pytest.mark.parametrize("kind", sorted(FIELDS))
@pytest.mark.parametrize("token", BAD)
def test_nan_infinite_and_huge_numbers_are_integration_errors_in_every_field(
        tmp_path: Path, kind: str, token: str) -> None:
    name, _template, field = FIELDS[kind]
    with pytest.raises(retro.IntegrationError) as e:
        load(tmp_path, kind, token)
    message = str(e.value)
    assert name in message and field in message and "expected" in message, message
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize(("kind", "token"), [
    ("crop", "65536"), ("crop", "10.7"), ("crop", "-0.5"), ("crops", "0"),
    ("reward reference", str((1 << 64) - 1)), ("reward reference", str(-((1 << 64) - 1))),
    ("reward reference", "1e19"), ("done reference", "-3.9"), ("done reference", str(1 << 62)),
    ("reward", "1e308"), ("reward", "-" + "9" * 300), ("penalty", "0"), ("time reward", "0.25"),
    ("address", str((1 << 64) - 1)), ("address", "0"), ("mask", str(-(1 << 63))), ("mask", str((1 << 64) - 1)),
    ("recipe frames", "120"), ("recipe frames", str(1 << 20)), ("input route port", "7"),
    ("input route player", "1.0"),
])
def test_numbers_in_range_load(tmp_path: Path, kind: str, token: str) -> None:
    load(tmp_path, kind, token)


@pytest.mark.parametrize(("kind", "token"), [
    ("crop", "65537"), ("crop", "-1"), ("reward reference", str(1 << 64)), ("address", "-1"),
    ("address", str(1 << 64)), ("address", "1.0"), ("mask", str(1 << 64)), ("mask", str(-(1 << 63) - 1)),
    ("recipe frames", "-1"), ("recipe frames", str((1 << 20) + 1)), ("input route port", "8"),
    ("input route player", "-1"), ("reward", "true"), ("crop", '"1"'),
])
def test_numbers_out_of_range_are_integration_errors(tmp_path: Path, kind: str, token: str) -> None:
    with pytest.raises(retro.IntegrationError, match="expected"):
        load(tmp_path, kind, token)


def test_crop_values_keep_their_meaning(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text('{"crop": [1.9, 0, 256, 224.5]}')
    assert Scenario.load(path).crop(1) == (1, 0, 256, 224)


tokens = st.one_of(
    st.sampled_from(BAD + ["0", "-0.0", "1e-99999", "1e308", "-1e308", "0.5"]),
    st.integers(-(1 << 70), 1 << 70).map(str),
    st.integers(-(10 ** 500), 10 ** 500).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(json.dumps),
)


@pytest.mark.parametrize("kind", sorted(FIELDS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=tokens)
def test_any_number_in_any_field_loads_or_is_an_integration_error(tmp_path: Path, kind: str, token: str) -> None:
    _name, _template, field = FIELDS[kind]
    try:
        load(tmp_path, kind, token)
    except retro.IntegrationError as e:
        assert field in str(e), str(e)

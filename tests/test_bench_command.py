"""``retro bench``: the speed of a game's emulator, env and vector env, measured here."""

from __future__ import annotations

import json

from retro.__main__ import main


def test_bench_measures_every_part(capsys):
    assert main(["bench", "Pong-Atari2600", "--seconds", "0.05", "--rounds", "2", "--num-envs", "1,2",
                 "--frameskip", "4", "--atari", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    names = [row["name"] for row in report["rows"]]
    assert names[:2] == ["emulator: env.em.step()", "env: retro.make(game).step()"]
    assert len(names) == 4 and "2 envs" in names[3]
    for row in report["rows"]:
        assert len(row["rates"]) == 2 and min(row["rates"]) > 0
    assert report["rows"][3]["frames_per_second"] == 4 * report["rows"][3]["median"]


def test_bench_table_and_errors(capsys):
    assert main(["bench", "Pong-Atari2600", "--seconds", "0.02", "--rounds", "1", "--num-envs", "1"]) == 0
    out = capsys.readouterr().out
    assert "frames/s" in out and "RetroVectorEnv, 1 env (threads)" in out
    assert main(["bench", "Pong-Atari260", "--seconds", "0.02"]) == 2
    assert "did you mean Pong-Atari2600" in capsys.readouterr().err
    assert main(["bench", "Pong-Atari2600", "--num-envs", "two"]) == 2
    assert "--num-envs" in capsys.readouterr().err
    assert main(["bench", "--game", "Pong-Atari2600", "--seconds", "0.02", "--rounds", "1", "--num-envs", "1"]) == 0
    assert capsys.readouterr().out.startswith("Pong-Atari2600: median of 1 round(s)")


def test_bench_core_reaches_every_env(monkeypatch, capsys):
    """``--core`` (and ``--scenario``) are passed to the env and the vector env that bench builds."""
    import retro
    import retro.vector

    made: list[tuple[str, str]] = []
    make, vector = retro.make, retro.vector.RetroVectorEnv

    def spy_make(*args, **kwargs):
        env = make(*args, **kwargs)
        made.append(("env", env.em.core.name))
        return env

    def spy_vector(*args, **kwargs):
        made.append(("vector", kwargs["core"] + "/" + kwargs["scenario"]))
        return vector(*args, **kwargs)

    monkeypatch.setattr(retro, "make", spy_make)
    monkeypatch.setattr(retro.vector, "RetroVectorEnv", spy_vector)
    assert main(["bench", "Pong-Atari2600", "--core", "ale", "--scenario", "retro", "--seconds", "0.02",
                 "--rounds", "1", "--num-envs", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["core"] == "ale" and len(report["rows"]) == 3
    assert made == [("env", "ale"), ("vector", "ale/retro")]
    assert main(["bench", "Pong-Atari2600", "--core", "no_such_core", "--seconds", "0.02"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("retro bench: libretro core 'no_such_core'") and err.count("\n") == 1

"""What installing retro costs a process that imports Gymnasium: ``import gymnasium`` with and without the hook.

    python3 benchmarks/gymnasium_import.py [--rounds 9] [--write]

retro installs ``retro-gymnasium.pth``, which registers the ``retro/...``
ids when a process imports Gymnasium (so spawned children find them). Each
round starts a new interpreter for each of three cases, interleaved, and
times ``import gymnasium`` inside it (``time.perf_counter`` around the
import, so interpreter start-up is not counted):

- ``off``: the hook turned off (``RETRO_GYMNASIUM_HOOK=0``), as without retro installed;
- ``hook``: the hook as installed: ids registered from ``RETRO_HOME``'s index, retro not imported;
- ``import retro``: what the hook used to do (every id registered by importing retro), for comparison.

It prints the medians and the differences to ``off``; ``--write`` puts them
in docs/benchmarks.md's ``gymnasium-import`` section.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_CODE = ("import time, sys\nt = time.perf_counter()\nimport gymnasium\n{extra}"
         "dt = time.perf_counter() - t\n"
         "assert ('retro/Pong-Atari2600-v0' in gymnasium.registry) == {registered}, 'registry'\n"
         "assert ('retro' in sys.modules) == {imported}, 'retro imported'\n"
         "print(dt)\n")

CASES = {
    "off": ({"RETRO_GYMNASIUM_HOOK": "0"}, _CODE.format(extra="", registered=False, imported=False)),
    "hook": ({}, _CODE.format(extra="", registered=True, imported=False)),
    "import retro": ({"RETRO_GYMNASIUM_HOOK": "0"},
                     _CODE.format(extra="import retro\n", registered=True, imported=True)),
}


def time_once(env: dict[str, str], code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **env}, cwd="/")
    return float(out.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--write", action="store_true", help="write the table into docs/benchmarks.md")
    args = parser.parse_args(argv)
    import retro  # noqa: F401 - writes RETRO_HOME's index, as any use of retro does

    for env, code in CASES.values():  # warm the file cache
        time_once(env, code)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.rounds):
        for name, (env, code) in CASES.items():
            times[name].append(time_once(env, code))
    base = statistics.median(times["off"])
    lines = [f"`import gymnasium`, median of {args.rounds} interleaved rounds, a new interpreter each:", "",
             "| case | median | min–max | vs off |", "|---|---:|---:|---:|"]
    for name, ts in times.items():
        med = statistics.median(ts)
        lines.append(f"| {name} | {med * 1e3:.1f} ms | {min(ts) * 1e3:.1f}–{max(ts) * 1e3:.1f} ms | "
                     f"{(med - base) * 1e3:+.1f} ms |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        from benchmarks._doc import replace_section

        replace_section(ROOT / "docs" / "benchmarks.md", "gymnasium-import",
                        "## What the Gymnasium hook costs\n\n" + table + "\n\n"
                        "Measured with `python3 benchmarks/gymnasium_import.py --write`.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``python3 -m tests.fuzz --kind movies --cases 1500``: run a fuzz campaign and print its counts."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.fuzz.campaign import campaign
from tests.fuzz.targets import STATE_ROMS, TARGETS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.fuzz", description=__doc__)
    parser.add_argument("--kind", choices=sorted(TARGETS), required=True)
    parser.add_argument("--cases", type=int, default=100, help="mutated cases (after the corpus)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mutations (a campaign is reproducible)")
    parser.add_argument("--no-corpus", action="store_true", help="skip the corpus of known hostile inputs")
    parser.add_argument("--core", choices=sorted(STATE_ROMS), default="stella", help="core of a states campaign")
    parser.add_argument("--timeout", type=float, help="seconds a case may take before it is a hang")
    parser.add_argument("--memory", type=int, default=3 << 30, help="address-space limit of a worker, bytes")
    parser.add_argument("--save", type=Path, help="copy failing cases here")
    args = parser.parse_args(argv)
    start = time.monotonic()
    report = campaign(args.kind, args.cases, seed=args.seed, corpus=not args.no_corpus, core=args.core,
                      timeout=args.timeout, memory=args.memory, save=args.save,
                      log=lambda line: print(line, flush=True))
    label = f" ({args.core})" if args.kind == "states" else ""
    print(report.summary().replace(f"{args.kind}:", f"{args.kind}{label}:", 1) +
          f" in {time.monotonic() - start:.0f} s")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""A fuzz campaign: the corpus of one kind, then ``cases`` mutants of its seeds, each run in a worker."""

from __future__ import annotations

import random
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from tests.fuzz.harness import Report, run_cases
from tests.fuzz.targets import TARGETS

#: Seconds a case may take before it counts as a hang (a core's worker needs longer to start).
TIMEOUTS = {"movies": 30.0, "integrations": 30.0, "lua": 20.0, "zips": 60.0, "cli": 60.0, "states": 20.0,
            "selftest": 5.0}


def campaign(kind: str, cases: int, *, seed: int = 0, corpus: bool = True, core: str = "stella",
             timeout: Optional[float] = None, memory: int = 3 << 30, save: Optional[Path] = None,
             log: Optional[Callable[[str], None]] = None, workdir: Optional[Path] = None) -> Report:
    """Run the corpus (if ``corpus``) and ``cases`` mutants of ``kind``; failing cases are copied to ``save``."""
    target = TARGETS[kind]
    own = workdir is None
    work = Path(tempfile.mkdtemp(prefix=f"retro-fuzz-{kind}-")) if workdir is None else workdir
    try:
        seeds_dir = work / "seeds"
        seeds_dir.mkdir(parents=True, exist_ok=True)
        seeds = target.seeds(seeds_dir, core) if kind == "states" else target.seeds(seeds_dir)
        options: dict[str, Any] = {"rom": seeds["rom"], "core": seeds["core"]} if kind == "states" else {}

        def generate() -> Iterator[tuple[str, dict[str, Any]]]:
            n = 0
            if corpus:
                for name, build in target.corpus().items():
                    folder = work / "cases" / f"{n:05d}"
                    folder.mkdir(parents=True)
                    n += 1
                    yield f"corpus/{name}", {"folder": str(folder), **build(folder, seeds)}
            rng = random.Random(seed)
            for i in range(cases):
                folder = work / "cases" / f"{n:05d}"
                folder.mkdir(parents=True)
                n += 1
                case_rng = random.Random(rng.getrandbits(64))
                yield f"mutant/{seed}/{i}", {"folder": str(folder), **target.mutant(case_rng, seeds, folder)}

        report = run_cases(kind, generate(), options=options, timeout=timeout or TIMEOUTS[kind],
                           memory=memory, log=log)
        if save is not None:
            for r in report.failures:
                dest = save / kind / r.name.replace("/", "-")
                shutil.copytree(r.case["folder"], dest, dirs_exist_ok=True, symlinks=True,
                                ignore_dangling_symlinks=True)
                (dest / "RESULT.txt").write_text(f"{r.outcome}: {r.error}\n{r.case}\n")
        return report
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


from typing import Sequence

import numpy as np

from retro._core import Emulator

class StepPool:
    threads: int
    def __init__(self, threads: int | None = ..., spin_us: float = ...) -> None: ...
    def step(self, emulators: Sequence[Emulator], *, n: int = ..., pool: bool = ...,
             observe_last: bool = ..., outs: Sequence[np.ndarray | None] | None = ...) -> None: ...
    def close(self) -> None: ...

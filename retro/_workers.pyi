from typing import Any, Sequence

import numpy as np

from retro._core import Emulator

class StepPool:
    threads: int
    def __init__(self, threads: int | None = ..., spin_us: float = ...) -> None: ...
    def step(self, emulators: Sequence[Emulator], *, n: int = ..., pool: bool = ...,
             skip: int = ..., outs: Sequence[np.ndarray | None] | None = ...,
             programs: Sequence[Any] | None = ..., obs: Sequence[np.ndarray | None] | None = ...,
             gray: bool = ..., size: tuple[int, int] | None = ...) -> list[int]: ...
    def restore(self, emulators: Sequence[Emulator], states: Sequence[Any]) -> list[int]: ...
    def close(self) -> None: ...

"""Type stub for the Cython module retro._values (see retro/_values.pyx)."""

from typing import Any, Hashable, Optional, Sequence, TypeVar

_K = TypeVar("_K", bound=Hashable)

class ValueTable:
    """Typed values at fixed places in byte buffers, read all at once in one C loop."""

    def __init__(
        self,
        buffers: Sequence[Any],
        specs: Sequence[tuple[Sequence[tuple[int, int]], str, Optional[int]]],
    ) -> None: ...
    def read(self) -> list[int]: ...
    def read_dict(self, keys: tuple[_K, ...]) -> dict[_K, int]: ...
    def __len__(self) -> int: ...

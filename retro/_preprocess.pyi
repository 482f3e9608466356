from typing import Any

import numpy as np

class ResizePlan:
    def __init__(self, h: int, w: int, oh: int, ow: int) -> None: ...

def convert(data: bytes | bytearray | memoryview, width: int, height: int, pitch: int, pixel_format: int,
            out_w: int, out_h: int) -> Any: ...

def preprocess(frame: np.ndarray, prev: np.ndarray | None = ..., out: np.ndarray | None = ..., *,
               gray: bool = ..., size: tuple[int, int] | None = ...) -> np.ndarray: ...

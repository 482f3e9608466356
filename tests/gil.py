"""A probe for tests that a call releases the GIL."""

from __future__ import annotations

import threading
from typing import Callable


def ticks_while(work: Callable[[], None]) -> int:
    """How far the main thread counts while ``work`` runs on another thread.

    If ``work`` held the GIL, the count could not advance until it returned.
    """
    inside = threading.Event()
    finished = threading.Event()

    def run() -> None:
        inside.set()
        work()
        finished.set()

    worker = threading.Thread(target=run)
    worker.start()
    inside.wait()
    ticks = 0
    while not finished.is_set():
        ticks += 1
    worker.join()
    return ticks

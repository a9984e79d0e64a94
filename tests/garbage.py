"""Reference cycles made by a block of code: what only the collector's full passes could free.

Those passes stall every caller in a process (20-50 ms at a few hundred callers), so per-call and
per-phrase work must leave none behind.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def cyclic_garbage() -> Iterator[list]:
    """Yields a list that, after the block, holds every object that became unreachable only as part of a
    cycle while it ran (gc.DEBUG_SAVEALL keeps them instead of freeing them)."""
    gc.collect()
    found: list = []
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()

"""Garbage collection on a schedule that does not stop every call at once.

Why: CPython's collector runs when allocations minus deallocations since its last pass reach 700. In a
worker, calls end while others start. The objects of the ending calls cancel out the new calls' objects in
that count, so passes come seldom, and then they find tens of thousands of young objects. At 800 whole calls
on one core, that meant 19-33 ms pauses every 15-20 s, and up to 17 % of the calls flagged
`caller_overloaded` (bench/RESULTS.md). A call makes no cyclic garbage of its own (tests check this), so
nothing is lost by collecting on our own schedule instead:
- the young generations every YOUNG_EVERY_S, so each pass scans only what survived since the last one;
- the whole heap only when the interpreter's allocated blocks have grown by a factor since the last full
  pass: a ramp, or cycles that do pile up (failed calls' tracebacks, say). The factor starts at
  FULL_AFTER_GROWTH and doubles, up to MAX_GROWTH, after each pass that freed less than WORTHWHILE_SHARE
  of the heap: early in a run the heap grows with live data (calls, caches), and each full pass over it
  (30-40 ms at 800 calls) flagged a hundred calls while finding nothing. A pass that does find garbage
  puts the factor back.
CPython's own trigger stays as a safety net, at SAFETY_NET_THRESHOLD, for a process whose loop stops turning.
"""
from __future__ import annotations

import gc
import sys
from typing import Optional

import gevent

# Young passes: at 800 whole calls a core, each took under 3 ms (a pass every 0.5 s took 3-4 ms).
YOUNG_EVERY_S = 0.1
# A full pass when the heap has grown by a quarter, as CPython's own rule for its oldest generation does...
FULL_AFTER_GROWTH = 1.25
# ...or by up to 4x, while full passes keep finding (almost) nothing: how much a late-starting leak can grow.
MAX_GROWTH = 4.0
WORTHWHILE_SHARE = 0.01
# Net allocations before CPython collects by itself; the young passes reset the count long before this.
SAFETY_NET_THRESHOLD = 100_000


class CycleCollector:
    """The process's collection schedule, driven by a timer on the gevent hub that started it."""

    def __init__(self) -> None:
        gc.collect()
        self._blocks_after_full = sys.getallocatedblocks()
        self.growth = FULL_AFTER_GROWTH
        self.full_passes = 0
        gc.set_threshold(SAFETY_NET_THRESHOLD, *gc.get_threshold()[1:])
        self._timer = gevent.get_hub().loop.timer(YOUNG_EVERY_S, YOUNG_EVERY_S, ref=False)  # never keeps a loop alive
        self._timer.start(self._collect)

    def _collect(self) -> None:
        blocks = sys.getallocatedblocks()
        if blocks <= self._blocks_after_full * self.growth:
            gc.collect(1)
            return
        gc.collect()
        self.full_passes += 1
        self._blocks_after_full = sys.getallocatedblocks()
        self.growth = growth_after_full_pass(self.growth, blocks, self._blocks_after_full)


def growth_after_full_pass(growth: float, blocks_before: int, blocks_after: int) -> float:
    """The heap growth to await before the next full pass, given what this one freed."""
    freed = 1.0 - blocks_after / blocks_before
    return FULL_AFTER_GROWTH if freed >= WORTHWHILE_SHARE else min(MAX_GROWTH, growth * 2)


_running: Optional[CycleCollector] = None


def collect_on_schedule() -> CycleCollector:
    """Start the schedule (once per process: the collector is the process's, not a hub's) and return it."""
    global _running
    if _running is None:
        _running = CycleCollector()
    return _running

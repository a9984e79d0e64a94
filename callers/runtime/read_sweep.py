"""One timer that reads, every SWEEP_S, the sockets of calls whose agent audio is only being counted.

Why: once a prompt's voice has been heard and nothing keeps its audio, a call only counts the chunks that
follow, and nothing in it needs a chunk the moment it lands. Woken per chunk, every call pays a hub dispatch
and a `recv` system call fifty times a second per prompt; read every SWEEP_S instead, one `recv` takes the
few chunks that arrived meanwhile (5-6 % less of a worker's CPU in the full-duplex capacity step,
bench/RESULTS.md). The members are spread over SLOTS ticks, so a thousand calls never make one burst that
would delay the pacer's frames.

What this costs in timing is bounded and stated: a swept read is stamped with the kernel's arrival time of
its newest bytes, so the last chunk before the agent falls silent, and a playStream.stop that ends a read,
keep their exact arrival times. Only a message that the same read's later bytes followed within one
SWEEP_S (a stop with the next prompt hard behind it) can be stamped up to SWEEP_S late, and says so
(AgentStream.voice_read_lag_ms). A call leaves the sweep at once when a read holds anything but counted
chunks, or more of them than real-time audio brings (the AudioCodesClient decides).
"""
from __future__ import annotations

import itertools
from typing import Callable

import gevent

from callers.runtime.per_hub import one_per_hub

# How often a swept socket is read: at 20 ms chunks, about three chunks per read.
SWEEP_S = 0.06
# The sweep's members are read in this many groups, one per tick of SWEEP_S / SLOTS.
SLOTS = 30


class ReadSweep:
    """The members of one gevent hub, each with the read it wants done every SWEEP_S."""

    def __init__(self) -> None:
        self._slots: list[dict] = [{} for _ in range(SLOTS)]
        self._slot_of: dict = {}
        self._next_slot = itertools.cycle(range(SLOTS))
        self._ticks = itertools.cycle(range(SLOTS))
        self._timer = None

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, key: object) -> bool:
        return key in self._slot_of

    def add(self, key: object, read: Callable[[], bool]) -> None:
        """Call `read` every SWEEP_S from now on, from the hub (it must never block), until it returns True
        (it wants to leave) or `discard(key)`."""
        if key in self._slot_of:
            return
        slot = next(self._next_slot)
        self._slots[slot][key] = read
        self._slot_of[key] = slot
        if self._timer is None:
            tick = SWEEP_S / SLOTS
            self._timer = gevent.get_hub().loop.timer(tick, tick)
            self._timer.start(self._tick)

    def discard(self, key: object) -> None:
        slot = self._slot_of.pop(key, None)
        if slot is not None:
            del self._slots[slot][key]

    def _tick(self) -> None:
        members = self._slots[next(self._ticks)]
        for key, read in list(members.items()):
            if key in members and read():
                self.discard(key)
        if not self._slot_of:
            self._timer.close()
            self._timer = None


get_read_sweep = one_per_hub(ReadSweep)
"""The read sweep of the current gevent hub."""

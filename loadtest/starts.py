"""A worker's call set-ups, one at a time and a few milliseconds apart, so a batch of new users does not stop
the calls already on the line.

Locust's dispatcher hands users out in batches, once a second: floor(spawn rate) at a time, spread over the
workers. Every new user places its first call at once, and a call's set-up (the caller, its brain, goals and
profile, the socket and the WebSocket handshake request) runs on the gevent loop until its first network
wait. A batch of ten or so set-ups in one go held the loop from every call in flight for 15-25 ms, once a
second for the whole ramp, and those stalls were what flagged calls `caller_overloaded` in a worker far
from its CPU limit (bench/worker_stalls.py attributes each stall). Through the gate each set-up gets its
own loop turn, at least SPACING_S after the one before, and the pacer sends the other callers' frames in
between.

One releasing greenlet lets the waiting set-ups go one per wake-up, in the order they came, so a loop that
was late never lets two go together. A set-up that finds no other due goes at once: at steady state calls
end at scattered times and do not wait. A batch of 100 users is spread over half a second.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Optional

import gevent
from gevent.event import Event

# Longer than a call's set-up on the loop (1.5-2 ms on this project's VM, bench/RESULTS.md), so the pacer gets
# the rest; short enough that a worker can start 200 calls a second, ten times what its callers need.
SPACING_S = 0.005


class StartGate:
    """Set-up turns for the calls of one gevent hub, SPACING_S apart, first come first served."""

    def __init__(self, spacing_s: float = SPACING_S) -> None:
        self.spacing_s = spacing_s
        self._waiting: deque[Event] = deque()
        self._releaser: Optional[gevent.Greenlet] = None
        self._last_start = float("-inf")

    def wait_turn(self) -> float:
        """Block this greenlet until its turn to set up a call; returns how long it waited, in seconds."""
        asked = time.monotonic()
        if self._releaser is None and asked - self._last_start >= self.spacing_s:
            self._last_start = asked
            return 0.0
        turn = Event()
        self._waiting.append(turn)
        if self._releaser is None:
            self._releaser = gevent.spawn(self._release_in_turn)
        try:
            turn.wait()
        finally:
            if not turn.is_set():  # killed while waiting (the run stopped): give the turn up
                self._waiting.remove(turn)
        return time.monotonic() - asked

    def _release_in_turn(self) -> None:
        """Wake the waiting set-ups one at a time, SPACING_S apart; ends when none is left."""
        try:
            while self._waiting:
                gevent.sleep(max(0.0, self._last_start + self.spacing_s - time.monotonic()))
                if self._waiting:
                    self._waiting.popleft().set()
                    self._last_start = time.monotonic()
        finally:
            self._releaser = None

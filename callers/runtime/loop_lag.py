"""How late the gevent loop has been running lately: what says whether a time taken on it can be trusted.

Why: the agent's answer is timed by the kernel's arrival stamp of the newest bytes a read returns. That is
exact when the first voiced chunk is the newest, but when the loop was stalled (a busy worker), later
chunks pile up behind it, Linux merges them, and the stamp is the last one's: the answer looks later than
it was by up to the stall. The read cannot see how long the stall was; this probe can. A timer due every
PROBE_S keeps the gaps between its firings: a gap well past PROBE_S is a stall of the whole loop, and no
bytes waited in a socket longer than the longest gap around their read.
"""
from __future__ import annotations

import time
from collections import deque

import gevent

from callers.runtime.per_hub import one_per_hub

# How often the probe fires: 100 wake-ups a second, noise next to a caller's 50 frames a second.
PROBE_S = 0.01
# How far back `recent_ms` looks: a stall this long before a read can still have delayed its oldest bytes.
LOOKBACK_S = 0.25


class LoopLag:
    """The probe of one gevent hub: when it last fired, and its recent gaps."""

    def __init__(self) -> None:
        self._last = time.monotonic()
        self._gaps: deque = deque(maxlen=int(LOOKBACK_S / PROBE_S) * 2)  # (fired at, gap in s) past PROBE_S
        self._timer = gevent.get_hub().loop.timer(PROBE_S, PROBE_S, ref=False)  # never keeps a loop alive
        self._timer.start(self._fire)

    def _fire(self) -> None:
        now = time.monotonic()
        gap = now - self._last
        if gap > PROBE_S:
            self._gaps.append((now, gap))
        self._last = now

    def recent_ms(self) -> float:
        """The longest gap between the probe's firings in the last LOOKBACK_S, including the one still
        open (the loop running callbacks well past the probe's due time), in ms: about PROBE_S on a loop
        that keeps up."""
        now = time.monotonic()
        since = now - LOOKBACK_S
        worst = now - self._last
        for fired_at, gap in reversed(self._gaps):
            if fired_at < since:
                break
            worst = max(worst, gap)
        return worst * 1000.0


get_loop_lag = one_per_hub(LoopLag)
"""The loop-lag probe of the current gevent hub, started on first use."""

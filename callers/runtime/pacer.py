"""One timer for the audio of every caller in the process, instead of a sleep per caller per frame.

A greenlet sleeping 20 ms per frame costs a timer, two switches and a pass through the hub each time:
at a thousand callers that is 50 000 wake-ups a second, and they, not the bytes, are what falls behind
real time first. The pacer keeps every utterance being spoken in one heap ordered by the next frame's
absolute deadline (start + i * frame, so lateness never accumulates into drift) and one greenlet sends
every frame that is due, whichever call it belongs to, waking once per batch.

The pacer never waits on a socket: a frame the kernel will not take whole right away (send buffer full,
another greenlet writing to that socket) is finished by a helper greenlet, and that utterance resumes
once it is out, so one stuck bridge connection cannot delay anyone else's audio.
"""
from __future__ import annotations

import heapq
import itertools
import ssl
import time
from typing import Callable, Optional

import gevent
import gevent.socket
import gevent.ssl
import numpy as np
from gevent.event import Event
from gevent.hub import Waiter

from callers.runtime.per_hub import one_per_hub

# Frames due within this much are sent in the same wake-up: one switch for a batch of callers.
EARLY_S = 0.0005


# Quantile of the pacing figure each utterance reports.
LATENESS_QUANTILE = 0.99


def lateness_p99_ms(lateness_ms: np.ndarray) -> float:
    """`np.percentile(lateness_ms, 99)` of a non-empty array, to the last bit (its default linear method),
    without the Python np.percentile wraps around the partition: every utterance of every call computes one,
    and at a few hundred callers that wrapping was a visible share of a worker's CPU (bench/RESULTS.md)."""
    count = len(lateness_ms)
    index = (count - 1) * LATENESS_QUANTILE
    below = int(index)
    above = min(below + 1, count - 1)
    ordered = np.partition(lateness_ms, (below, above))
    low, high = float(ordered[below]), float(ordered[above])
    weight = index - below
    step = high - low
    return high - step * (1 - weight) if weight >= 0.5 else low + step * weight


def longest_gap_ms(lateness_ms: Optional[np.ndarray]) -> float:
    """The longest pause the pacing itself put inside an utterance: how much longer than one frame
    interval the line carried nothing between two consecutive frames. A frame's lateness minus its
    predecessor's is exactly that, since deadlines are one interval apart. The first frame's lateness
    only delays the start, which the agent cannot hear; a steady lateness is no pause either."""
    if lateness_ms is None or len(lateness_ms) < 2:
        return 0.0
    return max(0.0, float(np.max(np.diff(lateness_ms))))


class Utterance:
    """One caller utterance being paced: which frames, where to, and what happened to each."""

    def __init__(self, sock, lock, build: Callable[[int], bytes], count: int, frame_s: float,
                 stop_when: Optional[Event], tail: Optional[bytes] = None) -> None:
        self.sock = sock
        self.lock = lock
        self.build = build
        self.count = count
        # Sent right after the last frame (or at once when stop_when ends the audio), in the same pass of
        # the pacer: the end-of-speech message, so the bridge sees speech end when the audio ended, not
        # when the speaking greenlet next gets the loop (a wait that would count as the agent's latency).
        self.tail = tail
        self.tail_sent = False
        self.frame_s = frame_s
        self.stop_when = stop_when
        self.lateness_ms = np.zeros(count, dtype=np.float64)
        self.start = 0.0
        self.sent = 0
        self.first_sent_at: Optional[float] = None
        self.last_sent_at: Optional[float] = None
        self.error: Optional[BaseException] = None
        self.cancelled = False
        self.done = Event()
        self._send_now = _send_without_waiting(sock)

    def send_due(self, now: float, pacer: "Pacer") -> Optional[float]:
        """Send the frame due now; the next frame's deadline, or None when finished or handed to a helper."""
        if self.cancelled:
            return None
        index = self.sent
        if index < self.count and self.stop_when is not None and self.stop_when.is_set():
            self.count = index  # no more audio; the tail still goes
        if index < self.count:
            late = now - (self.start + index * self.frame_s)
            self.lateness_ms[index] = late * 1000.0 if late > 0.0 else 0.0
            data = self.build(index)
        elif self.tail is not None and not self.tail_sent:
            data = self.tail
        else:
            self._finish()
            return None
        if self._send_now is None:
            return self._send_blocking(data, pacer)
        if self.lock.locked():  # another greenlet is part-way through a frame on this socket
            gevent.spawn(self._send_slowly, data, pacer, False)
            return None
        # No one can take the lock before this returns: a send that never waits never yields to the hub.
        try:
            written = self._send_now(data)
        except (BlockingIOError, ssl.SSLWantWriteError):
            written = 0
        except OSError as exc:
            self.error = exc
            self._finish()
            return None
        if written < len(data):
            self.lock.acquire()  # free, as just seen: the rest of this frame goes out before anyone else's
            gevent.spawn(self._send_slowly, data[written:], pacer, True)
            return None
        return self._sent()

    def _send_blocking(self, data: bytes, pacer: "Pacer") -> Optional[float]:
        """A plain socket (no gevent patching): nothing cooperative to protect, but threads may share it."""
        if not self.lock.acquire(False):
            gevent.spawn(self._send_slowly, data, pacer, False)
            return None
        return self._send_holding_lock(data)

    def _send_slowly(self, data: bytes, pacer: "Pacer", locked: bool) -> None:
        if not locked:
            self.lock.acquire()
        following = self._send_holding_lock(data)
        if following is not None and not self.cancelled:
            pacer.schedule(self, following)

    def _send_holding_lock(self, data: bytes) -> Optional[float]:
        """Write all of `data` (waiting for the socket if need be), release the lock; the next deadline."""
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.error = exc
            self._finish()
            return None
        finally:
            self.lock.release()
        return self._sent()

    def _sent(self) -> Optional[float]:
        if self.sent >= self.count:  # that was the tail
            self.tail_sent = True
            self._finish()
            return None
        now = time.monotonic()
        if self.first_sent_at is None:
            self.first_sent_at = now
        self.last_sent_at = now
        sent = self.sent = self.sent + 1
        if sent < self.count:
            return self.start + sent * self.frame_s  # absolute: lateness never adds up into drift
        if self.tail is not None:
            return now  # due at once: the pacer sends it before it sleeps
        self._finish()
        return None

    def _finish(self) -> None:
        self.done.set()


def _send_without_waiting(sock) -> Optional[Callable[[bytes], int]]:
    """A send that takes what the kernel accepts now and never waits, for a gevent socket; None for a plain
    one. Under gevent the OS socket itself is non-blocking, and its own send skips gevent's wrapper, a
    tenth of what a frame costs (bench/RESULTS.md); a TLS socket must encrypt, so it keeps its own send."""
    if isinstance(sock, gevent.ssl.SSLSocket):
        return lambda data: sock.send(data, 0, 0.0)
    if isinstance(sock, gevent.socket.socket):
        return sock._sock.send
    return None


class Pacer:
    """The heap of utterances and the greenlet that sends their frames on time."""

    def __init__(self) -> None:
        self._heap: list = []
        self._order = itertools.count()
        self._hub = gevent.get_hub()
        self._waiter: Optional[Waiter] = None  # set while the pacer sleeps: schedule() wakes it through it
        self._greenlet: Optional[gevent.Greenlet] = None

    def play(self, utterance: Utterance) -> None:
        """Pace `utterance` from now on and return when it is finished, stopped or failed."""
        utterance.start = time.monotonic()
        self.schedule(utterance, utterance.start)
        try:
            utterance.done.wait()
        finally:
            if not utterance.done.is_set():
                utterance.cancelled = True  # the speaker was killed: the heap drops it when it comes up

    def schedule(self, utterance: Utterance, deadline: float) -> None:
        heapq.heappush(self._heap, (deadline, next(self._order), utterance))
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._run)
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self._hub.loop.run_callback(waiter.switch, None)

    def _sleep(self, seconds: Optional[float]) -> None:
        """Until `seconds` pass (None: until woken) or schedule() wakes the pacer. A bare libev timer and a
        Waiter: Event.wait with a timeout builds a Timeout each time, and the pacer sleeps up to 2,000
        times a second."""
        waiter = self._waiter = Waiter(self._hub)
        timer = None if seconds is None else self._hub.loop.timer(seconds)
        try:
            if timer is not None:
                self._hub.loop.update_now()
                timer.start(waiter.switch, None)
            waiter.get()
        finally:
            self._waiter = None
            if timer is not None:
                timer.close()

    def _run(self) -> None:
        heap = self._heap
        clock = time.monotonic
        while True:
            if not heap:
                self._sleep(None)
                continue
            now = clock()
            wait = heap[0][0] - now
            if wait > EARLY_S:
                self._sleep(wait)
                continue
            _, _, utterance = heapq.heappop(heap)
            try:
                following = utterance.send_due(now, self)
            except Exception as exc:  # noqa: BLE001 - one broken utterance fails its caller, not the pacer
                utterance.error = exc
                utterance.done.set()
                continue
            if following is not None:
                heapq.heappush(heap, (following, next(self._order), utterance))


get_pacer = one_per_hub(Pacer)
"""The pacer of the current gevent hub."""

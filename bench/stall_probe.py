"""A Locust plug-in (a second `-f` file) that records what stops a worker's gevent loop, for bench/worker_stalls.py.

In the process that runs users it records, from test_start to quitting:
- the loop's lateness: a greenlet that sleeps PROBE_S and keeps every wake-up over STALL_MS late, with what
  the process's threads did meanwhile (Linux schedstat: the main thread's CPU time and its time waiting
  for a CPU; every other thread's CPU time);
- each garbage-collector pass (gc.callbacks): when, which generation, how long;
- unless $STALL_PROBE_STACKS is "0", what the main thread ran during a stall: a native thread (it runs while
  the loop is stuck) looks every SAMPLE_S at how long ago the probe last woke and, past STALL_MS, keeps
  the main thread's Python stack (and the other threads' innermost frames). It can only look when it gets
  the GIL, so its samples lean towards the points where the main thread releases it (system calls), and
  a collector pass, which holds the GIL throughout, shows no stack.
At quitting it writes everything as JSON to $STALL_PROBE_OUT. Without that variable it does nothing.
"""
from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback
from typing import Any, Optional

import gevent
from gevent import monkey
from locust import events

PROBE_S = 0.005
STALL_MS = 10.0
SAMPLE_S = 0.002
STACK_DEPTH = 14
OTHER_DEPTH = 4
OTHERS_EVERY_S = 0.02  # how often the other threads' CPU time is read between stalls (a stall's baseline)
OUT_ENV = "STALL_PROBE_OUT"
STACKS_ENV = "STALL_PROBE_STACKS"

# The real thread functions: the worker is monkey-patched, and the sampler must not be a greenlet.
_start_native_thread = monkey.get_original("_thread", "start_new_thread")
_thread_ident = monkey.get_original("_thread", "get_ident")
_native_id = monkey.get_original("_thread", "get_native_id")
_native_sleep = monkey.get_original("time", "sleep")


class StallProbe:
    """One worker's record of its loop's stalls."""

    def __init__(self, out: str) -> None:
        self.out = out
        self.origin = time.monotonic()
        self.origin_wall = time.time()
        self.last_wake = self.origin
        self.running = True
        self.main_tid = _native_id()
        self.main_ident = _thread_ident()  # what sys._current_frames() keys the main thread by
        self.sampler_tid: Optional[int] = None
        # (woke at s, late ms, main thread ran ms, main thread waited for a CPU ms, {other thread: ran ms})
        self.wakes: list[tuple[float, float, float, float, dict]] = []
        self.gc_passes: list[tuple[float, int, float, int]] = []  # (started at s, generation, ms, collected)
        self.samples: list[tuple[float, float, list[str]]] = []  # (at s, stalled for ms, stack)
        self._schedstat = os.open(f"/proc/self/task/{self.main_tid}/schedstat", os.O_RDONLY)
        self._gc_started = 0.0

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        gevent.spawn(self._wake_loop)
        if os.environ.get(STACKS_ENV, "1") != "0":
            _start_native_thread(self._sampler, ())

    def _on_gc(self, phase: str, info: dict) -> None:
        now = time.monotonic()
        if phase == "start":
            self._gc_started = now
        else:
            self.gc_passes.append((self._gc_started - self.origin, info["generation"],
                                   (now - self._gc_started) * 1000.0, info["collected"]))

    def _main_sched(self) -> tuple[int, int]:
        """The main thread's nanoseconds on a CPU and waiting for one, so far."""
        fields = os.pread(self._schedstat, 128, 0).split()
        return int(fields[0]), int(fields[1])

    def _others_ran(self) -> dict[str, int]:
        """Nanoseconds on a CPU so far of each other thread of the process, by "tid name"."""
        ran = {}
        for tid in os.listdir("/proc/self/task"):
            if int(tid) == self.main_tid:
                continue
            try:
                with open(f"/proc/self/task/{tid}/schedstat", "rb") as stat, \
                        open(f"/proc/self/task/{tid}/comm", "rb") as comm:
                    ran[f"{tid} {comm.read().decode().strip()}"] = int(stat.read().split()[0])
            except OSError:  # the thread ended
                continue
        return ran

    def _wake_loop(self) -> None:
        last_sched, others, others_at = self._main_sched(), self._others_ran(), time.monotonic()
        while self.running:
            before = time.monotonic()
            gevent.sleep(PROBE_S)
            now = time.monotonic()
            sched = self._main_sched()
            self.last_wake = now
            late_ms = (now - before - PROBE_S) * 1000.0
            if late_ms > STALL_MS or now - others_at > OTHERS_EVERY_S:
                current = self._others_ran()
                if late_ms > STALL_MS:
                    other_ms = {name: round((ns - others.get(name, 0)) / 1e6, 2) for name, ns in current.items()
                                if ns - others.get(name, 0) > 100_000}
                    self.wakes.append((now - self.origin, late_ms, (sched[0] - last_sched[0]) / 1e6,
                                       (sched[1] - last_sched[1]) / 1e6, other_ms))
                others, others_at = current, now
            last_sched = sched

    def _sampler(self) -> None:
        self.sampler_tid = _native_id()
        while self.running:
            _native_sleep(SAMPLE_S)
            now = time.monotonic()
            stalled_ms = (now - self.last_wake) * 1000.0
            if stalled_ms <= STALL_MS + PROBE_S * 1000.0:
                continue
            frames = sys._current_frames()
            frame = frames.pop(self.main_ident, None)
            frames.pop(_thread_ident(), None)
            if frame is None:
                continue
            stack = [_where(entry) for entry in traceback.extract_stack(frame)[-STACK_DEPTH:]]
            for other in frames.values():
                innermost = reversed(traceback.extract_stack(other)[-OTHER_DEPTH:])
                stack.append("[other thread] " + " <- ".join(_where(entry) for entry in innermost))
            self.samples.append((now - self.origin, stalled_ms, stack))

    def write(self) -> None:
        self.running = False
        data: dict[str, Any] = {
            "wakes": self.wakes, "gc": self.gc_passes, "samples": self.samples, "origin_wall": self.origin_wall,
            "main_tid": self.main_tid, "sampler_tid": self.sampler_tid, "gc_thresholds": gc.get_threshold(),
            "frozen": gc.get_freeze_count(), "duration_s": time.monotonic() - self.origin}
        with open(self.out, "w", encoding="utf-8") as sink:
            json.dump(data, sink)


def _where(entry: traceback.FrameSummary) -> str:
    return f"{os.path.relpath(entry.filename)}:{entry.lineno} {entry.name}"


_probe: Optional[StallProbe] = None


@events.test_start.add_listener
def _start(environment: Any, **_kwargs: Any) -> None:
    global _probe
    out = os.environ.get(OUT_ENV)
    runs_users = environment.runner is not None and type(environment.runner).__name__ != "MasterRunner"
    if out and _probe is None and runs_users:
        _probe = StallProbe(out)
        _probe.start()


@events.quitting.add_listener
def _quit(environment: Any, **_kwargs: Any) -> None:
    if _probe is not None:
        _probe.write()

"""Locust's stop of a worker's users no longer holds the calls still on the line for ~50 ms.

Locust 2.47's `Runner.stop()` logs where it was called from with `inspect.stack()`, which finds the source
of every frame. The first such look-up in a process maps every loaded module (~900 in a worker) to its file,
a realpath and a stat each: 40-60 ms on the gevent loop at the end of every run (bench/worker_stalls.py),
where it flagged calls that the stop was cutting off `caller_overloaded`. Looking up a stack once before the
calls start leaves stop() ~3 ms. (Upstream, `sys._getframe(1)`, or the look-up only when debug logging is
on, would spare it altogether.)
"""
from __future__ import annotations

import inspect


def map_module_files() -> None:
    """Have `inspect` map the modules loaded so far to their files now, before any call is on the line."""
    inspect.stack()

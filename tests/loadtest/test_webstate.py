"""loadtest/webstate.py: a stats poll during a stop waits for the stop to end, and no longer than its bound."""
from __future__ import annotations

import time
from types import SimpleNamespace

import gevent
from locust.runners import STATE_CLEANUP, STATE_STOPPED, STATE_STOPPING

from loadtest.webstate import settled_state


def test_the_state_after_the_stop_is_answered():
    runner = SimpleNamespace(state=STATE_STOPPING)
    gevent.spawn_later(0.2, setattr, runner, "state", STATE_STOPPED)
    started = time.monotonic()
    assert settled_state(runner, 5.0) == STATE_STOPPED  # it was stopping when asked: the answer waited
    assert time.monotonic() - started < 2.0


def test_a_stop_longer_than_the_bound_is_answered_as_it_is():
    runner = SimpleNamespace(state=STATE_CLEANUP)
    started = time.monotonic()
    assert settled_state(runner, 0.2) == STATE_CLEANUP
    assert time.monotonic() - started < 1.0


def test_a_running_run_is_answered_at_once():
    runner = SimpleNamespace(state="running")
    started = time.monotonic()
    assert settled_state(runner, 5.0) == "running"
    assert time.monotonic() - started < 0.05

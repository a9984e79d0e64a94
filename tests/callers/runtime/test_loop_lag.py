"""LoopLag: a probe timer whose late firings tell how long the gevent loop stalled lately."""
from __future__ import annotations

import gevent
import gevent.monkey
import pytest

from callers.runtime.loop_lag import LOOKBACK_S, PROBE_S, get_loop_lag

pytestmark = pytest.mark.timeout(30)
stall = gevent.monkey.get_original("time", "sleep")


def test_a_stall_shows_while_it_lasts_and_after_until_it_is_out_of_the_lookback():
    probe = get_loop_lag()
    gevent.sleep(5 * PROBE_S)
    stall(0.1)
    assert probe.recent_ms() >= 80  # the probe has not fired since: the stall is still going on
    gevent.sleep(3 * PROBE_S)
    assert probe.recent_ms() >= 80  # the late firing keeps it
    gevent.sleep(LOOKBACK_S + 5 * PROBE_S)
    assert probe.recent_ms() < 80


def test_there_is_one_probe_per_hub_and_it_keeps_no_loop_alive():
    assert get_loop_lag() is get_loop_lag()
    assert not get_loop_lag()._timer.ref

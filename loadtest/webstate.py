"""The web UI's view of a run that is stopping.

Locust's page polls /stats/requests only while the run is spawning or running: the first answer that says
"cleanup" (a lone process ending its users' calls) or "stopping" (a master waiting for its workers to stop)
is the last one it asks for, so after STOP the page kept showing CLEANUP or STOPPING, until reloaded, although
the run had stopped a moment later. A poll that comes during a stop is therefore answered once the stop is
over, with the state the run has then; the wait is bounded by --stop-timeout (the calls' grace) plus a
margin, after which the answer says what the run is doing.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import gevent
from flask import request
from locust.runners import STATE_CLEANUP, STATE_STOPPING

SETTLING_STATES = (STATE_CLEANUP, STATE_STOPPING)
# Beyond --stop-timeout: cut-off calls hang up (up to 1 s each, in parallel) and workers report stopped.
SETTLE_MARGIN_S = 10.0
SETTLE_POLL_S = 0.05


def settled_state(runner: Any, limit_s: float, clock: Callable[[], float] = time.monotonic) -> str:
    """The runner's state once it is no longer cleaning up or stopping, or after `limit_s` seconds."""
    deadline = clock() + limit_s
    while runner.state in SETTLING_STATES and clock() < deadline:
        gevent.sleep(SETTLE_POLL_S)
    return runner.state


def install(environment: Any) -> None:
    """Hold the web UI's stats polls that arrive while the run is stopping (see the module's docstring)."""
    web_ui = environment.web_ui
    base = (environment.parsed_options.web_base_path if environment.parsed_options else "") or ""
    stats_path = f"{base}/stats/requests"

    @web_ui.app.before_request
    def answer_once_stopped() -> None:
        runner = environment.runner
        if request.path == stats_path and runner is not None:
            settled_state(runner, (environment.stop_timeout or 0) + SETTLE_MARGIN_S)

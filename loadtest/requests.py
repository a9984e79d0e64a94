"""callers.call.events -> Locust request events and goal counters (the table in docs/metrics.md).

What a finished call counts as is callers/outcome.py's rule: CALL fails only for an agent failure; a call the
simulated caller broke fires its own CALLER_ERROR request (named by its category), so Locust's failures table
shows the breakage without blaming the agent's CALL row (the capacity search reads CALL failures), and so does
a call whose caller was not prepared (CALLER_ERROR named caller_not_prepared); a cancelled call fires nothing.
"""
from __future__ import annotations

from typing import Any, Optional

from callers.errors import NOT_CONNECTED, ErrorCategory
from callers.outcome import Outcome, outcome_of_result
from callers.results import CallResult, TurnRecord
from loadtest.run import LoadRun

CALLER_ERROR = "CALLER_ERROR"


class CallFailed(Exception):
    """What a failed CONNECT / GREETING / BARGE_IN / CALL / CALLER_ERROR shows in Locust's failure table."""


class RequestEvents:
    """Listeners for callers.call.events that fire the run's Locust requests; calls of other runs are ignored."""

    def __init__(self, run: LoadRun) -> None:
        self.run = run

    def _fire(self, request_type: str, name: str, response_time: Optional[float],
              exception: Optional[str] = None) -> None:
        self.run.environment.events.request.fire(
            request_type=request_type, name=name, response_time=float(response_time or 0.0), response_length=0,
            exception=CallFailed(exception) if exception else None, context={})

    def connected(self, call: Any, connect_ms: float, **_kwargs: Any) -> None:
        if self.run.label(call) is not None:
            self._fire("CONNECT", self.run.connect_name, connect_ms)

    def greeting(self, call: Any, latency_ms: float, **_kwargs: Any) -> None:
        label = self.run.label(call)
        if label is not None:
            self._fire("GREETING", label, latency_ms)

    def turn(self, call: Any, turn: TurnRecord, **_kwargs: Any) -> None:
        label = self.run.label(call)
        if label is None:
            return
        if turn.response_latency_ms is not None:
            self._fire("TURN", label, turn.response_latency_ms)
        if turn.barge_in and turn.agent_stopped is not None:  # None: the prompt's end said nothing
            stopped = turn.agent_stopped
            self._fire("BARGE_IN", label, turn.barge_in_stop_ms, None if stopped else "agent did not stop")

    def resumed(self, call: Any, resume: dict, **_kwargs: Any) -> None:
        if self.run.label(call) is not None:
            self._fire("RESUME", self.run.connect_name, resume["took_ms"],
                       None if resume["ok"] else "session.resume failed")

    def finished(self, call: Any, result: CallResult, **_kwargs: Any) -> None:
        label = self.run.label(call)
        if label is None:
            return
        category = result.error_category
        self.run.source.counters.record_result(result, scenario=label)
        outcome = outcome_of_result(result)
        if outcome is Outcome.CANCELLED:
            return  # cut off by the end of the run: neither a success nor a failure
        duration_ms = result.duration_s * 1000.0
        if outcome is Outcome.CALLER_ERROR:
            self._fire(CALLER_ERROR, category, duration_ms, category)
            return
        if outcome is Outcome.CALLER_NOT_PREPARED:
            self._fire(CALLER_ERROR, outcome.value, duration_ms, outcome.value)
            return
        if category in NOT_CONNECTED:
            self._fire("CONNECT", self.run.connect_name, duration_ms, category)
        elif category == ErrorCategory.NO_ANSWER.value and result.greeting_latency_ms is None:
            self._fire("GREETING", label, duration_ms, category)
        self._fire("CALL", label, duration_ms, None if outcome is Outcome.SUCCESS else (category or "goal not met"))

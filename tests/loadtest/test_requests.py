"""Which Locust requests a finished call fires: callers/outcome.py's rule decides (docs/metrics.md)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Optional

import pytest

from loadtest.requests import CALLER_ERROR, RequestEvents
from loadtest.run import LoadRun


class Fired(list):
    def fire(self, **kwargs) -> None:
        self.append((kwargs["request_type"], kwargs["name"], str(kwargs["exception"] or "") or None))


def _events(call: object) -> tuple[RequestEvents, Fired, LoadRun]:
    run = LoadRun(SimpleNamespace(entries=[]))
    fired = Fired()
    run.environment = SimpleNamespace(events=SimpleNamespace(request=fired))
    run.owned[call] = "card"
    return RequestEvents(run), fired, run


def _result(success: bool, category: Optional[str], greeting_ms: Optional[float] = 500.0) -> SimpleNamespace:
    return SimpleNamespace(success=success, error_category=category, duration_s=2.0, greeting_latency_ms=greeting_ms,
                           error={"category": category} if category else None, personality="normal",
                           scenario="card", goals_achieved=0, goals_total=1, caller_overloaded=False)


class Call:
    pass


@pytest.mark.parametrize("success, category, expected", [
    (True, None, [("CALL", "card", None)]),
    (False, None, [("CALL", "card", "goal not met")]),
    (False, "connect_failed", [("CONNECT", "/", "connect_failed"), ("CALL", "card", "connect_failed")]),
    (False, "no_answer", [("CALL", "card", "no_answer")]),
    (False, "simulator_error", [(CALLER_ERROR, "simulator_error", "simulator_error")]),
    (False, "brain_error", [(CALLER_ERROR, "brain_error", "brain_error")]),
    (False, "cancelled", []),
])
def test_call_fails_only_for_the_agent_and_a_caller_error_has_its_own_request(success, category, expected):
    call = Call()
    events, fired, run = _events(call)
    events.finished(call, _result(success, category))
    assert fired == expected
    assert run.source.counters.total.calls == 1  # every finished call is counted, whatever it fires


def test_a_call_of_another_run_fires_nothing():
    events, fired, run = _events(Call())
    events.finished(Call(), _result(True, None))
    assert fired == [] and run.source.counters.total.calls == 0


def test_a_caller_not_prepared_fires_its_own_request_not_a_failed_call():
    call = Call()
    events, fired, run = _events(call)
    result = _result(False, None)
    result.unanswered_asks = ["What is the answer to your security question?"]
    events.finished(call, result)
    assert fired == [(CALLER_ERROR, "caller_not_prepared", "caller_not_prepared")]
    assert run.source.counters.total.not_prepared == 1

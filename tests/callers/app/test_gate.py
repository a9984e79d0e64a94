"""The exit-code rule shared by batch_caller_test.py and caller_cli.py, and the gate that can fail a batch."""
from __future__ import annotations

import pytest

from callers.app.gate import Gate, exit_code, turn_p95_ms
from callers.results import CallResult, TurnRecord


def call(success: bool, category: str = None, latencies=(), name: str = "c") -> CallResult:
    turns = [TurnRecord(index=i, caller_text="hi", caller_speech_start=0.0, caller_speech_end=1.0,
                        response_latency_ms=ms) for i, ms in enumerate(latencies, start=1)]
    return CallResult(call_id=name, caller_name=name, personality="normal", scenario="s", scenario_type="complaint",
                      started_at="2026-11-25T10:00:00.000+00:00", bridge="ws://x", success=success,
                      error={"category": category, "message": "m"} if category else None, turn_records=turns)


NINE_OF_ELEVEN = [call(True)] * 9 + [call(False), call(False, "no_answer")]


def test_a_batch_exits_0_whatever_share_of_its_calls_failed():
    assert exit_code(NINE_OF_ELEVEN, cancelled=False, gate_reasons=[]) == 0
    assert exit_code([call(False)] * 3, cancelled=False, gate_reasons=[]) == 0


def test_a_one_off_call_exits_with_its_verdict():
    assert exit_code([call(True)], cancelled=False, gate_reasons=[], one_off=True) == 0
    assert exit_code([call(False)], cancelled=False, gate_reasons=[], one_off=True) == 1


def test_unreachable_interrupted_and_gate_codes():
    unreachable = [call(False, "connect_failed"), call(False, "handshake_rejected")]
    assert exit_code(unreachable, cancelled=False, gate_reasons=[]) == 3
    assert exit_code(unreachable + [call(True)], cancelled=False, gate_reasons=[]) == 0  # the bridge was reached
    assert exit_code(NINE_OF_ELEVEN, cancelled=True, gate_reasons=[]) == 130
    assert exit_code(NINE_OF_ELEVEN, cancelled=False, gate_reasons=["below"]) == 1


def test_success_threshold_counts_judged_calls_only():
    gate = Gate(success_threshold=0.8)
    assert gate.reasons(NINE_OF_ELEVEN) == []  # 9/11 = 81.8%
    assert gate.reasons([call(True)] * 4 + [call(False)]) == []  # exactly 0.8 is not below it
    (reason,) = gate.reasons([call(True)] * 2 + [call(False)])
    assert reason == "success rate 66.7% (2/3 judged calls) is below the threshold 80.0%"
    # cancelled calls and the caller's own failures are neither successes nor failures
    not_judged = [call(False, "cancelled"), call(False, "simulator_error"), call(False, "brain_error")]
    assert gate.reasons([call(True)] * 4 + [call(False)] + not_judged) == []
    assert gate.reasons(not_judged)[0].startswith("success rate unknown")
    assert Gate().reasons([call(False)]) == [] and not Gate().asked


def test_p95_turn_gate_uses_linear_interpolation_like_the_reports():
    calls = [call(True, latencies=range(100, 1100, 100)), call(False, "simulator_error", latencies=[90000])]
    assert turn_p95_ms(calls) == pytest.approx(955.0)  # numpy.percentile([100..1000], 95); the broken caller's
    assert Gate(max_p95_turn_ms=1000).reasons(calls) == []  # turn is not trusted
    assert Gate(max_p95_turn_ms=900).reasons(calls) == ["p95 TURN latency 955 ms is above the limit 900 ms"]
    assert Gate(max_p95_turn_ms=900).reasons([call(True)])[0].startswith("p95 TURN latency unknown")

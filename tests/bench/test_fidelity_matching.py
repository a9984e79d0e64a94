"""bench/fidelity.py's pairing of caller turns with the bridge's ground truth, on made-up records."""
from __future__ import annotations

from bench.fidelity import match_turns, summarise


def _call(call_id: str, t0: float, turns: list) -> dict:
    return {"call_id": call_id, "t0_monotonic": t0, "turn_records": turns, "error": None}


def test_turns_pair_by_when_the_caller_stopped_and_errors_are_absolute():
    calls = [_call("a", 100.0, [
        {"index": 1, "caller_speech_end": 5.0, "response_latency_ms": 310.0, "pacing_p99_ms": 1.0},
        {"index": 2, "caller_speech_end": 9.0, "response_latency_ms": 295.0, "pacing_p99_ms": 20.0,
         "caller_overloaded": True},
        {"index": 3, "caller_speech_end": 12.0, "response_latency_ms": None},
    ])]
    truths = [{"conversation_id": "a", "turns": [
        {"caller_audio_end": 100.0, "response_latency_ms": 500.0, "injected_ms": 480.0},  # the greeting's: unmatched
        {"caller_audio_end": 105.0002, "response_latency_ms": 300.0, "injected_ms": 290.0},
        {"caller_audio_end": 109.0003, "response_latency_ms": 300.0, "injected_ms": 295.0},
    ]}]
    pairs = match_turns(calls, truths)
    assert [(p["caller_ms"], p["truth_ms"]) for p in pairs] == [(310.0, 300.0), (295.0, 300.0)]
    summary = summarise(pairs, calls)
    assert summary["turns"] == 2 and summary["p50_abs_error_ms"] == 7.5 and summary["max_abs_error_ms"] == 10.0
    assert summary["overloaded_turns"] == 1


def test_a_turn_with_no_bridge_turn_near_it_is_left_out():
    calls = [_call("a", 0.0, [{"index": 1, "caller_speech_end": 5.0, "response_latency_ms": 300.0}])]
    truths = [{"conversation_id": "a", "turns": [{"caller_audio_end": 7.0, "response_latency_ms": 300.0,
                                                  "injected_ms": 300.0}]}]
    assert match_turns(calls, truths) == []
    assert match_turns(calls, []) == []

"""Goal counters, the snapshot protocol between processes, and the CI gate (no Locust, no network)."""
import csv
import io
import json

import pytest

from loadtest import goals


def _counters(*calls):
    counters = goals.GoalCounters()
    for personality, scenario, success, category, met, total in calls:
        counters.record(personality, scenario, success, category, met, total)
    return counters


def test_cancelled_calls_count_as_calls_but_not_in_the_success_rate():
    counters = _counters(("normal", "a", True, None, 3, 3), ("angry", "a", False, None, 1, 3),
                         ("angry", "b", False, "cancelled", 2, 3), ("normal", "b", False, "no_answer", 0, 3))
    total = counters.total
    assert (total.calls, total.successes, total.failures, total.cancelled) == (4, 1, 2, 1)
    assert total.judged == 3 and total.success_rate == pytest.approx(1 / 3)
    assert (total.goals_met, total.goals_total) == (4, 9)  # a cancelled call's goals are not judged either
    assert counters.by_personality["angry"].cancelled == 1
    assert counters.by_scenario["b"].success_rate == 0.0
    assert goals.GoalCounters().total.success_rate is None


def test_round_trip_through_json_and_merge():
    first = _counters(("normal", "a", True, None, 3, 3))
    second = _counters(("normal", "a", False, "cancelled", 0, 3), ("elderly", "c", False, None, 1, 2))
    wire = json.loads(json.dumps(second.to_dict()))
    merged = goals.GoalCounters.from_dict(first.to_dict())
    merged.merge(goals.GoalCounters.from_dict(wire))
    assert merged.total.calls == 3 and merged.total.cancelled == 1
    assert merged.by_personality["normal"].calls == 2
    assert set(merged.by_scenario) == {"a", "c"}


def test_aggregator_keeps_the_newest_cumulative_snapshot_per_worker():
    source = goals.SnapshotSource()
    aggregator = goals.GoalAggregator()
    source.counters.record("normal", "a", True, None, 1, 1)
    early = source.snapshot()
    source.counters.record("normal", "a", False, None, 0, 1)
    late = source.snapshot()
    assert aggregator.receive("w1", late)
    assert not aggregator.receive("w1", early)  # out of order: ignored, never double-counted
    assert not aggregator.receive("w1", late)  # repeated: ignored
    assert aggregator.merged().total.calls == 2
    assert aggregator.pending(["w1", "w2"]) == ["w1", "w2"]
    source.final = True
    assert aggregator.receive("w1", source.snapshot())
    other = goals.SnapshotSource()
    other.counters.record("angry", "b", False, "cancelled")
    other.final = True
    aggregator.receive("w2", other.snapshot())
    assert aggregator.pending(["w1", "w2"]) == []
    merged = aggregator.merged().total
    assert (merged.calls, merged.successes, merged.cancelled) == (3, 1, 1)


def test_a_new_run_starts_from_zero_but_keeps_the_sequence_growing():
    source = goals.SnapshotSource()
    source.counters.record("normal", "a", True, None)
    seq = source.snapshot()["seq"]
    source.final = True
    source.reset()
    snapshot = source.snapshot()
    assert snapshot["seq"] > seq and not snapshot["final"] and snapshot["counters"]["total"]["calls"] == 0


@pytest.mark.parametrize("threshold, rate_calls, expected", [
    (0.0, (0, 10), []),  # off
    (0.8, (8, 10), []),
    (0.8, (7, 10), ["success rate 70.0% (7/10 completed calls) is below the threshold 80.0%"]),
    (0.5, (0, 0), ["success rate unknown: no completed calls to judge (threshold 50.0%)"]),
])
def test_success_gate(threshold, rate_calls, expected):
    successes, calls = rate_calls
    total = goals.Counts(calls=calls + 2, successes=successes, failures=calls - successes, cancelled=2)
    assert goals.gate_reasons(total, threshold) == expected


def test_latency_gate():
    total = goals.Counts(calls=1, successes=1)
    assert goals.gate_reasons(total, 0, 900.0, 1000) == []
    assert goals.gate_reasons(total, 0, 1200.0, 1000) == ["p95 TURN latency 1200 ms is above the limit 1000 ms"]
    assert goals.gate_reasons(total, 0, None, 1000)[0].startswith("p95 TURN latency unknown")
    assert goals.gate_reasons(total, 0, 5000.0, 0) == []


def test_csv_and_summary_show_every_group():
    counters = _counters(("normal", "a", True, None, 3, 3), ("angry", "b", False, "cancelled", 0, 3))
    rows = list(csv.DictReader(io.StringIO(goals.to_csv(counters))))
    assert [(row["group"], row["name"]) for row in rows] == [
        ("total", "all calls"), ("personality", "angry"), ("personality", "normal"), ("scenario", "a"),
        ("scenario", "b")]
    assert rows[0]["success_rate"] == "100.0%" and rows[1]["success_rate"] == ""
    text = goals.summary_text(counters, 12.0)
    assert "overall success rate 100.0% (1 of 1 completed calls; 1 cancelled" in text
    assert "p95 TURN latency 12 ms" in text


@pytest.mark.parametrize("caller_side", ["simulator_error", "brain_error"])
def test_caller_side_errors_are_not_blamed_on_the_agent(caller_side):
    counters = goals.GoalCounters()
    counters.record("angry", "complaint", True, None, 2, 2)
    counters.record("angry", "complaint", False, "no_answer", 0, 2)
    counters.record("angry", "complaint", False, caller_side, 0, 2)
    total = counters.total
    assert (total.calls, total.judged, total.simulator_errors, total.failures) == (3, 2, 1, 1)
    assert total.success_rate == 0.5
    assert "1 simulator errors" in goals.summary_text(counters)


def test_calls_with_an_overloaded_caller_are_counted_shown_and_still_judged():
    counters = goals.GoalCounters()
    counters.record("normal", "balance", True, None, 1, 1, caller_overloaded=True)
    counters.record("normal", "balance", True, None, 1, 1)
    total = counters.total
    assert (total.calls, total.judged, total.caller_overloaded) == (2, 2, 1)
    assert counters.rows()[0]["caller_overloaded"] == 1
    assert "CALLER OVERLOADED in 1 calls" in goals.summary_text(counters)
    assert "CALLER OVERLOADED" not in goals.summary_text(_counters(("normal", "a", True, None, 1, 1)))
    restored = goals.GoalCounters.from_dict(json.loads(json.dumps(counters.to_dict())))
    assert restored.by_scenario["balance"].caller_overloaded == 1


def test_a_caller_not_prepared_for_the_agents_question_is_shown_apart_and_not_blamed_on_the_agent():
    counters = goals.GoalCounters()
    counters.record("normal", "card", True, None, 2, 2)
    counters.record("normal", "card", False, None, 0, 2)
    counters.record("normal", "card", False, None, 0, 2, unanswered_asks=1)
    counters.record("normal", "card", False, "no_answer", 0, 2, unanswered_asks=1)  # the agent's silence, still
    total = counters.total
    assert (total.calls, total.judged, total.not_prepared, total.failures) == (4, 3, 1, 2)
    assert total.success_rate == pytest.approx(1 / 3)
    assert counters.rows()[0]["not_prepared"] == 1
    assert "1 caller not prepared" in goals.summary_text(counters)
    assert "not prepared" not in goals.summary_text(_counters(("normal", "a", True, None, 1, 1)))
    restored = goals.GoalCounters.from_dict(json.loads(json.dumps(counters.to_dict())))
    assert restored.total.not_prepared == 1

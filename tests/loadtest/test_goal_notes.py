"""Protocol notes in a Locust run's goal summary: each worker's calls' notes travel in its goal snapshot, and
the master prints one line per kind over the whole run, as the console summary does."""
from __future__ import annotations

import json

from callers.results import CallResult, ProtocolNote, note_lines
from loadtest import goals

EARLY = "audio streamed before session.accepted"
BARE = "session.accepted without conversationId"


def result(call_id: str, *notes: ProtocolNote) -> CallResult:
    return CallResult(call_id=call_id, caller_name="c", personality="normal", scenario="s", scenario_type="t",
                      started_at="2026-01-01T00:00:00.000+00:00", bridge="ws://127.0.0.1/ws", success=True,
                      protocol_notes=list(notes))


def test_workers_notes_reach_the_masters_summary_once_per_kind():
    calls = [[result("a", ProtocolNote(EARLY, 12.0, 1), ProtocolNote(BARE, 3.0, 4)), result("b")],
             [result("c", ProtocolNote(EARLY, 8.5, 2))]]
    aggregator = goals.GoalAggregator()
    for worker, results in enumerate(calls):
        source = goals.SnapshotSource()
        for item in results:
            source.counters.record_result(item)
        source.snapshot()  # an earlier report, superseded: nothing counts twice
        aggregator.receive(f"w{worker}", json.loads(json.dumps(source.snapshot())))
    merged = aggregator.merged()
    text = goals.summary_text(merged)
    everything = [item for results in calls for item in results]
    assert [line for line in text.splitlines() if line.startswith("protocol note:")] == note_lines(everything)
    assert f"protocol note: {EARLY} (2 of 3 calls)" in text and f"protocol note: {BARE} (1 of 3 calls)" in text
    written = json.loads(json.dumps(merged.to_dict()))  # what goals.json and /goals/json carry
    assert written["protocol_notes"] == [{"what": EARLY, "calls": 2, "count": 3, "first_ms": 8.5},
                                         {"what": BARE, "calls": 1, "count": 4, "first_ms": 3.0}]


def test_a_run_without_deviations_prints_no_note_line():
    counters = goals.GoalCounters()
    counters.record_result(result("a"))
    assert "protocol note" not in goals.summary_text(counters)
    assert counters.to_dict()["protocol_notes"] == []
    assert goals.GoalCounters.from_dict({"total": {"calls": 1}}).notes == {}  # a snapshot from before notes

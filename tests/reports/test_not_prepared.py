"""A call that failed after the agent asked for what the caller's profile lacked is shown apart from agent
failures in every report, with the questions that were not answered, and never lowers the success rate."""
from __future__ import annotations

import json

from callers.results import CallResult
from reports.html import render_html
from reports.json_report import report_dict
from reports.junit import junit_tree
from reports.load import load_calls
from reports.stats import analyse
from reports.text import render_report

SECURITY = "And what is the answer to your security question?"


def call(call_id: str, success: bool, unanswered: list[str]) -> dict:
    result = CallResult(call_id=call_id, caller_name="c", personality="normal", scenario="normal_card_replacement",
                        scenario_type="card_replacement", started_at="2026-11-25T10:00:00.000+00:00",
                        bridge="ws://127.0.0.1:1/ws", success=success, duration_s=20.0, unanswered_asks=unanswered,
                        goals=[{"description": "card ordered", "kind": "criterion", "met": success}])
    return result.to_dict()


def run(tmp_path, *records: dict):
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return analyse(load_calls([path]))


def test_not_prepared_calls_are_counted_apart_and_their_questions_listed(tmp_path):
    analysis = run(tmp_path, call("ok", True, []), call("agent", False, []), call("gap1", False, [SECURITY]),
                   call("gap2", False, [SECURITY, "What's your member number?"]),
                   call("lucky", True, ["What is your favourite colour?"]))
    summary = analysis.summary
    assert (summary["successful"], summary["failed"], summary["not_prepared"], summary["judged"]) == (2, 1, 2, 3)
    assert summary["success_rate"] == 2 / 3  # the two unprepared calls do not count against the agent
    assert summary["unanswered_asks"][0] == {"ask": SECURITY, "calls": 2}
    assert {item["ask"] for item in summary["unanswered_asks"]} == {
        SECURITY, "What's your member number?", "What is your favourite colour?"}
    assert analysis.errors.loc["caller not prepared", "counted_as"] == "caller not prepared (not the agent)"
    assert analysis.errors.loc["goal not met", "calls"] == 1

    text = render_report(analysis)
    assert "Caller not prepared: 2" in text and f'2x "{SECURITY}"' in text
    assert f"caller not prepared for: {SECURITY}" in text

    report = report_dict(analysis)
    assert report["summary"]["not_prepared"] == 2
    assert report["breakdowns"]["by_personality"]["normal"]["not_prepared"] == 2
    by_id = {row["call_id"]: row for row in report["calls"]}
    assert by_id["gap1"]["outcome"] == "caller_not_prepared" and by_id["gap1"]["unanswered_asks"] == [SECURITY]
    assert by_id["agent"]["outcome"] == "agent_failure"

    page = render_html(analysis, {})
    assert "Caller not prepared (not the agent)" in page

    suite = junit_tree(analysis.calls).getroot()
    assert suite.get("failures") == "1" and suite.get("skipped") == "2"


def test_older_results_without_the_field_read_as_prepared(tmp_path):
    record = call("old", False, [])
    del record["unanswered_asks"]
    analysis = run(tmp_path, record)
    assert analysis.summary["failed"] == 1 and analysis.summary["not_prepared"] == 0
    assert analysis.summary["unanswered_asks"] == []

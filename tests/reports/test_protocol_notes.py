"""The PROTOCOL NOTES section: deviations by kind over a run, in the text, JSON and HTML reports."""
from __future__ import annotations

import json

from callers.results import CallResult, ProtocolNote
from reports.html import render_html
from reports.json_report import report_dict
from reports.load import load_calls
from reports.stats import analyse
from reports.text import render_report
from tests.reports.conftest import FIXTURE

EARLY = "audio streamed before session.accepted"
BARE = "session.accepted without conversationId"


def call(call_id: str, notes: list) -> dict:
    result = CallResult(call_id=call_id, caller_name="c", personality="normal", scenario="normal_card_replacement",
                        scenario_type="card_replacement", started_at="2026-11-25T10:00:00.000+00:00",
                        bridge="ws://127.0.0.1:1/ws", success=True, duration_s=20.0, protocol_notes=notes)
    return result.to_dict()


def run(tmp_path, *records: dict):
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return analyse(load_calls([path]))


def test_notes_are_aggregated_by_kind_in_every_report(tmp_path):
    analysis = run(tmp_path, call("a", [ProtocolNote(EARLY, 120.0, 40), ProtocolNote(BARE, 5.0, 3)]),
                   call("b", [ProtocolNote(EARLY, 80.5, 10)]), call("c", []))
    assert report_dict(analysis)["protocol_notes"] == [
        {"what": EARLY, "calls": 2, "count": 50, "first_ms": 80.5},
        {"what": BARE, "calls": 1, "count": 3, "first_ms": 5.0}]
    text = render_report(analysis)
    section = text.split("PROTOCOL NOTES", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[-3:] for line in section.splitlines()[4:]] == [["2", "50", "80"], ["1", "3", "5.0"]]
    assert EARLY in section and BARE in section
    page = render_html(analysis, {})
    assert "<h2>Protocol notes</h2>" in page and EARLY in page


def test_a_run_that_kept_to_the_protocol_has_no_section():
    analysis = analyse(load_calls([FIXTURE]))
    assert report_dict(analysis)["protocol_notes"] == []
    assert "PROTOCOL NOTES" not in render_report(analysis)
    assert "Protocol notes" not in render_html(analysis, {})


def test_malformed_notes_are_left_out(tmp_path):
    record = call("a", [])
    record["protocol_notes"] = [{"what": EARLY, "first_ms": 3, "count": 2}, {"what": 7}, "junk",
                                {"what": BARE, "first_ms": "soon", "count": 1}]
    analysis = run(tmp_path, record)
    assert report_dict(analysis)["protocol_notes"] == [{"what": EARLY, "calls": 1, "count": 2, "first_ms": 3.0}]

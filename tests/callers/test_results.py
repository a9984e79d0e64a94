"""ResultWriter: what a killed writer left behind never costs the next call."""
from __future__ import annotations

from callers.results import CallResult, ResultWriter, read_results


def call(call_id: str) -> CallResult:
    return CallResult(call_id=call_id, caller_name="Caller", personality="normal", scenario="s",
                      scenario_type="general_inquiry", started_at="2026-12-07T10:00:00.000+00:00",
                      bridge="ws://127.0.0.1:1/ws", duration_s=1.0)


def test_a_call_appended_after_a_torn_line_starts_a_line_of_its_own(tmp_path):
    path = tmp_path / "calls.jsonl"
    whole = call("before").to_json()
    path.write_text(whole + "\n" + call("torn").to_json()[:40], encoding="utf-8")  # a writer killed mid-line
    writer = ResultWriter(path)
    writer.write(call("after"))
    writer.write(call("later"))
    assert [result.call_id for result in read_results(path)] == ["before", "after", "later"]


def test_a_whole_file_gets_no_blank_line(tmp_path):
    path = tmp_path / "calls.jsonl"
    ResultWriter(path).write(call("first"))
    ResultWriter(path).write(call("second"))
    assert path.read_text(encoding="utf-8").count("\n") == 2
    assert [result.call_id for result in read_results(path)] == ["first", "second"]

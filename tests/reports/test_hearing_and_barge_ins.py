"""The agent's hearing (WER) and barge-in verdicts in the text, JSON and HTML reports."""
from __future__ import annotations

import json

import pytest

from callers.results import BargeInRecord, CallResult, TurnRecord
from reports.html import render_html
from reports.json_report import report_dict
from reports.load import load_calls
from reports.stats import analyse
from reports.text import render_report
from tests.reports.conftest import FIXTURE


def call(call_id: str, personality: str, scored: list[tuple[int, int]], barge_ins: list[BargeInRecord]) -> str:
    turns = [TurnRecord(index=i + 1, caller_text="x", caller_speech_start=i, caller_speech_end=i + 0.5,
                        response_latency_ms=300.0, heard_errors=errors, heard_words=words,
                        heard_wer=errors / words) for i, (errors, words) in enumerate(scored)]
    result = CallResult(call_id=call_id, caller_name="c", personality=personality, scenario="normal_card_replacement",
                        scenario_type="card_replacement", started_at="2026-11-25T10:00:00.000+00:00",
                        bridge="ws://127.0.0.1:1/ws", success=True, duration_s=20.0, turns=len(turns),
                        turn_records=turns, barge_ins=barge_ins)
    return result.to_json()


@pytest.fixture()
def analysis(tmp_path):
    lines = [
        call("a", "elderly", [(2, 10), (1, 10)], [BargeInRecord("backchannel", 2, "uh-huh", 1500.0, 1500.0, False)]),
        call("b", "normal", [(0, 10), (1, 10)],
             [BargeInRecord("backchannel", 2, "uh-huh", 300.0, 300.0, True, 20.0, True, 900.0, False),
              BargeInRecord("interrupt", 3, "wait", 800.0, None, True, 40.0, True, 500.0, True)]),
    ]
    path = tmp_path / "calls.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return analyse(load_calls([path]))


def test_wer_pools_words_by_personality(analysis) -> None:
    hearing = analysis.hearing
    assert hearing["overall"]["wer"] == pytest.approx(4 / 40)
    assert hearing["by_personality"].loc["elderly", "wer"] == pytest.approx(0.15)
    assert hearing["by_personality"].loc["normal", "wer"] == pytest.approx(0.05)


def test_reports_show_hearing_and_barge_ins(analysis) -> None:
    text = render_report(analysis)
    assert "AGENT HEARING" in text and "Overall WER: 10.0% (4 errors in 40 words" in text
    assert "BARGE-INS" in text
    backchannel_row = next(line for line in text.splitlines() if line.startswith("backchannel"))
    assert backchannel_row.split()[:3] == ["backchannel", "2", "1"]
    report = json.loads(json.dumps(report_dict(analysis)))
    assert report["hearing"]["by_personality"]["elderly"]["wer"] == pytest.approx(0.15)
    assert report["barge_ins"]["interrupt"] == {"barge_ins": 1, "stopped": 1, "stop_p50_ms": 40.0,
                                               "stop_p95_ms": 40.0, "resumed": 1, "repeated": 1}
    assert {entry["call_id"]: entry["hearing_wer"] for entry in report["calls"]} == {"a": None, "b": None}
    page = render_html(analysis, {})
    assert "Agent hearing (word error rate)" in page and "Barge-ins" in page


def test_a_run_without_hearing_reports_leaves_the_sections_out() -> None:
    analysis = analyse(load_calls([FIXTURE]))
    assert analysis.hearing == {} and "AGENT HEARING" not in render_report(analysis)
    assert report_dict(analysis)["hearing"] is None


def test_hearing_is_broken_down_by_the_voice_that_spoke_and_old_results_read_as_espeak(tmp_path) -> None:
    spoken = json.loads(call("p", "normal", [(0, 10), (1, 10)], []))
    spoken["voice_engine"] = "piper"
    before_the_field = json.loads(call("e", "normal", [(3, 10), (2, 10)], []))
    del before_the_field["voice_engine"]
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(spoken) + "\n" + json.dumps(before_the_field) + "\n")
    analysis = analyse(load_calls([path]))
    by_engine = analysis.hearing["by_voice_engine"]
    assert by_engine.loc["piper", "wer"] == pytest.approx(0.05)
    assert by_engine.loc["espeak", "wer"] == pytest.approx(0.25)
    report = json.loads(json.dumps(report_dict(analysis)))
    assert report["hearing"]["by_voice_engine"]["piper"]["words"] == 20
    assert {entry["call_id"]: entry["voice_engine"] for entry in report["calls"]} == {"p": "piper", "e": "espeak"}
    text = render_report(analysis)
    assert next(line for line in text.splitlines() if line.startswith("piper")).split()[-1] == "5.0%"
    assert "Caller voice" in render_html(analysis, {})

"""One call of each kind through every face and report: each must count it as callers.outcome says.

Kinds: a success, a goal not met and a no_answer (agent failures), a simulator_error and a brain_error
(caller-side errors, not judged) and a cancelled call.
"""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest

from callers.app.batch import Progress
from callers.app.cli import _print_totals
from callers.app.gate import Gate, exit_code
from callers.call.recording import outcome as recording_outcome
from callers.outcome import Outcome
from callers.results import CallResult, ResultWriter
from reports.json_report import report_dict
from reports.junit import junit_tree
from reports.load import load_calls
from reports.stats import analyse
from reports.text import render_report

KINDS = {  # name: (success, error category, the outcome it must be)
    "success": (True, None, Outcome.SUCCESS),
    "goal_not_met": (False, None, Outcome.AGENT_FAILURE),
    "no_answer": (False, "no_answer", Outcome.AGENT_FAILURE),
    "simulator_error": (False, "simulator_error", Outcome.CALLER_ERROR),
    "brain_error": (False, "brain_error", Outcome.CALLER_ERROR),
    "cancelled": (False, "cancelled", Outcome.CANCELLED),
}


def result(kind: str) -> CallResult:
    success, category, _ = KINDS[kind]
    return CallResult(call_id=kind, caller_name=kind, personality="normal", scenario=kind, scenario_type="complaint",
                      started_at="2026-11-25T10:00:00.000+00:00", bridge="ws://127.0.0.1:1/ws", success=success,
                      error={"category": category, "message": f"{kind} happened"} if category else None,
                      duration_s=10.0, goals_total=1, goals_achieved=int(success),
                      goals=[{"description": "resolved", "kind": "criterion", "met": success}])


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    writer = ResultWriter(tmp_path_factory.mktemp("kinds") / "calls.jsonl")
    for kind in KINDS:
        writer.write(result(kind))
    return analyse(load_calls([writer.path]))


@pytest.mark.parametrize("kind", KINDS)
def test_the_reports_outcome_column_is_the_rule(analysis, kind):
    call = analysis.calls.set_index("call_id").loc[kind]
    assert call["outcome"] == KINDS[kind][2].value
    listed = {entry["call_id"]: entry["outcome"] for entry in report_dict(analysis)["calls"]}
    assert listed[kind] == KINDS[kind][2].value


def test_json_summary_counts_every_caller_side_error(analysis):
    summary = report_dict(analysis)["summary"]
    assert (summary["total"], summary["judged"], summary["successful"], summary["failed"]) == (6, 3, 1, 2)
    assert (summary["simulator_errors"], summary["cancelled"]) == (2, 1)
    assert summary["success_rate"] == pytest.approx(1 / 3)


def test_text_report_error_table_follows_the_outcome(analysis):
    counted = dict(zip(analysis.errors.index, analysis.errors["counted_as"]))
    assert counted == {"goal not met": "agent failure", "no_answer": "agent failure",
                       "simulator_error": "simulator (not the agent)", "brain_error": "simulator (not the agent)",
                       "cancelled": "not judged (cut off by the run's end)"}
    text = render_report(analysis)
    assert "Not judged: 2 simulator errors, 1 cancelled" in text
    for kind, (_, _, expected) in KINDS.items():
        assert any(expected.value.upper() in line and f" {kind} " in line for line in text.splitlines()), kind


def test_junit_elements_follow_the_outcome(analysis):
    root = junit_tree(analysis.calls).getroot()
    cases = {case.get("classname"): case for case in root.iter("testcase")}
    assert cases["success"].find("failure") is None and cases["success"].find("error") is None
    assert cases["goal_not_met"].find("failure").get("type") == "goal_not_met"
    assert cases["no_answer"].find("failure").get("type") == "no_answer"
    assert cases["simulator_error"].find("error").get("type") == "simulator_error"
    assert cases["brain_error"].find("error").get("type") == "brain_error"
    assert cases["cancelled"].find("skipped") is not None
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("6", "2", "2", "1")
    ET.tostring(root)  # serialisable: every attribute is text


def test_batch_progress_counts_each_kind():
    progress = Progress(len(KINDS), io.StringIO(), live=False, clock=lambda: 0.0)
    for kind in KINDS:
        progress.call_started()
        progress.call_finished(result(kind))
    assert (progress.successes, progress.failures, progress.simulator_errors) == (1, 2, 2)
    assert "6/6 done, 0 running, 2 failed, 2 simulator errors, success 33.3% (1/3)" in progress.status()


@pytest.mark.parametrize("kind", KINDS)
def test_the_gate_judges_only_judged_calls(kind):
    judged = KINDS[kind][2].judged
    reasons = Gate(success_threshold=0.6).reasons([result("success"), result(kind)])
    assert bool(reasons) == (judged and KINDS[kind][2] is not Outcome.SUCCESS)


@pytest.mark.parametrize("kind", KINDS)
def test_a_one_off_call_exits_1_unless_it_was_judged_a_success(kind):
    expected = 0 if KINDS[kind][2] is Outcome.SUCCESS else 1
    assert exit_code([result(kind)], cancelled=False, gate_reasons=[], one_off=True) == expected


def test_cli_totals_divide_by_judged_calls(capsys):
    _print_totals([result(kind) for kind in KINDS])
    assert ("6 calls: 1 succeeded, 2 failed, 2 caller-side errors, 1 cancelled (33.3% success of 3 judged)"
            in capsys.readouterr().out)


@pytest.mark.parametrize("kind", KINDS)
def test_a_recording_transcript_names_the_outcome(kind):
    assert recording_outcome(result(kind)).startswith(KINDS[kind][2].value.upper() + ":")

"""Verdicts on weak evidence are shown apart: counted, never as met, in every report."""
from __future__ import annotations

import json

import pytest

from reports.json_report import report_dict
from reports.load import JUDGED, load_calls
from reports.stats import Analysis, analyse
from reports.text import render_report, why
from reports.html import render_html
from tests.reports.conftest import FIXTURE

UNSURE_CALL = "fixture07"  # failed: goal not met (resolution plan provided)
UNSURE_GOAL = "resolution plan provided"


@pytest.fixture(scope="module")
def unsure(tmp_path_factory) -> Analysis:
    """The fixture run where call 7's missing criterion was heard, but only on weak evidence."""
    lines = []
    for line in FIXTURE.read_text().splitlines():
        record = json.loads(line)
        if record["call_id"] == UNSURE_CALL:
            for goal in record["goals"]:
                if goal["description"] == UNSURE_GOAL:
                    goal.update(verdict="uncertain", evidence_turn=2, evidence="We process refunds at the branch.")
            record["goals_uncertain"] = 1
        lines.append(json.dumps(record))
    path = tmp_path_factory.mktemp("unsure") / "calls.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return analyse(load_calls([path]))


def test_uncertain_goals_are_counted_apart_and_never_as_met(unsure, analysis):
    summary = unsure.summary
    assert (summary["goals_uncertain"], summary["calls_with_uncertain"], summary["failed_on_uncertain_only"]) \
        == (1, 1, 1)
    assert summary["goals_met"] == analysis.summary["goals_met"]  # not one more goal met
    assert summary["successful"] == analysis.summary["successful"]
    assert (analysis.summary["goals_uncertain"], analysis.summary["failed_on_uncertain_only"]) == (0, 0)


def test_every_report_shows_the_uncertain_verdicts(unsure):
    text = render_report(unsure)
    assert "Uncertain verdicts: 1 goals in 1 calls (not counted as met); 1 failed calls hinge only on them" in text
    call = unsure.data.calls.set_index("call_id").loc[UNSURE_CALL].to_dict()
    assert why(call) == f"goal not met ({UNSURE_GOAL} (uncertain))"
    report = report_dict(unsure)
    assert report["summary"]["failed_on_uncertain_only"] == 1
    (listed,) = [c for c in report["calls"] if c["call_id"] == UNSURE_CALL]
    assert listed["uncertain_goals"] == [UNSURE_GOAL] and listed["goals_uncertain"] == 1
    assert "Uncertain verdicts (not counted as met)" in render_html(unsure, {})


def test_every_report_says_how_the_goals_were_judged(unsure, tmp_path):
    """The judged calls per verdict mode: a results file from before calls recorded it counts as the rules'."""
    assert unsure.summary["verdicts"] == {"rules": unsure.summary["judged"]}
    lines = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    for record in lines[:3]:
        record["verdicts"] = "learned"
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in lines))
    mixed = analyse(load_calls([path]))
    judged_learned = sum(1 for record in lines[:3] if mixed.data.calls.set_index("call_id").loc[
        record["call_id"], "outcome"] in JUDGED)
    assert mixed.summary["verdicts"]["learned"] == judged_learned > 0
    rules = mixed.summary["judged"] - judged_learned
    assert f"Goals judged by: learned ({judged_learned} calls), rules ({rules} calls)" in render_report(mixed)
    assert "Goals judged by" in render_html(mixed, {})
    assert report_dict(mixed)["summary"]["verdicts"] == mixed.summary["verdicts"]

"""A batch's line per call shows goals heard only on weak evidence apart from the met count."""
from callers.app.batch import describe_call
from callers.results import CallResult


def _result(**fields) -> CallResult:
    return CallResult(call_id="c1", caller_name="Ann", personality="normal", scenario="general_inquiry",
                      scenario_type="general_inquiry", started_at="2026-12-07T10:00:00.000+00:00",
                      bridge="ws://127.0.0.1:1/ws", **fields)


def test_uncertain_goals_are_shown_apart_and_named_in_why_the_call_failed():
    result = _result(goals_achieved=1, goals_total=3, goals_uncertain=1, goals=[
        {"description": "hours provided", "kind": "criterion", "met": False, "verdict": "uncertain",
         "evidence_turn": 1, "evidence": "We're open on Saturdays."},
        {"description": "services explained", "kind": "criterion", "met": True, "verdict": "met",
         "evidence_turn": 2, "evidence": "We offer savings and loans."},
        {"description": "online banking mentioned", "kind": "secondary", "met": False, "verdict": "not_met",
         "evidence_turn": None, "evidence": None}])
    line = describe_call(result)
    assert "goals 1/3 (+1 uncertain)" in line
    assert line.endswith("goal not met (hours provided (uncertain))")


def test_a_call_without_uncertain_goals_reads_as_before():
    line = describe_call(_result(success=True, goals_achieved=2, goals_total=2))
    assert line.endswith("goals 2/2") and "uncertain" not in line

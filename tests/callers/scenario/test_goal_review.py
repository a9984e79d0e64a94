"""A tracker's second opinion (GoalTracker(review=...)): what it may change, and what it is asked."""
from callers.scenario.goals import MET, UNCERTAIN, CallerGoal, GoalTracker

GOAL = CallerGoal("Replace my card", success_criteria=["card ordered"],
                  failure_conditions=["transferred without resolution"])


def test_a_veto_leaves_a_met_uncertain_and_a_vetoed_failure_unrecorded():
    asked = []

    def veto(goal: str, turn: str, verdict: str) -> str:
        asked.append((goal, verdict))
        return UNCERTAIN if verdict == MET else verdict

    tracker = GoalTracker(GOAL, review=veto)
    newly = tracker.observe(1, "I've ordered your new card. I'm transferring you to the fees team now.")
    assert newly == [] and tracker.statuses[0].verdict == UNCERTAIN
    assert tracker.failure is None
    assert ("card ordered", MET) in asked and ("transferred without resolution", MET) in asked


def test_without_a_review_the_rules_decide():
    tracker = GoalTracker(GOAL)
    tracker.observe(1, "I've ordered your new card.")
    assert tracker.statuses[0].verdict == MET


def test_a_rescue_names_the_turn_as_its_evidence():
    tracker = GoalTracker(GOAL, review=lambda goal, turn, verdict: MET if goal == "card ordered" else verdict)
    tracker.observe(2, "All sorted for you.")
    status = tracker.statuses[0]
    assert status.verdict == MET and status.evidence == "All sorted for you." and status.evidence_turn == 2
    assert tracker.failure is None  # the review keeps the rules' NOT_MET for the failure

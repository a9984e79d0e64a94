"""What the round tests of goal tracking share: one goal's verdict after a tracker hears one turn."""
from callers.scenario.goals import MET, NOT_MET, CallerGoal, GoalTracker
from callers.scenario.scenarios import ScenarioCatalog, ScenarioType

CARD, ACCOUNT, LOAN = ScenarioType.CARD_REPLACEMENT, ScenarioType.ACCOUNT_INQUIRY, ScenarioType.LOAN_APPLICATION
COMPLAINT, GENERAL = ScenarioType.COMPLAINT, ScenarioType.GENERAL_INQUIRY


def heard_verdict(goal_of_call: CallerGoal, goal: str, text: str) -> str:
    """The verdict on `goal` (a criterion, secondary goal or failure condition) after hearing `text` once."""
    tracker = GoalTracker(goal_of_call)
    tracker.observe(1, text)
    if goal in goal_of_call.failure_conditions:
        return MET if tracker.failure == goal else NOT_MET
    return next(status for status in tracker.statuses if status.description == goal).verdict


def verdict(catalog: ScenarioCatalog, kind: ScenarioType, goal: str, text: str) -> str:
    return heard_verdict(catalog.scenario_types[kind].goal, goal, text)


def spanish_verdict(catalog: ScenarioCatalog, goal: str, text: str) -> str:
    return heard_verdict(catalog.predefined["spanish_card_replacement"].scenario.goal, goal, text)

"""The outcome rule: the order in which a call's verdict and error category decide what it counts as."""
import pytest

from callers.errors import ErrorCategory
from callers.outcome import Outcome, outcome_of


@pytest.mark.parametrize("success, category, expected", [
    (True, None, Outcome.SUCCESS),
    (False, None, Outcome.AGENT_FAILURE),  # goal not met
    (False, "no_answer", Outcome.AGENT_FAILURE),
    (False, "protocol_error", Outcome.AGENT_FAILURE),
    (False, "simulator_error", Outcome.CALLER_ERROR),
    (False, "brain_error", Outcome.CALLER_ERROR),
    (False, "cancelled", Outcome.CANCELLED),
    # A cut-off call is cancelled whatever it had reached; a caller's own breakage is never the agent's.
    (True, "cancelled", Outcome.CANCELLED),
    (True, "simulator_error", Outcome.CALLER_ERROR),
])
def test_each_verdict_and_category_counts_once(success, category, expected):
    assert outcome_of(success, category) is expected


def test_every_error_category_has_an_outcome_and_only_verdicts_are_judged():
    judged = {category.value for category in ErrorCategory if outcome_of(False, category.value).judged}
    assert judged == {"connect_failed", "handshake_rejected", "bridge_closed", "protocol_error", "no_answer",
                      "call_timeout"}
    assert [outcome.value for outcome in Outcome] == ["success", "agent_failure", "caller_not_prepared",
                                                      "caller_error", "cancelled"]


def test_a_goal_missed_after_an_unanswerable_question_is_the_callers_gap_not_the_agents_failure():
    assert outcome_of(False, None, unanswered_asks=1) is Outcome.CALLER_NOT_PREPARED
    assert not Outcome.CALLER_NOT_PREPARED.judged
    assert outcome_of(True, None, unanswered_asks=2) is Outcome.SUCCESS  # the agent got there anyway
    assert outcome_of(False, None) is Outcome.AGENT_FAILURE
    # An agent that went silent or dropped the line failed, whatever the caller lacked; the caller's own
    # breakage and a cut-off call keep their outcomes.
    assert outcome_of(False, ErrorCategory.NO_ANSWER.value, 1) is Outcome.AGENT_FAILURE
    assert outcome_of(False, ErrorCategory.BRIDGE_CLOSED.value, 1) is Outcome.AGENT_FAILURE
    assert outcome_of(False, ErrorCategory.SIMULATOR_ERROR.value, 1) is Outcome.CALLER_ERROR
    assert outcome_of(False, ErrorCategory.CANCELLED.value, 1) is Outcome.CANCELLED

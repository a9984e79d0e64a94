"""The one rule that says what a finished call counts as: success, agent failure, caller not prepared,
caller-side error, cancelled.

Every face and report (the batch progress line and exit gate, Locust's request events and goal counters, the
text/JSON/HTML/JUnit reports, recordings) asks this module, so a call can never be a success in one place and
an agent failure in another. The order matters and is the contract: a call cut off by the run's end is
cancelled whatever else happened; a call the simulated caller itself broke (its process fell behind real
time, its model's service failed) is never blamed on the agent under test; only then does the verdict count,
and a goal missed after the agent asked for something the caller's profile did not hold (its
`unanswered_asks`) is the caller not being prepared, not the agent failing. Only a call that ended without an
error is so excused: an agent that went silent or dropped the line failed whatever the caller lacked.
"""
from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from callers.errors import CALLER_SIDE_ERRORS, ErrorCategory


class Outcome(str, Enum):
    """What one finished call counts as; its value is the word results and reports use."""

    SUCCESS = "success"
    AGENT_FAILURE = "agent_failure"
    CALLER_NOT_PREPARED = "caller_not_prepared"
    CALLER_ERROR = "caller_error"
    CANCELLED = "cancelled"

    @property
    def judged(self) -> bool:
        """Whether the call says anything about the agent: success rates count judged calls only."""
        return self in (Outcome.SUCCESS, Outcome.AGENT_FAILURE)


def outcome_of(success: bool, error_category: Optional[str], unanswered_asks: int = 0) -> Outcome:
    """The outcome of a call that ended with this verdict and error category (None: no error), after
    `unanswered_asks` agent questions the caller could not answer."""
    if error_category == ErrorCategory.CANCELLED.value:
        return Outcome.CANCELLED
    if error_category in CALLER_SIDE_ERRORS:
        return Outcome.CALLER_ERROR
    if success:
        return Outcome.SUCCESS
    if unanswered_asks and error_category is None:
        return Outcome.CALLER_NOT_PREPARED
    return Outcome.AGENT_FAILURE


def outcome_of_result(result: Any) -> Outcome:
    """outcome_of for a finished call's CallResult (or anything with its attributes; no unanswered_asks: none).
    Typed Any: results.py and this module are siblings at the root and neither imports the other."""
    return outcome_of(bool(result.success), result.error_category, len(getattr(result, "unanswered_asks", ()) or ()))

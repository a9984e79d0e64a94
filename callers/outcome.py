"""The one rule that says what a finished call counts as: success, agent failure, caller-side error, cancelled.

Every face and report (the batch progress line and exit gate, Locust's request events and goal counters, the
text/JSON/HTML/JUnit reports, recordings) asks this module, so a call can never be a success in one place and
an agent failure in another. The order matters and is the contract: a call cut off by the run's end is
cancelled whatever else happened; a call the simulated caller itself broke (its process fell behind real
time, its model's service failed) is never blamed on the agent under test; only then does the verdict count.
"""
from __future__ import annotations

from enum import Enum
from typing import Optional

from callers.errors import CALLER_SIDE_ERRORS, ErrorCategory


class Outcome(str, Enum):
    """What one finished call counts as; its value is the word results and reports use."""

    SUCCESS = "success"
    AGENT_FAILURE = "agent_failure"
    CALLER_ERROR = "caller_error"
    CANCELLED = "cancelled"

    @property
    def judged(self) -> bool:
        """Whether the call says anything about the agent: success rates count judged calls only."""
        return self in (Outcome.SUCCESS, Outcome.AGENT_FAILURE)


def outcome_of(success: bool, error_category: Optional[str]) -> Outcome:
    """The outcome of a call that ended with this verdict and error category (None: no error)."""
    if error_category == ErrorCategory.CANCELLED.value:
        return Outcome.CANCELLED
    if error_category in CALLER_SIDE_ERRORS:
        return Outcome.CALLER_ERROR
    return Outcome.SUCCESS if success else Outcome.AGENT_FAILURE

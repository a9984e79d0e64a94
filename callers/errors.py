"""The project's error vocabulary: why a call failed, and why a configuration file was refused.

Call failures are data (a category in a CallResult), not exceptions that end a run, so the closed set of
categories lives here where every layer can name them. Configuration errors must point at the exact place a
user has to edit, so they carry file, entry and field separately.
"""
from __future__ import annotations

from enum import Enum
from typing import Optional


class ErrorCategory(str, Enum):
    """Closed set from docs/metrics.md; extend only with a reason written next to the new member."""

    CONNECT_FAILED = "connect_failed"
    HANDSHAKE_REJECTED = "handshake_rejected"
    BRIDGE_CLOSED = "bridge_closed"
    PROTOCOL_ERROR = "protocol_error"
    NO_ANSWER = "no_answer"
    CALL_TIMEOUT = "call_timeout"
    BRAIN_ERROR = "brain_error"
    SIMULATOR_ERROR = "simulator_error"
    CANCELLED = "cancelled"


# The simulated caller's own failures (its process broke or fell behind real time; its model's service
# failed): counted, shown, and never blamed on the agent under test. An OpenAI outage is not the agent's.
CALLER_SIDE_ERRORS = frozenset({ErrorCategory.SIMULATOR_ERROR.value, ErrorCategory.BRAIN_ERROR.value})

# The call never got a session with the bridge: nothing answered, or the upgrade / session.initiate was
# refused. A batch where every call ends so exits 3; Locust reports it as a failed CONNECT.
NOT_CONNECTED = frozenset({ErrorCategory.CONNECT_FAILED.value, ErrorCategory.HANDSHAKE_REJECTED.value})


class CallFailure(Exception):
    """Raised inside one call to end it with a category; CallerAgent turns it into a failed CallResult."""

    def __init__(self, category: ErrorCategory, message: str) -> None:
        super().__init__(f"{category.value}: {message}")
        self.category = category
        self.message = message


class ConfigError(Exception):
    """A scenarios / personality file the user must fix; the message names file, entry and field."""

    def __init__(self, path: str, message: str, entry: Optional[str] = None, field: Optional[str] = None) -> None:
        self.path = str(path)
        self.entry = entry
        self.field = field
        self.detail = message
        where = self.path
        if entry is not None:
            where += f", entry {_printable(entry)}"
        if field is not None:
            where += f", field '{_printable(field)}'"
        super().__init__(f"{where}: {_printable(message)}")


def _printable(name: str) -> str:
    """A name from a user's file as it can be shown on one line: control characters escaped."""
    return name if name.isprintable() else repr(name)[1:-1]

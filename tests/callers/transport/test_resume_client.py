"""AudioCodesClient.resume when the bridge cannot be reached: bounded tries with a growing pause, then a clear
answer instead of an exception (the call records it and ends as bridge_closed)."""
from __future__ import annotations

import socket

from callers.transport.telephony import RESUME_BACKOFF_S, AudioCodesClient


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_resume_gives_up_after_its_attempts_with_the_reason() -> None:
    client = AudioCodesClient(f"ws://127.0.0.1:{_closed_port()}/ws/telephony?token=hidden", connect_timeout=2.0)
    outcome = client.resume(attempts=3)
    assert not outcome.ok and outcome.attempts == 3
    assert outcome.reason.endswith("connection refused (is the bridge running?)")
    assert "hidden" not in outcome.reason
    assert outcome.took_s >= RESUME_BACKOFF_S * (1 + 2) * 0.9  # paused 0.5 s, then 1 s, between the tries
    client.hang_up()  # nothing open: a no-op, not an error

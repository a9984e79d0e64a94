"""A worker's finished calls on their way to the master, kept until the master acknowledges them.

A Locust worker may run on another machine (or pod) than its master, with no disk in common, so each finished
call goes to the master as a custom message (the master's side is loadtest/collect.py). The worker keeps every
call the master has not acknowledged, sends it again once it has waited `resend_after_s` for the
acknowledgement (the link was lost, the master restarted), and if the master never answers, writes what is
left to a local file when it quits. The master keeps one line per call id, so a call sent twice is one call.

Pure Python (no Locust, no gevent): the role (loadtest/roles.py) gives the send function and the clock.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from callers.results import CallResult, ResultWriter

# Custom message types: worker -> master {"calls": [entry, ...]}; master -> worker {"ids": [call_id, ...]}.
CALLS_MESSAGE = "caller_calls"
ACK_MESSAGE = "caller_calls_ack"
# How long a sent call waits for its acknowledgement before it is sent again; a LAN answers in milliseconds.
RESEND_AFTER_S = 3.0
# How often a worker looks for calls to send again.
RESEND_INTERVAL_S = 1.0
# Calls per message when sending again (each is a few kB of JSON).
BATCH_CALLS = 50


def entry(call_id: str, scenario: str, line: str) -> dict:
    """One call as it travels: its id, the scenario name its goals count under, its calls.jsonl line."""
    return {"id": call_id, "scenario": scenario, "line": line}


@dataclass
class _Unacknowledged:
    entry: dict
    sent_at: Optional[float]  # None: the last send failed


class Outbox:
    """The calls this worker finished and the master has not yet acknowledged, oldest first."""

    def __init__(self, send: Callable[[dict], bool], clock: Callable[[], float] = time.monotonic,
                 resend_after_s: float = RESEND_AFTER_S) -> None:
        """`send` takes a CALLS_MESSAGE's data and returns whether it went out (False: the link is down)."""
        self._send = send
        self._clock = clock
        self.resend_after_s = resend_after_s
        self._waiting: dict[str, _Unacknowledged] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, result: CallResult, scenario: str) -> None:
        """A call has finished: keep it and send it to the master now."""
        item = _Unacknowledged(entry(result.call_id, scenario, result.to_json()), None)
        self._waiting[result.call_id] = item
        self._send_batch([item])

    def acknowledge(self, data: Any) -> int:
        """The master has these calls on disk (an ACK_MESSAGE's data): forget them; returns how many."""
        ids = data.get("ids") if isinstance(data, dict) else None
        if not isinstance(ids, list):
            return 0
        return sum(1 for call_id in ids if isinstance(call_id, str) and self._waiting.pop(call_id, None))

    def resend(self) -> int:
        """Send again every call that has waited too long for its acknowledgement; returns how many went."""
        now = self._clock()
        due = [item for item in self._waiting.values()
               if item.sent_at is None or now - item.sent_at >= self.resend_after_s]
        sent = 0
        for start in range(0, len(due), BATCH_CALLS):
            batch = due[start:start + BATCH_CALLS]
            if not self._send_batch(batch):
                break  # the link is down: the rest waits for the next round
            sent += len(batch)
        return sent

    def write_local(self, path: Path) -> int:
        """The master is gone for good: append every unacknowledged call to `path` (fsync'd), forget them and
        return how many. OSError when the file cannot be written (the calls are then kept)."""
        lines = [item.entry["line"] for item in self._waiting.values()]
        if lines:
            ResultWriter(path).write_lines(lines)
            self._waiting.clear()
        return len(lines)

    def _send_batch(self, items: list[_Unacknowledged]) -> bool:
        sent = self._send({"calls": [item.entry for item in items]})
        now = self._clock()
        for item in items:
            item.sent_at = now if sent else None
        return sent

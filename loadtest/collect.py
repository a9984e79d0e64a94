"""The master's side of the workers' calls: one calls.jsonl in the master's results directory.

Each worker sends every call it finishes (loadtest/outbox.py); the collector appends the ones it has not yet
seen, fsync'd, and tells the role which call ids to acknowledge: those now on disk, a repeat included. The
goal counts of a distributed run are counted here, from exactly the calls in the file, so goals.json and
calls.jsonl always agree. Ids already in the file when it is opened (a master restarted on the same
directory) are known too, so a worker sending them again adds nothing.

Pure Python (no Locust, no gevent): the role (loadtest/roles.py) passes each message's data in.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any, Optional

from callers.results import CallResult, ResultWriter, read_results
from loadtest import goals

log = logging.getLogger("caller_agent.locust")


class CallCollector:
    """Every worker's finished calls, once per call id, in one file; the goal counts of this run's calls."""

    def __init__(self, path: Path) -> None:
        self.writer = ResultWriter(path)
        self.seen: set[str] = _ids_in(path)
        self.counters = goals.GoalCounters()
        self.received: Counter = Counter()  # this run's new calls, by worker id

    @property
    def path(self) -> Path:
        return self.writer.path

    def start(self, path: Path) -> None:
        """A new run (to `path`, which the web UI may have changed): count from zero."""
        if path != self.writer.path:
            self.writer = ResultWriter(path)
            self.seen = _ids_in(path)
        self.counters = goals.GoalCounters()
        self.received.clear()

    def receive(self, worker_id: str, data: Any) -> list[str]:
        """Keep the new calls of a worker's message; returns the ids to acknowledge (none when the file
        cannot be written: the worker then sends them again)."""
        items = data.get("calls") if isinstance(data, dict) else None
        if not isinstance(items, list):
            log.warning("worker %s sent calls without a list of calls: message ignored", worker_id)
            return []
        acknowledged: list[str] = []
        new: dict[str, tuple[str, CallResult, str]] = {}
        for item in items:
            call_id, parsed = _parsed(item)
            if call_id is None:
                log.warning("worker %s sent a call without an id: ignored", worker_id)
                continue
            acknowledged.append(call_id)  # a bad line stays bad: acknowledged, so it is not sent forever
            if parsed is None:
                log.warning("worker %s sent call %s, which is not a call result: not written", worker_id, call_id)
            elif call_id not in self.seen and call_id not in new:
                new[call_id] = parsed
        if new:
            try:
                self.writer.write_lines([line for line, _result, _scenario in new.values()])
            except OSError as exc:
                log.error("cannot write %d calls of worker %s to %s (%s); the worker will send them again",
                          len(new), worker_id, self.path, exc)
                return []
        for call_id, (_line, result, scenario) in new.items():
            self.seen.add(call_id)
            self.counters.record_result(result, scenario=scenario)
        self.received[worker_id] += len(new)
        return acknowledged


def _parsed(item: Any) -> tuple[Optional[str], Optional[tuple[str, CallResult, str]]]:
    """(call id or None, (line, result, scenario) or None when the item is not a whole call result)."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        return None, None
    call_id, line, scenario = item["id"], item.get("line"), item.get("scenario")
    if not isinstance(line, str) or "\n" in line or not isinstance(scenario, str):
        return call_id, None
    try:
        record = json.loads(line)
        result = CallResult.from_dict(record) if isinstance(record, dict) else None
    except (ValueError, TypeError):
        return call_id, None
    if result is None or result.call_id != call_id:
        return call_id, None
    return call_id, (line, result, scenario)


def _ids_in(path: Path) -> set[str]:
    """The call ids already in a calls file (none when it does not exist yet), read by the one rule for a
    results file (callers/results.py's read_results: whole call lines only, a torn last line skipped)."""
    try:
        return {result.call_id for result in read_results(path)}
    except FileNotFoundError:
        return set()

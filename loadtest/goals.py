"""Goal metrics of a Locust run: counters per process, cumulative snapshots, the master's merge, the CI gate.

Pure Python (no Locust, no gevent) so it can be tested on its own. The protocol between processes is:

* every process that runs callers keeps one `GoalCounters` and counts each finished call once;
* it sends *cumulative* snapshots (`Snapshot`), numbered by a per-process sequence, with Locust's periodic
  worker report, and a last one flagged `final` once its users have stopped;
* the master keeps, per worker, only the newest snapshot (`GoalAggregator`), so a lost or repeated report
  never double-counts and the final snapshot alone is enough to have every call of that worker.

Success rate = successes / (calls - cancelled - simulator errors): a call cut off by the end of the run, or
one where the caller itself broke, fell behind real time or lost its model (`brain_error`), is neither a
success nor a failure of the agent (docs/metrics.md); it is counted, but only in `calls` and `cancelled` /
`simulator_errors` (the batch reports use the same rule). So is a call whose goal was missed after the agent
asked for something the caller's profile did not hold (`not_prepared`: the caller's gap, not the agent's).
"""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields
from typing import Any, Iterable, Mapping, Optional

from callers.outcome import Outcome, outcome_of
from callers.results import NoteSummary, ProtocolNote, note_line

TOTAL = "total"


@dataclass
class Counts:
    calls: int = 0
    successes: int = 0
    failures: int = 0
    cancelled: int = 0
    simulator_errors: int = 0
    not_prepared: int = 0  # goal missed after an agent question the caller could not answer (callers/outcome.py)
    goals_met: int = 0
    goals_total: int = 0
    caller_overloaded: int = 0  # calls whose own pacing showed an overloaded simulator (counted, still judged)

    @property
    def judged(self) -> int:
        """Calls that judge the agent: not cut off by the end of the run, not broken or unprepared on the
        caller's side."""
        return self.calls - self.cancelled - self.simulator_errors - self.not_prepared

    @property
    def success_rate(self) -> Optional[float]:
        return self.successes / self.judged if self.judged > 0 else None

    @property
    def goal_rate(self) -> Optional[float]:
        return self.goals_met / self.goals_total if self.goals_total > 0 else None

    def add(self, other: "Counts") -> None:
        for spec in fields(self):
            setattr(self, spec.name, getattr(self, spec.name) + getattr(other, spec.name))

    def to_dict(self) -> dict:
        data = asdict(self)
        data["success_rate"] = _round(self.success_rate)
        data["goal_rate"] = _round(self.goal_rate)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Counts":
        return cls(**{spec.name: int(data.get(spec.name, 0)) for spec in fields(cls)})


class GoalCounters:
    """Totals of one process (or of a whole run once merged): overall, by personality and by scenario."""

    def __init__(self) -> None:
        self.total = Counts()
        self.by_personality: dict[str, Counts] = {}
        self.by_scenario: dict[str, Counts] = {}
        # Deviations from the bot protocol the calls were carried through, by kind (callers/results.py).
        self.notes: dict[str, NoteSummary] = {}

    def record(self, personality: str, scenario: str, success: bool, error_category: Optional[str],
               goals_achieved: int = 0, goals_total: int = 0, caller_overloaded: bool = False,
               unanswered_asks: int = 0) -> None:
        one = Counts(calls=1, caller_overloaded=int(bool(caller_overloaded)))
        outcome = outcome_of(bool(success), error_category, unanswered_asks)  # the one rule (callers/outcome.py)
        if outcome is Outcome.CANCELLED:
            one.cancelled = 1
        elif outcome is Outcome.CALLER_ERROR:
            one.simulator_errors = 1
        elif outcome is Outcome.CALLER_NOT_PREPARED:
            one.not_prepared = 1
        else:
            one.successes = int(bool(success))
            one.failures = 1 - one.successes
            one.goals_met = int(goals_achieved or 0)
            one.goals_total = int(goals_total or 0)
        self.total.add(one)
        self.by_personality.setdefault(personality, Counts()).add(one)
        self.by_scenario.setdefault(scenario, Counts()).add(one)

    def record_result(self, result: Any, scenario: Optional[str] = None) -> None:
        """Count a callers.results.CallResult (or anything with the same attributes)."""
        self.record(result.personality, scenario or result.scenario, bool(result.success),
                    result.error_category, result.goals_achieved, result.goals_total,
                    bool(getattr(result, "caller_overloaded", False)),
                    len(getattr(result, "unanswered_asks", ()) or ()))
        for note in getattr(result, "protocol_notes", None) or []:
            note = ProtocolNote(**note) if isinstance(note, dict) else note
            self._add_note(NoteSummary(note.what, 1, note.count, note.first_ms))

    def _add_note(self, summary: NoteSummary) -> None:
        kept = self.notes.get(summary.what)
        if kept is None:
            self.notes[summary.what] = NoteSummary(summary.what, summary.calls, summary.count, summary.first_ms)
        else:
            kept.calls += summary.calls
            kept.count += summary.count
            kept.first_ms = min(kept.first_ms, summary.first_ms)

    def note_summaries(self) -> list[NoteSummary]:
        """The run's deviations, most widespread first (as the console and the reports order them)."""
        return sorted(self.notes.values(), key=lambda summary: (-summary.calls, summary.first_ms))

    def merge(self, other: "GoalCounters") -> None:
        self.total.add(other.total)
        for summary in other.notes.values():
            self._add_note(summary)
        for mine, theirs in ((self.by_personality, other.by_personality), (self.by_scenario, other.by_scenario)):
            for key, counts in theirs.items():
                mine.setdefault(key, Counts()).add(counts)

    def to_dict(self) -> dict:
        return {TOTAL: self.total.to_dict(),
                "by_personality": {k: v.to_dict() for k, v in sorted(self.by_personality.items())},
                "by_scenario": {k: v.to_dict() for k, v in sorted(self.by_scenario.items())},
                "protocol_notes": [asdict(summary) for summary in self.note_summaries()]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "GoalCounters":
        counters = cls()
        counters.total = Counts.from_dict(data.get(TOTAL, {}))
        counters.by_personality = {k: Counts.from_dict(v) for k, v in data.get("by_personality", {}).items()}
        counters.by_scenario = {k: Counts.from_dict(v) for k, v in data.get("by_scenario", {}).items()}
        for item in data.get("protocol_notes", []):
            counters._add_note(NoteSummary(str(item["what"]), int(item["calls"]), int(item["count"]),
                                           float(item["first_ms"])))
        return counters

    def rows(self) -> list[dict]:
        """One flat row per group (total first): what the web UI table and the CSV show."""
        rows = [_row(TOTAL, "all calls", self.total)]
        rows += [_row("personality", key, counts) for key, counts in sorted(self.by_personality.items())]
        rows += [_row("scenario", key, counts) for key, counts in sorted(self.by_scenario.items())]
        return rows


ROW_COLUMNS = ("group", "name", "calls", "successes", "failures", "cancelled", "simulator_errors", "not_prepared",
               "success_rate", "goals_met", "goals_total", "goal_rate", "caller_overloaded")


def _row(group: str, name: str, counts: Counts) -> dict:
    rate, goal_rate = counts.success_rate, counts.goal_rate
    return {"group": group, "name": name, "calls": counts.calls, "successes": counts.successes,
            "failures": counts.failures, "cancelled": counts.cancelled,
            "simulator_errors": counts.simulator_errors, "not_prepared": counts.not_prepared,
            "success_rate": "" if rate is None else f"{rate:.1%}",
            "goals_met": counts.goals_met,
            "goals_total": counts.goals_total, "goal_rate": "" if goal_rate is None else f"{goal_rate:.1%}",
            "caller_overloaded": counts.caller_overloaded}


def to_csv(counters: GoalCounters) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ROW_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(counters.rows())
    return out.getvalue()


@dataclass
class Snapshot:
    """What a process sends: its cumulative counters, a sequence number, and whether its users have stopped."""

    seq: int
    final: bool
    counters: dict

    def to_dict(self) -> dict:
        return {"seq": self.seq, "final": self.final, "counters": self.counters}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Snapshot":
        return cls(int(data["seq"]), bool(data.get("final", False)), dict(data.get("counters", {})))


class GoalAggregator:
    """The master's view: the newest snapshot of each worker; merged on demand."""

    def __init__(self) -> None:
        self.latest: dict[str, Snapshot] = {}

    def reset(self) -> None:
        self.latest.clear()

    def receive(self, worker_id: str, data: Mapping[str, Any]) -> bool:
        """Keep `data` if it is newer than what `worker_id` sent before; returns whether it was kept."""
        snapshot = Snapshot.from_dict(data)
        current = self.latest.get(worker_id)
        if current is not None and snapshot.seq <= current.seq:
            return False
        self.latest[worker_id] = snapshot
        return True

    def is_final(self, worker_id: str) -> bool:
        snapshot = self.latest.get(worker_id)
        return snapshot is not None and snapshot.final

    def pending(self, worker_ids: Iterable[str]) -> list[str]:
        return [worker_id for worker_id in worker_ids if not self.is_final(worker_id)]

    def merged(self) -> GoalCounters:
        total = GoalCounters()
        for snapshot in self.latest.values():
            total.merge(GoalCounters.from_dict(snapshot.counters))
        return total


class SnapshotSource:
    """A process's side: its counters and the numbered snapshots it sends."""

    def __init__(self) -> None:
        self.counters = GoalCounters()
        self.seq = 0
        self.final = False

    def reset(self) -> None:
        self.counters = GoalCounters()
        self.final = False  # seq keeps growing, so a stale report from the previous run is never "newer"

    def snapshot(self) -> dict:
        self.seq += 1
        return Snapshot(self.seq, self.final, self.counters.to_dict()).to_dict()


# ---- the CI gate ------------------------------------------------------------------------------------------

def gate_reasons(total: Counts, success_threshold: float = 0.0, p95_turn_ms: Optional[float] = None,
                 max_p95_turn_ms: float = 0.0) -> list[str]:
    """Why the run fails the configured thresholds (empty: it passes). A threshold of 0 is off."""
    reasons: list[str] = []
    if success_threshold > 0:
        rate = total.success_rate
        if rate is None:
            reasons.append(f"success rate unknown: no completed calls to judge (threshold {success_threshold:.1%})")
        elif rate < success_threshold:
            reasons.append(f"success rate {rate:.1%} ({total.successes}/{total.judged} completed calls) "
                           f"is below the threshold {success_threshold:.1%}")
    if max_p95_turn_ms > 0:
        if p95_turn_ms is None:
            reasons.append(f"p95 TURN latency unknown: no turns measured (limit {max_p95_turn_ms:g} ms)")
        elif p95_turn_ms > max_p95_turn_ms:
            reasons.append(f"p95 TURN latency {p95_turn_ms:g} ms is above the limit {max_p95_turn_ms:g} ms")
    return reasons


def summary_text(counters: GoalCounters, p95_turn_ms: Optional[float] = None) -> str:
    """The goal summary printed at the end of a run."""
    lines = ["GOAL SUMMARY",
             f"{'':<14}{'name':<34}{'calls':>6}{'ok':>6}{'fail':>6}{'cut':>6}{'success':>9}{'goals':>11}"]
    for row in counters.rows():
        goals = f"{row['goals_met']}/{row['goals_total']}"
        lines.append(f"{row['group']:<14}{row['name'][:33]:<34}{row['calls']:>6}{row['successes']:>6}"
                     f"{row['failures']:>6}{row['cancelled']:>6}{row['success_rate'] or '-':>9}{goals:>11}")
    total = counters.total
    rate = "n/a" if total.success_rate is None else f"{total.success_rate:.1%}"
    line = (f"overall success rate {rate} ({total.successes} of {total.judged} completed calls; "
            f"{total.cancelled} cancelled at the end of the run")
    if total.simulator_errors:
        line += f"; {total.simulator_errors} simulator errors, not counted against the agent"
    if total.not_prepared:
        line += (f"; {total.not_prepared} caller not prepared (the agent asked for what the caller's profile lacked), "
                 "not counted against the agent")
    line += ")"
    if total.caller_overloaded:
        line += (f"\nCALLER OVERLOADED in {total.caller_overloaded} calls: the load generator paced their audio late, "
                 "so their latencies include its own delay; run fewer callers per worker or more workers")
    if p95_turn_ms is not None:
        line += f"; p95 TURN latency {p95_turn_ms:g} ms"
    lines.append(line)
    lines += [note_line(summary, total.calls) for summary in counters.note_summaries()]
    return "\n".join(lines)


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 4)

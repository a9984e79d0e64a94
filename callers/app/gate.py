"""The exit code of a run of calls, and the CI gate that decides it (--success-threshold, --max-p95-turn-ms).

A batch is a measurement: failed calls are its data, not an error of the run. CI steps run under `bash -e`,
so a runner that exited 1 whenever one call failed would stop a job before its own success-rate check ever
ran. A batch therefore exits 0 once it has run and reported, and 1 only when a gate the user asked for is
missed, as Locust does. A one-off call (caller_cli.py --scenario / a custom call) is different: its verdict
is the whole point of running it, so it also exits 1 when its goal was not met.

The success rate and the TURN p95 follow the reports' rules (reports/stats.py): cancelled calls and the
caller's own failures are not judged, a turn's latency is trusted unless the caller itself broke, and
percentiles interpolate linearly, so a gate agrees with the report printed above it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from callers.errors import NOT_CONNECTED
from callers.outcome import Outcome, outcome_of, outcome_of_result
from callers.results import CallResult

EXIT_OK = 0
EXIT_FAILED = 1  # a gate was missed; for a one-off call, also its goal not met
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Gate:
    """What the user asked a run to reach; 0 switches a limit off (Locust's flags mean the same)."""

    success_threshold: float = 0.0  # fraction of judged calls that must succeed
    max_p95_turn_ms: float = 0.0  # p95 of voice-to-voice TURN latency, ms

    @property
    def asked(self) -> bool:
        return self.success_threshold > 0 or self.max_p95_turn_ms > 0

    def reasons(self, results: Sequence[CallResult]) -> list[str]:
        """Why the run misses the gate (empty: it passes, or nothing was asked)."""
        reasons: list[str] = []
        if self.success_threshold > 0:
            judged = [r for r in results if outcome_of_result(r).judged]
            successes = sum(bool(r.success) for r in judged)
            if not judged:
                reasons.append(f"success rate unknown: no judged calls (threshold {self.success_threshold:.1%})")
            elif successes / len(judged) < self.success_threshold:
                reasons.append(f"success rate {successes / len(judged):.1%} ({successes}/{len(judged)} judged "
                               f"calls) is below the threshold {self.success_threshold:.1%}")
        if self.max_p95_turn_ms > 0:
            p95 = turn_p95_ms(results)
            if p95 is None:
                reasons.append(f"p95 TURN latency unknown: no turns measured (limit {self.max_p95_turn_ms:g} ms)")
            elif p95 > self.max_p95_turn_ms:
                reasons.append(f"p95 TURN latency {p95:.0f} ms is above the limit {self.max_p95_turn_ms:g} ms")
        return reasons


def turn_p95_ms(results: Sequence[CallResult]) -> Optional[float]:
    """p95 of the answered turns' latency, the caller's own failures left out; None without any."""
    latencies = sorted(turn.response_latency_ms for result in results
                       if outcome_of(result.success, result.error_category) is not Outcome.CALLER_ERROR
                       for turn in result.turn_records if turn.response_latency_ms is not None)
    if not latencies:
        return None
    position = 0.95 * (len(latencies) - 1)
    low = math.floor(position)
    high = min(low + 1, len(latencies) - 1)
    return latencies[low] + (latencies[high] - latencies[low]) * (position - low)


def exit_code(results: Sequence[CallResult], cancelled: bool, gate_reasons: Sequence[str],
              one_off: bool = False) -> int:
    """The run's exit code: 130 interrupted, 3 no call reached the bridge, 1 a gate missed (a one-off call:
    also its goal not met), else 0, whatever share of a batch's calls failed."""
    if cancelled:
        return EXIT_INTERRUPTED
    if results and all(r.error_category in NOT_CONNECTED for r in results):
        return EXIT_UNREACHABLE
    if gate_reasons:
        return EXIT_FAILED
    if one_off and not _all_judged_succeeded(results):
        return EXIT_FAILED
    return EXIT_OK


def _all_judged_succeeded(results: Sequence[CallResult]) -> bool:
    """A one-off call passes only when something was judged and nothing judged failed: a call the caller itself
    broke proved nothing about the agent, so it cannot pass (as the gate's "success rate unknown")."""
    outcomes = [outcome_of_result(r) for r in results]
    judged = [outcome for outcome in outcomes if outcome.judged]
    return bool(judged) and all(outcome is Outcome.SUCCESS for outcome in judged)

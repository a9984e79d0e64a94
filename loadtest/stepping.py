"""The Locust side of the capacity search: its plan from the options, the stats sample a step is judged on,
the log line per judged step and the load shape that drives it (loadtest/capacity.py decides).
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any, Optional

from locust import LoadTestShape

from loadtest import capacity

log = logging.getLogger("caller_agent.locust")
NO_SHAPE = "none"
CAPACITY_SHAPE = "capacity"
# How fast a capacity step adds its callers when neither -r nor the web UI says.
DEFAULT_CAPACITY_SPAWN_RATE = 5.0


def capacity_plan(options: Any) -> capacity.CapacityPlan:
    """The search the options ask for; ValueError names the option to fix."""
    return capacity.CapacityPlan(
        options.capacity_start, options.capacity_step, options.capacity_step_s, options.capacity_max,
        capacity.Targets.from_gate(options.success_threshold, options.max_p95_turn_ms))


def step_sample(environment: Any) -> capacity.StatsSample:
    """The run's cumulative CALL and TURN stats now (on a master: as of the workers' latest reports)."""
    calls = failures = 0
    turn_times: Counter = Counter()
    for (_name, method), entry in list(environment.stats.entries.items()):
        if method == "CALL":
            calls += entry.num_requests
            failures += entry.num_failures
        elif method == "TURN":
            turn_times.update(entry.response_times)
    return capacity.StatsSample(calls, failures, dict(turn_times))


def log_step(step: capacity.StepResult) -> None:
    log.info("capacity step: %d callers, %d calls, success %s, p95 TURN %s ms: %s", step.users, step.calls,
             "-" if step.success_rate is None else f"{step.success_rate:.1%}",
             "-" if step.p95_turn_ms is None else f"{step.p95_turn_ms:g}",
             "met" if step.met else "missed (" + "; ".join(step.reasons) + ")")


class SteppingShape(LoadTestShape):
    """Steps the callers up until a step misses a target (loadtest/capacity.py decides; this only drives it).

    Abstract: the locustfile's CapacityShape names it for Locust and says how a step's stats are made current
    (`refresh_stats`). Locust runs a locustfile's shape for every run, so the locustfile unhooks it at init
    unless --shape capacity asks for it; with --class-picker the web UI offers it either way."""

    abstract = True
    # -r paces each step's ramp and -t caps the whole search (read here: Locust leaves both to the shape);
    # it also spares every run without the shape Locust's warning that -u / -r / -t are ignored.
    use_common_options = True

    def __init__(self) -> None:
        super().__init__()
        self.search: Optional[capacity.CapacitySearch] = None

    def refresh_stats(self) -> None:
        """Before a step is judged: make this process's stats current (a master asks its workers)."""

    def reset_time(self) -> None:
        # Locust calls this when a run starts (a master again at its first spawn): a new run, a new search.
        super().reset_time()
        self.search = None

    def tick(self) -> Optional[tuple[int, float]]:
        environment = self.runner.environment
        options = environment.parsed_options
        if self.search is None:
            try:
                self.search = capacity.CapacitySearch(capacity_plan(options))
            except ValueError as exc:  # values typed into the web UI; the command line is checked at init
                log.error("capacity search not started: %s", exc)
                return None
        if options.run_time and self.get_run_time() >= options.run_time:
            return None  # the search ends unfinished: capacity.json says "run_ended"
        judged = len(self.search.steps)
        count = self.search.tick(time.monotonic(), lambda: self._sample(environment))
        for step in self.search.steps[judged:]:
            log_step(step)
        if count is None:
            return None
        return count, float(options.spawn_rate or DEFAULT_CAPACITY_SPAWN_RATE)

    def _sample(self, environment: Any) -> capacity.StatsSample:
        self.refresh_stats()
        return step_sample(environment)

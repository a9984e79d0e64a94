"""The Locust side of the capacity search: its plan from the options, the stats sample a step is judged on,
and the log line per judged step (loadtest/capacity.py decides; the locustfile's CapacityShape drives it).
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any

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

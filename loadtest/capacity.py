"""Capacity search: step the number of concurrent callers up until a step misses a target.

Pure Python (no Locust, no gevent), so the decisions are tested on synthetic numbers. locustfile.py's
CapacityShape drives a `CapacitySearch` once a second and hands it a `StatsSample` read from Locust's stats
(which, on a master, are the merged reports of every worker).

Why each step is judged on its own calls, and how:

* Locust's stats are cumulative for the run, so a step's numbers are the difference between the sample taken
  at its end and the one taken at its start (`StatsSample.since`). A call is a step's when it *completed*
  during the step; calls cut off by the end of the run fire no CALL event, so they never count.
* The TURN histogram keeps Locust's own rounding (`StatsEntry.response_times`), and `percentile` is Locust's
  definition, so a step's p95 reads the same as Locust's tables would for the same turns.
* A step with no completed call, or no measured turn, proves nothing, so it cannot meet a target: steps must
  be longer than a call.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Mapping, Optional

# Targets when the run sets none (--success-threshold 0 / --max-p95-turn-ms 0 mean "unset" for the gate).
DEFAULT_SUCCESS_TARGET = 0.8
DEFAULT_P95_TURN_TARGET_MS = 1500.0
TURN_PERCENTILE = 0.95

TARGET_MISSED = "target_missed"
MAX_REACHED = "max_reached"
RUN_ENDED = "run_ended"  # stopped (run time, Ctrl-C, web UI) before a target was missed or the max reached


@dataclass(frozen=True)
class Targets:
    """What every step must achieve: a minimum success rate and a maximum p95 TURN latency."""

    success_rate: float = DEFAULT_SUCCESS_TARGET
    p95_turn_ms: float = DEFAULT_P95_TURN_TARGET_MS

    @classmethod
    def from_gate(cls, success_threshold: float, max_p95_turn_ms: float) -> "Targets":
        """The CI gate's thresholds as step targets; a threshold left at 0 (off) takes the default."""
        return cls(success_threshold if success_threshold > 0 else DEFAULT_SUCCESS_TARGET,
                   max_p95_turn_ms if max_p95_turn_ms > 0 else DEFAULT_P95_TURN_TARGET_MS)


@dataclass(frozen=True)
class CapacityPlan:
    """The steps to try: `start`, `start + step`, ... up to `max_users`, `step_s` seconds each."""

    start: int
    step: int
    step_s: float
    max_users: int
    targets: Targets = field(default_factory=Targets)

    def __post_init__(self) -> None:
        problems = []
        if self.start < 1:
            problems.append(f"--capacity-start must be at least 1, got {self.start}")
        if self.step < 1:
            problems.append(f"--capacity-step must be at least 1, got {self.step}")
        if not self.step_s > 0:
            problems.append(f"--capacity-step-s must be above 0, got {self.step_s:g}")
        if self.max_users < self.start:
            problems.append(f"--capacity-max ({self.max_users}) must be at least --capacity-start ({self.start})")
        if not 0 < self.targets.success_rate <= 1:
            problems.append(f"--success-threshold must be a fraction above 0 and at most 1, "
                            f"got {self.targets.success_rate:g}")
        if problems:
            raise ValueError("; ".join(problems))

    def next_users(self, users: int) -> Optional[int]:
        """The step after `users` (the last one is clamped to the max), or None once the max has run."""
        if users >= self.max_users:
            return None
        return min(users + self.step, self.max_users)

    def describe(self) -> str:
        return (f"{self.start} to {self.max_users} callers in steps of {self.step} every {self.step_s:g} s; "
                f"targets: success rate >= {self.targets.success_rate:.1%}, "
                f"p95 TURN <= {self.targets.p95_turn_ms:g} ms")


@dataclass(frozen=True)
class StatsSample:
    """Cumulative CALL and TURN stats of the run at one moment (or, after `since`, of one step)."""

    calls: int = 0  # completed calls (CALL requests); cancelled calls fire none
    failures: int = 0  # CALL failures: an error, or the goal not met
    turn_times: Mapping[int, int] = field(default_factory=dict)  # rounded TURN latency ms -> count

    @property
    def turns(self) -> int:
        return sum(self.turn_times.values())

    def since(self, earlier: "StatsSample") -> "StatsSample":
        """What happened after `earlier`. A count that went down means the stats were reset in between
        (web UI "Reset stats", --reset-stats): then everything since that reset is this step's."""
        went_down = (self.calls < earlier.calls or self.failures < earlier.failures
                     or any(self.turn_times.get(ms, 0) < count for ms, count in earlier.turn_times.items()))
        if went_down:
            return self
        turn_times = {ms: count - earlier.turn_times.get(ms, 0) for ms, count in self.turn_times.items()}
        return StatsSample(self.calls - earlier.calls, self.failures - earlier.failures,
                           {ms: count for ms, count in turn_times.items() if count > 0})


def percentile(times: Mapping[int, int], fraction: float) -> Optional[float]:
    """The `fraction` percentile of a Locust response-time histogram (None when empty), defined as Locust's
    calculate_response_time_percentile does it: the first time, going up, at or below which more than
    int(total * fraction) of the requests lie, so a step's p95 matches what Locust's tables would show."""
    total = sum(times.values())
    if total == 0:
        return None
    allowed_below = int(total * fraction)
    ordered = sorted(times)
    counted = 0
    for ms in ordered[:-1]:
        counted += times[ms]
        if counted > allowed_below:
            return float(ms)
    return float(ordered[-1])


@dataclass(frozen=True)
class StepResult:
    """One row of the capacity table."""

    users: int
    duration_s: float
    calls: int
    successes: int
    success_rate: Optional[float]
    turns: int
    p95_turn_ms: Optional[float]
    met: bool
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        data = asdict(self)
        data["duration_s"] = round(self.duration_s, 1)
        data["success_rate"] = None if self.success_rate is None else round(self.success_rate, 4)
        data["reasons"] = list(self.reasons)
        return data


def judge_step(users: int, duration_s: float, step: StatsSample, targets: Targets) -> StepResult:
    """Did this step's own calls and turns meet both targets? The reasons say why not."""
    successes = step.calls - step.failures
    rate = successes / step.calls if step.calls else None
    p95 = percentile(step.turn_times, TURN_PERCENTILE)
    reasons = []
    if rate is None:
        reasons.append("no call completed during the step (make --capacity-step-s longer than a call)")
    elif rate < targets.success_rate:
        reasons.append(f"success rate {rate:.1%} ({successes}/{step.calls}) is below {targets.success_rate:.1%}")
    if p95 is None:
        reasons.append("no TURN latency measured during the step")
    elif p95 > targets.p95_turn_ms:
        reasons.append(f"p95 TURN {p95:g} ms is above {targets.p95_turn_ms:g} ms")
    return StepResult(users, duration_s, step.calls, successes, rate, step.turns, p95, not reasons, tuple(reasons))


class CapacitySearch:
    """The step machine: call `tick` about once a second; it answers how many users to run, or None to stop."""

    def __init__(self, plan: CapacityPlan) -> None:
        self.plan = plan
        self.users = plan.start
        self.steps: list[StepResult] = []
        self.outcome: Optional[str] = None
        self._step_started: Optional[float] = None
        # Locust clears its stats when a run starts, so the first step counts from zero.
        self._baseline = StatsSample()

    def tick(self, now: float, sample: Callable[[], StatsSample]) -> Optional[int]:
        """`now` is a monotonic clock in seconds; `sample` reads the cumulative stats, only when a step ends
        (it may first have to gather the workers' latest reports)."""
        if self.outcome is not None:
            return None
        if self._step_started is None:
            self._step_started = now
            return self.users
        if now - self._step_started < self.plan.step_s:
            return self.users
        current = sample()
        result = judge_step(self.users, now - self._step_started, current.since(self._baseline), self.plan.targets)
        self.steps.append(result)
        if not result.met:
            self.outcome = TARGET_MISSED
            return None
        following = self.plan.next_users(self.users)
        if following is None:
            self.outcome = MAX_REACHED
            return None
        self.users, self._baseline, self._step_started = following, current, now
        return self.users

    @property
    def capacity(self) -> Optional[int]:
        """The highest concurrency whose step met both targets (the search stops at the first miss)."""
        return max((step.users for step in self.steps if step.met), default=None)

    def report(self) -> dict:
        """What capacity.json holds."""
        plan = self.plan
        return {"capacity_users": self.capacity, "stopped_by": self.outcome or RUN_ENDED,
                "targets": asdict(plan.targets),
                "plan": {"start": plan.start, "step": plan.step, "step_s": plan.step_s, "max_users": plan.max_users},
                "steps": [step.to_dict() for step in self.steps]}

    def verdict(self) -> str:
        """One sentence: the number users run a capacity search for, and why the search ended."""
        capacity = self.capacity
        outcome = self.outcome or RUN_ENDED
        if outcome == MAX_REACHED:
            return f"at least {capacity} concurrent callers (every step up to --capacity-max met both targets)"
        if not self.steps:
            return "unknown: the run ended before its first step was over"
        found = "no step met both targets" if capacity is None else f"{capacity} concurrent callers met both targets"
        if outcome == TARGET_MISSED:
            missed = self.steps[-1]
            return f"{found}; {missed.users} missed: {'; '.join(missed.reasons)}"
        return f"{found}; the run ended before a step missed a target"

    def table_text(self) -> str:
        """The per-step table printed at the end of the run."""
        lines = ["CAPACITY SEARCH: " + self.plan.describe(),
                 f"{'users':>6}{'calls':>7}{'success':>9}{'p95 TURN ms':>13}  met"]
        for step in self.steps:
            rate = "-" if step.success_rate is None else f"{step.success_rate:.1%}"
            p95 = "-" if step.p95_turn_ms is None else f"{step.p95_turn_ms:g}"
            lines.append(f"{step.users:>6}{step.calls:>7}{rate:>9}{p95:>13}  {'yes' if step.met else 'no'}")
        lines.append("capacity: " + self.verdict())
        return "\n".join(lines)

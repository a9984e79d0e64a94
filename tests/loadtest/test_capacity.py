"""Capacity search decisions on synthetic step data (no Locust run, no clock: time is passed in)."""
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from locust.stats import calculate_response_time_percentile

from loadtest import capacity
from loadtest.capacity import CapacityPlan, CapacitySearch, StatsSample, Targets, judge_step

TARGETS = Targets(success_rate=0.8, p95_turn_ms=1000.0)


def plan(start=5, step=5, step_s=60.0, max_users=500, targets=TARGETS) -> CapacityPlan:
    return CapacityPlan(start, step, step_s, max_users, targets)


def turns(ms: int, count: int) -> dict:
    return {ms: count}


class Feed:
    """Cumulative stats as Locust would hold them, plus how often the search asked for them."""

    def __init__(self) -> None:
        self.calls = self.failures = 0
        self.turn_times: dict = {}
        self.reads = 0

    def add_step(self, calls: int, failures: int, turn_times: dict) -> None:
        self.calls += calls
        self.failures += failures
        for ms, count in turn_times.items():
            self.turn_times[ms] = self.turn_times.get(ms, 0) + count

    def __call__(self) -> StatsSample:
        self.reads += 1
        return StatsSample(self.calls, self.failures, dict(self.turn_times))


def run_steps(search: CapacitySearch, feed: Feed, steps: list, step_s: float) -> list:
    """Tick once a second through `steps` (calls, failures, turn_times per step); returns every tick's answer."""
    answers = [search.tick(0.0, feed)]
    now = 0.0
    for calls, failures, turn_times in steps:
        for _ in range(int(step_s) - 1):
            now += 1.0
            answers.append(search.tick(now, feed))
        feed.add_step(calls, failures, turn_times)
        now += 1.0
        answers.append(search.tick(now, feed))
        if answers[-1] is None:
            break
    return answers


def test_targets_default_when_the_gate_thresholds_are_off():
    assert Targets.from_gate(0.0, 0.0) == Targets(capacity.DEFAULT_SUCCESS_TARGET, capacity.DEFAULT_P95_TURN_TARGET_MS)
    assert Targets.from_gate(0.95, 800.0) == Targets(0.95, 800.0)
    assert Targets.from_gate(0.0, 800.0) == Targets(0.8, 800.0)


@pytest.mark.parametrize("kwargs, option", [
    ({"start": 0}, "--capacity-start"),
    ({"step": 0}, "--capacity-step"),
    ({"step_s": 0.0}, "--capacity-step-s"),
    ({"start": 10, "max_users": 5}, "--capacity-max"),
    ({"targets": Targets(1.5, 1000.0)}, "--success-threshold"),
])
def test_a_bad_plan_names_the_option_to_fix(kwargs, option):
    with pytest.raises(ValueError, match=option):
        plan(**kwargs)


def test_steps_climb_by_the_step_and_the_last_is_clamped_to_the_max():
    search_plan = plan(start=5, step=5, max_users=12)
    assert search_plan.next_users(5) == 10
    assert search_plan.next_users(10) == 12
    assert search_plan.next_users(12) is None
    assert plan(start=7, max_users=7).next_users(7) is None


@given(st.dictionaries(st.integers(0, 100_000), st.integers(1, 50), min_size=1, max_size=40),
       st.sampled_from([0.0, 0.5, 0.9, 0.95, 0.99, 1.0]))
def test_percentile_is_locusts_own(times, fraction):
    expected = calculate_response_time_percentile(times, sum(times.values()), fraction)
    assert capacity.percentile(times, fraction) == expected


def test_percentile_of_nothing_is_unknown():
    assert capacity.percentile({}, 0.95) is None


def test_a_step_is_the_difference_of_two_cumulative_samples():
    before = StatsSample(10, 2, {100: 5, 200: 1})
    after = StatsSample(16, 3, {100: 7, 200: 1, 900: 2})
    assert after.since(before) == StatsSample(6, 1, {100: 2, 900: 2})


def test_stats_reset_between_samples_makes_everything_since_the_reset_the_steps():
    before = StatsSample(10, 2, {100: 5})
    after_reset = StatsSample(3, 0, {100: 2, 300: 1})
    assert after_reset.since(before) == after_reset


def test_judge_a_step_that_meets_both_targets_at_the_boundary():
    # 8 of 10 calls is exactly the 80% target, and a p95 equal to the limit is within it.
    step = judge_step(5, 60.0, StatsSample(10, 2, {500: 19, 1000: 1}), TARGETS)
    assert step.met and step.reasons == ()
    assert (step.calls, step.successes, step.success_rate, step.turns) == (10, 8, 0.8, 20)
    assert step.p95_turn_ms == 1000.0  # 19 of 20 below it: Locust calls the top one the p95


@pytest.mark.parametrize("sample, expected", [
    (StatsSample(10, 3, {500: 20}), ["success rate 70.0% (7/10) is below 80.0%"]),
    (StatsSample(10, 0, {500: 10, 1100: 10}), ["p95 TURN 1100 ms is above 1000 ms"]),
    (StatsSample(0, 0, {500: 10}), ["no call completed during the step"]),
    (StatsSample(4, 0, {}), ["no TURN latency measured"]),
    (StatsSample(10, 5, {2000: 3}), ["success rate 50.0%", "p95 TURN 2000 ms"]),
])
def test_judge_a_step_that_misses_says_why(sample, expected):
    step = judge_step(5, 60.0, sample, TARGETS)
    assert not step.met
    assert len(step.reasons) == len(expected)
    for reason, start in zip(step.reasons, expected):
        assert reason.startswith(start), reason


def test_search_stops_at_the_first_missed_step_and_reports_the_highest_met():
    search, feed = CapacitySearch(plan(step_s=10.0)), Feed()
    answers = run_steps(search, feed, [
        (12, 0, turns(300, 40)),  # 5 callers: fine
        (20, 1, turns(400, 60)),  # 10 callers: 95%, fine
        (25, 2, {500: 60, 1200: 20}),  # 15 callers: p95 over the limit
        (30, 0, turns(100, 50)),  # never reached
    ], step_s=10.0)
    assert [step.users for step in search.steps] == [5, 10, 15]
    assert [step.met for step in search.steps] == [True, True, False]
    assert search.capacity == 10 and search.outcome == capacity.TARGET_MISSED
    assert answers[0] == 5 and 10 in answers and 15 in answers and answers[-1] is None
    assert search.tick(1000.0, feed) is None  # over is over
    # Each step is judged on its own calls only: the third had 25 calls, 23 successful.
    third = search.steps[2]
    assert (third.calls, third.successes, third.turns, third.p95_turn_ms) == (25, 23, 80, 1200.0)
    # The stats are read once per step end, never on the ticks in between.
    assert feed.reads == 3
    assert search.verdict().startswith("10 concurrent callers met both targets; 15 missed: p95 TURN 1200 ms")


def test_search_that_reaches_the_max_says_capacity_is_at_least_that():
    search, feed = CapacitySearch(plan(start=2, step=2, max_users=5, step_s=5.0)), Feed()
    run_steps(search, feed, [(4, 0, turns(200, 10))] * 3, step_s=5.0)
    assert [step.users for step in search.steps] == [2, 4, 5]
    assert search.outcome == capacity.MAX_REACHED and search.capacity == 5
    assert search.verdict().startswith("at least 5 concurrent callers")


def test_search_whose_first_step_misses_has_no_capacity():
    search, feed = CapacitySearch(plan(step_s=5.0)), Feed()
    run_steps(search, feed, [(6, 6, turns(200, 10))], step_s=5.0)
    assert search.capacity is None and search.outcome == capacity.TARGET_MISSED
    assert search.verdict().startswith("no step met both targets; 5 missed: success rate 0.0%")


def test_a_run_ended_early_keeps_the_judged_steps_only():
    search, feed = CapacitySearch(plan(step_s=10.0)), Feed()
    run_steps(search, feed, [(10, 0, turns(100, 30))], step_s=10.0)
    search.tick(13.0, feed)  # the 10-caller step is under way when the run ends
    report = search.report()
    assert report["stopped_by"] == capacity.RUN_ENDED and report["capacity_users"] == 5
    assert [step["users"] for step in report["steps"]] == [5]
    assert "the run ended before a step missed a target" in search.verdict()


def test_a_run_ended_within_the_first_step_has_no_capacity():
    search, feed = CapacitySearch(plan(step_s=60.0)), Feed()
    search.tick(0.0, feed)
    search.tick(30.0, feed)
    assert search.capacity is None and search.report()["steps"] == [] and feed.reads == 0
    assert search.verdict() == "unknown: the run ended before its first step was over"


def test_report_and_table_carry_every_step():
    search, feed = CapacitySearch(plan(step_s=5.0)), Feed()
    run_steps(search, feed, [(10, 0, turns(250, 30)), (10, 4, turns(250, 30))], step_s=5.0)
    report = json.loads(json.dumps(search.report()))  # what capacity.json holds
    assert report["targets"] == {"success_rate": 0.8, "p95_turn_ms": 1000.0}
    assert report["plan"] == {"start": 5, "step": 5, "step_s": 5.0, "max_users": 500}
    rows = [(row["users"], row["calls"], row["success_rate"], row["p95_turn_ms"], row["met"])
            for row in report["steps"]]
    assert rows == [(5, 10, 1.0, 250.0, True), (10, 10, 0.6, 250.0, False)]
    table = search.table_text().splitlines()
    assert table[0].startswith("CAPACITY SEARCH: 5 to 500 callers in steps of 5 every 5 s")
    assert table[2].split() == ["5", "10", "100.0%", "250", "yes"]
    assert table[3].split() == ["10", "10", "60.0%", "250", "no"]
    assert table[-1].startswith("capacity: 5 concurrent callers met both targets; 10 missed")

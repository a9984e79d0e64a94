"""bench/locust_capacity.py's criteria and the search it shares with bench/capacity.py, without running Locust."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import capacity, locust_capacity  # noqa: E402


def step(**goals) -> dict:
    counts = {"calls": 20, "cancelled": 5, "caller_overloaded": 0, "simulator_errors": 0, "success_rate": 1.0}
    return {"users": 10, "goals": {**counts, **goals}}


def test_a_step_holds_with_every_criterion_met():
    assert locust_capacity.judge(step(), reference_rate=1.0) == (True, [])


@pytest.mark.parametrize("goals, reason", [
    ({"caller_overloaded": 1}, "1 calls flagged caller_overloaded"),
    ({"simulator_errors": 2}, "2 simulator errors"),
    ({"calls": 5, "cancelled": 5, "success_rate": None}, "no call completed"),
    ({"success_rate": 0.85}, "success rate 0.85 < reference 1.0 - 0.1"),
    ({"success_rate": None, "calls": 6}, "success rate None < reference 1.0 - 0.1"),
])
def test_each_criterion_alone_fails_a_step(goals, reason):
    assert locust_capacity.judge(step(**goals), reference_rate=1.0) == (False, [reason])


def test_goal_success_is_judged_against_the_reference_not_an_absolute_rate():
    assert locust_capacity.judge(step(success_rate=0.0), reference_rate=0.0)[0]  # a target that meets no goal
    assert locust_capacity.judge(step(success_rate=0.91), reference_rate=1.0)[0]
    assert locust_capacity.judge(step(success_rate=0.0), reference_rate=None)[0]  # the reference run itself


def test_a_broken_run_is_a_miss_with_its_reason():
    assert locust_capacity.judge({"users": 10, "error": "worker logged: KeyError: 'x'"}, 1.0) == \
        (False, ["worker logged: KeyError: 'x'"])


@pytest.mark.parametrize("limit, start", [(650, 100), (650, 650), (90, 200), (5000, 100), (0, 100)])
def test_the_search_doubles_then_bisects_to_within_ten_percent(limit, start):
    tried = []

    def attempt(callers: int) -> bool:
        tried.append(callers)
        return callers <= limit

    capacity.bisect(attempt, start, max_callers=4000, max_steps=12)
    best = max((callers for callers in tried if callers <= limit), default=0)
    if limit >= 4000:
        assert best == 4000 and tried[-1] == 4000  # stops at the ceiling
    elif limit == 0:
        assert best == 0 and tried[-1] <= 10  # halves until within 10 callers of nothing
    else:
        assert limit - best <= max(10, 0.1 * limit), tried
    assert len(tried) <= 12 and len(set(tried)) == len(tried)  # no step run twice


def test_the_search_stops_after_max_steps():
    tried = []
    capacity.bisect(lambda callers: tried.append(callers) or True, 1, max_callers=10**9, max_steps=3)
    assert tried == [1, 2, 4]


def test_log_problem_names_the_exception_line(tmp_path):
    log = tmp_path / "worker.log"
    log.write_text("starting\nTraceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'x'\n")
    clean = tmp_path / "master.log"
    clean.write_text("All users spawned\n")
    assert locust_capacity.log_problem(clean, log) == "worker logged: KeyError: 'x'"
    assert locust_capacity.log_problem(clean) is None

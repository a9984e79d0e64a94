"""locustfile.py under real Locust: real processes on loopback against the reference bridge, bounded in time.

Locust runs as a subprocess (this pytest process is gevent-patched by conftest.py; Locust patches itself).
"""
from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from callers.outcome import Outcome, outcome_of
from tests.loopback import free_port, locust_command
from tests.reference_bridge import launch_bridge

REPO = Path(__file__).resolve().parents[1]
NEEDED_TYPES = {"CONNECT", "GREETING", "TURN", "CALL"}


def _locust(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(locust_command(*args), cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def _calls_on_disk(results_dir: Path) -> list[dict]:
    """A distributed run's calls: all in the master's calls.jsonl, once each; none left on a worker's file."""
    assert not list(results_dir.glob("calls-*.jsonl")), "a worker kept calls the master never acknowledged"
    lines = (results_dir / "calls.jsonl").read_text(encoding="utf-8").splitlines()
    calls = [json.loads(line) for line in lines if line.strip()]
    assert len({call["call_id"] for call in calls}) == len(calls), "a call is twice in calls.jsonl"
    return calls


def _category(call: dict):
    return (call.get("error") or {}).get("category")


def _stats_rows(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as source:
        return list(csv.DictReader(source))



@pytest.fixture(scope="module")
def bridge():
    process = launch_bridge("--voice-rate", "230", ear="none")
    yield process
    process.stop()


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_headless_distributed_run_counts_every_call_and_passes_the_gate(bridge, tmp_path):
    # 30 s of load, then up to 20 s for calls in flight to end by themselves (the rest are cut off and
    # recorded as cancelled): both ways a call can end with the run must reach the master's totals.
    run = _locust("--headless", "-u", "6", "-r", "3", "-t", "30s", "--stop-timeout", "20", "--processes", "2",
                  "--host", bridge.url, "--csv", str(tmp_path / "run"), "--results-dir", str(tmp_path / "res"),
                  "--success-threshold", "0.5", timeout=130)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "GOAL SUMMARY" in run.stdout and "CI gate passed" in run.stdout
    # The locustfile's capacity shape stays out of a plain run (and so does Locust's "-u is ignored" warning).
    assert "Shape test" not in output and "no impact on LoadShapes" not in output

    rows = _stats_rows(tmp_path / "run")
    types = {row["Type"] for row in rows if row["Name"] != "Aggregated"}
    assert NEEDED_TYPES <= types, types
    turn_rows = [row for row in rows if row["Type"] == "TURN"]
    assert all(row["95%"] not in ("", "N/A") for row in turn_rows)

    calls = _calls_on_disk(tmp_path / "res")
    completed = [call for call in calls if _category(call) != "cancelled"]
    assert completed, "no call completed within the run"
    report = json.loads((tmp_path / "res" / "goals.json").read_text(encoding="utf-8"))
    total = report["total"]
    assert total["calls"] - total["cancelled"] == len(completed)
    assert total["calls"] == len(calls)
    assert total["successes"] == sum(1 for call in calls if call["success"])
    assert {name: counts["calls"] for name, counts in report["by_personality"].items()} == \
        dict(Counter(call["personality"] for call in calls))
    assert report["workers_without_final_report"] == [] and len(report["workers"]) == 2
    assert report["gate"]["passed"] and report["gate"]["p95_turn_ms"] is not None
    # Locust counted exactly the judged calls as CALL requests (cancelled ones are not failures) and the calls
    # the caller itself broke (an overloaded machine's simulator_error) as CALLER_ERROR (callers/outcome.py).
    outcomes = Counter(outcome_of(bool(call["success"]), _category(call)) for call in calls)
    call_requests = sum(int(row["Request Count"]) for row in rows if row["Type"] == "CALL")
    assert call_requests == sum(count for outcome, count in outcomes.items() if outcome.judged)
    caller_errors = sum(int(row["Request Count"]) for row in rows if row["Type"] == "CALLER_ERROR")
    assert caller_errors == outcomes[Outcome.CALLER_ERROR]


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_gate_fails_when_the_bridge_rejects_every_call(tmp_path):
    rejecting = launch_bridge("--voice-rate", "230", "--token", "x", ear="none")
    try:
        run = _locust("--headless", "-u", "4", "-r", "4", "-t", "6s", "--processes", "2", "--host", rejecting.url,
                      "--results-dir", str(tmp_path / "res"), "--success-threshold", "0.5", timeout=80)
    finally:
        rejecting.stop()
    assert run.returncode == 1, (run.stdout + run.stderr)[-4000:]
    assert "CI gate FAILED: success rate 0.0%" in run.stderr
    assert "below the threshold 50.0%" in run.stderr
    calls = _calls_on_disk(tmp_path / "res")
    # A call the run's end cuts off mid-upgrade is `cancelled` (docs/metrics.md: neither success nor failure),
    # at most one per user.
    categories = [_category(call) for call in calls]
    assert "handshake_rejected" in categories, categories
    assert set(categories) <= {"handshake_rejected", "cancelled"}, [call.get("error") for call in calls]
    assert categories.count("cancelled") <= 4, categories
    report = json.loads((tmp_path / "res" / "goals.json").read_text(encoding="utf-8"))
    assert report["total"]["calls"] == len(calls)
    assert report["total"]["failures"] == categories.count("handshake_rejected")
    assert report["total"]["cancelled"] == categories.count("cancelled")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("host, reason", [
    ("ws://127.0.0.1:1/ws/telephony", "connection refused (is the bridge running?)"),
    ("http://127.0.0.1:8000/ws/telephony", "must be a ws:// or wss:// bridge URL"),
])
def test_bad_host_is_one_clear_line_and_a_nonzero_exit(host, reason, tmp_path):
    run = _locust("--headless", "-u", "2", "-r", "2", "-t", "5s", "--processes", "2", "--host", host,
                  "--results-dir", str(tmp_path), timeout=50)
    assert run.returncode == 2
    problems = [line for line in run.stderr.splitlines() if line.startswith("locust: ")]
    assert len(problems) == 1 and reason in problems[0], run.stderr
    assert "Traceback" not in run.stderr


def _get(url: str, method: str = "GET") -> tuple[str, str]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers.get("Content-Type", ""), response.read().decode("utf-8")


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_web_ui_goals_tab_and_csv(bridge, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", "locustfile.py", "--web-host", "127.0.0.1", "--web-port", str(port),
         "--autostart", "-u", "2", "-r", "2", "--host", bridge.url, "--results-dir", str(tmp_path / "res")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _, index = _get(base + "/")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        assert '"extended_tabs"' in index and '"Goals"' in index and "/goals/csv" in index
        time.sleep(3)  # the callers are dialling
        _, stats = _get(base + "/stats/requests")
        extended = json.loads(stats)["extended_stats"]
        assert extended[0]["key"] == "goals" and extended[0]["data"][0]["group"] == "total"
        _, stopped = _get(base + "/stop", "POST")  # ends both calls in flight: they become `cancelled`
        assert json.loads(stopped)["success"]
        content_type, table = _get(base + "/goals/csv")
        assert content_type.startswith("text/csv")
        rows = list(csv.DictReader(table.splitlines()))
        assert rows[0]["group"] == "total" and int(rows[0]["calls"]) >= 2 and int(rows[0]["cancelled"]) >= 2
        assert {row["name"] for row in rows if row["group"] == "personality"}
        assert (tmp_path / "res" / "goals.json").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# ---- capacity search (--shape capacity) ------------------------------------------------------------------

# The agent thinks this long before every answer, so every TURN takes at least this long.
THINK_MS = 300
# Impatient and tech-savvy callers on the quick_test mix finish a call in about 20-30 s against a fast-talking
# agent, so a 30 s step has completed calls to judge.
QUICK_CALLERS = ("--test-config", "quick_test", "ImpatientCaller", "TechSavvyCaller")


@pytest.fixture(scope="module")
def thinking_bridge():
    process = launch_bridge("--voice-rate", "400", "--latency-ms", str(THINK_MS), ear="none")
    yield process
    process.stop()


def _capacity(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return _locust("--headless", "-r", "10", "--shape", "capacity", *QUICK_CALLERS, *args, timeout=timeout)


def _user_counts(prefix: Path) -> list[int]:
    """The distinct user counts the run went through, in order, from Locust's own stats history."""
    with open(f"{prefix}_stats_history.csv", encoding="utf-8") as source:
        counts = [int(row["User Count"]) for row in csv.DictReader(source) if row["Name"] == "Aggregated"]
    return [count for index, count in enumerate(counts) if count and (index == 0 or counts[index - 1] != count)]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_capacity_search_steps_up_to_the_max_and_reports_each_step(thinking_bridge, tmp_path):
    run = _capacity("--processes", "2", "--capacity-start", "4", "--capacity-step", "2", "--capacity-max", "6",
                    "--capacity-step-s", "30", "--host", thinking_bridge.url, "--csv", str(tmp_path / "run"),
                    "--results-dir", str(tmp_path / "res"), timeout=100)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "CAPACITY SEARCH: 4 to 6 callers in steps of 2 every 30 s" in run.stdout
    assert "capacity: at least 6 concurrent callers" in run.stdout and "capacity search passed" in run.stdout
    assert _user_counts(tmp_path / "run") == [4, 6]  # Locust really ran each step's callers

    report = json.loads((tmp_path / "res" / "capacity.json").read_text(encoding="utf-8"))
    assert report["stopped_by"] == "max_reached" and report["capacity_users"] == 6
    assert report["targets"] == {"success_rate": 0.8, "p95_turn_ms": 1500.0}  # the defaults: no gate was set
    steps = report["steps"]
    assert [step["users"] for step in steps] == [4, 6] and all(step["met"] for step in steps)
    for step in steps:
        assert step["calls"] >= 1 and step["success_rate"] >= 0.8 and step["turns"] >= 1
        assert THINK_MS <= step["p95_turn_ms"] <= 1500  # TURN latencies, the agent's think time included
    # The steps hold the calls judged before the search ended (the workers' reports were fetched for it).
    call_requests = sum(int(row["Request Count"]) for row in _stats_rows(tmp_path / "run") if row["Type"] == "CALL")
    assert 1 <= sum(step["calls"] for step in steps) <= call_requests
    goals_report = json.loads((tmp_path / "res" / "goals.json").read_text(encoding="utf-8"))
    assert goals_report["gate"]["capacity_users"] == 6 and goals_report["gate"]["passed"]


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_capacity_search_stops_at_the_first_step_that_misses_a_target(thinking_bridge, tmp_path):
    # Every answer takes THINK_MS, so a p95 limit below it fails the very first step, in a single process.
    run = _capacity("--capacity-start", "2", "--capacity-step", "2", "--capacity-max", "6",
                    "--capacity-step-s", "12", "--max-p95-turn-ms", str(THINK_MS // 2), "--host", thinking_bridge.url,
                    "--results-dir", str(tmp_path / "res"), timeout=50)
    assert run.returncode == 1, (run.stdout + run.stderr)[-4000:]
    assert "capacity search FAILED: no step met both targets; 2 missed:" in run.stderr
    report = json.loads((tmp_path / "res" / "capacity.json").read_text(encoding="utf-8"))
    assert report["stopped_by"] == "target_missed" and report["capacity_users"] is None
    assert [step["users"] for step in report["steps"]] == [2]
    missed = report["steps"][0]
    assert not missed["met"] and missed["p95_turn_ms"] >= THINK_MS
    assert any(reason.startswith("p95 TURN") and f"above {THINK_MS // 2} ms" in reason for reason in missed["reasons"])


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_run_time_ends_a_capacity_search_unfinished(thinking_bridge, tmp_path):
    # Locust leaves -t to a shape in a headless run; the capacity shape honours it.
    started = time.monotonic()
    run = _capacity("-t", "4s", "--capacity-step-s", "60", "--host", thinking_bridge.url,
                    "--results-dir", str(tmp_path / "res"), timeout=50)
    assert time.monotonic() - started < 30, "the search ran past -t"
    assert run.returncode == 1, (run.stdout + run.stderr)[-4000:]
    assert "capacity search FAILED: unknown: the run ended before its first step was over" in run.stderr
    report = json.loads((tmp_path / "res" / "capacity.json").read_text(encoding="utf-8"))
    assert report["stopped_by"] == "run_ended" and report["steps"] == [] and report["capacity_users"] is None


@pytest.mark.timeout(60)
def test_a_bad_capacity_plan_is_one_clear_line_and_a_nonzero_exit(tmp_path):
    run = _locust("--headless", "--processes", "2", "--shape", "capacity", "--capacity-start", "10",
                  "--capacity-max", "5", "--host", "ws://127.0.0.1:1/ws/telephony", "--results-dir", str(tmp_path),
                  timeout=50)
    assert run.returncode == 2
    problems = [line for line in run.stderr.splitlines() if line.startswith("locust: ")]
    assert problems == ["locust: --capacity-max (5) must be at least --capacity-start (10)"], run.stderr
    assert "Traceback" not in run.stderr

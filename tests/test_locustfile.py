"""locustfile.py under real Locust: real processes on loopback against the reference bridge, bounded in time.

Locust runs as a subprocess (this pytest process is gevent-patched by conftest.py; Locust patches itself).
"""
from __future__ import annotations

import csv
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.reference_bridge import launch_bridge

REPO = Path(__file__).resolve().parents[1]
NEEDED_TYPES = {"CONNECT", "GREETING", "TURN", "CALL"}


def _locust(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "locust", "-f", "locustfile.py", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def _calls_on_disk(results_dir: Path) -> list[dict]:
    calls = []
    for path in sorted(results_dir.glob("calls-*.jsonl")):
        calls += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return calls


def _category(call: dict):
    return (call.get("error") or {}).get("category")


def _stats_rows(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as source:
        return list(csv.DictReader(source))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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

    rows = _stats_rows(tmp_path / "run")
    types = {row["Type"] for row in rows if row["Name"] != "Aggregated"}
    assert NEEDED_TYPES <= types, types
    turn_rows = [row for row in rows if row["Type"] == "TURN"]
    assert all(row["95%"] not in ("", "N/A") for row in turn_rows)

    files = sorted((tmp_path / "res").glob("calls-*.jsonl"))
    assert len(files) == 2, files  # one per worker process, none from the master
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
    # Locust counted exactly the completed calls as CALL requests (cancelled ones are not failures).
    call_requests = sum(int(row["Request Count"]) for row in rows if row["Type"] == "CALL")
    assert call_requests == len(completed)


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
    assert calls and all(_category(call) == "handshake_rejected" for call in calls)
    report = json.loads((tmp_path / "res" / "goals.json").read_text(encoding="utf-8"))
    assert report["total"]["calls"] == len(calls) and report["total"]["failures"] == len(calls)


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
    port = _free_port()
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

"""Crash safety: a `kill -9` of caller_cli.py in the middle of a batch loses at most the calls in flight.

The bridge's truth log is the independent record of which calls existed and when each ended, so the test
can tell a call that finished before the kill (it must be on disk, intact) from one cut off by it.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from callers.results import CALLS_FILE, CallResult, ResultWriter, read_results
from tests.loopback import free_port
from tests.reference_bridge import REPO_ROOT, launch_bridge

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

CALLS = 8
MAX_CONCURRENT = 3
# Kill once this many calls are on disk, plus a moment, so calls are surely mid-conversation.
KILL_AFTER_RESULTS = 3
KILL_DELAY_S = 2.0
WAIT_RESULTS_S = 150.0
TRUTH_WAIT_S = 10.0
TRUTH_SETTLE_S = 1.0
# From the bridge ending a call to its result being on disk the caller closes the socket (waiting at most
# CLOSE_WAIT_S = 1 s for the bridge's close) and fsyncs one line; a call the bridge ended longer than this
# before the kill was finished, not in flight.
WRITE_GRACE_S = 2.0


def batch_file(path: Path) -> Path:
    kinds = ("general_inquiry", "account_inquiry", "complaint", "card_replacement")
    entries = [{"name": f"crash-{index}", "type": "custom", "personality": "normal",
                "scenario_type": kinds[index % len(kinds)], "timeout": 90} for index in range(CALLS)]
    path.write_text(json.dumps({"scenarios": entries}))
    return path


def lines_on_disk(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def settled_truth(path: Path) -> dict[str, dict]:
    """The bridge's calls once its log stops growing: the kill closed the in-flight sockets, and the bridge
    logs each of those calls as dropped when it notices."""
    deadline = time.monotonic() + TRUTH_WAIT_S
    count, stable_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        lines = lines_on_disk(path)
        if len(lines) != count:
            count, stable_since = len(lines), time.monotonic()
        elif time.monotonic() - stable_since >= TRUTH_SETTLE_S:
            break
        time.sleep(0.1)
    return {call["conversation_id"]: call for call in map(json.loads, lines_on_disk(path))}


def test_kill_9_mid_batch_loses_only_the_calls_in_flight(tmp_path: Path) -> None:
    truth_path = tmp_path / "truth.jsonl"
    bridge = launch_bridge("--truth-log", str(truth_path), "--voice-rate", "450", ear="none",
                           stderr_path=tmp_path / "bridge.stderr")
    calls = tmp_path / "out" / CALLS_FILE
    proc = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "caller_cli.py"), "--batch", str(batch_file(tmp_path / "batch.json")),
         "--parallel", "--max-concurrent", str(MAX_CONCURRENT), "--bridge-url", bridge.url, "--ear", "alttext",
         "--seed", "5", "--output", str(calls.parent)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + WAIT_RESULTS_S
        while len(lines_on_disk(calls)) < KILL_AFTER_RESULTS:
            assert proc.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline, "too few calls finished"
            time.sleep(0.05)
        time.sleep(KILL_DELAY_S)
        killed_at = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
        on_disk = lines_on_disk(calls)
        truth = settled_truth(truth_path)
    finally:
        if proc.poll() is None:
            proc.kill()
        bridge.stop()

    results = list(read_results(calls))
    assert len(results) == len(on_disk) >= KILL_AFTER_RESULTS, "a line on disk is torn or unreadable"
    assert all(json.loads(line)["call_id"] for line in on_disk)
    written = {result.call_id for result in results}
    assert written <= set(truth), "a result for a call the bridge never saw"
    for result in results:
        assert result.success and truth[result.call_id]["hung_up_by"] in ("bot", "caller"), result.error
    in_flight = set(truth) - written
    assert 1 <= len(in_flight) <= MAX_CONCURRENT, (len(in_flight), "calls missing from disk")
    for call_id in in_flight:
        ended = truth[call_id]["ended_at"]
        assert ended > killed_at - WRITE_GRACE_S, f"call {call_id} ended {killed_at - ended:.1f} s before the kill"


def test_read_results_skips_a_torn_last_line(tmp_path: Path, caplog) -> None:
    """What a writer cut off inside os.write (a full disk, a power cut before fsync) leaves: the complete lines
    are read, the torn one skipped. Lines are pure ASCII (non-ASCII text is \\u-escaped), so a tear can never
    split a UTF-8 sequence and make the whole file undecodable."""
    writer = ResultWriter(tmp_path / CALLS_FILE)
    for index in range(3):
        writer.write(CallResult(call_id=f"call-{index}", caller_name="Jos\u00e9 Mu\u00f1oz", personality="normal",
                                scenario="s", scenario_type="complaint", started_at="2024-01-01T00:00:00+00:00",
                                bridge="ws://b", greeting_text="Caf\u00e9 \u2615 bank"))
    whole = (tmp_path / CALLS_FILE).read_bytes()
    assert whole.isascii()
    last = whole.splitlines(keepends=True)[-1]
    for cut in (1, len(last) // 2, len(last) - 2):  # torn anywhere, with or without the closing brace
        torn = tmp_path / f"torn-{cut}.jsonl"
        torn.write_bytes(whole + last[:cut])
        caplog.clear()
        read = list(read_results(torn))
        assert [r.call_id for r in read] == ["call-0", "call-1", "call-2"], cut
        assert [record.getMessage() for record in caplog.records] == [
            f"{torn} line 4 skipped: not a call result (a torn or corrupt line: JSONDecodeError)"], cut
        assert read[0].caller_name == "Jos\u00e9 Mu\u00f1oz"


LOCUST_RUN_S = 30
LOCUST_USERS = 4
LOCUST_WAIT_S = 120.0



def _locust(*args: str, log: Path) -> subprocess.Popen:
    with open(log, "wb") as output:
        return subprocess.Popen([sys.executable, "-m", "locust", "-f", "locustfile.py", *args], cwd=REPO_ROOT,
                                stdout=output, stderr=subprocess.STDOUT)


def test_kill_9_of_a_locust_worker_loses_only_its_calls_in_flight_and_the_run_goes_on(tmp_path: Path) -> None:
    """A distributed run (master + 2 worker processes); once the master holds a call, a worker is killed with
    SIGKILL. Every call that finished before the kill is in the master's calls.jsonl (checked against the
    bridge's log), once; the other worker goes on calling, and the master ends the run by itself and writes
    goals.json counting exactly the calls it holds."""
    truth_path = tmp_path / "truth.jsonl"
    results_dir = tmp_path / "results"
    master_file = results_dir / CALLS_FILE
    bridge = launch_bridge("--truth-log", str(truth_path), "--voice-rate", "450", ear="none",
                           stderr_path=tmp_path / "bridge.stderr")
    port = free_port()
    common = ("--results-dir", str(results_dir), "--ear", "alttext")
    master = _locust("--headless", "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                     "--expect-workers", "2", "-u", str(LOCUST_USERS), "-r", str(LOCUST_USERS),
                     "-t", f"{LOCUST_RUN_S}s", "--stop-timeout", "5", "--host", bridge.url, *common,
                     log=tmp_path / "master.log")
    workers = [_locust("--worker", "--master-host", "127.0.0.1", "--master-port", str(port), *common,
                       log=tmp_path / f"worker-{index}.log") for index in range(2)]
    try:
        deadline = time.monotonic() + LOCUST_WAIT_S
        while not lines_on_disk(master_file):
            assert master.poll() is None and all(worker.poll() is None for worker in workers), (
                (tmp_path / "master.log").read_text()[-3000:])
            assert time.monotonic() < deadline, "no call reached the master"
            time.sleep(0.05)
        time.sleep(KILL_DELAY_S)
        killed_at, killed_wall = time.monotonic(), time.time()
        os.kill(workers[0].pid, signal.SIGKILL)
        assert workers[0].wait(10) == -signal.SIGKILL
        master.wait(LOCUST_WAIT_S)
        truth = settled_truth(truth_path)
    finally:
        for proc in (master, *workers):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        bridge.stop()

    master_log = (tmp_path / "master.log").read_text()
    assert master.returncode in (0, 1) and "Traceback" not in master_log, master_log[-3000:]
    held = list(read_results(master_file))
    assert len(held) == len(lines_on_disk(master_file)), "a line of calls.jsonl is torn or unreadable"
    on_file = {r.call_id for r in held}
    assert len(on_file) == len(held), "a call is twice in calls.jsonl"
    # Only the surviving worker can have sent a call that ended after the kill (its users go on to the end).
    assert any(datetime.fromisoformat(r.started_at).timestamp() + r.duration_s > killed_wall + 1.0 for r in held), (
        "no call of the other worker ended after the kill")
    assert not list(results_dir.glob("calls-*.jsonl")), "the surviving worker kept unacknowledged calls"
    finished_before_kill = {call_id for call_id, call in truth.items()
                            if call["hung_up_by"] in ("bot", "caller") and call["ended_at"] < killed_at - WRITE_GRACE_S}
    assert finished_before_kill <= on_file, f"finished calls missing on the master: {finished_before_kill - on_file}"
    report = json.loads((results_dir / "goals.json").read_text(encoding="utf-8"))
    assert report["total"]["calls"] == len(held)
    assert report["total"]["successes"] == sum(1 for r in held if r.success)

"""The fault matrix through the other two faces: batch_caller_test.py and a distributed Locust run, against one
reference bridge that spoils a share of calls with representative faults (tests/test_fault_matrix.py runs
every mode through caller_cli.py).

Which call suffers which fault is a pure function of the bridge's seed and the call's conversation id, so
every call on disk is checked against the plan's own prediction: its error category must be the one the fault
prescribes (docs/metrics.md), clean calls must succeed, the run must finish by itself, and every call started
must be on disk. Both runs go at once; the table prints at the end of the module.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pytest

from bridge.faults import Fault, FaultPlan, FaultSpec
from tests.loopback import locust_command
from tests.reference_bridge import REPO_ROOT, BridgeProcess, launch_bridge
from tests.terminal import show_lines

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SEED = 11
SPECS = (FaultSpec(Fault.DROP, 0.2), FaultSpec(Fault.REJECT, 0.2), FaultSpec(Fault.SILENCE, 0.2),
         FaultSpec(Fault.GARBAGE, 0.2))
# What each fault (None: a clean call) must leave in the CallResult.
EXPECTED: dict[Optional[Fault], Optional[str]] = {
    None: None, Fault.GARBAGE: None, Fault.DROP: "bridge_closed", Fault.REJECT: "handshake_rejected",
    Fault.SILENCE: "no_answer",
}
BATCH_CALLS = 10
LOCUST_USERS = 6
LOCUST_RUN = "15s"
# Calls in flight when the run ends may finish (a clean call takes ~20 s), so every kind of outcome shows.
LOCUST_STOP_TIMEOUT = "25"
RUN_TIMEOUT_S = 180.0
MIX = ("general_inquiry", "account_inquiry", "complaint")


@dataclass
class RunnerRun:
    name: str
    proc: subprocess.Popen
    workdir: Path
    started: float
    ended: Optional[float] = None

    @property
    def output(self) -> str:
        return (self.workdir / "output.txt").read_text(errors="replace")

    def calls(self) -> list[dict]:
        return [json.loads(line) for path in sorted((self.workdir / "results").glob("calls*.jsonl"))
                for line in path.read_text().splitlines() if line.strip()]


def _start(name: str, workdir: Path, command: list[str]) -> RunnerRun:
    workdir.mkdir(parents=True)
    with open(workdir / "output.txt", "wb") as output:
        proc = subprocess.Popen(command, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT)
    return RunnerRun(name, proc, workdir, time.monotonic())


def _batch_file(path: Path) -> Path:
    entries = [{"name": f"fault-{index:02d}", "type": "custom", "personality": "normal",
                "scenario_type": MIX[index % len(MIX)], "timeout": 90} for index in range(BATCH_CALLS)]
    path.write_text(json.dumps({"scenarios": entries}))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory, request) -> Iterator[dict[str, RunnerRun]]:
    root = tmp_path_factory.mktemp("runner-matrix")
    faults = [arg for spec in SPECS for arg in ("--fault", str(spec))]
    bridge: BridgeProcess = launch_bridge(*faults, "--seed", str(SEED), "--voice-rate", "450", ear="none",
                                          stderr_path=root / "bridge.stderr")
    started: dict[str, RunnerRun] = {}
    try:
        started["batch"] = _start("batch", root / "batch", [
            sys.executable, "batch_caller_test.py", "--scenarios", str(_batch_file(root / "batch.json")),
            "--parallel", "--max-concurrent", str(BATCH_CALLS), "--bridge-url", bridge.url, "--ear", "alttext",
            "--seed", "3", "--results-dir", str(root / "batch" / "results"), "--output",
            str(root / "batch" / "report")])
        started["locust"] = _start("locust", root / "locust", locust_command(
            "--headless", "-u", str(LOCUST_USERS), "-r", str(LOCUST_USERS), "-t", LOCUST_RUN,
            "--stop-timeout", LOCUST_STOP_TIMEOUT, "--processes", "2", "--host", bridge.url,
            "--test-config", "all", "--results-dir", str(root / "locust" / "results"),
            "--json-file", str(root / "locust" / "run")))
        deadline = time.monotonic() + RUN_TIMEOUT_S
        for run in started.values():
            try:
                run.proc.wait(max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                run.proc.kill()
                run.proc.wait()
            run.ended = time.monotonic()
        yield started
    finally:
        for run in started.values():
            if run.proc.poll() is None:
                run.proc.kill()
        bridge.stop()
        if started:
            _print_table(request.config, started)


PLAN = FaultPlan(SPECS, seed=SEED)


def mismatches(calls: list[dict]) -> list[str]:
    """Every call whose outcome is not what its fault prescribes (cut-off calls of a Locust run excepted)."""
    problems = []
    for call in calls:
        category = call["error"]["category"] if call["error"] else None
        if category == "cancelled":
            continue
        fault = PLAN.for_call(call["call_id"])
        if category != EXPECTED[fault] or (EXPECTED[fault] is None and not call["success"]):
            problems.append(f"{call['call_id'][:8]} fault {fault and fault.value}: got {category}, "
                            f"success {call['success']} ({call['error']})")
    return problems


def _print_table(config, runs: dict[str, RunnerRun]) -> None:
    header = f"{'runner':<8} {'fault':<10} {'expected':<20} {'calls':>5} {'as expected':>11}  cut off"
    lines = ["", f"FAULT MATRIX (batch runner and Locust; bridge --fault {' --fault '.join(map(str, SPECS))})",
             header, "-" * len(header)]
    for run in runs.values():
        calls = run.calls()
        by_fault: dict[Optional[Fault], list[dict]] = {}
        for call in calls:
            by_fault.setdefault(PLAN.for_call(call["call_id"]), []).append(call)
        for fault, expected in EXPECTED.items():
            group = by_fault.get(fault, [])
            judged = [c for c in group if not (c["error"] and c["error"]["category"] == "cancelled")]
            lines.append(f"{run.name:<8} {fault.value if fault else 'none':<10} {expected or 'success':<20} "
                         f"{len(judged):>5} {len(judged) - len(mismatches(judged)):>11}  {len(group) - len(judged)}")
        lines.append(f"{run.name:<8} exit code {run.proc.returncode}, {len(calls)} calls on disk, "
                     f"{(run.ended or time.monotonic()) - run.started:.0f} s")
    show_lines(config, lines)


def test_batch_runner_records_every_fault_with_its_category(runs) -> None:
    run = runs["batch"]
    calls = run.calls()
    assert "Traceback" not in run.output, run.output[-3000:]
    assert len(calls) == BATCH_CALLS == len({c["call_id"] for c in calls}), "results on disk != calls started"
    assert mismatches(calls) == []
    faulty = [c for c in calls if EXPECTED[PLAN.for_call(c["call_id"])] is not None]
    assert faulty, "the seed put no faulty call in the batch"
    assert run.proc.returncode == 0, run.output[-2000:]  # failed calls alone never fail a batch
    report = json.loads((run.workdir / "report.json").read_text())
    assert report["summary"]["total"] == BATCH_CALLS and report["summary"]["failed"] == len(faulty)


def test_locust_records_every_fault_with_its_category_and_counts_every_call(runs) -> None:
    run = runs["locust"]
    calls = run.calls()
    assert "Traceback" not in run.output, run.output[-3000:]
    assert run.proc.returncode is not None and run.ended - run.started < RUN_TIMEOUT_S
    assert mismatches(calls) == []
    categories = Counter(c["error"]["category"] if c["error"] else "success" for c in calls)
    assert set(categories) & {"bridge_closed", "handshake_rejected", "no_answer"}, categories
    goals = json.loads((run.workdir / "results" / "goals.json").read_text())
    assert goals["total"]["calls"] == len(calls), "results on disk != calls counted by the master"
    # Locust's own statistics (--json-file: its CSV writer can race the shutdown in this Locust version).
    entries = json.loads((run.workdir / "run.json").read_text())
    call_entries = [entry for entry in entries if entry["method"] == "CALL"]
    completed = [c for c in calls if not (c["error"] and c["error"]["category"] == "cancelled")]
    assert sum(entry["num_requests"] for entry in call_entries) == len(completed)
    assert sum(entry["num_failures"] for entry in call_entries) == sum(not c["success"] for c in completed)

"""batch_caller_test.py as a user and a CI job run it: plans, progress, exit codes, and a real parallel batch
against the reference bridge (calls overlap in time, every call is written, the seed's CI snippet works)."""
from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from callers.app.batch import BatchPlan, Progress
from callers.app.cli import batch_plan, build_batch_parser
from callers.results import CallResult
from callers.scenario.scenarios import load_scenarios
from tests.loopback import free_port
from tests.reference_bridge import REPO_ROOT, launch_bridge
from tests.reports.test_json_report import SEED_CI_SNIPPET

SCRIPT = REPO_ROOT / "batch_caller_test.py"
HEADER = "CALLER AGENT BATCH TEST REPORT"
TWO_ENTRIES = {"scenarios": [
    {"name": "Normal Inquiry", "type": "predefined", "scenario": "normal_account_inquiry", "timeout": 30},
    {"name": "Angry Refund", "type": "custom", "personality": "angry", "scenario_type": "complaint", "timeout": 30},
]}


def run_batch(*args, cwd, timeout=90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)



def result(name: str, success: bool, category: str = None) -> CallResult:
    return CallResult(call_id=name, caller_name=name, personality="normal", scenario="normal_account_inquiry",
                      scenario_type="account_inquiry", started_at="2026-11-25T10:00:00.000+00:00", bridge="ws://x",
                      success=success, error={"category": category, "message": "boom"} if category else None,
                      turns=3, goals_achieved=2, goals_total=3, duration_s=12.5)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# ---- plan and progress (no calls) -------------------------------------------------------------------------

def test_configuration_settings_apply_unless_flags_override():
    parser = build_batch_parser()
    quick = batch_plan(parser.parse_args(["--config", "quick_test"]))
    assert (quick.parallel, quick.concurrency, len(quick.calls())) == (False, 1, 3)
    stress = batch_plan(parser.parse_args(["--config", "stress_test"]))
    assert (stress.parallel, stress.max_concurrent) == (True, 20)
    assert batch_plan(parser.parse_args(["--config", "stress_test", "--max-concurrent", "3"])).concurrency == 3
    assert batch_plan(parser.parse_args(["--config", "stress_test", "--no-parallel"])).concurrency == 1
    forced = batch_plan(parser.parse_args(["--config", "quick_test", "--parallel"]))
    assert (forced.parallel, forced.concurrency) == (True, 5)
    everything = batch_plan(parser.parse_args(["--scenarios", "scenarios.json"]))
    assert len(everything.calls()) == len(load_scenarios().entries)


def test_repeat_places_every_entry_before_repeating_any():
    entries = load_scenarios().configuration("quick_test").entries
    plan = BatchPlan(entries, repeat=2)
    assert [entry.name for entry in plan.calls()] == [entry.name for entry in entries] * 2


def test_progress_on_a_terminal_is_one_line_rewritten_in_place():
    screen = FakeTerminal()
    now = [100.0]
    progress = Progress(3, screen, clock=lambda: now[0])
    progress.call_started()
    progress.call_started()
    assert screen.getvalue().endswith("\r\x1b[2K0/3 done, 2 running, 0 failed, success n/a (0/0), 0s")
    now[0] = 142.0
    progress.call_finished(result("first", True))
    progress.call_finished(result("second", False, "no_answer"))
    progress.close()
    lines = screen.getvalue().split("\n")
    assert lines[0].endswith("SUCCESS first (normal, normal_account_inquiry): 12.5s, 3 turns, goals 2/3")
    assert lines[1].endswith("NO_ANSWER second (normal, normal_account_inquiry): 12.5s, 3 turns, goals 2/3; boom")
    assert lines[2].endswith("2/3 done, 0 running, 1 failed, success 50.0% (1/2), 42s")
    assert "\r" in lines[1]  # the status line was cleared before the call's line was printed over it


def test_progress_elsewhere_is_plain_lines_with_the_counts():
    log = io.StringIO()
    progress = Progress(3, log)
    progress.open()
    for _ in range(3):
        progress.call_started()
    progress.call_finished(result("a", True))
    progress.call_finished(result("b", False, "simulator_error"))
    progress.call_finished(result("c", False, "cancelled"))
    progress.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == 3
    assert lines[0].startswith("[1/3 done, 2 running, 0 failed, success 100.0% (1/1), ") and "] SUCCESS a" in lines[0]
    assert lines[1].startswith("[2/3 done, 1 running, 0 failed, 1 simulator errors, success 100.0% (1/1)")
    assert lines[2].startswith("[3/3 done, 0 running, 0 failed, 1 simulator errors, success 100.0% (1/1)")


# ---- the script: usage, configuration and unreachable bridge ----------------------------------------------

def test_usage_and_configuration_errors_exit_2(tmp_path):
    run = run_batch(cwd=tmp_path)
    assert run.returncode == 2 and "--config NAME" in run.stderr
    run = run_batch("--config", "no_such_config", cwd=tmp_path)
    assert run.returncode == 2 and "no_such_config" in run.stderr and "quick_test" in run.stderr
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**TWO_ENTRIES, "test_configurations": {"smoke": {"scenarios": [0, 7]}}}))
    run = run_batch("--scenarios", broken, "--config", "smoke", cwd=tmp_path)
    assert run.returncode == 2
    assert str(broken) in run.stderr and "test_configurations.smoke" in run.stderr and "scenarios[1]" in run.stderr
    run = run_batch("--config", "quick_test", "--repeat", "0", cwd=tmp_path)
    assert run.returncode == 2 and "--repeat" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_results_directory_holds_one_run(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "calls.jsonl").write_text('{"call_id": "old"}\n')
    run = run_batch("--config", "quick_test", "--results-dir", tmp_path / "run", cwd=tmp_path)
    assert run.returncode == 2 and "already holds calls" in run.stderr


def test_unreachable_bridge_exits_3_and_still_reports(tmp_path):
    entries = tmp_path / "two.json"
    entries.write_text(json.dumps(TWO_ENTRIES))
    url = f"ws://127.0.0.1:{free_port()}/ws/telephony"
    run = run_batch("--scenarios", entries, "--parallel", "--bridge-url", url, "--ear", "alttext", "--token", "s3cret",
                    "--output", tmp_path / "out", "--junit", tmp_path / "junit.xml", "--results-dir", tmp_path / "run",
                    cwd=tmp_path)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "s3cret" not in run.stdout + run.stderr
    assert run.stdout.count("CONNECT_FAILED") == 2 and "[2/2 done, 0 running, 2 failed" in run.stdout
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["summary"]["total"] == 2 and report["summary"]["success_rate"] == 0.0
    assert report["errors"]["connect_failed"]["calls"] == 2
    assert (tmp_path / "out.txt").read_text().startswith(HEADER)
    assert (tmp_path / "junit.xml").read_text().count("<testcase ") == 2


def test_caller_cli_batch_uses_the_same_runner(tmp_path):
    entries = tmp_path / "two.json"
    entries.write_text(json.dumps(TWO_ENTRIES))
    url = f"ws://127.0.0.1:{free_port()}/ws/telephony"
    run = subprocess.run([sys.executable, str(REPO_ROOT / "caller_cli.py"), "--batch", str(entries), "--bridge-url",
                          url, "--ear", "alttext", "--output", str(tmp_path / "out")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=90)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "[1/2 done" in run.stdout and "[2/2 done, 0 running, 2 failed" in run.stdout
    assert len((tmp_path / "out" / "calls.jsonl").read_text().splitlines()) == 2
    assert HEADER in run.stdout  # the batch runner's report, written beside the calls
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["summary"]["total"] == 2 and (tmp_path / "out" / "report.txt").read_text().startswith(HEADER)


# ---- real calls against the reference bridge --------------------------------------------------------------

@pytest.fixture(scope="module")
def bridge():
    process = launch_bridge("--voice-rate", "230", ear="stt")
    yield process.url
    process.stop()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_parallel_batch_against_the_reference_bridge(bridge, tmp_path):
    started = time.monotonic()
    run = run_batch("--config", "quick_test", "--parallel", "--max-concurrent", "4", "--bridge-url", bridge,
                    "--output", tmp_path / "ci_results", "--results-dir", tmp_path / "run", "--seed", "3",
                    cwd=tmp_path, timeout=240)
    elapsed = time.monotonic() - started
    calls = [json.loads(line) for line in (tmp_path / "run" / "calls.jsonl").read_text().splitlines()]
    assert len(calls) == 3 and len({call["call_id"] for call in calls}) == 3, run.stdout + run.stderr
    assert run.returncode == 0, run.stdout + run.stderr  # failed calls are the run's data, not its failure
    # Concurrency: every call was on the line while every other one was.
    starts = [datetime.fromisoformat(call["started_at"]) for call in calls]
    ends = [start + timedelta(seconds=call["duration_s"]) for start, call in zip(starts, calls)]
    assert max(starts) < min(ends), list(zip(starts, ends))
    report = json.loads((tmp_path / "ci_results.json").read_text())
    summary = report["summary"]
    assert summary["total"] == 3
    assert summary["success_rate"] == pytest.approx(sum(call["success"] for call in calls) / summary["judged"])
    assert summary["wall_time_s"] < summary["total_duration_s"]
    snippet = subprocess.run([sys.executable, "-c", SEED_CI_SNIPPET], cwd=tmp_path, capture_output=True, text=True)
    assert snippet.returncode == (0 if summary["success_rate"] >= 0.8 else 1) and snippet.stderr == ""
    assert (tmp_path / "ci_results.txt").read_text().startswith(HEADER + "\n")
    assert run.stdout.count("] ") >= 3 and HEADER in run.stdout  # plain progress lines, then the summary
    print(f"\nparallel quick_test: wall {summary['wall_time_s']:.1f}s for {summary['total_duration_s']:.1f}s of "
          f"calls; process {elapsed:.1f}s")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_interrupt_records_calls_in_flight_as_cancelled(bridge, tmp_path):
    process = subprocess.Popen([sys.executable, str(SCRIPT), "--config", "quick_test", "--parallel", "--bridge-url",
                                bridge, "--ear", "alttext", "--results-dir", str(tmp_path / "run")], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("Running 3 calls")
        time.sleep(3.0)  # all three connected and listening to the greeting
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out + err
    assert "Interrupted: 3 calls recorded, 0 not started" in out and "Traceback" not in err
    calls = [json.loads(line) for line in (tmp_path / "run" / "calls.jsonl").read_text().splitlines()]
    assert [call["error"]["category"] for call in calls] == ["cancelled"] * 3

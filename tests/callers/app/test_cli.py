"""caller_cli.py as a user runs it: exit codes and messages for bad input and unreachable bridges."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.loopback import free_port
from tests.reference_bridge import REPO_ROOT

pytestmark = pytest.mark.timeout(120)


def run_cli(*args: str, cwd=REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO_ROOT / "caller_cli.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=90)



def test_unreachable_bridge_exits_3_naming_url_and_reason(tmp_path):
    url = f"ws://127.0.0.1:{free_port()}/ws/telephony"
    run = run_cli("--scenario", "normal_account_inquiry", "--bridge-url", url, "--output", str(tmp_path / "out"),
                  cwd=tmp_path)
    assert run.returncode == 3, run.stdout + run.stderr
    assert url in run.stdout and "refused" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    (line,) = (tmp_path / "out" / "calls.jsonl").read_text().splitlines()
    assert json.loads(line)["error"]["category"] == "connect_failed"
    assert (tmp_path / "logs" / "caller_agent.log").exists()


def test_broken_scenarios_file_exits_2_naming_file_entry_and_field(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"scenarios": [
        {"name": "ok", "type": "custom", "personality": "normal", "scenario_type": "complaint", "timeout": 30},
        {"name": "bad", "type": "custom", "personality": "normal", "scenario_type": "teleportation"},
    ]}))
    run = run_cli("--batch", str(broken), cwd=tmp_path)
    assert run.returncode == 2
    assert str(broken) in run.stderr and "scenarios[1]" in run.stderr and "scenario_type" in run.stderr
    assert "Traceback" not in run.stderr


def test_unknown_scenario_and_bad_usage_exit_2(tmp_path):
    run = run_cli("--scenario", "no_such_scenario", cwd=tmp_path)
    assert run.returncode == 2 and "no_such_scenario" in run.stderr
    run = run_cli("--scenario", "angry_complaint", "--batch", "scenarios.json", cwd=tmp_path)
    assert run.returncode == 2
    run = run_cli("--personality", "angry", cwd=tmp_path)
    assert run.returncode == 2 and "--scenario-type" in run.stderr


def test_custom_goal_criterion_and_gate_flags_are_checked_before_dialling(tmp_path):
    custom = ("--personality", "angry", "--scenario-type", "complaint")
    run = run_cli(*custom, "--goal", "Get it confirmed", cwd=tmp_path)
    assert run.returncode == 2 and "argument --goal: 'Get it confirmed' has no words goal tracking" in run.stderr
    run = run_cli(*custom, "--criterion", "fee refunded", "--criterion", "confirmed", cwd=tmp_path)
    assert run.returncode == 2 and "argument --criterion: 'confirmed' has no words" in run.stderr
    run = run_cli("--scenario", "angry_complaint", "--goal", "Get fees removed", cwd=tmp_path)
    assert run.returncode == 2 and "--goal and --criterion describe a custom call" in run.stderr
    run = run_cli("--batch", "scenarios.json", "--success-threshold", "80", cwd=tmp_path)
    assert run.returncode == 2 and "argument --success-threshold: '80' must be at most 1" in run.stderr
    run = run_cli("--batch", "scenarios.json", "--max-p95-turn-ms", "fast", cwd=tmp_path)
    assert run.returncode == 2 and "argument --max-p95-turn-ms: 'fast' is not a number" in run.stderr
    assert "Traceback" not in run.stderr

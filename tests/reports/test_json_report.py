"""The JSON report's shape: what CI scripts and `compare` read."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reports.json_report import report_dict, write_json

# The seed's GitHub Actions step, verbatim apart from the indentation.
SEED_CI_SNIPPET = """
import json
with open('ci_results.json') as f:
    results = json.load(f)
success_rate = results['summary']['success_rate']
if success_rate < 0.8:
    exit(1)
"""


def test_summary_and_breakdowns(analysis):
    report = report_dict(analysis)
    summary = report["summary"]
    assert (summary["total"], summary["successful"], summary["failed"]) == (10, 6, 2)
    assert summary["success_rate"] == pytest.approx(0.75) and 0.0 <= summary["success_rate"] <= 1.0
    assert set(summary["success_rate_ci"]) == {"low", "high"}
    angry = report["breakdowns"]["by_scenario"]["angry_complaint"]
    assert (angry["n"], angry["successes"], angry["rate"]) == (4, 3, 0.75)
    assert angry["ci_low"] < 0.75 < angry["ci_high"]
    elderly = report["breakdowns"]["by_personality"]["elderly"]
    assert (elderly["n"], elderly["calls"], elderly["simulator_errors"], elderly["cancelled"]) == (2, 4, 1, 1)
    assert report["durations"]["median"] == 36.5
    assert report["latency_ms"]["turn"]["p95"] == pytest.approx(920.0)
    assert report["flakiness"]["pass_k"]["passed"] == 2
    assert len(report["flakiness"]["entries"]) == 5


def test_every_call_is_listed(analysis):
    calls = report_dict(analysis)["calls"]
    assert [call["call_id"] for call in calls] == [f"fixture{n:02d}" for n in range(1, 11)]
    seventh = calls[6]
    assert seventh["outcome"] == "agent_failure" and seventh["error"] is None
    assert seventh["unmet_goals"] == ["resolution plan provided"]
    assert calls[7]["error"] == {"category": "no_answer", "message": "agent silent for 12 s"}
    assert calls[0]["turn_latencies_ms"] == [200.0, 300.0, 400.0, 500.0]


def test_file_is_strict_json_and_the_seed_ci_snippet_reads_it(analysis, tmp_path):
    path = write_json(analysis, tmp_path / "ci_results.json")
    json.loads(path.read_text(), parse_constant=lambda name: pytest.fail(f"non-JSON constant {name}"))
    run = subprocess.run([sys.executable, "-c", SEED_CI_SNIPPET], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 1 and run.stderr == ""  # 0.75 < 0.8: the gate fails, cleanly


def test_breakdown_by_scenario_type(mixed):
    breakdowns = report_dict(mixed)["breakdowns"]
    assert list(breakdowns) == ["by_personality", "by_scenario_type", "by_scenario"]
    types = breakdowns["by_scenario_type"]
    assert list(types) == ["account_inquiry", "card_replacement", "complaint", "unknown"]
    complaint = types["complaint"]
    assert (complaint["n"], complaint["calls"], complaint["successes"], complaint["failed"]) == (4, 4, 3, 1)
    assert complaint["rate"] == 0.75 and complaint["avg_duration_s"] == pytest.approx(43.25)
    assert complaint["ci_low"] == pytest.approx(0.30064, abs=2e-4)
    inquiry = types["account_inquiry"]
    assert (inquiry["n"], inquiry["calls"], inquiry["simulator_errors"], inquiry["rate"]) == (2, 3, 1, 1.0)
    assert types["card_replacement"]["rate"] == 0.5
    unknown = types["unknown"]
    assert (unknown["n"], unknown["cancelled"], unknown["rate"], unknown["ci_low"]) == (0, 1, None, None)
    assert len(breakdowns["by_scenario"]) == 5
    assert report_dict(mixed)["calls"][9]["scenario_type"] == "unknown"

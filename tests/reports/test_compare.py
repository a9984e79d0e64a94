"""`compare`: flags a regression only when the data supports it, and sets the exit code for CI."""
from __future__ import annotations

import copy
import json
import subprocess
import sys

from reports.compare import compare_reports, load_report, render_comparison
from reports.json_report import report_dict
from tests.reference_bridge import REPO_ROOT
from tests.reports.conftest import FIXTURE, FIXTURE_DIR


def worse_run(tmp_path):
    """The fixture twice over (20 calls), only 2 successes left and every latency 50% slower."""
    lines = []
    successes = 0
    for copy_index in range(2):
        for line in FIXTURE.read_text().splitlines():
            call = json.loads(line)
            call["call_id"] += f"-b{copy_index}"
            if call["success"]:
                call["success"] = successes < 2
                successes += 1
            for turn in call["turn_records"]:
                if turn["response_latency_ms"] is not None:
                    turn["response_latency_ms"] *= 1.5
            lines.append(json.dumps(call))
    path = tmp_path / "worse"
    path.mkdir()
    (path / "calls.jsonl").write_text("\n".join(lines) + "\n")
    return path


def test_constructed_regression_is_flagged(tmp_path, analysis):
    baseline = report_dict(analysis)
    candidate = load_report(worse_run(tmp_path))
    # B: 2 of 16 judged = 12.5%, below A's interval (40.9%..92.9%); A's 75% above B's (about 3.5%..36%).
    assert candidate["summary"]["success_rate"] == 2 / 16
    comparison = compare_reports(baseline, candidate, "A", "B")
    overall = comparison.rows[0]
    assert overall.scope == "overall"
    assert any("success rate dropped 75.0% -> 12.5%" in flag for flag in overall.flags)
    # Every latency x1.5; the duplicated sample interpolates a little differently: 920 -> 1402 ms (+52%).
    assert any(flag.startswith("TURN p95 up 52% (920 -> 1402 ms)") for flag in overall.flags), overall.flags
    assert {row.scope for row in comparison.rows if row.flags} == {
        "overall", "angry_complaint", "confused_elderly_card_replacement", "normal_account_inquiry"}
    text = render_comparison(comparison)
    assert text.startswith("CALLER AGENT RUN COMPARISON") and "REGRESSION" in text


def test_noise_is_not_a_regression(analysis):
    baseline = report_dict(analysis)
    candidate = copy.deepcopy(baseline)
    # One fewer success of 8 (62.5%, interval 30.6%..86.3%) stays inside both intervals; p95 +15% is below 20%.
    candidate["summary"].update(success_rate=5 / 8, successful=5,
                                success_rate_ci={"low": 0.3057, "high": 0.8632})
    candidate["latency_ms"]["turn"]["p95"] = baseline["latency_ms"]["turn"]["p95"] * 1.15
    comparison = compare_reports(baseline, candidate)
    assert comparison.regressions == []
    candidate["latency_ms"]["turn"]["p95"] = baseline["latency_ms"]["turn"]["p95"] * 1.25
    assert compare_reports(baseline, candidate).regressions == ["overall: TURN p95 up 25% (920 -> 1150 ms)"]


def test_scenarios_only_on_one_side_are_shown_not_flagged(analysis):
    baseline = report_dict(analysis)
    candidate = copy.deepcopy(baseline)
    candidate["breakdowns"]["by_scenario"]["new_scenario"] = candidate["breakdowns"]["by_scenario"].pop(
        "angry_complaint")
    comparison = compare_reports(baseline, candidate)
    assert comparison.regressions == []
    text = render_comparison(comparison)
    assert "only in A" in text and "only in B" in text


def test_cli_exit_codes(tmp_path, analysis):
    def compare(a, b):
        return subprocess.run([sys.executable, "-m", "reports", "compare", str(a), str(b)], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=60)

    worse = compare(FIXTURE_DIR, worse_run(tmp_path))
    assert worse.returncode == 1 and "REGRESSION" in worse.stdout, worse.stdout + worse.stderr
    (tmp_path / "a.json").write_text(json.dumps(report_dict(analysis)))
    same = compare(tmp_path / "a.json", FIXTURE_DIR)
    assert same.returncode == 0 and "No regression flagged" in same.stdout
    (tmp_path / "bad.json").write_text("{}")
    bad = compare(tmp_path / "bad.json", FIXTURE_DIR)
    assert bad.returncode == 2 and "not a Caller Agent JSON report" in bad.stderr

"""The text report: the seed's block exactly, then the detail sections."""
from __future__ import annotations

from reports.text import render_report, render_summary

SEED_BLOCK = """CALLER AGENT BATCH TEST REPORT
=====================================
Total Tests: 10
Successful: 6 (75.0%)
Failed: 2
Total Duration: 350.0s
Average Duration: 35.0s"""


def test_starts_with_the_seed_block(analysis):
    report = render_report(analysis)
    assert report.startswith(SEED_BLOCK + "\n")
    lines = report.splitlines()
    # Not in the seed: said only because this run has calls that were not judged.
    assert lines[7] == "Not judged: 1 simulator error, 1 cancelled (success rates count the 8 judged calls)"
    start = lines.index("PERSONALITY TYPE BREAKDOWN")
    assert lines[start - 1] == "" and lines[start + 1] == "-" * len("PERSONALITY TYPE BREAKDOWN")
    assert lines[start + 2:start + 6] == ["ANGRY", "  Success Rate: 50.0%", "  Avg Duration: 47.5s",
                                          "  Avg Turns: 2.5"]
    normal = lines.index("NORMAL")
    assert lines[normal + 1:normal + 4] == ["  Success Rate: 100.0%", "  Avg Duration: 35.8s", "  Avg Turns: 2.2"]


def test_has_every_section_in_order(analysis):
    report = render_report(analysis)
    titles = ["PERSONALITY TYPE BREAKDOWN", "SCENARIO BREAKDOWN", "SUCCESS RATE", "FLAKINESS", "DURATION STATISTICS",
              "VOICE LATENCY", "ERROR CATEGORIES", "CALLS"]
    positions = [report.index("\n" + title) for title in titles]
    assert positions == sorted(positions)
    assert "Median: 36.5s" in report and "Std Dev (sample): 18.7s" in report
    assert "Success Rate: 75.0% (6 of 8 judged calls), 95% CI 40.9%-92.9%" in report
    assert "pass^k (k=2): 50.0% of entries passed every attempt (2 of 4)" in report
    turn_row = next(line for line in report.splitlines() if line.startswith("TURN response latency"))
    assert turn_row.split()[3:8] == ["17", "350", "840", "920", "984"]
    assert "goal not met (resolution plan provided)" in report
    assert "no_answer: agent silent for 12 s" in report


def test_clean_run_reads_exactly_like_the_seed(analysis):
    summary = render_summary(analysis)
    assert summary.startswith(SEED_BLOCK)
    assert "CALLS" not in summary and "SUCCESS RATE" in summary


def test_scenario_type_section_in_the_seed_block_shape(mixed):
    for render in (render_report, render_summary):
        report = render(mixed)
        lines = report.splitlines()
        start = lines.index("SCENARIO TYPE BREAKDOWN")
        assert lines.index("PERSONALITY TYPE BREAKDOWN") < start < lines.index("SCENARIO BREAKDOWN")
        assert lines[start + 1] == "-" * len("SCENARIO TYPE BREAKDOWN")
        complaint = lines.index("COMPLAINT", start)
        assert lines[complaint:complaint + 5] == ["COMPLAINT", "  Success Rate: 75.0%", "  Avg Duration: 43.2s",
                                                  "  Avg Turns: 2.0", "  95% CI: 30.1%-95.4% (3 of 4 judged)"]
        inquiry = lines.index("ACCOUNT_INQUIRY", start)
        assert lines[inquiry + 2:inquiry + 5] == [
            "  Avg Duration: 25.7s", "  Avg Turns: 2.3",
            "  95% CI: 34.2%-100.0% (2 of 2 judged; not judged: 1 simulator error)"]
        unknown = lines.index("UNKNOWN", start)
        assert lines[unknown + 1] == "  Success Rate: n/a"
        assert lines[unknown + 4] == "  95% CI: n/a (0 of 0 judged; not judged: 1 cancelled)"
        # the per-scenario table is still there, one row per scenario id
        assert any(line.startswith("billing_dispute ") for line in lines)
        assert any(line.startswith("lost_card_replacement ") for line in lines)


def test_console_summary_has_the_seeds_duration_analysis(analysis):
    summary = render_summary(analysis)
    assert "\nDURATION STATISTICS (every call)\n" in summary
    for line in ("Min: 5.0s", "Max: 70.0s", "Median: 36.5s", "Std Dev (sample): 18.7s"):
        assert line in summary.splitlines()

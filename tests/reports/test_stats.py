"""The report's numbers against values worked out by hand from the fixture (table in conftest.py)."""
from __future__ import annotations

import math

import pytest

from reports.stats import wilson_interval


def test_totals_keep_cancelled_and_simulator_errors_out_of_the_rate(analysis):
    summary = analysis.summary
    assert (summary["total"], summary["successful"], summary["failed"]) == (10, 6, 2)
    assert (summary["simulator_errors"], summary["cancelled"], summary["judged"]) == (1, 1, 8)
    assert summary["success_rate"] == pytest.approx(6 / 8)
    # Every call's duration: 30+50+70+40+12+35+45+25+38+5 = 350 s over 10 calls.
    assert summary["total_duration_s"] == pytest.approx(350.0)
    assert summary["average_duration_s"] == pytest.approx(35.0)
    # First start 10:00:00, last end: call 9 at 75 s + 38 s = 113 s.
    assert summary["wall_time_s"] == pytest.approx(113.0)
    # Goals of judged calls only (calls 5 and 10 never had the chance): met 2+2+2+3+3+1+0+2, of 3+4+3+4+3+4+3+4.
    assert (summary["goals_met"], summary["goals_total"]) == (15, 28)


def test_wilson_interval_of_the_overall_rate_by_hand(analysis):
    # p = 6/8 = 0.75, n = 8, z = 1.96: z^2 = 3.8416, z^2/n = 0.4802, scale = 1.4802
    # centre = (0.75 + 3.8416/16) / 1.4802 = 0.99010 / 1.4802 = 0.66890
    # half = 1.96 * sqrt(0.75*0.25/8 + 3.8416/256) / 1.4802 = 1.96 * sqrt(0.0384438) / 1.4802 = 0.25963
    ci = analysis.summary["success_rate_ci"]
    assert ci["low"] == pytest.approx(0.66890 - 0.25963, abs=2e-4)
    assert ci["high"] == pytest.approx(0.66890 + 0.25963, abs=2e-4)


def test_wilson_interval_edges():
    assert all(math.isnan(bound) for bound in wilson_interval(0, 0))
    low, high = wilson_interval(0, 5)
    assert low == 0.0 and 0.0 < high < 0.5
    # 4/4: centre = (1 + 3.8416/8) / (1 + 3.8416/4) = 0.75505, half = 1.96 * sqrt(3.8416/64) / 1.9604 = 0.24495
    low, high = wilson_interval(4, 4)
    assert low == pytest.approx(0.75505 - 0.24495, abs=2e-4) and high == 1.0


def test_personality_breakdown(analysis):
    table = analysis.by_personality
    assert list(table.index) == ["angry", "elderly", "normal"]
    normal, angry, elderly = table.loc["normal"], table.loc["angry"], table.loc["elderly"]
    assert (normal["calls"], normal["judged"], normal["successes"], normal["rate"]) == (4, 4, 4, 1.0)
    assert normal["avg_duration_s"] == pytest.approx((30 + 40 + 35 + 38) / 4)
    assert normal["avg_turns"] == pytest.approx((4 + 2 + 2 + 1) / 4)
    assert normal["ci_low"] == pytest.approx(0.5101, abs=2e-4)
    assert (angry["judged"], angry["successes"], angry["rate"]) == (2, 1, 0.5)
    assert angry["avg_duration_s"] == pytest.approx(47.5)
    # elderly: 4 calls, of which one simulator error and one cancelled; the rate is 1 of the 2 judged.
    assert (elderly["calls"], elderly["judged"], elderly["simulator_errors"], elderly["cancelled"]) == (4, 2, 1, 1)
    assert elderly["rate"] == 0.5
    assert elderly["avg_duration_s"] == pytest.approx((70 + 12 + 25 + 5) / 4)
    assert elderly["avg_turns"] == pytest.approx((2 + 1 + 2 + 0) / 4)


def test_scenario_breakdown(analysis):
    table = analysis.by_scenario
    assert table.loc["angry_complaint", "rate"] == pytest.approx(3 / 4)
    assert table.loc["confused_elderly_card_replacement", "rate"] == pytest.approx(1 / 2)
    inquiry = table.loc["normal_account_inquiry"]
    assert (inquiry["calls"], inquiry["judged"], inquiry["rate"]) == (4, 2, 1.0)
    # angry_complaint turns: 250 350 450 150 250 800 900 180 -> sorted 150 180 250 250 350 450 800 900;
    # p50 at position 3.5 = (250 + 350) / 2.
    assert table.loc["angry_complaint", "turn_p50_ms"] == pytest.approx(300.0)


def test_duration_statistics_use_the_sample_std_dev(analysis):
    durations = analysis.durations
    assert (durations["min"], durations["max"]) == (5.0, 70.0)
    # sorted: 5 12 25 30 35 38 40 45 50 70 -> median (35 + 38) / 2
    assert durations["median"] == pytest.approx(36.5)
    # deviations from 35: -5 15 35 5 -23 0 10 -10 3 -30; squares sum to 3138; sample variance 3138 / 9
    assert durations["std_dev"] == pytest.approx(math.sqrt(3138 / 9))


def test_turn_latency_percentiles_leave_simulator_errors_out(analysis):
    turn = analysis.latency.loc["turn"]
    # 17 answered turns (call 5's 9000 ms left out), sorted:
    # 150 180 200 220 250 250 300 320 350 400 450 500 600 700 800 900 1000
    assert turn["n"] == 17 and turn["unanswered"] == 1
    assert turn["p50"] == pytest.approx(350.0)                    # position 8
    assert turn["p90"] == pytest.approx(800 + 0.4 * 100)          # position 14.4
    assert turn["p95"] == pytest.approx(900 + 0.2 * 100)          # position 15.2
    assert turn["p99"] == pytest.approx(900 + 0.84 * 100)         # position 15.84
    assert turn["max"] == 1000.0
    # greeting: 85 90 95 100 110 120 130 140 (call 5 left out, call 10 never heard one): p50 = (100 + 110) / 2
    assert analysis.latency.loc["greeting", "p50"] == pytest.approx(105.0)


def test_pass_k_per_entry_and_overall(analysis):
    entries = analysis.entries
    assert entries.loc[("normal_account_inquiry", "normal"), "pass_k"] is True
    assert entries.loc[("angry_complaint", "normal"), "pass_k"] is True
    assert entries.loc[("angry_complaint", "angry"), "pass_k"] is False
    assert entries.loc[("confused_elderly_card_replacement", "elderly"), "pass_k"] is False
    # simulator error + cancelled: unknown, not a failure of the agent
    assert entries.loc[("normal_account_inquiry", "elderly"), "pass_k"] is None
    pass_k = analysis.pass_k
    assert (pass_k["k"], pass_k["entries"], pass_k["complete"], pass_k["passed"]) == (2, 5, 4, 2)
    assert pass_k["rate"] == 0.5
    # 2/4: centre = (0.5 + 3.8416/8) / (1 + 3.8416/4) = 0.5; half = 1.96 * sqrt(0.0625 + 0.060025) / 1.9604 = 0.34996
    assert pass_k["ci_low"] == pytest.approx(0.5 - 0.34996, abs=2e-4)
    assert pass_k["ci_high"] == pytest.approx(0.5 + 0.34996, abs=2e-4)


def test_error_categories_say_who_is_to_blame(analysis):
    errors = analysis.errors
    assert dict(errors["calls"]) == {"cancelled": 1, "goal not met": 1, "no_answer": 1, "simulator_error": 1}
    assert errors.loc["no_answer", "counted_as"] == errors.loc["goal not met", "counted_as"] == "agent failure"
    assert "not the agent" in errors.loc["simulator_error", "counted_as"]


def test_scenario_type_breakdown_pools_the_scenarios_of_a_type(mixed):
    table = mixed.by_scenario_type
    assert list(table.index) == ["account_inquiry", "card_replacement", "complaint", "unknown"]
    # complaint: angry_complaint (calls 2, 7) and billing_dispute (4, 9); 3 of 4 judged succeeded.
    complaint = table.loc["complaint"]
    assert (complaint["calls"], complaint["judged"], complaint["successes"], complaint["failed"]) == (4, 4, 3, 1)
    assert complaint["rate"] == 0.75
    # 3/4: centre = (0.75 + 3.8416/8) / (1 + 3.8416/4) = 0.62753; half = 1.96 * sqrt(0.046875 + 0.060025) / 1.9604
    # = 0.32689
    assert complaint["ci_low"] == pytest.approx(0.62753 - 0.32689, abs=2e-4)
    assert complaint["ci_high"] == pytest.approx(0.62753 + 0.32689, abs=2e-4)
    assert complaint["avg_duration_s"] == pytest.approx((50 + 40 + 45 + 38) / 4)
    assert complaint["avg_turns"] == pytest.approx((3 + 2 + 2 + 1) / 4)
    assert (complaint["goals_met"], complaint["goals_total"]) == (2 + 3 + 1 + 2, 4 + 4 + 4 + 4)
    # turns 250 350 450 | 150 250 | 800 900 | 180, sorted 150 180 250 250 350 450 800 900: p95 at 6.65
    assert complaint["turn_p95_ms"] == pytest.approx(800 + 0.65 * 100)
    # card_replacement: confused_elderly_card_replacement (call 3, success) and lost_card_replacement (8, failed).
    card = table.loc["card_replacement"]
    assert (card["calls"], card["judged"], card["successes"], card["rate"]) == (2, 2, 1, 0.5)
    assert card["avg_duration_s"] == pytest.approx((70 + 25) / 2)
    # account_inquiry: calls 1 and 6 succeeded, call 5 is a simulator error: counted, not judged, turns untrusted.
    inquiry = table.loc["account_inquiry"]
    assert (inquiry["calls"], inquiry["judged"], inquiry["simulator_errors"], inquiry["rate"]) == (3, 2, 1, 1.0)
    assert inquiry["avg_duration_s"] == pytest.approx((30 + 12 + 35) / 3)
    assert (inquiry["goals_met"], inquiry["goals_total"]) == (5, 6)
    # 200 300 400 500 220 320 (call 5's 9000 left out), sorted: p50 = (300 + 320) / 2
    assert inquiry["turn_p50_ms"] == pytest.approx(310.0)
    # unknown: call 10, cancelled, whose line has no scenario_type: nothing judged, so no rate.
    unknown = table.loc["unknown"]
    assert (unknown["calls"], unknown["judged"], unknown["cancelled"]) == (1, 0, 1)
    assert math.isnan(unknown["rate"]) and math.isnan(unknown["ci_low"])


def test_type_groups_add_up_to_the_run(mixed):
    table, summary = mixed.by_scenario_type, mixed.summary
    assert (int(table["calls"].sum()), int(table["successes"].sum()), int(table["failed"].sum())) == (
        summary["total"], summary["successful"], summary["failed"])
    assert int(table["judged"].sum()) == summary["judged"]
    assert len(mixed.by_scenario) == 5  # the per-scenario table keeps every scenario id


def test_one_type_per_scenario_gives_the_scenario_numbers(analysis):
    # The plain fixture has one scenario id per type: each type row is its scenario's row.
    assert analysis.by_scenario_type.loc["complaint"].equals(analysis.by_scenario.loc["angry_complaint"])
    assert analysis.by_scenario_type.loc["account_inquiry"].equals(analysis.by_scenario.loc["normal_account_inquiry"])


def test_wilson_interval_always_holds_the_rate():
    # Floats put the ends of 0/3 and 10/10 ~1e-15 outside the rate; a chart's error bars then went negative
    # and matplotlib refused to draw the whole report.
    for n in range(1, 101):
        for successes in range(n + 1):
            low, high = wilson_interval(successes, n)
            assert 0.0 <= low <= successes / n <= high <= 1.0

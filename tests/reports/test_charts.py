"""Charts: real PNGs, with the axes a reader needs."""
from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.container import BarContainer

from reports.charts import (goals_chart, latency_distribution_chart, latency_over_time_chart, png_bytes,
                            render_charts, success_rate_chart)
from reports.load import LocustData
from reports.stats import wilson_interval

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_every_chart_is_a_png(analysis):
    charts = render_charts(analysis)
    assert set(charts) == {"success_by_personality", "success_by_scenario_type", "success_by_scenario",
                           "turn_latency", "goals_by_scenario"}
    for figure in charts.values():
        assert png_bytes(figure).startswith(PNG_SIGNATURE)


def test_success_rate_chart_has_bars_error_bars_and_labels(analysis):
    axes = success_rate_chart(analysis.by_scenario, "scenario").axes[0]
    assert axes.get_xlabel() == "Scenario" and axes.get_ylabel() == "Success rate (%)"
    assert [label.get_text() for label in axes.get_xticklabels()] == [
        "angry_complaint (3/4)", "confused_elderly_card_replacement (1/2)", "normal_account_inquiry (2/2)"]
    assert [round(bar.get_height(), 6) for bar in axes.patches] == [75.0, 50.0, 100.0]
    (bars,) = [container for container in axes.containers if isinstance(container, BarContainer)]
    segments = bars.errorbar.lines[2][0].get_segments()  # one vertical segment per bar: the Wilson interval
    angry = analysis.by_scenario.loc["angry_complaint"]
    assert segments[0][:, 1] == pytest.approx([100 * angry["ci_low"], 100 * angry["ci_high"]])
    axes = success_rate_chart(analysis.by_personality, "personality").axes[0]
    assert axes.get_xlabel() == "Personality"


def test_latency_and_goal_charts_axes(analysis):
    axes = latency_distribution_chart(analysis.turns["response_latency_ms"]).axes[0]
    assert axes.get_xlabel() == "TURN response latency (ms)" and axes.get_ylabel() == "Turns"
    axes = goals_chart(analysis.by_scenario).axes[0]
    assert axes.get_xlabel() == "Scenario" and axes.get_ylabel() == "Goals"
    empty = latency_distribution_chart(pd.Series([], dtype=float))
    assert png_bytes(empty).startswith(PNG_SIGNATURE)


def test_latency_over_time_from_locust_history():
    history = pd.DataFrame({
        "Timestamp": [100, 100, 101, 101, 102, 102], "User Count": [2, 2, 4, 4, 4, 4],
        "Type": ["TURN", "", "TURN", "", "TURN", ""], "Name": ["angry_complaint", "Aggregated"] * 3,
        "50%": [300, 310, 320, 330, 340, 350], "95%": [600, 610, 620, 630, 640, 650],
    })
    figure = latency_over_time_chart(LocustData("run", stats=pd.DataFrame(), history=history))
    axes = figure.axes[0]
    assert axes.get_xlabel() == "Time since start (s)" and axes.get_ylabel() == "Response time (ms)"
    assert [line.get_label() for line in axes.get_lines()] == ["angry_complaint p95", "angry_complaint p50"]
    assert list(axes.get_lines()[0].get_xdata()) == [0, 1, 2]
    assert figure.axes[1].get_ylabel() == "Users"
    assert png_bytes(figure).startswith(PNG_SIGNATURE)


def test_success_by_scenario_type_chart(mixed):
    axes = render_charts(mixed)["success_by_scenario_type"].axes[0]
    assert axes.get_xlabel() == "Scenario type"
    assert axes.get_title() == "Success rate by scenario type (95% Wilson interval)"
    assert [label.get_text() for label in axes.get_xticklabels()] == [
        "account_inquiry (2/2)", "card_replacement (1/2)", "complaint (3/4)", "unknown (0/0)"]
    assert [round(bar.get_height(), 6) for bar in axes.patches] == [100.0, 50.0, 75.0, 0.0]
    # the empty slot of a type with no judged call says so rather than reading as 0%
    assert [(text.get_text(), text.get_position()[0]) for text in axes.texts] == [("not judged", 3)]


def test_success_rate_chart_draws_all_and_none_succeeded():
    table = pd.DataFrame({"rate": [1.0, 0.0], "successes": [10, 0], "judged": [10, 3]}, index=["all", "none"])
    intervals = [wilson_interval(successes, judged) for successes, judged in zip(table["successes"], table["judged"])]
    table["ci_low"], table["ci_high"] = zip(*intervals)
    axes = success_rate_chart(table, "personality").axes[0]
    assert [round(bar.get_height(), 6) for bar in axes.patches] == [100.0, 0.0]

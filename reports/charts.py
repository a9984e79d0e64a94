"""The report's charts, drawn with matplotlib's Agg canvas (no display, no pyplot global state, so safe to call
from a batch run or a CI job). Each function returns its Figure so callers and tests can inspect the axes
before it is turned into PNG bytes."""
from __future__ import annotations

import io
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reports.load import LocustData
from reports.stats import Analysis, timed_turns

DPI = 100
HEIGHT_IN = 4.5
MIN_WIDTH_IN = 6.0
WIDTH_PER_BAR_IN = 0.9
SUCCESS_COLOUR = "#2e7d32"
FAILURE_COLOUR = "#bdbdbd"
LATENCY_COLOUR = "#1565c0"
P50_COLOUR = "#ef6c00"
P95_COLOUR = "#c62828"
TURN = "TURN"
AGGREGATED = "Aggregated"
NOT_JUDGED = "not judged"


def render_charts(analysis: Analysis) -> dict[str, Figure]:
    """Every chart the report has data for, by the name its file gets (NAME_<key>.png)."""
    charts = {
        "success_by_personality": success_rate_chart(analysis.by_personality, "personality"),
        "success_by_scenario_type": success_rate_chart(analysis.by_scenario_type, "scenario type"),
        "success_by_scenario": success_rate_chart(analysis.by_scenario, "scenario"),
        "turn_latency": latency_distribution_chart(timed_turns(analysis.data)["response_latency_ms"]),
        "goals_by_scenario": goals_chart(analysis.by_scenario),
    }
    if analysis.locust is not None and analysis.locust.history is not None:
        charts["latency_over_time"] = latency_over_time_chart(analysis.locust)
    return charts


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def success_rate_chart(table: pd.DataFrame, dimension: str) -> Figure:
    """Bars of the success rate per group with Wilson 95% error bars and 'successes/judged' in each label, so
    a reader sees at once which differences the sample size can support."""
    figure = _figure(len(table))
    axes = figure.add_subplot()
    positions = np.arange(len(table))
    rates = table["rate"].to_numpy(dtype=float) * 100.0
    heights = np.nan_to_num(rates)
    below = np.nan_to_num(rates - table["ci_low"].to_numpy(dtype=float) * 100.0)
    above = np.nan_to_num(table["ci_high"].to_numpy(dtype=float) * 100.0 - rates)
    axes.bar(positions, heights, yerr=[below, above], capsize=4, color=SUCCESS_COLOUR, ecolor="black")
    for position in positions[np.isnan(rates)]:
        # No judged call: without a word the empty slot reads as a 0% rate.
        axes.text(position, 2, NOT_JUDGED, ha="center", va="bottom", fontsize=8, color="dimgrey")
    _category_ticks(axes, positions, [f"{name} ({successes}/{judged})" for name, successes, judged
                                      in zip(table.index, table["successes"], table["judged"])])
    axes.set_ylim(0, 105)
    axes.set_xlabel(dimension.capitalize())
    axes.set_ylabel("Success rate (%)")
    axes.set_title(f"Success rate by {dimension} (95% Wilson interval)")
    return figure


def latency_distribution_chart(latencies_ms: pd.Series) -> Figure:
    """Histogram of voice-to-voice latency with p50 and p95 marked: the tail is what callers notice."""
    figure = _figure(0)
    axes = figure.add_subplot()
    values = pd.to_numeric(latencies_ms, errors="coerce").dropna().to_numpy(dtype=float)
    if values.size:
        axes.hist(values, bins="auto", color=LATENCY_COLOUR, alpha=0.8)
        for q, colour in ((50, P50_COLOUR), (95, P95_COLOUR)):
            value = float(np.percentile(values, q))
            axes.axvline(value, color=colour, linestyle="--", label=f"p{q} {value:.0f} ms")
        axes.legend()
    else:
        axes.text(0.5, 0.5, "no answered turns", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel("TURN response latency (ms)")
    axes.set_ylabel("Turns")
    axes.set_title(f"Voice latency distribution ({values.size} turns)")
    return figure


def latency_over_time_chart(locust: LocustData) -> Figure:
    """p50 / p95 over a Locust run, per scenario when Locust kept the full history (--csv-full-history),
    otherwise for all requests together; the user count on a second axis shows the load at each moment."""
    history = locust.history
    figure = _figure(0)
    axes = figure.add_subplot()
    turns = history[history["Type"] == TURN]
    rows, what = (turns, "TURN by scenario") if len(turns) else (history[history["Name"] == AGGREGATED],
                                                                 "all requests")
    start = history["Timestamp"].min()
    for index, (name, group) in enumerate(rows.groupby("Name", sort=True)):
        seconds = group["Timestamp"] - start
        colour = f"C{index % 10}"
        axes.plot(seconds, pd.to_numeric(group["95%"], errors="coerce"), color=colour, label=f"{name} p95")
        axes.plot(seconds, pd.to_numeric(group["50%"], errors="coerce"), color=colour, linestyle="--",
                  label=f"{name} p50")
    if len(rows):
        axes.legend(fontsize=7)
    users = history[history["Name"] == AGGREGATED]
    if len(users) and "User Count" in users:
        load = axes.twinx()
        load.plot(users["Timestamp"] - start, users["User Count"], color="grey", alpha=0.4)
        load.set_ylabel("Users")
    axes.set_xlabel("Time since start (s)")
    axes.set_ylabel("Response time (ms)")
    axes.set_title(f"Latency percentiles over time ({what})")
    return figure


def goals_chart(table: pd.DataFrame) -> Figure:
    """Goals (criteria and secondary goals) met and not met per scenario, over judged calls: where the
    conversations fall short."""
    figure = _figure(len(table))
    axes = figure.add_subplot()
    positions = np.arange(len(table))
    met = table["goals_met"].to_numpy(dtype=float)
    missed = table["goals_total"].to_numpy(dtype=float) - met
    axes.bar(positions, met, color=SUCCESS_COLOUR, label="met")
    axes.bar(positions, missed, bottom=met, color=FAILURE_COLOUR, label="not met")
    _category_ticks(axes, positions, table.index)
    axes.set_xlabel("Scenario")
    axes.set_ylabel("Goals")
    axes.set_title("Goals met per scenario")
    axes.legend()
    return figure


def _figure(bars: int) -> Figure:
    figure = Figure(figsize=(max(MIN_WIDTH_IN, WIDTH_PER_BAR_IN * bars + 2.0), HEIGHT_IN), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _category_ticks(axes, positions: np.ndarray, names: Sequence[str]) -> None:
    axes.set_xticks(positions, [str(name) for name in names], rotation=30, ha="right", fontsize=8)

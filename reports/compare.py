"""Compare two runs (baseline A, candidate B): success rate and TURN latency, overall and per scenario.

A change is flagged as a regression only when the data supports it, so CI does not fail on noise:
* success rate: B's rate lies below A's Wilson 95% interval *and* A's rate lies above B's interval (the drop
  is outside the uncertainty of both runs);
* latency: B's TURN p95 is more than P95_INCREASE (20%) above A's.
Either side may be a run directory / calls file (analysed on the fly) or a JSON report written by --output.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

from reports.json_report import report_dict
from reports.load import ReportInputError, load_calls
from reports.stats import analyse
from reports.text import interval, ms, percent, table

P95_INCREASE = 0.20
OVERALL = "overall"
TITLE = "CALLER AGENT RUN COMPARISON"


@dataclass
class Figures:
    """What is compared for one scope (overall or a scenario) of one run."""

    n: int
    rate: Optional[float]
    low: Optional[float]
    high: Optional[float]
    p50: Optional[float]
    p95: Optional[float]


@dataclass
class Row:
    scope: str
    a: Optional[Figures]
    b: Optional[Figures]
    flags: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    a_label: str
    b_label: str
    rows: list[Row]

    @property
    def regressions(self) -> list[str]:
        return [f"{row.scope}: {flag}" for row in self.rows for flag in row.flags]


def load_report(path: Union[str, Path]) -> dict:
    """A JSON report as written by --output, or the report of a run directory / calls file computed now."""
    path = Path(path)
    if path.is_file() and path.suffix == ".json":
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise ReportInputError(f"{path}: not a JSON report ({error})") from None
        if not isinstance(report, dict) or "summary" not in report or "breakdowns" not in report:
            raise ReportInputError(f"{path}: not a Caller Agent JSON report (no 'summary' / 'breakdowns')")
        return report
    return report_dict(analyse(load_calls([path])))


def compare_reports(a: dict, b: dict, a_label: str = "A", b_label: str = "B") -> Comparison:
    rows = [_row(OVERALL, _overall(a), _overall(b))]
    a_scenarios, b_scenarios = _scenarios(a), _scenarios(b)
    for name in sorted(set(a_scenarios) | set(b_scenarios)):
        rows.append(_row(name, a_scenarios.get(name), b_scenarios.get(name)))
    return Comparison(a_label, b_label, rows)


def render_comparison(comparison: Comparison) -> str:
    header = ["Scope", "A rate", "A 95% CI", "B rate", "B 95% CI", "Change", "A p50", "B p50", "A p95", "B p95",
              "p95 change", "Regression"]
    rows = []
    for row in comparison.rows:
        a, b = row.a, row.b
        rows.append([row.scope, *_rate_cells(a), *_rate_cells(b), _rate_change(a, b),
                     ms(a.p50 if a else None), ms(b.p50 if b else None), ms(a.p95 if a else None),
                     ms(b.p95 if b else None), _p95_change(a, b), "; ".join(row.flags) or _presence(a, b)])
    regressions = comparison.regressions
    verdict = (f"REGRESSION: {len(regressions)} flagged" if regressions else "No regression flagged") + \
        f" (rate: B below A's 95% CI and A above B's; latency: TURN p95 up more than {P95_INCREASE:.0%})"
    return "\n".join([TITLE, "=" * len(TITLE), f"A (baseline):  {comparison.a_label}",
                      f"B (candidate): {comparison.b_label}", "", table(header, rows, "l" + "r" * 10 + "l"), "",
                      verdict]) + "\n"


def _row(scope: str, a: Optional[Figures], b: Optional[Figures]) -> Row:
    row = Row(scope, a, b)
    if a is None or b is None:
        return row
    if a.n and b.n and None not in (a.rate, a.low, b.rate, b.high) and b.rate < a.low and a.rate > b.high:
        row.flags.append(f"success rate dropped {percent(a.rate)} -> {percent(b.rate)}")
    if a.p95 and b.p95 is not None and b.p95 > a.p95 * (1.0 + P95_INCREASE):
        row.flags.append(f"TURN p95 up {b.p95 / a.p95 - 1.0:.0%} ({ms(a.p95)} -> {ms(b.p95)} ms)")
    return row


def _overall(report: dict) -> Figures:
    summary = report["summary"]
    ci = summary.get("success_rate_ci") or {}
    turn = (report.get("latency_ms") or {}).get("turn") or {}
    judged = int(summary.get("judged", summary.get("total", 0)))
    return Figures(judged, summary.get("success_rate") if judged else None, ci.get("low"), ci.get("high"),
                   turn.get("p50"), turn.get("p95"))


def _scenarios(report: dict) -> dict[str, Figures]:
    groups = (report.get("breakdowns") or {}).get("by_scenario") or {}
    return {name: Figures(int(group.get("n", 0)), group.get("rate"), group.get("ci_low"), group.get("ci_high"),
                          group.get("turn_p50_ms"), group.get("turn_p95_ms"))
            for name, group in groups.items()}


def _rate_cells(figures: Optional[Figures]) -> list[str]:
    if figures is None:
        return ["-", "-"]
    return [percent(figures.rate), interval(figures.low, figures.high)]


def _rate_change(a: Optional[Figures], b: Optional[Figures]) -> str:
    if a is None or b is None or a.rate is None or b.rate is None:
        return "-"
    return f"{100.0 * (b.rate - a.rate):+.1f} pp"


def _p95_change(a: Optional[Figures], b: Optional[Figures]) -> str:
    if a is None or b is None or not a.p95 or b.p95 is None:
        return "-"
    return f"{b.p95 / a.p95 - 1.0:+.0%}"


def _presence(a: Optional[Figures], b: Optional[Figures]) -> str:
    if a is None:
        return "only in B"
    if b is None:
        return "only in A"
    return ""

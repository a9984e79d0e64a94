"""One self-contained HTML page (NAME.html): the report's tables and charts, images inlined as base64 data
URIs, so the single file can be attached to a CI run or mailed without its PNGs."""
from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from typing import Mapping, Optional
from urllib.parse import quote

import pandas as pd

from reports.load import data_problems
from reports.stats import LATENCY_METRICS, Analysis, records
from reports.text import HEADER, interval, judged_by, ms, percent, recorded_calls, seconds, usd, why

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #212121; max-width: 80rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f5f5f5; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; margin: 0.5rem 1rem 0.5rem 0; border: 1px solid #eee; }
.note { color: #616161; font-size: 0.85rem; }
"""
CHART_TITLES = {"success_by_personality": "Success rate by personality",
                "success_by_scenario_type": "Success rate by scenario type",
                "success_by_scenario": "Success rate by scenario", "turn_latency": "Voice latency distribution",
                "goals_by_scenario": "Goals met per scenario", "latency_over_time": "Latency over time (Locust)"}


def render_html(analysis: Analysis, charts: Mapping[str, bytes], directory: Optional[Path] = None) -> str:
    """The page; `charts` maps chart keys (see reports.charts.render_charts) to PNG bytes. Links to recordings
    are relative to `directory`, where the page will be written (the recordings themselves are not inlined)."""
    parts = [f"<h1>{html.escape(HEADER.title())}</h1>",
             f'<p class="note">Sources: {html.escape(", ".join(analysis.data.sources))}</p>',
             "<h2>Summary</h2>", _table(_summary(analysis)),
             "<h2>Charts</h2>", "".join(_image(key, png) for key, png in charts.items()),
             "<h2>Personality type breakdown</h2>", _table(_groups(analysis.by_personality, "Personality")),
             "<h2>Scenario type breakdown</h2>", _table(_groups(analysis.by_scenario_type, "Scenario type")),
             "<h2>Scenario breakdown</h2>", _table(_groups(analysis.by_scenario, "Scenario"))]
    if analysis.pass_k["k"] > 1:
        parts += ["<h2>Flakiness (pass^k)</h2>", _table(_entries(analysis)),
                  '<p class="note">pass^k: an entry passes when every one of its k attempts succeeded; entries '
                  'with a cancelled or simulator-broken attempt are incomplete and left out.</p>']
    parts += ["<h2>Durations (every call)</h2>", _table(_durations(analysis)),
              "<h2>Voice latency (ms)</h2>", _table(_latency(analysis)),
              '<p class="note">TURN: caller speech end to first agent audio. Simulator errors are left out.</p>']
    if analysis.hearing:
        overall = analysis.hearing["overall"]
        parts += ["<h2>Agent hearing (word error rate)</h2>",
                  f'<p class="note">What the bridge reported recognising vs what the caller said: overall '
                  f'{percent(overall["wer"])} ({overall["errors"]} errors in {overall["words"]} words).</p>',
                  _table(_hearing(analysis.hearing["by_personality"], "Personality")),
                  _table(_hearing(analysis.hearing["by_scenario"], "Scenario")),
                  _table(_hearing(analysis.hearing["by_voice_engine"], "Caller voice"))]
    if len(analysis.barge_ins):
        parts += ["<h2>Barge-ins</h2>", _table(_barge_ins(analysis)),
                  '<p class="note">A good agent stops for an interrupt and talks on through a backchannel '
                  '("uh-huh"). Resumed: spoke again before the caller did; re-said: repeated what was cut off.</p>']
    if len(analysis.errors):
        parts += ["<h2>Error categories</h2>",
                  _table(analysis.errors.reset_index().rename(columns=str.capitalize))]
    if analysis.protocol_notes:
        parts += ["<h2>Protocol notes</h2>", _table(_protocol_notes(analysis)),
                  '<p class="note">Deviations from the bot protocol the calls were carried through, as a phone '
                  'gateway would; with --strict-protocol each ends its call as protocol_error.</p>']
    if analysis.locust is not None:
        parts += [f"<h2>Locust request statistics ({html.escape(analysis.locust.prefix)})</h2>",
                  _table(analysis.locust.stats)]
    problems = data_problems(analysis.data)
    if problems:
        parts += ["<h2>Data quality</h2>", "".join(f"<p>{html.escape(line)}</p>" for line in problems)]
    parts += ["<h2>Calls</h2>", _table(_calls(analysis))]
    if recorded_calls(analysis):
        parts += ["<h2>Recordings</h2>", _recordings(analysis, directory),
                  '<p class="note">Stereo WAV: caller left, agent right, on the call\'s own timeline.</p>']
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(HEADER.title())}</title><style>{STYLE}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")


def _recordings(analysis: Analysis, directory: Optional[Path]) -> str:
    rows = []
    for call in recorded_calls(analysis):
        links = " ".join(_link(call["recording"][kind], label, directory)
                         for kind, label in (("wav", "recording"), ("txt", "transcript"), ("json", "JSON"))
                         if kind in call["recording"])
        rows.append(f"<tr><td>{call['index']}</td><td>{html.escape(call['call_id'])}</td><td>{links}</td></tr>")
    return "<table><tr><th>#</th><th>Call id</th><th>Files</th></tr>" + "".join(rows) + "</table>"


def _link(path: str, label: str, directory: Optional[Path]) -> str:
    href = os.path.relpath(path, directory) if directory is not None else path
    return f'<a href="{html.escape(quote(href))}">{html.escape(label)}</a>'


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, border=0, na_rep="-")


def _image(key: str, png: bytes) -> str:
    title = html.escape(CHART_TITLES.get(key, key))
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{title}" title="{title}">'


def _summary(analysis: Analysis) -> pd.DataFrame:
    summary = analysis.summary
    ci = summary["success_rate_ci"]
    rows = [("Total tests", summary["total"]), ("Judged calls", summary["judged"]),
            ("Successful", summary["successful"]), ("Failed (agent)", summary["failed"]),
            ("Simulator errors (not the agent)", summary["simulator_errors"]),
            ("Cancelled (not judged)", summary["cancelled"]),
            ("Caller not prepared (not the agent)", summary["not_prepared"]),
            ("Success rate", f"{percent(summary['success_rate'])} (95% CI {interval(ci['low'], ci['high'])})"),
            ("Goals met", f"{summary['goals_met']}/{summary['goals_total']}"),
            ("Uncertain verdicts (not counted as met)",
             f"{summary['goals_uncertain']} goals in {summary['calls_with_uncertain']} calls; "
             f"{summary['failed_on_uncertain_only']} failed calls hinge only on them"),
            ("Goals judged by", judged_by(summary)),
            ("Total duration", seconds(summary["total_duration_s"])),
            ("Average duration", seconds(summary["average_duration_s"])),
            ("Wall time", seconds(summary["wall_time_s"]))]
    if summary.get("cost"):
        cost = summary["cost"]
        per_success = cost["per_successful_call_usd"]
        rows += [("Cost (OpenAI tokens)", f"{usd(cost['total_usd'])} over {cost['costed_calls']} calls"),
                 ("Cost per call", usd(cost["per_call_usd"])),
                 ("Cost per successful call", usd(per_success) if per_success is not None else "n/a")]
    if analysis.pass_k["k"] > 1:
        pass_k = analysis.pass_k
        rows.append((f"pass^k (k={pass_k['k']})", f"{percent(pass_k['rate'])} ({pass_k['passed']} of "
                     f"{pass_k['complete']} entries, 95% CI {interval(pass_k['ci_low'], pass_k['ci_high'])})"))
    return pd.DataFrame(rows, columns=["Metric", "Value"])


def _groups(table: pd.DataFrame, label: str) -> pd.DataFrame:
    return pd.DataFrame([{
        label: name, "Calls": row["calls"], "Judged": row["judged"], "Successes": row["successes"],
        "Success rate": percent(row["rate"]), "95% CI": interval(row["ci_low"], row["ci_high"]),
        "Simulator errors": row["simulator_errors"], "Cancelled": row["cancelled"],
        "Avg duration": seconds(row["avg_duration_s"]), "Avg turns": f"{row['avg_turns']:.1f}",
        "Goals met": f"{row['goals_met']}/{row['goals_total']}", "Turn p50 (ms)": ms(row["turn_p50_ms"]),
        "Turn p95 (ms)": ms(row["turn_p95_ms"]), "Caller not prepared": row["not_prepared"],
    } for name, row in records(table)])


def _hearing(table: pd.DataFrame, label: str) -> pd.DataFrame:
    return pd.DataFrame([{label: name, "Calls": row["calls"], "Turns": row["turns"], "Words": row["words"],
                          "Errors": row["errors"], "WER": percent(row["wer"])} for name, row in records(table)])


def _barge_ins(analysis: Analysis) -> pd.DataFrame:
    return pd.DataFrame([{"Kind": kind, "Barge-ins": row["barge_ins"], "Agent stopped": row["stopped"],
                          "Stop p50 (ms)": ms(row["stop_p50_ms"]), "Stop p95 (ms)": ms(row["stop_p95_ms"]),
                          "Resumed": row["resumed"], "Re-said": row["repeated"]}
                         for kind, row in records(analysis.barge_ins)])


def _protocol_notes(analysis: Analysis) -> pd.DataFrame:
    return pd.DataFrame([{"Deviation": note.what, "Calls": note.calls, "Times": note.count,
                          "First ms": note.first_ms} for note in analysis.protocol_notes])


def _entries(analysis: Analysis) -> pd.DataFrame:
    return pd.DataFrame([{
        "Scenario": scenario, "Personality": personality, "k": row["k"], "Judged": row["judged"],
        "Successes": row["successes"], "Success rate": percent(row["rate"]),
        "95% CI": interval(row["ci_low"], row["ci_high"]),
        "pass^k": "incomplete" if row["pass_k"] is None else ("PASS" if row["pass_k"] else "FAIL"),
    } for (scenario, personality), row in records(analysis.entries)])


def _durations(analysis: Analysis) -> pd.DataFrame:
    durations = analysis.durations
    return pd.DataFrame([{"Min": seconds(durations["min"]), "Max": seconds(durations["max"]),
                          "Median": seconds(durations["median"]), "Mean": seconds(durations["mean"]),
                          "Std dev (sample)": seconds(durations["std_dev"])}])


def _latency(analysis: Analysis) -> pd.DataFrame:
    latency = dict(records(analysis.latency))
    return pd.DataFrame([{"Latency": label, "n": int(latency[key]["n"]),
                          **{f"p{q}": ms(latency[key][f"p{q}"]) for q in (50, 90, 95, 99)},
                          "max": ms(latency[key]["max"])} for key, label in LATENCY_METRICS.items()])


def _calls(analysis: Analysis) -> pd.DataFrame:
    return pd.DataFrame([{
        "#": call["index"], "Started (UTC)": call["started_at"].strftime("%Y-%m-%d %H:%M:%S"),
        "Outcome": call["outcome"], "Personality": call["personality"], "Scenario": call["scenario"],
        "Duration": seconds(call["duration_s"]), "Turns": call["turns"],
        "Goals": f"{call['goals_achieved']}/{call['goals_total']}", "Why": why(call), "Call id": call["call_id"],
    } for _, call in records(analysis.calls)])

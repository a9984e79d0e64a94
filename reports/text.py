"""The plain-text report: the seed's layout first (people and scripts know it), then the detail sections.

The opening block keeps the seed's lines exactly (`Total Tests:`, `Successful: n (p%)`, `Failed:`, durations,
`PERSONALITY TYPE BREAKDOWN` with Success Rate / Avg Duration / Avg Turns). A line about calls that were not
judged is added only when there are some, so a clean run reads exactly like the seed's example. The seed's
"statistics by scenario type" follow in the same block shape (`SCENARIO TYPE BREAKDOWN`), then the table per
scenario id.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import pandas as pd

from reports.load import SUCCESS, data_problems
from reports.stats import LATENCY_METRICS, Analysis, records

HEADER = "CALLER AGENT BATCH TEST REPORT"
HEADER_RULE = "=" * 37
LOCUST_COLUMNS = ("Type", "Name", "Request Count", "Failure Count", "Median Response Time", "95%", "99%",
                  "Max Response Time")


def render_report(analysis: Analysis) -> str:
    """The whole report, as written to NAME.txt and printed by `python -m reports`."""
    sections = [_opening(analysis), _personalities(analysis), _scenario_types(analysis), _scenarios(analysis),
                _success(analysis)]
    if analysis.pass_k["k"] > 1:
        sections.append(_flakiness(analysis))
    if analysis.summary.get("cost"):
        sections.append(_cost(analysis))
    sections += [_durations(analysis), _latency(analysis)]
    if analysis.hearing:
        sections.append(_hearing(analysis))
    if len(analysis.barge_ins):
        sections.append(_barge_ins(analysis))
    if len(analysis.errors):
        sections.append(_errors(analysis))
    if analysis.protocol_notes:
        sections.append(_protocol_notes(analysis))
    if analysis.locust is not None:
        sections.append(_locust(analysis))
    problems = data_problems(analysis.data)
    if problems:
        sections.append("\n".join([_title("DATA QUALITY"), *problems]))
    sections.append(_calls(analysis))
    if recorded_calls(analysis):
        sections.append(_recordings(analysis))
    sections.append(_sources(analysis))
    return "\n\n".join(sections) + "\n"


def render_summary(analysis: Analysis) -> str:
    """What the console shows after a batch (each call was already listed as it ended): the seed's block, the
    breakdowns, the rate with its interval and the seed's duration analysis."""
    return "\n\n".join([_opening(analysis), _personalities(analysis), _scenario_types(analysis),
                        _scenarios(analysis), _success(analysis), _durations(analysis)]) + "\n"


# ---- sections ---------------------------------------------------------------------------------------------

def _opening(analysis: Analysis) -> str:
    summary = analysis.summary
    lines = [HEADER, HEADER_RULE,
             f"Total Tests: {summary['total']}",
             f"Successful: {summary['successful']} ({percent(_judged_rate(summary))})",
             f"Failed: {summary['failed']}",
             f"Total Duration: {summary['total_duration_s']:.1f}s",
             f"Average Duration: {summary['average_duration_s']:.1f}s"]
    excluded = [_count(summary["simulator_errors"], "simulator error"), _count(summary["cancelled"], "cancelled"),
                _count(summary["not_prepared"], "caller not prepared")]
    excluded = [text for text in excluded if text]
    if excluded:
        lines.append(f"Not judged: {', '.join(excluded)} (success rates count the {summary['judged']} "
                     "judged calls)")
    return "\n".join(lines)


def _personalities(analysis: Analysis) -> str:
    return _type_blocks("PERSONALITY TYPE BREAKDOWN", analysis.by_personality)


def _scenario_types(analysis: Analysis) -> str:
    """The seed promises statistics by scenario type; they take the shape of its personality blocks."""
    return _type_blocks("SCENARIO TYPE BREAKDOWN", analysis.by_scenario_type)


def _type_blocks(title: str, groups: pd.DataFrame) -> str:
    """The seed's block per group (NAME, Success Rate, Avg Duration, Avg Turns), plus the rate's interval."""
    blocks = []
    for name, row in records(groups):
        blocks.append("\n".join([
            str(name).upper(),
            f"  Success Rate: {percent(row['rate'])}",
            f"  Avg Duration: {row['avg_duration_s']:.1f}s",
            f"  Avg Turns: {row['avg_turns']:.1f}",
            f"  95% CI: {interval(row['ci_low'], row['ci_high'])} ({row['successes']} of {row['judged']} judged"
            f"{_not_judged(row)})",
        ]))
    return _title(title) + "\n" + "\n\n".join(blocks)


def _scenarios(analysis: Analysis) -> str:
    rows = [[name, row["calls"], row["judged"], row["successes"], percent(row["rate"]),
             interval(row["ci_low"], row["ci_high"]), f"{row['avg_duration_s']:.1f}s", f"{row['avg_turns']:.1f}",
             f"{row['goals_met']}/{row['goals_total']}", ms(row["turn_p50_ms"]), ms(row["turn_p95_ms"])]
            for name, row in records(analysis.by_scenario)]
    header = ["Scenario", "Calls", "Judged", "Succ", "Rate", "95% CI", "Avg Dur", "Avg Turns", "Goals Met",
              "Turn p50", "Turn p95"]
    return _title("SCENARIO BREAKDOWN") + "\n" + table(header, rows, "l" + "r" * 10)


def _success(analysis: Analysis) -> str:
    summary = analysis.summary
    ci = summary["success_rate_ci"]
    lines = [_title("SUCCESS RATE"),
             f"Success Rate: {percent(_judged_rate(summary))} ({summary['successful']} of {summary['judged']} "
             f"judged calls), 95% CI {interval(ci['low'], ci['high'])}",
             f"Agent failures: {summary['failed']}",
             f"Simulator errors: {summary['simulator_errors']} (the caller itself broke; not counted against "
             "the agent)",
             f"Cancelled: {summary['cancelled']} (cut off by the end of the run; not counted)",
             f"Caller not prepared: {summary['not_prepared']} (the agent asked for what the caller's profile lacked; "
             "not counted against the agent)",
             f"Goals met: {summary['goals_met']}/{summary['goals_total']}", _uncertain_line(summary),
             f"Goals judged by: {judged_by(summary)}"]
    if summary["unanswered_asks"]:
        lines.append("Agent questions the callers could not answer (add the answers to the scenario's context):")
        lines += [f"  {item['calls']}x \"{item['ask']}\"" for item in summary["unanswered_asks"]]
    if analysis.pass_k["k"] > 1:
        lines.append(_pass_k_line(analysis.pass_k))
    return "\n".join(lines)


def judged_by(summary: dict) -> str:
    """How the judged calls' goals were judged: "rules (10 calls)", or each mode of a mixed run."""
    return ", ".join(f"{mode} ({count} calls)" for mode, count in summary["verdicts"].items()) or "-"


def _uncertain_line(summary: dict) -> str:
    """Verdicts on weak evidence, apart: never counted as met, so they can only hide successes."""
    return (f"Uncertain verdicts: {summary['goals_uncertain']} goals in {summary['calls_with_uncertain']} calls "
            f"(not counted as met); {summary['failed_on_uncertain_only']} failed calls hinge only on them")


def _cost(analysis: Analysis) -> str:
    cost = analysis.summary["cost"]
    per_success = cost["per_successful_call_usd"]
    lines = [_title("COST (OpenAI tokens, priced from callers/services/openai_prices.toml)"),
             f"Total: {usd(cost['total_usd'])} over {cost['costed_calls']} calls",
             f"Per call: {usd(cost['per_call_usd'])}",
             f"Per successful call: {usd(per_success) if per_success is not None else 'n/a (no successes)'}"]
    if cost["uncosted_calls"]:
        lines.append(f"Not costed: {cost['uncosted_calls']} calls (scripted brain, or a model missing from the "
                     "price table)")
    return "\n".join(lines)


def _flakiness(analysis: Analysis) -> str:
    rows = [[scenario, personality, row["k"], row["judged"], row["successes"], percent(row["rate"]),
             interval(row["ci_low"], row["ci_high"]), _pass_mark(row["pass_k"])]
            for (scenario, personality), row in records(analysis.entries)]
    header = ["Scenario", "Personality", "k", "Judged", "Succ", "Rate", "95% CI", "pass^k"]
    return "\n".join([_title("FLAKINESS (pass^k: every one of an entry's k attempts succeeded)"),
                      table(header, rows, "ll" + "r" * 6), _pass_k_line(analysis.pass_k)])


def _durations(analysis: Analysis) -> str:
    durations = analysis.durations
    return "\n".join([
        _title("DURATION STATISTICS (every call)"),
        f"Min: {durations['min']:.1f}s",
        f"Max: {durations['max']:.1f}s",
        f"Median: {durations['median']:.1f}s",
        f"Mean: {durations['mean']:.1f}s",
        f"Std Dev (sample): {seconds(durations['std_dev'])}",
        f"Wall Time: {analysis.summary['wall_time_s']:.1f}s (first call start to last call end)",
    ])


def _latency(analysis: Analysis) -> str:
    rows = []
    latency = dict(records(analysis.latency))
    for key, label in LATENCY_METRICS.items():
        row = latency[key]
        unanswered = row["unanswered"]
        rows.append([label, int(row["n"]), ms(row["p50"]), ms(row["p90"]), ms(row["p95"]), ms(row["p99"]),
                     ms(row["max"]), "-" if _missing(unanswered) else int(unanswered)])
    header = ["Latency (ms)", "n", "p50", "p90", "p95", "p99", "max", "unanswered"]
    return "\n".join([_title("VOICE LATENCY (caller speech end -> first agent audio; simulator errors left out)"),
                      table(header, rows, "l" + "r" * 7)])


def _hearing(analysis: Analysis) -> str:
    overall = analysis.hearing["overall"]
    lines = [_title("AGENT HEARING (word error rate: what the bridge reported recognising vs what the caller said)"),
             f"Overall WER: {percent(overall['wer'])} ({overall['errors']} errors in {overall['words']} words, "
             f"{overall['turns']} turns of {overall['calls']} calls)"]
    for label, key in (("Personality", "by_personality"), ("Scenario", "by_scenario"),
                       ("Caller voice", "by_voice_engine")):
        rows = [[name, row["calls"], row["turns"], row["words"], row["errors"], percent(row["wer"])]
                for name, row in records(analysis.hearing[key])]
        lines += ["", table([label, "Calls", "Turns", "Words", "Errors", "WER"], rows, "lrrrrr")]
    return "\n".join(lines)


def _barge_ins(analysis: Analysis) -> str:
    rows = [[kind, row["barge_ins"], row["stopped"], ms(row["stop_p50_ms"]), ms(row["stop_p95_ms"]), row["resumed"],
             row["repeated"]] for kind, row in records(analysis.barge_ins)]
    header = ["Kind", "Barge-ins", "Agent stopped", "Stop p50 ms", "Stop p95 ms", "Resumed", "Re-said"]
    return "\n".join([_title("BARGE-INS (a good agent stops for an interrupt and talks on through a backchannel)"),
                      table(header, rows, "l" + "r" * 6)])


def _errors(analysis: Analysis) -> str:
    rows = [[name, row["calls"], row["counted_as"]] for name, row in records(analysis.errors)]
    return _title("ERROR CATEGORIES") + "\n" + table(["Category", "Calls", "Counted as"], rows, "lrl")


def _protocol_notes(analysis: Analysis) -> str:
    rows = [[note.what, note.calls, note.count, ms(note.first_ms)] for note in analysis.protocol_notes]
    return "\n".join([_title("PROTOCOL NOTES (deviations from the bot protocol the calls were carried through)"),
                      table(["Deviation", "Calls", "Times", "First ms"], rows, "lrrr")])


def _locust(analysis: Analysis) -> str:
    stats = analysis.locust.stats
    columns = [column for column in LOCUST_COLUMNS if column in stats]
    rows = [[_cell(record[column]) for column in columns] for _, record in records(stats)]
    lines = [_title(f"LOCUST REQUEST STATISTICS ({analysis.locust.source}, ms)"),
             table(columns, rows, "ll" + "r" * (len(columns) - 2))]
    if analysis.locust.history is None:
        lines.append("(no stats history file: percentiles over time not available)")
    return "\n".join(lines)


def _calls(analysis: Analysis) -> str:
    rows = []
    for _, call in records(analysis.calls):
        rows.append([call["index"], call["started_at"].strftime("%H:%M:%S"), call["outcome"].upper(),
                     call["personality"], call["scenario"], f"{call['duration_s']:.1f}s", call["turns"],
                     f"{call['goals_achieved']}/{call['goals_total']}", why(call)])
    header = ["#", "Started", "Outcome", "Personality", "Scenario", "Duration", "Turns", "Goals", "Why"]
    return _title("CALLS") + "\n" + table(header, rows, "rlllllrrl")


def recorded_calls(analysis: Analysis) -> list[dict]:
    """Calls that have a recording and transcript (a run with --record), in report order."""
    return [call for _, call in records(analysis.calls) if call["recording"]]


def _recordings(analysis: Analysis) -> str:
    rows = [[call["index"], call["recording"].get("wav", "-"), call["recording"].get("txt", "-")]
            for call in recorded_calls(analysis)]
    return _title("RECORDINGS (stereo WAV: caller left, agent right; transcript)") + "\n" + table(
        ["#", "Recording", "Transcript"], rows, "rll")


def _sources(analysis: Analysis) -> str:
    return "Source: " + ", ".join(analysis.data.sources)


# ---- formatting -------------------------------------------------------------------------------------------

def why(call: dict) -> str:
    """A failed call's reason in one phrase: its error, or the success criteria it never heard."""
    if call["error_category"]:
        return f"{call['error_category']}: {call['error_message'] or ''}".rstrip(": ")
    if call["outcome"] == SUCCESS:
        return ""
    if call["failure_condition"]:
        return f"failure condition hit: {call['failure_condition']}"
    uncertain = set(call.get("uncertain_goals") or ())
    unmet = ", ".join(f"{goal} (uncertain)" if goal in uncertain else goal for goal in call["unmet_goals"])
    reason = f"goal not met ({unmet})" if unmet else "goal not met"
    if call.get("unanswered_asks"):
        reason += f"; caller not prepared for: {' / '.join(call['unanswered_asks'])}"
    return reason


def usd(value: float) -> str:
    return f"${value:.4f}"


def percent(value: Optional[float]) -> str:
    return "n/a" if _missing(value) else f"{100.0 * value:.1f}%"


def interval(low: Optional[float], high: Optional[float]) -> str:
    return "n/a" if _missing(low) or _missing(high) else f"{100.0 * low:.1f}%-{100.0 * high:.1f}%"


def ms(value: Optional[float]) -> str:
    """Milliseconds: whole numbers, except below 10 ms (loopback connects) where a decimal still says something."""
    if _missing(value):
        return "-"
    return f"{value:.1f}" if abs(value) < 10 else f"{value:.0f}"


def seconds(value: Optional[float]) -> str:
    return "n/a" if _missing(value) else f"{value:.1f}s"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: str) -> str:
    """Fixed-width columns; `align` has one letter per column, "l" for names and text, "r" for numbers."""
    cells = [[str(value) for value in row] for row in [list(header), *rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    lines = []
    for row in cells:
        parts = [value.ljust(width) if side == "l" else value.rjust(width)
                 for value, width, side in zip(row, widths, align)]
        lines.append("  ".join(parts).rstrip())
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _title(text: str) -> str:
    return f"{text}\n{'-' * len(text)}"


def _judged_rate(summary: dict) -> Optional[float]:
    """The JSON keeps 0.0 when nothing was judged (CI gates must fail); a reader is told "n/a" instead."""
    return summary["success_rate"] if summary["judged"] else None


def _count(n: int, noun: str) -> str:
    if not n:
        return ""
    return f"{n} {noun}" + ("s" if n != 1 and noun.endswith("error") else "")


def _not_judged(row: dict) -> str:
    parts = [_count(int(row["simulator_errors"]), "simulator error"), _count(int(row["cancelled"]), "cancelled"),
             _count(int(row["not_prepared"]), "caller not prepared")]
    parts = [part for part in parts if part]
    return f"; not judged: {', '.join(parts)}" if parts else ""


def _pass_k_line(pass_k: dict) -> str:
    incomplete = pass_k["entries"] - pass_k["complete"]
    note = f"; {incomplete} incomplete {'entry' if incomplete == 1 else 'entries'} left out" if incomplete else ""
    return (f"pass^k (k={pass_k['k']}): {percent(pass_k['rate'])} of entries passed every attempt "
            f"({pass_k['passed']} of {pass_k['complete']}), 95% CI {interval(pass_k['ci_low'], pass_k['ci_high'])}"
            f"{note}")


def _pass_mark(value: Optional[bool]) -> str:
    if value is None:
        return "incomplete"
    return "PASS" if value else "FAIL"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.0f}"
    return str(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))

"""The numbers of a report: totals, success rates with Wilson intervals, breakdowns, pass^k, durations, latency.

Rules every table follows (docs/metrics.md):
* a success rate counts only *judged* calls, successes and agent failures; a `cancelled` call (cut off by the
  end of a run) and a `simulator_error` or `brain_error` (the caller itself broke, fell behind real time or
  lost its model) are counted in their own columns and never against the agent;
* every rate carries a Wilson 95% interval, because with the handful of calls a voice test can afford a plain
  percentage hides whether two numbers really differ;
* goal counts cover judged calls; duration figures cover every call; voice latency covers every call except
  simulator errors, whose clock cannot be trusted;
* percentiles use linear interpolation (numpy's and pandas' default); std dev is the sample standard
  deviation (n - 1);
* the agent's word error rate pools words (sum of errors over sum of words said) over the turns whose
  recognition the bridge reported, so a long utterance weighs by its words.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from callers.results import summarise_notes
from reports.load import (AGENT_FAILURE, CALLER_ERROR, CALLER_NOT_PREPARED, CANCELLED, GOAL_NOT_MET, JUDGED,
                          NOT_PREPARED, SUCCESS, CallData, LocustData)

Z_95 = 1.959963984540054  # two-sided 95% normal quantile
PERCENTILES = (50, 90, 95, 99)
RATE_COLUMNS = ("calls", "judged", "successes", "failed", "simulator_errors", "not_prepared", "cancelled", "rate",
                "ci_low",
                "ci_high", "avg_duration_s", "avg_turns", "goals_met", "goals_total", "turn_p50_ms", "turn_p95_ms")
# What the error table says each outcome counts as (its rows are the calls that did not succeed).
COUNTED_AS = {AGENT_FAILURE: "agent failure", CALLER_ERROR: "simulator (not the agent)",
              NOT_PREPARED: "caller not prepared (not the agent)", CANCELLED: "not judged (cut off by the run's end)"}
# Unanswered agent questions listed in a report, most frequent first.
TOP_UNANSWERED = 10
LATENCY_METRICS = {"turn": "TURN response latency", "greeting": "greeting latency", "connect": "connect time"}
HEARING_COLUMNS = ("calls", "turns", "words", "errors", "wer")
BARGE_IN_COLUMNS = ("barge_ins", "stopped", "stop_p50_ms", "stop_p95_ms", "resumed", "repeated")


@dataclass
class Analysis:
    """Everything the renderers (text, JSON, charts, HTML) show; computed once from the loaded data."""

    data: CallData
    summary: dict
    by_personality: pd.DataFrame
    by_scenario: pd.DataFrame
    by_scenario_type: pd.DataFrame
    entries: pd.DataFrame
    pass_k: dict
    durations: dict
    latency: pd.DataFrame
    errors: pd.DataFrame
    locust: Optional[LocustData] = None
    hearing: dict = field(default_factory=dict)
    barge_ins: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BARGE_IN_COLUMNS))
    protocol_notes: list = field(default_factory=list)  # NoteSummary per kind of deviation (callers.results)

    @property
    def calls(self) -> pd.DataFrame:
        return self.data.calls

    @property
    def turns(self) -> pd.DataFrame:
        return self.data.turns


def records(frame: pd.DataFrame) -> list[tuple[Any, dict]]:
    """A table's (index, row) pairs with each value in its column's own type: renderers need counts to stay
    integers, which DataFrame.iterrows does not guarantee."""
    return list(frame.to_dict("index").items())


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval: unlike p +/- z*se it stays inside 0..1 and is honest at 0/n, n/n and small n."""
    if n <= 0:
        return math.nan, math.nan
    p = successes / n
    scale = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / scale
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / scale
    # In exact arithmetic the interval holds p; in floats its ends can miss 0/n and n/n by ~1e-15, which a
    # chart's error bars (p - low, high - p) must never see as negative.
    return min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


def percentile_summary(values: pd.Series) -> dict:
    """n, p50/p90/p95/p99, mean and max of the non-missing values (None where there are none)."""
    clean = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    summary: dict = {"n": int(clean.size)}
    for q in PERCENTILES:
        summary[f"p{q}"] = float(np.percentile(clean, q)) if clean.size else None
    summary["mean"] = float(clean.mean()) if clean.size else None
    summary["max"] = float(clean.max()) if clean.size else None
    return summary


def timed_turns(data: CallData) -> pd.DataFrame:
    """Turns whose latency may be trusted: everything but the turns of calls the simulator itself broke."""
    return data.turns[data.turns["outcome"] != CALLER_ERROR]


def judged_goals(calls: pd.DataFrame, column: str) -> pd.Series:
    """Goal counts of judged calls only: a cut-off or simulator-broken call never had the chance to meet them."""
    return calls[column].where(calls["outcome"].isin(JUDGED), 0)


def rate_table(data: CallData, key: Union[str, Sequence[str]]) -> pd.DataFrame:
    """One row per value of `key`: outcome counts, success rate and its Wilson interval, durations, goals and
    TURN latency p50 / p95."""
    keys = [key] if isinstance(key, str) else list(key)
    calls = data.calls.assign(
        successes=data.calls["outcome"].eq(SUCCESS), failed=data.calls["outcome"].eq(AGENT_FAILURE),
        simulator_errors=data.calls["outcome"].eq(CALLER_ERROR), cancelled=data.calls["outcome"].eq(CANCELLED),
        not_prepared=data.calls["outcome"].eq(NOT_PREPARED),
        judged_goals_met=judged_goals(data.calls, "goals_achieved"),
        judged_goals_total=judged_goals(data.calls, "goals_total"))
    table = calls.groupby(keys, sort=True).agg(
        calls=("call_id", "size"), successes=("successes", "sum"), failed=("failed", "sum"),
        simulator_errors=("simulator_errors", "sum"), cancelled=("cancelled", "sum"),
        not_prepared=("not_prepared", "sum"),
        avg_duration_s=("duration_s", "mean"), avg_turns=("turns", "mean"),
        goals_met=("judged_goals_met", "sum"), goals_total=("judged_goals_total", "sum"))
    table["judged"] = table["successes"] + table["failed"]
    table["rate"] = (table["successes"] / table["judged"]).where(table["judged"] > 0)
    intervals = [wilson_interval(int(s), int(n)) for s, n in zip(table["successes"], table["judged"])]
    table["ci_low"] = [low for low, _ in intervals]
    table["ci_high"] = [high for _, high in intervals]
    latency = timed_turns(data).groupby(keys, sort=True)["response_latency_ms"]
    table["turn_p50_ms"] = latency.quantile(0.50).reindex(table.index)
    table["turn_p95_ms"] = latency.quantile(0.95).reindex(table.index)
    return table[list(RATE_COLUMNS)]


def entry_table(data: CallData) -> pd.DataFrame:
    """One row per scenario entry (scenario x personality) with pass^k: did every one of its k attempts succeed?

    An entry with a cancelled or simulator-broken attempt is "incomplete": its pass^k is unknown (None) and it
    is left out of the overall pass^k rather than blamed on the agent."""
    table = rate_table(data, ["scenario", "personality"])
    table["k"] = table["calls"]
    complete = table["judged"] == table["calls"]
    table["pass_k"] = [bool(s == n) if done else None
                       for s, n, done in zip(table["successes"], table["calls"], complete)]
    return table


def pass_k_summary(entries: pd.DataFrame) -> dict:
    complete = entries[entries["pass_k"].notna()]
    passed = int(sum(bool(value) for value in complete["pass_k"]))
    low, high = wilson_interval(passed, len(complete))
    return {"k": int(entries["k"].max()) if len(entries) else 0, "entries": int(len(entries)),
            "complete": int(len(complete)), "passed": passed,
            "rate": passed / len(complete) if len(complete) else None,
            "ci_low": _finite(low), "ci_high": _finite(high)}


def summarise(data: CallData) -> dict:
    calls = data.calls
    counts = calls["outcome"].value_counts()
    successful, failed = int(counts.get(SUCCESS, 0)), int(counts.get(AGENT_FAILURE, 0))
    judged = successful + failed
    low, high = wilson_interval(successful, judged)
    total_duration = float(calls["duration_s"].sum())
    return {
        "total": int(len(calls)), "judged": judged, "successful": successful, "failed": failed,
        "simulator_errors": int(counts.get(CALLER_ERROR, 0)), "cancelled": int(counts.get(CANCELLED, 0)),
        "not_prepared": int(counts.get(NOT_PREPARED, 0)), "unanswered_asks": unanswered_asks(calls),
        # 0.0, not null, when nothing could be judged: CI scripts compare it with a threshold and must fail.
        "success_rate": successful / judged if judged else 0.0,
        "success_rate_ci": {"low": _finite(low), "high": _finite(high)},
        "total_duration_s": total_duration, "average_duration_s": total_duration / len(calls),
        "wall_time_s": (calls["ended_at"].max() - calls["started_at"].min()).total_seconds(),
        "started_at": calls["started_at"].min().isoformat(), "ended_at": calls["ended_at"].max().isoformat(),
        "goals_met": int(judged_goals(calls, "goals_achieved").sum()),
        "goals_total": int(judged_goals(calls, "goals_total").sum()),
        **uncertain_summary(calls),
        "cost": cost_summary(calls),
    }


def uncertain_summary(calls: pd.DataFrame) -> dict:
    """How much of the verdicts rests on weak evidence: goals judged "uncertain" (never counted as met),
    judged calls with any, and failed calls whose only unmet criteria are uncertain (ended cleanly, no
    failure condition): the calls the success rate could gain if those verdicts were in fact met; and how
    the judged calls' goals were judged (`verdicts`: calls per mode, rules or learned)."""
    judged = calls[calls["outcome"].isin(JUDGED)]
    hinging = sum(1 for call in judged.itertuples()
                  if call.outcome == AGENT_FAILURE and pd.isna(call.error_category) and pd.isna(call.failure_condition)
                  and call.uncertain_goals and set(call.unmet_goals) <= set(call.uncertain_goals))
    return {"goals_uncertain": int(judged["goals_uncertain"].sum()),
            "calls_with_uncertain": int((judged["goals_uncertain"] > 0).sum()),
            "failed_on_uncertain_only": hinging,
            "verdicts": {str(mode): int(count)
                         for mode, count in judged["verdicts"].value_counts().sort_index().items()}}


def unanswered_asks(calls: pd.DataFrame) -> list[dict]:
    """The agent questions callers could not answer, with how many calls each came up in (most first): what to
    add to the scenarios' context so the callers are prepared for this agent."""
    counts: dict[str, int] = {}
    for asks in calls["unanswered_asks"]:
        for ask in dict.fromkeys(asks):
            counts[ask] = counts.get(ask, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_UNANSWERED]
    return [{"ask": ask, "calls": n} for ask, n in ranked]


def cost_summary(calls: pd.DataFrame) -> Optional[dict]:
    """What the run cost in model tokens (calls with a Realtime brain or a judge), or None when nothing was
    costed. Per successful call divides the whole spend by the successes: what one success really costs,
    failures included."""
    costs = pd.to_numeric(calls["cost_usd"], errors="coerce")
    costed = costs.dropna()
    if costed.empty:
        return None
    total = float(costed.sum())
    successes = int((calls["outcome"] == SUCCESS).sum())
    return {"total_usd": total, "costed_calls": int(costed.size), "uncosted_calls": int(costs.isna().sum()),
            "per_call_usd": total / costed.size, "per_successful_call_usd": total / successes if successes else None}


def duration_stats(calls: pd.DataFrame) -> dict:
    durations = calls["duration_s"].astype(float)
    return {"n": int(durations.size), "min": float(durations.min()), "max": float(durations.max()),
            "mean": float(durations.mean()), "median": float(durations.median()),
            "std_dev": _finite(float(durations.std(ddof=1))) if durations.size > 1 else None}


def latency_table(data: CallData) -> pd.DataFrame:
    """Rows turn / greeting / connect: n, percentiles, mean, max in ms; 'unanswered' counts silent turns."""
    trusted = data.calls[data.calls["outcome"] != CALLER_ERROR]
    turns = timed_turns(data)["response_latency_ms"]
    rows = {
        "turn": {**percentile_summary(turns), "unanswered": int(turns.isna().sum())},
        "greeting": {**percentile_summary(trusted["greeting_latency_ms"]),
                     "unanswered": int(trusted["greeting_latency_ms"].isna().sum())},
        "connect": {**percentile_summary(trusted["connect_ms"]), "unanswered": None},
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def error_table(calls: pd.DataFrame) -> pd.DataFrame:
    """Why calls did not succeed: each error category, plus "goal not met" for calls that ended cleanly."""
    unsuccessful = calls[calls["outcome"] != SUCCESS]
    category = unsuccessful["error_category"].fillna(GOAL_NOT_MET).where(unsuccessful["outcome"] != NOT_PREPARED,
                                                                         CALLER_NOT_PREPARED)
    table = category.value_counts().rename_axis("category").to_frame("calls")
    # A category always has one outcome (callers.outcome decides by category first), so its first call's says it.
    outcome = unsuccessful.groupby(category)["outcome"].first()
    table["counted_as"] = [COUNTED_AS[outcome[name]] for name in table.index]
    order = sorted(table.index, key=lambda name: (-int(table.loc[name, "calls"]), name))
    return table.loc[order]


def hearing_table(data: CallData, key: str) -> pd.DataFrame:
    """The agent's word error rate per value of `key`, over the turns whose recognition was reported."""
    scored = data.turns.dropna(subset=["heard_errors", "heard_words"])
    scored = scored[scored["heard_words"] > 0]
    table = scored.groupby(key, sort=True).agg(calls=("call_id", "nunique"), turns=("turn", "size"),
                                               words=("heard_words", "sum"), errors=("heard_errors", "sum"))
    table["wer"] = table["errors"] / table["words"]
    return table[list(HEARING_COLUMNS)].astype({"calls": int, "turns": int, "words": int, "errors": int})


def hearing_summary(data: CallData) -> dict:
    """Overall and per personality / scenario / voice engine agent WER; empty when no bridge reported what it
    heard."""
    by_personality = hearing_table(data, "personality")
    if by_personality.empty:
        return {}
    words, errors = int(by_personality["words"].sum()), int(by_personality["errors"].sum())
    overall = {"calls": int(by_personality["calls"].sum()), "turns": int(by_personality["turns"].sum()),
               "words": words, "errors": errors, "wer": errors / words}
    return {"overall": overall, "by_personality": by_personality, "by_scenario": hearing_table(data, "scenario"),
            "by_voice_engine": hearing_table(data, "voice_engine")}


def barge_in_table(data: CallData) -> pd.DataFrame:
    """Per barge-in kind (interrupt, backchannel): how often the agent stopped, how fast, and whether it
    resumed after stopping and re-said what it was cut off in."""
    rows = {}
    for kind, group in data.barge_ins.groupby("kind", sort=True):
        stops = pd.to_numeric(group["stop_ms"], errors="coerce").dropna()
        rows[kind] = {"barge_ins": int(len(group)), "stopped": int(group["agent_stopped"].eq(True).sum()),
                      "stop_p50_ms": float(stops.quantile(0.5)) if len(stops) else None,
                      "stop_p95_ms": float(stops.quantile(0.95)) if len(stops) else None,
                      "resumed": int(group["agent_resumed"].eq(True).sum()),
                      "repeated": int(group["repeated"].eq(True).sum())}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(BARGE_IN_COLUMNS))


def analyse(data: CallData, locust: Optional[LocustData] = None) -> Analysis:
    entries = entry_table(data)
    return Analysis(data=data, summary=summarise(data), by_personality=rate_table(data, "personality"),
                    by_scenario=rate_table(data, "scenario"), by_scenario_type=rate_table(data, "scenario_type"),
                    entries=entries, pass_k=pass_k_summary(entries),
                    durations=duration_stats(data.calls), latency=latency_table(data),
                    errors=error_table(data.calls), locust=locust, hearing=hearing_summary(data),
                    barge_ins=barge_in_table(data), protocol_notes=summarise_notes(data.calls["protocol_notes"]))


def _finite(value: float) -> Optional[float]:
    return None if value is None or math.isnan(value) else value

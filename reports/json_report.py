"""The machine-readable report (NAME.json): what CI scripts and `python -m reports compare` read.

Contract: `summary.success_rate` is a fraction 0..1 (the seed's CI snippet compares it with 0.8), next to
`summary.total`, `summary.successful` and `summary.failed`. Breakdowns (`by_personality`, `by_scenario_type`,
`by_scenario`) are keyed by name so a script can read `breakdowns.by_scenario["angry_complaint"].rate` or
`breakdowns.by_scenario_type["complaint"].rate`; in every group `n` is the number of judged calls the rate
and its Wilson interval (`ci_low`, `ci_high`) are computed from. Missing numbers are null, never NaN, so the
file is strict JSON.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Union

import numpy as np
import pandas as pd

from reports.stats import Analysis, records

REPORT_VERSION = 1
GROUP_FIELDS = ("calls", "successes", "failed", "simulator_errors", "not_prepared", "cancelled", "rate", "ci_low",
                "ci_high", "avg_duration_s", "avg_turns", "goals_met", "goals_total", "turn_p50_ms", "turn_p95_ms")
CALL_FIELDS = ("index", "call_id", "caller_name", "personality", "scenario", "scenario_type", "outcome", "success",
               "turns", "goals_achieved", "goals_total", "goals_uncertain", "unmet_goals", "uncertain_goals",
               "failure_condition", "duration_s",
               "connect_ms", "greeting_latency_ms", "end_reason", "seed", "source", "cost_usd", "hearing_wer",
               "voice_engine", "recording", "unanswered_asks")


def report_dict(analysis: Analysis) -> dict:
    """The whole report as plain JSON types."""
    return _plain({
        "report_version": REPORT_VERSION,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sources": analysis.data.sources,
        "summary": analysis.summary,
        "breakdowns": {"by_personality": _groups(analysis.by_personality),
                       "by_scenario_type": _groups(analysis.by_scenario_type),
                       "by_scenario": _groups(analysis.by_scenario)},
        "flakiness": {"pass_k": analysis.pass_k, "entries": _entries(analysis)},
        "durations": analysis.durations,
        "latency_ms": dict(records(analysis.latency)),
        "errors": dict(records(analysis.errors)),
        "hearing": _hearing(analysis),
        "barge_ins": dict(records(analysis.barge_ins)),
        "protocol_notes": [asdict(summary) for summary in analysis.protocol_notes],
        "load": {"skipped_lines": [vars(item) for item in analysis.data.skipped],
                 "duplicates": analysis.data.duplicates},
        "locust": _locust(analysis),
        "calls": _calls(analysis),
    })


def write_json(analysis: Analysis, path: Union[str, Path]) -> Path:
    path = Path(path)
    path.write_text(json.dumps(report_dict(analysis), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


def _groups(table: pd.DataFrame) -> dict:
    return {str(name): {"n": row["judged"], **{key: row[key] for key in GROUP_FIELDS}}
            for name, row in records(table)}


def _hearing(analysis: Analysis) -> Any:
    """The agent's WER overall and `by_personality` / `by_scenario` / `by_voice_engine` (null when no bridge
    reported hearing)."""
    if not analysis.hearing:
        return None
    return {"overall": analysis.hearing["overall"],
            **{key: dict(records(analysis.hearing[key])) for key in ("by_personality", "by_scenario",
                                                                     "by_voice_engine")}}


def _entries(analysis: Analysis) -> list[dict]:
    return [{"scenario": scenario, "personality": personality, "k": row["k"], "n": row["judged"],
             **{key: row[key] for key in ("successes", "rate", "ci_low", "ci_high")}, "pass_k": row["pass_k"]}
            for (scenario, personality), row in records(analysis.entries)]


def _calls(analysis: Analysis) -> list[dict]:
    latencies = analysis.turns.groupby("call_id")["response_latency_ms"].apply(list).to_dict()
    calls = []
    for _, call in records(analysis.calls):
        entry = {key: call[key] for key in CALL_FIELDS}
        entry["started_at"] = call["started_at"].isoformat()
        entry["error"] = ({"category": call["error_category"], "message": call["error_message"]}
                          if call["error_category"] else None)
        entry["turn_latencies_ms"] = latencies.get(call["call_id"], [])
        calls.append(entry)
    return calls


def _locust(analysis: Analysis) -> Any:
    if analysis.locust is None:
        return None
    return {"prefix": analysis.locust.prefix, "stats": analysis.locust.stats.to_dict("records"),
            "history_rows": 0 if analysis.locust.history is None else len(analysis.locust.history)}


def _plain(value: Any) -> Any:
    """numpy / pandas scalars to Python, NaN and NaT to None, recursively."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value

"""Read call results (calls*.jsonl) and Locust's --csv output into pandas tables.

A results file is append-only and may be cut short by a killed writer, edited by hand or concatenated from
several runs, so loading never stops at a bad line: it keeps every readable call and remembers which lines
it skipped and why, so the report can say exactly what it left out.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Optional, Union

import numpy as np
import pandas as pd

from callers.outcome import Outcome, outcome_of
from callers.results import ProtocolNote

CALL_FILE_PATTERN = "*.jsonl"
LOCUST_STATS_SUFFIX = "_stats.csv"
LOCUST_HISTORY_SUFFIX = "_stats_history.csv"
LOCUST_PERCENTILES = ((0.5, "50%"), (0.66, "66%"), (0.75, "75%"), (0.8, "80%"), (0.9, "90%"), (0.95, "95%"),
                      (0.98, "98%"), (0.99, "99%"), (0.999, "99.9%"), (0.9999, "99.99%"), (1.0, "100%"))
LOCUST_JSON_COLUMNS = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                       "Average Response Time", "Min Response Time", "Max Response Time",
                       *(label for _, label in LOCUST_PERCENTILES)]
# Outcomes (callers.outcome, the one rule): every call is exactly one; only SUCCESS and AGENT_FAILURE are judged.
SUCCESS = Outcome.SUCCESS.value
AGENT_FAILURE = Outcome.AGENT_FAILURE.value
CALLER_ERROR = Outcome.CALLER_ERROR.value
NOT_PREPARED = Outcome.CALLER_NOT_PREPARED.value
CANCELLED = Outcome.CANCELLED.value
OUTCOMES = tuple(outcome.value for outcome in Outcome)
JUDGED = tuple(outcome.value for outcome in Outcome if outcome.judged)
GOAL_NOT_MET = "goal not met"
CALLER_NOT_PREPARED = "caller not prepared"
# The scenario type of a line that does not name one (written by hand or by another tool; CallResult has always
# had the field): a group of its own in the type breakdown, never merged into a real type.
UNKNOWN_SCENARIO_TYPE = "unknown"
CRITERION = "criterion"
SECONDARY = "secondary"
UNCERTAIN = "uncertain"
# Fields without which a line cannot be placed in any table; the rest have defaults.
REQUIRED_TEXT = ("call_id", "personality", "scenario", "started_at")
REQUIRED_NUMBER = ("duration_s",)
CALL_COLUMNS = ("index", "call_id", "caller_name", "personality", "scenario", "scenario_type", "started_at",
                "ended_at", "outcome", "success", "error_category", "error_message", "turns", "goals_achieved",
                "goals_total", "goals_uncertain", "unmet_goals", "uncertain_goals", "failure_condition", "duration_s",
                "connect_ms", "greeting_latency_ms", "end_reason", "seed", "source", "cost_usd", "hearing_wer",
                "voice_engine", "verdicts", "recording", "protocol_notes", "unanswered_asks")
OPTIONAL_TEXT = ("error_category", "error_message", "failure_condition")
TURN_COLUMNS = ("call_id", "personality", "scenario", "scenario_type", "outcome", "turn", "at", "response_latency_ms",
                "barge_in", "barge_in_stop_ms", "heard_errors", "heard_words", "voice_engine")
BARGE_IN_COLUMNS = ("call_id", "personality", "scenario", "kind", "prompt", "offset_ms", "agent_stopped", "stop_ms",
                    "agent_resumed", "resume_ms", "repeated")


class ReportInputError(Exception):
    """The input cannot give any report (missing path, nothing readable); the message is for the user."""


@dataclass
class SkippedLine:
    file: str
    line: int
    reason: str


@dataclass
class CallData:
    """Every readable call (one row each) and every turn of them, plus what was left out."""

    calls: pd.DataFrame
    turns: pd.DataFrame
    sources: list[str]
    skipped: list[SkippedLine] = field(default_factory=list)
    duplicates: int = 0
    barge_ins: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BARGE_IN_COLUMNS))


@dataclass
class LocustData:
    """Locust's request statistics (`PREFIX_stats.csv` or a `--json-file`) and, if present, their history."""

    prefix: str
    stats: pd.DataFrame
    history: Optional[pd.DataFrame] = None
    source: str = ""


def find_call_files(paths: Iterable[Union[str, Path]]) -> list[Path]:
    """Expand run directories to their *.jsonl files (Locust writes one per process) and check files exist."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(path.glob(CALL_FILE_PATTERN))
            if not inside:
                raise ReportInputError(f"{path}: no {CALL_FILE_PATTERN} result files in this directory")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise ReportInputError(f"{path}: no such file or directory")
    if not found:
        raise ReportInputError("no result files given")
    return found


def load_calls(paths: Iterable[Union[str, Path]]) -> CallData:
    """All readable calls of the given files / run directories; raises ReportInputError if there are none."""
    files = find_call_files(paths)
    records: list[dict] = []
    skipped: list[SkippedLine] = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as source:
            for number, line in enumerate(source, start=1):
                if not line.strip():
                    continue
                record, reason = _parse_line(line)
                if record is None:
                    skipped.append(SkippedLine(str(path), number, reason))
                else:
                    record["source"] = str(path)
                    records.append(record)
    if not records:
        raise ReportInputError(_nothing_readable(files, skipped))
    calls = pd.DataFrame([_call_row(record) for record in records], columns=CALL_COLUMNS[1:])
    for column in OPTIONAL_TEXT:
        # pandas stores a missing string as NaN; None keeps "no error" distinct from a text everywhere downstream.
        calls[column] = calls[column].astype(object).where(calls[column].notna(), None)
    calls["started_at"] = pd.to_datetime(calls["started_at"], utc=True, format="ISO8601")
    calls["ended_at"] = calls["started_at"] + pd.to_timedelta(calls["duration_s"], unit="s")
    before = len(calls)
    calls = calls.drop_duplicates("call_id", keep="first")
    calls = calls.sort_values(["started_at", "call_id"], kind="stable").reset_index(drop=True)
    calls.insert(0, "index", np.arange(1, len(calls) + 1))
    kept = set(calls["call_id"])
    turn_rows = [row for record in records if record["call_id"] in kept for row in _turn_rows(record)]
    turns = pd.DataFrame(turn_rows, columns=TURN_COLUMNS)
    turns = turns.drop_duplicates(["call_id", "turn"], keep="first").reset_index(drop=True)
    turns["response_latency_ms"] = pd.to_numeric(turns["response_latency_ms"], errors="coerce")
    turns["barge_in_stop_ms"] = pd.to_numeric(turns["barge_in_stop_ms"], errors="coerce")
    for column in ("heard_errors", "heard_words"):
        turns[column] = pd.to_numeric(turns[column], errors="coerce")
    barge_ins = pd.DataFrame([row for record in records if record["call_id"] in kept for row in _barge_in_rows(record)],
                             columns=BARGE_IN_COLUMNS)
    return CallData(calls=calls, turns=turns, sources=[str(path) for path in files], skipped=skipped,
                    duplicates=before - len(calls), barge_ins=barge_ins)


def describe_skipped(skipped: list[SkippedLine], limit: int = 20) -> list[str]:
    """One line per file: how many lines were skipped and which, e.g. 'calls.jsonl: 2 lines skipped (3, 7)'."""
    by_file: dict[str, list[SkippedLine]] = {}
    for item in skipped:
        by_file.setdefault(item.file, []).append(item)
    lines = []
    for name, items in by_file.items():
        numbers = ", ".join(str(item.line) for item in items[:limit])
        if len(items) > limit:
            numbers += f", ... ({len(items) - limit} more)"
        reasons = sorted({item.reason for item in items})
        plural = "line" if len(items) == 1 else "lines"
        lines.append(f"{name}: {len(items)} unreadable {plural} skipped (line {numbers}): {'; '.join(reasons)}")
    return lines


def data_problems(data: CallData) -> list[str]:
    """Everything a report of `data` leaves out, one sentence each (empty when the input was clean)."""
    problems = describe_skipped(data.skipped)
    if data.duplicates:
        problems.append(f"{data.duplicates} duplicate calls (same call_id) counted once")
    return problems


def load_locust(prefix: Union[str, Path]) -> LocustData:
    """Read `PREFIX_stats.csv` (required) and `PREFIX_stats_history.csv` (optional) as Locust's --csv wrote them."""
    prefix = str(prefix)
    stats_path = Path(prefix + LOCUST_STATS_SUFFIX)
    if not stats_path.is_file():
        raise ReportInputError(f"{stats_path}: Locust stats file not found (give the --csv prefix Locust used)")
    stats = _read_locust_csv(stats_path)
    history_path = Path(prefix + LOCUST_HISTORY_SUFFIX)
    history = _read_locust_csv(history_path) if history_path.is_file() else None
    if history is not None and "Timestamp" in history:
        history["Timestamp"] = pd.to_numeric(history["Timestamp"], errors="coerce")
    return LocustData(prefix=prefix, stats=stats, history=history, source=str(stats_path))


def load_locust_json(path: Union[str, Path]) -> LocustData:
    """Read Locust's `--json-file` output (one serialized stats entry per request name) into the same table
    as its CSV, percentiles computed from each entry's response-time histogram the way Locust does."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReportInputError(f"{path}: not a readable Locust JSON stats file ({error})") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and {"name", "method"} <= e.keys()
                                                for e in entries):
        raise ReportInputError(f"{path}: not a Locust JSON stats file (expected a list of stats entries)")
    stats = pd.DataFrame([_locust_json_row(entry) for entry in entries], columns=LOCUST_JSON_COLUMNS)
    return LocustData(prefix=str(path.with_suffix("")), stats=stats, source=str(path))


def _locust_json_row(entry: dict) -> dict:
    histogram = {float(time): int(count) for time, count in (entry.get("response_times") or {}).items()}
    requests = int(entry.get("num_requests") or 0)
    total = float(entry.get("total_response_time") or 0.0)
    row = {"Type": entry["method"], "Name": entry["name"], "Request Count": requests,
           "Failure Count": int(entry.get("num_failures") or 0),
           "Average Response Time": total / requests if requests else None,
           "Min Response Time": entry.get("min_response_time"), "Max Response Time": entry.get("max_response_time")}
    for fraction, label in LOCUST_PERCENTILES:
        row[label] = _histogram_percentile(histogram, fraction)
    row["Median Response Time"] = row["50%"]
    return row


def _histogram_percentile(histogram: dict[float, int], fraction: float) -> Optional[float]:
    """Locust's rule: the smallest recorded time with at most (1 - fraction) of the samples above it."""
    count = sum(histogram.values())
    if count == 0:
        return None
    above = 0
    for time in sorted(histogram, reverse=True):
        above += histogram[time]
        if count - above <= count * fraction:
            return time
    return min(histogram)


# ---- lines ------------------------------------------------------------------------------------------------

def _parse_line(line: str) -> tuple[Optional[dict], str]:
    try:
        record = json.loads(line)
    except ValueError:
        return None, "not valid JSON (a torn or corrupt line)"
    if not isinstance(record, dict):
        return None, "not a JSON object"
    for key in REQUIRED_TEXT:
        if not isinstance(record.get(key), str) or not record[key]:
            return None, f"field '{key}' missing or not text"
    for key in REQUIRED_NUMBER:
        value = record.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, f"field '{key}' missing or not a number"
    if not isinstance(record.get("success"), bool):
        return None, "field 'success' missing or not true/false"
    try:
        datetime.fromisoformat(record["started_at"])
    except ValueError:
        return None, "field 'started_at' is not an ISO 8601 time"
    error = record.get("error")
    if error is not None and not (isinstance(error, dict) and isinstance(error.get("category"), str)):
        return None, "field 'error' is neither null nor {category, message}"
    if not isinstance(record.get("turn_records", []), list) or not isinstance(record.get("goals", []), list):
        return None, "fields 'turn_records' / 'goals' must be lists"
    return record, ""


def _outcome(record: dict) -> str:
    return outcome_of(record["success"], (record.get("error") or {}).get("category"),
                      len(_unanswered_asks(record))).value


def _scenario_type(record: dict) -> str:
    value = record.get("scenario_type")
    return value if isinstance(value, str) and value else UNKNOWN_SCENARIO_TYPE


def _unmet_goals(record: dict) -> list[str]:
    """The success criteria the agent never satisfied: what "goal not met" means for this call."""
    return [str(goal.get("description", "")) for goal in record.get("goals", [])
            if isinstance(goal, dict) and goal.get("kind", CRITERION) == CRITERION and not goal.get("met")]


def _uncertain_goals(record: dict, kinds: tuple[str, ...] = (CRITERION,)) -> list[str]:
    """Goals heard only on weak evidence (verdict "uncertain"; lines written before verdicts have none)."""
    return [str(goal.get("description", "")) for goal in record.get("goals", [])
            if isinstance(goal, dict) and goal.get("kind", CRITERION) in kinds and goal.get("verdict") == UNCERTAIN]


def _call_row(record: dict) -> dict:
    error = record.get("error") or {}
    turn_records = record.get("turn_records") or []
    return {
        "call_id": record["call_id"], "caller_name": record.get("caller_name") or "",
        "personality": record["personality"], "scenario": record["scenario"],
        "scenario_type": _scenario_type(record), "started_at": record["started_at"], "ended_at": None,
        "outcome": _outcome(record), "success": record["success"],
        "error_category": error.get("category"), "error_message": error.get("message"),
        "turns": _whole(record.get("turns"), len(turn_records)),
        "goals_achieved": _whole(record.get("goals_achieved"), 0), "goals_total": _whole(record.get("goals_total"), 0),
        "goals_uncertain": len(_uncertain_goals(record, (CRITERION, SECONDARY))),
        "unmet_goals": _unmet_goals(record), "uncertain_goals": _uncertain_goals(record),
        "failure_condition": record.get("failure_condition"),
        "duration_s": float(record["duration_s"]), "connect_ms": _number(record.get("connect_ms")),
        "greeting_latency_ms": _number(record.get("greeting_latency_ms")),
        "end_reason": record.get("end_reason") or "", "seed": record.get("seed"), "source": record["source"],
        "cost_usd": _number(record.get("cost_usd")),
        "hearing_wer": _number(record.get("hearing_wer")), "voice_engine": _text_field(record, "voice_engine"),
        "verdicts": _text_field(record, "verdicts"), "recording": _recording(record),
        "protocol_notes": _protocol_notes(record),
        "unanswered_asks": _unanswered_asks(record),
    }


# Text fields added to the result line after its first version, and what a line written before them meant:
# the caller's lines were spoken by espeak, and its goals judged by the rules.
TEXT_FIELD_DEFAULTS = {"voice_engine": "espeak", "verdicts": "rules"}


def _text_field(record: dict, name: str) -> str:
    """A text field of the result line, or what an older line without it meant (TEXT_FIELD_DEFAULTS)."""
    value = record.get(name)
    return value if isinstance(value, str) and value else TEXT_FIELD_DEFAULTS[name]


def _unanswered_asks(record: dict) -> list[str]:
    """The agent's questions the caller could not answer (older files have none)."""
    asks = record.get("unanswered_asks")
    return [str(ask) for ask in asks] if isinstance(asks, list) else []


def _recording(record: dict) -> Optional[dict]:
    """A recorded call's files (caller_cli.py --record) as paths a reader can open: the file stores them
    relative to its own directory, so a moved run directory keeps its recordings."""
    stored = record.get("recording")
    if not isinstance(stored, dict):
        return None
    base = Path(record["source"]).resolve().parent
    return {kind: str(base / path) for kind, path in stored.items() if isinstance(path, str)} or None


def _protocol_notes(record: dict) -> list[ProtocolNote]:
    """The call's protocol notes (callers.results.ProtocolNote as JSON); malformed entries are left out."""
    notes = []
    for item in record.get("protocol_notes") or []:
        if not isinstance(item, dict) or not isinstance(item.get("what"), str):
            continue
        first_ms, count = _number(item.get("first_ms")), _number(item.get("count"))
        if first_ms is not None and count is not None:
            notes.append(ProtocolNote(item["what"], first_ms, int(count)))
    return notes


def _turn_rows(record: dict) -> list[dict]:
    started = pd.Timestamp(record["started_at"])
    if started.tzinfo is None:
        started = started.tz_localize("UTC")
    rows = []
    for position, turn in enumerate(record.get("turn_records") or [], start=1):
        if not isinstance(turn, dict):
            continue
        offset = _number(turn.get("caller_speech_end"))
        rows.append({
            "call_id": record["call_id"], "personality": record["personality"], "scenario": record["scenario"],
            "scenario_type": _scenario_type(record), "outcome": _outcome(record), "turn": turn.get("index", position),
            "at": started + pd.Timedelta(seconds=offset) if offset is not None else pd.NaT,
            "response_latency_ms": _number(turn.get("response_latency_ms")),
            "barge_in": bool(turn.get("barge_in")), "barge_in_stop_ms": _number(turn.get("barge_in_stop_ms")),
            "heard_errors": _number(turn.get("heard_errors")), "heard_words": _number(turn.get("heard_words")),
            "voice_engine": _text_field(record, "voice_engine"),
        })
    return rows


def _barge_in_rows(record: dict) -> list[dict]:
    """The call's barge-ins (callers.results.BargeInRecord as JSON); malformed entries are left out."""
    rows = []
    for item in record.get("barge_ins") or []:
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
            continue
        rows.append({"call_id": record["call_id"], "personality": record["personality"],
                     "scenario": record["scenario"], "kind": item["kind"], "prompt": item.get("prompt"),
                     "offset_ms": _number(item.get("offset_ms")), "agent_stopped": item.get("agent_stopped"),
                     "stop_ms": _number(item.get("stop_ms")), "agent_resumed": item.get("agent_resumed"),
                     "resume_ms": _number(item.get("resume_ms")), "repeated": item.get("repeated")})
    return rows


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _whole(value: Any, default: int) -> int:
    number = _number(value)
    return default if number is None else int(number)


def _nothing_readable(files: list[Path], skipped: list[SkippedLine]) -> str:
    names = ", ".join(str(path) for path in files)
    if not skipped:
        return f"no calls to report: {names} {'is' if len(files) == 1 else 'are'} empty"
    return "no readable calls to report; " + "; ".join(describe_skipped(skipped))


def _read_locust_csv(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, na_values=["N/A"])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ReportInputError(f"{path}: not a Locust CSV file ({error})") from None
    if "Name" not in table or "Type" not in table:
        raise ReportInputError(f"{path}: not a Locust CSV file (no 'Type' and 'Name' columns)")
    return table

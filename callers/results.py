"""What a call measured (TurnRecord, CallResult) and the append-only JSONL file they go to.

A finished call is written with one `os.write` on an O_APPEND descriptor and fsync'd before the next call
starts, so a killed run loses at most the calls in flight and concurrent writers never interleave lines.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence, Union
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

CALLS_FILE = "calls.jsonl"


@dataclass
class TurnRecord:
    """One caller utterance and the agent's answer to it.

    Times are seconds since the call began (before dialing), on the caller's monotonic clock.
    """

    index: int
    caller_text: str
    caller_speech_start: float
    caller_speech_end: float
    agent_text: str = ""
    response_latency_ms: Optional[float] = None
    agent_speech_ms: float = 0.0
    barge_in: bool = False
    barge_in_stop_ms: Optional[float] = None
    agent_stopped: Optional[bool] = None
    bot_heard: Optional[str] = None
    pacing_p99_ms: float = 0.0
    pacing_max_ms: float = 0.0
    # The longest pause the caller's own lateness opened inside this utterance (callers.runtime.pacer.longest_gap_ms):
    # above FELL_BEHIND_GAP_MS the agent may have heard the utterance end there, and the call is a
    # simulator_error.
    pacing_gap_ms: float = 0.0
    # The agent's hearing of this utterance (caller_text vs bot_heard, callers.media.word_errors), when reported.
    heard_errors: Optional[int] = None
    heard_words: Optional[int] = None
    heard_wer: Optional[float] = None
    dtmf: Optional[str] = None  # digits keyed on the phone pad instead of (or with) speaking
    # How far the agent's answer may have arrived before its timestamp (0 when the read that timed it held
    # nothing after it): above CALLER_OVERLOADED_P99_MS the turn is caller_overloaded.
    answer_read_lag_ms: float = 0.0
    caller_overloaded: bool = False  # the simulator was too busy to pace this turn's audio or read its answer on time


@dataclass
class BargeInRecord:
    """The caller talking over an agent prompt, and how the agent took it.

    `kind`: "interrupt" (the caller takes the turn; a good agent stops) or "backchannel" (a short "uh-huh"
    while listening; a good agent keeps talking). Times are ms; `offset_ms` runs from the prompt's
    playStream.start to the caller's first interrupting audio, `stop_ms` from that audio to the agent's stop.
    """

    kind: str
    prompt: int  # the agent prompt talked over, counted from 1 (the greeting) over the call
    text: str
    offset_ms: float
    planned_offset_ms: Optional[float] = None  # the moment the scenario or the caller's brain planned
    agent_stopped: Optional[bool] = None  # None: the prompt's end says nothing (see `undetermined`)
    stop_ms: Optional[float] = None
    agent_resumed: Optional[bool] = None  # after stopping: did it speak again before the caller went on?
    resume_ms: Optional[float] = None  # stop -> next prompt start
    repeated: Optional[bool] = None  # the prompt it resumed with re-said most of what was cut off
    undetermined: Optional[str] = None  # why agent_stopped is None (callers/call/barge_ins.py)


@dataclass
class CallError:
    """Why a call did not end cleanly: an ErrorCategory value (callers.errors) and a message for people."""

    category: str
    message: str

    @classmethod
    def from_dict(cls, data: dict) -> "CallError":
        if not isinstance(data.get("category"), str):
            raise ValueError("'error' has no 'category'")  # a hand-edited line: read_results skips it, by number
        return cls(category=data["category"], message=data.get("message", ""))


@dataclass
class TokenUsage:
    """The tokens one part of a call (its Realtime voice, its transcription, the judge) spent on one model.

    The kinds are what OpenAI bills apart; callers.services.pricing prices each. `responses` counts the
    model's answers summed here.
    """

    model: str
    responses: int = 0
    input_text: int = 0
    cached_text: int = 0
    input_audio: int = 0
    cached_audio: int = 0
    output_text: int = 0
    output_audio: int = 0

    @classmethod
    def from_dict(cls, data: dict) -> "TokenUsage":
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})


# The billed token kinds: every TokenUsage field but the model and the response count.
TOKEN_KINDS = tuple(item.name for item in fields(TokenUsage) if item.name not in ("model", "responses"))


@dataclass
class Verdict:
    """The judge's word on one success criterion; `met` is None when the model skipped it."""

    criterion: str
    met: Optional[bool]
    evidence: str = ""
    evidence_found: bool = False  # the quoted evidence really is in the transcript


@dataclass
class JudgeResult:
    """The end-of-call judge's verdicts, or why it gave none (`error`): never both, as on disk."""

    model: str
    verdicts: list[Verdict] = field(default_factory=list)
    all_met: bool = False
    error: Optional[str] = None

    def to_dict(self) -> dict:
        if self.error is not None:
            return {"model": self.model, "error": self.error}
        return {"model": self.model, "verdicts": [asdict(verdict) for verdict in self.verdicts],
                "all_met": self.all_met}

    @classmethod
    def from_dict(cls, data: dict) -> "JudgeResult":
        if data.get("error") is not None:
            return cls(model=data.get("model", ""), error=data["error"])
        return cls(model=data.get("model", ""), verdicts=[Verdict(**item) for item in data.get("verdicts", [])],
                   all_met=bool(data.get("all_met")))


@dataclass
class ProtocolNote:
    """One kind of deviation from the bot protocol that the call was carried through (docs/protocol.md).

    `first_ms` is counted from the call's WebSocket upgrade; `count` is how often it happened in the call.
    """

    what: str
    first_ms: float
    count: int


@dataclass
class NoteSummary:
    """One kind of deviation over many calls: how many calls showed it, how often in all, earliest first_ms."""

    what: str
    calls: int
    count: int
    first_ms: float


@dataclass
class CallResult:
    """One call, as one JSON line in calls.jsonl (field meanings in docs/metrics.md)."""

    call_id: str
    caller_name: str
    personality: str
    scenario: str
    scenario_type: str
    started_at: str
    bridge: str
    success: bool = False
    error: Optional[CallError] = None
    turns: int = 0
    goals_achieved: int = 0
    goals_total: int = 0
    goals_uncertain: int = 0  # goals heard only on weak evidence: not met, shown apart
    goals: list = field(default_factory=list)
    duration_s: float = 0.0
    connect_ms: Optional[float] = None
    greeting_latency_ms: Optional[float] = None
    greeting_text: str = ""
    turn_records: list = field(default_factory=list)
    end_reason: str = ""
    hung_up_by: Optional[str] = None
    failure_condition: Optional[str] = None
    brain: str = "scripted"
    ear: str = "none"
    voice_engine: str = "espeak"  # what spoke the caller's lines: espeak, piper, or the brain's own (realtime)
    verdicts: str = "rules"  # how goals were judged: rules, or learned (the rules with the learned judge's review)
    media_format: Optional[str] = None
    seed: Optional[int] = None
    t0_monotonic: Optional[float] = None
    usage: Optional[dict[str, TokenUsage]] = None  # by part: "realtime", "transcription", "judge"
    cost_usd: Optional[float] = None
    judge: Optional[JudgeResult] = None
    hearing_wer: Optional[float] = None  # the agent's word error rate over the turns it reported hearing
    barge_ins: list = field(default_factory=list)
    # With --record: {"wav", "json", "txt"} paths relative to the directory holding calls.jsonl.
    recording: Optional[dict] = None
    # Each time the connection dropped and the caller tried session.resume (--resume-on-drop):
    # {"at": s since call start, "after_turn", "dropped": why, "ok", "reason": bridge's answer, "attempts", "took_ms"}
    resumes: list = field(default_factory=list)
    greeting_read_lag_ms: float = 0.0  # as a turn's answer_read_lag_ms, for greeting_latency_ms
    caller_overloaded: bool = False  # some turn (or the greeting) showed an overloaded simulator
    # Deviations from the bot protocol the call was carried through, over every connection (ProtocolNote).
    protocol_notes: list = field(default_factory=list)
    # The agent's questions the caller could not answer (its profile lacked the answer), as the agent said
    # them; a goal missed after one is "caller not prepared" (callers/outcome.py), not an agent failure.
    unanswered_asks: list = field(default_factory=list)

    def __post_init__(self) -> None:
        # The parts as JSON (a results file, a test's literal) become their types here, in one place.
        if isinstance(self.error, dict):
            self.error = CallError.from_dict(self.error)
        if self.usage is not None:
            self.usage = {part: TokenUsage.from_dict(spent) if isinstance(spent, dict) else spent
                          for part, spent in self.usage.items()}
        if isinstance(self.judge, dict):
            self.judge = JudgeResult.from_dict(self.judge)

    @property
    def error_category(self) -> Optional[str]:
        return self.error.category if self.error else None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["judge"] = self.judge.to_dict() if self.judge is not None else None
        data["turn_records"] = [t if isinstance(t, dict) else asdict(t) for t in self.turn_records]
        data["barge_ins"] = [b if isinstance(b, dict) else asdict(b) for b in self.barge_ins]
        data["protocol_notes"] = [n if isinstance(n, dict) else asdict(n) for n in self.protocol_notes]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), default=_json_default)

    @classmethod
    def from_dict(cls, data: dict) -> "CallResult":
        known = {name for name in cls.__dataclass_fields__}
        result = cls(**{k: v for k, v in data.items() if k in known})
        # Lines written before a turn field was retired (a per-turn `ear`, always "none") still read.
        turn_fields = set(TurnRecord.__dataclass_fields__)
        result.turn_records = [TurnRecord(**{k: v for k, v in t.items() if k in turn_fields}) if isinstance(t, dict)
                               else t for t in result.turn_records]
        result.barge_ins = [BargeInRecord(**b) if isinstance(b, dict) else b for b in result.barge_ins]
        result.protocol_notes = [ProtocolNote(**n) if isinstance(n, dict) else n for n in result.protocol_notes or []]
        return result


def summarise_notes(notes_per_call: Iterable[Sequence[ProtocolNote]]) -> list[NoteSummary]:
    """Protocol notes by kind over a run (one list of notes per call), most widespread first: the one
    aggregation the console and every report show, so they agree."""
    kinds: dict[str, NoteSummary] = {}
    for notes in notes_per_call:
        for note in notes or []:
            summary = kinds.get(note.what)
            if summary is None:
                kinds[note.what] = NoteSummary(note.what, 1, note.count, note.first_ms)
            else:
                summary.calls += 1
                summary.count += note.count
                summary.first_ms = min(summary.first_ms, note.first_ms)
    return sorted(kinds.values(), key=lambda summary: (-summary.calls, summary.first_ms))


def note_lines(results: Sequence[CallResult]) -> list[str]:
    """One console line per kind of deviation, with how many of the run's calls showed it."""
    summaries = summarise_notes(result.protocol_notes for result in results)
    return [note_line(summary, len(results)) for summary in summaries]


def note_line(summary: NoteSummary, calls: int) -> str:
    """How every face prints one kind of deviation over a run of `calls` calls."""
    return f"protocol note: {summary.what} ({summary.calls} of {calls} call{'s' if calls != 1 else ''})"


def public_url(url: str) -> str:
    """The bridge URL without credentials or query string: what may appear in results and stats (even
    when the URL is malformed, since this is also how a bad URL is shown in its error message)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class ResultWriter:
    """Appends CallResults to one calls.jsonl; thread- and greenlet-safe; durable per call."""

    def __init__(self, path: Union[str, Path]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._tail_checked = False
        self.written = 0

    def write(self, result: CallResult) -> None:
        self.write_lines([result.to_json()])

    def write_lines(self, lines: Sequence[str]) -> None:
        """Append calls already in their JSON form (one line each, e.g. received from a Locust worker) with one
        write and one fsync, so they are on disk together or, after a crash, as whole lines up to a point."""
        data = "".join(line + "\n" for line in lines).encode("utf-8")
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                if not self._tail_checked:
                    data = _after_torn_line(fd) + data
                    self._tail_checked = True
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            self.written += len(lines)


def _after_torn_line(fd: int) -> bytes:
    """A newline if the file ends inside a line (a writer killed mid-write), so the next call starts a line
    of its own instead of being glued to the torn one and lost with it."""
    size = os.fstat(fd).st_size
    return b"\n" if size and os.pread(fd, 1, size - 1) != b"\n" else b""


def read_results(path: Union[str, Path]) -> Iterator[CallResult]:
    """Yield the calls in a calls.jsonl; a torn last line (a killed writer) is skipped, not fatal, even when
    it was cut inside a character."""
    with open(path, encoding="utf-8", errors="replace") as source:
        for number, line in enumerate(source, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                yield CallResult.from_dict(json.loads(line))
            except (ValueError, TypeError) as exc:
                log.warning("%s line %d skipped: not a call result (a torn or corrupt line: %s)", path, number,
                            type(exc).__name__)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")

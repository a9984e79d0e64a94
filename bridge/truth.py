"""Ground truth: what the bridge itself did in each call, one JSON object per line.

The caller measures a call from the outside; this log is the inside view to check it against (did the
agent really fulfil what the caller believes, what latency was injected vs. measured, when did it really
stop on barge-in). Times named `*_at` / `caller_audio_end` / `first_audio_sent` are `time.monotonic()`
seconds: the clock is system-wide on Linux, so a caller process on the same host compares them directly.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Optional

_MS_DIGITS = 1


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, _MS_DIGITS)


@dataclass
class TurnTruth:
    """One agent prompt and what triggered it (the greeting, a caller utterance, or DTMF digits)."""

    index: int
    trigger: str  # "greeting" | "speech" | "dtmf"
    caller_audio_end: Optional[float] = None  # userStream.stop arrival (DTMF: the activity's arrival)
    caller_audio_ms: Optional[float] = None  # length of the caller audio the bridge received
    heard: Optional[str] = None  # transcript or digits; None when running without an ear
    assumed: Optional[str] = None  # without an ear: the answer the dialogue pretended to hear
    stt_ms: Optional[float] = None  # recognition wall time, executor queueing included
    injected_ms: float = 0.0
    reply: str = ""
    state: str = ""
    intent: Optional[str] = None
    fulfilled: list[str] = field(default_factory=list)
    play_started: Optional[float] = None  # playStream.start written
    first_audio_sent: Optional[float] = None  # first voiced chunk written
    response_latency_ms: Optional[float] = None
    agent_audio_ms: float = 0.0  # audio actually sent (less than the prompt when cut off)
    barge_in: bool = False
    barge_in_at: Optional[float] = None  # voiced caller chunk that interrupted
    stopped_at: Optional[float] = None  # playStream.stop written because of it
    barge_in_stop_ms: Optional[float] = None

    def mark_first_audio(self, at: float) -> None:
        self.first_audio_sent = at
        if self.caller_audio_end is not None:
            self.response_latency_ms = _ms(at - self.caller_audio_end)

    def mark_barge_in(self, detected_at: float, stopped_at: float) -> None:
        self.barge_in = True
        self.barge_in_at = detected_at
        self.stopped_at = stopped_at
        self.barge_in_stop_ms = _ms(stopped_at - detected_at)

    def set_stt(self, seconds: float) -> None:
        self.stt_ms = _ms(seconds)


@dataclass
class CallTruth:
    conversation_id: Optional[str]  # None for a connection refused at the upgrade (before any session)
    caller: Optional[str]
    started_at: str  # UTC ISO 8601, session.initiate arrival
    ear: str
    media_format: Optional[str] = None  # caller audio, as accepted
    play_format: Optional[str] = None  # agent audio
    error: Optional[str] = None  # why the session was refused, if it was
    fault: Optional[str] = None  # the injected fault this call suffered (bridge.faults), None for a clean call
    connection: Optional[int] = None  # a refused connection's index on this bridge (the `refuse` draw's key)
    accepted_at: Optional[float] = None
    start_at: Optional[float] = None  # start activity arrival
    ended_at: Optional[float] = None
    duration_s: Optional[float] = None
    scenario_hint: Optional[str] = None  # scenarioType from the start activity, if sent
    language: str = "en"  # the start activity's language (its two-letter code): the language the agent spoke
    agent_flow: Optional[str] = None  # the flow the agent played (--agent-flow); None: the reference policy
    scenario_type: Optional[str] = None  # what the agent understood the first request to be
    verified: bool = False
    identity_failures: int = 0
    reprompts: int = 0
    fulfilled: list[str] = field(default_factory=list)
    transferred: bool = False
    barge_ins: int = 0
    backchannels: int = 0  # short caller utterances over a prompt, not taken as interruptions or turns
    resumes: int = 0  # times the caller continued this call with session.resume after a drop
    hung_up_by: Optional[str] = None  # "bot" | "caller" | "drop"
    end_reason: Optional[str] = None  # session.end reasonCode / reason
    turns: list[TurnTruth] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)


class TruthLog:
    """Append-only JSONL, one line per finished call, flushed at once so a killed bridge loses no call.

    One instance per process, used from the event-loop thread only: lines never interleave.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: Optional[IO[str]] = open(path, "a", encoding="utf-8")

    def write(self, call: CallTruth) -> None:
        if self._file is None:
            raise ValueError(f"truth log {self.path} is closed")
        self._file.write(call.to_json() + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

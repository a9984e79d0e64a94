"""A call as it sounded and as it went: a stereo WAV (caller left, agent right) and a transcript (JSON and text).

Built after the call from what the call already measured, so recording changes no timing: the caller's
frames with the monotonic time the first one left the socket, and the agent's play streams with the arrival
time of every chunk. Both tracks sit on that one clock from the call's start, so silences, slow answers and
talk-over (a barge-in, an agent that keeps talking) are where they happened.

Placing caller audio: an utterance's frames sit back to back from the moment its first frame left; the paced
sender holds them to absolute deadlines, so that is where they were (its lateness is in each TurnRecord).

Placing agent audio: a phone plays a stream's chunks in order, each no earlier than it arrived and no
earlier than the previous one finished. For a bridge that paces its audio in real time that is simply the
arrival time; a bridge that bursts a prompt ahead is heard at speaking pace, as a caller would hear it.
Audio a bridge sent after its own playStream.stop is not played (it never is on a phone line).

The transcript is turn by turn (greeting, then each caller utterance and the agent's answer to it): who,
from when to when (seconds since the call started), what (the caller's words; what the caller heard of the
agent), the agent's voice-to-voice latency, and what the bot said it heard, when it said so.
"""
from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from callers.media import audio
from callers.outcome import outcome_of_result
from callers.results import CallResult
from callers.transport.telephony import AgentStream, SpeechTiming

log = logging.getLogger(__name__)

RECORDING_RATE = audio.PCM_RATE
RECORDINGS_DIR = "recordings"
CALLER, AGENT = 0, 1  # WAV channels: left, right
_INT16 = np.iinfo(np.int16)


@dataclass
class SentUtterance:
    """One caller utterance as it went out: the frames actually sent and when the first one left."""

    frames_b64: Sequence[str]
    timing: SpeechTiming
    media_format: audio.MediaFormat

    def pcm(self) -> np.ndarray:
        payload = b"".join(base64.b64decode(frame) for frame in self.frames_b64[:self.timing.frames])
        return audio.resample(audio.decode_audio(payload, self.media_format), self.media_format.sample_rate,
                              RECORDING_RATE)


@dataclass
class Segment:
    """Where one stream's audio plays in the recording (seconds since the call started)."""

    stream: AgentStream
    start_s: float
    end_s: float
    runs: list  # (start sample, int16 samples at RECORDING_RATE) per stretch of gapless play-out


class CallRecorder:
    """Collects a call's caller audio as it is sent, then writes the three files when the call is over."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.sent: list[SentUtterance] = []

    def caller_spoke(self, frames_b64: Sequence[str], timing: SpeechTiming, media_format: audio.MediaFormat) -> None:
        self.sent.append(SentUtterance(frames_b64, timing, media_format))

    def save(self, result: CallResult, streams: Sequence[AgentStream]) -> Optional[dict]:
        """Write <call_id>.wav/.json/.txt; returns their paths relative to the directory of calls.jsonl, or
        None if they could not be written (logged: a full disk must not turn a finished call into a crash)."""
        try:
            return self._write(result, streams)
        except OSError as error:
            log.error("call %s: recording not written: %s", result.call_id, error)
            return None

    def _write(self, result: CallResult, streams: Sequence[AgentStream]) -> dict:
        t0 = result.t0_monotonic
        segments = [place_stream(stream, t0) for stream in streams]
        stereo = mix(self.sent, segments, t0, result.duration_s)
        transcript = build_transcript(result, segments)
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = self.directory / result.call_id
        paths = {"wav": stem.with_suffix(".wav"), "json": stem.with_suffix(".json"),
                 "txt": stem.with_suffix(".txt")}
        audio.write_wav(paths["wav"], stereo, RECORDING_RATE)
        document = {"call_id": result.call_id, "caller_name": result.caller_name,
                    "personality": result.personality, "scenario": result.scenario, "bridge": result.bridge,
                    "started_at": result.started_at, "duration_s": round(len(stereo) / RECORDING_RATE, 3),
                    "recording": paths["wav"].name, "sample_rate": RECORDING_RATE,
                    "channels": {"left": "caller", "right": "agent"}, "ear": result.ear, "entries": transcript,
                    "outcome": outcome(result)}
        paths["json"].write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        paths["txt"].write_text(readable_transcript(document), encoding="utf-8")
        base = self.directory.parent
        return {kind: os.path.relpath(path, base) for kind, path in paths.items()}


def place_stream(stream: AgentStream, t0: float) -> Segment:
    """Play-out of one stream: each chunk at max(its arrival, the end of the previous chunk)."""
    rate = stream.media_format.sample_rate
    runs: list = []
    cursor: Optional[float] = None
    run_start: Optional[float] = None
    run_chunks: list[np.ndarray] = []

    def close_run() -> None:
        if run_chunks:
            pcm = audio.resample(np.concatenate(run_chunks), rate, RECORDING_RATE)
            runs.append((int(round((run_start - t0) * RECORDING_RATE)), pcm))

    for arrived_at, samples in stream.chunks():
        if stream.stopped_at is not None and arrived_at > stream.stopped_at:
            break
        if cursor is None or arrived_at > cursor:
            close_run()
            run_start, cursor, run_chunks = arrived_at, arrived_at, []
        run_chunks.append(samples)
        cursor += len(samples) / rate
    close_run()
    start = (stream.first_voiced_at or stream.first_chunk_at or stream.started_at) - t0
    end = (cursor - t0) if cursor is not None else start
    return Segment(stream, round(start, 3), round(end, 3), runs)


def mix(sent: Sequence[SentUtterance], segments: Sequence[Segment], t0: float, duration_s: float) -> np.ndarray:
    """(samples, 2) int16: caller left, agent right, on one timeline from the call's start."""
    pieces = [(CALLER, int(round((u.timing.started_at - t0) * RECORDING_RATE)), u.pcm()) for u in sent]
    pieces += [(AGENT, offset, pcm) for segment in segments for offset, pcm in segment.runs]
    length = max([int(round(duration_s * RECORDING_RATE))] + [max(0, o) + len(p) for _, o, p in pieces])
    tracks = np.zeros((length, 2), dtype=np.int32)
    for channel, offset, pcm in pieces:
        offset = max(0, offset)
        tracks[offset:offset + len(pcm), channel] += pcm
    return np.clip(tracks, _INT16.min, _INT16.max).astype(np.int16)


def build_transcript(result: CallResult, segments: Sequence[Segment]) -> list[dict]:
    """Greeting, then per turn the caller's utterance and the agent's answer, in time order.

    Agent audio belongs to the turn whose caller utterance began last before it started (the greeting before
    the first utterance), so a prompt the caller talked over stays with the turn it answered."""
    turns = result.turn_records
    starts = [turn.caller_speech_start for turn in turns]
    buckets: list[list[Segment]] = [[] for _ in range(len(turns) + 1)]
    for segment in segments:
        opened = segment.stream.started_at - result.t0_monotonic
        buckets[int(np.searchsorted(starts, opened, side="right"))].append(segment)
    entries = []
    if buckets[0] or result.greeting_text:
        entries.append(_agent_entry(0, buckets[0], result.greeting_text, result.greeting_latency_ms, "greeting"))
    for number, turn in enumerate(turns, start=1):
        caller = {"speaker": "caller", "turn": turn.index, "start_s": turn.caller_speech_start,
                  "end_s": turn.caller_speech_end, "text": turn.caller_text}
        if turn.bot_heard is not None:
            caller["bot_heard"] = turn.bot_heard
        if turn.barge_in:
            caller["barge_in"] = True
            caller["agent_stopped_ms"] = turn.barge_in_stop_ms if turn.agent_stopped else None
            caller["agent_stopped"] = turn.agent_stopped
        entries.append(caller)
        if buckets[number] or turn.agent_text:
            entries.append(_agent_entry(turn.index, buckets[number], turn.agent_text, turn.response_latency_ms,
                                        "response"))
    return entries


def _agent_entry(turn: int, segments: Sequence[Segment], text: str, latency_ms: Optional[float],
                 latency_kind: str) -> dict:
    entry = {"speaker": "agent", "turn": turn,
             "start_s": min((s.start_s for s in segments), default=None),
             "end_s": max((s.end_s for s in segments), default=None), "text": text,
             "latency_ms": latency_ms, "latency_kind": latency_kind, "prompts": len(segments)}
    return entry


def readable_transcript(document: dict) -> str:
    """The transcript as a person reads it: one block per utterance, times in seconds since the start."""
    lines = [f"Call {document['call_id']}: {document['caller_name']} ({document['personality']} caller, "
             f"scenario {document['scenario']})",
             f"Bridge {document['bridge']}, started {document['started_at']}, {document['duration_s']:.1f} s",
             f"Recording {document['recording']} (left: caller, right: agent); agent words as heard by the "
             f"caller (ear: {document['ear']})", ""]
    for entry in document["entries"]:
        span = _span(entry["start_s"], entry["end_s"])
        text = entry["text"] or "(not transcribed)"
        if entry["speaker"] == "agent":
            latency = entry["latency_ms"]
            label = "greeting" if entry["latency_kind"] == "greeting" else "answer"
            timing = f"{label} after {latency:.0f} ms" if latency is not None else f"{label}, latency unknown"
            lines.append(f"{span} AGENT   [{timing}] {text}")
            continue
        lines.append(f"{span} CALLER  {text}")
        if entry.get("barge_in"):
            stopped = entry["agent_stopped_ms"]
            if entry.get("agent_stopped", True) is None:
                how = "its prompt ended by itself)"
            else:
                how = f"it stopped after {stopped:.0f} ms)" if stopped is not None else "it kept talking)"
            lines.append(f"{'':18} (cut in on the agent; {how}")
        if "bot_heard" in entry:
            lines.append(f"{'':18} bot heard: {entry['bot_heard']!r}")
    lines += ["", f"Outcome: {document['outcome']}"]
    return "\n".join(lines) + "\n"


def outcome(result: CallResult) -> str:
    """The call's outcome (callers.outcome's rule, so a transcript agrees with the reports) and what it rests on."""
    verdict = outcome_of_result(result).value.upper()
    error = f", {result.error.category}: {result.error.message}" if result.error else ""
    return (f"{verdict}: goals {result.goals_achieved}/{result.goals_total}, {result.turns} turns; "
            f"ended: {result.end_reason}{error}")


def _span(start: Optional[float], end: Optional[float]) -> str:
    if start is None:
        return f"[{'?':>7} - {'?':>7}]"
    return f"[{start:7.2f} - {end:7.2f}]"

"""RealtimeBrain: the caller is an OpenAI Realtime speech model with its own connection, one per caller.

How a call flows:
- Before the bridge is dialled, the brain opens its session: the personality's prompt and the scenario
  (goal, criteria, the details the caller may give, traits) become the instructions; the model plays the
  caller, never the agent; an `end_call` tool lets it hang up.
- `PhoneLine` feeds the model what a phone caller hears: the agent's audio as it arrives (any media format,
  resampled to 24 kHz PCM) and silence in between, in real time, so the model's server VAD sees a
  continuous line and can tell when the agent stopped talking.
- Turn-taking is the model's: after its VAD sees the agent stop (silence for the personality's window) it
  answers. The finished answer is the caller's next utterance; CallerAgent plays it to the bridge (resampled
  to the call's format, paced in real time). While the agent is still talking, an interrupting personality
  may cut in with it (barge-in, never twice in a row); any other waits for the agent to finish, and drops
  the answer if the agent goes on talking (the model answers again once the agent stops).
- What the caller heard is the session's transcription of the agent's audio; goals are judged on it.
- Tokens from every `response.done` (and from the transcriptions) are summed into the call's usage.
"""
from __future__ import annotations

import base64
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import gevent
import numpy as np
from gevent.event import Event

from callers.brains.base import Brain, HeardTurn, Reply
from callers.errors import CallFailure, ErrorCategory
from callers.media import audio
from callers.results import TokenUsage
from callers.scenario.goals import GoalTracker
from callers.scenario.personality import CallerPersonality
from callers.scenario.scenarios import CallerScenario
from callers.services import pricing
from callers.services.realtime_session import REALTIME_RATE, RealtimeSession, RealtimeSettings

if TYPE_CHECKING:
    from callers.transport.telephony import AgentStream, AudioCodesClient

log = logging.getLogger(__name__)

# The line is fed every LINE_TICK_S; a prompt whose chunks pause longer than LINE_GAP_S is quiet (silence).
LINE_TICK_S = 0.05
LINE_GAP_S = 0.2
MAX_SILENCE_FILL_S = 0.5
# The model's VAD waits this long in silence before answering: the personality's response delay, bounded.
MIN_SILENCE_MS = 250
MAX_SILENCE_MS = 1500
# CallerAgent's own end-of-turn fallback comes this much later than the model's window.
PAUSE_MARGIN_S = 0.6
# How long the caller waits for the model's answer once the agent's turn is over, and when it asks for one
# itself (the model's VAD may miss a quiet agent).
REPLY_WAIT_S = 12.0
NUDGE_AFTER_S = 2.0
TRANSCRIPT_WAIT_S = 2.0
# Speech speed relative to the model's normal pace (GA range 0.25-1.5), from the personality's words/minute.
NORMAL_RATE_WPM = 165
SPEED_RANGE = (0.5, 1.5)
END_CALL_TOOL = {
    "type": "function", "name": "end_call",
    "description": "Hang up the phone. Call it after saying goodbye, when your goal is met or you give up.",
    "parameters": {"type": "object", "properties": {"reason": {"type": "string", "description": "why you hang up"}},
                   "required": ["reason"]},
}
CALLER_RULES = (
    "You are the CALLER on a phone call to a company's voice agent; the other voice is the agent. Speak only as "
    "the caller: never play the agent, never offer help. Say one or two short sentences per turn, then let the "
    "agent answer. Give the details below only when they are asked for or needed. When your goal is met, or you "
    "give up, say a brief goodbye and call the end_call tool.")


def caller_instructions(personality: CallerPersonality, scenario: CallerScenario) -> str:
    """The session instructions: who the caller is, what it wants, what it knows, how it behaves."""
    goal = scenario.goal
    lines = [CALLER_RULES, ""]
    if personality.prompt.strip():
        lines += [personality.prompt.strip(), ""]
    lines.append(f"Your manner: {', '.join(personality.traits)}; {personality.communication_style}. "
                 f"Patience {personality.patience_level}/10, comfort with technology {personality.tech_comfort}/10.")
    lines.append(f"Why you are calling ({scenario.scenario_type.value.replace('_', ' ')}): {goal.primary_goal}.")
    if goal.secondary_goals:
        lines.append(f"You would also like: {'; '.join(goal.secondary_goals)}.")
    if goal.success_criteria:
        lines.append(f"You are satisfied when: {'; '.join(goal.success_criteria)}.")
    if scenario.context:
        lines.append("What you know and may say when asked:")
        lines += [f"- {key.replace('_', ' ')}: {value}" for key, value in scenario.context.items()]
    lines.append(f"Speak {scenario.language}.")
    return "\n".join(lines)


def silence_window_ms(personality: CallerPersonality) -> int:
    """How long the agent must be quiet before this caller answers: its response delay, bounded."""
    return int(min(MAX_SILENCE_MS, max(MIN_SILENCE_MS, personality.response_delay_s * 1000.0)))


def session_config(personality: CallerPersonality, scenario: CallerScenario, settings: RealtimeSettings) -> dict:
    """The GA `session.update` body for one caller."""
    silence_ms = silence_window_ms(personality)
    speed = min(SPEED_RANGE[1], max(SPEED_RANGE[0], personality.speaking_rate_wpm / NORMAL_RATE_WPM))
    pcm = {"type": "audio/pcm", "rate": REALTIME_RATE}
    return {
        "type": "realtime",
        "output_modalities": ["audio"],
        "instructions": caller_instructions(personality, scenario),
        "audio": {
            "input": {"format": pcm,
                      "transcription": {"model": settings.transcription_model,
                                        "language": scenario.language.split("-")[0]},
                      "turn_detection": {"type": "server_vad", "silence_duration_ms": silence_ms,
                                         "prefix_padding_ms": 300, "create_response": True,
                                         "interrupt_response": True}},
            "output": {"format": pcm, "voice": settings.voice, "speed": round(speed, 2)},
        },
        "tools": [END_CALL_TOOL],
        "tool_choice": "auto",
    }


@dataclass
class _Answer:
    """One model response as it streams in."""

    response_id: str
    audio: list = field(default_factory=list)
    transcript: str = ""
    item_id: Optional[str] = None
    hang_up_reason: Optional[str] = None
    cut_in: bool = False


class PhoneLine:
    """The caller's ear: the agent's audio as it arrives, and silence between prompts, fed in real time."""

    def __init__(self, client: "AudioCodesClient", session: RealtimeSession) -> None:
        self.client = client
        self.session = session
        self.last_voice_at = time.monotonic()
        self._greenlet: Optional[gevent.Greenlet] = None
        self._stream: Optional["AgentStream"] = None
        self._read = 0
        self._resampler: Optional[audio.StreamResampler] = None

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)

    def _run(self) -> None:
        started = time.monotonic()
        sent = 0
        while True:
            gevent.sleep(LINE_TICK_S)
            pieces = self._new_audio()
            now = time.monotonic()
            owed = int((now - started) * REALTIME_RATE) - sent
            stream = self._stream
            quiet = (stream is None or not stream.open
                     or now - (stream.last_chunk_at or stream.started_at) > LINE_GAP_S)
            if pieces:
                samples = np.concatenate(pieces)
                self.last_voice_at = now
            elif quiet and owed > 0:
                samples = np.zeros(min(owed, int(MAX_SILENCE_FILL_S * REALTIME_RATE)), dtype=np.int16)
            else:
                continue
            if len(samples):
                self.session.append_audio(base64.b64encode(samples.astype("<i2").tobytes()).decode("ascii"))
                sent += len(samples)

    def _new_audio(self) -> list:
        """Everything received since the last tick, at 24 kHz; the previous prompt is drained first."""
        pieces = []
        current = self.client.current_stream
        if current is not self._stream:
            if self._stream is not None:
                pieces.append(self._drain(last=True))
            self._stream, self._read = current, 0
            self._resampler = (audio.StreamResampler(current.media_format.sample_rate, REALTIME_RATE)
                               if current is not None else None)
        if self._stream is not None:
            pieces.append(self._drain(last=False))
        return [piece for piece in pieces if len(piece)]

    def _drain(self, last: bool) -> np.ndarray:
        chunks = self._stream.chunks_after(self._read)
        self._read += len(chunks)
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        return self._resampler.push(samples, last=last)


class RealtimeBrain(Brain):
    name = "realtime"
    live = True
    hearing = "realtime"

    def __init__(self, personality: CallerPersonality, scenario: CallerScenario, settings: RealtimeSettings,
                 seed: Optional[int] = None) -> None:
        self.personality = personality
        self.scenario = scenario
        self.settings = settings
        self.random = random.Random(seed)
        self.session = RealtimeSession(settings, self._on_event)
        self.line: Optional[PhoneLine] = None
        self._answers: dict[str, _Answer] = {}
        self._ready: Optional[_Answer] = None
        self._ready_event = Event()
        self._in_flight = 0
        self._speech_open = False
        self._cut_in_last = False
        self._pending_transcripts: set[str] = set()
        self._transcripts: list[str] = []
        self._transcribed = Event()
        self._usage: dict[str, TokenUsage] = {}
        self._failure: Optional[str] = None

    # ---- Brain interface ---------------------------------------------------------------------------------

    def open(self) -> None:
        self.session.open(session_config(self.personality, self.scenario, self.settings))

    def listen_to(self, client: "AudioCodesClient") -> None:
        self.line = PhoneLine(client, self.session)
        self.line.start()

    def wants_to_speak(self, agent_talking: bool) -> bool:
        self._check()
        answer = self._ready
        if answer is None:
            return False
        return answer.cut_in or not agent_talking

    def respond(self, heard: HeardTurn, goals: GoalTracker) -> Reply:
        self._cut_in_last = False
        if goals.failure:
            return Reply(None, hang_up=True, reason=f"failure condition: {goals.failure}")
        if heard.turn >= self.scenario.goal.max_conversation_turns:
            return Reply(None, hang_up=True, reason="turn limit reached")
        return self._reply(self._take_answer())

    def barge_in(self, heard: HeardTurn, goals: GoalTracker) -> Reply:
        reply = self.respond(heard, goals)
        self._cut_in_last = True
        return reply

    def interruption_offset(self, alt_text: Optional[str]) -> Optional[float]:
        return None  # the model's own turn detection decides when to talk over the agent

    def pause_before_reply(self) -> float:
        """The agent's turn is over once the model answers; this is only the fallback when it does not."""
        return silence_window_ms(self.personality) / 1000.0 + PAUSE_MARGIN_S

    def heard_text(self, fallback: str) -> str:
        deadline = time.monotonic() + TRANSCRIPT_WAIT_S
        while self._pending_transcripts and time.monotonic() < deadline:
            self._transcribed.clear()
            self._transcribed.wait(max(0.0, deadline - time.monotonic()))
        text = " ".join(t for t in self._transcripts if t)
        self._transcripts.clear()
        return text or fallback

    def usage(self) -> Optional[dict[str, TokenUsage]]:
        return self._usage or None

    def close(self) -> None:
        if self.line is not None:
            self.line.stop()
        self.session.close()

    # ---- answers -----------------------------------------------------------------------------------------

    def _take_answer(self) -> _Answer:
        """The model's answer to the agent's turn, asking for one if its VAD stayed silent."""
        asked_at = time.monotonic()
        nudged = False
        while self._ready is None:
            self._check()
            now = time.monotonic()
            if now - asked_at > REPLY_WAIT_S:
                raise CallFailure(ErrorCategory.BRAIN_ERROR,
                                  f"the model gave no answer within {REPLY_WAIT_S:g} s of the agent's turn")
            if not nudged and self._in_flight == 0 and now - asked_at > NUDGE_AFTER_S:
                nudged = True
                if self._speech_open:
                    self.session.commit_and_respond()
                else:
                    self.session.send({"type": "response.create"})
            self._ready_event.clear()
            gevent.wait([self._ready_event, self.session.failed], timeout=0.1, count=1)
        answer, self._ready = self._ready, None
        return answer

    def _reply(self, answer: _Answer) -> Reply:
        pcm = np.frombuffer(b"".join(answer.audio), dtype="<i2").astype(np.int16)
        hang_up = answer.hang_up_reason is not None
        reason = f"caller ended the call: {answer.hang_up_reason}" if hang_up else ""
        if not len(pcm):
            return Reply(answer.transcript or None, hang_up=hang_up, reason=reason)
        return Reply(answer.transcript, hang_up=hang_up, reason=reason, audio=pcm, audio_rate=REALTIME_RATE)

    def _check(self) -> None:
        failure = self.session.failure or self._failure
        if failure is not None:
            raise CallFailure(ErrorCategory.BRAIN_ERROR, failure)

    # ---- server events (receive greenlet) ----------------------------------------------------------------

    def _on_event(self, event: dict) -> None:
        kind = event.get("type", "")
        if kind == "response.output_audio.delta":
            answer = self._answer(event.get("response_id"))
            answer.audio.append(base64.b64decode(event.get("delta", "")))
            answer.item_id = answer.item_id or event.get("item_id")
        elif kind == "input_audio_buffer.speech_started":
            self._speech_open = True
            self._agent_resumed()
        elif kind == "input_audio_buffer.speech_stopped":
            self._speech_open = False
        elif kind == "input_audio_buffer.committed":
            self._pending_transcripts.add(event.get("item_id"))
        elif kind in ("conversation.item.input_audio_transcription.completed",
                      "conversation.item.input_audio_transcription.failed"):
            self._pending_transcripts.discard(event.get("item_id"))
            self._transcripts.append((event.get("transcript") or "").strip())
            if event.get("usage"):
                pricing.add_tokens(self._usage, "transcription", self.settings.transcription_model,
                                   pricing.transcription_tokens(event["usage"]))
            self._transcribed.set()
        elif kind == "response.created":
            self._in_flight += 1
            self._answer((event.get("response") or {}).get("id"))
        elif kind == "response.output_audio_transcript.done":
            self._answer(event.get("response_id")).transcript = (event.get("transcript") or "").strip()
        elif kind == "response.function_call_arguments.done" and event.get("name") == END_CALL_TOOL["name"]:
            self._answer(event.get("response_id")).hang_up_reason = _reason(event.get("arguments"))
        elif kind == "response.done":
            self._on_response_done(event.get("response") or {})

    def _answer(self, response_id: Optional[str]) -> _Answer:
        key = response_id or "?"
        if key not in self._answers:
            self._answers[key] = _Answer(key)
        return self._answers[key]

    def _on_response_done(self, response: dict) -> None:
        self._in_flight = max(0, self._in_flight - 1)
        if response.get("usage"):
            pricing.add_tokens(self._usage, "realtime", self.settings.model,
                               pricing.realtime_tokens(response["usage"]))
        answer = self._answers.pop(response.get("id") or "?", None)
        status = response.get("status")
        if status == "failed":
            error = ((response.get("status_details") or {}).get("error") or {})
            self._failure = f"OpenAI Realtime response failed: {error.get('code') or error.get('type') or 'no reason'}"
            self.session.failed.set()
            return
        if answer is None or status != "completed" or not (answer.audio or answer.hang_up_reason):
            return  # cancelled (the agent talked over it) or empty: the model answers again later
        answer.cut_in = not self._cut_in_last and self.random.random() < self.personality.tendency_to_interrupt
        if self._ready is not None and self._ready.item_id:
            self.session.delete_item(self._ready.item_id)  # never said: the newer answer replaces it
        self._ready = answer
        self._ready_event.set()

    def _agent_resumed(self) -> None:
        """The agent talks again before a polite caller answered: that answer is stale, so it is dropped
        (and removed from the model's memory, since the caller never said it)."""
        answer = self._ready
        if answer is not None and not answer.cut_in:
            self._ready = None
            if answer.item_id:
                self.session.delete_item(answer.item_id)


def _reason(arguments: Optional[str]) -> str:
    try:
        return str(json.loads(arguments or "{}").get("reason") or "goal reached")
    except (ValueError, AttributeError):
        return "goal reached"

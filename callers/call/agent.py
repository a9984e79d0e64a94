"""CallerAgent: one simulated caller running one call end to end, returning a CallResult.

The call is a loop of listen -> decide -> speak around AudioCodesClient. Times come from the client's
receive path (stamped on arrival) and from the paced sender (stamped on departure); this module only
subtracts them. Every way a call can go wrong ends in a CallResult with an error category, written to disk
before the next call starts; the only exception that escapes is the run being cancelled, after its
`cancelled` result is written.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Union

import gevent

from callers.brains.base import Brain, HeardTurn, Reply
from callers.brains.scripted import ScriptedBrain
from callers.call import echo, events
from callers.call.barge_ins import PREPARATION, BargeInLog
from callers.call.recording import CallRecorder
from callers.errors import CallFailure, ErrorCategory
from callers.media import line, native_threads, phrasebook, speech, word_errors
from callers.media.delivery import Delivery, speaking_style
from callers.results import (BargeInRecord, CallError, CallResult, ProtocolNote, ResultWriter, TurnRecord,
                              public_url)
from callers.runtime import async_call
from callers.runtime.pacer import longest_gap_ms
from callers.scenario.goals import LEARNED, VERDICT_MODES, GoalTracker
from callers.scenario.personality import CallerPersonality, get_personality
from callers.scenario.scenario_actions import BACKCHANNEL, INTERRUPT, BargeInPlan, barge_in_plan_for
from callers.scenario.scenarios import CallerScenario
from callers.services import pricing
from callers.services.judge import CallJudge
from callers.transport.telephony import (ACCEPT_TIMEOUT_S, DEFAULT_BRIDGE_URL, AgentStream, AgentStreamStarted,
                                         AgentStreamStopped, AgentVoiceStarted, AudioCodesClient, BotActivity,
                                         BotSpeechEvent, ConnectionClosed, ProtocolViolation, SessionRejected,
                                         SpeechTiming)
from callers.wire import protocol

log = logging.getLogger(__name__)

EAR_MODES = ("auto", "stt", "alttext", "none")
GREETING_WAIT_S = 15.0
# After the caller stops, a prompt that ends and is followed by another within the caller's pause is
# the same agent turn; a bridge whose chunks stop without playStream.stop is treated as stopped after:
CHUNK_SILENCE_AS_STOP_S = 0.5
# An agent still talking this long after the caller cut in did not stop for the barge-in: a prompt that
# merely ran to its end later is not counted as stopping, whatever the length of the interjection.
BARGE_IN_STOP_WAIT_S = 2.0
HANGUP_GRACE_S = 3.0
# A bridge that keeps dropping the same call is not resumed forever.
MAX_RESUMES_PER_CALL = 3
# A send that failed on a lost connection can precede the receive path noticing the loss by a moment.
DROP_NOTICE_WAIT_S = 1.0
# Beyond the call's own timeout, a hard stop catches a wedged call (it should never trigger).
HARD_TIMEOUT_MARGIN_S = 15.0
# One thread for the learned judge: its embedding caches are not shared between threads.
JUDGE_THREADS = 1
_WORDS_PER_SECOND_ESTIMATE = 2.7
# A caller asked to say something again says it at this fraction of its usual rate.
SLOWER_RATE_FACTOR = 0.75
# How often a live brain (its own turn detection) is asked whether it wants the floor.
LIVE_POLL_S = 0.05
# Audio pacing says how busy the simulator was while the caller spoke (its receive path shares the same
# loop). A turn whose frames left more than OVERLOADED late at p99 is flagged `caller_overloaded`: its
# latency includes some of our own queueing. So is a turn whose answer was read with the loop stalled by
# more than OVERLOADED (AgentStream.voice_read_lag_ms), since its arrival stamp may be a later chunk's.
# A flagged turn keeps its verdict: late frames carry the same words. What late pacing can change is what
# the agent heard, when it opens a pause in the caller's speech long enough for an end-of-speech detector
# to end the utterance there (silence windows in use start around 200-250 ms; human speech has pauses of
# 150 ms within it). A pause over FELL_BEHIND_GAP_MS makes the call a simulator_error, never blamed on the
# agent (docs/metrics.md). One rule for a one-off call and for every call of a load run.
CALLER_OVERLOADED_P99_MS = 15.0
FELL_BEHIND_GAP_MS = 150.0
# What the caller notes of a bot that leaves out what the protocol makes optional (never refused as strict):
# prompts without altText, a greeting without words, no report of what the bot heard.
NO_ALT_TEXT = "prompt without altText"
GREETING_WITHOUT_WORDS = "greeting without words (a tone, or an empty altText)"
NO_SPEECH_EVENTS = "no userStream.speech.* events (the bot reports nothing of what it heard)"
PACING_ADVICE = ("close other programs or start them with `nice`, run fewer callers per process (more worker "
                 "processes), or hear the agent by --ear alttext (the caller's own recogniser shares its CPU)")


@dataclass
class AgentTurn:
    """Everything the agent did between two caller utterances."""

    streams: list = field(default_factory=list)
    first_voiced_at: Optional[float] = None
    first_voiced_stream: Optional[AgentStream] = None
    text: str = ""
    hung_up: bool = False
    transferred_to: Optional[str] = None
    interrupt_stream: Optional[AgentStream] = None
    interrupt_prompt: int = 0
    interrupt_plan: Optional[BargeInPlan] = None
    # A planned cut-in is decided ahead of its moment (`interrupt_at`) by as long as callers of this process
    # take to have their audio ready (barge_ins.PREPARATION), so it is spoken on time whatever the voice.
    interrupt_at: Optional[float] = None
    decided_at: Optional[float] = None
    heard: list = field(default_factory=list)

    @property
    def speech_ms(self) -> float:
        return sum(stream.audio_ms for stream in self.streams)


class CallOutcome:
    """start_call's answer: truthy when the call succeeded, and awaitable so `await caller.start_call()` works.

    Outside asyncio the call has run by the time start_call returns (`result` is set). Called from an
    asyncio task, start_call returns a pending outcome instead, and awaiting it runs the call on the caller
    thread (callers/runtime/async_call.py) while the task's loop keeps running; taking its truth without awaiting
    runs the call right there, as before."""

    def __init__(self, result: Optional[CallResult] = None, *, agent: Optional["CallerAgent"] = None,
                 timeout: float = 60.0) -> None:
        if result is None and agent is None:
            raise ValueError("CallOutcome needs a result or a caller to run")
        self.result = result
        self._agent = agent
        self._timeout = timeout
        self._running: Optional[async_call.AsyncCall] = None

    @property
    def pending(self) -> bool:
        """Whether the call has yet to run (or is running, awaited)."""
        return self.result is None

    def __bool__(self) -> bool:
        if self.result is None:
            if self._running is not None:
                raise RuntimeError("this call is running on the caller thread: await it")
            self.result = self._agent.run(self._timeout)
        return self.result.success

    def __eq__(self, other: object) -> bool:
        return bool(self) == other

    def __hash__(self) -> int:
        return hash(bool(self))

    def __await__(self):
        return self._value().__await__()

    async def _value(self) -> bool:
        if self.result is None:
            if self._running is None:
                self._running = self._agent._start_async(self._timeout)
            self.result = await self._running.result()
        return bool(self)

    def __repr__(self) -> str:
        if self.result is None:
            return f"CallOutcome(pending, caller={self._agent.caller_name!r})"
        return f"CallOutcome(success={bool(self)}, call_id={self.result.call_id!r})"


class CallerAgent:
    """A caller with a personality and a scenario, dialling one bridge (the seed's API, kept as written)."""

    def __init__(self, bridge_url: str = DEFAULT_BRIDGE_URL,
                 personality: Union[CallerPersonality, str] = "normal",
                 scenario: Optional[CallerScenario] = None, caller_name: str = "TestCaller",
                 caller_phone: str = "+15551234567", *, token: Optional[str] = None,
                 brain: Optional[Brain] = None, ear: str = "auto", seed: Optional[int] = None,
                 writer: Optional[ResultWriter] = None, media_formats: Optional[tuple] = None,
                 frame_ms: int = 20, sslopt: Optional[dict] = None,
                 recordings_dir: Optional[Path] = None, resume_on_drop: bool = False,
                 judge: Optional[CallJudge] = None, accept_timeout_s: float = ACCEPT_TIMEOUT_S,
                 strict_protocol: bool = False, voice_engine: str = "espeak", verdicts: str = "rules") -> None:
        if scenario is None:
            raise ValueError("CallerAgent needs a scenario (see callers.scenario.scenarios.load_scenarios)")
        if ear not in EAR_MODES:
            raise ValueError(f"ear must be one of {', '.join(EAR_MODES)}, not {ear!r}")
        if voice_engine not in speech.VOICE_ENGINES:
            raise ValueError(f"voice engine must be one of {', '.join(speech.VOICE_ENGINES)}, not {voice_engine!r}")
        if verdicts not in VERDICT_MODES:
            raise ValueError(f"verdicts must be one of {', '.join(VERDICT_MODES)}, not {verdicts!r}")
        if verdicts == LEARNED:
            from callers.scenario.sentence_encoder import ModelUnavailable, model_dir
            try:
                model_dir()  # before any call: a missing model is this one error, not one per call
            except ModelUnavailable as exc:
                raise ValueError(f"verdicts 'learned': {exc}") from None
        self.verdicts = verdicts
        self.bridge_url = bridge_url
        self.personality = get_personality(personality) if isinstance(personality, str) else personality
        self.scenario = scenario
        self.caller_name = caller_name
        self.caller_phone = caller_phone
        self.seed = seed
        # The bundled recogniser hears English only: in another language the caller follows the agent's
        # altText (and says so in its results) rather than act on English-sounding nonsense.
        language = scenario.language.split("-")[0].lower()
        self.ear_mode = ear if ear in ("none", "alttext") or language in speech.WhisperEar.languages else "alttext"
        self.brain = brain or ScriptedBrain(self.personality, scenario, seed=seed)
        self.writer = writer
        self.judge = judge
        self.frame_ms = frame_ms
        self.resume_on_drop = resume_on_drop
        self.style = speaking_style(self.personality.speaking_rate_wpm, self.personality.pitch, self.personality.voice,
                                    self.personality.natural_voice, scenario.language, voice_engine)
        self.delivery = Delivery(self.personality.hesitation_rate, self.personality.sentence_pause_ms)
        self._delivery_rng = random.Random(f"{seed}:delivery") if seed is not None else random.Random()
        self._client_options = {"token": token, "caller_phone": caller_phone, "frame_ms": frame_ms,
                                "sslopt": sslopt, "keep_agent_audio": ear not in ("none", "alttext") or self.brain.live,
                                "accept_timeout_s": accept_timeout_s, "strict": strict_protocol}
        if media_formats:
            self._client_options["media_formats"] = media_formats
        self.recorder = CallRecorder(recordings_dir) if recordings_dir is not None else None
        if self.recorder is not None:
            self._client_options["keep_streams"] = True
        self.client: Optional[AudioCodesClient] = None
        self.result: Optional[CallResult] = None
        self._ears_used: set[str] = set()
        self._last_said: Optional[TurnRecord] = None  # what the bot's next recognition result is about
        self._barge_ins = BargeInLog([])
        self._barge_in_turns: dict[int, TurnRecord] = {}  # id of a barge-in's record -> the turn it began
        self._async_call: Optional[async_call.AsyncCall] = None  # the call awaited last, if any
        self._notes: dict[str, ProtocolNote] = {}  # deviations the caller saw itself (an echo), by kind

    # ---- the seed's API ----------------------------------------------------------------------------------

    def __enter__(self) -> "CallerAgent":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.client is not None:
            self.client.hang_up()

    async def __aenter__(self) -> "CallerAgent":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Leaving the block (an exception, a cancelled task) ends an awaited call still in flight: hung up
        and its result written before the block is left."""
        running = self._async_call
        if running is not None and not running.done:
            await running.cancel()
        elif running is None:
            self.__exit__(*exc_info)

    def start_call(self, timeout: float = 60.0) -> CallOutcome:
        """Run the call and report whether it succeeded. Outside asyncio: to its end, blocking the current
        greenlet. From an asyncio task: `await` it, and it runs on the caller thread while the task's loop
        goes on (see CallOutcome)."""
        if _in_asyncio_task():
            return CallOutcome(agent=self, timeout=timeout)
        return CallOutcome(self.run(timeout))

    def _start_async(self, timeout: float) -> async_call.AsyncCall:
        if self._async_call is not None and not self._async_call.done:
            raise RuntimeError(f"caller {self.caller_name!r} is already in a call")
        self._async_call = async_call.AsyncCall(lambda: self.run(timeout))
        return self._async_call

    # ---- the call ----------------------------------------------------------------------------------------

    def run(self, timeout: float = 60.0) -> CallResult:
        """One whole call; always returns a CallResult (written to the writer, if any) unless cancelled."""
        self.client = AudioCodesClient(self.bridge_url, **self._client_options)
        result = CallResult(
            call_id=self.client.conversation_id, caller_name=self.caller_name, personality=self.personality.name,
            scenario=self.scenario.name or self.scenario.scenario_type.value,
            scenario_type=self.scenario.scenario_type.value,
            started_at=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            bridge=public_url(self.bridge_url), brain=self.brain.name, ear=self.ear_mode, seed=self.seed,
            voice_engine=self.brain.name if self.brain.live else self.style.engine, verdicts=self.verdicts)
        self.result = result
        self._barge_ins = BargeInLog(result.barge_ins)
        self._barge_in_turns = {}
        self._notes = {}
        tracker = GoalTracker(self.scenario.goal, review=_learned_review if self.verdicts == LEARNED else None)
        started = time.monotonic()
        result.t0_monotonic = started
        cancelled = None
        try:
            # A model-backed brain connects before the bridge is dialled; waiting for it is not call time.
            self.brain.open()
            started = result.t0_monotonic = time.monotonic()
            with gevent.Timeout(timeout + HARD_TIMEOUT_MARGIN_S,
                                CallFailure(ErrorCategory.CALL_TIMEOUT, f"call exceeded {timeout:g} s")):
                self._converse(result, tracker, started, started + timeout)
        except CallFailure as failure:
            result.error = CallError(failure.category.value, failure.message)
        except gevent.GreenletExit as exit_:
            result.error = CallError(ErrorCategory.CANCELLED.value, "run ended during the call")
            cancelled = exit_
        except Exception as exc:  # noqa: BLE001 - the caller itself broke: a result, never a crashed run
            log.exception("caller %s failed", self.caller_name)
            result.error = CallError(ErrorCategory.SIMULATOR_ERROR.value, f"{type(exc).__name__}: {exc}")
        finally:
            self.client.hang_up()
            self.brain.close()
        self._finish(result, tracker, started)
        if cancelled is not None:
            raise cancelled
        return result

    def _finish(self, result: CallResult, tracker: GoalTracker, started: float) -> None:
        result.duration_s = round(time.monotonic() - started, 3)
        result.connect_ms = _round(self.client.connect_ms)
        result.media_format = self.client.media_format.token if self.client.media_format else None
        # The client's notes cover every connection of the call (a resume keeps them), then the caller's own.
        result.protocol_notes = [ProtocolNote(**note) for note in self.client.protocol_notes]
        if self.client.session.speech_events == 0 and any(turn.caller_text or not turn.dtmf
                                                          for turn in result.turn_records):
            self._note(NO_SPEECH_EVENTS)
        result.protocol_notes += self._notes.values()
        result.turns = len(result.turn_records)
        result.caller_overloaded = (any(turn.caller_overloaded for turn in result.turn_records)
                                    or result.greeting_read_lag_ms > CALLER_OVERLOADED_P99_MS)
        result.goals = [status.to_dict() for status in tracker.statuses]
        result.goals_achieved = tracker.achieved
        result.goals_total = tracker.total
        result.goals_uncertain = tracker.uncertain
        result.failure_condition = tracker.failure
        if self.brain.hearing:
            self._ears_used = (self._ears_used - {"none"}) | {self.brain.hearing}
        result.ear = "+".join(sorted(self._ears_used)) or self.ear_mode
        result.hearing_wer = word_errors.combined_wer((t.heard_errors, t.heard_words) for t in result.turn_records)
        self._barge_ins.caller_spoke()
        for barge_in in self._barge_ins.settle():
            turn = self._barge_in_turns.get(id(barge_in))
            if turn is not None:
                turn.agent_stopped, turn.barge_in_stop_ms = barge_in.agent_stopped, barge_in.stop_ms
        result.success = result.error is None and tracker.primary_met and tracker.failure is None
        if not result.end_reason:
            result.end_reason = result.error.category if result.error else "call ended"
        result.unanswered_asks = self.brain.unanswered_asks()
        result.usage = self.brain.usage()
        if self.judge is not None and result.error_category != ErrorCategory.CANCELLED.value:
            self.judge.judge(result, self.scenario.goal)
        result.cost_usd = pricing.default_prices().cost_usd(result.usage)
        if self.recorder is not None and self.client.accepted_at is not None:
            result.recording = self.recorder.save(result, self.client.streams)
        if self.writer is not None:
            self.writer.write(result)
        events.call_finished.fire(call=self, result=result)

    def _converse(self, result: CallResult, tracker: GoalTracker, started: float, deadline: float) -> None:
        client = self.client
        client.connect()
        self.brain.listen_to(client)
        events.call_connected.fire(call=self, connect_ms=client.connect_ms)
        client.start_conversation(self.caller_name, language=self.scenario.language,
                                  extra_parameters={"scenarioType": self.scenario.scenario_type.value})
        while True:  # once, or again after a dropped connection was resumed
            try:
                greeting = self._listen(started, deadline, wait_s=max(GREETING_WAIT_S, self.personality.max_wait_s))
                break
            except CallFailure as failure:
                self._resume_or_raise(failure, result, started)
        greeting.text = self.brain.heard_text(greeting.text)
        if greeting.first_voiced_at is None:
            if greeting.hung_up:
                raise CallFailure(ErrorCategory.BRIDGE_CLOSED, "agent hung up before greeting")
            raise CallFailure(ErrorCategory.NO_ANSWER, "agent did not greet the caller")
        result.greeting_latency_ms = _round((greeting.first_voiced_at - client.greeting_from_at) * 1000.0)
        result.greeting_read_lag_ms = round(greeting.first_voiced_stream.voice_read_lag_ms, 2)
        result.greeting_text = greeting.text
        if not greeting.text.strip() and self.ear_mode != "none":
            self._note(GREETING_WITHOUT_WORDS)
        events.greeting_heard.fire(call=self, latency_ms=result.greeting_latency_ms, text=greeting.text)
        heard = HeardTurn(text=greeting.text, turn=0, new_goals_met=len(tracker.observe(0, greeting.text)))
        agent_turn = greeting
        while True:
            if agent_turn.hung_up:
                result.hung_up_by, result.end_reason = "bot", "agent hung up"
                return
            if agent_turn.interrupt_stream is not None:
                reply = self.brain.barge_in(heard, tracker)
            else:
                reply = self.brain.respond(heard, tracker)
            if reply.dtmf and not reply.text:
                result.turn_records.append(self._key(reply.dtmf, len(result.turn_records) + 1, started, agent_turn))
            elif reply.dtmf:
                client.send_dtmf(reply.dtmf)
            speaking_over = agent_turn
            spoke = bool(reply.text) or reply.audio is not None
            while True:  # once, or again after a dropped connection was resumed: unanswered, the caller repeats
                try:
                    if spoke:
                        record = self._speak(reply.text or "", len(result.turn_records) + 1, started, speaking_over,
                                             slower=reply.slower, reply=reply)
                        record.dtmf = reply.dtmf
                        result.turn_records.append(record)
                        if record.pacing_gap_ms > FELL_BEHIND_GAP_MS:
                            raise CallFailure(ErrorCategory.SIMULATOR_ERROR,
                                              f"caller fell behind real time: its audio stopped for "
                                              f"{record.pacing_gap_ms:.0f} ms in the middle of turn {record.index}, "
                                              "long enough for an agent to take it as the end of the utterance; "
                                              "the load generator is overloaded")
                    if reply.hang_up:
                        result.hung_up_by, result.end_reason = "caller", reply.reason
                        return
                    if time.monotonic() >= deadline:
                        raise CallFailure(ErrorCategory.CALL_TIMEOUT, "call reached its timeout")
                    agent_turn = self._listen(started, deadline, wait_s=self.personality.max_wait_s)
                    break
                except CallFailure as failure:
                    self._resume_or_raise(failure, result, started)
                    speaking_over = AgentTurn()
            agent_turn.text = self.brain.heard_text(agent_turn.text)
            record = result.turn_records[-1] if spoke or reply.dtmf else None
            if agent_turn.first_voiced_at is None and not agent_turn.hung_up:
                if record is not None:
                    events.turn_completed.fire(call=self, turn=record)
                raise CallFailure(ErrorCategory.NO_ANSWER,
                                  f"agent silent for {self.personality.max_wait_s:g} s after the caller spoke")
            latency = None
            if record is not None:
                record.agent_text = agent_turn.text
                record.agent_speech_ms = round(agent_turn.speech_ms, 1)
                if agent_turn.first_voiced_at is not None:
                    latency = (agent_turn.first_voiced_at - started - record.caller_speech_end) * 1000.0
                    record.response_latency_ms = _round(latency)
                    record.answer_read_lag_ms = round(agent_turn.first_voiced_stream.voice_read_lag_ms, 2)
                    if record.answer_read_lag_ms > CALLER_OVERLOADED_P99_MS:
                        record.caller_overloaded = True
                events.turn_completed.fire(call=self, turn=record)
            index = len(result.turn_records)
            heard = HeardTurn(text=agent_turn.text, turn=index, response_latency_ms=latency,
                              new_goals_met=len(tracker.observe(index, self._agent_words(agent_turn.text, result))),
                              was_cut_off=agent_turn.interrupt_stream is not None)

    def _agent_words(self, text: str, result: CallResult) -> str:
        """What of the agent's turn may count for a goal: not the sentences that are only the caller's own
        recent words heard back (an echoing bot), which are noted on the call instead."""
        said = [turn.caller_text for turn in result.turn_records if turn.caller_text]
        kept, echoed = echo.split_echoes(text, said[-echo.RECENT_UTTERANCES:])
        if echoed:
            self._note(echo.ECHO_NOTE, echoed)
        return kept

    def _note(self, what: str, count: int = 1) -> None:
        """A deviation the caller itself saw (the transport notes the protocol's), timed as the transport's."""
        note = self._notes.get(what)
        if note is None:
            origin = self.client.socket_open_at or time.monotonic()
            note = self._notes[what] = ProtocolNote(what, round((time.monotonic() - origin) * 1000.0, 1), 0)
        note.count += count

    def _resume_or_raise(self, failure: CallFailure, result: CallResult, started: float) -> None:
        """After a call-ending failure: if it was a dropped connection and resuming is on (and not used up),
        continue the call with session.resume and record how that went; otherwise, or if the bridge will not
        resume, the call ends as bridge_closed with the reason."""
        if failure.category is not ErrorCategory.BRIDGE_CLOSED or not self.resume_on_drop:
            raise failure
        self.client.wait_closed(DROP_NOTICE_WAIT_S)
        dropped = self.client.dropped
        if dropped is None or len(result.resumes) >= MAX_RESUMES_PER_CALL:
            raise failure
        at = time.monotonic()
        outcome = self.client.resume()
        resume = {"at": round(at - started, 3), "after_turn": len(result.turn_records), "dropped": dropped,
                  "ok": outcome.ok, "reason": outcome.reason, "attempts": outcome.attempts,
                  "took_ms": round(outcome.took_s * 1000.0, 1)}
        result.resumes.append(resume)
        log.info("call %s: connection dropped (%s); resume %s: %s", self.client.conversation_id, dropped,
                 "succeeded" if outcome.ok else "failed", outcome.reason)
        events.call_resumed.fire(call=self, resume=resume)
        if not outcome.ok:
            raise CallFailure(ErrorCategory.BRIDGE_CLOSED, f"{dropped}; session.resume failed: {outcome.reason}")

    # ---- speaking ----------------------------------------------------------------------------------------

    def _speak(self, text: str, index: int, started: float, agent_turn: AgentTurn, slower: bool = False,
               reply: Optional[Reply] = None) -> TurnRecord:
        """One caller utterance: the brain's own audio when it has a voice (a speech model), else `text`
        rendered in this caller's voice."""
        interrupting = agent_turn.interrupt_stream
        self._barge_ins.caller_spoke()
        if reply is not None and reply.audio is not None:
            timing = self._send(phrasebook.encode_frames(reply.audio, reply.audio_rate,
                                                         self.client.media_format.token, self.frame_ms))
        else:
            style = self.style
            if slower:
                style = replace(style, rate_wpm=max(speech.MIN_RATE_WPM, round(style.rate_wpm * SLOWER_RATE_FACTOR)))
            text = self.delivery.spoken(text, self._delivery_rng)
            timing = self._say(text, style, agent_turn)
        record = TurnRecord(index=index, caller_text=text, caller_speech_start=round(timing.started_at - started, 4),
                            caller_speech_end=round(timing.ended_at - started, 4),
                            pacing_p99_ms=round(timing.p99_lateness_ms, 2),
                            pacing_max_ms=round(timing.max_lateness_ms, 2),
                            pacing_gap_ms=round(longest_gap_ms(timing.lateness_ms), 2),
                            caller_overloaded=timing.p99_lateness_ms > CALLER_OVERLOADED_P99_MS)
        self._last_said = record
        events.utterance.fire(call=self, speaker="caller", text=text, latency_ms=None)
        if interrupting is not None:
            record.barge_in = True
            barge_in = self._judge_barge_in("interrupt", text, agent_turn, timing.started_at)
            record.agent_stopped, record.barge_in_stop_ms = barge_in.agent_stopped, barge_in.stop_ms
            self._barge_in_turns[id(barge_in)] = record
        return record

    def _say(self, text: str, style: speech.SpeakingStyle, cut_in: Optional[AgentTurn] = None) -> SpeechTiming:
        """One utterance on the line: this caller's voice and pauses, over the scenario's phone line; over a
        prompt, at the moment the cut-in was planned for."""
        frames = self._frames(text, style)
        if cut_in is not None and cut_in.decided_at is not None:
            PREPARATION.add(style.engine, time.monotonic() - cut_in.decided_at)
            _wait_until(cut_in.interrupt_at)
        return self._send(frames)

    def _frames(self, text: str, style: speech.SpeakingStyle) -> tuple[str, ...]:
        return phrasebook.encoded_frames_in_thread(text, style, self.client.media_format.token, self.frame_ms,
                                                   self.delivery.sentence_pause_ms, self.scenario.line,
                                                   line.utterance_seed(self.seed, text))

    def _send(self, frames: tuple[str, ...]) -> SpeechTiming:
        """Frames onto the line, paced in real time (and into the recording, if one is kept)."""
        timing = self.client.speak(frames)
        if self.recorder is not None:
            self.recorder.caller_spoke(frames, timing, self.client.media_format)
        events.speech_sent.fire(call=self, timing=timing)
        return timing

    def _key(self, digits: str, index: int, started: float, agent_turn: AgentTurn) -> TurnRecord:
        """Answer on the keypad: a turn without speech, timed from the DTMF event (keys over a prompt are a
        barge-in, as on any IVR)."""
        self._barge_ins.caller_spoke()
        self._last_said = None
        _wait_until(agent_turn.interrupt_at)
        keyed_at = time.monotonic()
        self.client.send_dtmf(digits)
        record = TurnRecord(index=index, caller_text="", dtmf=digits, caller_speech_start=round(keyed_at - started, 4),
                            caller_speech_end=round(keyed_at - started, 4))
        events.utterance.fire(call=self, speaker="caller", text=f"[keys {digits}]", latency_ms=None)
        if agent_turn.interrupt_stream is not None:
            record.barge_in = True
            barge_in = self._judge_barge_in("interrupt", f"DTMF {digits}", agent_turn, keyed_at)
            record.agent_stopped, record.barge_in_stop_ms = barge_in.agent_stopped, barge_in.stop_ms
            self._barge_in_turns[id(barge_in)] = record
        return record

    def _backchannel(self, stream: AgentStream, plan: BargeInPlan, rendering: gevent.Greenlet) -> None:
        """Say a short "uh-huh" over the agent (rendered since the prompt began) and keep listening: not a
        turn, so nothing awaits an answer."""
        self._barge_ins.caller_spoke()
        self._last_said = None  # a recognition of the backchannel must not be scored against the last turn
        timing = self._send(rendering.get())
        events.utterance.fire(call=self, speaker="caller", text=plan.say, latency_ms=None)
        interrupted = AgentTurn(interrupt_stream=stream, interrupt_prompt=self._barge_ins.prompts, interrupt_plan=plan)
        self._judge_barge_in(BACKCHANNEL, plan.say, interrupted, timing.started_at)

    def _judge_barge_in(self, kind: str, text: str, interrupted: AgentTurn, spoke_at: float) -> BargeInRecord:
        """Whether and when the prompt the caller talked over stopped for it, on the call's barge-in log."""
        stream = interrupted.interrupt_stream
        return self._barge_ins.add(kind, text, stream, interrupted.interrupt_prompt, interrupted.interrupt_plan,
                                   spoke_at, wait_for_stop(stream, spoke_at))

    # ---- listening ---------------------------------------------------------------------------------------

    def _listen(self, started: float, deadline: float, wait_s: float) -> AgentTurn:
        """Collect the agent's turn: its prompts until it stays quiet for the caller's pause, or a barge-in."""
        client = self.client
        turn = AgentTurn()
        waiting_until = min(time.monotonic() + wait_s, deadline)
        pause = self.brain.pause_before_reply()
        barge_at: Optional[float] = None
        plan: Optional[BargeInPlan] = None
        rendering: Optional[gevent.Greenlet] = None  # a planned backchannel's frames, known from the plan on
        quiet_since: Optional[float] = None
        while True:
            now = time.monotonic()
            active = turn.streams[-1] if turn.streams and turn.streams[-1] not in turn.heard else None
            if (self.brain.live and turn.first_voiced_at is not None
                    and self.brain.wants_to_speak(agent_talking=active is not None)):
                if active is not None:
                    turn.interrupt_stream = active
                    self._heard(turn, active, cut_off=True)
                return turn
            if active is not None:
                last_sign_of_life = played_out_at(active) or active.started_at
                allowed_quiet = CHUNK_SILENCE_AS_STOP_S if active.last_chunk_at else wait_s
                if now - last_sign_of_life > allowed_quiet:
                    # A bridge that stops sending chunks without playStream.stop has still stopped talking.
                    self._heard(turn, active, cut_off=False)
                    quiet_since, barge_at = last_sign_of_life, None
                    continue
                decide_at = self._decide_at(barge_at, plan, active, turn) if barge_at is not None else None
                if decide_at is not None and now >= decide_at:
                    if plan.kind == BACKCHANNEL:
                        self._backchannel(active, plan, rendering)
                        barge_at = plan = rendering = None
                        continue
                    turn.interrupt_stream, turn.interrupt_plan = active, plan
                    turn.interrupt_prompt = self._barge_ins.prompts
                    turn.interrupt_at, turn.decided_at = barge_at, now
                    self._heard(turn, active, cut_off=True, until=barge_at)
                    return turn
                limit = min(decide_at or deadline, last_sign_of_life + allowed_quiet + 0.01)
            elif turn.streams:
                # Stopped by a barge-in the caller did not mean as a turn: it waits for the agent to go on.
                limit = quiet_since + (wait_s if self._barge_ins.awaiting_resume else pause)
                if now >= limit:
                    return turn
            else:
                limit = waiting_until
                if now >= limit:
                    if now >= deadline:  # not the agent's silence: the call's time is up
                        raise CallFailure(ErrorCategory.CALL_TIMEOUT, "call reached its timeout")
                    return turn
            if now >= deadline:
                raise CallFailure(ErrorCategory.CALL_TIMEOUT, "call reached its timeout")
            if self.brain.live:
                limit = min(limit, now + LIVE_POLL_S)
            event = client.next_event(max(0.0, min(limit, deadline) - now))
            if isinstance(event, AgentStreamStarted):
                turn.streams.append(event.stream)
                number = self._barge_ins.prompt_started(event.at)
                plan = barge_in_plan_for(self.scenario.barge_ins, number)
                if plan is None:
                    offset = self.brain.interruption_offset(event.stream.alt_text)
                    plan = BargeInPlan(number, round(offset * 1000.0, 2), INTERRUPT) if offset is not None else None
                barge_at = event.at + plan.at_s if plan is not None else None
                if plan is not None and plan.kind == BACKCHANNEL:
                    rendering = gevent.spawn(self._frames, plan.say, self.style)
            elif isinstance(event, AgentVoiceStarted):
                if turn.first_voiced_at is None and event.stream in turn.streams:
                    turn.first_voiced_at, turn.first_voiced_stream = event.at, event.stream
            elif isinstance(event, AgentStreamStopped):
                if event.stream is active:
                    self._heard(turn, event.stream, cut_off=False)
                    quiet_since, barge_at = event.at, None
            elif isinstance(event, BotActivity):
                self._on_activity(turn, event)
                if turn.hung_up:
                    return turn
            elif isinstance(event, BotSpeechEvent):
                self._on_bot_heard(event)
            elif isinstance(event, ConnectionClosed):
                if turn.hung_up:
                    return turn
                raise CallFailure(ErrorCategory.BRIDGE_CLOSED, event.reason)
            elif isinstance(event, SessionRejected):
                raise CallFailure(ErrorCategory.BRIDGE_CLOSED, f"session.error: {event.reason}")
            elif isinstance(event, ProtocolViolation):
                raise CallFailure(ErrorCategory.PROTOCOL_ERROR, event.message)

    def _decide_at(self, barge_at: float, plan: BargeInPlan, stream: AgentStream, turn: AgentTurn) -> float:
        """When to act on a cut-in planned for `barge_at`. A backchannel's words are known from the plan and
        rendered since; an interruption's depend on what was heard, so it is decided as far ahead as this
        process's callers take to have their audio ready (as early as the prompt allows before that is
        known), once the agent is heard."""
        if plan.kind == BACKCHANNEL or turn.first_voiced_at is None:
            return barge_at
        lead = PREPARATION.lead(self.style.engine)
        return max(stream.started_at, barge_at - lead) if lead is not None else stream.started_at

    def _on_activity(self, turn: AgentTurn, event: BotActivity) -> None:
        name = event.name.lower()
        if name == protocol.ACTIVITY_HANGUP.lower():
            turn.hung_up = True
        elif name == protocol.ACTIVITY_TRANSFER.lower():
            target = str(event.params.get("transferTarget", "another agent"))
            turn.transferred_to = target
            turn.text = _join(turn.text, f"I'm transferring you to {target}.")
        elif name == "message" and event.text:
            turn.text = _join(turn.text, event.text)
        else:
            log.debug("activity %r from %s ignored", event.name, self.client.shown_url)

    def _on_bot_heard(self, event: BotSpeechEvent) -> None:
        """What the bot's recogniser heard of the caller's last utterance, scored against what was said."""
        record = self._last_said
        if event.kind == protocol.SPEECH_RECOGNITION and record is not None and event.text is not None:
            record.bot_heard = event.text
            heard = word_errors.score(record.caller_text, event.text)
            record.heard_errors, record.heard_words, record.heard_wer = heard.errors, heard.words, heard.wer

    def _heard(self, turn: AgentTurn, stream: AgentStream, cut_off: bool, until: Optional[float] = None) -> None:
        """What the caller understood of one prompt, by the configured ear (of a cut-off one by altText: what
        will have played by `until`, the planned cut-in); said on the live transcript."""
        turn.heard.append(stream)
        if stream.alt_text is None:
            self._note(NO_ALT_TEXT + {"alttext": " (not heard: this caller hears by altText)", "none": ""}.get(
                self.ear_mode, " (heard by the caller's own ear)"))
        text, ear = self._understand(stream, cut_off, until)
        self._ears_used.add(ear)
        if not cut_off:
            self._barge_ins.prompt_ended(stream)
            self._barge_ins.prompt_heard(stream.alt_text or text)
        turn.text = _join(turn.text, text)
        events.utterance.fire(call=self, speaker="agent", text=text, latency_ms=None)

    def _understand(self, stream: AgentStream, cut_off: bool, until: Optional[float] = None) -> tuple[str, str]:
        mode = self.ear_mode
        if mode == "none":
            return "", "none"
        # A cut-in decided ahead (`until`) has little of the prompt's audio yet: "auto" takes what its altText
        # will have said by then, as for a whole prompt.
        use_alt_text = stream.alt_text is not None and (mode == "alttext" or (
            mode == "auto" and (not cut_off or until is not None)))
        if use_alt_text:
            return _heard_part(stream, until) if cut_off else stream.alt_text, "alttext"
        if mode == "alttext":
            return "", "alttext"
        # Off the event loop: the first use loads the model, which must not stall other callers' pacing.
        ear = speech.get_ear_in_thread("stt")
        return speech.transcribe_in_thread(ear, stream.pcm(), stream.media_format.sample_rate), ear.name


def pacing_note(result: CallResult) -> Optional[str]:
    """What to tell a person about their call's pacing, or None: which turns this machine paced late, whether
    the verdict still holds, and what to do about it."""
    late = [turn for turn in result.turn_records if turn.caller_overloaded or turn.pacing_gap_ms > FELL_BEHIND_GAP_MS]
    if not late and not result.caller_overloaded:
        return None
    gap = max((turn.pacing_gap_ms for turn in late), default=0.0)
    if gap > FELL_BEHIND_GAP_MS:
        verdict = "so this call says nothing about the agent"
    else:
        verdict = "no pause in the caller's speech was long enough to cut it short, so the verdict stands"
    where = []
    if late:
        where.append(f"turn{'s' if len(late) > 1 else ''} {', '.join(str(turn.index) for turn in late)}: audio up to "
                     f"{max(turn.pacing_p99_ms for turn in late):.0f} ms late at p99, longest pause {gap:.0f} ms")
    if result.greeting_read_lag_ms > CALLER_OVERLOADED_P99_MS or any(
            turn.answer_read_lag_ms > CALLER_OVERLOADED_P99_MS for turn in late):
        where.append("answers read late, so their latencies may be off by that much")
    return (f"this machine was too busy to keep the caller in real time ({'; '.join(where)}); {verdict}. "
            f"To avoid it: {PACING_ADVICE}.")


def played_out_at(stream: AgentStream) -> Optional[float]:
    """When the prompt's audio received so far would have finished playing (None before its first chunk).
    A bot may send a prompt faster than real time, in big chunks: its silence counts from here, not from
    the last chunk, or the caller would take a prompt still playing for one that stopped."""
    if stream.last_chunk_at is None:
        return None
    first = stream.first_chunk_at if stream.first_chunk_at is not None else stream.last_chunk_at
    return max(stream.last_chunk_at, first + stream.audio_ms / 1000.0)


def wait_for_stop(stream: AgentStream, interrupted_at: float) -> Optional[float]:
    """When the interrupted prompt stopped (its playStream.stop, or, once chunks cease, when the audio sent
    would have finished playing: `played_out_at`), or None if it was still playing BARGE_IN_STOP_WAIT_S
    after the caller's first interrupting audio. A bot that sent its prompt in one burst and then stopped
    sending has not stopped talking: the gateway plays what it was given. Shared by calls and the bridge
    check, so both judge barge-in support the same way."""
    give_up = interrupted_at + BARGE_IN_STOP_WAIT_S
    while True:
        if stream.stopped_at is not None:
            return stream.stopped_at if stream.stopped_at <= give_up else None
        played = played_out_at(stream) or stream.started_at
        if played > give_up:
            return None
        if time.monotonic() - played >= CHUNK_SILENCE_AS_STOP_S:
            return played
        gevent.sleep(0.02)


def _wait_until(moment: Optional[float]) -> None:
    """Sleep until `moment` (a monotonic time), if it is still ahead."""
    if moment is not None and moment > time.monotonic():
        gevent.sleep(moment - time.monotonic())


def _heard_part(stream: AgentStream, until: Optional[float] = None) -> str:
    """Of an interrupted prompt's altText, the words that fit in the audio received (an estimate), or, for a
    cut-in decided ahead, in the audio that will have played by `until` if the prompt plays on."""
    words = (stream.alt_text or "").split()
    heard_s = stream.audio_ms / 1000.0
    if until is not None and stream.first_chunk_at is not None:
        heard_s = max(0.0, until - stream.first_chunk_at)
    heard_words = int(heard_s * _WORDS_PER_SECOND_ESTIMATE)
    return " ".join(words[:heard_words])


def _join(first: str, second: str) -> str:
    return f"{first} {second}".strip() if second else first


def _in_asyncio_task() -> bool:
    """Whether the code calling is an asyncio task's (so it can await), not a plain or gevent caller."""
    try:
        return asyncio.current_task() is not None
    except RuntimeError:  # no loop running in this thread
        return False


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 2)


def _learned_review(goal_text: str, turn_text: str, verdict: str) -> str:
    """The learned judge's second opinion on one goal (learned_judge.second_opinion: a doubtful met or not met
    becomes uncertain), computed on a native thread: tens of milliseconds of numpy would stall every call's
    audio on this loop."""
    from callers.scenario import learned_judge  # the sentence model loads only for runs that ask for it
    return native_threads.run_in_thread("judge", JUDGE_THREADS, learned_judge.second_opinion, goal_text, turn_text,
                                        verdict)

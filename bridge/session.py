"""One call, bot side: protocol handling, hearing, thinking, speaking, barge-in, and its ground truth.

Two tasks per call, so that listening never waits for speaking:
- the receive loop (`run`) handles every frame as it arrives: acks, VAD, barge-in, buffering. It never
  blocks, so a barge-in is acted on within one frame, whatever the agent is doing;
- the agent task takes finished caller turns in order, transcribes them in a thread (recognition is ~0.5 s
  of native work that must not stall the event loop every other call's audio is paced on), asks the
  dialogue, waits the injected think time and plays the reply in real time. One agent task per call is
  what guarantees only one playStream is open at a time.
Both write to the socket; websockets writes each message whole and in call order, and the playback's
`stopped` flag decides which of them sends a prompt's playStream.stop, so a stop is never followed by a
chunk of the same stream.

A call may be chosen for an injected fault (bridge.faults) when it is initiated; the few places that
behave differently for a fault say so inline, so the normal path stays readable around them.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
import uuid
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Optional, Union

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from bridge.dialogue import Action, BankAgent, Reply
from bridge.faults import (DROP_REASON, FLOOD_AUDIO_S, FLOOD_YIELD_FRAMES, GARBAGE, GARBAGE_EVERY_FRAMES,
                           REJECT_REASON, SLOW_REPLY_DELAY_S, STALL_AFTER_SHARE, Fault, FaultPlan, garbage_frame)
from bridge.flows import FlowBook, FlowBot
from bridge.prompts import PromptBook
from bridge.resume import ParkedCall, ResumableCalls
from bridge.settings import BridgeSettings
from bridge.translations import Translation, language_code, translation_for
from bridge.truth import CallTruth, TruthLog, TurnTruth
from callers.media import audio
from callers.media.speech import Ear, NullEar
from callers.wire import protocol

log = logging.getLogger(__name__)

# Caller audio kept per utterance for recognition (30 s at 16 kHz is ~1 MB); the rest is counted, not kept.
MAX_UTTERANCE_S = 30.0
# Finished caller turns waiting for the agent; a peer that floods utterances loses the excess, not memory.
MAX_PENDING_TURNS = 8
# After the bot's hangup activity, how long the caller gets to answer with session.end before we close.
HANGUP_GRACE_S = 2.0
# The ear gives no confidence score; a fixed one keeps the recognition message's documented shape.
RECOGNITION_CONFIDENCE = 0.9
TRANSFER_TARGET = "tel:+18005550100"
REFUSED_NO_FORMAT = "none of the offered media formats is supported"
REFUSED_RESUME = "session.resume is not supported: this bridge keeps no call after a drop (no --resume-grace)"
UNKNOWN_RESUME = "conversation not found: not dropped here, or dropped longer ago than the resume grace"


@dataclass
class BridgeServices:
    """What all calls of one bridge process share: settings, the recogniser and its threads, the prompt
    audio, and the single truth-log writer."""

    settings: BridgeSettings
    ear: Ear
    executor: Executor
    prompts: PromptBook
    prompt_executor: Executor  # builds a reply's audio the first time it plays, off the loop
    truth_log: Optional[TruthLog] = None
    faults: FaultPlan = field(default_factory=FaultPlan)
    resumable: Optional[ResumableCalls] = None  # dropped calls kept for session.resume; None: resume refused
    flows: Optional[FlowBook] = None  # with settings.agent_flow: the flow file its agent is played from


@dataclass
class _CallerTurn:
    trigger: str  # "speech" or "dtmf"
    ended_at: float
    pcm: Optional[np.ndarray] = None
    rate: int = audio.PCM_RATE
    audio_ms: Optional[float] = None
    digits: Optional[str] = None


_GREETING = "greeting"  # the agent task's marker for "say the greeting"


@dataclass
class _Playback:
    stream_id: str
    turn: TurnTruth
    stopped: bool = False  # set by whichever side sends this stream's playStream.stop


@dataclass
class _Utterance:
    """Caller audio of one userStream: always measured, kept (bounded) only when an ear will read it."""

    rate: int
    keep: bool
    speech_started: bool = False
    voiced_ms: float = 0.0
    samples: int = 0
    kept: int = 0
    chunks: list[np.ndarray] = field(default_factory=list)

    def add(self, pcm: np.ndarray) -> None:
        self.samples += len(pcm)
        room = int(MAX_UTTERANCE_S * self.rate) - self.kept
        if self.keep and room > 0:
            piece = pcm[:room]
            self.chunks.append(piece)
            self.kept += len(piece)

    @property
    def duration_ms(self) -> float:
        return round(self.samples * 1000.0 / self.rate, 1)

    def pcm(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, dtype=np.int16)


Handler = Callable[[protocol.Message], Awaitable[None]]


class CallSession:
    """Serves one WebSocket connection: normally one call, or a bare connection.validate probe."""

    def __init__(self, ws: ServerConnection, services: BridgeServices) -> None:
        self._ws = ws
        self._services = services
        self._settings = services.settings
        self._hears_words = not isinstance(services.ear, NullEar)
        self._loop = asyncio.get_running_loop()
        self._cid = ""
        self._truth: Optional[CallTruth] = None
        self._fmt: Optional[audio.MediaFormat] = None
        self._play_fmt: Optional[audio.MediaFormat] = None
        self._agent: Optional[BankAgent | FlowBot] = None
        self._rng = random.Random()
        self._utterance = _Utterance(rate=audio.PCM_RATE, keep=False)
        self._inbox: asyncio.Queue[Union[str, _CallerTurn]] = asyncio.Queue(MAX_PENDING_TURNS)
        self._agent_task: Optional[asyncio.Task[None]] = None
        self._playback: Optional[_Playback] = None
        self._stream_ids = itertools.count(1)
        self._finished_reading = False
        self._fault: Optional[Fault] = None
        self._garbage_sent = 0
        self._translation: Optional[Translation] = None
        self._handlers: dict[str, Handler] = {
            protocol.CONNECTION_VALIDATE: self._on_validate,
            protocol.SESSION_INITIATE: self._on_initiate,
            protocol.SESSION_RESUME: self._on_resume,
            protocol.ACTIVITIES: self._on_activities,
            protocol.USER_STREAM_START: self._on_user_stream_start,
            protocol.USER_STREAM_CHUNK: self._on_user_stream_chunk,
            protocol.USER_STREAM_STOP: self._on_user_stream_stop,
            protocol.SESSION_END: self._on_session_end,
        }

    async def run(self) -> None:
        try:
            async for raw in self._ws:
                await self._dispatch(raw)
                if self._finished_reading:
                    break
        except ConnectionClosed:
            pass
        finally:
            await self._stop_agent()
            self._finish()

    # ---- receive path ------------------------------------------------------------------------------------

    async def _dispatch(self, raw: Union[str, bytes]) -> None:
        try:
            message = protocol.parse_message(raw)
        except protocol.ProtocolError as exc:
            log.warning("call %s: ignoring malformed frame: %s", self._cid or "-", exc)
            return
        handler = self._handlers.get(message.type)
        if handler is None:
            log.debug("call %s: ignoring message type %r", self._cid or "-", message.type)
            return
        if self._truth is None and message.type not in (protocol.CONNECTION_VALIDATE, protocol.SESSION_INITIATE,
                                                        protocol.SESSION_RESUME):
            log.debug("ignoring %s before session.initiate", message.type)
            return
        try:
            await handler(message)
        except protocol.ProtocolError as exc:
            log.warning("call %s: ignoring %s: %s", self._cid or "-", message.type, exc)

    async def _on_validate(self, message: protocol.Message) -> None:
        await self._answer(protocol.connection_validated(True))

    async def _on_initiate(self, message: protocol.Message) -> None:
        if self._truth is not None:
            log.debug("call %s: ignoring a repeated session.initiate", self._cid)
            return
        self._cid = _conversation_id(message)
        caller = message.data.get("caller")
        self._truth = CallTruth(conversation_id=self._cid, caller=caller if isinstance(caller, str) else None,
                                started_at=protocol.utc_timestamp(), ear=self._services.ear.name)
        seed = self._settings.seed
        self._rng = random.Random(f"{seed}:{self._cid}") if seed is not None else random.Random()
        self._fault = self._services.faults.for_call(self._cid)
        self._truth.fault = self._fault.value if self._fault is not None else None
        if self._fault is Fault.REJECT:
            await self._refuse(REJECT_REASON, REJECT_REASON)
            return
        offered = message.data.get("supportedMediaFormats", [protocol.DEFAULT_MEDIA_FORMAT])
        chosen = _choose_format(offered)
        if chosen is None:
            await self._refuse(REFUSED_NO_FORMAT, f"{REFUSED_NO_FORMAT} (offered: {offered!r})")
            return
        token, self._fmt = chosen
        self._play_fmt = self._settings.play_format or self._fmt
        self._truth.media_format = token
        self._truth.play_format = self._play_fmt.token
        self._utterance = self._new_utterance()
        await self._answer(protocol.session_accepted(self._cid, token))
        self._truth.accepted_at = time.monotonic()
        if self._fault is Fault.GARBAGE:
            await self._send_garbage(len(GARBAGE), stream_id="0", tolerate_closed=True)
        self._agent_task = asyncio.create_task(self._agent_loop(), name=f"agent {self._cid}")
        log.info("call %s accepted: caller %s, audio %s, playing %s%s", self._cid, self._truth.caller, token,
                 self._play_fmt.token, f", fault {self._fault.value}" if self._fault else "")

    async def _refuse(self, why: str, reason: str) -> None:
        """session.error instead of session.accepted; the connection closes once the reply is out."""
        assert self._truth is not None
        self._truth.error = why
        self._truth.hung_up_by = "bot"
        log.info("call %s refused: %s", self._cid, reason)
        await self._answer(protocol.session_error(self._cid, reason))
        self._finished_reading = True

    async def _on_resume(self, message: protocol.Message) -> None:
        """Continue a dropped call on this connection (bridge.resume), or refuse with session.error."""
        cid = _conversation_id(message)
        store = self._services.resumable
        parked = store.claim(cid) if store is not None and self._truth is None else None
        if parked is None:
            log.info("call %s: session.resume refused", cid)
            await self._answer(protocol.session_error(cid, REFUSED_RESUME if store is None else UNKNOWN_RESUME))
            self._finished_reading = True
            return
        self._cid, self._truth, self._agent, self._rng = cid, parked.truth, parked.agent, parked.rng
        self._fmt, self._play_fmt = parked.fmt, parked.play_fmt
        self._stream_ids, self._garbage_sent = parked.stream_ids, parked.garbage_sent
        # A fault strikes a call once: a dropped call that is resumed is not dropped again.
        self._fault = None if parked.fault is Fault.DROP else parked.fault
        self._truth.resumes += 1
        self._truth.hung_up_by = self._truth.end_reason = None
        self._utterance = self._new_utterance()
        await self._answer(protocol.session_accepted(cid, self._truth.media_format or self._fmt.token))
        self._agent_task = asyncio.create_task(self._agent_loop(), name=f"agent {cid}")
        log.info("call %s resumed (%d)", cid, self._truth.resumes)

    def _park(self) -> bool:
        """Keep a dropped call for session.resume, if this bridge does; whether it was kept."""
        truth, store = self._truth, self._services.resumable
        if (store is None or truth is None or truth.hung_up_by != "drop" or truth.accepted_at is None
                or self._fmt is None or self._play_fmt is None):
            return False
        store.park(ParkedCall(conversation_id=self._cid, truth=truth, agent=self._agent, fmt=self._fmt,
                              play_fmt=self._play_fmt, rng=self._rng, fault=self._fault,
                              stream_ids=self._stream_ids, garbage_sent=self._garbage_sent))
        log.info("call %s dropped; kept %g s for session.resume", self._cid, store.grace_s)
        return True

    async def _on_activities(self, message: protocol.Message) -> None:
        for activity in message.activities():
            if activity.name == protocol.ACTIVITY_START:
                self._on_start(activity)
            elif activity.name == protocol.ACTIVITY_DTMF:
                digits = activity.value
                if isinstance(digits, int) and not isinstance(digits, bool):
                    digits = str(digits)
                if isinstance(digits, str) and digits.strip():
                    await self._barge_in(time.monotonic())  # keys over a prompt cut it short, as on an IVR
                    self._enqueue(_CallerTurn(trigger="dtmf", ended_at=time.monotonic(), digits=digits.strip()))
            else:
                log.debug("call %s: ignoring activity %r", self._cid, activity.name)

    def _on_start(self, activity: protocol.Activity) -> None:
        assert self._truth is not None
        if self._truth.start_at is not None:
            log.debug("call %s: ignoring a repeated start activity", self._cid)
            return
        self._truth.start_at = time.monotonic()
        parameters = activity.data.get("parameters")
        hint = parameters.get("scenarioType") if isinstance(parameters, dict) else None
        if isinstance(hint, str):
            self._truth.scenario_hint = hint
        language = activity.data.get("language")
        self._truth.language = language_code(language)
        self._translation = translation_for(language)
        if self._services.flows is not None:  # a flow speaks its own language, whatever the call's
            flows = self._services.flows
            self._translation = translation_for(flows.language_of(flows.flow(self._settings.agent_flow or "")))
        if self._truth.language not in getattr(self._services.ear, "languages", ("en",)):
            # An ear that cannot hear this language would only feed the dialogue nonsense: assume answers.
            self._hears_words = False
        if self._agent is None:
            self._agent = self._new_agent(self._truth.scenario_hint)
        self._enqueue(_GREETING)

    async def _on_user_stream_start(self, message: protocol.Message) -> None:
        self._utterance = self._new_utterance()
        await self._answer(protocol.simple(protocol.USER_STREAM_STARTED, self._cid))

    async def _on_user_stream_chunk(self, message: protocol.Message) -> None:
        received = time.monotonic()
        assert self._fmt is not None
        pcm = audio.decode_audio(message.audio(), self._fmt)
        utterance = self._utterance
        if audio.is_voiced(pcm):
            utterance.voiced_ms += len(pcm) * 1000.0 / utterance.rate
            if utterance.voiced_ms >= self._settings.barge_in_min_ms:
                await self._barge_in(received)
            if not utterance.speech_started:
                utterance.speech_started = True
                await self._answer(protocol.simple(protocol.SPEECH_STARTED, self._cid))
        utterance.add(pcm)

    async def _on_user_stream_stop(self, message: protocol.Message) -> None:
        ended = time.monotonic()
        utterance, self._utterance = self._utterance, self._new_utterance()
        if self._fault is Fault.DROP and utterance.speech_started:
            self._drop()
            return
        await self._answer(protocol.simple(protocol.USER_STREAM_STOPPED, self._cid))
        if not utterance.speech_started:
            log.debug("call %s: user stream without speech, no turn", self._cid)
            return
        await self._answer(protocol.simple(protocol.SPEECH_STOPPED, self._cid))
        if self._is_backchannel(utterance):
            self._call_truth().backchannels += 1
            log.debug("call %s: %.0f ms of speech over a prompt taken as a backchannel", self._cid,
                      utterance.voiced_ms)
            return
        await self._answer(protocol.simple(protocol.SPEECH_COMMITTED, self._cid))
        self._enqueue(_CallerTurn(trigger="speech", ended_at=ended, pcm=utterance.pcm(), rate=utterance.rate,
                                  audio_ms=utterance.duration_ms))

    async def _on_session_end(self, message: protocol.Message) -> None:
        assert self._truth is not None
        parts = [message.data.get(key) for key in ("reasonCode", "reason")]
        self._truth.end_reason = ": ".join(str(part) for part in parts if part) or None
        if self._truth.hung_up_by is None:
            self._truth.hung_up_by = "caller"
        self._finished_reading = True

    async def _barge_in(self, detected_at: float) -> None:
        """A voiced caller chunk while the agent talks: stop the prompt now, from the receive path."""
        playback = self._playback
        # A stalled agent is wedged and hears nothing; a no-barge-in one talks on over the caller.
        barge_in = self._settings.barge_in and self._fault not in (Fault.NO_BARGE_IN, Fault.STALL)
        if playback is None or playback.stopped or not barge_in:
            return
        playback.stopped = True
        await self._answer(protocol.play_stream_stop(self._cid, playback.stream_id))
        playback.turn.mark_barge_in(detected_at, time.monotonic())
        assert self._truth is not None and self._agent is not None
        self._truth.barge_ins += 1
        self._agent.interrupted()

    def _is_backchannel(self, utterance: _Utterance) -> bool:
        """Too short to have stopped the prompt, which is still playing: an "uh-huh", not a turn."""
        playback = self._playback
        return (self._settings.barge_in_min_ms > 0 and playback is not None and not playback.stopped
                and utterance.voiced_ms < self._settings.barge_in_min_ms)

    # ---- agent path --------------------------------------------------------------------------------------

    async def _agent_loop(self) -> None:
        try:
            while True:
                item = await self._inbox.get()
                if self._fault is Fault.SILENCE:
                    continue  # accepted and listening, but never says a word
                agent = self._call_agent()
                if agent.finished:
                    continue
                if isinstance(item, _CallerTurn):
                    turn = self._new_turn(item.trigger, item)
                    reply = agent.respond(await self._hear(item, turn))
                    await self._think(turn)
                else:
                    turn = self._new_turn(_GREETING)
                    reply = agent.greet()
                if self._translation is not None:
                    reply = self._translation.reply(reply)
                self._record_reply(turn, reply)
                await self._speak(reply, turn)
                action = reply.action
                if action is None and self._fault is Fault.EARLY_HANGUP:
                    self._call_truth().hung_up_by = "bot"  # the first prompt, normally the greeting, was all
                    action = Action.HANGUP
                if action is not None:
                    await self._end_call(action)
                    return
        except ConnectionClosed:
            return
        except Exception:
            log.exception("call %s: agent failed; closing the call", self._cid)
            await self._ws.close(CloseCode.INTERNAL_ERROR, "bridge error")

    async def _hear(self, item: _CallerTurn, turn: TurnTruth) -> str:
        if item.digits is not None:
            turn.heard = item.digits
            return item.digits
        if not self._hears_words:
            turn.assumed = self._call_agent().expected_caller_text()
            return turn.assumed
        started = time.monotonic()
        try:
            text = await self._loop.run_in_executor(self._services.executor, self._services.ear.transcribe,
                                                    item.pcm, item.rate)
        except Exception:
            log.exception("call %s: recognition failed; treating the turn as unheard", self._cid)
            text = ""
        turn.set_stt(time.monotonic() - started)
        turn.heard = text
        await self._send(protocol.speech_recognition(self._cid, text, RECOGNITION_CONFIDENCE))
        return text

    async def _think(self, turn: TurnTruth) -> None:
        mean, jitter = self._settings.latency_mean_ms, self._settings.latency_jitter_ms
        delay_ms = mean + self._rng.uniform(-jitter, jitter) if jitter else mean
        if self._fault is Fault.SLOW:
            delay_ms += SLOW_REPLY_DELAY_S * 1000.0
        turn.injected_ms = round(delay_ms, 1)
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000.0)

    async def _speak(self, reply: Reply, turn: TurnTruth) -> None:
        """Play one reply as a playStream, paced in real time against absolute deadlines (no drift)."""
        assert self._play_fmt is not None
        voice = self._translation.voice if self._translation is not None else None
        prompts = self._services.prompts
        prompt = prompts.cached(reply.sentences, self._play_fmt, voice)
        if prompt is None:  # on the loop, its milliseconds would land in every other call's timing
            prompt = await self._loop.run_in_executor(self._services.prompt_executor, prompts.prompt,
                                                      reply.sentences, self._play_fmt, voice)
        frame_ms = self._settings.frame_ms
        frames, voicing = prompt.frames, prompt.voiced
        if self._fault is Fault.FLOOD and turn.trigger == _GREETING:
            repeats = int(FLOOD_AUDIO_S * 1000 / frame_ms) // max(1, len(frames)) + 1
            frames, voicing = frames * repeats, voicing * repeats
        stall_at = int(len(frames) * STALL_AFTER_SHARE) if self._fault is Fault.STALL else None
        playback = _Playback(stream_id=str(next(self._stream_ids)), turn=turn)
        await self._send(protocol.play_stream_start(self._cid, playback.stream_id, self._play_fmt.token,
                                                    alt_text=reply.text))
        turn.play_started = time.monotonic()
        self._playback = playback
        start = self._loop.time()
        sent = 0
        try:
            for index, (frame, voiced) in enumerate(zip(frames, voicing)):
                if self._fault is Fault.FLOOD:
                    if index % FLOOD_YIELD_FRAMES == 0:
                        await asyncio.sleep(0)  # as fast as the socket takes it, but other calls still run
                else:
                    delay = start + index * frame_ms / 1000.0 - self._loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if index == stall_at:
                    await asyncio.Event().wait()  # wedged for good; cancelled when the call ends
                if playback.stopped:
                    break
                await self._send(protocol.play_stream_chunk(self._cid, playback.stream_id, frame))
                sent += 1
                if voiced and turn.first_audio_sent is None:
                    turn.mark_first_audio(time.monotonic())
                if self._fault is Fault.GARBAGE and sent % GARBAGE_EVERY_FRAMES == 0:
                    await self._send_garbage(1, playback.stream_id)
            if not playback.stopped:
                playback.stopped = True
                await self._send(protocol.play_stream_stop(self._cid, playback.stream_id))
        finally:
            self._playback = None
            turn.agent_audio_ms = float(sent * frame_ms)

    async def _end_call(self, action: Action) -> None:
        if action is Action.TRANSFER:
            await self._send(protocol.bot_activity(self._cid, protocol.ACTIVITY_TRANSFER,
                                                   activity_params={"transferTarget": TRANSFER_TARGET}))
        await self._send(protocol.bot_activity(self._cid, protocol.ACTIVITY_HANGUP))
        # The receive loop ends this task as soon as the caller's session.end arrives; this is the fallback.
        await asyncio.sleep(HANGUP_GRACE_S)
        await self._ws.close()

    # ---- helpers -----------------------------------------------------------------------------------------

    def _drop(self) -> None:
        """The `drop` fault: the TCP connection just ends, with no close frame and no session.end."""
        truth = self._call_truth()
        truth.hung_up_by = "drop"
        truth.end_reason = DROP_REASON
        log.info("call %s: dropping the connection (fault injection)", self._cid)
        self._finished_reading = True
        self._ws.transport.abort()

    async def _send_garbage(self, count: int, stream_id: str, tolerate_closed: bool = False) -> None:
        """The `garbage` fault's malformed frames, next in turn; from the receive path a closed peer is not an
        error (see _answer)."""
        for _ in range(count):
            frame = garbage_frame(self._garbage_sent, self._cid, stream_id)
            self._garbage_sent += 1
            try:
                await self._ws.send(frame)
            except ConnectionClosed:
                if not tolerate_closed:
                    raise
                return

    def _call_truth(self) -> CallTruth:
        assert self._truth is not None
        return self._truth

    def _call_agent(self) -> BankAgent | FlowBot:
        """The dialogue; a caller that talks without sending the start activity gets one without a hint."""
        if self._agent is None:
            self._agent = self._new_agent(None)
        return self._agent

    def _new_agent(self, scenario_hint: Optional[str]) -> BankAgent | FlowBot:
        """The reference policy, or with --agent-flow the flow's bot (named in the call's truth)."""
        flow = self._settings.agent_flow
        if self._services.flows is None or flow is None:
            return BankAgent(scenario_hint, keypad_identity=self._settings.keypad_identity)
        self._call_truth().agent_flow = flow
        return FlowBot(self._services.flows, flow, scenario_hint)

    def _new_utterance(self) -> _Utterance:
        rate = self._fmt.sample_rate if self._fmt is not None else audio.PCM_RATE
        return _Utterance(rate=rate, keep=self._hears_words)

    def _new_turn(self, trigger: str, item: Optional[_CallerTurn] = None) -> TurnTruth:
        assert self._truth is not None
        turn = TurnTruth(index=len(self._truth.turns), trigger=trigger)
        if item is not None:
            turn.caller_audio_end = item.ended_at
            turn.caller_audio_ms = item.audio_ms
        self._truth.turns.append(turn)
        return turn

    def _record_reply(self, turn: TurnTruth, reply: Reply) -> None:
        assert self._truth is not None
        turn.reply = reply.text
        turn.state = reply.state.value
        turn.intent = reply.intent
        turn.fulfilled = list(reply.fulfilled)
        if reply.action is not None:
            # Decided here, before the goodbye is played: a caller who hangs up on hearing it did not end the call.
            self._truth.hung_up_by = "bot"

    def _enqueue(self, item: Union[str, _CallerTurn]) -> None:
        try:
            self._inbox.put_nowait(item)
        except asyncio.QueueFull:
            log.warning("call %s: %d turns already waiting; dropping one", self._cid, MAX_PENDING_TURNS)

    async def _send(self, message: dict[str, Any]) -> None:
        await self._ws.send(protocol.encode(message))

    async def _answer(self, message: dict[str, Any]) -> None:
        """Send from the receive path, where a peer that already closed must not end the loop: frames it
        sent before closing (typically session.end right after userStream.stop) are still to be read."""
        try:
            await self._send(message)
        except ConnectionClosed:
            log.debug("call %s: peer closed; %s not sent", self._cid or "-", message.get("type"))

    async def _stop_agent(self) -> None:
        task = self._agent_task
        if task is None:
            return
        if self._playback is not None:
            self._playback.stopped = True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    def _finish(self) -> None:
        truth = self._truth
        if truth is None:
            return
        truth.ended_at = time.monotonic()
        if truth.accepted_at is not None:
            truth.duration_s = round(truth.ended_at - truth.accepted_at, 3)
        if truth.hung_up_by is None:
            truth.hung_up_by = "drop"
        if not self._park():
            record_truth(truth, self._agent, self._services.truth_log)


def record_truth(truth: CallTruth, agent: Optional[BankAgent | FlowBot], truth_log: Optional[TruthLog]) -> None:
    """A call is over (ended here, or dropped and not resumed in time): its summary, logged and written."""
    if agent is not None:
        truth.scenario_type = agent.scenario_type
        truth.verified = agent.verified
        truth.identity_failures = agent.identity_failures
        truth.reprompts = agent.reprompts
        truth.fulfilled = list(agent.fulfilled)
        truth.transferred = agent.transferred
    log.info("call %s ended: hung up by %s after %d turns, fulfilled %s", truth.conversation_id, truth.hung_up_by,
             len(truth.turns), ",".join(truth.fulfilled) or "nothing")
    if truth_log is not None:
        truth_log.write(truth)


def _conversation_id(message: protocol.Message) -> str:
    value = message.data.get("conversationId")
    return value if isinstance(value, str) and value else f"unnamed-{uuid.uuid4().hex[:12]}"


def _choose_format(offered: Any) -> Optional[tuple[str, audio.MediaFormat]]:
    """The first offered format we can decode, with its token exactly as offered (echoed in accepted)."""
    if not isinstance(offered, list):
        return None
    for token in offered:
        try:
            return token, audio.parse_media_format(token)
        except ValueError:
            continue
    return None

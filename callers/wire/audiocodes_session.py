"""The AudioCodes side of one call's session, as a state machine: messages in, events out, no I/O.

Why apart from the client (callers/transport/telephony.py): what the bot's messages mean for the call (the handshake,
each play stream's timing and audio, the dispatch of every message type into ClientEvents) is protocol
logic, and can be tested with bytes and timestamps alone. Sockets, kernel arrival stamps, the read sweep
and pacing stay with the client, which hands this class every whole WebSocket message it reads with the
time it arrived.

The receive hot path runs through `receive`: at 50 agent chunks a second per call, a chunk that matches the
playing prompt's template (protocol.ChunkTemplate) is only counted, inline, without a call or an allocation.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from callers.media import audio
from callers.wire import protocol, wsframes

log = logging.getLogger(__name__)

# Agent audio kept per stream for the Ear: enough for a long prompt, bounded so a flooding bridge cannot
# grow a caller's memory without limit (2 minutes at 16 kHz is ~3.8 MB).
MAX_STREAM_AUDIO_S = 120.0
# Events waiting for the caller logic; a bridge that floods messages is cut off rather than buffered.
MAX_PENDING_EVENTS = 10_000
# A prompt left open (no playStream.stop) ends once nothing has come for this long after its audio would have
# finished playing: a gateway's playout runs dry and the line goes quiet. Longer than a late stop takes, and
# shorter than a caller's turn (pause, speech, the bot's thinking) before the next prompt.
PROMPT_SILENCE_S = 2.0
# Distinct protocol notes kept per call; past it, further kinds are counted under one note.
MAX_NOTES = 32
OTHER_NOTES = "more kinds of deviation"


# ---- events (bot -> caller), each stamped with the monotonic time it arrived -------------------------------

@dataclass
class ClientEvent:
    at: float


@dataclass
class SessionAccepted(ClientEvent):
    media_format: str


@dataclass
class SessionRejected(ClientEvent):
    reason: str


@dataclass
class AgentStreamStarted(ClientEvent):
    stream: "AgentStream"


@dataclass
class AgentVoiceStarted(ClientEvent):
    """First chunk of a stream whose energy is above the VAD threshold: the start of the agent's speech."""

    stream: "AgentStream"


@dataclass
class AgentStreamStopped(ClientEvent):
    stream: "AgentStream"


@dataclass
class BotSpeechEvent(ClientEvent):
    """The bot's own VAD / recognizer reporting on the caller's audio (speech.started, recognition, ...)."""

    kind: str
    text: Optional[str] = None


@dataclass
class BotActivity(ClientEvent):
    """hangup, transfer, config, sendDtmf, playUrl, a text message, or a name we do not know."""

    name: str
    params: dict = field(default_factory=dict)
    text: Optional[str] = None


@dataclass
class ConnectionClosed(ClientEvent):
    reason: str
    expected: bool


@dataclass
class ConnectionValidated(ClientEvent):
    success: bool


@dataclass
class ProtocolViolation(ClientEvent):
    message: str


@dataclass
class UserStreamStarted(ClientEvent):
    """The bot's acknowledgement of userStream.start, which `speak` waits for (not queued for the caller logic)."""


@dataclass
class PingReceived(ClientEvent):
    """A WebSocket ping, for the client to answer (a send: I/O is the client's)."""

    payload: bytes


class EventOverflow(Exception):
    """The bridge produced events faster than the call consumed them: cut the call instead of buffering."""


@dataclass
class AgentStream:
    """One playStream as received: its timing and (bounded) decoded audio at the stream's sample rate."""

    stream_id: str
    media_format: audio.MediaFormat
    alt_text: Optional[str]
    started_at: float
    first_chunk_at: Optional[float] = None
    first_voiced_at: Optional[float] = None
    last_chunk_at: Optional[float] = None
    stopped_at: Optional[float] = None
    received_samples: int = 0
    # How far `first_voiced_at` can be off: 0 when the voiced chunk was the newest bytes of its read (the
    # arrival stamp is its own); else how long the loop had stalled around that read (callers/runtime/loop_lag.py),
    # or the read sweep's period for a swept read: later chunks came in the same read and share the stamp.
    voice_read_lag_ms: float = 0.0
    # Once nothing is left to learn from the samples (voice heard, no Ear or recording keeping them, raw
    # audio): the bytes per sample, so later chunks are only counted. 0 while chunks are decoded.
    _counted_bytes_per_sample: int = field(default=0, repr=False)
    # While counting: the first counted chunk's bytes around its audio, so later ones skip parsing too
    # (protocol.ChunkTemplate). Learnt once per stream, whether or not the bridge's framing allows it.
    _template: Optional[protocol.ChunkTemplate] = field(default=None, repr=False)
    _template_learnt: bool = field(default=False, repr=False)
    _chunks: list = field(default_factory=list, repr=False)
    _chunk_times: list = field(default_factory=list, repr=False)
    _kept_samples: int = 0

    @property
    def open(self) -> bool:
        return self.stopped_at is None

    @property
    def audio_ms(self) -> float:
        return self.received_samples * 1000.0 / self.media_format.sample_rate

    @property
    def counted(self) -> bool:
        """Whether chunks of this (playing) prompt are matched to a template and counted without parsing."""
        return self._template is not None and self.stopped_at is None

    def pcm(self) -> np.ndarray:
        if not self._chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self._chunks)

    def chunks_after(self, index: int) -> list:
        """Decoded chunks from `index` on: a live listener follows a prompt without copying it whole."""
        return self._chunks[index:]

    def chunks(self) -> list[tuple[float, np.ndarray]]:
        """The kept audio as (arrival time, samples) per chunk: how it reached the phone, for recordings."""
        return list(zip(self._chunk_times, self._chunks))

    def _count(self, audio_bytes: int, arrived_at: float) -> None:
        """A chunk that is only counted (see _counted_bytes_per_sample), whichever way its size was read."""
        self.received_samples += audio_bytes // self._counted_bytes_per_sample
        self.last_chunk_at = arrived_at

    def _add(self, samples: np.ndarray, arrived_at: float) -> None:
        if self._kept_samples < MAX_STREAM_AUDIO_S * self.media_format.sample_rate:
            self._chunks.append(samples)
            self._chunk_times.append(arrived_at)
            self._kept_samples += len(samples)


class AudioCodesSession:
    """What the bot's messages mean for one call, fed whole WebSocket messages with their arrival times.

    The events a read produced wait in `out` for the client to take (a list the client empties, not a
    callback into it: the session holds no reference back, so a finished call leaves no cycle to collect).
    """

    def __init__(self, media_formats: Sequence[str], *, conversation_id: Optional[str] = None,
                 keep_agent_audio: bool = True, keep_streams: bool = False, strict: bool = False) -> None:
        self.media_formats = tuple(media_formats)
        self.conversation_id = conversation_id
        # strict: the first deviation from the protocol is a ProtocolViolation (the call's protocol_error)
        # instead of a note; lenient (default): noted, and the call goes on as a phone gateway would carry it.
        self.strict = strict
        self._violated = False
        self._notes: dict[str, list] = {}  # what -> [first_ms, count]
        self.tolerated: set[str] = set()  # kinds noted that strict mode does not refuse (see `note`)
        self.connected_at: Optional[float] = None  # the call's first socket: notes are timed from it
        self.initiated_at: Optional[float] = None  # session.initiate sent
        # Until session.accepted answers initiate (or resume), the call's events are held, so the caller
        # logic sees the acceptance first and a greeting streamed before it after it, as a gateway plays it.
        self.awaiting_accept = False
        self._held: list[ClientEvent] = []
        self.audio_before_accept_at: Optional[float] = None
        self._offered = {audio.parse_media_format(t).token for t in self.media_formats}
        self.out: list[ClientEvent] = []
        self._emit = self.out.append
        # Without an Ear that listens to the audio (or a recording), keeping it only costs memory (~32 KB per
        # agent second).
        self._keep_agent_audio = keep_agent_audio or keep_streams
        self.media_format: Optional[audio.MediaFormat] = None
        self.accepted_at: Optional[float] = None
        self.stream: Optional[AgentStream] = None
        # Every play stream of the call, for a recording; off by default since it holds the call's agent audio.
        self.streams: Optional[list[AgentStream]] = [] if keep_streams else None
        # Malformed frames skipped.
        self.protocol_warnings = 0
        # Frames other than chunks counted against the prompt's template (messages parsed, control frames): a
        # read that adds none held nothing but chunks of the playing prompt (see read_sweep.py).
        self.parsed_frames = 0
        # A stream whose voice the read being handled began, and whether later frames came in that read.
        self.voiced: Optional[AgentStream] = None
        self.voice_followed = False
        # The bot ended the call (a hangup activity, or a session.end of its own): the caller answers with
        # session.end only, and stops talking.
        self.bot_hung_up = False
        # userStream.speech.* messages received: none over a call in which the caller spoke means the bot
        # reports nothing of its hearing (noted by the call).
        self.speech_events = 0

    def new_connection(self) -> None:
        """A new socket for the same call (a resume): the previous one's open prompt is gone with it."""
        self.stream = None
        self.voiced = None
        self._held.clear()
        self.awaiting_accept = False
        self._emit = self.out.append

    def connected(self, at: float) -> None:
        if self.connected_at is None:
            self.connected_at = at

    def initiated(self, at: float) -> None:
        """session.initiate (or session.resume) has gone out: what comes before the answer is held."""
        if self.initiated_at is None:
            self.initiated_at = at
        self.awaiting_accept = True
        self._emit = self._hold

    @property
    def greeting_from_at(self) -> Optional[float]:
        """What the greeting's latency counts from: the acceptance, or session.initiate when the bot
        streamed its greeting before accepting (a phone gateway plays it all the same)."""
        if self.audio_before_accept_at is not None:
            return self.initiated_at
        return self.accepted_at

    # ---- protocol notes --------------------------------------------------------------------------------

    def note(self, what: str, now: float, refuse: bool = True) -> None:
        """A deviation from the protocol, carried as a gateway would; in strict mode, the call's end (unless
        not `refuse`: the call is ending anyway, and its category says more than protocol_error would)."""
        entry = self._notes.get(what)
        if entry is None:
            if len(self._notes) >= MAX_NOTES:
                what = OTHER_NOTES
                entry = self._notes.get(what)
            if entry is None:
                origin = self.connected_at if self.connected_at is not None else now
                entry = self._notes[what] = [round((now - origin) * 1000.0, 1), 0]
        entry[1] += 1
        if not refuse:
            self.tolerated.add(what)
        elif self.strict and not self._violated:
            self._violated = True
            self.out.append(ProtocolViolation(now, f"protocol deviation (strict): {what}"))

    @property
    def protocol_notes(self) -> list[dict]:
        """Every deviation seen, in the order first seen: what, first seen (ms since connect), how often."""
        return [{"what": what, "first_ms": first, "count": count} for what, (first, count) in self._notes.items()]

    def _hold(self, event: ClientEvent) -> None:
        if len(self._held) >= MAX_PENDING_EVENTS:
            raise EventOverflow()
        self._held.append(event)

    def _check(self, message: protocol.Message, now: float) -> None:
        """Notes on the fields every bot message shares, and on fields the protocol does not name."""
        data = message.data
        conversation_id = data.get("conversationId")
        if conversation_id is None:
            if message.type != protocol.CONNECTION_VALIDATED:  # the probe's answer belongs to no conversation
                self.note(f"{message.type} without conversationId", now)
        elif conversation_id != self.conversation_id and self.conversation_id is not None:
            self.note(f"{message.type} with another conversationId", now)
        known = protocol.BOT_MESSAGE_FIELDS.get(message.type)
        if known is not None and not known.issuperset(data):
            extra = ", ".join(sorted(str(key) for key in data if key not in known))
            self.note(f"{message.type} with unknown fields: {extra}", now)

    def only_counted(self, size: int, parsed: int, max_bytes: int) -> bool:
        """Whether a read of `size` bytes (`parsed_frames` was `parsed` before it) held only a few chunks,
        all counted against the playing prompt's template: the rest of the prompt can wait for the sweep."""
        stream = self.stream
        return (size < max_bytes and self.parsed_frames == parsed and stream is not None
                and stream._template is not None and stream.stopped_at is None)

    # ---- receiving -------------------------------------------------------------------------------------

    def receive(self, frames: list, now: float) -> Optional[str]:
        """Handle every (opcode, payload) message of one read that arrived at `now`; the reason once the
        bridge has closed the connection (the client answers the close frame)."""
        voiced_payload = None
        stream = self.stream
        if (stream is not None and stream.stopped_at is None and stream.last_chunk_at is not None
                and now - stream.last_chunk_at > PROMPT_SILENCE_S):
            self._maybe_silent(stream, now)
        for opcode, payload in frames:
            data_frame = opcode == wsframes.OPCODE_TEXT or opcode == wsframes.OPCODE_BINARY
            stream = self.stream
            if data_frame and stream is not None and stream._template is not None and stream.stopped_at is None:
                size = stream._template.audio_size(payload)
                if size is not None:  # most agent chunks end here
                    stream._count(size, now)
                    continue
            self.parsed_frames += 1
            if data_frame:
                try:
                    message = protocol.parse_message(payload)
                    if opcode == wsframes.OPCODE_BINARY:
                        self.note("message in a binary frame", now)
                    self._dispatch(message, now)
                except protocol.ProtocolError as exc:
                    if opcode == wsframes.OPCODE_BINARY and not payload.lstrip()[:1] == b"{":
                        # Audio (or anything) as binary frames: the protocol carries audio as base64 in
                        # playStream.chunk, and raw bytes say neither their stream nor their format.
                        self.note("binary frame that is not a message (ignored)", now)
                        continue
                    self.protocol_warnings += 1
                    self.note("malformed message (skipped)", now)
                    log.debug("ignored bad frame: %s", exc)
                    continue
                if self.voiced is not None and voiced_payload is None:
                    voiced_payload = payload
                if (stream is not None and stream is self.stream and stream._counted_bytes_per_sample
                        and not stream._template_learnt and message.type == protocol.PLAY_STREAM_CHUNK):
                    stream._template_learnt = True
                    stream._template = protocol.ChunkTemplate.learn(payload, message)
            elif opcode == wsframes.OPCODE_PING:
                self._emit(PingReceived(now, payload))
            elif opcode == wsframes.OPCODE_CLOSE:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                return f"bridge closed the socket (code {code})"
        if voiced_payload is not None:
            self.voice_followed = frames[-1][1] is not voiced_payload
        return None

    def _dispatch(self, message: protocol.Message, now: float) -> None:
        kind = message.type
        if kind == protocol.PLAY_STREAM_CHUNK:
            self._on_chunk(message, now)
            return
        self._check(message, now)
        if kind == protocol.PLAY_STREAM_START:
            self._on_stream_start(message, now)
        elif kind == protocol.PLAY_STREAM_STOP:
            self._on_stream_stop(message, now)
        elif kind == protocol.USER_STREAM_STARTED:
            self._emit(UserStreamStarted(now))
        elif kind in (protocol.SPEECH_STARTED, protocol.SPEECH_STOPPED, protocol.SPEECH_COMMITTED,
                      protocol.SPEECH_HYPOTHESIS, protocol.SPEECH_RECOGNITION, protocol.USER_STREAM_STOPPED):
            text = message.recognized_text() if kind in (protocol.SPEECH_HYPOTHESIS,
                                                         protocol.SPEECH_RECOGNITION) else None
            if kind != protocol.USER_STREAM_STOPPED:
                self.speech_events += 1
            self._emit(BotSpeechEvent(now, kind, text))
        elif kind == protocol.ACTIVITIES:
            for activity in message.activities():
                name = activity.name or activity.type
                if name.lower() == protocol.ACTIVITY_HANGUP.lower():
                    self.bot_hung_up = True
                self._emit(BotActivity(now, name, activity.params, activity.text))
        elif kind == protocol.SESSION_END:
            # The caller's message, from the bot: a gateway takes it as the bot ending the call.
            self.note("session.end from the bot (taken as hangup)", now)
            self.bot_hung_up = True
            self._emit(BotActivity(now, protocol.ACTIVITY_HANGUP))
        elif kind == protocol.SESSION_ACCEPTED:
            self._on_accepted(message, now)
        elif kind == protocol.CONNECTION_VALIDATED:
            self.out.append(ConnectionValidated(now, message.success()))  # answers go straight out, never held
        elif kind == protocol.SESSION_ERROR:
            self.out.append(SessionRejected(now, message.get_str("reason") or "no reason given"))
        else:
            self.note(f"unknown message type {kind[:40]!r} (ignored)" if not message.known
                      else f"{kind} from the bot (ignored)", now)
            log.debug("ignored message type %r", kind)

    def _on_accepted(self, message: protocol.Message, now: float) -> None:
        # A resumed call keeps its format when the bridge's session.accepted does not repeat it.
        kept = self.media_format.token if self.media_format is not None else protocol.DEFAULT_MEDIA_FORMAT
        token = message.get_str("mediaFormat") or kept
        # An accept the call cannot go on with ends it at once (protocol_error); skipped as malformed, the
        # caller would wait out --accept-timeout for an accept that is not coming.
        try:
            fmt = audio.parse_media_format(token)
        except ValueError as exc:
            self.out.append(ProtocolViolation(now, f"session.accepted: {exc}"))
            return
        if fmt.token not in self._offered:
            self.out.append(ProtocolViolation(now, f"session.accepted chose {token!r}, which was not offered"))
            return
        self.media_format = fmt
        if self.accepted_at is None:  # the call's acceptance, not a resumption's
            self.accepted_at = now
        elif not self.awaiting_accept:
            self.note("session.accepted repeated", now)
        held, self._held = self._held, []
        self.awaiting_accept = False
        self._emit = self.out.append
        self._emit(SessionAccepted(now, fmt.token))
        self.out.extend(held)

    def _on_stream_start(self, message: protocol.Message, now: float) -> None:
        # Every field is checked before the open stream is touched: a malformed start is ignored whole.
        token = message.get_str("mediaFormat")
        fmt = self.media_format or audio.parse_media_format(protocol.DEFAULT_MEDIA_FORMAT)
        if token:
            try:
                fmt = audio.parse_media_format(token)
            except ValueError as exc:
                raise protocol.ProtocolError(f"playStream.start: {exc}") from None
        stream_id = self._stream_id(message, now) or uuid.uuid4().hex[:8]
        alt_text = message.get_str("altText")
        if self.stream is not None and self.stream.open:
            self.note("playStream.start while a prompt is open (no playStream.stop)", now)
            self._finish_stream(now)
        self.stream = AgentStream(stream_id=stream_id, media_format=fmt, alt_text=alt_text, started_at=now)
        self._opened(self.stream)

    def _on_stream_stop(self, message: protocol.Message, now: float) -> None:
        stream_id = self._stream_id(message, now)
        stream = self.stream
        if stream is None or not stream.open:
            self.note("playStream.stop with no prompt playing (ignored)", now)
            return
        if stream_id is not None and stream_id != stream.stream_id:
            # A gateway stops the stream it is told to stop: one it is not playing is nothing to stop, and the
            # playing prompt still ends by its own stop, the next start or silence.
            self.note("playStream.stop naming a stream that is not playing (ignored)", now)
            return
        self._finish_stream(now)

    def _stream_id(self, message: protocol.Message, now: float) -> Optional[str]:
        """The streamId as text, of any form a bot writes it in (a gateway only matches it, never reads it)."""
        value = message.data.get("streamId")
        if value is None or isinstance(value, str):
            return value or None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        self.note(f"{message.type} with a streamId that is not a string", now)
        return protocol.encode(value)

    def _maybe_silent(self, stream: AgentStream, now: float) -> None:
        """End an open prompt whose chunks stopped long enough ago (after its audio would have played)."""
        played_out = max(stream.last_chunk_at, (stream.first_chunk_at or stream.started_at) + stream.audio_ms / 1000.0)
        if now - played_out > PROMPT_SILENCE_S:
            self.note("prompt without playStream.stop (ended by silence)", now)
            stream.stopped_at = played_out
            self._emit(AgentStreamStopped(played_out, stream))

    def _on_chunk(self, message: protocol.Message, now: float) -> None:
        stream = self.stream
        if stream is not None and stream._counted_bytes_per_sample and stream.stopped_at is None:
            # Most chunks take this path: see AgentStream._counted_bytes_per_sample.
            stream._count(message.audio_size(), now)
            return
        payload = message.audio()
        if stream is None or not stream.open:
            # Lenient: a bridge that streams without playStream.start still gets its audio timed.
            self.note("playStream.chunk with no playStream.start", now)
            fmt = self.media_format or audio.parse_media_format(protocol.DEFAULT_MEDIA_FORMAT)
            stream = self.stream = AgentStream(stream_id=self._stream_id(message, now) or "implicit",
                                               media_format=fmt, alt_text=None, started_at=now)
            self._opened(stream)
        fmt = stream.media_format
        stream.last_chunk_at = now
        if stream.first_chunk_at is None:  # the first chunk of each prompt is checked, not all 50 a second
            stream.first_chunk_at = now
            self._check(message, now)
        samples = audio.decode_audio(payload, fmt)
        stream.received_samples += len(samples)
        if self._keep_agent_audio:
            stream._add(samples, now)
        if stream.first_voiced_at is None and audio.is_voiced(samples):
            stream.first_voiced_at = now
            self.voiced = stream
            if not self._keep_agent_audio and fmt.container == "raw":
                stream._counted_bytes_per_sample = fmt.bytes_per_sample
            self._emit(AgentVoiceStarted(now, stream))

    def _opened(self, stream: AgentStream) -> None:
        if self.awaiting_accept:
            if self.accepted_at is None and self.audio_before_accept_at is None:
                self.audio_before_accept_at = stream.started_at
            self.note("audio streamed before session.accepted", stream.started_at)
        if self.streams is not None:
            self.streams.append(stream)
        self._emit(AgentStreamStarted(stream.started_at, stream))

    def _finish_stream(self, now: float) -> None:
        stream = self.stream
        if stream is not None and stream.open:
            stream.stopped_at = now
            self._emit(AgentStreamStopped(now, stream))

"""AudioCodesClient: the phone side of one call to a bridge, over a synchronous websocket-client socket.

Why this shape:
- websocket-client is synchronous; it does the upgrade and the closing, under gevent (Locust monkey-patches,
  our CLI does too). Receiving does not park a greenlet per call: the hub's own loop calls `_on_readable`
  whenever the call's socket has bytes, and it reads them once, timestamps them with the monotonic clock
  at the moment they arrived and turns them into a few typed events, without ever blocking. A greenlet
  parked in `recv()` per call costs two switches and a second, empty `recv` per agent frame, which at a
  thousand callers is most of a core (bench/capacity.py). Mid-prompt, once chunks are only counted, the
  socket is read every few chunks by one sweep for all calls instead (callers/runtime/read_sweep.py). TLS sockets
  keep a receive greenlet: a TLS record can be readable on the socket but not yet whole. Timing is taken
  here, once, and carried in the events; nothing downstream re-times.
- Agent audio is tracked per play stream (first voiced chunk, last chunk, stop) instead of surfacing one
  event per 20 ms frame: the caller logic wakes up a handful of times per turn, not fifty times a second.
- The caller's own audio is paced against absolute deadlines (start + i * frame), so sleep overshoot on a
  busy worker never accumulates into drift; every frame's lateness is kept so an overloaded simulator is
  reported as such instead of being blamed on the agent. One pacer per process sends every caller's frames
  (callers/runtime/pacer.py), and both audio paths frame by hand (callers/wire/wsframes.py): at 50 frames a second each
  way per caller, per-frame overhead is what limits how many callers a core runs (bench/capacity.py).
"""
from __future__ import annotations

import logging
import socket
import ssl
import struct
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Optional, Sequence, Union

import gevent
import gevent.ssl
import numpy as np
import websocket
from gevent.event import Event
from gevent.queue import Empty, Queue

from callers.errors import CallFailure, ErrorCategory
from callers.media import audio
from callers.results import public_url
from callers.runtime.loop_lag import get_loop_lag
from callers.runtime.pacer import Utterance, get_pacer, lateness_p99_ms
from callers.runtime.read_sweep import SWEEP_S, get_read_sweep
from callers.transport import green_connect
from callers.transport.tls import UNTRUSTED_HINT
from callers.wire import protocol, wsframes
from callers.wire.audiocodes_session import (MAX_PENDING_EVENTS, MAX_STREAM_AUDIO_S, AgentStream,  # noqa: F401
                                        AgentStreamStarted, AgentStreamStopped, AgentVoiceStarted,
                                        AudioCodesSession, BotActivity, BotSpeechEvent, ClientEvent,
                                        ConnectionClosed, ConnectionValidated, EventOverflow, ProtocolViolation,
                                        PingReceived, SessionAccepted, SessionRejected, UserStreamStarted)

log = logging.getLogger(__name__)

DEFAULT_BRIDGE_URL = "ws://localhost:8000/ws/telephony"
DEFAULT_MEDIA_FORMATS = ("raw/lpcm16", "raw/mulaw")
CONNECT_TIMEOUT_S = 10.0
# How long session.accepted may take. Bots that start a model session per call answer in seconds, and the
# first call after a bot starts can take 10-15 s (an OpenAI Realtime bridge took ~14 s to its first audio):
# 30 s carries such a cold start with room to spare, as a gateway holding the call would, and still ends a
# bot that never answers well inside a call's default 60 s.
ACCEPT_TIMEOUT_S = 30.0
# How long the first userStream.start waits for userStream.started. Bots answer it at once or never (some
# ignore userStream.start and hear the caller by their own VAD): past this, a gateway sends the audio
# anyway, and later utterances do not wait again once the bot has shown it does not answer.
STREAM_ACK_TIMEOUT_S = 2.0
STREAM_NOT_ACKED = "userStream.start not acknowledged (audio sent without userStream.started)"
CLOSED_WITHOUT_HANGUP = "the bot ended the connection without a hangup activity"
CLOSE_WAIT_S = 1.0
# One read takes every frame that has arrived (agent chunks are ~1 KB; a burst is read in one go).
RECV_BYTES = 65536
# A read at least this big (about four times real time for the read sweep's 60 ms, at any media format)
# means audio is coming faster than the sweep would read it: the socket is read as it comes instead.
SWEPT_READ_MAX_BYTES = 16384
_TLS_SOCKETS = (ssl.SSLSocket, gevent.ssl.SSLSocket)
_READABLE = 1  # libev's EV_READ
# Linux stamps every packet it receives with when it arrived (SO_TIMESTAMPNS: Python's socket module lacks
# the name, 35 is its number on x86 and ARM). Read with the bytes, the stamp says when the newest of them
# arrived, so a loop busy with other callers does not add its own delay to the latency measured to the
# agent's answer.
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESPEC = struct.Struct("@ll")
_STAMP_SPACE = socket.CMSG_SPACE(_TIMESPEC.size)
# A stamp older than this, or from the future, means the wall clock was stepped: the read time is used.
MAX_STAMP_AGE_S = 10.0
# Frames past this are a broken peer, not a message: the call ends instead of buffering without bound.
MAX_FRAME_BYTES = 4 * protocol.MAX_MESSAGE_BYTES
# After a drop: how many times to dial again for session.resume, pausing RESUME_BACKOFF_S * (try - 1) before
# each retry (the bridge may be restarting; a few seconds is what a phone caller would wait on a silent line).
RESUME_ATTEMPTS = 3
RESUME_BACKOFF_S = 0.5


@dataclass
class ResumeOutcome:
    """How a session.resume went: resumed or not, the bridge's answer or why it could not be asked."""

    ok: bool
    reason: str
    attempts: int
    took_s: float


@dataclass
class SpeechTiming:
    """When one caller utterance went out: first and last audio frame on the socket, and pacing health."""

    started_at: float
    ended_at: float
    frames: int
    max_lateness_ms: float
    p99_lateness_ms: float
    interrupted: bool = False
    lateness_ms: Optional[np.ndarray] = field(default=None, repr=False)  # per frame sent, for benchmarks


class AudioCodesClient:
    """One call's connection to a bridge, speaking the AudioCodes side of the bot protocol."""

    def __init__(self, url: str = DEFAULT_BRIDGE_URL, *, token: Optional[str] = None,
                 caller_phone: str = "+15551234567", bot_name: str = "caller-agent",
                 media_formats: Sequence[str] = DEFAULT_MEDIA_FORMATS,
                 frame_ms: int = audio.DEFAULT_FRAME_MS, conversation_id: Optional[str] = None,
                 connect_timeout: float = CONNECT_TIMEOUT_S, sslopt: Optional[dict] = None,
                 keep_streams: bool = False, keep_agent_audio: bool = True,
                 accept_timeout_s: float = ACCEPT_TIMEOUT_S, strict: bool = False) -> None:
        self.url = url
        # What messages and logs may show: no credentials or query string (a token can ride in either).
        self.shown_url = public_url(url)
        self.caller_phone = caller_phone
        self.bot_name = bot_name
        self.media_formats = tuple(media_formats)
        self.frame_ms = frame_ms
        self.conversation_id = conversation_id or uuid.uuid4().hex
        self.connect_timeout = connect_timeout
        self.accept_timeout_s = accept_timeout_s
        self._token = token
        self._sslopt = sslopt or {}
        self._ws: Optional[websocket.WebSocket] = None
        self._receiver: Optional[gevent.Greenlet] = None  # TLS only; plain sockets are read by `_watcher`
        self._watcher = None
        self._raw: Optional[socket.socket] = None  # what `_watcher` reads, and the read sweep too
        self._reader = wsframes.FrameReader(MAX_FRAME_BYTES)
        self._events: Queue = Queue()
        self._user_stream_ack = Event()
        self._acks_missing = False  # the bot left a userStream.start unanswered: later ones do not wait
        self._started = False  # the start activity went out: the call is a conversation the bot knows of
        self._closing = False
        self._closed = Event()
        # Set when the bot hangs up or the connection ends: the caller stops talking at once, as on a phone.
        self._line_ended = Event()
        # What the bot's messages mean for the call: handshake, play streams, events (no I/O).
        # strict: any deviation from the protocol ends the call protocol_error; else it is noted
        # (`protocol_notes`) and the call goes on as a phone gateway would carry it.
        self.session = AudioCodesSession(self.media_formats, conversation_id=self.conversation_id,
                                         keep_agent_audio=keep_agent_audio, keep_streams=keep_streams, strict=strict)
        self.socket_open_at: Optional[float] = None
        # Why the connection was lost, when it was lost without a close frame while the call was up: the
        # case session.resume exists for. None otherwise (never lost, closed by us, or closed deliberately).
        self.dropped: Optional[str] = None

    # ---- connection --------------------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the socket and run the session handshake; every failure becomes a categorised CallFailure."""
        self._open_socket()
        self.session.initiated(time.monotonic())  # before the send: the answer may come while it waits
        self._send(protocol.session_initiate(self.conversation_id, self.bot_name, self.caller_phone,
                                             self.media_formats))
        # What the bot streams before it accepts is held by the session until it does (see AudioCodesSession).
        event = self.next_event(self.accept_timeout_s)
        if isinstance(event, SessionAccepted):
            return
        self.close()
        if event is None:
            raise CallFailure(ErrorCategory.HANDSHAKE_REJECTED,
                              f"{self.shown_url}: no session.accepted within {self.accept_timeout_s:g} s")
        if isinstance(event, ProtocolViolation):
            raise CallFailure(ErrorCategory.PROTOCOL_ERROR, f"{self.shown_url}: {event.message}")
        if isinstance(event, SessionRejected):
            raise CallFailure(ErrorCategory.HANDSHAKE_REJECTED, f"{self.shown_url}: session.error: {event.reason}")
        if isinstance(event, ConnectionClosed):
            raise CallFailure(ErrorCategory.HANDSHAKE_REJECTED,
                              f"{self.shown_url}: closed before accepting ({event.reason})")
        raise CallFailure(ErrorCategory.PROTOCOL_ERROR,
                          f"{self.shown_url}: expected session.accepted, got {type(event).__name__}")

    def validate(self, timeout: float) -> Optional[bool]:
        """The protocol's setup-time probe on a fresh socket (no session): the bridge's `success` answer, or
        None if it said nothing about it within `timeout` (the message is optional for bridges)."""
        self._open_socket()
        self._send(protocol.connection_validate())
        deadline = time.monotonic() + timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                event = self.next_event(left)
                if isinstance(event, ConnectionValidated):
                    return event.success
                if event is None or isinstance(event, ConnectionClosed):
                    return None
            return None
        finally:
            self.close()

    def wait_closed(self, timeout: float) -> bool:
        """Whether the receive path has seen the connection end within `timeout` seconds (a failed send can
        come first; `dropped` is known once it has)."""
        return self._closed.wait(timeout)

    def resume(self, attempts: int = RESUME_ATTEMPTS) -> ResumeOutcome:
        """After a drop (`dropped`), dial again and ask the bridge to continue this conversation with
        session.resume, as the AudioCodes side does. Dialling is retried `attempts` times with a growing
        pause; a session.error is the bridge's final answer and is not retried."""
        began = time.monotonic()
        problem = "not tried"
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                gevent.sleep(RESUME_BACKOFF_S * (attempt - 1))
            self._forget_connection()
            try:
                self._open_socket()
                self.session.initiated(time.monotonic())
                self._send(protocol.session_resume(self.conversation_id))
            except CallFailure as failure:
                problem = failure.message
                continue
            event = self.next_event(self.accept_timeout_s)
            if isinstance(event, SessionAccepted):
                return ResumeOutcome(True, "session.accepted", attempt, time.monotonic() - began)
            self.close()
            if isinstance(event, SessionRejected):
                return ResumeOutcome(False, f"session.error: {event.reason}", attempt, time.monotonic() - began)
            problem = (event.reason if isinstance(event, ConnectionClosed) else
                       f"no session.accepted within {self.accept_timeout_s:g} s" if event is None else
                       f"expected session.accepted, got {type(event).__name__}")
        return ResumeOutcome(False, problem, attempts, time.monotonic() - began)

    def _open_socket(self) -> None:
        """The WebSocket upgrade (with the Bearer token, over TLS for wss://), then the reader (a hub
        watcher, or a greenlet for TLS); failures named by URL and why."""
        headers = [f"Authorization: Bearer {self._token}"] if self._token else []
        try:
            ws = green_connect.create_connection(
                self.url, timeout=self.connect_timeout, header=headers, enable_multithread=True,
                skip_utf8_validation=True, sslopt=self._sslopt, sockopt=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),))
        except websocket.WebSocketBadStatusException as exc:
            raise CallFailure(ErrorCategory.HANDSHAKE_REJECTED,
                              f"{self.shown_url}: bridge refused the WebSocket upgrade with HTTP {exc.status_code}"
                              f"{' ' + exc.status_message if exc.status_message else ''}") from None
        except (websocket.WebSocketAddressException, socket.gaierror) as exc:
            raise CallFailure(ErrorCategory.CONNECT_FAILED,
                              f"{self.shown_url}: cannot resolve host ({_first_line(exc)})") from None
        except ssl.SSLCertVerificationError as exc:
            raise CallFailure(ErrorCategory.CONNECT_FAILED,
                              f"{self.shown_url}: TLS certificate verify failed "
                              f"({exc.verify_message or exc.reason}); {UNTRUSTED_HINT}") from None
        except ssl.SSLError as exc:
            raise CallFailure(ErrorCategory.CONNECT_FAILED,
                              f"{self.shown_url}: TLS failed ({_first_line(exc)})") from None
        except ConnectionRefusedError:
            raise CallFailure(ErrorCategory.CONNECT_FAILED,
                              f"{self.shown_url}: connection refused (is the bridge running?)") from None
        except (socket.timeout, websocket.WebSocketTimeoutException):
            raise CallFailure(ErrorCategory.CONNECT_FAILED,
                              f"{self.shown_url}: no answer within {self.connect_timeout:g} s") from None
        except (OSError, websocket.WebSocketException, ValueError) as exc:
            raise CallFailure(ErrorCategory.CONNECT_FAILED, f"{self.shown_url}: {_first_line(exc)}") from None
        if self.socket_open_at is None:  # the call's socket, not a resumption's: connect_ms is measured from it
            self.socket_open_at = time.monotonic()
            self.session.connected(self.socket_open_at)
        self._ws = ws
        ws.settimeout(None)
        self._reader = wsframes.FrameReader(MAX_FRAME_BYTES)
        if isinstance(ws.sock, _TLS_SOCKETS):
            self._receiver = gevent.spawn(self._receive_loop)
        else:
            raw = self._raw = getattr(ws.sock, "_sock", ws.sock)  # under gevent, the OS socket: reads never wait
            if sys.platform.startswith("linux"):
                raw.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            self._watcher = gevent.get_hub().loop.io(ws.sock.fileno(), _READABLE)
            self._watcher.start(self._on_readable, raw)
        get_loop_lag()  # probing from now on, so the answer's read has a history to be judged by

    def _forget_connection(self) -> None:
        """Drop everything tied to the previous socket, so a resumed connection starts clean."""
        self._stop_receiving()
        if self._ws is not None:
            _discard(self._ws)
        self._ws = None
        self.session.new_connection()
        self._events = Queue()
        self._user_stream_ack = Event()
        self._closing = False
        self._closed = Event()
        self._line_ended = Event()
        self.dropped = None

    @property
    def media_format(self) -> Optional[audio.MediaFormat]:
        """The format of the caller's audio, once the bridge has accepted the session."""
        return self.session.media_format

    @property
    def accepted_at(self) -> Optional[float]:
        return self.session.accepted_at

    @property
    def streams(self) -> Optional[list[AgentStream]]:
        return self.session.streams

    @property
    def protocol_warnings(self) -> int:
        return self.session.protocol_warnings

    @property
    def strict(self) -> bool:
        return self.session.strict

    @property
    def protocol_notes(self) -> list[dict]:
        """Deviations from the protocol the call was carried through: `{"what", "first_ms", "count"}` each,
        `first_ms` counted from the WebSocket upgrade; empty for a bot that keeps to the protocol."""
        return self.session.protocol_notes

    @property
    def greeting_from_at(self) -> Optional[float]:
        """What greeting_latency_ms counts from: session.accepted, or the moment session.initiate went out
        when the bot streamed its greeting before accepting."""
        return self.session.greeting_from_at

    @property
    def connect_ms(self) -> Optional[float]:
        if self.socket_open_at is None or self.accepted_at is None:
            return None
        return (self.accepted_at - self.socket_open_at) * 1000.0

    def start_conversation(self, display_name: str, language: str = protocol.DEFAULT_LANGUAGE,
                           callee: str = "bank", extra_parameters: Optional[dict] = None) -> None:
        self._send(protocol.start_activity(self.conversation_id, self.caller_phone, callee, display_name,
                                           language=language, extra_parameters=extra_parameters))
        self._started = True

    def send_dtmf(self, digits: str) -> None:
        self._send(protocol.dtmf_activity(self.conversation_id, digits))

    def hang_up(self, reason: str = "Caller hung up", reason_code: str = "client-disconnected") -> None:
        """End the call so the bot can release its session, whichever side ended it and why: a hangup
        activity (unless the bot hung up itself, or the conversation never started) and session.end, while
        the connection is up; then close. Safe to call more than once."""
        if self._ws is not None and not self._closing and self._ws.connected and not self._closed.is_set():
            try:
                if self._started and not self.session.bot_hung_up:
                    self._send(protocol.hangup_activity(self.conversation_id))
                self._send(protocol.session_end(self.conversation_id, reason_code, reason))
            except CallFailure:
                pass
        self.close()

    def close(self) -> None:
        """Close frame, then wait briefly for the peer's close frame before the socket goes."""
        if self._ws is None or self._closing:
            return
        self._closing = True
        ws = self._ws
        try:
            if ws.connected:
                ws.send(struct.pack("!H", websocket.STATUS_NORMAL), websocket.ABNF.OPCODE_CLOSE)
        except (OSError, websocket.WebSocketException):
            pass
        if gevent.getcurrent() is not self._receiver:
            self._closed.wait(CLOSE_WAIT_S)
            self._stop_receiving()
        _discard(ws)

    # ---- events ------------------------------------------------------------------------------------------

    def next_event(self, timeout: Optional[float]) -> Optional[ClientEvent]:
        """The next event, or None when `timeout` seconds pass first."""
        try:
            return self._events.get(timeout=timeout)
        except Empty:
            return None

    @property
    def current_stream(self) -> Optional[AgentStream]:
        return self.session.stream

    # ---- speaking ----------------------------------------------------------------------------------------

    def speak(self, frames_b64: Sequence[str], stop_when: Optional[Event] = None) -> SpeechTiming:
        """Stream one utterance as a userStream, paced in real time; returns when the last frame is out.

        `frames_b64` are ready-to-send base64 frames in the accepted media format (shared between callers).
        `stop_when`, if set during the utterance, ends it early (the caller gave up mid-sentence); so does the
        bot hanging up or the connection ending (the line is dead: the utterance returns, interrupted).
        A bot that leaves userStream.start unanswered is noted and spoken to anyway, as a gateway would.
        """
        if self._closed.is_set():
            raise CallFailure(ErrorCategory.BRIDGE_CLOSED, "bridge closed the call")
        self._user_stream_ack.clear()
        self._send(protocol.user_stream_start(self.conversation_id))
        acked = self._user_stream_ack.wait(0.0 if self._acks_missing else STREAM_ACK_TIMEOUT_S)
        if self._closed.is_set():
            raise CallFailure(ErrorCategory.BRIDGE_CLOSED, "bridge closed the call")
        if not acked:
            self._acks_missing = True
            self.session.note(STREAM_NOT_ACKED, time.monotonic())
            if self.strict:  # the session's ProtocolViolation says the same: this utterance ends the call here
                self.session.out.clear()
                raise CallFailure(ErrorCategory.PROTOCOL_ERROR, f"protocol deviation (strict): {STREAM_NOT_ACKED}: "
                                  f"no userStream.started within {STREAM_ACK_TIMEOUT_S:g} s")
        line_ended = self._line_ended
        return self._send_paced(frames_b64, line_ended if stop_when is None else _AnyOf(stop_when, line_ended))

    def _send_paced(self, frames_b64: Sequence[str], stop_when: Union[Event, "_AnyOf"]) -> SpeechTiming:
        """The frames, then userStream.stop straight after the last one (the pacer sends both)."""
        if self._ws is None or self._ws.sock is None:
            raise CallFailure(ErrorCategory.BRIDGE_CLOSED, "bridge closed the call")
        conversation_id = self.conversation_id

        def build(index: int) -> bytes:
            return wsframes.client_frame(protocol.user_stream_chunk_frame(conversation_id, frames_b64[index]).encode())

        stop = wsframes.client_frame(protocol.encode(protocol.user_stream_stop(conversation_id)).encode())
        utterance = Utterance(self._ws.sock, self._ws.lock, build, len(frames_b64), self.frame_ms / 1000.0, stop_when,
                              tail=stop)
        get_pacer().play(utterance)
        if utterance.error is not None and not (self.session.bot_hung_up and isinstance(utterance.error, OSError)):
            if isinstance(utterance.error, OSError):
                raise CallFailure(ErrorCategory.BRIDGE_CLOSED,
                                  f"bridge closed the call ({_first_line(utterance.error)})") from None
            raise utterance.error
        sent = utterance.sent
        used = utterance.lateness_ms[:sent]
        first = utterance.first_sent_at if utterance.first_sent_at is not None else utterance.start
        return SpeechTiming(started_at=first, ended_at=utterance.last_sent_at or first, frames=sent,
                            max_lateness_ms=float(used.max()) if sent else 0.0,
                            p99_lateness_ms=lateness_p99_ms(used) if sent else 0.0,
                            interrupted=sent < len(frames_b64), lateness_ms=used)

    # ---- wire --------------------------------------------------------------------------------------------

    def _send(self, message: dict) -> None:
        self._send_text(protocol.encode(message))

    def _send_text(self, text: str) -> None:
        if self._ws is None:
            raise CallFailure(ErrorCategory.SIMULATOR_ERROR, "send before connect")
        try:
            self._ws.send(text)
        except (OSError, websocket.WebSocketException) as exc:
            raise CallFailure(ErrorCategory.BRIDGE_CLOSED, f"bridge closed the call ({_first_line(exc)})") from None

    def _emit(self, event: ClientEvent) -> None:
        if self._events.qsize() >= MAX_PENDING_EVENTS:
            raise EventOverflow()
        self._events.put(event)

    def _on_readable(self, raw: socket.socket) -> None:
        """Called by the hub when the socket has bytes: one read, never a wait (nothing may block the hub).

        Until the agent's voice is heard in a prompt, the read takes the kernel's arrival stamp too: that is
        when the latencies are measured to. Mid-prompt the chunks are only counted, and a plain read is
        cheaper (stamping every read cost 7-22 % more CPU per caller). A read that held nothing but counted
        chunks, and not many of them (SWEPT_READ_MAX_BYTES), hands the socket to the read sweep: the rest
        of the prompt is read a few chunks at a time. Audio coming faster than that is read as it comes."""
        session = self.session
        stream = session.stream
        parsed = session.parsed_frames
        try:
            if stream is not None and stream.first_voiced_at is not None and stream.stopped_at is None:
                data, now = raw.recv(RECV_BYTES), time.monotonic()
            else:
                data, ancillary, _, _ = raw.recvmsg(RECV_BYTES, _STAMP_SPACE)
                now = _arrival_time(ancillary)
        except BlockingIOError:
            return
        except OSError as exc:
            self._end_receiving(*self._lost(exc))
            return
        if not self._take(data, now) and session.only_counted(len(data), parsed, SWEPT_READ_MAX_BYTES):
            self._watcher.stop()
            get_read_sweep().add(self, self._swept_read)

    def _swept_read(self) -> bool:
        """The read sweep's read (callers/runtime/read_sweep.py); True to be woken per read again. Stamped: its
        newest bytes may be the prompt's last chunk or its stop, whose arrival times are measured."""
        raw = self._raw
        parsed = self.session.parsed_frames
        try:
            data, ancillary, _, _ = raw.recvmsg(RECV_BYTES, _STAMP_SPACE)
        except BlockingIOError:
            return False
        except OSError as exc:
            self._end_receiving(*self._lost(exc))
            return True
        if self._take(data, _arrival_time(ancillary)):
            return True
        if self.session.only_counted(len(data), parsed, SWEPT_READ_MAX_BYTES):
            return False
        self._watcher.start(self._on_readable, raw)
        return True

    def _receive_loop(self) -> None:
        """The TLS socket's reader: a greenlet, since only the TLS layer knows when a record is whole."""
        ended = False
        while not ended:
            try:
                data = self._ws.sock.recv(RECV_BYTES)
            except (OSError, websocket.WebSocketException, AttributeError) as exc:
                self._end_receiving(*self._lost(exc))
                return
            ended = self._take(data, time.monotonic())

    def _take(self, data: bytes, now: float) -> bool:
        """Turn bytes that arrived at `now` into events; whether the connection is over."""
        try:
            ended = self._frames(data, now)
        except EventOverflow:
            reason = f"bridge sent more than {MAX_PENDING_EVENTS} unread events"
            self._emit_final(ProtocolViolation(time.monotonic(), reason))
            ended = (reason, False)
        except (OSError, websocket.WebSocketException, wsframes.FrameError) as exc:
            ended = self._lost(exc)
        except Exception:  # noqa: BLE001 - a bug of ours ends this call's connection, never the hub's loop
            log.exception("receiving from %s failed", self.shown_url)
            ended = ("connection closed", False)
        if ended is None:
            return False
        self._end_receiving(*ended)
        return True

    def _frames(self, data: bytes, now: float) -> Optional[tuple[str, bool]]:
        """Handle every message in `data`; (reason, expected) once the connection has ended."""
        if not data:
            raise websocket.WebSocketConnectionClosedException("Connection to remote host was lost.")
        session = self.session
        closed = session.receive(self._reader.feed(data), now)
        if session.out:
            self._deliver(session.out)
        if session.voiced is not None:
            self._judge_voice_read()
        if closed is None:
            return None
        gevent.spawn(self._reply, self._ws.send_close)
        self._note_unannounced_end(now)
        return closed, self._closing

    def _deliver(self, out: list) -> None:
        """The session's events: to the caller logic, except what the client itself answers."""
        if self.session.bot_hung_up:
            self._line_ended.set()
        try:
            for event in out:
                kind = type(event)
                if kind is UserStreamStarted:
                    self._user_stream_ack.set()
                elif kind is PingReceived:
                    gevent.spawn(self._reply, self._ws.pong, event.payload)
                else:
                    self._emit(event)
        finally:
            out.clear()

    def _judge_voice_read(self) -> None:
        """How far the stamp of the read that began a prompt's voice can be off (AgentStream.voice_read_lag_ms)."""
        session = self.session
        stream, session.voiced = session.voiced, None
        if session.voice_followed:
            stream.voice_read_lag_ms = max(get_loop_lag().recent_ms(),
                                           SWEEP_S * 1000.0 if self in get_read_sweep() else 0.0)

    def _lost(self, exc: BaseException) -> tuple[str, bool]:
        reason, expected = f"connection lost ({_first_line(exc) or type(exc).__name__})", self._closing
        if not expected:
            self.dropped = reason
            self._note_unannounced_end(time.monotonic())
        return reason, expected

    def _note_unannounced_end(self, now: float) -> None:
        """The bot's side ended a call it had accepted, without hanging up first: the caller ends the call
        bridge_closed (not refused as strict: that category says it better)."""
        if not self._closing and not self.session.bot_hung_up and self.session.accepted_at is not None:
            self.session.note(CLOSED_WITHOUT_HANGUP, now, refuse=False)

    @staticmethod
    def _reply(send, *args) -> None:
        """A pong or close reply, from its own greenlet: a send may wait for the socket, the hub may not."""
        try:
            send(*args)
        except (OSError, websocket.WebSocketException):
            pass

    def _stop_receiving(self) -> None:
        """Stop reading (before the socket is closed: its descriptor may be reused for another call); if
        the connection had not ended yet (the peer never answered our close frame), it ends here."""
        reading = self._watcher is not None or self._receiver is not None
        get_read_sweep().discard(self)
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if self._receiver is not None:
            self._receiver.kill(block=False)
            self._receiver = None
        if reading and not self._closed.is_set():
            self._end_receiving("connection closed", False)

    def _end_receiving(self, reason: str, expected: bool) -> None:
        self._line_ended.set()
        get_read_sweep().discard(self)
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self._user_stream_ack.set()
        self._closed.set()
        self._emit_final(ConnectionClosed(time.monotonic(), reason, expected))

    def _emit_final(self, event: ClientEvent) -> None:
        self._events.put(event)


class _AnyOf:
    """Set when any of its events is (the pacer only asks `is_set`): the caller's own stop, or a dead line."""

    def __init__(self, *events: Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


MockAudioCodesClient = AudioCodesClient
"""The seed's name for the client; kept importable so existing scripts keep working."""


def _arrival_time(ancillary: list) -> float:
    """When the newest bytes of a read arrived, on the monotonic clock: the kernel's stamp if the read
    carried one, else now. The stamp is on the wall clock, so only the time since it is used."""
    now = time.monotonic()
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(payload) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(payload)
            waited = time.time() - (seconds + nanoseconds / 1e9)
            return now - waited if 0.0 <= waited < MAX_STAMP_AGE_S else now
    return now


def _discard(ws: websocket.WebSocket) -> None:
    """Shut the socket, and unlink websocket-client's frame reader from its WebSocket: the reader holds a
    bound method of the WebSocket, a reference cycle per call that only the collector's full passes free.
    The calls' reads never go through it (the hub hands their bytes to FrameReader)."""
    ws.shutdown()
    ws.frame_buffer = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

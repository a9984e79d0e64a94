"""AudioCodesSession with messages and timestamps alone: no socket, no clock, no event loop."""
from __future__ import annotations

import base64
import json

import numpy as np

from callers.wire import protocol, wsframes
from callers.wire.audiocodes_session import (AgentStreamStarted, AgentStreamStopped, AgentVoiceStarted,
                                             AudioCodesSession, BotActivity, BotSpeechEvent, PingReceived,
                                             ProtocolViolation, SessionAccepted, SessionRejected, UserStreamStarted)

CID = "c" * 32
TEXT = wsframes.OPCODE_TEXT


def text(message: dict) -> tuple[int, bytes]:
    return TEXT, json.dumps(message, separators=(",", ":")).encode()


def tone_b64(ms: int = 20, rate: int = 16000, amplitude: int = 6000) -> str:
    t = np.arange(rate * ms // 1000) / rate
    return base64.b64encode((np.sin(2 * np.pi * 300 * t) * amplitude).astype("<i2").tobytes()).decode()


def session(**options) -> AudioCodesSession:
    return AudioCodesSession(("raw/lpcm16", "raw/mulaw"), **options)


def taken(s: AudioCodesSession) -> list:
    events, s.out[:] = list(s.out), []
    return events


def test_the_handshake_and_a_prompt_become_timed_events():
    s = session(keep_agent_audio=False)
    s.receive([text(protocol.session_accepted(CID, "raw/mulaw"))], 1.0)
    [accepted] = taken(s)
    assert isinstance(accepted, SessionAccepted) and accepted.media_format == "raw/mulaw"
    assert s.accepted_at == 1.0 and s.media_format.token == "raw/mulaw"
    frames = [text(protocol.play_stream_start(CID, "p1", "raw/lpcm16", "Hi."))]
    frames += [text(protocol.play_stream_chunk(CID, "p1", base64.b64decode(tone_b64()))) for _ in range(5)]
    s.receive(frames[:2], 2.0)
    s.receive(frames[2:], 2.1)
    s.receive([text(protocol.play_stream_stop(CID, "p1"))], 2.2)
    started, voiced, stopped = taken(s)
    assert isinstance(started, AgentStreamStarted) and started.at == 2.0
    assert isinstance(voiced, AgentVoiceStarted) and voiced.at == 2.0
    assert isinstance(stopped, AgentStreamStopped) and stopped.at == 2.2
    stream = started.stream
    assert (stream.alt_text, stream.received_samples) == ("Hi.", 1600)
    assert (stream.last_chunk_at, stream.stopped_at) == (2.1, 2.2)
    assert stream._template is not None  # later chunks were counted, not parsed


def test_every_other_message_type_is_dispatched():
    s = session()
    s.receive([text(protocol.simple(protocol.USER_STREAM_STARTED, CID)),
               text(protocol.speech_recognition(CID, "hello there")),
               text(protocol.bot_activity(CID, "hangup")),
               text(protocol.session_error(CID, "busy")),
               (wsframes.OPCODE_PING, b"hi")], 3.0)
    ack, heard, hangup, rejected, ping = taken(s)
    assert isinstance(ack, UserStreamStarted)
    assert isinstance(heard, BotSpeechEvent) and heard.text == "hello there"
    assert isinstance(hangup, BotActivity) and hangup.name == "hangup"
    assert isinstance(rejected, SessionRejected) and rejected.reason == "busy"
    assert isinstance(ping, PingReceived) and ping.payload == b"hi"


def test_a_close_frame_ends_the_read_and_names_its_code():
    s = session()
    reason = s.receive([(wsframes.OPCODE_CLOSE, (1001).to_bytes(2, "big")),
                        text(protocol.bot_activity(CID, "hangup"))], 4.0)
    assert reason == "bridge closed the socket (code 1001)" and s.out == []


def test_a_malformed_frame_is_counted_and_skipped():
    s = session()
    s.receive([(TEXT, b"{broken"), text(protocol.session_accepted(CID))], 1.0)
    assert s.protocol_warnings == 1 and isinstance(taken(s)[0], SessionAccepted)


def test_an_accept_naming_a_format_not_offered_ends_the_call_at_once():
    """Not skipped as malformed: the caller would wait out the accept timeout for an accept not coming."""
    s = session()
    s.receive([text(protocol.session_accepted(CID, "raw/lpcm16_24"))], 1.0)
    (violation,) = s.out
    assert isinstance(violation, ProtocolViolation) and violation.at == 1.0
    assert violation.message == "session.accepted chose 'raw/lpcm16_24', which was not offered"
    assert s.accepted_at is None


def test_what_comes_before_the_accept_is_held_until_it_and_noted():
    s = session(keep_agent_audio=False)
    s.connected(10.0)
    s.initiated(10.0)
    s.receive([text(protocol.play_stream_start(CID, "g", "raw/lpcm16")),
               text(protocol.play_stream_chunk(CID, "g", base64.b64decode(tone_b64())))], 12.0)
    assert s.out == []
    s.receive([text(protocol.session_accepted(CID))], 13.0)
    accepted, started, voiced = taken(s)
    assert isinstance(accepted, SessionAccepted) and (started.at, voiced.at) == (12.0, 12.0)
    assert s.greeting_from_at == 10.0 and s.accepted_at == 13.0
    assert s.protocol_notes == [{"what": "audio streamed before session.accepted", "first_ms": 2000.0, "count": 1}]


def test_strict_turns_the_first_deviation_into_a_violation():
    s = session(conversation_id=CID, strict=True)
    s.receive([text({"type": "userStream.started"}), text({"type": "userStream.started"})], 1.0)
    violation, *rest = taken(s)
    assert isinstance(violation, ProtocolViolation) and "without conversationId" in violation.message
    assert [type(e) for e in rest] == [UserStreamStarted, UserStreamStarted]
    assert s.protocol_notes[0]["count"] == 2


def test_a_prompt_left_open_ends_after_its_audio_has_played_and_a_silence():
    s = session(keep_agent_audio=False)
    burst = [text(protocol.play_stream_chunk(CID, "p", base64.b64decode(tone_b64(500))))]
    s.receive([text(protocol.play_stream_start(CID, "p"))] + burst * 4, 1.0)  # 2 s of audio at once
    s.receive([], 4.5)  # 3.5 s later: still within the 2 s played out plus the silence allowed
    assert s.stream.open
    s.receive(burst, 5.5)
    stopped, started = [e for e in taken(s) if isinstance(e, (AgentStreamStopped, AgentStreamStarted))][-2:]
    assert isinstance(stopped, AgentStreamStopped) and stopped.at == 3.0 and isinstance(started, AgentStreamStarted)
    assert [n["what"] for n in s.protocol_notes] == ["prompt without playStream.stop (ended by silence)",
                                                      "playStream.chunk with no playStream.start"]


def test_binary_frames_are_messages_if_they_parse_else_noted_and_ignored():
    s = session(conversation_id=CID)
    s.receive([(wsframes.OPCODE_BINARY, b"\x01\x02" * 160),
               (wsframes.OPCODE_BINARY, json.dumps(protocol.session_accepted(CID)).encode())], 1.0)
    assert isinstance(taken(s)[0], SessionAccepted) and s.protocol_warnings == 0
    assert [n["what"] for n in s.protocol_notes] == ["binary frame that is not a message (ignored)",
                                                      "message in a binary frame"]


def test_a_rejection_is_never_held():
    s = session()
    s.initiated(1.0)
    s.receive([text(protocol.session_error(CID, "busy"))], 2.0)
    assert isinstance(taken(s)[0], SessionRejected)


def test_a_stop_for_a_stream_that_is_not_playing_leaves_the_prompt_playing():
    s = session(keep_agent_audio=False)
    s.receive([text(protocol.session_accepted(CID, "raw/lpcm16"))], 1.0)
    s.receive([text(protocol.play_stream_start(CID, "p1", "raw/lpcm16", "Hi.")),
               text(protocol.play_stream_chunk(CID, "p1", base64.b64decode(tone_b64())))], 2.0)
    s.receive([text(protocol.play_stream_stop(CID, "p0"))], 2.1)
    s.receive([text(protocol.play_stream_chunk(CID, "p1", base64.b64decode(tone_b64())))], 2.2)
    s.receive([text(protocol.play_stream_stop(CID, "p1"))], 2.3)
    kinds = [type(event) for event in taken(s)[1:]]
    assert kinds == [AgentStreamStarted, AgentVoiceStarted, AgentStreamStopped]
    assert [note["what"] for note in s.protocol_notes] == [
        "playStream.stop naming a stream that is not playing (ignored)"]


def test_a_bots_own_session_end_is_its_hangup_and_noted():
    s = session(conversation_id=CID)
    s.receive([text(protocol.session_end(CID, "bot-ended", "Bot hung up"))], 4.0)
    [hangup] = taken(s)
    assert isinstance(hangup, BotActivity) and hangup.name == protocol.ACTIVITY_HANGUP and s.bot_hung_up
    assert [note["what"] for note in s.protocol_notes] == ["session.end from the bot (taken as hangup)"]


def test_a_hangup_activity_marks_the_bot_as_hung_up():
    s = session(conversation_id=CID)
    s.receive([text(protocol.bot_activity(CID, "HangUp"))], 1.0)
    assert s.bot_hung_up and s.protocol_notes == []


def test_speech_events_are_counted_and_a_validated_answer_needs_no_conversation():
    s = session(conversation_id=CID)
    s.receive([text(protocol.simple(protocol.USER_STREAM_STOPPED, CID)), text(protocol.connection_validated())], 1.0)
    assert s.speech_events == 0 and s.protocol_notes == []
    s.receive([text(protocol.simple(protocol.SPEECH_STARTED, CID)), text(protocol.speech_recognition(CID, "hi"))], 2.0)
    assert s.speech_events == 2


def test_strict_does_not_refuse_what_is_noted_as_tolerated():
    s = session(conversation_id=CID, strict=True)
    s.note("the bot ended the connection without a hangup activity", 1.0, refuse=False)
    assert taken(s) == [] and s.tolerated == {"the bot ended the connection without a hangup activity"}
    s.note("session.end from the bot (taken as hangup)", 2.0)
    [violation] = taken(s)
    assert isinstance(violation, ProtocolViolation)

"""Calls a phone gateway would carry, against a peer that bends the protocol one way at a time
(tests/callers/transport/interop_peer.py): each completes, and its protocol notes name what was bent."""
from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Optional

import gevent
import numpy as np
import pytest

from callers.errors import CallFailure, ErrorCategory
from callers.media import audio
from callers.transport.telephony import (AgentStream, AgentStreamStarted, AudioCodesClient, ClientEvent,
                                         ProtocolViolation)
from tests.callers.transport.peers import running_peer

PEER = Path(__file__).with_name("interop_peer.py")
GREETING_SAMPLES = 19200  # the peer's 1.2 s greeting at 16 kHz
REPLY_SAMPLES = 6400
pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]  # real-time calls against a bridge or peer


@pytest.fixture(scope="module")
def peer():
    with running_peer(PEER) as url:
        yield url + "/ws"


def tone_frames(seconds: float) -> list[str]:
    t = np.arange(int(seconds * 16000)) / 16000
    pcm = (np.sin(2 * np.pi * 300 * t) * 6000).astype(np.int16)
    return [base64.b64encode(f).decode() for f in audio.frames_for(pcm, 16000, audio.parse_media_format("raw/lpcm16"))]


class Call:
    """One short call: greeting, one caller utterance, the reply; every event kept in order."""

    def __init__(self, url: str, **options) -> None:
        self.client = AudioCodesClient(url, keep_agent_audio=False, **options)
        self.events: list[ClientEvent] = []

    def _drain_until(self, done, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            event = self.client.next_event(0.05)
            if event is not None:
                self.events.append(event)
                if isinstance(event, ProtocolViolation):
                    raise CallFailure(ErrorCategory.PROTOCOL_ERROR, event.message)
            assert time.monotonic() < deadline, f"timed out; saw {self.events}"

    def streams(self) -> list[AgentStream]:
        return [event.stream for event in self.events if isinstance(event, AgentStreamStarted)]

    def run(self) -> "Call":
        client = self.client
        client.connect()
        client.start_conversation("Tester")
        self._drain_until(lambda: self.streams() and self.streams()[0].received_samples >= GREETING_SAMPLES, 10)
        client.speak(tone_frames(0.3))
        self._drain_until(lambda: len(self.streams()) > 1 and self.streams()[-1].received_samples >= REPLY_SAMPLES, 10)
        client.hang_up()
        return self

    @property
    def greeting(self) -> AgentStream:
        return self.streams()[0]

    def notes(self) -> dict[str, int]:
        return {note["what"]: note["count"] for note in self.client.protocol_notes}


def noted(call: Call, fragment: str) -> Optional[dict]:
    return next((note for note in call.client.protocol_notes if fragment in note["what"]), None)


def test_a_bot_that_keeps_to_the_protocol_leaves_no_notes(peer):
    call = Call(peer).run()
    assert call.notes() == {}
    assert call.greeting.received_samples == GREETING_SAMPLES and call.greeting.stopped_at is not None
    assert call.client.greeting_from_at == call.client.accepted_at


def test_a_greeting_streamed_before_a_late_accept_is_the_greeting(peer):
    call = Call(f"{peer}?greet_early=1&accept_delay_s=1.5").run()
    client = call.client
    # connect() took the acceptance first; the greeting held until then comes next, with its own times.
    assert isinstance(call.events[0], AgentStreamStarted) and call.greeting.started_at < client.accepted_at
    assert client.connect_ms >= 1400
    assert client.greeting_from_at == client.session.initiated_at
    assert 0 < call.greeting.first_voiced_at - client.greeting_from_at < 1.0
    note = noted(call, "before session.accepted")
    assert note is not None and note["count"] == 1 and 0 <= note["first_ms"] < 1000


def test_a_cold_first_call_is_waited_for_up_to_the_accept_timeout(peer):
    assert AudioCodesClient(peer).accept_timeout_s >= 20
    call = Call(f"{peer}?accept_delay_s=2.5", accept_timeout_s=5).run()
    assert call.client.connect_ms >= 2400 and call.notes() == {}
    with pytest.raises(CallFailure) as failure:
        AudioCodesClient(f"{peer}?accept_delay_s=2.5", accept_timeout_s=1).connect()
    assert failure.value.category is ErrorCategory.HANDSHAKE_REJECTED
    assert "no session.accepted within 1 s" in failure.value.message


@pytest.mark.parametrize("query, fragment", [
    ("bare=1", "without conversationId"),
    ("unknown=1", "unknown message type 'bot.thinking'"),
    ("extra=1", "unknown fields: botTrace"),
    ("binary=json", "message in a binary frame"),
    ("binary=audio", "binary frame that is not a message"),
    ('stream_id={"n":1}', "streamId that is not a string"),
    ("stream_id=1.5", "streamId that is not a string"),
    ("nostop=1", "playStream.start while a prompt is open"),
    ("nostop=1&reply_nostart=1", "ended by silence"),
])
def test_a_deviation_is_carried_and_noted(peer, query, fragment):
    call = Call(f"{peer}?{query}").run()
    note = noted(call, fragment)
    assert note is not None, call.client.protocol_notes
    assert note["count"] >= 1 and note["first_ms"] >= 0
    assert call.greeting.received_samples == GREETING_SAMPLES  # binary audio frames were not taken as audio
    assert call.greeting.stopped_at is not None  # every prompt ended, by its stop or otherwise
    if "reply_nostart" in query:
        assert noted(call, "chunk with no playStream.start") is not None
        assert call.greeting.stopped_at < call.streams()[1].started_at


@pytest.mark.parametrize("query", ["stream_id=7", 'stream_id="9f1c-27ab-x"', "chunk_ms=10", "chunk_ms=1000",
                                   "speed=0", "speed=0.5"])
def test_stream_ids_chunk_sizes_and_paces_are_no_deviation(peer, query):
    call = Call(f"{peer}?{query}").run()
    assert call.notes() == {}
    greeting = call.greeting
    assert greeting.received_samples == GREETING_SAMPLES and greeting.stopped_at is not None
    span = greeting.last_chunk_at - greeting.first_chunk_at
    if query == "speed=0":
        assert span < 0.5  # the whole prompt came in a burst, and was all counted
    if query == "speed=0.5":
        assert span > 1.5


@pytest.mark.parametrize("query", ["greet_early=1&accept_delay_s=0.5", "bare=1", "unknown=1"])
def test_strict_makes_any_deviation_a_protocol_error(peer, query):
    with pytest.raises(CallFailure) as failure:
        Call(f"{peer}?{query}", strict=True).run()
    assert failure.value.category is ErrorCategory.PROTOCOL_ERROR
    assert "protocol deviation (strict)" in failure.value.message


def test_strict_accepts_a_bot_that_keeps_to_the_protocol(peer):
    call = Call(peer, strict=True).run()
    assert call.notes() == {}


def test_calls_at_once_keep_their_own_notes(peer):
    calls = [Call(f"{peer}?{query}") for query in ("bare=1", "", "unknown=1")]
    gevent.joinall([gevent.spawn(call.run) for call in calls], raise_error=True)
    assert noted(calls[0], "conversationId") and calls[1].notes() == {} and noted(calls[2], "unknown")

"""AudioCodesClient against a real bot-side WebSocket peer (a subprocess on a free loopback port)."""
from __future__ import annotations

import base64
import json
import socket
import time
from pathlib import Path

import gevent.monkey
import numpy as np
import pytest

from callers.errors import CallFailure, ErrorCategory
from callers.media import audio
from callers.runtime.loop_lag import get_loop_lag
from callers.runtime.read_sweep import SWEEP_S, get_read_sweep
from callers.transport.telephony import (SWEPT_READ_MAX_BYTES, AgentStreamStarted, AgentStreamStopped,
                                         AgentVoiceStarted, AudioCodesClient, BotActivity, BotSpeechEvent,
                                         ConnectionClosed, MockAudioCodesClient)
from tests.callers.transport.peers import running_peer
from tests.garbage import cyclic_garbage

PEER = Path(__file__).with_name("scripted_peer.py")
pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def peer():
    with running_peer(PEER) as url:
        yield url


def tone_frames(seconds: float, fmt: str = "raw/lpcm16") -> list[str]:
    t = np.arange(int(seconds * 16000)) / 16000
    pcm = (np.sin(2 * np.pi * 300 * t) * 6000).astype(np.int16)
    return [base64.b64encode(f).decode() for f in audio.frames_for(pcm, 16000, audio.parse_media_format(fmt))]


def events_until(client: AudioCodesClient, kind, timeout: float = 5.0) -> list:
    seen = []
    while True:
        event = client.next_event(timeout)
        assert event is not None, f"no {kind.__name__} within {timeout} s; saw {seen}"
        seen.append(event)
        if isinstance(event, kind):
            return seen


def test_seed_name_is_the_client():
    assert MockAudioCodesClient is AudioCodesClient


def test_full_exchange_times_agent_audio_and_paces_caller_audio(peer):
    client = AudioCodesClient(f"{peer}/normal")
    client.connect()
    assert client.media_format.token == "raw/lpcm16"
    assert 0 < client.connect_ms < 1000
    client.start_conversation("Tester")
    seen = events_until(client, AgentStreamStopped)
    started = next(e for e in seen if isinstance(e, AgentStreamStarted))
    voiced = next(e for e in seen if isinstance(e, AgentVoiceStarted))
    stream = started.stream
    assert stream.alt_text == "Hello, how can I help you?"
    assert voiced.at >= stream.started_at
    assert stream.audio_ms == pytest.approx(1000, abs=20)
    # The peer paces in real time, so the chunks span about the audio's length.
    assert (stream.last_chunk_at - stream.first_chunk_at) * 1000 == pytest.approx(980, abs=60)

    timing = client.speak(tone_frames(1.0))
    assert timing.frames == 50
    assert (timing.ended_at - timing.started_at) * 1000 == pytest.approx(980, abs=25)
    assert timing.p99_lateness_ms < 10
    recognition = events_until(client, BotSpeechEvent, 5)[-1]
    while recognition.text is None:
        recognition = events_until(client, BotSpeechEvent, 5)[-1]
    report = json.loads(recognition.text)
    assert report["chunks"] == 50
    assert report["span_ms"] == pytest.approx(980, abs=40)
    client.hang_up()


def test_a_bot_accepting_a_format_not_offered_ends_the_call_at_once(peer):
    client = AudioCodesClient(f"{peer}/normal?format=raw/lpcm16", media_formats=("raw/mulaw",),
                              accept_timeout_s=20)
    began = time.monotonic()
    with pytest.raises(CallFailure) as failure:
        client.connect()
    assert failure.value.category is ErrorCategory.PROTOCOL_ERROR
    assert "session.accepted chose 'raw/lpcm16', which was not offered" in failure.value.message
    assert time.monotonic() - began < 5  # not the accept timeout


@pytest.mark.parametrize("offered,accept,play", [
    (("raw/lpcm16",), "raw/lpcm16", "raw/lpcm16_24"),
    (("raw/mulaw", "raw/lpcm16"), "raw/mulaw", "raw/mulaw"),
    (("raw/lpcm16_8",), "raw/lpcm16_8", "raw/lpcm16_8"),
    (("wav/lpcm16",), "wav/lpcm16", "wav/lpcm16_24"),
    (("wav/mulaw",), "wav/mulaw", "wav/mulaw"),
])
def test_every_media_format_is_decoded(peer, offered, accept, play):
    client = AudioCodesClient(f"{peer}/normal?format={accept}&play={play}", media_formats=offered)
    client.connect()
    assert client.media_format.token == accept
    client.start_conversation("Tester")
    stream = events_until(client, AgentStreamStopped)[-1].stream
    assert stream.media_format.token == play
    assert stream.first_voiced_at is not None
    assert stream.audio_ms == pytest.approx(1000, abs=25)
    assert audio.rms_dbfs(stream.pcm()) > -25
    timing = client.speak(tone_frames(0.4, accept))
    assert timing.frames == 20
    client.hang_up()


def test_session_error_is_handshake_rejected(peer):
    with pytest.raises(CallFailure) as failure:
        AudioCodesClient(f"{peer}/reject").connect()
    assert failure.value.category is ErrorCategory.HANDSHAKE_REJECTED
    assert "no capacity" in failure.value.message


def test_bad_token_is_rejected_without_leaking_it(peer):
    secret = "tok-SECRET-0451"
    with pytest.raises(CallFailure) as failure:
        AudioCodesClient(f"{peer}/normal?token={secret}", token="wrong-one").connect()
    assert failure.value.category is ErrorCategory.HANDSHAKE_REJECTED
    assert "401" in failure.value.message
    assert "wrong-one" not in failure.value.message
    client = AudioCodesClient(f"{peer}/normal?token={secret}", token=secret)
    client.connect()
    client.hang_up()


def test_unreachable_bridge_names_url_and_reason():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"ws://127.0.0.1:{port}/ws/telephony"
    with pytest.raises(CallFailure) as failure:
        AudioCodesClient(url).connect()
    assert failure.value.category is ErrorCategory.CONNECT_FAILED
    assert url in failure.value.message and "refused" in failure.value.message


def test_garbage_frames_are_ignored_and_counted(peer):
    client = AudioCodesClient(f"{peer}/garbage")
    client.connect()
    client.start_conversation("Tester")
    stream = events_until(client, AgentStreamStopped)[-1].stream
    assert stream.alt_text == "Hello, how can I help you?"
    assert client.protocol_warnings >= 4
    client.hang_up()


def test_bot_hangup_and_drop_are_events(peer):
    client = AudioCodesClient(f"{peer}/hangup")
    client.connect()
    client.start_conversation("Tester")
    hangup = events_until(client, BotActivity)[-1]
    assert hangup.name == "hangup"
    client.hang_up()

    client = AudioCodesClient(f"{peer}/drop")
    client.connect()
    client.start_conversation("Tester")
    closed = events_until(client, ConnectionClosed)[-1]
    assert not closed.expected
    with pytest.raises(CallFailure) as failure:
        client.speak(tone_frames(0.2))
    assert failure.value.category is ErrorCategory.BRIDGE_CLOSED


def test_a_ping_from_the_bridge_is_answered(peer):
    client = AudioCodesClient(f"{peer}/ping")
    client.connect()
    client.start_conversation("Tester")
    stream = events_until(client, AgentStreamStopped, timeout=10.0)[-1].stream
    assert stream.alt_text == "pong"
    client.hang_up()


def test_a_hang_up_leaves_no_reader_on_the_socket(peer):
    """The socket's descriptor goes back to the OS at hang-up, so nothing may still be watching it."""
    client = AudioCodesClient(f"{peer}/normal")
    client.connect()
    client.start_conversation("Tester")
    events_until(client, AgentStreamStopped)
    client.hang_up()
    assert client._watcher is None and client._receiver is None
    closed = events_until(client, ConnectionClosed)[-1]
    assert closed.expected


def test_a_finished_call_leaves_no_reference_cycles(peer):
    def call() -> None:
        client = AudioCodesClient(f"{peer}/normal")
        client.connect()
        client.start_conversation("Tester")
        events_until(client, AgentStreamStopped)
        client.hang_up()
        events_until(client, ConnectionClosed)

    call()  # the first call's lazy imports (gevent's own) leave one-off garbage
    with cyclic_garbage() as garbage:
        call()
    assert [type(thing).__name__ for thing in garbage] == []


def test_an_event_is_stamped_when_its_bytes_arrived_not_when_a_busy_loop_read_them(peer):
    """A loop busy with other callers reads late; the kernel's arrival stamp keeps that delay out of the
    agent's timings (here the prompt's start, before which latencies are measured)."""
    client = AudioCodesClient(f"{peer}/startonly")
    client.connect()
    asked_at = time.monotonic()  # before the send: the peer may answer before the sending call returns
    client.start_conversation("Tester")
    gevent.monkey.get_original("time", "sleep")(0.3)  # the loop is busy: the prompt's start waits in the socket
    read_from = time.monotonic()
    started = events_until(client, AgentStreamStarted)[-1]
    assert asked_at <= started.at < read_from - 0.2
    assert started.stream.started_at == started.at
    client.hang_up()


def _server_frame(payload: bytes) -> bytes:
    """One unmasked text frame, as a bridge sends it."""
    size = len(payload)
    header = bytes([0x81, size]) if size < 126 else bytes([0x81, 126]) + size.to_bytes(2, "big")
    return header + payload


def _agent_prompt_frames() -> list[bytes]:
    """A prompt as a bridge streams it, with the odd frames a quick path must not get wrong in between."""
    def chunk(audio_b64: str, stream_id: str = "p1", spaced: bool = False) -> bytes:
        message = {"type": "playStream.chunk", "conversationId": "c", "streamId": stream_id, "audioChunk": audio_b64}
        return _server_frame(json.dumps(message, separators=None if spaced else (",", ":")).encode())

    frames = [_server_frame(json.dumps({"type": "playStream.start", "conversationId": "c", "streamId": "p1",
                                        "mediaFormat": "raw/lpcm16"}).encode())]
    frames += [chunk(b64) for b64 in tone_frames(0.2)]
    frames += [chunk(base64.b64encode(b"\x00\x01" * 7).decode()), chunk(tone_frames(0.02)[0], spaced=True),
               chunk("not base64!"), chunk(tone_frames(0.02)[0], stream_id="p2"), _server_frame(b"{broken"),
               chunk("AAAA" * 3), chunk("AAA=")]
    frames += [_server_frame(json.dumps({"type": "playStream.stop", "conversationId": "c",
                                         "streamId": "p1"}).encode())]
    return frames


def test_chunks_that_are_only_counted_add_up_as_decoded_ones():
    """Once the agent's voice is heard, chunks are counted without decoding (and most without parsing):
    the stream's figures must be the ones full decoding gives."""
    outcomes = []
    for keep_audio in (True, False):
        client = AudioCodesClient("ws://127.0.0.1:9/never-dialled", keep_agent_audio=keep_audio)
        for at, frame in enumerate(_agent_prompt_frames()):
            assert not client._take(frame, float(at))
        stream = events_until(client, AgentStreamStarted)[-1].stream
        outcomes.append((stream.received_samples, stream.first_voiced_at, stream.last_chunk_at, stream.stopped_at,
                         client.protocol_warnings))
        assert (stream._template is not None) is not keep_audio  # the quick path really was taken
    decoded, counted = outcomes
    assert counted == decoded
    assert decoded[0] == 3200 + 7 + 320 + 320 + 9 // 2 + 1 and decoded[4] == 2  # two bad frames ignored


def test_a_playing_prompt_is_read_by_the_sweep_and_its_stop_keeps_its_arrival_time(peer):
    """Mid-prompt the sweep reads the socket every SWEEP_S, not at every chunk; a stop it reads is still
    timed by its arrival (here, while the loop was busy), not by when the sweep came round to it."""
    client = AudioCodesClient(f"{peer}/timedstop", keep_agent_audio=False)
    client.connect()
    client.start_conversation("Tester")
    voiced = events_until(client, AgentVoiceStarted)[-1]
    gevent.sleep(0.4)
    assert client in get_read_sweep() and not client._watcher.active
    # The prompt is 1 s long: its stop arrives while the loop is busy, well before the peer's report.
    gevent.monkey.get_original("time", "sleep")(max(0.0, voiced.at + 1.2 - time.monotonic()))
    seen = events_until(client, BotSpeechEvent)
    stopped = next(event for event in seen if isinstance(event, AgentStreamStopped))
    sent_from, sent_by = json.loads(seen[-1].text)
    assert sent_from - 0.002 <= stopped.at <= sent_by + 0.002
    assert stopped.stream.received_samples == 16000
    assert client not in get_read_sweep() and client._watcher.active
    client.hang_up()


def test_a_hang_up_mid_prompt_takes_the_call_out_of_the_sweep(peer):
    client = AudioCodesClient(f"{peer}/nostop", keep_agent_audio=False)
    client.connect()
    client.start_conversation("Tester")
    events_until(client, AgentVoiceStarted)
    gevent.sleep(3 * SWEEP_S)
    assert client in get_read_sweep()
    client.hang_up()
    assert client not in get_read_sweep() and client._watcher is None


def test_the_sweep_gives_a_read_back_to_the_watcher_once_it_holds_more_than_chunks():
    """Only a read of nothing but counted chunks stays in the sweep: anything else may be timed, and is
    read as it arrives again."""
    prompt = _agent_prompt_frames()
    client = AudioCodesClient("ws://127.0.0.1:9/never-dialled", keep_agent_audio=False)
    for frame in prompt[:3]:  # the start, the voice, then a parsed chunk that teaches the template
        assert not client._take(frame, time.monotonic())
    stream = client.current_stream
    assert stream._template is not None
    with socket.create_server(("127.0.0.1", 0)) as server:
        bridge = socket.create_connection(server.getsockname())
        raw = server.accept()[0]
    raw.setblocking(False)
    client._raw = raw
    client._watcher = gevent.get_hub().loop.io(raw.fileno(), 1)
    sweep = get_read_sweep()
    try:
        bridge.sendall(prompt[3] + prompt[4])
        client._on_readable(raw)
        assert client in sweep and not client._watcher.active
        counted = stream.received_samples
        bridge.sendall(b"".join(prompt[5:8]))
        assert client._swept_read() is False
        assert stream.received_samples == counted + 3 * 320
        assert client._swept_read() is False  # nothing arrived meanwhile
        started = json.dumps({"type": "userStream.speech.started", "conversationId": "c"}).encode()
        bridge.sendall(prompt[8] + _server_frame(started) + prompt[9])
        assert client._swept_read() is True and client._watcher.active
        assert stream.received_samples == counted + 5 * 320
        assert isinstance(events_until(client, BotSpeechEvent)[-1], BotSpeechEvent)
        # Audio much faster than the sweep reads it (a big read) is read as it comes, not swept.
        sweep.discard(client)
        burst = prompt[3] * (SWEPT_READ_MAX_BYTES // len(prompt[3]) + 1)
        bridge.sendall(burst)
        client._on_readable(raw)
        assert client not in sweep and client._watcher.active
        bridge.sendall(prompt[3])
        client._on_readable(raw)  # a small read: swept from here on
        assert client in sweep
        bridge.sendall(burst)
        assert client._swept_read() is True and client._watcher.active
        assert stream.received_samples == counted + 5 * 320 + (2 * len(burst) // len(prompt[3]) + 1) * 320
    finally:
        client._stop_receiving()
        bridge.close()
        raw.close()
    assert client not in sweep


def test_an_answer_read_behind_later_chunks_after_a_stall_says_how_far_its_stamp_may_be_off():
    """A stalled loop reads the voiced chunk together with the chunks that followed it, and the arrival stamp
    is the newest one's: the stall is what the time may be off by. Read alone, the voice's stamp is its own."""
    frames = _agent_prompt_frames()
    get_loop_lag()
    gevent.sleep(0.05)
    for followed in (True, False):
        client = AudioCodesClient("ws://127.0.0.1:9/never-dialled", keep_agent_audio=False)
        gevent.monkey.get_original("time", "sleep")(0.1)
        read = b"".join(frames[:5] if followed else frames[:2])
        assert not client._take(read, time.monotonic())
        stream = client.current_stream
        assert stream.first_voiced_at is not None
        if followed:
            assert stream.voice_read_lag_ms >= 80
        else:
            assert stream.voice_read_lag_ms == 0.0

"""The bridge as a real process on a loopback port, driven by a minimal AudioCodes-side client."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bridge import dialogue
from callers.media import audio
from callers.wire import protocol
from tests.bridge.conftest import assert_talks_over_the_caller, FAST_VOICE, TestCaller, read_truth, tone
from tests.reference_bridge import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]  # real-time calls against a bridge or peer

FRAME_S = audio.DEFAULT_FRAME_MS / 1000


def open_call(bridge, opened: list, formats=(protocol.DEFAULT_MEDIA_FORMAT,), scenario=None,
              token=None) -> TestCaller:
    caller = TestCaller(bridge.url, token=token)
    opened.append(caller)
    accepted = caller.initiate(formats)
    assert accepted.type == protocol.SESSION_ACCEPTED
    caller.start(scenario)
    return caller


def schedule_lateness_ms(arrivals: list[float]) -> np.ndarray:
    """How late each chunk arrived against the ideal schedule anchored on the first one."""
    times = np.asarray(arrivals)
    ideal = times[0] + np.arange(len(times)) * FRAME_S
    return (times - ideal) * 1000


# ---- connecting ------------------------------------------------------------------------------------------

def test_listening_line_names_the_real_port_and_validate_answers(start_bridge) -> None:
    bridge = start_bridge()
    assert "ear=none" in bridge.listening_line and ":0/" not in bridge.url
    with connect(bridge.url, open_timeout=5) as ws:
        ws.send(protocol.encode(protocol.connection_validate()))
        reply = protocol.parse_message(ws.recv(timeout=5))
    assert reply.type == protocol.CONNECTION_VALIDATED and reply.success()


def test_token_is_required_and_never_printed(start_bridge, callers_to_close) -> None:
    secret = "s3cret-token-value"
    bridge = start_bridge("--token", secret, *FAST_VOICE)
    for headers in (None, {"Authorization": "Bearer wrong"}, {"Authorization": secret}):
        with pytest.raises(InvalidStatus) as refused:
            connect(bridge.url, additional_headers=headers, open_timeout=5, legacy=True)
        assert refused.value.response.status_code == 401
    caller = open_call(bridge, callers_to_close, token=secret)
    caller.hear_prompt()
    caller.end()
    assert bridge.stop() == 0
    assert secret not in bridge.listening_line and secret not in bridge.stderr
    assert "auth=bearer" in bridge.listening_line


def test_token_can_come_from_the_environment(start_bridge) -> None:
    bridge = start_bridge(env={"BRIDGE_TOKEN": "from-env"})
    with pytest.raises(InvalidStatus):
        connect(bridge.url, open_timeout=5, legacy=True)
    with connect(bridge.url, additional_headers={"Authorization": "Bearer from-env"}, open_timeout=5):
        pass


def test_other_paths_are_404(start_bridge) -> None:
    bridge = start_bridge()
    base = bridge.url.rsplit("/ws/", 1)[0]
    for path in ("/", "/ws", "/ws/telephony/extra", "/other"):
        with pytest.raises(InvalidStatus) as refused:
            connect(base + path, open_timeout=5, legacy=True)
        assert refused.value.response.status_code == 404, path
    with connect(bridge.url + "?call=1", open_timeout=5):  # a query string is fine
        pass


# ---- session set-up -------------------------------------------------------------------------------------

@pytest.mark.parametrize("offered, accepted, first_chunk, chunk", [
    (("raw/lpcm16", "raw/mulaw"), "raw/lpcm16", 640, 640),
    (("audio/opus", "raw/mulaw"), "raw/mulaw", 160, 160),
    (("RAW/LPCM16_8",), "RAW/LPCM16_8", 320, 320),
    (("wav/lpcm16",), "wav/lpcm16", 44 + 640, 640),
])
def test_media_format_negotiation(start_bridge, callers_to_close, offered, accepted, first_chunk, chunk) -> None:
    bridge = start_bridge(*FAST_VOICE)
    caller = TestCaller(bridge.url)
    callers_to_close.append(caller)
    message = caller.initiate(offered)
    assert message.type == protocol.SESSION_ACCEPTED and message.get_str("mediaFormat") == accepted
    caller.start()
    prompt = caller.hear_prompt()
    assert prompt.start.get_str("mediaFormat") == accepted.lower()  # canonical spelling for the agent's stream
    sizes = [len(data) for _, data in prompt.chunks]
    assert sizes[0] == first_chunk and set(sizes[1:]) == {chunk}
    if accepted.startswith("wav/"):
        assert prompt.chunks[0][1][:4] == b"RIFF"
    assert any(audio.is_voiced(audio.decode_audio(data, prompt.fmt)) for _, data in prompt.chunks[:10])


def test_play_format_can_differ_from_the_call_format(start_bridge, callers_to_close) -> None:
    bridge = start_bridge("--play-format", "raw/lpcm16_24", *FAST_VOICE)
    caller = open_call(bridge, callers_to_close, formats=("raw/mulaw",))
    prompt = caller.hear_prompt()
    assert prompt.start.get_str("mediaFormat") == "raw/lpcm16_24"
    assert {len(data) for _, data in prompt.chunks} == {960}


def test_frame_length_is_configurable(start_bridge, callers_to_close) -> None:
    bridge = start_bridge("--frame-ms", "40", *FAST_VOICE)
    prompt = open_call(bridge, callers_to_close).hear_prompt()
    assert {len(data) for _, data in prompt.chunks} == {1280}
    assert 38.0 < float(np.mean(np.diff([at for at, _ in prompt.chunks]))) * 1000 < 42.0


def test_no_acceptable_format_is_a_session_error(start_bridge, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--truth-log", str(truth))
    caller = TestCaller(bridge.url)
    try:
        message = caller.initiate(("audio/opus", "raw/g729"))
        assert message.type == protocol.SESSION_ERROR and "media format" in message.get_str("reason")
        assert caller.closed()
    finally:
        caller.close()
    [call] = read_truth(truth)
    assert call["error"] and call["media_format"] is None


def test_missing_format_list_defaults_to_lpcm16(start_bridge) -> None:
    bridge = start_bridge()
    with connect(bridge.url, open_timeout=5) as ws:
        ws.send(protocol.encode({"type": "session.initiate", "conversationId": "c1", "caller": "+1"}))
        reply = protocol.parse_message(ws.recv(timeout=5))
    assert reply.type == protocol.SESSION_ACCEPTED and reply.get_str("mediaFormat") == "raw/lpcm16"


# ---- speaking --------------------------------------------------------------------------------------------

def test_greeting_is_paced_in_real_time(start_bridge, callers_to_close) -> None:
    bridge = start_bridge()  # the default voice: a realistic prompt length
    caller = open_call(bridge, callers_to_close)
    prompt = caller.hear_prompt()
    assert prompt.alt_text == dialogue.GREETING
    arrivals = [at for at, _ in prompt.chunks]
    audio_s = len(prompt.audio_bytes) / prompt.fmt.bytes_per_ms / 1000
    assert 2.5 < audio_s < 8.0
    lateness = schedule_lateness_ms(arrivals)
    intervals_ms = np.diff(arrivals) * 1000
    # Real time, not a burst: the stream lasts as long as its audio, without drift.
    assert abs((arrivals[-1] - arrivals[0]) - (len(arrivals) - 1) * FRAME_S) < 0.05
    assert 19.0 < float(np.mean(intervals_ms)) < 21.0
    # Jitter is scheduling noise on a shared box; the strict checks are the mean and the drift above.
    assert float(np.percentile(np.abs(lateness), 95)) < 25.0, float(np.abs(lateness).max())
    assert prompt.stop_at - arrivals[-1] < 0.05


def test_barge_in_stops_the_prompt_at_once(start_bridge, callers_to_close, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--truth-log", str(truth))
    caller = open_call(bridge, callers_to_close)
    _, start = caller.expect(protocol.PLAY_STREAM_START)
    time.sleep(0.6)
    caller.send(protocol.user_stream_start(caller.cid))
    caller.expect(protocol.USER_STREAM_STARTED)
    first_voice_sent = caller.stream(tone(0.4))
    stop_at, _ = caller.expect(protocol.PLAY_STREAM_STOP)
    stop_ms = (stop_at - first_voice_sent) * 1000
    assert stop_ms < 100, stop_ms
    stop_index = next(i for i, (_, m) in enumerate(caller.seen) if m.type == protocol.PLAY_STREAM_STOP)
    caller.expect(protocol.SPEECH_STARTED)
    caller.send(protocol.user_stream_stop(caller.cid))
    caller.expect(protocol.USER_STREAM_STOPPED)
    chunks_after_stop = [m for _, m in caller.seen[stop_index:]
                         if m.type == protocol.PLAY_STREAM_CHUNK and m.stream_id() == start.stream_id()]
    assert chunks_after_stop == []
    # The interrupting utterance is then treated as a turn.
    assert caller.hear_prompt().alt_text
    caller.end()
    [call] = read_truth(truth)
    greeting = call["turns"][0]
    assert greeting["barge_in"] and call["barge_ins"] == 1
    assert 0 <= greeting["barge_in_stop_ms"] < 50
    assert greeting["agent_audio_ms"] < 1500


def test_without_barge_in_the_agent_keeps_talking(start_bridge, callers_to_close) -> None:
    bridge = start_bridge("--no-barge-in", *FAST_VOICE)
    reference = open_call(bridge, callers_to_close).hear_prompt()
    caller = open_call(bridge, callers_to_close)
    assert_talks_over_the_caller(caller, reference)


def test_think_time_is_injected_and_recorded(start_bridge, callers_to_close, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--latency-ms", "400", "--truth-log", str(truth), *FAST_VOICE)
    caller = open_call(bridge, callers_to_close, scenario="loan_application")
    caller.hear_prompt()
    said_at = caller.say(tone(0.5))
    prompt = caller.hear_prompt()
    measured_ms = (prompt.chunks[0][0] - said_at) * 1000
    assert prompt.alt_text == dialogue.LOAN_OPTIONS
    assert 400 <= measured_ms < 600, measured_ms
    caller.end()
    [call] = read_truth(truth)
    turn = call["turns"][1]
    assert turn["injected_ms"] == 400.0 and turn["trigger"] == "speech"
    assert 400 <= turn["response_latency_ms"] < 500
    assert turn["response_latency_ms"] == pytest.approx((turn["first_audio_sent"] - turn["caller_audio_end"]) * 1000,
                                                        abs=0.1)
    # The bridge's clock is the caller's clock: both sides' timestamps describe the same instants.
    assert abs(turn["caller_audio_end"] - said_at) < 0.05


def test_think_time_jitter_is_seeded_per_conversation(start_bridge, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--latency-ms", "300:100", "--seed", "7", "--truth-log", str(truth), *FAST_VOICE)
    for _ in range(2):  # the same conversation id twice: the same draw
        caller = TestCaller(bridge.url, conversation_id="same-call")
        try:
            caller.initiate()
            caller.start()
            caller.hear_prompt()
            caller.say(tone(0.3))
            caller.hear_prompt()
            caller.end()
        finally:
            caller.close()
    first, second = (call["turns"][1]["injected_ms"] for call in read_truth(truth, count=2))
    assert first == second and 200 <= first <= 400


# ---- robustness -----------------------------------------------------------------------------------------

def test_garbage_frames_are_ignored(start_bridge, callers_to_close) -> None:
    bridge = start_bridge(*FAST_VOICE)
    caller = TestCaller(bridge.url)
    callers_to_close.append(caller)
    for junk in ("not json", "[1, 2]", '{"type": 5}', '{"no": "type"}', '{"type": "userStream.chunk"}',
                 '{"type": "made.up", "x": 1}'):
        caller.ws.send(junk)
    caller.ws.send(b"\xff\xfe binary junk")
    caller.initiate()
    for junk in ('{"type": "userStream.chunk", "audioChunk": "!!not base64!!"}',
                 '{"type": "activities", "activities": "nope"}', '{"type": "activities", "activities": [7]}'):
        caller.ws.send(junk)
    caller.start()
    assert caller.hear_prompt().alt_text == dialogue.GREETING
    caller.send(protocol.connection_validate())
    caller.expect(protocol.CONNECTION_VALIDATED)
    assert "Traceback" not in bridge.stderr


def test_full_call_without_an_ear_writes_the_truth(start_bridge, callers_to_close, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--truth-log", str(truth), *FAST_VOICE)
    caller = open_call(bridge, callers_to_close, scenario="card_replacement")
    heard = [caller.hear_prompt().alt_text]
    while True:
        caller.say(tone(0.4))
        heard.append(caller.hear_prompt().alt_text)
        if heard[-1] == dialogue.GOODBYE:
            break
        assert len(heard) < 8, heard
    _, hangup = caller.expect(protocol.ACTIVITIES)
    assert [activity.name for activity in hangup.activities()] == [protocol.ACTIVITY_HANGUP]
    caller.end()
    assert caller.closed()
    [call] = read_truth(truth)
    assert heard[1] == dialogue.ASK_IDENTITY
    assert call["conversation_id"] == caller.cid and call["caller"] == "+15551230000"
    assert call["scenario_hint"] == call["scenario_type"] == "card_replacement"
    assert call["verified"] and call["fulfilled"] == ["card_ordered", "delivery_date"]
    assert call["hung_up_by"] == "bot" and call["ear"] == "none"
    assert call["media_format"] == call["play_format"] == "raw/lpcm16"
    assert [turn["trigger"] for turn in call["turns"]] == ["greeting"] + ["speech"] * (len(heard) - 1)
    for turn in call["turns"][1:]:
        assert turn["assumed"] and turn["heard"] is None and turn["stt_ms"] is None
        assert 0 < turn["response_latency_ms"] < 200
        assert 350 < turn["caller_audio_ms"] < 500


def test_identity_failures_by_dtmf_end_in_a_transfer(start_bridge, callers_to_close, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--truth-log", str(truth), *FAST_VOICE)
    caller = open_call(bridge, callers_to_close, scenario="account_inquiry")
    caller.hear_prompt()
    caller.say(tone(0.3))
    assert caller.hear_prompt().alt_text == dialogue.ASK_IDENTITY
    for attempt in range(3):
        caller.send(protocol.dtmf_activity(caller.cid, "1", activity_id=f"dtmf-{attempt}"))
        text = caller.hear_prompt().alt_text
    assert text == dialogue.TRANSFER
    _, transfer = caller.expect(protocol.ACTIVITIES)
    _, hangup = caller.expect(protocol.ACTIVITIES)
    [transfer_activity] = transfer.activities()
    assert transfer_activity.name == protocol.ACTIVITY_TRANSFER and transfer_activity.params["transferTarget"]
    assert hangup.activities()[0].name == protocol.ACTIVITY_HANGUP
    # Without a session.end the bridge closes after a short grace period.
    assert caller.closed(timeout=5)
    [call] = read_truth(truth)
    assert call["transferred"] and not call["verified"] and call["identity_failures"] == 3
    assert call["hung_up_by"] == "bot" and call["turns"][-1]["heard"] == "1"


@pytest.mark.parametrize("how, expected", [("session.end", "caller"), ("drop", "drop"),
                                           ("speak, end and close at once", "caller")])
def test_who_hung_up(start_bridge, tmp_path, how, expected) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--truth-log", str(truth), *FAST_VOICE)
    caller = TestCaller(bridge.url)
    caller.initiate()
    caller.start()
    caller.expect(protocol.PLAY_STREAM_CHUNK)
    if how.startswith("speak"):
        # Frames a caller sends right before closing must still count, though the bridge's acks then fail.
        caller.say(tone(0.2), stop=False)
        caller.send(protocol.user_stream_stop(caller.cid))
    if how != "drop":
        caller.end()
    caller.close()
    [call] = read_truth(truth)
    assert call["hung_up_by"] == expected
    if expected == "caller":
        assert call["end_reason"] == "client-disconnected: Caller hung up"


def test_sigterm_exits_cleanly_and_keeps_open_calls(start_bridge, callers_to_close, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--truth-log", str(truth))
    caller = open_call(bridge, callers_to_close)
    caller.expect(protocol.PLAY_STREAM_CHUNK)
    assert bridge.stop(signal.SIGTERM) == 0
    assert caller.closed(timeout=5)
    [call] = read_truth(truth)
    assert call["hung_up_by"] == "drop"
    assert "Traceback" not in bridge.stderr


def test_ctrl_c_exits_cleanly(start_bridge) -> None:
    bridge = start_bridge()
    assert bridge.stop(signal.SIGINT) == 0
    assert "Traceback" not in bridge.stderr


def test_bad_flags_are_usage_errors() -> None:
    from bridge.__main__ import parse_settings

    for argv in (["--latency-ms", "100:200"], ["--latency-ms", "abc"], ["--play-format", "raw/opus"],
                 ["--frame-ms", "0"], ["--voice-rate", "5"], ["--path", "nope"], ["--voice-engine", "festival"]):
        with pytest.raises(SystemExit) as exited:
            parse_settings(argv)
        assert exited.value.code == 2, argv
    settings, _ = parse_settings(["--latency-ms", "250:50", "--no-barge-in", "--token", "t"])
    assert (settings.latency_mean_ms, settings.latency_jitter_ms, settings.barge_in) == (250, 50, False)
    assert "'t'" not in repr(settings)
    assert settings.voice_engine == "espeak" and parse_settings(["--voice-engine", "piper"])[0].voice_engine == "piper"


def test_a_hundred_concurrent_calls_stay_in_real_time(start_bridge) -> None:
    """The load client is its own asyncio process, so this measures the bridge, not a gevent-patched test."""
    bridge = start_bridge("--log-level", "warning")
    result = subprocess.run([sys.executable, "-m", "tests.bridge.load_client", bridge.url, "--calls", "100"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["ok"] == 100, summary["errors"]
    # Every chunk of every call near its real-time slot (measured at the client, loopback, shared CPU).
    assert summary["lateness_p99_ms"] < 60, summary
    assert summary["response_p99_ms"] < 100, summary

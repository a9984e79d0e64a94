"""The bridge with its real ear (Whisper): it hears synthetic speech, and recognition never stalls pacing."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from bridge import dialogue
from callers.media import speech
from callers.wire import protocol
from tests.bridge.conftest import TestCaller, read_truth

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]  # real-time calls against a bridge or peer

FRAME_S = 0.02
# The caller talks briskly to keep the test short; Whisper still hears espeak at this rate.
CALLER_STYLE = speech.SpeakingStyle(rate_wpm=210)
CARD_REQUEST = "I lost my debit card and I need a replacement card."
MAX_P95_LATENESS_MS = 40.0
MAX_LATENESS_MS = 250.0
# The talkers' utterance lasts ~2.6 s: the listener's 4 s greeting then plays while they are transcribed.
LISTENER_DELAY_S = 1.5
IDENTITY = "My name is John Smith and I was born on March third, nineteen fifty two."


@pytest.fixture(scope="module")
def voice() -> speech.Voice:
    return speech.get_voice()


def test_the_bridge_hears_speech_and_answers(start_bridge, callers_to_close, tmp_path, voice) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--truth-log", str(truth), "--voice-rate", "300", ear="stt")
    assert "ear=whisper" in bridge.listening_line
    caller = TestCaller(bridge.url)
    callers_to_close.append(caller)
    caller.initiate()
    caller.start()
    caller.hear_prompt()
    caller.say(voice.render(CARD_REQUEST, CALLER_STYLE))
    _, recognition = caller.expect(protocol.SPEECH_RECOGNITION)
    assert "card" in recognition.recognized_text().lower()
    assert recognition.data["alternatives"][0]["confidence"] > 0
    assert caller.hear_prompt().alt_text == dialogue.ASK_IDENTITY
    caller.say(voice.render(IDENTITY, CALLER_STYLE))
    _, reply = caller.expect(protocol.PLAY_STREAM_START)
    assert reply.get_str("altText").startswith(dialogue.VERIFIED)
    caller.end()
    [call] = read_truth(truth)
    assert call["ear"] == "whisper" and call["verified"] and call["scenario_type"] == dialogue.CARD
    for turn in call["turns"][1:]:
        assert turn["heard"] and 0 < turn["stt_ms"] < 5000
        assert turn["response_latency_ms"] >= turn["stt_ms"]


def test_pacing_holds_while_other_calls_are_transcribed(start_bridge, callers_to_close, tmp_path, voice) -> None:
    """Recognition runs in threads: a call being transcribed must not delay another call's audio."""
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--truth-log", str(truth), ear="stt")
    talkers = [TestCaller(bridge.url) for _ in range(2)]
    listener = TestCaller(bridge.url)
    callers_to_close.extend(talkers + [listener])
    for talker in talkers:
        talker.initiate()
        talker.start()  # they talk over their own greeting: only their transcription matters here

    def talk(caller: TestCaller) -> None:
        caller.say(voice.render(CARD_REQUEST, CALLER_STYLE))
        caller.expect(protocol.SPEECH_RECOGNITION)

    threads = [threading.Thread(target=talk, args=(talker,)) for talker in talkers]
    for thread in threads:
        thread.start()
    time.sleep(LISTENER_DELAY_S)
    listener.initiate()
    listener.start()
    prompt = listener.hear_prompt()
    for thread in threads:
        thread.join(60)
    arrivals = np.asarray([at for at, _ in prompt.chunks])
    lateness_ms = np.abs(arrivals - (arrivals[0] + np.arange(len(arrivals)) * FRAME_S)) * 1000
    for caller in talkers + [listener]:
        caller.end()
    calls = read_truth(truth, count=3)
    stt_windows = [(turn["caller_audio_end"], turn["caller_audio_end"] + turn["stt_ms"] / 1000)
                   for call in calls for turn in call["turns"] if turn["stt_ms"]]
    overlapping = [w for w in stt_windows if w[0] < prompt.chunks[-1][0] and w[1] > prompt.chunks[0][0]]
    assert overlapping, "no transcription ran while the listener's prompt played; the test proves nothing"
    # Recognition on the event loop would stall every prompt for a whole pass (>= 400 ms here); what remains
    # with it in threads is CPU contention on a small shared box (in-process probe: p95 ~5 ms, max ~25 ms).
    assert float(np.percentile(lateness_ms, 95)) < MAX_P95_LATENESS_MS, lateness_ms.max()
    assert float(lateness_ms.max()) < MAX_LATENESS_MS

"""--record: a stereo WAV on the call's own timeline and a transcript, checked against what the call measured."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from callers.call.recording import RECORDING_RATE, mix, place_stream
from callers.media import audio
from callers.transport.telephony import AgentStream
from tests.reference_bridge import REPO_ROOT, launch_bridge

THINK_MS = 600
VOICED_DBFS = audio.VAD_THRESHOLD_DBFS
WINDOW_S = 0.01
# Timing is judged to within a couple of 20 ms frames plus the 10 ms analysis window.
TOLERANCE_S = 0.05


def tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (8000 * np.sin(2 * np.pi * 440.0 * t)).astype(np.int16)


def stream_of(chunks: list[tuple[float, float]], rate: int = 24000, stopped_at=None) -> AgentStream:
    """A play stream whose chunks (arrival time, seconds of audio) arrived as given."""
    token = {16000: "raw/lpcm16", 24000: "raw/lpcm16_24"}[rate]
    stream = AgentStream("s1", audio.parse_media_format(token), None, started_at=chunks[0][0])
    for arrived_at, seconds in chunks:
        stream._add(tone(seconds, rate), arrived_at)
    stream.first_chunk_at = stream.first_voiced_at = chunks[0][0]
    stream.last_chunk_at = chunks[-1][0]
    stream.stopped_at = stopped_at
    return stream


def voiced_windows(track: np.ndarray) -> np.ndarray:
    size = int(WINDOW_S * RECORDING_RATE)
    blocks = track[:len(track) // size * size].astype(np.float64).reshape(-1, size)
    level = 20 * np.log10(np.sqrt(np.mean(blocks * blocks, axis=1)) / 32768.0 + 1e-12)
    return level > VOICED_DBFS


def test_a_burst_prompt_plays_at_speaking_pace_from_its_arrival():
    # 2 s of audio delivered in 100 ms, then a chunk half a second after the play-out ran dry.
    burst = [(10.0 + i * 0.01, 0.2) for i in range(10)] + [(12.5, 0.2)]
    segment = place_stream(stream_of(burst), t0=9.0)
    assert segment.start_s == 1.0 and segment.end_s == pytest.approx(3.7)
    (first_at, first), (second_at, second) = segment.runs
    assert first_at == RECORDING_RATE * 1 and len(first) == pytest.approx(2.0 * RECORDING_RATE, abs=2)
    assert second_at == int(3.5 * RECORDING_RATE) and len(second) == pytest.approx(0.2 * RECORDING_RATE, abs=2)


def test_audio_sent_after_the_prompts_stop_is_not_played():
    segment = place_stream(stream_of([(1.0, 0.5), (1.5, 0.5), (2.5, 0.5)], stopped_at=2.0), t0=0.0)
    assert segment.end_s == pytest.approx(2.0)


def test_mix_keeps_overlaps_on_their_own_channels():
    segment = place_stream(stream_of([(1.0, 2.0)], rate=16000), t0=0.0)
    stereo = mix([], [segment], t0=0.0, duration_s=4.0)
    assert stereo.shape == (4 * RECORDING_RATE, 2)
    agent = voiced_windows(stereo[:, 1])
    assert not agent[:95].any() and agent[105:295].all() and not agent[305:].any()
    assert not stereo[:, 0].any()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_recorded_batch_call_matches_its_measurements_and_the_report_links_it(tmp_path):
    bridge = launch_bridge("--no-barge-in", "--latency-ms", str(THINK_MS), "--voice-rate", "300", ear="none",
                           stderr_path=tmp_path / "bridge.stderr")
    try:
        entries = tmp_path / "one.json"
        entries.write_text(json.dumps({"scenarios": [
            {"name": "Angry", "type": "predefined", "scenario": "angry_complaint"}]}))
        run = subprocess.run(
            [sys.executable, str(REPO_ROOT / "batch_caller_test.py"), "--scenarios", str(entries), "--record",
             "--bridge-url", bridge.url, "--ear", "alttext", "--seed", "3", "--results-dir", str(tmp_path / "run"),
             "--output", str(tmp_path / "report" / "r")],
            cwd=tmp_path, capture_output=True, text=True, timeout=150)
    finally:
        bridge.stop()
    assert "Traceback" not in run.stderr, run.stderr
    assert f"Recordings: {tmp_path / 'run' / 'recordings'}" in run.stdout
    (line,) = (tmp_path / "run" / "calls.jsonl").read_text().splitlines()
    result = json.loads(line)
    files = {kind: tmp_path / "run" / path for kind, path in result["recording"].items()}
    assert result["recording"]["wav"] == f"recordings/{result['call_id']}.wav"
    stereo, rate = audio.read_wav(files["wav"])
    assert rate == RECORDING_RATE and stereo.shape[1] == 2
    assert len(stereo) / rate == pytest.approx(result["duration_s"], abs=0.1)
    caller, agent = voiced_windows(stereo[:, 0]), voiced_windows(stereo[:, 1])

    def window(seconds: float) -> int:
        return int(round(seconds / WINDOW_S))

    turns = result["turn_records"]
    assert turns and any(turn["barge_in"] for turn in turns), "seed 3 makes the angry caller cut in"
    for turn in turns:
        start, end = window(turn["caller_speech_start"]), window(turn["caller_speech_end"])
        # The caller's channel carries its speech where the call says it was sent ...
        assert caller[start + 5:end - 5].mean() > 0.7, turn
        if turn["barge_in"]:
            # ... and a caller talking over an agent that keeps going is heard on both channels at once.
            assert agent[start:start + window(0.5)].mean() > 0.7, turn
        elif turn["response_latency_ms"] is not None:
            # The agent's 600 ms think time is silence on its channel, and it starts when the call measured.
            answer = turn["caller_speech_end"] + turn["response_latency_ms"] / 1000.0
            assert not agent[end + 2:window(answer - TOLERANCE_S)].any(), turn
            onset = end + int(np.argmax(agent[end:]))
            assert onset * WINDOW_S == pytest.approx(answer, abs=TOLERANCE_S), turn
    transcript = json.loads(files["json"].read_text())
    answers = {e["turn"]: e["latency_ms"] for e in transcript["entries"] if e["speaker"] == "agent"}
    assert answers == {0: result["greeting_latency_ms"],
                       **{turn["index"]: turn["response_latency_ms"] for turn in turns}}
    text = files["txt"].read_text()
    assert all(turn["caller_text"] in text for turn in turns) and "kept talking" in text
    report = (tmp_path / "report" / "r.txt").read_text()
    assert str(files["wav"]) in report and str(files["txt"]) in report
    page = (tmp_path / "report" / "r.html").read_text()
    assert f'href="../run/recordings/{result["call_id"]}.wav"' in page
    calls = json.loads((tmp_path / "report" / "r.json").read_text())["calls"]
    assert calls[0]["recording"]["wav"] == str(files["wav"])

"""Media formats, resampling, µ-law, VAD and framing: the numbers every call's audio goes through."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from callers.media import audio


def tone(seconds: float, rate: int, hz: float = 440.0, dbfs: float = -20.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (32767 * 10 ** (dbfs / 20) * np.sqrt(2) * np.sin(2 * np.pi * hz * t)).astype(np.int16)


@pytest.mark.parametrize("token,rate,encoding,container", [
    ("raw/lpcm16", 16000, "lpcm16", "raw"), ("raw/lpcm16_8", 8000, "lpcm16", "raw"),
    ("raw/lpcm16_24", 24000, "lpcm16", "raw"), ("raw/mulaw", 8000, "mulaw", "raw"),
    ("WAV/LPCM16", 16000, "lpcm16", "wav"), ("wav/mulaw", 8000, "mulaw", "wav"),
])
def test_media_format_tokens(token, rate, encoding, container):
    fmt = audio.parse_media_format(token)
    assert (fmt.sample_rate, fmt.encoding, fmt.container) == (rate, encoding, container)
    assert fmt.frame_bytes(20) == rate // 50 * fmt.bytes_per_sample


@pytest.mark.parametrize("token", ["raw/opus", "lpcm16", "", "mp3/lpcm16", None])
def test_unknown_media_formats_are_named(token):
    with pytest.raises(ValueError, match="media format"):
        audio.parse_media_format(token)


def test_default_frame_is_640_bytes_at_16k():
    assert audio.parse_media_format("raw/lpcm16").frame_bytes() == 640


@given(hnp.arrays(np.int16, st.integers(0, 4000)))
def test_lpcm_round_trip_is_exact(samples):
    fmt = audio.parse_media_format("raw/lpcm16")
    assert np.array_equal(audio.decode_audio(audio.encode_audio(samples, 16000, fmt), fmt), samples)


@given(hnp.arrays(np.int16, st.integers(1, 4000)))
def test_mulaw_round_trip_error_is_within_one_quantisation_step(samples):
    decoded = audio.mulaw_decode(audio.mulaw_encode(samples)).astype(np.int32)
    original = np.clip(samples.astype(np.int32), -32635, 32635)
    # µ-law steps grow with magnitude: the error is at most half a step, about 1/32 of the value, plus 8.
    assert np.all(np.abs(decoded - original) <= np.abs(original) / 16 + 8)


def test_mulaw_known_codes():
    assert audio.mulaw_encode(np.array([0], np.int16)) == b"\xff"
    assert audio.mulaw_decode(b"\xff")[0] == 0
    assert audio.mulaw_decode(b"\x00")[0] == -32124 and audio.mulaw_decode(b"\x80")[0] == 32124


@pytest.mark.parametrize("dst", [8000, 24000])
def test_resampling_keeps_duration_and_level(dst):
    source = tone(1.0, 16000)
    converted = audio.resample(source, 16000, dst)
    assert len(converted) == pytest.approx(dst, abs=2)
    assert audio.rms_dbfs(converted) == pytest.approx(audio.rms_dbfs(source), abs=0.5)


def test_frames_for_pads_the_last_frame_and_puts_a_header_on_wav_streams():
    fmt = audio.parse_media_format("raw/lpcm16")
    frames = audio.frames_for(tone(0.05, 16000), 16000, fmt)
    assert [len(f) for f in frames] == [640, 640, 640]
    assert frames[-1][-1:] == b"\x00"
    wav = audio.parse_media_format("wav/lpcm16_24")
    wav_frames = audio.frames_for(tone(0.04, 16000), 16000, wav)
    assert wav_frames[0][:4] == b"RIFF" and len(wav_frames[0]) == 44 + 960
    assert len(audio.decode_audio(wav_frames[0], wav)) == 480


def test_vad_separates_speech_level_from_silence_and_hiss():
    assert audio.is_voiced(tone(0.02, 16000, dbfs=-30))
    assert not audio.is_voiced(np.zeros(320, np.int16))
    hiss = (np.random.default_rng(1).normal(0, 50, 320)).astype(np.int16)
    assert not audio.is_voiced(hiss)
    assert audio.rms_dbfs(np.zeros(0, np.int16)) == float("-inf")


def test_trim_silence_cuts_both_ends():
    padded = np.concatenate([np.zeros(1600, np.int16), tone(0.5, 16000), np.zeros(3200, np.int16)])
    trimmed = audio.trim_silence(padded, 16000)
    assert len(trimmed) == pytest.approx(8000, abs=160)
    assert len(audio.trim_silence(np.zeros(1000, np.int16), 16000)) == 0


def test_wav_file_round_trip(tmp_path):
    stereo = np.stack([tone(0.1, 16000), tone(0.1, 16000, hz=220)], axis=1)
    audio.write_wav(tmp_path / "x.wav", stereo, 16000)
    data, rate = audio.read_wav(tmp_path / "x.wav")
    assert rate == 16000 and np.array_equal(data, stereo)

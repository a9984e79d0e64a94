"""Phone-line conditions: each degradation does what it says, measurably, and the same seed gives the same audio."""
from __future__ import annotations

import numpy as np
import pytest

from callers.media import audio
from callers.media.line import CLEAN_LINE, LineConditions, degrade, parse_line, utterance_seed

RATE = 16000


def tone(hz: float, seconds: float = 1.0, level: float = 8000.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def level_db(pcm: np.ndarray) -> float:
    return audio.rms_dbfs(pcm[RATE // 10:-RATE // 10])  # away from the edges


def test_band_limit_keeps_the_voice_band_and_cuts_outside_it() -> None:
    line = LineConditions(band_limit=True)
    for hz in (1000, 3000):
        assert abs(level_db(degrade(tone(hz), RATE, line, 1)) - level_db(tone(hz))) < 0.5
    for hz in (100, 6000):
        assert level_db(degrade(tone(hz), RATE, line, 1)) < level_db(tone(hz)) - 40


def test_mulaw_round_trip_loses_what_8_khz_cannot_carry() -> None:
    line = LineConditions(mulaw=True)
    speech_band = degrade(tone(1000), RATE, line, 1)
    assert len(speech_band) == RATE and abs(level_db(speech_band) - level_db(tone(1000))) < 0.5
    assert level_db(degrade(tone(6000), RATE, line, 1)) < level_db(tone(6000)) - 30


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_noise_sits_at_the_asked_snr(snr_db: float) -> None:
    clean = tone(500)
    noisy = degrade(clean, RATE, LineConditions(snr_db=snr_db), 7)
    noise = noisy.astype(np.float64) - clean
    measured = 10 * np.log10(np.mean(clean.astype(np.float64) ** 2) / np.mean(noise ** 2))
    assert measured == pytest.approx(snr_db, abs=0.3)


def test_packet_loss_silences_whole_20_ms_packets_at_about_the_asked_share() -> None:
    original = tone(500, seconds=10.0)
    packets = degrade(original, RATE, LineConditions(packet_loss=0.2), 3).reshape(-1, RATE // 50)
    lost = np.all(packets == 0, axis=1)
    assert 0.15 < lost.mean() < 0.25
    assert np.array_equal(packets[~lost], original.reshape(-1, RATE // 50)[~lost])  # the rest arrive untouched


def test_same_seed_same_audio_and_clean_line_is_untouched() -> None:
    line = LineConditions(band_limit=True, mulaw=True, snr_db=10.0, packet_loss=0.1)
    speech = tone(700)
    seed = utterance_seed(42, "hello")
    assert np.array_equal(degrade(speech, RATE, line, seed), degrade(speech, RATE, line, seed))
    other = utterance_seed(43, "hello")
    assert not np.array_equal(degrade(speech, RATE, line, seed), degrade(speech, RATE, line, other))
    assert degrade(speech, RATE, CLEAN_LINE, seed) is speech


@pytest.mark.parametrize(("raw", "field"), [
    ({"snr": 10}, "line.snr"), ({"snr_db": 99}, "line.snr_db"), ({"packet_loss": 0.9}, "line.packet_loss"),
    ({"mulaw": "yes"}, "line.mulaw"), ([], "line"),
])
def test_bad_line_settings_name_the_field(raw, field) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        parse_line(raw)

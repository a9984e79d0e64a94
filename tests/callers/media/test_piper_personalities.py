"""With one Piper voice, personalities must still sound apart: their speaking rate sets Piper's length scale
and their pitch a shift (callers/media/piper_voice.py). Measured on the rendered audio: its length, and its
median fundamental frequency by autocorrelation."""
from __future__ import annotations

import numpy as np
import pytest

from callers.media import speech
from callers.media.delivery import speaking_style
from callers.media.piper_voice import pitch_factor
from callers.scenario.personality import get_personality

pytestmark = pytest.mark.slow  # four piper renders and a model load: seconds on a loaded host

SENTENCE = "I lost my debit card and I need a replacement as soon as possible."
# The rate and pitch extremes of the shipped personalities, and the middle.
PERSONALITIES = ("elderly", "normal", "angry", "impatient")
F0_RANGE_HZ = (60.0, 400.0)
# A measured pitch ratio within this of the ratio asked for: autocorrelation on 40 ms frames is exact to a
# lag step (~1 % at 100 Hz), and Piper's own prosody varies a little between renders.
F0_TOLERANCE = 0.05


def median_f0(pcm: np.ndarray, rate: int) -> float:
    """Median F0 of the voiced 40 ms frames (the loud, periodic ones)."""
    samples = pcm.astype(np.float64)
    frame = int(0.04 * rate)
    shortest, longest = int(rate / F0_RANGE_HZ[1]), int(rate / F0_RANGE_HZ[0])
    frames = [samples[start:start + frame] - samples[start:start + frame].mean()
              for start in range(0, len(samples) - frame, frame // 2)]
    loudest = max(float(np.dot(part, part)) for part in frames)
    pitches = []
    for part in frames:
        if np.dot(part, part) < 0.1 * loudest:
            continue
        correlation = np.correlate(part, part, "full")[frame - 1:]
        lag = shortest + int(np.argmax(correlation[shortest:longest]))
        if correlation[lag] > 0.5 * correlation[0]:
            pitches.append(rate / lag)
    assert len(pitches) >= 10, "too few voiced frames to measure"
    return float(np.median(pitches))


@pytest.fixture(scope="module")
def measured() -> dict[str, tuple[float, float, int, int]]:
    """Per personality: seconds of speech, median F0, and the rate and pitch it asked for."""
    voice = speech.get_voice("piper")
    figures = {}
    for name in PERSONALITIES:
        person = get_personality(name)
        style = speaking_style(person.speaking_rate_wpm, person.pitch, person.voice, person.natural_voice, "en-US",
                               "piper")
        assert style.engine == "piper"
        pcm = voice.render(SENTENCE, style)
        figures[name] = (len(pcm) / speech.VOICE_RATE, median_f0(pcm, speech.VOICE_RATE),
                         person.speaking_rate_wpm, person.pitch)
    return figures


def test_a_faster_personality_says_the_same_words_in_less_time(measured):
    # Piper's durations vary a few per cent between renders (its duration noise), and its length scale does
    # not stretch everything (pauses, stops), so rates 10 % apart (angry 190, impatient 210) may swap:
    # compared here are the slow, the middle and the fast personalities.
    seconds = {name: figures[0] for name, figures in measured.items()}
    assert seconds["elderly"] > 1.2 * seconds["normal"], seconds  # 115 against 165 words a minute
    assert seconds["normal"] > 1.05 * max(seconds["angry"], seconds["impatient"]), seconds  # 165 against 190, 210


def test_each_personality_speaks_at_its_own_pitch(measured):
    reference = measured["normal"]
    for name, (_, f0, _, pitch) in measured.items():
        wanted = pitch_factor(pitch) / pitch_factor(reference[3])
        assert f0 / reference[1] == pytest.approx(wanted, rel=F0_TOLERANCE), (name, f0, reference[1], wanted)
    assert measured["angry"][1] > 1.1 * measured["elderly"][1]  # pitch 58 against 35: ~17 % apart

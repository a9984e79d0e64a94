"""callers/media/piper_voice.py: the natural voice engine, its voice list, and its place beside espeak."""
from __future__ import annotations

import gevent
import numpy as np
import pytest

from callers.media import phrasebook, piper_voice, speech
from callers.media.delivery import speaking_style
from callers.media.piper_voice import DEFAULT_STYLE, DEFAULT_VOICE, piper_voices, voice_for_language

SENTENCE = "I lost my debit card and I need a replacement."


@pytest.fixture(scope="module")
def voice() -> piper_voice.PiperVoice:
    return speech.get_voice("piper")  # the shared one: its model loads once for the whole module


def test_every_listed_voice_ships_in_an_installed_package():
    assert DEFAULT_VOICE in piper_voices()
    for spec in piper_voices().values():
        assert piper_voice._package_file(spec, f"{spec.name}.onnx").stat().st_size > 1_000_000
        assert piper_voice._package_file(spec, f"{spec.name}.onnx.json").is_file()
        assert spec.words_per_minute > 0 and spec.licence


def test_a_voice_is_chosen_per_language():
    assert voice_for_language(DEFAULT_VOICE, "en-GB") == DEFAULT_VOICE
    assert voice_for_language("en_US-nobody-medium", "en-US") == DEFAULT_VOICE  # the language's first voice
    assert voice_for_language(DEFAULT_VOICE, "es-ES") is None  # no Spanish voice is installed


def test_a_call_speaks_piper_where_a_voice_speaks_its_language_else_espeak():
    english = speaking_style(120, 35, "en-us+grandpa", DEFAULT_VOICE, "en-US", "piper")
    assert (english.engine, english.voice, english.rate_wpm) == ("piper", DEFAULT_VOICE, 120)
    spanish = speaking_style(120, 35, "en-us+grandpa", DEFAULT_VOICE, "es-ES", "piper")
    assert (spanish.engine, spanish.voice) == ("espeak", "es+grandpa")
    forced = speaking_style(120, 35, "en-us+grandpa", DEFAULT_VOICE, "en-US", "espeak")
    assert (forced.engine, forced.voice) == ("espeak", "en-us+grandpa")


def test_the_rate_scales_the_voice_pace_within_limits():
    spec = piper_voices()[DEFAULT_VOICE]
    assert piper_voice.length_scale(spec, round(spec.words_per_minute)) == pytest.approx(1.0, abs=0.01)
    assert piper_voice.length_scale(spec, 80) == piper_voice.MAX_LENGTH_SCALE
    assert piper_voice.length_scale(spec, 450) == piper_voice.MIN_LENGTH_SCALE


def test_an_unknown_engine_or_voice_is_refused_by_name(voice):
    with pytest.raises(ValueError, match="unknown voice engine 'festival'"):
        speech.SpeakingStyle(engine="festival")
    with pytest.raises(ValueError, match="unknown voice engine 'festival'"):
        speech.get_voice("festival")
    with pytest.raises(ValueError, match="unknown Piper voice 'en-us'"):
        voice.render(SENTENCE, speech.SpeakingStyle(engine="piper"))


def test_render_gives_shared_read_only_trimmed_speech(voice):
    pcm = voice.render(SENTENCE)
    assert pcm.dtype == np.int16 and not pcm.flags.writeable
    assert 1.5 < len(pcm) / speech.VOICE_RATE < 6.0
    assert np.abs(pcm[:80]).max() > 0 and np.abs(pcm[-80:]).max() > 0  # trimmed to the speech
    assert voice.render(SENTENCE) is pcm
    assert voice.render("  ") is speech.NO_SPEECH


def test_a_slower_rate_renders_longer_speech(voice):
    # Piper draws each phoneme's length at random (one sentence alone lands near the bound now and then),
    # so three sentences are summed: the ratio holds for the voice, not only for one lucky draw.
    sentences = (SENTENCE, "My card ends in four five seven one.", "Could you tell me when it will arrive?")

    def speech_at(rate_wpm: int) -> int:
        style = speech.SpeakingStyle(rate_wpm=rate_wpm, voice=DEFAULT_VOICE, engine="piper")
        return sum(len(voice.render(sentence, style)) for sentence in sentences)

    assert speech_at(110) > 1.5 * speech_at(220)


def test_greenlets_render_piper_phrases_on_render_threads_side_by_side(voice):
    """Under gevent (the tests are monkey-patched), piper's own lock is a gevent lock: renders from several
    greenlets, on the hub's render thread, must neither cross threads with it nor block the loop."""
    texts = [f"Reference {n}, please call me back." for n in (4411, 4412)]
    renders = [gevent.spawn(phrasebook.encoded_frames_in_thread, text, DEFAULT_STYLE, "raw/mulaw") for text in texts]
    ticks = 0
    while not all(render.ready() for render in renders):
        gevent.sleep(0.005)
        ticks += 1
    frames = [render.get() for render in renders]
    assert all(len(each) > 20 for each in frames) and frames[0] != frames[1]
    assert ticks > 10  # the loop kept running while the phrases rendered

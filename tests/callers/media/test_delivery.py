"""Delivery: hesitations drawn from the call's seed, pauses between sentences, the voice for a language."""
from __future__ import annotations

import random

from callers.media import phrasebook, speech
from callers.media.delivery import Delivery, voice_for


def test_hesitations_follow_the_rate_and_the_seed() -> None:
    text = "My card was lost. I need a new one. Can you help?"
    assert Delivery(0.0).spoken(text, random.Random(1)) == text
    always = Delivery(1.0).spoken(text, random.Random(1))
    assert always.count(", ") >= 3 and always.split(", ")[0] in ("Um", "Uh", "Er")
    assert "I need" in always  # "I" keeps its capital after a filler
    assert Delivery(0.5).spoken(text, random.Random(9)) == Delivery(0.5).spoken(text, random.Random(9))


def test_sentence_pauses_set_the_silence_between_sentences() -> None:
    style = speech.SpeakingStyle()
    text = "My card was lost. I need a new one."
    short = phrasebook.encoded_frames(text, style, "raw/lpcm16", 20, pause_ms=600)
    long = phrasebook.encoded_frames(text, style, "raw/lpcm16", 20, pause_ms=1200)
    assert len(long) - len(short) == 600 // 20  # one gap, 20 ms frames
    assert len(short) > len(phrasebook.encoded_frames(text, style, "raw/lpcm16", 20))


def test_voice_follows_the_language_and_keeps_the_timbre() -> None:
    assert voice_for("en-us+f3", "en-US") == "en-us+f3"
    assert voice_for("en-us+f3", "es-ES") == "es+f3"
    assert voice_for("en-gb", "de-DE") == "de"

"""How a caller says its words: hesitations ("um, ..."), pauses between sentences, and the voice for a language
and voice engine.

The brain decides *what* to say; delivery decides how it comes out, from the personality's numbers, so an
elderly caller who hesitates and pauses and a brisk one who does not put different audio in front of the
agent for the same sentence. Hesitations are drawn from the call's seeded generator: a seeded call says the
same "um"s every time. The text returned is what is spoken and recorded, fillers included (word error rate
scoring ignores fillers, see callers.media.word_errors).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

from callers.media import piper_voice
from callers.media.speech import SpeakingStyle

HESITATIONS = ("Um, ", "Uh, ", "Er, ")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
# Words that keep their capital after a filler.
_PROPER_STARTS = ("I ", "I'")


@dataclass(frozen=True)
class Delivery:
    hesitation_rate: float = 0.0  # 0..1: chance each sentence opens with a filler
    sentence_pause_ms: int = 0  # silence between sentences, in place of the voice's own; 0 keeps the voice's

    def spoken(self, text: str, rng: random.Random) -> str:
        """`text` with the caller's hesitations; unchanged (and no random draw) when it never hesitates."""
        if self.hesitation_rate <= 0.0 or not text.strip():
            return text
        sentences = [s for s in split_sentences(text) if s]
        return " ".join(_hesitate(s, rng) if rng.random() < self.hesitation_rate else s for s in sentences)


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_BREAK.split(text.strip())]


def voice_for(voice: str, language: str) -> str:
    """The espeak voice to speak `language` ("es-ES") with: the personality's own voice when it already
    speaks that language, else the language's voice with the personality's timbre ("en-us+f3" -> "es+f3")."""
    base, plus, variant = voice.partition("+")
    wanted = language.split("-")[0].lower()
    if base.split("-")[0].lower() == wanted:
        return voice
    return f"{wanted}{plus}{variant}"


def speaking_style(rate_wpm: int, pitch: int, espeak_voice: str, natural_voice: str, language: str,
                   engine: str) -> SpeakingStyle:
    """How a caller sounds in a call in `language` with a voice engine: with piper, its natural voice when
    one speaks the language (piper_voice.voice_for_language), else espeak in the language's voice; the
    style's engine says which one the call actually speaks."""
    if engine == "piper":
        natural = piper_voice.voice_for_language(natural_voice, language)
        if natural is not None:
            return SpeakingStyle(rate_wpm=rate_wpm, pitch=pitch, voice=natural, engine="piper")
    return SpeakingStyle(rate_wpm=rate_wpm, pitch=pitch, voice=voice_for(espeak_voice, language), engine="espeak")


def _hesitate(sentence: str, rng: random.Random) -> str:
    filler = rng.choice(HESITATIONS)
    if sentence.startswith(_PROPER_STARTS) or not sentence[:1].isupper() or sentence[1:2].isupper():
        return filler + sentence
    return filler + sentence[:1].lower() + sentence[1:]

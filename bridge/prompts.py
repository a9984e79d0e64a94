"""Agent prompts as ready-to-send audio frames, shared by every call in the process.

A reply is a tuple of fixed sentences (see dialogue.agent_phrases), so rendering per sentence makes the
voice's phrase cache hold a small finite set, and joining them with a short pause gives any reply. The
encoded frames and their voiced flags are cached per (reply, format): at load, hundreds of calls play the
same prompts, and re-encoding or re-resampling per call would cost CPU the pacing loop needs. A reply's
first playing still costs a few milliseconds per second of audio, so the bridge builds it on a thread
(`cached` first, then `prompt` off the loop): the cache is shared with that thread.

The agent speaks with either voice engine (`--voice-engine`): espeak, or Piper so that ear figures are taken
on audio like a real agent's. Piper renders the dialogue's sentences in ~0.1 s of CPU per second of speech,
so warming them all at start-up takes seconds instead of milliseconds (bench/RESULTS.md, Voices).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Iterable, Optional

import numpy as np

from callers.media import audio, piper_voice, speech
from callers.media.speech import VOICE_RATE, SpeakingStyle

# Pause between sentences of one reply (a rendered sentence is silence-trimmed at both ends).
SENTENCE_GAP_MS = 250
# Distinct (reply, format) entries kept; the dialogue has a few dozen replies and calls use 1-2 formats.
PROMPT_CACHE_ENTRIES = 256


@dataclass(frozen=True)
class Prompt:
    frames: tuple[bytes, ...]  # encoded in the play format; a wav/ stream's first frame has the header
    voiced: tuple[bool, ...]  # per frame: above the VAD threshold (the "first audio" a caller measures)


def agent_style(engine: str, rate_wpm: int) -> SpeakingStyle:
    """The agent's voice: espeak's US English, or the default Piper voice."""
    if engine == "piper":
        return SpeakingStyle(rate_wpm=rate_wpm, voice=piper_voice.DEFAULT_VOICE, engine="piper")
    return SpeakingStyle(rate_wpm=rate_wpm, engine=engine)


class PromptBook:
    def __init__(self, style: SpeakingStyle, frame_ms: int) -> None:
        self._style = style
        self._frame_ms = frame_ms
        self._gap = np.zeros(VOICE_RATE * SENTENCE_GAP_MS // 1000, dtype=np.int16)
        self._cache: OrderedDict[tuple[tuple[str, ...], str, Optional[str]], Prompt] = OrderedDict()
        self._lock = threading.Lock()

    def warm(self, sentences: Iterable[str]) -> None:
        """Render every sentence once at start-up, so no call waits on the synthesiser."""
        for sentence in sentences:
            speech.get_voice(self._style.engine).render(sentence, self._style)

    def cached(self, sentences: tuple[str, ...], fmt: audio.MediaFormat, voice: Optional[str] = None
               ) -> Optional[Prompt]:
        """The reply's audio if it was built before, else None (then build it with `prompt`, off the loop)."""
        key = (sentences, fmt.token, voice)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
            return cached

    def prompt(self, sentences: tuple[str, ...], fmt: audio.MediaFormat, voice: Optional[str] = None) -> Prompt:
        """The reply's audio; `voice` names another espeak voice (a call in another language)."""
        cached = self.cached(sentences, fmt, voice)
        if cached is not None:
            return cached
        style = self._style_in(voice) if voice else self._style
        prompt = self._build(sentences, fmt, style)
        with self._lock:
            self._cache[(sentences, fmt.token, voice)] = prompt
            if len(self._cache) > PROMPT_CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return prompt

    def _style_in(self, espeak_voice: str) -> SpeakingStyle:
        """The style for a call in the language of `espeak_voice`: Piper's voice for that language when the
        agent speaks Piper and one is installed, else that espeak voice."""
        if self._style.engine == "piper":
            natural = piper_voice.voice_for_language(self._style.voice, espeak_voice)
            if natural is not None:
                return replace(self._style, voice=natural)
        return replace(self._style, voice=espeak_voice, engine="espeak")

    def _build(self, sentences: tuple[str, ...], fmt: audio.MediaFormat, style: SpeakingStyle) -> Prompt:
        parts: list[np.ndarray] = []
        for sentence in sentences:
            if parts:
                parts.append(self._gap)
            parts.append(speech.get_voice(style.engine).render(sentence, style))
        pcm = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
        frames = audio.frames_for(pcm, VOICE_RATE, fmt, self._frame_ms)
        voiced = tuple(audio.is_voiced(audio.decode_audio(frame, fmt)) for frame in frames)
        return Prompt(frames=tuple(frames), voiced=voiced)

"""Caller phrases rendered once per process and kept as wire-ready frames, shared by every caller.

Rendering is cheap; re-encoding and base64-ing 50 frames a second per caller is not. A phrase in a given
voice style, sentence pause, line condition and media format is turned into base64 frames once and reused
read-only by all calls. A degraded line's noise is seeded per utterance (callers.line.utterance_seed), so
its frames are as deterministic, and as cacheable, as clean ones.
"""
from __future__ import annotations

import base64
from functools import lru_cache

import numpy as np

from callers import audio, line, speech
from callers.delivery import split_sentences

CACHE_PHRASES = 2048


@lru_cache(maxsize=CACHE_PHRASES)
def encoded_frames(text: str, style: speech.SpeakingStyle, media_format: str,
                   frame_ms: int = audio.DEFAULT_FRAME_MS, pause_ms: int = 0,
                   conditions: line.LineConditions = line.CLEAN_LINE, seed: int = 0) -> tuple[str, ...]:
    """Base64 frames of `text` spoken in `style` (sentences `pause_ms` apart) over a line with `conditions`
    (noise drawn from `seed`), in `media_format`, `frame_ms` each."""
    pcm = line.degrade(_render(text, style, pause_ms), speech.VOICE_RATE, conditions, seed)
    return encode_frames(pcm, speech.VOICE_RATE, media_format, frame_ms)


def encode_frames(pcm: np.ndarray, rate: int, media_format: str,
                  frame_ms: int = audio.DEFAULT_FRAME_MS) -> tuple[str, ...]:
    """Base64 frames of audio that is not a cached phrase (a speech model's own voice), ready to send."""
    fmt = audio.parse_media_format(media_format)
    return tuple(base64.b64encode(frame).decode("ascii") for frame in audio.frames_for(pcm, rate, fmt, frame_ms))


def _render(text: str, style: speech.SpeakingStyle, pause_ms: int) -> np.ndarray:
    voice = speech.get_voice()
    sentences = split_sentences(text) if pause_ms > 0 else [text]
    if len(sentences) < 2:
        return voice.render(text, style)
    gap = np.zeros(speech.VOICE_RATE * pause_ms // 1000, dtype=np.int16)
    parts = [part for sentence in sentences for part in (gap, voice.render(sentence, style))]
    return np.concatenate(parts[1:])

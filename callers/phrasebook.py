"""Caller phrases rendered once per process and kept as wire-ready frames, shared by every caller.

Rendering is cheap; re-encoding and base64-ing 50 frames a second per caller is not. A phrase in a given
voice style and media format is turned into base64 frames once and reused read-only by all calls.
"""
from __future__ import annotations

import base64
from functools import lru_cache

import numpy as np

from callers import audio, speech

CACHE_PHRASES = 2048


@lru_cache(maxsize=CACHE_PHRASES)
def encoded_frames(text: str, style: speech.SpeakingStyle, media_format: str,
                   frame_ms: int = audio.DEFAULT_FRAME_MS) -> tuple[str, ...]:
    """Base64 frames of `text` spoken in `style`, in `media_format`, `frame_ms` each."""
    return encode_frames(speech.get_voice().render(text, style), speech.VOICE_RATE, media_format, frame_ms)


def encode_frames(pcm: np.ndarray, rate: int, media_format: str,
                  frame_ms: int = audio.DEFAULT_FRAME_MS) -> tuple[str, ...]:
    """Base64 frames of audio that is not a cached phrase (a speech model's own voice), ready to send."""
    fmt = audio.parse_media_format(media_format)
    return tuple(base64.b64encode(frame).decode("ascii") for frame in audio.frames_for(pcm, rate, fmt, frame_ms))

"""Caller phrases rendered once per process and kept as wire-ready frames, shared by every caller.

Re-encoding and base64-ing 50 frames a second per caller would cost more than the calls themselves, so a
phrase in a given voice style, sentence pause, line condition and media format is turned into base64
frames once and reused read-only by all calls. A degraded line's noise is seeded per utterance
(callers.media.line.utterance_seed), so its frames are as deterministic, and as cacheable, as clean ones.

A first rendering is not free either: espeak and the resampler take 1-3 ms of CPU per second of speech.
On the gevent loop that stalls every other caller in the process, and the stall lands in their audio as
pacing lateness and in their turns as latency the agent never caused. Callers therefore render through
`encoded_frames_in_thread`, which does the work on a native thread (most of it is native code that
runs without the GIL: other greenlets keep running meanwhile, as tests/callers/media/test_phrasebook.py checks).
"""
from __future__ import annotations

import base64
from collections import OrderedDict
from typing import Optional

import numpy as np

from callers.media import audio, line, native_threads, speech
from callers.media.delivery import split_sentences

CACHE_PHRASES = 2048
# libespeak-ng renders one phrase at a time (one process-global state), so one thread is enough; it is
# the loop's own, so renders never queue behind Whisper passes.
RENDER_THREADS = 1
# Rendered phrases by _cache_key, least recently used first; touched only by the callers' threads (never by
# the render thread), one dict operation at a time.
_CACHE: "OrderedDict[tuple, tuple[str, ...]]" = OrderedDict()


def encoded_frames(text: str, style: speech.SpeakingStyle, media_format: str,
                   frame_ms: int = audio.DEFAULT_FRAME_MS, pause_ms: int = 0,
                   conditions: line.LineConditions = line.CLEAN_LINE, seed: int = 0) -> tuple[str, ...]:
    """Base64 frames of `text` spoken in `style` (sentences `pause_ms` apart) over a line with `conditions`
    (noise drawn from `seed`), in `media_format`, `frame_ms` each."""
    key = _cache_key(text, style, media_format, frame_ms, pause_ms, conditions, seed)
    frames = _known(key)
    return frames if frames is not None else _remember(key, _frames(*key))


def encoded_frames_in_thread(text: str, style: speech.SpeakingStyle, media_format: str,
                             frame_ms: int = audio.DEFAULT_FRAME_MS, pause_ms: int = 0,
                             conditions: line.LineConditions = line.CLEAN_LINE, seed: int = 0) -> tuple[str, ...]:
    """`encoded_frames`, from a greenlet, without stalling the other greenlets while a new phrase renders.
    A phrase already rendered is answered on the spot: handing it to the thread and back cost ~40 µs and
    two thread wake-ups per utterance."""
    key = _cache_key(text, style, media_format, frame_ms, pause_ms, conditions, seed)
    frames = _known(key)
    return frames if frames is not None else _remember(key, _render_in_thread(key))


def _cache_key(text: str, style: speech.SpeakingStyle, media_format: str, frame_ms: int, pause_ms: int,
               conditions: line.LineConditions, seed: int) -> tuple:
    """`_frames`' arguments. A clean line draws no noise, so its seed is no part of the frames and is left
    out: every call then shares one rendering of a phrase instead of rendering it again for its own seed,
    which made espeak and the resampler most of a scripted caller's CPU."""
    return text, style, media_format, frame_ms, pause_ms, conditions, 0 if conditions.clean else seed


def _known(key: tuple) -> Optional[tuple[str, ...]]:
    """The cached frames of `key`, now the most recently used; None if not cached. Each step is one atomic
    dict operation, so callers on several threads at worst render a phrase twice."""
    frames = _CACHE.pop(key, None)
    if frames is not None:
        _CACHE[key] = frames
    return frames


def _remember(key: tuple, frames: tuple[str, ...]) -> tuple[str, ...]:
    _CACHE[key] = frames
    while len(_CACHE) > CACHE_PHRASES:
        _CACHE.popitem(last=False)
    return frames


def _render_in_thread(key: tuple) -> tuple[str, ...]:
    return native_threads.run_in_thread("render", RENDER_THREADS, _frames, *key)


def encode_frames(pcm: np.ndarray, rate: int, media_format: str,
                  frame_ms: int = audio.DEFAULT_FRAME_MS) -> tuple[str, ...]:
    """Base64 frames of audio that is not a cached phrase (a speech model's own voice), ready to send."""
    fmt = audio.parse_media_format(media_format)
    return tuple(base64.b64encode(frame).decode("ascii") for frame in audio.frames_for(pcm, rate, fmt, frame_ms))


def _frames(text: str, style: speech.SpeakingStyle, media_format: str, frame_ms: int, pause_ms: int,
            conditions: line.LineConditions, seed: int) -> tuple[str, ...]:
    pcm = line.degrade(_render(text, style, pause_ms), speech.VOICE_RATE, conditions, seed)
    return encode_frames(pcm, speech.VOICE_RATE, media_format, frame_ms)


def _render(text: str, style: speech.SpeakingStyle, pause_ms: int) -> np.ndarray:
    voice = speech.get_voice(style.engine)
    sentences = split_sentences(text) if pause_ms > 0 else [text]
    if len(sentences) < 2:
        return voice.render(text, style)
    gap = np.zeros(speech.VOICE_RATE * pause_ms // 1000, dtype=np.int16)
    parts = [part for sentence in sentences for part in (gap, voice.render(sentence, style))]
    return np.concatenate(parts[1:])

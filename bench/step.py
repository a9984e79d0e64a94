"""One capacity step: N concurrent full-duplex callers in this process for a fixed window; one JSON line out.

Run by bench/capacity.py in a fresh process per step (so RSS per caller is this step's own), pinned to one
CPU. Figures cover the frames whose send deadline fell inside the measurement window, after every caller
has connected and warmed up. The kinds of caller:

* `caller`: this project's transport. Each caller connects, then speaks one phrase after another
  (pre-rendered, shared frames) while the sink streams agent audio at it the whole time.
* `naive`: the same work done the naive way (bench/naive_caller.py), the baseline.
* `conversation`: whole calls of the caller a Locust worker runs (CallerAgent: a scenario, a personality,
  the offline brain, the altText ear), back to back, against the sink's `--dialogue` mode. Phrases are
  rendered as calls need them, goals are tracked, results are built: everything but the disk.

    python bench/step.py --url ws://127.0.0.1:PORT/ws/telephony --kind caller --callers 500
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import base64  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable, Iterator, Optional  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import machine  # noqa: E402
from bench.naive_caller import NaiveCaller  # noqa: E402
from callers.app.batch import CallSettings, make_caller  # noqa: E402
from callers.call import events  # noqa: E402
from callers.media import phrasebook, speech  # noqa: E402
from callers.runtime.warmup import prepare_for_realtime  # noqa: E402
from callers.scenario.scenarios import load_scenarios  # noqa: E402
from callers.transport.telephony import AgentStreamStarted, AudioCodesClient, SpeechTiming  # noqa: E402

KINDS = ("caller", "naive", "conversation")
MEDIA_FORMAT = "raw/lpcm16"
PHRASE = "I lost my debit card and I need a replacement, can you help me with that please"
GAP_S = 0.3  # between a caller's utterances
FRAME_S = 0.02
SAMPLES_PER_FRAME = 320
STOP_GRACE_S = 10.0
CONVERSATION_SEED = 7
CALL_TIMEOUT_S = 60.0


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds() -> tuple[float, float]:
    """(user, kernel) CPU seconds of this process, apart: kernel time is the sends, reads and polls
    themselves, which a leaner Python path does not shrink (only fewer system calls would)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


class Tally:
    """Per-frame lateness of the frames scheduled inside the window, kept with when they were due."""

    def __init__(self, window: tuple[float, float]) -> None:
        self.window = window
        self.lateness: list[np.ndarray] = []
        self.due: list[np.ndarray] = []

    def utterance(self, start: float, lateness_ms: np.ndarray) -> None:
        if not len(lateness_ms):
            return
        scheduled = start + np.arange(len(lateness_ms)) * FRAME_S
        inside = (scheduled >= self.window[0]) & (scheduled < self.window[1])
        if inside.any():
            self.lateness.append(lateness_ms[inside])
            self.due.append(scheduled[inside])

    def drift_ms(self) -> Optional[float]:
        """Mean lateness of the window's last third minus its first third: a backlog that grows over time
        (falling behind real time) shows here even when each frame alone is not very late."""
        if not self.lateness:
            return None
        lateness, due = np.concatenate(self.lateness), np.concatenate(self.due)
        third = (self.window[1] - self.window[0]) / 3
        first = lateness[due < self.window[0] + third]
        last = lateness[due >= self.window[1] - third]
        if not len(first) or not len(last):
            return None
        return round(float(last.mean() - first.mean()), 3)


def fast_call(url: str, frames: tuple, stop: Event, tally: Tally, counts: dict) -> None:
    client = AudioCodesClient(url, media_formats=(MEDIA_FORMAT,), keep_agent_audio=False)
    streams = []
    try:
        client.connect()
        client.start_conversation("bench")
        counts["connected"] += 1
        while not stop.is_set():
            timing = client.speak(frames, stop_when=stop)
            tally.utterance(timing.started_at, timing.lateness_ms)
            while (event := client.next_event(0)) is not None:
                if isinstance(event, AgentStreamStarted):
                    streams.append(event.stream)
            stop.wait(GAP_S)
    finally:
        counts["agent_frames"] += sum(s.received_samples for s in streams) // SAMPLES_PER_FRAME
        client.hang_up()


def naive_call(url: str, pcm_frames: list, stop: Event, tally: Tally, counts: dict) -> None:
    caller = NaiveCaller(url, MEDIA_FORMAT)
    counts["connected"] += 1
    try:
        caller.run(pcm_frames, stop, GAP_S, tally.utterance)
    finally:
        counts["agent_frames"] += caller.agent_frames


def scripted_calls(settings: CallSettings, entries: list, numbers: Iterator[int], stop: Event, counts: dict,
                   errors: list[str]) -> None:
    """Whole CallerAgent calls, one after another until `stop`; a call that ends in error is counted as failed.
    Calls still running at `stop` go on to their end, as a Locust worker's would."""
    counts["connected"] += 1
    while not stop.is_set():
        number = next(numbers)
        result = make_caller(entries[number % len(entries)], settings, None, number).run(CALL_TIMEOUT_S)
        counts["calls"] += 1
        if result.error is not None or result.caller_overloaded:
            counts["failed"] += 1
            if len(errors) < 3:
                errors.append(f"{result.error.category}: {result.error.message}"[:200] if result.error
                              else "caller overloaded: a turn's pacing p99 above the overload mark")


def run_step(url: str, kind: str, callers: int, ramp_s: float, warmup_s: float, window_s: float) -> dict:
    if kind == "conversation":
        settings = CallSettings(bridge_url=url, ear="alttext", seed=CONVERSATION_SEED)
        entries = load_scenarios().entries
        numbers = itertools.count()
    else:
        frames = phrasebook.encoded_frames(PHRASE, speech.SpeakingStyle(), MEDIA_FORMAT)
        payload = frames if kind == "caller" else [base64.b64decode(frame) for frame in frames]
        call: Callable = fast_call if kind == "caller" else naive_call
    if kind != "naive":  # the baseline keeps CPython's defaults
        prepare_for_realtime()  # as a Locust worker does before its first call
    gevent.sleep(0)
    rss_before = rss_bytes()
    t0 = time.monotonic()
    window = (t0 + ramp_s + warmup_s, t0 + ramp_s + warmup_s + window_s)
    stop = Event()  # set at the window's end: utterances stop mid-phrase, calls hang up
    tally = Tally(window)
    counts = {"connected": 0, "failed": 0, "agent_frames": 0, "calls": 0}
    errors: list[str] = []

    def spoke(call: object, timing: SpeechTiming) -> None:
        tally.utterance(timing.started_at, timing.lateness_ms)

    if kind == "conversation":
        events.speech_sent.add_listener(spoke)

    def one(index: int) -> None:
        gevent.sleep(ramp_s * index / callers + random.random() * FRAME_S)
        try:
            if kind == "conversation":
                scripted_calls(settings, entries, numbers, stop, counts, errors)
            else:
                call(url, payload, stop, tally, counts)
        except Exception as exc:  # noqa: BLE001 - a failed caller is counted and shown, not fatal
            counts["failed"] += 1
            if len(errors) < 3:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    greenlets = [gevent.spawn(one, index) for index in range(callers)]
    gevent.sleep(max(0.0, window[0] - time.monotonic()))
    (user_start, kernel_start), rss_peak, wall_start = cpu_seconds(), rss_bytes(), time.monotonic()
    gevent.sleep(max(0.0, window[1] - time.monotonic()))
    (user_end, kernel_end), measured_s = cpu_seconds(), time.monotonic() - wall_start
    kernel_used = kernel_end - kernel_start
    cpu_used = user_end - user_start + kernel_used
    rss_peak = max(rss_peak, rss_bytes())
    connected = counts["connected"]
    stop.set()
    connected_s = time.monotonic() - t0 - ramp_s / 2
    gevent.joinall(greenlets, timeout=STOP_GRACE_S)
    if kind == "conversation":
        events.speech_sent.remove_listener(spoke)
    lateness = np.concatenate(tally.lateness) if tally.lateness else np.zeros(0)

    def pct(values: np.ndarray, q: float) -> float | None:
        return round(float(np.percentile(values, q)), 3) if len(values) else None

    return {
        "kind": kind, "callers": callers, "connected_at_window": connected, "failed": counts["failed"],
        "errors": errors, "window_s": window_s, "frames_in_window": int(len(lateness)),
        "p50_lateness_ms": pct(lateness, 50), "p99_lateness_ms": pct(lateness, 99),
        "max_lateness_ms": round(float(lateness.max()), 3) if len(lateness) else None,
        "drift_ms": tally.drift_ms(),
        "agent_frames_per_caller_s": (None if kind == "conversation"
                                      else round(counts["agent_frames"] / max(1, callers) / connected_s, 2)),
        "calls_completed": counts["calls"],
        "cpu_share": round(cpu_used / measured_s, 3),
        "cpu_ms_per_caller_s": round(cpu_used * 1000.0 / (callers * measured_s), 4),
        "kernel_share_of_cpu": round(kernel_used / cpu_used, 3) if cpu_used else None,
        "rss_per_caller_mb": round((rss_peak - rss_before) / callers / 2**20, 4),
        "rss_mb": round(rss_peak / 2**20, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--callers", type=int, required=True)
    parser.add_argument("--ramp-s", type=float, default=3.0)
    parser.add_argument("--warmup-s", type=float, default=2.0)
    parser.add_argument("--window-s", type=float, default=5.0)
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    args = parser.parse_args()
    machine.pin_to(args.cpu)
    print(json.dumps(run_step(args.url, args.kind, args.callers, args.ramp_s, args.warmup_s, args.window_s)),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

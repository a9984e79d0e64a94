"""How N concurrent Realtime callers behave in one gevent process: pacing health, turn latency, caller CPU.

Every caller holds its own Realtime session to the local fake model (tests/fake_realtime.py: VAD, Whisper
transcripts, espeak answers) and calls the reference bridge, so the figures cover the caller side's own
costs: feeding the phone line to the model in real time, decoding answer audio, resampling, pacing. The
fake and the bridge are separate processes; the CPU figure is this process's only.

    python bench/realtime_callers.py [--callers 4] [--brain scripted]   (scripted: the same calls without a model,
                                                                       as the baseline)

Figures are printed last as one JSON line.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from callers.brains.realtime import RealtimeBrain  # noqa: E402
from callers.call.agent import CallerAgent  # noqa: E402
from callers.scenario.personality import get_personality  # noqa: E402
from callers.scenario.scenarios import load_scenarios  # noqa: E402
from callers.services.realtime_session import RealtimeSettings  # noqa: E402
from tests.fake_realtime import launch_fake_realtime  # noqa: E402
from tests.reference_bridge import launch_bridge  # noqa: E402

SCRIPT = ["What are your opening hours and what services do you offer?", "And which services do you offer?",
          "That's all I needed, thank you. Goodbye."]
CALL_TIMEOUT_S = 90.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=4)
    parser.add_argument("--brain", choices=("realtime", "scripted"), default="realtime")
    parser.add_argument("--fake-ear", choices=("stt", "none"), default="stt",
                        help="none: the fake model transcribes nothing (takes its Whisper CPU off the machine)")
    args = parser.parse_args()
    fake = launch_fake_realtime(SCRIPT, ear=args.fake_ear)
    bridge = launch_bridge("--voice-rate", "230", "--latency-ms", "150:50")
    try:
        settings = RealtimeSettings(api_key="sk-bench", websocket_base_url=fake.ws_url)
        entry = load_scenarios().custom_entry("normal", "general_inquiry", None)
        personality = get_personality("normal")
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        calls = [gevent.spawn(CallerAgent(bridge.url, personality, entry.scenario, caller_name=f"{args.brain}{i}",
                                          ear="none" if args.brain == "realtime" else "alttext", seed=i,
                                          brain=RealtimeBrain(personality, entry.scenario, settings, seed=i)
                                          if args.brain == "realtime" else None).run,
                              CALL_TIMEOUT_S) for i in range(args.callers)]
        results = [call.get() for call in calls]
        wall = time.monotonic() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        fake.stop()
        bridge.stop()
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    turns = [t for r in results for t in r.turn_records]
    latencies = [t.response_latency_ms for t in turns if t.response_latency_ms is not None]
    figures = {
        "brain": args.brain, "callers": args.callers, "succeeded": sum(r.success for r in results),
        "errors": sorted({r.error.category for r in results if r.error}),
        "turns": len(turns), "wall_s": round(wall, 1), "caller_cpu_s": round(cpu, 2),
        "caller_cpu_per_call_minute_s": round(cpu / (sum(r.duration_s for r in results) / 60.0), 2),
        "pacing_p99_ms_max": max((t.pacing_p99_ms for t in turns), default=None),
        "pacing_max_ms": max((t.pacing_max_ms for t in turns), default=None),
        "turn_latency_p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
    }
    for result in results:
        print(f"{result.caller_name}: success={result.success} turns={result.turns} {result.duration_s:.1f}s "
              f"cost=${result.cost_usd} {result.error or ''}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

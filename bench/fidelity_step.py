"""One fidelity load level: scripted calls to the reference bridge, plus filler callers on the sink.

Run by bench/fidelity.py in its own process. `--calls` greenlets place full CallerAgent calls (scripted
brain, altText ear: no STT) back to back against the reference bridge and write their CallResults to
`--results`; `--filler` more callers (bench/step.py's full-duplex caller) keep the process as busy as a
worker at that load, against the sink. After `--duration-s` no new call starts; calls still running
are cut off after `--grace-s` (their finished turns are kept). Prints one JSON line.
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import numpy as np  # noqa: E402
from gevent.event import Event  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import machine  # noqa: E402
from bench.step import MEDIA_FORMAT, PHRASE, Tally, fast_call  # noqa: E402
from callers.app.batch import CallSettings, make_caller  # noqa: E402
from callers.media import phrasebook, speech  # noqa: E402
from callers.results import ResultWriter  # noqa: E402
from callers.runtime.warmup import prepare_for_realtime  # noqa: E402
from callers.scenario.scenarios import load_scenarios  # noqa: E402

FILLER_RAMP_S = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bridge-url", required=True)
    parser.add_argument("--sink-url", default=None)
    parser.add_argument("--calls", type=int, default=4, help="concurrent measured calls")
    parser.add_argument("--filler", type=int, default=0, help="extra full-duplex callers on the sink")
    parser.add_argument("--duration-s", type=float, default=30.0)
    parser.add_argument("--grace-s", type=float, default=40.0, help="then calls still running are cut off")
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    args = parser.parse_args()
    machine.pin_to(args.cpu)

    entries = load_scenarios().entries
    settings = CallSettings(bridge_url=args.bridge_url, ear="alttext", seed=args.seed)
    prepare_for_realtime()  # as a Locust worker does before its first call
    writer = ResultWriter(args.results)
    numbers = itertools.count()
    t0 = time.monotonic()
    stop_filler = Event()
    tally = Tally((t0 + FILLER_RAMP_S, float("inf")))
    counts = {"connected": 0, "failed": 0, "agent_frames": 0}
    fillers = []
    if args.filler and args.sink_url:
        frames = phrasebook.encoded_frames(PHRASE, speech.SpeakingStyle(), MEDIA_FORMAT)

        def filler(index: int) -> None:
            gevent.sleep(FILLER_RAMP_S * index / args.filler)
            try:
                fast_call(args.sink_url, frames, stop_filler, tally, counts)
            except Exception:  # noqa: BLE001 - counted, the measured calls are what matters here
                counts["failed"] += 1

        fillers = [gevent.spawn(filler, index) for index in range(args.filler)]
        gevent.sleep(FILLER_RAMP_S)
    start_until = time.monotonic() + args.duration_s

    def place_calls(lane: int) -> None:
        gevent.sleep(lane * 0.5)
        while time.monotonic() < start_until:
            number = next(numbers)
            entry = entries[number % len(entries)]
            make_caller(entry, settings, writer, number).run(entry.timeout)

    lanes = [gevent.spawn(place_calls, lane) for lane in range(args.calls)]
    gevent.joinall(lanes, timeout=max(0.0, start_until - time.monotonic()) + args.grace_s)
    gevent.killall(lanes, timeout=5)
    stop_filler.set()
    gevent.joinall(fillers, timeout=10)
    lateness = np.concatenate(tally.lateness) if tally.lateness else np.zeros(0)
    print(json.dumps({"calls_written": writer.written, "filler": args.filler, "filler_failed": counts["failed"],
                      "filler_p99_lateness_ms": round(float(np.percentile(lateness, 99)), 3) if len(lateness) else None,
                      "wall_s": round(time.monotonic() - t0, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

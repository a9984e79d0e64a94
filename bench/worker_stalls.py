"""What stops a Locust worker's event loop: one or more bench/locust_capacity.py steps with bench/stall_probe.py
loaded into the worker, and every stall over 10 ms attributed to what the worker was doing.

Each step is a real run (a master, one worker, `-u N` callers against the sink's `--dialogue` mode, as
bench/locust_capacity.py runs them). The probe in the worker records the loop's late wake-ups with what the
worker's threads did meanwhile (Linux schedstat: CPU time, time waiting for a CPU), every garbage-collector
pass and the main thread's stack while the loop was stuck. A stall (a wake-up over 10 ms late) is put down
to the first that holds:
- `thread ... (the GIL)`: another thread of the worker ran for half the stall or more while the main
  thread did not (it waited for the GIL);
- `descheduled`: the main thread waited for a CPU for half the stall or more (another process had it);
- `gc`: collector passes took half the stall or more;
- the innermost frame of this repository (else Locust's, else gevent's) most often on the main thread's
  stack during it (`file:line function`); `gevent/hub.py ... run` means the loop was idle in C;
- `main thread ran (no stack)` with `--no-stacks`; `unseen` otherwise.
Each turn flagged `caller_overloaded` is listed with the worst stall while it was spoken, and the stalls are
also summed without the run's last second (`stalls_before_stop`: stopping the users is no call's stall).

    python bench/worker_stalls.py --users 100 --run-s 60 --pin       # one step
    python bench/worker_stalls.py --users 100 --repeat 2 --pin       # two steps, figures for each

Prints one line per step, then one JSON line with every step's stalls by cause.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bench import capacity, locust_capacity, machine  # noqa: E402
from bench.fidelity import read_jsonl  # noqa: E402

PROBE_FILE = "locustfile.py,bench/stall_probe.py"
STALL_MS = 10.0
PROBE_S = 0.005
GC_SHARE = 0.5
# Stalls this close to the run's end belong to stopping it (Locust's stop, the last calls sent), not to a call.
STOP_MARGIN_S = 1.0
SITE_PREFIXES = ("callers/", "loadtest/", "locustfile.py", "bench/")


def site_of(stack: list[str]) -> str:
    """The innermost frame of ours, else Locust's or gevent's, else the innermost of all."""
    for marks in (SITE_PREFIXES, ("locust/",), ("gevent/", "zmq/")):
        for frame in reversed(stack):
            if any(mark in frame.split(":", 1)[0] for mark in marks):
                return frame.split("site-packages/")[-1]
    return stack[-1] if stack else "unseen"


def attribute(probe: dict) -> list[dict]:
    """Every stall the probe saw, with its cause."""
    stalls = []
    for woke_at, late_ms, ran_ms, waited_ms, other_ms in probe["wakes"]:
        began = woke_at - (late_ms / 1000.0 + PROBE_S)
        gc_ms = sum(ms for started, _gen, ms, _n in probe["gc"] if began - 0.001 <= started <= woke_at)
        sites = Counter(site_of([frame for frame in stack if not frame.startswith("[other")])
                        for at, _ms, stack in probe["samples"] if began <= at <= woke_at + 0.003)
        busiest = max(other_ms.items(), key=lambda item: item[1], default=("", 0.0))
        if busiest[1] >= GC_SHARE * late_ms and ran_ms < GC_SHARE * late_ms:
            cause = f"thread {busiest[0].split(' ', 1)[-1]} (the GIL)"  # another thread ran while the loop waited
        elif waited_ms >= GC_SHARE * late_ms:
            cause = "descheduled"  # the main thread sat in the run queue: another process had the CPU
        elif gc_ms >= GC_SHARE * late_ms:
            cause = "gc"
        elif sites:
            cause = sites.most_common(1)[0][0]
        elif ran_ms >= GC_SHARE * late_ms:
            cause = "main thread ran (no stack)"
        else:
            cause = "unseen"
        stalls.append({"at_s": round(woke_at, 3), "ms": round(late_ms, 1), "cause": cause, "gc_ms": round(gc_ms, 1),
                       "ran_ms": round(ran_ms, 1), "waited_ms": round(waited_ms, 1),
                       "other_threads_ms": other_ms,
                       "sites": dict(sites)})
    return stalls


def summarise(stalls: list[dict]) -> dict:
    by_cause: dict = defaultdict(lambda: {"count": 0, "total_ms": 0.0, "max_ms": 0.0})
    for stall in stalls:
        entry = by_cause[stall["cause"]]
        entry["count"] += 1
        entry["total_ms"] = round(entry["total_ms"] + stall["ms"], 1)
        entry["max_ms"] = max(entry["max_ms"], stall["ms"])
    return dict(sorted(by_cause.items(), key=lambda item: -item[1]["total_ms"]))


def gc_summary(probe: dict) -> dict:
    """Passes per generation: count, total and longest ms."""
    passes: dict = defaultdict(lambda: {"count": 0, "total_ms": 0.0, "max_ms": 0.0})
    for _started, generation, ms, _collected in probe["gc"]:
        entry = passes[str(generation)]
        entry["count"] += 1
        entry["total_ms"] = round(entry["total_ms"] + ms, 1)
        entry["max_ms"] = round(max(entry["max_ms"], ms), 2)
    return dict(passes)


def flagged_turns(results_dir: Path, origin_wall: float, stalls: list[dict]) -> list[dict]:
    """Every turn flagged `caller_overloaded`: when it was spoken (s after the probe started) and the worst
    stall the probe saw while it was."""
    flagged = []
    for path in results_dir.glob("**/calls*.jsonl"):
        for call in read_jsonl(path):
            started = datetime.fromisoformat(call["started_at"]).timestamp() - origin_wall
            for turn in call["turn_records"]:
                if not turn.get("caller_overloaded"):
                    continue
                begin, end = started + turn["caller_speech_start"], started + turn["caller_speech_end"]
                during = [stall for stall in stalls if begin - 0.05 <= stall["at_s"] <= end + 0.05]
                worst = max(during, key=lambda stall: stall["ms"], default=None)
                stall = None if worst is None else {key: worst[key] for key in ("at_s", "ms", "cause")}
                flagged.append({"spoken_s": [round(begin, 2), round(end, 2)], "pacing_p99_ms": turn["pacing_p99_ms"],
                                "answer_read_lag_ms": turn.get("answer_read_lag_ms"), "stall": stall,
                                "cancelled": (call.get("error") or {}).get("category") == "cancelled"})
    return sorted(flagged, key=lambda turn: turn["spoken_s"])


def run(users: int, timing: dict, pin: bool, url: str, sink_pid: int, workdir: Path, keep: Optional[Path],
        stacks: bool) -> dict:
    probe_out = workdir / f"probe-{users}-{os.getpid()}-{len(list(workdir.iterdir()))}.json"
    env = {**os.environ, "STALL_PROBE_OUT": str(probe_out), "STALL_PROBE_STACKS": "1" if stacks else "0"}
    step = locust_capacity.run_step(url, users, timing, workdir, pin, sink_pid, PROBE_FILE, env)
    step.update(loadavg=machine.load_average(), speed_ms=machine.speed_ms())
    if not probe_out.is_file():
        step.pop("results_dir")
        step["stalls"] = None
        return step
    probe = json.loads(probe_out.read_text(encoding="utf-8"))
    stalls = attribute(probe)
    running = [stall for stall in stalls if stall["at_s"] < timing["run_s"] - STOP_MARGIN_S]
    step.update(stalls_by_cause=summarise(stalls), stalls_before_stop=summarise(running), gc_passes=gc_summary(probe),
                stall_count=len(stalls),
                worst_stalls=sorted(stalls, key=lambda stall: -stall["ms"])[:10],
                flagged_turns=flagged_turns(Path(step.pop("results_dir")), probe["origin_wall"], stalls))
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / probe_out.name).write_text(json.dumps({"probe": probe, "stalls": stalls}), encoding="utf-8")
    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--run-s", type=int, default=60, help="seconds per step")
    parser.add_argument("--repeat", type=int, default=1, help="steps to run")
    parser.add_argument("--pin", action="store_true", help="the worker on CPU 0, the master and the sink on CPU 1")
    parser.add_argument("--no-stacks", action="store_true",
                        help="no stack sampling thread (it takes the GIL now and then): stalls by cause less exactly")
    parser.add_argument("--keep", type=Path, default=None, help="a directory to keep each probe's raw record in")
    args = parser.parse_args()
    if args.run_s <= locust_capacity.RAMP_S + locust_capacity.SETTLE_S + 5 or args.users < 1 or args.repeat < 1:
        parser.error("--run-s must leave steady time after the ramp; --users and --repeat at least 1")
    timing = {"ramp_s": locust_capacity.RAMP_S, "settle_s": locust_capacity.SETTLE_S, "run_s": args.run_s}
    print(f"worker stalls: load {machine.load_average()}, speed {machine.speed_ms()} ms; {args.users} users, "
          f"{args.run_s} s, pinned {args.pin}", flush=True)
    sink, url = capacity.start_sink(*(["--cpu", str(machine.SERVER_CPU)] if args.pin else []), "--dialogue")
    steps = []
    try:
        with tempfile.TemporaryDirectory(prefix="worker-stalls-") as tmp:
            for _ in range(args.repeat):
                step = run(args.users, timing, args.pin, url, sink.pid, Path(tmp), args.keep, not args.no_stacks)
                steps.append(step)
                goals = step.get("goals") or {}
                print(f"  {args.users} users: {goals.get('calls')} calls, overloaded {goals.get('caller_overloaded')}, "
                      f"pacing p99 {step.get('pacing_p99_ms')} ms, overloaded turns {step.get('overloaded_turns')}, "
                      f"worker CPU {step.get('worker_cpu_share')}, load {step['loadavg']}, "
                      f"stalls {step.get('stall_count')}: {json.dumps(step.get('stalls_by_cause'))}; before the stop: "
                      f"{json.dumps(step.get('stalls_before_stop'))}", flush=True)
    finally:
        capacity.stop_sink(sink)
    print(json.dumps({"bench": "worker_stalls", "users": args.users, "run_s": args.run_s, "pinned": args.pin,
                      "stacks": not args.no_stacks,
                      "steps": steps, "machine": machine.describe()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

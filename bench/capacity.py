"""How many full-duplex callers one worker process (one core) keeps in real time, against a naive caller.

A step runs N callers in a fresh process (bench/step.py) against a cheap full-duplex sink (bench/sink.py,
its own process): every caller speaks phrase after phrase, paced at 20 ms, while the sink streams agent
audio at it. A step holds real time when every caller connected, the p99 lateness of the frames sent in
the window (15 s) is at most 5 ms, there is no drift (mean lateness in the window's last third is at most
1 ms above its first third's: no backlog building up), and the callers kept reading the agent's audio (at
least 90 % of the sink's rate). The search doubles N until a step fails, then bisects. The same search runs for this
project's caller (callers.transport.telephony.AudioCodesClient) and for the naive baseline (bench/naive_caller.py).

`--kinds conversation` searches the same way with whole calls of the caller a Locust worker runs (offline
brain, altText ear) against the sink's turn-taking `--dialogue` mode: what a worker core carries in a real
run, with everything a call does besides sending and reading audio. There a step holds when, besides the
pacing criteria, no call ended in error or flagged itself overloaded.

    python bench/capacity.py            # full search, both callers (about 4-4.5 minutes)
    python bench/capacity.py --quick    # smoke run: two small steps per caller, no search (~30 s)
    python bench/capacity.py --kinds conversation   # whole scripted calls (about 4 minutes)

Figures are printed last as one JSON line. One worker process is one core: the step is single-threaded
(gevent), so it never uses more than one, pinned or not (`--pin` pins it to CPU 0 and the sink to CPU 1,
which helps on a quiet machine and hurts on a shared one).
"""
from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bench import machine  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
MAX_LATENESS_P99_MS = 5.0
MAX_DRIFT_MS = 1.0
MIN_AGENT_SHARE = 0.9
# The sink plays 150-frame prompts with 5-frame gaps: the rate a caller that keeps up reads at.
AGENT_FRAMES_PER_S = 50.0 * 150 / 155
START_TIMEOUT_S = 20.0
# Measured seconds per step. A step has to hold real time for long enough to mean it: 2,000 callers at a full
# core held for 5 s (p99 2.5 ms) and not for 30 s (p99 21 ms); 1,600 held for 30 s (3.9 ms).
WINDOW_S = 15.0
STEP_OVERHEAD_S = 40.0  # process start, phrase rendering, connecting, joining: beyond ramp + warm-up + window
KINDS = ("caller", "naive", "conversation")
DEFAULT_KINDS = ("caller", "naive")  # together about 4-4.5 minutes; conversation is a run of its own
STARTS = {"caller": 200, "naive": 100, "conversation": 200}
# Calls take a few seconds to reach their first utterance (greeting, reply) and to spread out.
WARMUP_S = {"conversation": 8.0}
QUICK_WARMUP_S = {"conversation": 3.0}
QUICK_CALLERS = (10, 30)


def start_sink(*sink_options: str) -> tuple[subprocess.Popen, str]:
    """The stand-in bridge (bench/sink.py with these options) and its URL, for every bench that needs one."""
    command = [sys.executable, str(BENCH_DIR / "sink.py"), "--port", "0", *sink_options]
    sink = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = sink.stdout.readline() if sink.stdout else ""
    if not line.startswith("sink listening on "):
        sink.kill()
        raise SystemExit(f"bench: the sink did not start (said {line!r})")
    return sink, line.split()[-1]


def stop_sink(sink: subprocess.Popen) -> dict:
    sink.send_signal(signal.SIGTERM)
    try:
        out, _ = sink.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        sink.kill()
        return {}
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def run_step(url: str, kind: str, callers: int, timing: dict, pin: bool) -> dict:
    warmup_s = timing["warmup_s"].get(kind, timing["warmup_s"]["default"])
    command = [sys.executable, str(BENCH_DIR / "step.py"), "--url", url, "--kind", kind, "--callers", str(callers),
               "--ramp-s", str(timing["ramp_s"]), "--warmup-s", str(warmup_s),
               "--window-s", str(timing["window_s"])] + (["--cpu", str(machine.CALLER_CPU)] if pin else [])
    limit = timing["ramp_s"] + warmup_s + timing["window_s"] + STEP_OVERHEAD_S
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"kind": kind, "callers": callers, "error": f"step did not finish within {limit:g} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"kind": kind, "callers": callers, "error": f"step exited {done.returncode}: {tail[:200]}"}
    return json.loads(lines[-1])


def judge(step: dict) -> tuple[bool, list[str]]:
    """Whether a step held real time, and if not, why."""
    if "error" in step:
        return False, [step["error"]]
    reasons = []
    if step["failed"]:
        reasons.append(f"{step['failed']} callers failed ({'; '.join(step['errors'])})")
    p99 = step["p99_lateness_ms"]
    if p99 is None or p99 > MAX_LATENESS_P99_MS:
        reasons.append(f"p99 lateness {p99} ms > {MAX_LATENESS_P99_MS:g} ms")
    drift = step["drift_ms"]
    if drift is not None and drift > MAX_DRIFT_MS:
        reasons.append(f"drift {drift} ms > {MAX_DRIFT_MS:g} ms")
    agent_frames = step["agent_frames_per_caller_s"]
    if agent_frames is not None and agent_frames < MIN_AGENT_SHARE * AGENT_FRAMES_PER_S:
        reasons.append(f"read only {step['agent_frames_per_caller_s']} agent frames/s per caller")
    return not reasons, reasons


def bisect(attempt: Callable[[int], bool], start: int, max_callers: int, max_steps: int) -> None:
    """Doubles the caller count from `start` until `attempt` fails, then bisects between the last pass and
    the first miss, to within 10 % (or 10 callers); at most `max_steps` attempts."""
    low, high = 0, None
    callers, tried = start, 0
    while tried < max_steps:
        tried += 1
        if attempt(callers):
            low = callers
            if callers >= max_callers:
                break
            callers = min(max_callers, callers * 2) if high is None else (low + high) // 2
        else:
            high = callers
            callers = (low + high) // 2 if low else max(1, callers // 2)
        if high is not None and (high - low) <= max(10, high * 0.1):
            break


def search(url: str, kind: str, timing: dict, pin: bool, max_callers: int, max_steps: int,
           fixed: Optional[tuple] = None) -> tuple[Optional[dict], list]:
    """The largest passing step (doubling, then bisecting), and every step run."""
    steps: list = []
    best: Optional[dict] = None

    def attempt(callers: int) -> bool:
        nonlocal best
        step = run_step(url, kind, callers, timing, pin)
        passed, reasons = judge(step)
        step.update(passed=passed, reasons=reasons, loadavg=machine.load_average(), speed_ms=machine.speed_ms())
        steps.append(step)
        print(f"  {kind:<7}{callers:>6} callers: p99 lateness {step.get('p99_lateness_ms')} ms, drift "
              f"{step.get('drift_ms')} ms, cpu {step.get('cpu_ms_per_caller_s')} ms/caller-s, "
              f"rss {step.get('rss_per_caller_mb')} MB/caller, speed {step['speed_ms']} ms: "
              f"{'held' if passed else 'missed: ' + '; '.join(reasons)}", flush=True)
        if passed and (best is None or callers > best["callers"]):
            best = step
        return passed

    if fixed:
        for callers in fixed:
            attempt(callers)
    else:
        bisect(attempt, STARTS[kind], max_callers, max_steps)
    return best, steps


def step_timing(quick: bool, window_s: float = WINDOW_S) -> dict:
    """Seconds of ramp, warm-up (by kind) and measured window per step: a smoke run's, or a search's."""
    if quick:
        return {"ramp_s": 0.5, "warmup_s": {"default": 0.5, **QUICK_WARMUP_S}, "window_s": 1.0}
    return {"ramp_s": 3.0, "warmup_s": {"default": 2.0, **WARMUP_S}, "window_s": window_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: a couple of small steps, no search")
    parser.add_argument("--window-s", type=float, default=WINDOW_S, help="measured seconds per step")
    parser.add_argument("--max-callers", type=int, default=4000)
    parser.add_argument("--max-steps", type=int, default=7, help="steps per caller kind")
    parser.add_argument("--kinds", default=",".join(DEFAULT_KINDS), help=f"any of {','.join(KINDS)}")
    parser.add_argument("--pin", action="store_true", help="pin steps to CPU 0 and the sink to CPU 1")
    args = parser.parse_args()
    kinds = [kind for kind in args.kinds.split(",") if kind]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        parser.error(f"--kinds: unknown {', '.join(sorted(unknown))}; choose from {', '.join(KINDS)}")
    timing = step_timing(args.quick, args.window_s)
    started = time.monotonic()
    before = machine.describe()
    print(f"capacity on {before['cpu_model']} ({before['cores']} cores), load {before['loadavg']}, "
          f"speed {before['speed_ms']} ms (machine.speed_ms: lower is faster); "
          f"real time = p99 lateness <= {MAX_LATENESS_P99_MS:g} ms, drift <= {MAX_DRIFT_MS:g} ms", flush=True)
    pinned = ["--cpu", str(machine.SERVER_CPU)] if args.pin else []
    results = {}
    sink_stats = {}
    for sink_mode, sink_kinds in (([], [k for k in kinds if k != "conversation"]),
                                  (["--dialogue"], [k for k in kinds if k == "conversation"])):
        if not sink_kinds:
            continue
        sink, url = start_sink(*pinned, *sink_mode)
        try:
            for kind in sink_kinds:
                results[kind] = search(url, kind, timing, args.pin, args.max_callers, args.max_steps,
                                       QUICK_CALLERS if args.quick else None)
        finally:
            sink_stats["dialogue" if sink_mode else "duplex"] = stop_sink(sink)
    best, steps = results.get("caller", (None, []))
    baseline, baseline_steps = results.get("naive", (None, []))
    conversation, conversation_steps = results.get("conversation", (None, []))
    count = (best["callers"] if best else 0) if "caller" in results else None  # None: not run
    baseline_count = (baseline["callers"] if baseline else 0) if "naive" in results else None
    ratio = round(count / baseline_count, 2) if count is not None and baseline_count else None
    if "caller" in results or "naive" in results:
        print(f"caller: {count} callers per core in real time; naive baseline: {baseline_count}; ratio {ratio}")
    if best:
        print(f"at {count}: p99 lateness {best['p99_lateness_ms']} ms, CPU {best['cpu_ms_per_caller_s']} ms per "
              f"caller-second ({best['kernel_share_of_cpu']} of it in the kernel), RSS {best['rss_per_caller_mb']} MB "
              "per caller")
    if "conversation" in results:
        conversation_count = conversation["callers"] if conversation else 0
        print(f"conversation: {conversation_count} callers per core placing whole calls in real time"
              + (f" (p99 lateness {conversation['p99_lateness_ms']} ms, CPU {conversation['cpu_ms_per_caller_s']} ms "
                 "per caller-second)" if conversation else ""))
    print(json.dumps({
        "bench": "capacity", "quick": args.quick, "callers_per_core": count,
        "baseline_callers_per_core": baseline_count, "ratio": ratio,
        "p99_lateness_ms": best["p99_lateness_ms"] if best else None,
        "drift_ms": best["drift_ms"] if best else None,
        "cpu_ms_per_caller_s": best["cpu_ms_per_caller_s"] if best else None,
        "kernel_share_of_cpu": best["kernel_share_of_cpu"] if best else None,
        "rss_per_caller_mb": best["rss_per_caller_mb"] if best else None,
        "baseline_p99_lateness_ms": baseline["p99_lateness_ms"] if baseline else None,
        "baseline_cpu_ms_per_caller_s": baseline["cpu_ms_per_caller_s"] if baseline else None,
        "baseline_rss_per_caller_mb": baseline["rss_per_caller_mb"] if baseline else None,
        "criteria": {"max_p99_lateness_ms": MAX_LATENESS_P99_MS, "max_drift_ms": MAX_DRIFT_MS,
                     "min_agent_frames_share": MIN_AGENT_SHARE},
        "conversation": None if "conversation" not in results else {
            key: conversation[key] if conversation else None
            for key in ("callers", "p99_lateness_ms", "drift_ms", "cpu_ms_per_caller_s", "kernel_share_of_cpu",
                        "rss_per_caller_mb", "calls_completed")},
        "timing": timing, "pinned": args.pin, "steps": steps + baseline_steps + conversation_steps,
        "sink": sink_stats.get("duplex", {}), "dialogue_sink": sink_stats.get("dialogue"),
        "machine": before, "loadavg_end": machine.load_average(),
        "duration_s": round(time.monotonic() - started, 1),
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Does the caller report the agent's latency, or its own queueing? Caller figures against bridge truth.

The reference bridge waits a known, jittered think time before each reply and logs, per turn, when the
caller's `userStream.stop` arrived and when its first voiced reply chunk was written (`--truth-log`, the
same monotonic clock as the callers on this machine). Scripted calls (no STT on either side) run at two
loads of the caller process: light (a few calls) and at 80 % of its measured capacity (the same calls
plus filler callers on the sink, bench/sink.py). Each caller turn is matched to the bridge turn whose
`userStream.stop` arrived when the caller's last chunk left, and the caller's `response_latency_ms` is
compared with the bridge's. Turns the caller flagged `caller_overloaded` are counted and shown.

    python bench/fidelity.py [--capacity 750]     # light + 80 % of 750 callers (about 3 minutes)
    python bench/fidelity.py --quick              # smoke run: a few calls, small filler (~40 s)
    python bench/fidelity.py --pin                # the caller process on CPU 0, the bridge and the sink on CPU 1

`--pin` gives the caller process a core of its own, as bench/capacity.py's steps have beside the sink;
unpinned, the bridge and the sink can take turns on the caller's core as well.

Figures are printed last as one JSON line.
"""
from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bench import machine  # noqa: E402
from bench.capacity import start_sink, stop_sink  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
# Default capacity of one worker core for the 80 % level (bench/RESULTS.md); pass the figure you measured.
DEFAULT_CAPACITY = 750
LOADED_SHARE = 0.8
LATENCY = "300:150"  # injected think time, ms: mean and uniform jitter
MATCH_WINDOW_S = 0.25  # a caller's last chunk and the bridge's userStream.stop arrival are this close at most
TARGET_P99_LIGHT_MS = 5.0
TARGET_P99_LOADED_MS = 15.0
BRIDGE_START_TIMEOUT_S = 90.0
STEP_TIMEOUT_S = 240.0
CALL_GRACE_S = 40.0  # after the last call starts: long enough for a scripted call to finish
QUICK_GRACE_S = 10.0


def start_bridge(truth_log: Path, cpu: Optional[int]) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "bridge", "--host", "127.0.0.1", "--port", "0", "--ear", "none",
               "--latency-ms", LATENCY, "--seed", "11", "--truth-log", str(truth_log), "--log-level", "warning"]
    bridge = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              preexec_fn=None if cpu is None else functools.partial(machine.pin_to, cpu))
    line = bridge.stdout.readline() if bridge.stdout else ""
    if not line.startswith("bridge listening on "):
        bridge.kill()
        raise SystemExit(f"fidelity: the reference bridge did not start (said {line!r})")
    return bridge, line.split()[3]


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def match_turns(calls: list[dict], truths: list[dict]) -> list[dict]:
    """Pairs of (caller turn, bridge turn) for every caller turn with a measured latency."""
    by_id = {truth["conversation_id"]: truth for truth in truths if truth.get("conversation_id")}
    pairs = []
    for call in calls:
        truth = by_id.get(call["call_id"])
        t0 = call.get("t0_monotonic")
        if truth is None or t0 is None:
            continue
        bridge_turns = [turn for turn in truth["turns"]
                        if turn.get("caller_audio_end") is not None and turn.get("response_latency_ms") is not None]
        for turn in call["turn_records"]:
            if turn.get("response_latency_ms") is None:
                continue
            speech_end = t0 + turn["caller_speech_end"]
            nearest = min(bridge_turns, key=lambda b: abs(b["caller_audio_end"] - speech_end), default=None)
            if nearest is None or abs(nearest["caller_audio_end"] - speech_end) > MATCH_WINDOW_S:
                continue
            pairs.append({"call_id": call["call_id"], "turn": turn["index"], "barge_in": turn.get("barge_in", False),
                          "caller_ms": turn["response_latency_ms"], "truth_ms": nearest["response_latency_ms"],
                          "injected_ms": nearest["injected_ms"], "pacing_p99_ms": turn.get("pacing_p99_ms", 0.0),
                          "overloaded": bool(turn.get("caller_overloaded", False))})
    return pairs


def summarise(pairs: list[dict], calls: list[dict]) -> dict:
    errors = np.abs(np.asarray([p["caller_ms"] - p["truth_ms"] for p in pairs])) if pairs else np.zeros(0)
    signed = np.asarray([p["caller_ms"] - p["truth_ms"] for p in pairs]) if pairs else np.zeros(0)
    pacing = np.asarray([p["pacing_p99_ms"] for p in pairs]) if pairs else np.zeros(0)
    trusted = np.asarray([abs(p["caller_ms"] - p["truth_ms"]) for p in pairs if not p["overloaded"]])

    def pct(values: np.ndarray, q: float) -> Optional[float]:
        return round(float(np.percentile(values, q)), 2) if len(values) else None

    categories: dict = {}
    for call in calls:
        category = (call.get("error") or {}).get("category", "ok")
        categories[category] = categories.get(category, 0) + 1
    return {"turns": len(pairs), "calls": len(calls), "outcomes": categories,
            "p50_abs_error_ms": pct(errors, 50), "p99_abs_error_ms": pct(errors, 99),
            "max_abs_error_ms": round(float(errors.max()), 2) if len(errors) else None,
            "mean_signed_error_ms": round(float(signed.mean()), 2) if len(signed) else None,
            # What a user relying on the overload flag gets: the turns the caller did not flag.
            "unflagged_turns": int(len(trusted)), "unflagged_p99_abs_error_ms": pct(trusted, 99),
            "p99_pacing_ms": pct(pacing, 99),
            "overloaded_turns": sum(p["overloaded"] for p in pairs),
            "overloaded_calls": sum(bool(call.get("caller_overloaded")) for call in calls),
            "worst": sorted(pairs, key=lambda p: -abs(p["caller_ms"] - p["truth_ms"]))[:3]}


def run_level(name: str, calls: int, filler: int, duration_s: float, grace_s: float, sink_url: Optional[str],
              workdir: Path, pin: bool) -> dict:
    truth_log = workdir / f"truth-{name}.jsonl"
    results = workdir / f"calls-{name}.jsonl"
    bridge, bridge_url = start_bridge(truth_log, machine.SERVER_CPU if pin else None)
    command = [sys.executable, str(BENCH_DIR / "fidelity_step.py"), "--bridge-url", bridge_url, "--calls", str(calls),
               "--filler", str(filler), "--duration-s", str(duration_s), "--grace-s", str(grace_s),
               "--results", str(results)] + (["--cpu", str(machine.CALLER_CPU)] if pin else [])
    if sink_url:
        command += ["--sink-url", sink_url]
    load_before = machine.load_average()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=STEP_TIMEOUT_S, cwd=REPO_ROOT)
        step = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    except (subprocess.TimeoutExpired, IndexError, ValueError) as exc:
        step = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    finally:
        stop_process(bridge)
    call_rows = read_jsonl(results)
    summary = summarise(match_turns(call_rows, read_jsonl(truth_log)), call_rows)
    summary.update(level=name, measured_calls=calls, filler_callers=filler, step=step,
                   loadavg=[load_before, machine.load_average()])
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few calls, small filler")
    parser.add_argument("--capacity", type=int, default=DEFAULT_CAPACITY,
                        help="callers per core the capacity bench measured; the loaded level runs 80 %% of it")
    parser.add_argument("--calls", type=int, default=6, help="concurrent measured calls at each level")
    parser.add_argument("--duration-s", type=float, default=45.0, help="seconds during which calls are started")
    parser.add_argument("--pin", action="store_true", help="the caller process on CPU 0, the bridge and sink on CPU 1")
    args = parser.parse_args()
    calls = 2 if args.quick else args.calls
    duration = 5.0 if args.quick else args.duration_s
    grace = QUICK_GRACE_S if args.quick else CALL_GRACE_S
    loaded_total = 20 if args.quick else int(args.capacity * LOADED_SHARE)
    started = time.monotonic()
    before = machine.describe()
    print(f"fidelity on {before['cpu_model']} ({before['cores']} cores), load {before['loadavg']}; injected "
          f"think time {LATENCY} ms; loaded level: {loaded_total} callers in the caller process", flush=True)
    sink, sink_url = start_sink(*(["--cpu", str(machine.SERVER_CPU)] if args.pin else []))
    levels = {}
    try:
        with tempfile.TemporaryDirectory(prefix="fidelity-") as tmp:
            levels["light"] = run_level("light", calls, 0, duration, grace, None, Path(tmp), args.pin)
            levels["loaded"] = run_level("loaded", calls, max(0, loaded_total - calls), duration, grace, sink_url,
                                         Path(tmp), args.pin)
    finally:
        sink_stats = stop_sink(sink)
    for name, level in levels.items():
        print(f"{name:<7} {level['turns']:>4} turns in {level['calls']} calls: "
              f"|error| p50 {level['p50_abs_error_ms']} ms, "
              f"p99 {level['p99_abs_error_ms']} ms, max {level['max_abs_error_ms']} ms; caller pacing p99 "
              f"{level['p99_pacing_ms']} ms; overloaded turns {level['overloaded_turns']} (p99 error without them "
              f"{level['unflagged_p99_abs_error_ms']} ms)", flush=True)
    light, loaded = levels["light"], levels["loaded"]
    print(json.dumps({
        "bench": "fidelity", "quick": args.quick,
        "light_p50_error_ms": light["p50_abs_error_ms"], "light_p99_error_ms": light["p99_abs_error_ms"],
        "loaded_p50_error_ms": loaded["p50_abs_error_ms"], "loaded_p99_error_ms": loaded["p99_abs_error_ms"],
        "loaded_callers": loaded_total, "capacity_assumed": args.capacity, "pinned": args.pin,
        "overloaded_turns_light": light["overloaded_turns"], "overloaded_turns_loaded": loaded["overloaded_turns"],
        "loaded_unflagged_p99_error_ms": loaded["unflagged_p99_abs_error_ms"],
        "targets": {"light_p99_error_ms": TARGET_P99_LIGHT_MS, "loaded_p99_error_ms": TARGET_P99_LOADED_MS},
        "injected_latency_ms": LATENCY, "levels": levels, "sink": sink_stats, "machine": before,
        "loadavg_end": machine.load_average(), "duration_s": round(time.monotonic() - started, 1),
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

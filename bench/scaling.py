"""Does a second Locust worker process double the load? The same workload with --processes 1 and 2.

Locust (this repo's locustfile.py, headless) runs USERS_PER_PROCESS scripted callers per worker process
against the sink in dialogue mode (bench/sink.py --dialogue: a greeting, three short replies after 200 ms,
then hangup), so whole calls complete and the target costs little. Reported per run: completed calls per
second (CALL requests over the run), the callers that ran at once, their audio pacing p99 (from the
calls' turn records) and how many turns flagged an overloaded caller, after the ramp (Locust's workers
stall at each spawn message while ramping; those turns are counted apart). Scaling is the 2-process figure
over the 1-process one; concurrent callers count as scaled only while pacing held (no overloaded turn).

    python bench/scaling.py                 # 100 callers per process, 40 s per run (about 2 minutes)
    python bench/scaling.py --quick         # smoke run: 5 callers per process, 12 s per run

Figures are printed last as one JSON line.
"""
from __future__ import annotations

import argparse
import csv
import json
import socket
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
from bench.fidelity import read_jsonl  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_USERS_PER_PROCESS = 100
DEFAULT_RUN_S = 40
RAMP_S = 8.0
RAMP_SETTLE_S = 2.0
TARGET_SCALING = 1.8
LOCUST_MARGIN_S = 60.0


def calls_on_disk(results_dir: Path) -> list[dict]:
    return [row for path in results_dir.glob("calls*.jsonl") for row in read_jsonl(path)]


def completed_calls(csv_prefix: Path) -> int:
    try:
        with open(f"{csv_prefix}_stats.csv", encoding="utf-8") as source:
            return sum(int(row["Request Count"]) for row in csv.DictReader(source)
                       if row["Type"] == "CALL" and row["Name"] != "Aggregated")
    except OSError:
        return 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_locust(url: str, processes: int, users: int, run_s: int, workdir: Path) -> dict:
    prefix = workdir / f"p{processes}"
    results = workdir / f"results-p{processes}"
    master_port = str(free_port())  # not Locust's default 5557: another Locust on the machine may hold it
    command = [sys.executable, "-m", "locust", "-f", "locustfile.py", "--headless", "-u", str(users),
               "-r", f"{users / RAMP_S:g}", "-t", f"{run_s}s", "--processes", str(processes), "--host", url,
               "--master-bind-host", "127.0.0.1", "--master-bind-port", master_port, "--master-host", "127.0.0.1",
               "--master-port", master_port, "--csv", str(prefix), "--results-dir", str(results),
               "--ear", "alttext", "--only-summary"]
    load_before = machine.load_average()
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=run_s + LOCUST_MARGIN_S)
        error = None if done.returncode in (0, 1) else f"locust exited {done.returncode}: {done.stderr[-300:]}"
    except subprocess.TimeoutExpired:
        error = f"locust did not finish within {run_s + LOCUST_MARGIN_S:g} s"
    wall = time.monotonic() - started
    calls = calls_on_disk(results)
    turns = [(call["t0_monotonic"] + turn["caller_speech_start"], turn.get("pacing_p99_ms", 0.0),
              bool(turn.get("caller_overloaded"))) for call in calls for turn in call["turn_records"]]
    # Locust's ramp is judged apart: its workers stall at every spawn message (see bench/RESULTS.md).
    steady_from = min((call["t0_monotonic"] for call in calls), default=0.0) + RAMP_S + RAMP_SETTLE_S
    steady = [turn for turn in turns if turn[0] >= steady_from]
    pacing = np.asarray([turn[1] for turn in steady])
    overloaded = sum(turn[2] for turn in steady)
    completed = completed_calls(prefix)
    return {"processes": processes, "users": users, "run_s": run_s, "wall_s": round(wall, 1),
            "completed_calls": completed, "calls_per_s": round(completed / run_s, 3),
            "calls_on_disk": len(calls), "steady_turns": int(len(pacing)),
            "pacing_p99_ms": round(float(np.percentile(pacing, 99)), 2) if len(pacing) else None,
            "overloaded_turns": overloaded, "held_real_time": overloaded == 0 and len(pacing) > 0,
            "ramp_turns": len(turns) - len(steady),
            "ramp_overloaded_turns": sum(turn[2] for turn in turns) - overloaded,
            "error": error, "loadavg": [load_before, machine.load_average()]}


def ratio(two: Optional[float], one: Optional[float]) -> Optional[float]:
    return round(two / one, 2) if one and two is not None else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 callers per process, 12 s per run")
    parser.add_argument("--users-per-process", type=int, default=DEFAULT_USERS_PER_PROCESS)
    parser.add_argument("--run-s", type=int, default=DEFAULT_RUN_S)
    args = parser.parse_args()
    per_process = 5 if args.quick else args.users_per_process
    run_s = 12 if args.quick else args.run_s
    started = time.monotonic()
    before = machine.describe()
    print(f"scaling on {before['cpu_model']} ({before['cores']} cores), load {before['loadavg']}; "
          f"{per_process} callers per worker process, {run_s} s per run", flush=True)
    sink, url = start_sink("--dialogue")
    runs = {}
    try:
        with tempfile.TemporaryDirectory(prefix="scaling-") as tmp:
            for processes in (1, 2):
                run = run_locust(url, processes, per_process * processes, run_s, Path(tmp))
                runs[processes] = run
                print(f"  --processes {processes}: {run['users']} callers, {run['completed_calls']} calls "
                      f"({run['calls_per_s']}/s); after the ramp: pacing p99 {run['pacing_p99_ms']} ms, "
                      f"{run['overloaded_turns']} of {run['steady_turns']} turns overloaded (during the ramp: "
                      f"{run['ramp_overloaded_turns']} of {run['ramp_turns']})"
                      f"{'; ' + run['error'] if run['error'] else ''}",
                      flush=True)
    finally:
        stop_sink(sink)
    one, two = runs[1], runs[2]
    concurrent_one = one["users"] if one["held_real_time"] else None
    concurrent_two = two["users"] if two["held_real_time"] else None
    print(json.dumps({
        "bench": "scaling", "quick": args.quick,
        "calls_per_s_1": one["calls_per_s"], "calls_per_s_2": two["calls_per_s"],
        "calls_per_s_scaling": ratio(two["calls_per_s"], one["calls_per_s"]),
        "concurrent_callers_1": concurrent_one, "concurrent_callers_2": concurrent_two,
        "concurrent_scaling": ratio(concurrent_two, concurrent_one), "target_scaling": TARGET_SCALING,
        "runs": [one, two], "machine": before, "loadavg_end": machine.load_average(),
        "duration_s": round(time.monotonic() - started, 1),
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

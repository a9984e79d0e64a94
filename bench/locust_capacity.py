"""How many callers one Locust worker process (one core) carries in a real Locust run, beside bench/capacity.py.

bench/capacity.py counts the callers one process keeps in real time with CallerAgent alone. A Locust worker
also spawns users, fires a request event per connect, greeting, turn and call, keeps Locust's statistics and
reports them and the goal counters to its master every few seconds. This script measures what is left: each
step starts a Locust master and ONE worker process (`locust --master --headless --expect-workers 1` and
`locust --worker`, this repository's locustfile.py, the scripted brain, the altText ear) against a target it
starts itself, runs N users for a fixed time and reads the master's goals.json. A step holds when:
- both processes ran cleanly (no exception in their logs) and at least one call completed;
- no call flagged `caller_overloaded` and none was a `simulator_error` (the worker kept its callers' audio
  on time, docs/metrics.md);
- goal success held: the step's success rate is at most GOAL_TOLERANCE below a reference run of
  REFERENCE_USERS users on the same target (what the target gives an idle worker).

bench/capacity.py's whole-call search (`--kinds conversation`) runs first, in process, so both figures
come from the same machine state. The Locust search starts at its count (Locust's can only be lower),
doubles N while steps hold, then bisects (capacity.py's `bisect`). The ratio of the two figures is what
Locust itself costs; a target load over the Locust figure is the number of worker processes it needs.

The target is the reference bridge with `--ear none` (its calls take 40-60 s, so goal success means
something) or bench/sink.py's `--dialogue` mode (12 s calls, cheaper, but its agent meets no goal).

    python bench/locust_capacity.py                # full search (about 20 minutes)
    python bench/locust_capacity.py --quick        # smoke run: one small step of each, against the sink (~35 s)
    python bench/locust_capacity.py --target-callers 5000   # how many worker processes 5,000 callers need

Figures are printed last as one JSON line.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bench import capacity, machine  # noqa: E402
from bench.fidelity import read_jsonl  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
TARGETS = ("bridge", "sink")
START_USERS = 100  # when bench/capacity.py found no count to start from
REFERENCE_USERS = 5
GOAL_TOLERANCE = 0.1  # success rate points a step may lose against the reference run
RUN_S = 120  # two whole calls of the reference bridge (40-60 s each) per user
RAMP_S = 10.0  # users are spawned over this long, as a real run ramps
SETTLE_S = 5.0  # after the ramp, before the worker's CPU is measured
QUICK_USERS = 5
QUICK_RUN_S = 14
QUICK_RAMP_S = 1.0
START_TIMEOUT_S = 30.0  # Locust importing the locustfile on both sides and the worker connecting
EXIT_MARGIN_S = 60.0  # the master's end of run: stop timeout, final reports, goals.json
WORKER_EXIT_S = 15.0
DEFAULT_TARGET_CALLERS = 1000
CAPACITY_KIND = "conversation"
LOG_PROBLEMS = ("Traceback (most recent call last)", "Uncaught exception")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> Optional[float]:
    """User + system CPU seconds of a running process (Linux /proc), None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_bridge(cpu: Optional[int]) -> tuple[subprocess.Popen, str]:
    """The reference bridge without recognition (the cheap mode for load), and its URL."""
    command = [sys.executable, "-m", "bridge", "--host", "127.0.0.1", "--port", "0", "--ear", "none",
               "--log-level", "warning"]
    bridge = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    line = bridge.stdout.readline() if bridge.stdout else ""
    if not line.startswith("bridge listening on "):
        bridge.kill()
        raise SystemExit(f"locust_capacity: the reference bridge did not start (said {line!r})")
    if cpu is not None:
        os.sched_setaffinity(bridge.pid, {cpu})
    return bridge, line.split()[3]


def stop_target(target: subprocess.Popen) -> None:
    target.send_signal(signal.SIGTERM)
    try:
        target.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        target.kill()
        target.communicate()


def wait_for_line(path: Path, text: str, process: subprocess.Popen, timeout: float) -> bool:
    """Whether `text` appeared in the log at `path` before `process` exited or the time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.2)
    return False


def log_problem(*paths: Path) -> Optional[str]:
    """The first exception a Locust process logged, as one line: such a step measured a broken run."""
    for path in paths:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for index, line in enumerate(lines):
            if any(problem in line for problem in LOG_PROBLEMS):
                tail = next((later for later in lines[index + 1:] if later and not later.startswith(" ")), line)
                return f"{path.stem} logged: {tail.strip()[:200]}"
    return None


def pacing(results_dir: Path) -> dict:
    """Pacing p99 and overloaded turns over every call on disk (each call id once, wherever it was written)."""
    calls = {row["call_id"]: row for path in results_dir.glob("calls*.jsonl") for row in read_jsonl(path)}
    turns = [turn for call in calls.values() for turn in call["turn_records"]]
    values = np.asarray([turn.get("pacing_p99_ms", 0.0) for turn in turns])
    return {"calls_on_disk": len(calls), "turns": len(turns),
            "pacing_p99_ms": round(float(np.percentile(values, 99)), 2) if len(values) else None,
            "overloaded_turns": sum(bool(turn.get("caller_overloaded")) for turn in turns)}


def run_step(url: str, users: int, timing: dict, workdir: Path, pin: bool, target_pid: int,
             worker_files: str = "locustfile.py", worker_env: Optional[dict] = None) -> dict:
    """One real Locust run: a master and one worker process, `users` callers; goals, CPU and pacing out.
    `worker_files` is the worker's -f (a plug-in may follow the locustfile), `worker_env` its environment."""
    step_dir = workdir / f"users-{users}-{time.monotonic_ns()}"
    results = step_dir / "results"
    step_dir.mkdir(parents=True)
    port = str(free_port())  # not Locust's 5557: another Locust on the machine may hold it
    ramp_s, run_s = timing["ramp_s"], timing["run_s"]
    master_command = [sys.executable, "-m", "locust", "-f", "locustfile.py", "--master", "--headless",
                      "--expect-workers", "1", "-u", str(users), "-r", f"{users / ramp_s:g}", "-t", f"{run_s}s",
                      "--host", url, "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
                      "--results-dir", str(results), "--brain", "scripted", "--ear", "alttext",
                      "--caller-seed", "7", "--only-summary"]
    worker_command = [sys.executable, "-m", "locust", "-f", worker_files, "--worker",
                      "--master-host", "127.0.0.1", "--master-port", port]
    master_log, worker_log = step_dir / "master.log", step_dir / "worker.log"
    step: dict = {"users": users, "run_s": run_s, "ramp_s": ramp_s}
    with open(master_log, "w", encoding="utf-8") as master_out, open(worker_log, "w", encoding="utf-8") as worker_out:
        master = subprocess.Popen(master_command, cwd=REPO_ROOT, stdout=master_out, stderr=subprocess.STDOUT)
        worker = subprocess.Popen(worker_command, cwd=REPO_ROOT, stdout=worker_out, stderr=subprocess.STDOUT,
                                  env=worker_env)
        if pin:
            os.sched_setaffinity(worker.pid, {machine.CALLER_CPU})
            os.sched_setaffinity(master.pid, {machine.SERVER_CPU})
        try:
            step.update(_measure(master, worker, master_log, timing, users, target_pid))
        finally:
            for process in (master, worker):
                if process.poll() is None:
                    process.kill()
                    process.wait()
    problem = step.pop("error", None) or log_problem(master_log, worker_log)
    goals_path = results / "goals.json"
    if problem is None and not goals_path.is_file():
        problem = f"the master wrote no goals.json (exit code {master.returncode})"
    if problem:
        step["error"] = problem
    if goals_path.is_file():
        step["goals"] = json.loads(goals_path.read_text(encoding="utf-8"))["total"]
    step.update(pacing(results), results_dir=str(results))
    return step


def _measure(master: subprocess.Popen, worker: subprocess.Popen, master_log: Path, timing: dict, users: int,
             target_pid: int) -> dict:
    """Waits through the run, taking the worker's, the master's and the target's CPU over the steady part
    (after the ramp): the worker's is what a caller costs in Locust, the others say whether they were the limit."""
    if not wait_for_line(master_log, "Sending spawn jobs", master, START_TIMEOUT_S):
        return {"error": f"the run did not start within {START_TIMEOUT_S:g} s (master exit code {master.poll()})"}
    spawned = time.monotonic()
    pids = {"worker": worker.pid, "master": master.pid, "target": target_pid}
    time.sleep(max(0.0, spawned + timing["ramp_s"] + timing["settle_s"] - time.monotonic()))
    before, started = {name: cpu_seconds(pid) for name, pid in pids.items()}, time.monotonic()
    time.sleep(max(0.0, spawned + timing["run_s"] - 1.0 - time.monotonic()))
    after, seconds = {name: cpu_seconds(pid) for name, pid in pids.items()}, time.monotonic() - started
    measured: dict = {}
    for name in pids:
        if before[name] is not None and after[name] is not None and seconds > 0:
            measured[f"{name}_cpu_share"] = round((after[name] - before[name]) / seconds, 3)
    if "worker_cpu_share" in measured:
        measured["worker_cpu_ms_per_caller_s"] = round(measured["worker_cpu_share"] * 1000.0 / users, 4)
    try:
        master.wait(timeout=max(0.0, spawned + timing["run_s"] + EXIT_MARGIN_S - time.monotonic()))
    except subprocess.TimeoutExpired:
        measured["error"] = f"the master did not exit within {EXIT_MARGIN_S:g} s of the run's end"
    try:
        worker.wait(timeout=WORKER_EXIT_S)
    except subprocess.TimeoutExpired:
        measured.setdefault("error", f"the worker did not exit within {WORKER_EXIT_S:g} s of the master")
    return measured


def judge(step: dict, reference_rate: Optional[float]) -> tuple[bool, list[str]]:
    """Whether the worker carried the step's callers, and if not, why."""
    if "error" in step:
        return False, [step["error"]]
    goals = step["goals"]
    reasons = []
    completed = goals["calls"] - goals["cancelled"]
    if completed <= 0:
        reasons.append("no call completed")
    if goals["caller_overloaded"]:
        reasons.append(f"{goals['caller_overloaded']} calls flagged caller_overloaded")
    if goals["simulator_errors"]:
        reasons.append(f"{goals['simulator_errors']} simulator errors")
    rate = goals["success_rate"]
    if reference_rate is not None and completed > 0 and (rate or 0.0) < reference_rate - GOAL_TOLERANCE:
        reasons.append(f"success rate {rate} < reference {reference_rate} - {GOAL_TOLERANCE:g}")
    return not reasons, reasons


def describe(step: dict) -> str:
    goals = step.get("goals") or {}
    return (f"{step['users']:>6} users: {goals.get('calls')} calls ({goals.get('cancelled')} cut off), success "
            f"{goals.get('success_rate')}, overloaded {goals.get('caller_overloaded')}, worker CPU "
            f"{step.get('worker_cpu_share')} ({step.get('worker_cpu_ms_per_caller_s')} ms/caller-s), master CPU "
            f"{step.get('master_cpu_share')}, target CPU {step.get('target_cpu_share')}, pacing p99 "
            f"{step.get('pacing_p99_ms')} ms, speed {step['speed_ms']} ms")


def locust_search(url: str, target_pid: int, timing: dict, quick: bool, pin: bool, start: int, max_users: int,
                  max_steps: int, workdir: Path) -> tuple[Optional[dict], Optional[dict], list]:
    """The reference run, then the largest step that held (or the smoke run's one step), and every step.
    The search starts at `start` (the count without Locust: Locust's can only be lower)."""
    steps: list = []
    best: Optional[dict] = None

    def run(users: int) -> dict:
        step = run_step(url, users, timing, workdir, pin, target_pid)
        step.pop("results_dir")
        step.update(loadavg=machine.load_average(), speed_ms=machine.speed_ms())
        steps.append(step)
        return step

    reference = run(QUICK_USERS if quick else REFERENCE_USERS)
    reference_ok, reference_reasons = judge(reference, None)
    reference.update(passed=reference_ok, reasons=reference_reasons, reference=True)
    print(f"  reference{describe(reference)}: {'held' if reference_ok else 'missed: ' + '; '.join(reference_reasons)}",
          flush=True)
    if not reference_ok:
        print(f"  no search: {reference['users']} callers already missed, so the machine is too busy or the "
              "target is broken", flush=True)
        return reference, None, steps
    if quick:
        return reference, reference, steps
    reference_rate = reference["goals"]["success_rate"]

    def attempt(users: int) -> bool:
        nonlocal best
        step = run(users)
        passed, reasons = judge(step, reference_rate)
        step.update(passed=passed, reasons=reasons)
        print(f"  locust   {describe(step)}: {'held' if passed else 'missed: ' + '; '.join(reasons)}", flush=True)
        if passed and (best is None or users > best["users"]):
            best = step
        return passed

    capacity.bisect(attempt, min(start, max_users), max_users, max_steps)
    return reference, best, steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: one small step of each, no search")
    parser.add_argument("--target", choices=TARGETS, default=None,
                        help="what the callers call (default: bridge; sink with --quick)")
    parser.add_argument("--run-s", type=int, default=RUN_S, help="seconds per Locust step")
    parser.add_argument("--max-users", type=int, default=2000)
    parser.add_argument("--max-steps", type=int, default=7, help="Locust steps after the reference run")
    parser.add_argument("--target-callers", type=int, default=DEFAULT_TARGET_CALLERS,
                        help="a load to size: how many worker processes it needs")
    parser.add_argument("--pin", action="store_true",
                        help="pin the worker (and capacity steps) to CPU 0, the master and the target to CPU 1")
    args = parser.parse_args()
    if args.run_s <= RAMP_S + SETTLE_S + 5:
        parser.error(f"--run-s: {args.run_s} leaves no steady time after the {RAMP_S + SETTLE_S:g} s ramp and settling")
    if args.target_callers < 1 or args.max_users < 1 or args.max_steps < 1:
        parser.error("--target-callers, --max-users and --max-steps must be at least 1")
    target = args.target or ("sink" if args.quick else "bridge")
    timing = ({"ramp_s": QUICK_RAMP_S, "settle_s": 1.0, "run_s": QUICK_RUN_S} if args.quick
              else {"ramp_s": RAMP_S, "settle_s": SETTLE_S, "run_s": args.run_s})
    started = time.monotonic()
    before = machine.describe()
    print(f"locust capacity on {before['cpu_model']} ({before['cores']} cores), load {before['loadavg']}, "
          f"speed {before['speed_ms']} ms; Locust master + 1 worker against the {target}, "
          f"{timing['run_s']} s per step", flush=True)
    server_cpu = machine.SERVER_CPU if args.pin else None
    pinned = ["--cpu", str(server_cpu)] if args.pin else []

    # bench/capacity.py's figure first: CallerAgent's whole calls in one process, no Locust.
    sink, sink_url = capacity.start_sink(*pinned, "--dialogue")
    try:
        without_locust, capacity_steps = capacity.search(
            sink_url, CAPACITY_KIND, capacity.step_timing(args.quick), args.pin, args.max_users, args.max_steps,
            capacity.QUICK_CALLERS[:1] if args.quick else None)
    finally:
        capacity.stop_sink(sink)

    if target == "bridge":
        server, url = start_bridge(server_cpu)
    else:
        server, url = capacity.start_sink(*pinned, "--dialogue")
    try:
        with tempfile.TemporaryDirectory(prefix="locust-capacity-") as tmp:
            start = without_locust["callers"] if without_locust else START_USERS
            reference, best, steps = locust_search(url, server.pid, timing, args.quick, args.pin, start,
                                                   args.max_users, args.max_steps, Path(tmp))
    finally:
        stop_target(server)

    per_worker = best["users"] if best else 0
    per_core = without_locust["callers"] if without_locust else 0
    share = round(per_worker / per_core, 2) if per_core else None
    workers = math.ceil(args.target_callers / per_worker) if per_worker else None
    print(f"Locust: {per_worker} callers per worker process; without Locust (bench/capacity.py --kinds "
          f"conversation): {per_core} per core; Locust keeps {share} of it. {args.target_callers} callers need "
          f"{workers} worker processes (one core each) beside the master.", flush=True)
    print(json.dumps({
        "bench": "locust_capacity", "quick": args.quick, "target": target,
        "callers_per_worker": per_worker, "capacity_callers_per_core": per_core, "locust_share": share,
        "target_callers": args.target_callers, "workers_needed": workers,
        "reference_success_rate": (reference.get("goals") or {}).get("success_rate"),
        "worker_cpu_ms_per_caller_s": best.get("worker_cpu_ms_per_caller_s") if best else None,
        "capacity_cpu_ms_per_caller_s": without_locust["cpu_ms_per_caller_s"] if without_locust else None,
        "worker_cpu_share": best.get("worker_cpu_share") if best else None,
        "master_cpu_share": best.get("master_cpu_share") if best else None,
        "target_cpu_share": best.get("target_cpu_share") if best else None,
        "criteria": {"caller_overloaded": 0, "simulator_errors": 0, "goal_tolerance": GOAL_TOLERANCE,
                     "reference_users": QUICK_USERS if args.quick else REFERENCE_USERS},
        "timing": timing, "pinned": args.pin, "steps": steps, "capacity_steps": capacity_steps,
        "machine": before, "loadavg_end": machine.load_average(), "duration_s": round(time.monotonic() - started, 1),
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

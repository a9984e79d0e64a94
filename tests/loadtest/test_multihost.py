"""A distributed run across separate hosts: the master, two workers and the reference bridge each in its own
network namespace (veth pairs on a Linux bridge, addresses of a test subnet that exists only inside them) and
its own copy of the project, so no results directory is shared. Every finished call must end up on the
master, once; a worker killed mid-run loses only its calls in flight; goals.json counts exactly the calls on
the master, and `python -m reports` on the master's directory reports the whole run.

Needs root and iproute2 (`ip netns`); it skips, saying why, where namespaces cannot be made.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

from callers.results import CALLS_FILE, read_results
from loadtest.run import SEED_STRIDE

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

REPO = Path(__file__).resolve().parents[2]
# What a host needs of the project to run a bridge, a Locust master or worker, and the reports.
PROJECT = ("locustfile.py", "locust.conf", "scenarios.json", "callers", "loadtest", "bridge", "reports",
           "personalities")
SUBNET = "10.231.0"  # exists only inside the namespaces; the host's own routes never see it
HOSTS = {"master": 1, "worker-a": 2, "worker-b": 3, "bridge": 4}
BRIDGE_PORT = 8000
MASTER_PORT = 5557
USERS = 4  # two callers per worker
RUN_S = 40  # a scripted call lasts 25-30 s: the victim finishes calls, then dies mid-run
CALLER_SEED = 1  # a call's seed is CALLER_SEED + worker index * SEED_STRIDE + its number: it names the worker
START_WAIT_S = 60.0
RUN_WAIT_S = 90.0
KILL_DELAY_S = 1.0
# From the bridge ending a call to the master holding it: the caller closes its socket (at most 1 s) and sends
# one message over the LAN; a call the bridge ended longer than this before the kill was finished.
DELIVERY_GRACE_S = 2.0


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


@dataclass
class Lan:
    """Namespaces on one Linux bridge; `run` starts a process inside one, in its own copy of the project."""

    tag: str
    root: Path
    namespaces: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)

    def address(self, host: str) -> str:
        return f"{SUBNET}.{HOSTS[host]}"

    def workdir(self, host: str) -> Path:
        return self.root / host

    def run(self, host: str, *command: str, stdout=None) -> subprocess.Popen:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("LOCUST_", "PYTHONPATH", "BRIDGE_TOKEN"))}
        log = open(self.workdir(host) / f"{host}.log", "ab")
        process = subprocess.Popen(["ip", "netns", "exec", self.namespaces[host], sys.executable, *command],
                                   cwd=self.workdir(host), env=env, stdout=stdout or log, stderr=log,
                                   text=stdout is not None)
        self.processes.append(process)
        return process

    def log(self, host: str) -> str:
        path = self.workdir(host) / f"{host}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _build(lan: Lan) -> Optional[str]:
    """Make the namespaces and their links; returns why it could not, or None."""
    bridge = f"cab{lan.tag}"
    if _ip("link", "add", bridge, "type", "bridge").returncode != 0:
        return "cannot create a Linux bridge"
    lan.namespaces["_bridge"] = bridge
    _ip("link", "set", bridge, "up")
    for host, number in HOSTS.items():
        namespace, outside, inside = f"ca{lan.tag}-{number}", f"cv{lan.tag}{number}", f"cp{lan.tag}{number}"
        made = _ip("netns", "add", namespace)
        if made.returncode != 0:
            return f"ip netns add failed: {made.stderr.strip()}"
        lan.namespaces[host] = namespace
        for args in (("link", "add", outside, "type", "veth", "peer", "name", inside),
                     ("link", "set", inside, "netns", namespace), ("link", "set", outside, "master", bridge),
                     ("link", "set", outside, "up"), ("-n", namespace, "link", "set", inside, "name", "eth0"),
                     ("-n", namespace, "addr", "add", f"{lan.address(host)}/24", "dev", "eth0"),
                     ("-n", namespace, "link", "set", "eth0", "up"), ("-n", namespace, "link", "set", "lo", "up")):
            step = _ip(*args)
            if step.returncode != 0:
                return f"ip {' '.join(args)} failed: {step.stderr.strip()}"
        copy = lan.workdir(host)
        for name in PROJECT:
            source = REPO / name
            if source.is_dir():
                shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                copy.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, copy / name)
    return None


def _tear_down(lan: Lan) -> None:
    for process in lan.processes:
        if process.poll() is None:
            process.kill()
        process.wait(10)
    for host, namespace in lan.namespaces.items():
        if host != "_bridge":
            _ip("netns", "del", namespace)  # its veth end goes with it, and the peer with that
    if "_bridge" in lan.namespaces:
        _ip("link", "del", lan.namespaces["_bridge"])


@pytest.fixture
def lan(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (CI runs as root)")
    if shutil.which("ip") is None:
        pytest.skip("no `ip` command (iproute2) to make network namespaces")
    built = Lan(uuid.uuid4().hex[:8], tmp_path)  # names unique per run: at most 15 characters per link name
    try:
        problem = _build(built)
        if problem:
            pytest.skip(f"network namespaces cannot be made here: {problem}")
        yield built
    finally:
        _tear_down(built)


def _first_line(process: subprocess.Popen, wait_s: float) -> str:
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        return lines.get(timeout=wait_s)
    except queue.Empty:
        return ""


def _wait_for(condition, what: str, wait_s: float, lan: Lan) -> None:
    deadline = time.monotonic() + wait_s
    while not condition():
        assert time.monotonic() < deadline, f"{what}; master log:\n{lan.log('master')[-3000:]}"
        time.sleep(0.05)


def _lines(path: Path) -> list[str]:
    """The complete lines of a file another process may be appending to (a line without its newline yet is
    still being written)."""
    if not path.exists():
        return []
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def test_every_finished_call_of_every_worker_is_on_the_master(lan):
    bridge = lan.run("bridge", "-m", "bridge", "--host", lan.address("bridge"), "--port", str(BRIDGE_PORT),
                     "--ear", "none", "--voice-rate", "450", "--truth-log", "truth.jsonl",
                     stdout=subprocess.PIPE)
    listening = _first_line(bridge, START_WAIT_S)
    assert listening.startswith("bridge listening on ws://10.231.0.4"), (listening, lan.log("bridge")[-2000:])
    results = lan.workdir("master") / "results"
    master = lan.run("master", "-m", "locust", "-f", "locustfile.py", "--headless", "--master",
                     "--master-bind-host", lan.address("master"), "--master-bind-port", str(MASTER_PORT),
                     "--expect-workers", "2", "-u", str(USERS), "-r", str(USERS), "-t", f"{RUN_S}s",
                     "--stop-timeout", "2", "--host", f"ws://{lan.address('bridge')}:{BRIDGE_PORT}/ws/telephony",
                     "--results-dir", "results", "--csv", "results/run", "--ear", "alttext",
                     "--caller-seed", str(CALLER_SEED))
    worker = ("-m", "locust", "-f", "locustfile.py", "--worker", "--master-host", lan.address("master"),
              "--master-port", str(MASTER_PORT), "--results-dir", "results")
    # One after the other, so worker-a is index 0 and worker-b index 1 (the master numbers them as they come).
    lan.run("worker-a", *worker)
    _wait_for(lambda: "(index 0) reported as ready" in lan.log("master"), "worker-a never reached the master",
              START_WAIT_S, lan)
    victim = lan.run("worker-b", *worker)

    # Once the master holds a call of worker-b, worker-b is killed mid-run.
    def indexes() -> set[int]:
        return {int(json.loads(line)["seed"]) // SEED_STRIDE for line in _lines(results / CALLS_FILE)}
    _wait_for(lambda: 1 in indexes(), "the master never held a call of worker-b", RUN_S, lan)
    time.sleep(KILL_DELAY_S)
    assert master.poll() is None
    killed_at = time.monotonic()
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(10) == -signal.SIGKILL
    master.wait(RUN_WAIT_S)
    master_log = lan.log("master")
    assert master.returncode in (0, 1) and "Traceback" not in master_log, master_log[-3000:]
    bridge.send_signal(signal.SIGTERM)
    bridge.wait(15)

    held = list(read_results(results / CALLS_FILE))
    assert (results / CALLS_FILE).read_bytes().endswith(b"\n"), "the master left a call half written"
    assert len(held) == len(_lines(results / CALLS_FILE)), "a line of the master's calls.jsonl is unreadable"
    held_ids = {result.call_id for result in held}
    assert len(held_ids) == len(held), "a call is twice on the master"
    # Nothing stays on a worker's own disk: the survivor's calls were all acknowledged, the victim died.
    for host in ("worker-a", "worker-b"):
        assert not list(lan.workdir(host).rglob("calls*.jsonl")), host
    assert "never acknowledged" not in lan.log("worker-a")

    # The bridge's own log says which calls existed and when each ended: every call that ended before the
    # kill is on the master; the ones that are not were in flight on the victim, at most one per its caller.
    truth = {}
    for line in _lines(lan.workdir("bridge") / "truth.jsonl"):
        call = json.loads(line)
        if call["conversation_id"]:
            truth[call["conversation_id"]] = call
    ended_before_kill = {call_id for call_id, call in truth.items()
                         if call["ended_at"] is not None and call["ended_at"] < killed_at - DELIVERY_GRACE_S}
    assert ended_before_kill <= held_ids, f"finished calls missing on the master: {ended_before_kill - held_ids}"
    lost = set(truth) - held_ids
    assert len(lost) <= USERS // 2, f"more calls lost than the killed worker had callers: {lost}"
    assert all(truth[call_id]["ended_at"] >= killed_at - DELIVERY_GRACE_S for call_id in lost)
    survivor_calls = [result for result in held if result.seed // SEED_STRIDE == 0]
    assert any(result.error_category == "cancelled" for result in survivor_calls), (
        "the surviving worker's calls cut off by the end of the run are missing")

    report = json.loads((results / "goals.json").read_text(encoding="utf-8"))
    assert report["total"]["calls"] == len(held)
    assert report["total"]["successes"] == sum(1 for result in held if result.success)
    assert report["total"]["cancelled"] == sum(1 for result in held if result.error_category == "cancelled")
    personalities: dict[str, int] = {}
    for result in held:
        personalities[result.personality] = personalities.get(result.personality, 0) + 1
    assert {name: counts["calls"] for name, counts in report["by_personality"].items()} == personalities

    # The master's directory alone reports the whole run: Locust's stats, the goals and every call.
    reported = subprocess.run([sys.executable, "-m", "reports", "results", "--locust-csv", "results/run",
                               "--junit", "results/calls.xml"], cwd=lan.workdir("master"), capture_output=True,
                              text=True, timeout=60)
    assert reported.returncode == 0, reported.stderr[-3000:]
    assert f"Total Tests: {len(held)}\n" in reported.stdout and "duplicate" not in reported.stderr
    assert "LOCUST REQUEST STATISTICS" in reported.stdout
    junit = (results / "calls.xml").read_text(encoding="utf-8")
    assert all(f"call_id={call_id} " in junit for call_id in held_ids)

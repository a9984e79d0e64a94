"""Locust face of Caller Agent: every Locust user is one simulated caller; every task iteration is one call.

    locust -f locustfile.py --headless -u 20 -r 5 -t 60s --processes 2 \
        --host ws://127.0.0.1:8765/ws/telephony --csv results/accept --success-threshold 0.8

Glue only: calls are run by callers.CallerAgent; the goal counting, merge and CI gate live in loadtest/.

* One User class per personality (personalities/*.toml), e.g. NormalCaller, AngryCaller; pick some by name
  on the command line or with --class-picker. Each call places a scenario of the mix (`--test-config NAME`,
  default every entry of scenarios.json's "scenarios") with the user's own personality.
* Request events (docs/metrics.md): CONNECT, GREETING, TURN, BARGE_IN, CALL; one per turn / call.
* Goal metrics: every process counts its calls; workers send cumulative snapshots with Locust's worker
  report and a final one when their users have stopped; the master waits for every final snapshot before it
  prints the goal summary, writes <results-dir>/goals.json and sets the exit code (--success-threshold,
  --max-p95-turn-ms).
* Per-call results: <results-dir>/calls-<hostname>-<pid>.jsonl, one file per process.
* Capacity search (`--shape capacity`, or CapacityShape in the --class-picker UI): steps the caller count up
  until a step's own calls miss --success-threshold or its TURNs miss --max-p95-turn-ms, then prints the
  highest concurrency that met both and writes <results-dir>/capacity.json (loadtest/capacity.py decides).
* Every custom option also reads a LOCUST_* environment variable (e.g. LOCUST_TEST_CONFIG), as Locust's own
  do, so containers (deploy/k8s, docker-compose) set them without editing commands. The web UI's start form
  parses them the same way (loadtest/options.py) and refuses a run it cannot start (loadtest/webform.py).
"""
from __future__ import annotations

import json
import logging
import os
import random
import socket
import sys
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import gevent
from locust import LoadTestShape, User, between, events, task
from locust.runners import (STATE_CLEANUP, STATE_MISSING, STATE_RUNNING, STATE_SPAWNING, STATE_STOPPING,
                            MasterRunner, WorkerRunner)
from locust.stats import StatsEntry

from callers.app.batch import CallSettings, make_caller
from callers.call import events as call_events
from callers.call.agent import EAR_MODES, CallerAgent
from callers.errors import ConfigError, ErrorCategory
from callers.results import CallResult, ResultWriter, TurnRecord
from callers.runtime.warmup import prepare_for_realtime
from callers.scenario.personality import load_personalities
from callers.scenario.scenarios import ScenarioEntry, load_scenarios
from callers.services.judge import DEFAULT_JUDGE_MODEL, CallJudge
from callers.services.realtime_session import DEFAULT_MODEL, DEFAULT_VOICE, MissingKey, openai_client, settings_from_env
from callers.transport import tls
from loadtest import capacity, goals, hostcheck, orphans, spawn_messages, users, webform, webui
from loadtest import options as options_spec

log = logging.getLogger("caller_agent.locust")
orphans.follow_parent_after_fork()  # --processes children: Locust forks them after importing this file
spawn_messages.keep_default_args()  # a worker's spawn message would otherwise stall its calls ~0.1 s
# websockets logs every handshake header at debug level, the OpenAI key of Realtime callers included.
logging.getLogger("websockets").setLevel(logging.INFO)

ALL_SCENARIOS = "all"
TOKEN_ENV = "CALLER_BRIDGE_TOKEN"
REPORT_KEY = "caller_goals"
FLUSH_MESSAGE = "caller_goals_flush"
# How long the master waits, beyond --stop-timeout, for each worker's final goal snapshot.
FINAL_REPORT_WAIT_S = 10.0
STEP_REPORT_MESSAGE = "caller_stats_now"
# How long the master waits for the workers' reports at the end of a capacity step (they come within
# milliseconds on a LAN; a worker that is slower is judged with its previous report, at most 3 s old).
STEP_REPORT_WAIT_S = 2.0
NO_SHAPE = "none"
CAPACITY_SHAPE = "capacity"
# How fast a capacity step adds its callers when neither -r nor the web UI says.
DEFAULT_CAPACITY_SPAWN_RATE = 5.0
# Distinct caller seeds per worker: worker index * this + call number.
SEED_STRIDE = 1_000_000
CONNECT_FAILURES = {ErrorCategory.CONNECT_FAILED.value, ErrorCategory.HANDSHAKE_REJECTED.value}

try:
    PERSONALITIES = load_personalities()
    CATALOG = load_scenarios()
except ConfigError as _error:
    sys.stderr.write(f"locustfile: {_error}\n")
    sys.exit(2)


class CallFailed(Exception):
    """What a failed CONNECT / GREETING / BARGE_IN / CALL shows in Locust's failure table."""


# ---- command line ----------------------------------------------------------------------------------------

# Every custom option, defined once (loadtest/options.py): the command line, LOCUST_* variables and the web
# UI's start form parse a value the same way.
OPTIONS = options_spec.caller_options(
    CATALOG.test_configurations, EAR_MODES, all_scenarios=ALL_SCENARIOS, shapes=(NO_SHAPE, CAPACITY_SHAPE),
    success_default=capacity.DEFAULT_SUCCESS_TARGET, p95_default_ms=capacity.DEFAULT_P95_TURN_TARGET_MS,
    token_env=TOKEN_ENV, realtime_model=DEFAULT_MODEL, realtime_voice=DEFAULT_VOICE, judge_model=DEFAULT_JUDGE_MODEL)


@events.init_command_line_parser.add_listener
def _arguments(parser, **_kwargs) -> None:
    options_spec.add_to_parser(parser, OPTIONS)


# ---- one User class per personality ----------------------------------------------------------------------

class CallerUser(User):
    """One simulated caller, placing one call per task iteration."""

    abstract = True
    personality = "normal"
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.rng = random.Random(None if RUN.seed is None else RUN.seed * 7919 + id(self) % 7919)

    @task
    def place_call(self) -> None:
        RUN.place_call(self)


try:
    globals().update(users.caller_classes(PERSONALITIES, CallerUser, __name__))
except ValueError as _error:
    sys.stderr.write(f"locustfile: {_error}\n")
    sys.exit(2)


# ---- capacity search -------------------------------------------------------------------------------------

class CapacityShape(LoadTestShape):
    """Steps the callers up until a step misses a target (loadtest/capacity.py decides; this only drives it).

    Locust runs a locustfile's shape for every run, so _on_init unhooks this one unless --shape capacity asks
    for it; with --class-picker the web UI offers it either way."""

    # -r paces each step's ramp and -t caps the whole search (read here: Locust leaves both to the shape);
    # it also spares every run without the shape Locust's warning that -u / -r / -t are ignored.
    use_common_options = True

    def __init__(self) -> None:
        super().__init__()
        self.search: Optional[capacity.CapacitySearch] = None

    def reset_time(self) -> None:
        # Locust calls this when a run starts (a master again at its first spawn): a new run, a new search.
        super().reset_time()
        self.search = None

    def tick(self) -> Optional[tuple[int, float]]:
        environment = self.runner.environment
        options = environment.parsed_options
        if self.search is None:
            try:
                self.search = capacity.CapacitySearch(_capacity_plan(options))
            except ValueError as exc:  # values typed into the web UI; the command line is checked at init
                log.error("capacity search not started: %s", exc)
                return None
        if options.run_time and self.get_run_time() >= options.run_time:
            return None  # the search ends unfinished: capacity.json says "run_ended"
        judged = len(self.search.steps)
        count = self.search.tick(time.monotonic(), lambda: _step_sample(environment))
        for step in self.search.steps[judged:]:
            log.info("capacity step: %d callers, %d calls, success %s, p95 TURN %s ms: %s", step.users, step.calls,
                     "-" if step.success_rate is None else f"{step.success_rate:.1%}",
                     "-" if step.p95_turn_ms is None else f"{step.p95_turn_ms:g}",
                     "met" if step.met else "missed (" + "; ".join(step.reasons) + ")")
        if count is None:
            return None
        return count, float(options.spawn_rate or DEFAULT_CAPACITY_SPAWN_RATE)


def _capacity_plan(options) -> capacity.CapacityPlan:
    """The search the options ask for; ValueError names the option to fix."""
    return capacity.CapacityPlan(
        options.capacity_start, options.capacity_step, options.capacity_step_s, options.capacity_max,
        capacity.Targets.from_gate(options.success_threshold, options.max_p95_turn_ms))


def _capacity_search(environment) -> Optional[capacity.CapacitySearch]:
    """The search this run made, if it ran the capacity shape."""
    shape = environment.shape_class
    return shape.search if isinstance(shape, CapacityShape) else None


# ---- this process's calls --------------------------------------------------------------------------------

@dataclass
class CallRun:
    """What a process that runs users needs for a test; rebuilt at each test_start."""

    environment: Optional[object] = None
    entries: list = field(default_factory=list)
    settings: Optional[CallSettings] = None
    writer: Optional[ResultWriter] = None
    connect_name: str = "/"
    seed: Optional[int] = None
    seed_base: int = 0
    calls_started: int = 0
    owned: "weakref.WeakKeyDictionary[CallerAgent, str]" = field(default_factory=weakref.WeakKeyDictionary)

    def place_call(self, user: CallerUser) -> None:
        template = user.rng.choice(self.entries)
        # The scenario stays exactly as the mix defines it (goal, criteria, context); the caller is the user's.
        entry = ScenarioEntry(template.name, user.personality, template.scenario, template.timeout)
        self.calls_started += 1
        settings = self.settings
        if user.host and user.host != settings.bridge_url:
            settings = CallSettings(**{**settings.__dict__, "bridge_url": user.host})
        agent = make_caller(entry, settings, self.writer, self.seed_base + self.calls_started)
        self.owned[agent] = template.scenario.name or template.name
        agent.run(entry.timeout)

    def label(self, call: CallerAgent) -> Optional[str]:
        return self.owned.get(call)


RUN = CallRun()
SOURCE = goals.SnapshotSource()  # this process's goal counters (processes that run users)
AGGREGATOR = goals.GoalAggregator()  # the master's view of every worker's counters
STATE = {"finished": True, "started": False}


def _options(environment):
    return environment.parsed_options


def _runs_users(environment) -> bool:
    return not isinstance(environment.runner, MasterRunner)


def _counters(environment) -> goals.GoalCounters:
    """The run's goal counters as this process knows them: merged from workers on a master, else its own."""
    if isinstance(environment.runner, MasterRunner):
        return AGGREGATOR.merged()
    return SOURCE.counters


def _fire(request_type: str, name: str, response_time: Optional[float], exception: Optional[str] = None) -> None:
    RUN.environment.events.request.fire(
        request_type=request_type, name=name, response_time=float(response_time or 0.0), response_length=0,
        exception=CallFailed(exception) if exception else None, context={})


# ---- callers.call.events -> Locust request events and goal counters -------------------------------------------

@call_events.call_connected.add_listener
def _on_connected(call, connect_ms, **_kwargs) -> None:
    if RUN.label(call) is not None:
        _fire("CONNECT", RUN.connect_name, connect_ms)


@call_events.greeting_heard.add_listener
def _on_greeting(call, latency_ms, **_kwargs) -> None:
    label = RUN.label(call)
    if label is not None:
        _fire("GREETING", label, latency_ms)


@call_events.turn_completed.add_listener
def _on_turn(call, turn: TurnRecord, **_kwargs) -> None:
    label = RUN.label(call)
    if label is None:
        return
    if turn.response_latency_ms is not None:
        _fire("TURN", label, turn.response_latency_ms)
    if turn.barge_in:
        stopped = turn.agent_stopped is not False
        _fire("BARGE_IN", label, turn.barge_in_stop_ms, None if stopped else "agent did not stop")


@call_events.call_resumed.add_listener
def _on_resumed(call, resume: dict, **_kwargs) -> None:
    if RUN.label(call) is not None:
        _fire("RESUME", RUN.connect_name, resume["took_ms"], None if resume["ok"] else "session.resume failed")


@call_events.call_finished.add_listener
def _on_finished(call, result: CallResult, **_kwargs) -> None:
    label = RUN.label(call)
    if label is None:
        return
    category = result.error_category
    SOURCE.counters.record_result(result, scenario=label)
    if category == ErrorCategory.CANCELLED.value:
        return  # cut off by the end of the run: neither a success nor a failure
    duration_ms = result.duration_s * 1000.0
    if category in CONNECT_FAILURES:
        _fire("CONNECT", RUN.connect_name, duration_ms, category)
    elif category == ErrorCategory.NO_ANSWER.value and result.greeting_latency_ms is None:
        _fire("GREETING", label, duration_ms, category)
    _fire("CALL", label, duration_ms, None if result.success else (category or "goal not met"))


# ---- Locust lifecycle ------------------------------------------------------------------------------------

@events.init.add_listener
def _on_init(environment, runner=None, web_ui=None, **_kwargs) -> None:
    options = _options(environment)
    if options is None:  # an Environment built by a library user: nothing to check or wire
        return
    if not isinstance(runner, WorkerRunner):
        _choose_shape(environment)  # before the --host check: a typo in the plan needs no network to report
    if options.brain == "realtime" or options.judge:
        try:
            _openai_settings(options)
        except MissingKey as exc:
            sys.stderr.write(f"locust: {exc}\n")
            sys.exit(2)
    log.info("caller brain: %s%s", options.brain, f" ({options.model}, voice {options.voice})"
             if options.brain == "realtime" else " (offline)")
    if not isinstance(runner, WorkerRunner) and (options.headless or options.autostart):
        problem = hostcheck.bridge_problem(environment.host) or _tls_problem(options)
        if problem:
            sys.stderr.write(f"locust: {problem}\n")
            sys.exit(2)
    elif isinstance(runner, WorkerRunner) and getattr(options, "processes", None):
        # A --processes child: its master checks (and reports) the same --host; leave quietly if it is bad.
        if environment.host and hostcheck.bridge_problem(environment.host):
            sys.exit(2)
    if isinstance(runner, WorkerRunner):
        environment.events.report_to_master.add_listener(_on_report_to_master)
        runner.register_message(FLUSH_MESSAGE, _on_flush_request, concurrent=True)
        runner.register_message(STEP_REPORT_MESSAGE, _on_step_report_request, concurrent=True)
    if isinstance(runner, MasterRunner):
        environment.events.worker_report.add_listener(_on_worker_report)
    if web_ui is not None:
        webui.install(environment, lambda: _counters(environment))
        webform.install(environment, OPTIONS, lambda candidate, form: _form_problem(environment, candidate, form))


def _openai_settings(options):
    """Realtime / judge settings from the options and OPENAI_API_KEY; MissingKey when the key is not set."""
    return settings_from_env(options.model, options.voice, options.openai_base_url,
                             options.max_realtime_sessions or None,
                             needed_by="--brain realtime" if options.brain == "realtime" else "--judge")


def _form_problem(environment, options, form) -> Optional[str]:
    """What stops a run the web UI's form asks for (the rules a command line meets at init), or None."""
    host = form.get("host")
    problem = hostcheck.scheme_problem(host) if host is not None else None
    problem = problem or _tls_problem(options)
    if problem:
        return problem
    if options.brain == "realtime" or options.judge:
        try:
            _openai_settings(options)
        except MissingKey as exc:
            return str(exc)
    picked = form.get("shape_class")
    if picked == CapacityShape.__name__ or (picked is None and isinstance(environment.shape_class, CapacityShape)):
        try:
            _capacity_plan(options)
        except ValueError as exc:
            return str(exc)
    return None


def _tls_problem(options) -> Optional[str]:
    """What is wrong with --ca-file / --insecure, or None (the same rules as caller_cli.py's)."""
    if options.ca_file and options.insecure:
        return "--ca-file and --insecure contradict each other: trust a CA, or skip verification, not both"
    if options.ca_file:
        try:
            tls.check_ca_file(options.ca_file)
        except ValueError as exc:
            return f"--ca-file: {exc}"
    return None


def _choose_shape(environment) -> None:
    """Keep the capacity shape only when --shape capacity asks for it (a bad step plan stops here, like a bad
    --host); otherwise the run is a plain one with -u / -r, and --class-picker can still choose the shape."""
    options = _options(environment)
    if options.shape != CAPACITY_SHAPE:
        environment.shape_class = None
        return
    try:
        plan = _capacity_plan(options)
    except ValueError as exc:
        sys.stderr.write(f"locust: {exc}\n")
        sys.exit(2)
    log.info("capacity search: %s", plan.describe())


@events.test_start.add_listener
def _on_test_start(environment, **_kwargs) -> None:
    options = _options(environment)
    if not isinstance(environment.runner, WorkerRunner):
        AGGREGATOR.reset()
        STATE.update(finished=False, started=True)
        if not (options.headless or options.autostart):
            problem = hostcheck.bridge_problem(environment.host)
            if problem:
                log.error("%s; every call will fail until it is fixed", problem)
    if not _runs_users(environment):
        return
    SOURCE.reset()
    RUN.environment = environment
    if options.test_config == ALL_SCENARIOS:
        RUN.entries = list(CATALOG.entries)
    else:
        RUN.entries = CATALOG.configuration(options.test_config).entries
    token = options.bridge_token or os.environ.get(TOKEN_ENV) or None
    RUN.seed = options.caller_seed
    RUN.seed_base = max(0, getattr(environment.runner, "worker_index", 0)) * SEED_STRIDE
    if options.insecure:
        log.warning(tls.INSECURE_WARNING)
    openai = _openai_settings(options) if options.brain == "realtime" or options.judge else None
    if openai is not None:
        openai_client(openai)  # built before calls start: building it mid-call would stall their audio
    RUN.settings = CallSettings(bridge_url=environment.host or "", token=token, ear=options.ear,
                                seed=options.caller_seed, ca_file=options.ca_file or None,
                                insecure=options.insecure, resume_on_drop=options.resume_on_drop,
                                realtime=openai if options.brain == "realtime" else None,
                                judge=CallJudge(openai, options.judge_model) if options.judge else None)
    RUN.connect_name = urlsplit(environment.host or "").path or "/"
    path = Path(options.results_dir) / f"calls-{socket.gethostname()}-{os.getpid()}.jsonl"
    if RUN.writer is None or RUN.writer.path != path:
        RUN.writer = ResultWriter(path)
    prepare_for_realtime()


@events.test_stop.add_listener
def _on_test_stop(environment, **_kwargs) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        # Users are stopped (their cut-off calls written as `cancelled`): tell the master everything now.
        SOURCE.final = True
        _send_report(runner)
        return
    _finish(environment)


@events.quitting.add_listener
def _on_quitting(environment, **_kwargs) -> None:
    # SIGTERM / Ctrl-C reach `quitting` before the runner is stopped: judge the run now, with final reports.
    if not isinstance(environment.runner, WorkerRunner) and environment.parsed_options is not None:
        _finish(environment)


def _on_report_to_master(client_id, data, **_kwargs) -> None:
    data[REPORT_KEY] = SOURCE.snapshot()


def _send_report(runner: WorkerRunner) -> None:
    """Send the goal snapshot now, together with Locust's pending request stats (the last TURNs)."""
    if hasattr(runner, "_send_stats"):
        runner._send_stats()  # fires report_to_master: one message with the stats and the goal snapshot
    else:  # a future Locust without it: the goal snapshot alone, as a custom message
        runner.send_message("stats", {REPORT_KEY: SOURCE.snapshot()})


def _on_flush_request(environment, msg, **_kwargs) -> None:
    """The master is ending the run: stop this worker's users, then send the final snapshot."""
    runner = environment.runner
    if runner.state in (STATE_RUNNING, STATE_SPAWNING):
        runner.stop()  # fires test_stop, which sends the final snapshot
    elif runner.state in (STATE_CLEANUP, STATE_STOPPING):
        return  # a stop is under way; its test_stop sends the final snapshot
    else:
        SOURCE.final = True
        _send_report(runner)


def _on_step_report_request(environment, msg, **_kwargs) -> None:
    """The master is ending a capacity step: report now, so the step is judged on its calls up to this moment."""
    _send_report(environment.runner)


def _on_worker_report(client_id, data, **_kwargs) -> None:
    snapshot = data.get(REPORT_KEY)
    if snapshot:
        AGGREGATOR.receive(client_id, snapshot)


def _await_final_reports(environment) -> list[str]:
    """On the master: make every worker stop its users and report; wait (bounded). Returns who never did."""
    runner = environment.runner
    workers = [client.id for client in runner.clients.all if client.state != STATE_MISSING]
    pending = AGGREGATOR.pending(workers)
    for worker_id in pending:
        runner.send_message(FLUSH_MESSAGE, None, client_id=worker_id)
    deadline = time.monotonic() + (environment.stop_timeout or 0) + FINAL_REPORT_WAIT_S
    while pending and time.monotonic() < deadline:
        gevent.sleep(0.1)
        pending = AGGREGATOR.pending(pending)
    return pending


def _report_seq(worker_id: str) -> int:
    snapshot = AGGREGATOR.latest.get(worker_id)
    return snapshot.seq if snapshot is not None else -1


def _request_step_reports(runner: MasterRunner) -> None:
    """Ask every worker for its report now and wait (briefly) until each has sent one more than it had."""
    workers = [client.id for client in runner.clients.all if client.state != STATE_MISSING]
    asked = {worker_id: _report_seq(worker_id) for worker_id in workers}
    for worker_id in workers:
        runner.send_message(STEP_REPORT_MESSAGE, None, client_id=worker_id)
    deadline = time.monotonic() + STEP_REPORT_WAIT_S
    pending = workers
    while pending and time.monotonic() < deadline:
        gevent.sleep(0.05)
        pending = [worker_id for worker_id in pending if _report_seq(worker_id) <= asked[worker_id]]
    if pending:
        log.warning("capacity step judged without a fresh report from %s", ", ".join(pending))


def _step_sample(environment) -> capacity.StatsSample:
    """The run's cumulative CALL and TURN stats now; on a master, including every worker's latest calls."""
    if isinstance(environment.runner, MasterRunner):
        _request_step_reports(environment.runner)
    calls = failures = 0
    turn_times: Counter = Counter()
    for (_name, method), entry in list(environment.stats.entries.items()):
        if method == "CALL":
            calls += entry.num_requests
            failures += entry.num_failures
        elif method == "TURN":
            turn_times.update(entry.response_times)
    return capacity.StatsSample(calls, failures, dict(turn_times))


def turn_p95_ms(environment) -> Optional[float]:
    """p95 of TURN response times over every scenario, from Locust's own stats."""
    combined = StatsEntry(environment.stats, "TURN", "TURN")
    for (_name, method), entry in list(environment.stats.entries.items()):
        if method == "TURN":
            combined.extend(entry)
    return float(combined.get_response_time_percentile(0.95)) if combined.num_requests else None


def _finish(environment) -> None:
    """Once per run, on the master (or a lone process): collect, print, write goals.json, set the exit code."""
    if STATE["finished"] or not STATE["started"]:
        return
    STATE["finished"] = True
    missing: list[str] = []
    if isinstance(environment.runner, MasterRunner):
        missing = _await_final_reports(environment)
        if missing:
            log.warning("no final goal report from %d worker(s) (%s): the goal totals may miss their last calls",
                        len(missing), ", ".join(missing))
    options = _options(environment)
    counters = _counters(environment)
    p95 = turn_p95_ms(environment)
    search = _capacity_search(environment)
    print("\n" + goals.summary_text(counters, p95), flush=True)
    run = {"bridge": hostcheck.public_url(environment.host or ""), "test_config": options.test_config}
    if search is None:
        label = "CI gate"
        judged = options.success_threshold > 0 or options.max_p95_turn_ms > 0
        reasons = goals.gate_reasons(counters.total, options.success_threshold, p95, options.max_p95_turn_ms)
        gate = {"success_threshold": options.success_threshold, "max_p95_turn_ms": options.max_p95_turn_ms,
                "p95_turn_ms": p95, "passed": not reasons, "reasons": reasons}
    else:
        # The thresholds were each step's targets; the whole run (its last step missed one, by design) is not
        # judged against them again. The search fails only when not even its first step met both.
        label = "capacity search"
        judged = True
        reasons = [] if search.capacity is not None else [search.verdict()]
        print("\n" + search.table_text(), flush=True)
        _write_json(Path(options.results_dir) / "capacity.json", {**run, **search.report()})
        gate = {"capacity_users": search.capacity, "targets": search.report()["targets"], "p95_turn_ms": p95,
                "passed": not reasons, "reasons": reasons}
    _write_json(Path(options.results_dir) / "goals.json", {
        **run, "results_dir": options.results_dir, **counters.to_dict(), "gate": gate,
        "workers": {worker_id: {"final": snapshot.final, "seq": snapshot.seq}
                    for worker_id, snapshot in AGGREGATOR.latest.items()},
        "workers_without_final_report": missing})
    if judged:
        if reasons:
            for reason in reasons:
                print(f"{label} FAILED: {reason}", file=sys.stderr, flush=True)
            environment.process_exit_code = 1
        else:
            print(f"{label} passed", flush=True)
            if not environment.runner.exceptions:
                environment.process_exit_code = 0  # failed calls within the targets do not fail the run


def _write_json(path: Path, data: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        log.error("cannot write %s: %s", path, exc)

"""Locust face of Caller Agent: every Locust user is one simulated caller; every task iteration is one call.

    locust -f locustfile.py --headless -u 20 -r 5 -t 60s --processes 2 \
        --host ws://127.0.0.1:8765/ws/telephony --csv results/accept --success-threshold 0.8

Wiring only: calls are run by callers.CallerAgent; the run's state (loadtest/run.py), who reports and judges
(loadtest/roles.py), the request events (loadtest/requests.py), the checks (loadtest/checks.py) and the verdict
(loadtest/verdict.py) live in loadtest/.

* One User class per personality (personalities/*.toml), e.g. NormalCaller, AngryCaller; pick some by name
  on the command line or with --class-picker. Each call places a scenario of the mix (`--test-config NAME`,
  default every entry of scenarios.json's "scenarios") with the user's own personality.
* Request events (docs/metrics.md): CONNECT, GREETING, TURN, BARGE_IN, RESUME, CALL, CALLER_ERROR.
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

import logging
import sys
import time
from typing import Optional

from locust import LoadTestShape, User, between, events, task

from callers.call import events as call_events
from callers.call.agent import EAR_MODES
from callers.errors import ConfigError
from callers.runtime.warmup import prepare_for_realtime
from callers.scenario.personality import load_personalities
from callers.scenario.scenarios import load_scenarios
from callers.services.judge import DEFAULT_JUDGE_MODEL
from callers.services.realtime_session import DEFAULT_MODEL, DEFAULT_VOICE
from loadtest import capacity, checks, hostcheck, orphans, roles, spawn_messages, stepping, users, verdict, webform
from loadtest import options as options_spec
from loadtest import webui
from loadtest.requests import RequestEvents
from loadtest.run import ALL_SCENARIOS, TOKEN_ENV, LoadRun

log = logging.getLogger("caller_agent.locust")
orphans.follow_parent_after_fork()  # --processes children: Locust forks them after importing this file
spawn_messages.keep_default_args()  # a worker's spawn message would otherwise stall its calls ~0.1 s
# websockets logs every handshake header at debug level, the OpenAI key of Realtime callers included.
logging.getLogger("websockets").setLevel(logging.INFO)

try:
    PERSONALITIES = load_personalities()
    CATALOG = load_scenarios()
except ConfigError as _error:
    sys.stderr.write(f"locustfile: {_error}\n")
    sys.exit(2)

# Every custom option, defined once (loadtest/options.py): the command line, LOCUST_* variables and the web
# UI's start form parse a value the same way.
OPTIONS = options_spec.caller_options(
    CATALOG.test_configurations, EAR_MODES, all_scenarios=ALL_SCENARIOS,
    shapes=(stepping.NO_SHAPE, stepping.CAPACITY_SHAPE), success_default=capacity.DEFAULT_SUCCESS_TARGET,
    p95_default_ms=capacity.DEFAULT_P95_TURN_TARGET_MS, token_env=TOKEN_ENV, realtime_model=DEFAULT_MODEL,
    realtime_voice=DEFAULT_VOICE, judge_model=DEFAULT_JUDGE_MODEL)
RUN = LoadRun(CATALOG)  # the one run object; its role (loadtest/roles.py) is chosen at init


class CallerUser(User):
    """One simulated caller, placing one call per task iteration."""

    abstract = True
    personality = "normal"
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.rng = RUN.user_rng(self)

    @task
    def place_call(self) -> None:
        RUN.place_call(self)


try:
    globals().update(users.caller_classes(PERSONALITIES, CallerUser, __name__))
except ValueError as _error:
    sys.stderr.write(f"locustfile: {_error}\n")
    sys.exit(2)


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
                self.search = capacity.CapacitySearch(stepping.capacity_plan(options))
            except ValueError as exc:  # values typed into the web UI; the command line is checked at init
                log.error("capacity search not started: %s", exc)
                return None
        if options.run_time and self.get_run_time() >= options.run_time:
            return None  # the search ends unfinished: capacity.json says "run_ended"
        judged = len(self.search.steps)
        count = self.search.tick(time.monotonic(), _step_sample)
        for step in self.search.steps[judged:]:
            stepping.log_step(step)
        if count is None:
            return None
        return count, float(options.spawn_rate or stepping.DEFAULT_CAPACITY_SPAWN_RATE)


def _step_sample() -> capacity.StatsSample:
    RUN.role.refresh_step_stats()  # a master first gets every worker's latest calls
    return stepping.step_sample(RUN.environment)


# ---- listener registration -------------------------------------------------------------------------------

@events.init_command_line_parser.add_listener
def _arguments(parser, **_kwargs) -> None:
    options_spec.add_to_parser(parser, OPTIONS)


_REQUESTS = RequestEvents(RUN)
call_events.call_connected.add_listener(_REQUESTS.connected)
call_events.greeting_heard.add_listener(_REQUESTS.greeting)
call_events.turn_completed.add_listener(_REQUESTS.turn)
call_events.call_resumed.add_listener(_REQUESTS.resumed)
call_events.call_finished.add_listener(_REQUESTS.finished)


def _stop(problem: Optional[str], quiet: bool = False) -> None:
    if problem:
        if not quiet:
            sys.stderr.write(f"locust: {problem}\n")
        sys.exit(2)


@events.init.add_listener
def _on_init(environment, runner=None, web_ui=None, **_kwargs) -> None:
    options = environment.parsed_options
    if options is None:  # an Environment built by a library user: nothing to check or wire
        return
    role = RUN.attach(environment, roles.role_for(runner, RUN))
    if role.judges:  # before the --host check: a typo in the plan needs no network to report
        if checks.wants_capacity(options):
            _stop(checks.plan_problem(options))
            log.info("capacity search: %s", stepping.capacity_plan(options).describe())
        else:
            environment.shape_class = None  # a plain run with -u / -r; --class-picker can still choose the shape
    _stop(checks.key_problem(options))
    log.info("caller brain: %s%s", options.brain, f" ({options.model}, voice {options.voice})"
             if options.brain == "realtime" else " (offline)")
    if role.judges and (options.headless or options.autostart):
        _stop(hostcheck.bridge_problem(environment.host) or checks.tls_problem(options))
    elif not role.judges and getattr(options, "processes", None):
        # A --processes child: its master checks (and reports) the same --host; leave quietly if it is bad.
        _stop(hostcheck.bridge_problem(environment.host) if environment.host else None, quiet=True)
    role.install(environment)
    if web_ui is not None:
        webui.install(environment, role.counters)
        webform.install(environment, OPTIONS, lambda candidate, form: checks.form_problem(
            candidate, form, _capacity_picked(environment, form.get("shape_class"))))


def _capacity_picked(environment, picked: Optional[str]) -> bool:
    return picked == CapacityShape.__name__ or (picked is None and isinstance(environment.shape_class,
                                                                              CapacityShape))


@events.test_start.add_listener
def _on_test_start(environment, **_kwargs) -> None:
    options = environment.parsed_options
    role = RUN.role
    if role.judges:
        RUN.start()
        if not (options.headless or options.autostart):
            problem = hostcheck.bridge_problem(environment.host)
            if problem:
                log.error("%s; every call will fail until it is fixed", problem)
    if role.runs_users:
        RUN.prepare(environment, role.worker_index)
        prepare_for_realtime(RUN.settings.voice_engine)


@events.test_stop.add_listener
def _on_test_stop(environment, **_kwargs) -> None:
    if RUN.role.judges:
        _finish(environment)
    else:
        RUN.role.test_stopped()


@events.quitting.add_listener
def _on_quitting(environment, **_kwargs) -> None:
    # SIGTERM / Ctrl-C reach `quitting` before the runner is stopped: judge the run now, with final reports.
    if RUN.role is not None and RUN.role.judges and environment.parsed_options is not None:
        _finish(environment)


def _finish(environment) -> None:
    """Once per run, on the process that judges it: collect every count, then the verdict."""
    if not RUN.claim_finish():
        return
    missing = RUN.role.collect_final_reports(environment)
    shape = environment.shape_class
    search = shape.search if isinstance(shape, CapacityShape) else None
    verdict.judge(environment, RUN.role.counters(), dict(RUN.aggregator.latest), missing, search)

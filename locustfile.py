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
* Per-call results: a lone process writes <results-dir>/calls-<hostname>-<pid>.jsonl; a worker sends each
  finished call to its master, which keeps every worker's calls in its own <results-dir>/calls.jsonl, once
  per call (loadtest/outbox.py, loadtest/collect.py).
* Goal metrics: workers send cumulative snapshots with Locust's worker report and a final one when their
  users have stopped; the master counts the goals from the calls it holds, waits for every final snapshot
  (and the calls it counts) before it prints the goal summary, writes <results-dir>/goals.json and sets the
  exit code (--success-threshold, --max-p95-turn-ms).
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
import weakref
from typing import Optional

import gevent
from locust import User, between, events, task

from callers.call import events as call_events
from callers.errors import ConfigError
from callers.media import native_threads
from callers.runtime.warmup import prepare_for_realtime
from callers.scenario.personality import load_personalities
from callers.scenario.scenarios import load_scenarios
from loadtest import checks, orphans, roles, spawn_messages, stepping, stop_lookup, users, verdict, webform
from loadtest import options as options_spec
from loadtest import webstate, webui
from loadtest.requests import RequestEvents
from loadtest.run import LoadRun

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
OPTIONS = options_spec.locustfile_options(CATALOG.test_configurations)
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


class CapacityShape(stepping.SteppingShape):
    """The capacity search (loadtest/stepping.py drives it, loadtest/capacity.py decides)."""

    def refresh_stats(self) -> None:
        RUN.role.refresh_step_stats()  # a master first gets every worker's latest calls


# ---- listener registration -------------------------------------------------------------------------------

@events.init_command_line_parser.add_listener
def _arguments(parser, **_kwargs) -> None:
    options_spec.add_to_parser(parser, OPTIONS)


call_events.call_finished.add_listener(RUN.keep_result)  # first: durable before it is counted, as a writer is
_REQUESTS = RequestEvents(RUN)
call_events.call_connected.add_listener(_REQUESTS.connected)
call_events.greeting_heard.add_listener(_REQUESTS.greeting)
call_events.turn_completed.add_listener(_REQUESTS.turn)
call_events.call_resumed.add_listener(_REQUESTS.resumed)
call_events.call_finished.add_listener(_REQUESTS.finished)


@events.init.add_listener
def _on_init(environment, runner=None, web_ui=None, **_kwargs) -> None:
    options = environment.parsed_options
    if options is None:  # an Environment built by a library user: nothing to check or wire
        return
    role = RUN.attach(environment, roles.role_for(runner, RUN))
    stop = checks.init_problem(environment, role.judges)
    if stop is not None:
        if not stop.quiet:
            sys.stderr.write(f"locust: {stop.reason}\n")
        sys.exit(2)
    if role.judges and not checks.wants_capacity(options):
        environment.shape_class = None  # a plain run with -u / -r; --class-picker can still choose the shape
    role.install(environment)
    if web_ui is not None:
        webui.install(environment, role.counters)
        webstate.install(environment)  # the page's status leaves CLEANUP / STOPPING once the run has stopped
        webform.install(environment, OPTIONS, lambda candidate, form: checks.form_problem(
            candidate, form, _capacity_picked(environment, form.get("shape_class"))))


def _capacity_picked(environment, picked: Optional[str]) -> bool:
    return picked == CapacityShape.__name__ or (picked is None and isinstance(environment.shape_class,
                                                                              CapacityShape))


@events.test_start.add_listener
def _on_test_start(environment, **_kwargs) -> None:
    role = RUN.await_role()  # a worker may take the master's first spawn message before its init has run
    if role.judges:
        RUN.start()
        checks.warn_if_unreachable(environment)
    if role.runs_users:
        RUN.prepare(environment, role.worker_index)
        prepare_for_realtime(RUN.settings.voice_engine)
        stop_lookup.map_module_files()  # Locust's stop() would do it at the run's end, with calls on the line


@events.test_stop.add_listener
def _on_test_stop(environment, **_kwargs) -> None:
    if RUN.role.judges:
        _finish(environment)
    else:
        RUN.role.test_stopped()


@events.quit.add_listener
def _on_quit(**_kwargs) -> None:
    # Our native threads (speech rendering, recognition) are stopped now, while Locust's CSV files are still
    # open: stopping them at interpreter exit yields to the loop, where Locust's CSV writer greenlet (never
    # killed by its shutdown) would wake and write to the files its shutdown has just closed.
    native_threads.drain_at_exit(weakref.ref(gevent.get_hub()))


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

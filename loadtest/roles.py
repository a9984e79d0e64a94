"""Who does what with the calls and the goal reports, chosen once at init from Locust's runner (as Locust
picks its own runner class): a worker sends each finished call and its goal reports to the master; a master
keeps every worker's calls in one calls.jsonl (loadtest/collect.py), waits for the final reports and judges
the run; a lone local process writes and judges its own calls.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path
from typing import Any, Optional

import gevent
from locust.exception import RPCError
from locust.runners import (STATE_CLEANUP, STATE_MISSING, STATE_RUNNING, STATE_SPAWNING, STATE_STOPPING,
                            MasterRunner, WorkerRunner)

from callers.results import CALLS_FILE, CallResult, ResultWriter
from loadtest import goals, outbox
from loadtest.collect import CallCollector
from loadtest.run import LoadRun

log = logging.getLogger("caller_agent.locust")
REPORT_KEY = "caller_goals"
FLUSH_MESSAGE = "caller_goals_flush"
STEP_REPORT_MESSAGE = "caller_stats_now"
# How long the master waits, beyond --stop-timeout, for each worker's final goal snapshot.
FINAL_REPORT_WAIT_S = 10.0
# How long the master waits for the workers' reports at the end of a capacity step (they come within
# milliseconds on a LAN; a worker that is slower is judged with its previous report, at most 3 s old).
STEP_REPORT_WAIT_S = 2.0
# How long a leaving worker waits for its master to acknowledge the last calls before it keeps them itself.
QUIT_ACK_WAIT_S = 2.0


class LocalRole:
    """A lone process: runs the users, counts their calls and judges the run itself."""

    runs_users = True
    judges = True

    def __init__(self, run: LoadRun, runner: Any) -> None:
        self.run = run
        self.runner = runner
        self.writer: Optional[ResultWriter] = None

    def install(self, environment: Any) -> None:
        """Register this role's messages and report listeners."""

    def open_results(self, results_dir: Path) -> None:
        """A run starts: this process's calls go to calls-<host>-<pid>.jsonl in `results_dir`, as they always
        have on one machine."""
        path = local_calls_file(results_dir)
        if self.writer is None or self.writer.path != path:
            self.writer = ResultWriter(path)

    def keep_result(self, result: CallResult, scenario: str) -> None:
        """A call of this run has finished (`scenario`: the name its goals count under): make it durable."""
        self.writer.write(result)

    def counters(self) -> goals.GoalCounters:
        """The run's goal counters as this process knows them."""
        return self.run.source.counters

    @property
    def worker_index(self) -> int:
        return 0

    def test_stopped(self) -> None:
        """This process's users have stopped."""

    def collect_final_reports(self, environment: Any) -> list[str]:
        """Before judging: make sure every count is in; returns the workers that never sent theirs."""
        return []

    def refresh_step_stats(self) -> None:
        """Before a capacity step is judged: this process's stats are already current."""


class WorkerRole(LocalRole):
    """A worker: sends each finished call to the master and keeps it until acknowledged (loadtest/outbox.py),
    sends goal snapshots with Locust's reports, answers the master's flush and step requests."""

    judges = False

    def __init__(self, run: LoadRun, runner: Any) -> None:
        super().__init__(run, runner)
        self.outbox = outbox.Outbox(self._send_calls)
        self.local_dir = Path(".")

    def install(self, environment: Any) -> None:
        environment.events.report_to_master.add_listener(self._on_report_to_master)
        environment.events.quitting.add_listener(self._on_quitting)
        self.runner.register_message(FLUSH_MESSAGE, self._on_flush_request, concurrent=True)
        self.runner.register_message(STEP_REPORT_MESSAGE, self._on_step_report_request, concurrent=True)
        self.runner.register_message(outbox.ACK_MESSAGE, self._on_ack)
        # This worker's own --results-dir, read now: a spawn message overwrites the options with the master's.
        self.local_dir = Path(environment.parsed_options.results_dir)
        self.runner.greenlet.spawn(self._resend_calls)  # ends with the runner's greenlets

    def open_results(self, results_dir: Path) -> None:
        """The calls go to the master; nothing to open here."""

    def keep_result(self, result: CallResult, scenario: str) -> None:
        self.outbox.add(result, scenario)

    def _send_calls(self, data: dict) -> bool:
        try:
            self.runner.send_message(outbox.CALLS_MESSAGE, data)
        except RPCError as exc:
            log.debug("calls not sent to the master (%s); they are sent again later", exc)
            return False
        return True

    def _on_ack(self, environment: Any, msg: Any, **_kwargs: Any) -> None:
        self.outbox.acknowledge(msg.data)

    def _resend_calls(self) -> None:
        while True:
            gevent.sleep(outbox.RESEND_INTERVAL_S)
            self.outbox.resend()

    def _on_quitting(self, environment: Any, **_kwargs: Any) -> None:
        """This worker is leaving: its calls the master has not acknowledged (after a short wait) stay on its
        own disk."""
        if self.runner.state in (STATE_RUNNING, STATE_SPAWNING):
            self.runner.stop()  # stopped without its master (SIGTERM): the cut-off calls are results too
        deadline = time.monotonic() + QUIT_ACK_WAIT_S
        while len(self.outbox) and time.monotonic() < deadline:
            gevent.sleep(0.05)
        if not len(self.outbox):
            return
        path = local_calls_file(self.local_dir)
        count = len(self.outbox)
        try:
            self.outbox.write_local(path)
        except OSError as exc:
            log.error("%d finished calls the master never acknowledged are lost: cannot write %s (%s)",
                      count, path, exc)
            return
        log.warning("%d finished calls the master never acknowledged are in %s", count, path)

    @property
    def worker_index(self) -> int:
        return getattr(self.runner, "worker_index", 0)

    def test_stopped(self) -> None:
        # Users are stopped (their cut-off calls sent as `cancelled`): tell the master everything now, the calls
        # still unacknowledged first, so the final snapshot reaches it after every call it counts.
        self.outbox.resend()
        self.run.source.final = True
        self._send_report()

    def _on_report_to_master(self, client_id: str, data: dict, **_kwargs: Any) -> None:
        data[REPORT_KEY] = self.run.source.snapshot()

    def _send_report(self) -> None:
        """Send the goal snapshot now, together with Locust's pending request stats (the last TURNs)."""
        send_stats_now(self.runner, {REPORT_KEY: self.run.source.snapshot()})

    def _on_flush_request(self, environment: Any, msg: Any, **_kwargs: Any) -> None:
        """The master is ending the run: stop this worker's users, then send the final snapshot."""
        state = self.runner.state
        if state in (STATE_RUNNING, STATE_SPAWNING):
            self.runner.stop()  # fires test_stop, which sends the final snapshot
        elif state in (STATE_CLEANUP, STATE_STOPPING):
            return  # a stop is under way; its test_stop sends the final snapshot
        else:
            self.test_stopped()

    def _on_step_report_request(self, environment: Any, msg: Any, **_kwargs: Any) -> None:
        """The master is ending a capacity step: report now, so the step is judged on its calls until now."""
        self._send_report()


class MasterRole(LocalRole):
    """The master: runs no users; keeps the workers' calls in one calls.jsonl and counts the goals from them,
    awaits the workers' final snapshots (and every call they counted), judges the run."""

    runs_users = False

    def __init__(self, run: LoadRun, runner: Any) -> None:
        super().__init__(run, runner)
        self.collector: Optional[CallCollector] = None

    def install(self, environment: Any) -> None:
        environment.events.worker_report.add_listener(self._on_worker_report)
        environment.events.test_start.add_listener(self._on_test_start)
        self.collector = CallCollector(Path(environment.parsed_options.results_dir) / CALLS_FILE)
        # Not concurrent: calls are written in the order they come, before the report that follows them.
        self.runner.register_message(outbox.CALLS_MESSAGE, self._on_calls)

    def _on_test_start(self, environment: Any, **_kwargs: Any) -> None:
        self.collector.start(Path(environment.parsed_options.results_dir) / CALLS_FILE)

    def _on_calls(self, environment: Any, msg: Any, **_kwargs: Any) -> None:
        acknowledged = self.collector.receive(msg.node_id, msg.data)
        if acknowledged:
            self.runner.send_message(outbox.ACK_MESSAGE, {"ids": acknowledged}, client_id=msg.node_id)

    def counters(self) -> goals.GoalCounters:
        """Counted from exactly the calls in the master's calls.jsonl."""
        return self.collector.counters

    def _on_worker_report(self, client_id: str, data: dict, **_kwargs: Any) -> None:
        snapshot = data.get(REPORT_KEY)
        if snapshot:
            self.run.aggregator.receive(client_id, snapshot)

    def _workers(self) -> list[str]:
        return [client.id for client in self.runner.clients.all if client.state != STATE_MISSING]

    def _complete(self, worker_id: str) -> bool:
        """The worker's final snapshot is in, and so is every call it counted."""
        snapshot = self.run.aggregator.latest.get(worker_id)
        if snapshot is None or not snapshot.final:
            return False
        return self.collector.received[worker_id] >= goals.GoalCounters.from_dict(snapshot.counters).total.calls

    def collect_final_reports(self, environment: Any) -> list[str]:
        """Make every worker stop its users and report; wait (bounded). Returns who never did."""
        for worker_id in self.run.aggregator.pending(self._workers()):
            self.runner.send_message(FLUSH_MESSAGE, None, client_id=worker_id)
        pending = [worker_id for worker_id in self._workers() if not self._complete(worker_id)]
        deadline = time.monotonic() + (environment.stop_timeout or 0) + FINAL_REPORT_WAIT_S
        while pending and time.monotonic() < deadline:
            gevent.sleep(0.1)
            pending = [worker_id for worker_id in pending if not self._complete(worker_id)]
        if pending:
            log.warning("no final goal report, or not every call it counted, from %d worker(s) (%s): the run "
                        "misses their last calls", len(pending), ", ".join(pending))
        unheld = self.run.aggregator.merged().total.calls - self.collector.counters.total.calls
        if unheld > 0:
            log.warning("the workers counted %d calls that are not on the master (a worker that quits keeps them "
                        "in its own calls-<host>-<pid>.jsonl)", unheld)
        return pending

    def _report_seq(self, worker_id: str) -> int:
        snapshot = self.run.aggregator.latest.get(worker_id)
        return snapshot.seq if snapshot is not None else -1

    def refresh_step_stats(self) -> None:
        """Ask every worker for its report now and wait (briefly) until each has sent one more than it had."""
        workers = self._workers()
        asked = {worker_id: self._report_seq(worker_id) for worker_id in workers}
        for worker_id in workers:
            self.runner.send_message(STEP_REPORT_MESSAGE, None, client_id=worker_id)
        deadline = time.monotonic() + STEP_REPORT_WAIT_S
        pending = workers
        while pending and time.monotonic() < deadline:
            gevent.sleep(0.05)
            pending = [worker_id for worker_id in pending if self._report_seq(worker_id) <= asked[worker_id]]
        if pending:
            log.warning("capacity step judged without a fresh report from %s", ", ".join(pending))


def role_for(runner: Any, run: LoadRun) -> LocalRole:
    """The role of this process in the run, from the runner Locust made."""
    if isinstance(runner, MasterRunner):
        return MasterRole(run, runner)
    if isinstance(runner, WorkerRunner):
        return WorkerRole(run, runner)
    return LocalRole(run, runner)


def local_calls_file(results_dir: Path) -> Path:
    """Where a process keeps calls on its own disk: named by host and process, so processes sharing a
    directory never share a file."""
    return results_dir / f"calls-{socket.gethostname()}-{os.getpid()}.jsonl"


def send_stats_now(runner: WorkerRunner, fallback: dict) -> None:
    """Push the worker's report (request stats plus what report_to_master listeners add) to the master now.

    Locust 2.47 has no public call for this: WorkerRunner._send_stats is what its own stats_reporter greenlet
    and its stop() use, and it fires report_to_master, so the goal snapshot travels with the last request
    stats in one message. Kept behind this one function; a Locust without it gets the snapshot alone."""
    send = getattr(runner, "_send_stats", None)
    if send is not None:
        send()
    else:
        runner.send_message("stats", fallback)

"""Who does what with the goal reports, chosen once at init from Locust's runner (as Locust picks its own
runner class): a worker counts its calls and reports them; a master merges the reports, waits for the final
ones and judges the run; a lone local process counts and judges its own calls.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import gevent
from locust.runners import (STATE_CLEANUP, STATE_MISSING, STATE_RUNNING, STATE_SPAWNING, STATE_STOPPING,
                            MasterRunner, WorkerRunner)

from loadtest import goals
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


class LocalRole:
    """A lone process: runs the users, counts their calls and judges the run itself."""

    runs_users = True
    judges = True

    def __init__(self, run: LoadRun, runner: Any) -> None:
        self.run = run
        self.runner = runner

    def install(self, environment: Any) -> None:
        """Register this role's messages and report listeners."""

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
    """A worker: sends goal snapshots with Locust's reports, answers the master's flush and step requests."""

    judges = False

    def install(self, environment: Any) -> None:
        environment.events.report_to_master.add_listener(self._on_report_to_master)
        self.runner.register_message(FLUSH_MESSAGE, self._on_flush_request, concurrent=True)
        self.runner.register_message(STEP_REPORT_MESSAGE, self._on_step_report_request, concurrent=True)

    @property
    def worker_index(self) -> int:
        return getattr(self.runner, "worker_index", 0)

    def test_stopped(self) -> None:
        # Users are stopped (their cut-off calls written as `cancelled`): tell the master everything now.
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
    """The master: runs no users; merges the workers' snapshots, awaits the final ones, judges the run."""

    runs_users = False

    def install(self, environment: Any) -> None:
        environment.events.worker_report.add_listener(self._on_worker_report)

    def counters(self) -> goals.GoalCounters:
        return self.run.aggregator.merged()

    def _on_worker_report(self, client_id: str, data: dict, **_kwargs: Any) -> None:
        snapshot = data.get(REPORT_KEY)
        if snapshot:
            self.run.aggregator.receive(client_id, snapshot)

    def _workers(self) -> list[str]:
        return [client.id for client in self.runner.clients.all if client.state != STATE_MISSING]

    def collect_final_reports(self, environment: Any) -> list[str]:
        """Make every worker stop its users and report; wait (bounded). Returns who never did."""
        aggregator = self.run.aggregator
        pending = aggregator.pending(self._workers())
        for worker_id in pending:
            self.runner.send_message(FLUSH_MESSAGE, None, client_id=worker_id)
        deadline = time.monotonic() + (environment.stop_timeout or 0) + FINAL_REPORT_WAIT_S
        while pending and time.monotonic() < deadline:
            gevent.sleep(0.1)
            pending = aggregator.pending(pending)
        if pending:
            log.warning("no final goal report from %d worker(s) (%s): the goal totals may miss their last calls",
                        len(pending), ", ".join(pending))
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

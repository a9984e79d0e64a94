"""The goal-report roles: chosen once from the runner; a worker reports, a master merges and awaits."""
from __future__ import annotations

from types import SimpleNamespace

from locust.runners import STATE_RUNNING, STATE_STOPPED, LocalRunner, MasterRunner, WorkerRunner

from loadtest import roles
from loadtest.run import LoadRun


def _run() -> LoadRun:
    return LoadRun(SimpleNamespace(entries=[]))


def _bare(runner_class: type) -> object:
    """An instance of a Locust runner class that starts nothing (only its class matters here)."""
    return type("Bare" + runner_class.__name__, (runner_class,), {"__init__": lambda self: None,
                                                                  "__del__": lambda self: None})()


def test_the_role_follows_the_runner_class():
    run = _run()
    assert type(roles.role_for(_bare(MasterRunner), run)) is roles.MasterRole
    assert type(roles.role_for(_bare(WorkerRunner), run)) is roles.WorkerRole
    assert type(roles.role_for(_bare(LocalRunner), run)) is roles.LocalRole
    local = roles.LocalRole(run, None)
    assert local.runs_users and local.judges
    assert not roles.MasterRole(run, None).runs_users and not roles.WorkerRole(run, None).judges


class FakeWorker:
    def __init__(self, state: str) -> None:
        self.state = state
        self.stopped = False
        self.sent: list[dict] = []
        self.listeners: list = []

    def stop(self) -> None:
        self.stopped = True

    def _send_stats(self) -> None:
        data: dict = {}
        for listener in self.listeners:
            listener(client_id="w1", data=data)
        self.sent.append(data)


def _worker(state: str) -> tuple[roles.WorkerRole, FakeWorker, LoadRun]:
    run = _run()
    runner = FakeWorker(state)
    role = roles.WorkerRole(run, runner)
    runner.listeners.append(role._on_report_to_master)
    return role, runner, run


def test_a_running_worker_asked_to_flush_stops_its_users_and_an_idle_one_reports_final_at_once():
    role, runner, _ = _worker(STATE_RUNNING)
    role._on_flush_request(None, None)
    assert runner.stopped and runner.sent == []  # test_stop will send the final snapshot
    role, runner, _ = _worker(STATE_STOPPED)
    role._on_flush_request(None, None)
    assert not runner.stopped and runner.sent[-1][roles.REPORT_KEY]["final"] is True


def test_the_master_merges_worker_snapshots_and_knows_who_has_sent_a_final_one():
    worker, runner, worker_run = _worker(STATE_RUNNING)
    worker_run.source.counters.record("normal", "card", True, None)
    worker.test_stopped()
    run = _run()
    master = roles.MasterRole(run, None)
    master._on_worker_report("w1", runner.sent[-1])
    assert master.counters().total.successes == 1
    assert run.aggregator.pending(["w1", "w2"]) == ["w2"]

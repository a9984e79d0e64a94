"""The goal-report roles: chosen once from the runner; a worker reports, a master merges and awaits."""
from __future__ import annotations

import logging
from types import SimpleNamespace

import gevent
import pytest

from locust.exception import RPCError
from locust.runners import STATE_RUNNING, STATE_STOPPED, LocalRunner, MasterRunner, WorkerRunner

from callers.results import CALLS_FILE, CallResult, read_results
from loadtest import outbox, roles
from callers.scenario.scenarios import load_scenarios
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

    def send_message(self, kind: str, data=None, client_id=None) -> None:
        raise RPCError("ZMQ network broken")  # the master is out of reach

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
    assert run.aggregator.merged().total.successes == 1
    assert run.aggregator.pending(["w1", "w2"]) == ["w2"]


class FakeMaster:
    def __init__(self) -> None:
        self.handlers: dict = {}
        self.sent: list[tuple] = []
        self.clients = SimpleNamespace(all=[SimpleNamespace(id="w1", state=STATE_RUNNING)])

    def register_message(self, kind: str, handler, concurrent: bool = False) -> None:
        self.handlers[kind] = handler

    def send_message(self, kind: str, data=None, client_id=None) -> None:
        self.sent.append((kind, data, client_id))


class FakeEvents:
    def __init__(self) -> None:
        self.worker_report = SimpleNamespace(add_listener=lambda listener: None)
        self.test_start = SimpleNamespace(add_listener=lambda listener: None)


def test_the_master_keeps_the_workers_calls_counts_its_goals_from_them_and_waits_for_every_counted_call(
        tmp_path, caplog, monkeypatch):
    """A worker's final snapshot counting a call the master does not hold yet keeps the master waiting."""
    worker, worker_runner, worker_run = _worker(STATE_RUNNING)
    master_runner, run = FakeMaster(), _run()
    master = roles.MasterRole(run, master_runner)
    environment = SimpleNamespace(events=FakeEvents(), parsed_options=SimpleNamespace(results_dir=str(tmp_path)),
                                  stop_timeout=0)
    master.install(environment)
    result = CallResult(call_id="c1", caller_name="c", personality="normal", scenario="card",
                        scenario_type="card_replacement", started_at="2026-12-07T09:00:00+00:00", bridge="ws://x",
                        success=True)
    worker_run.source.counters.record_result(result, scenario="card")
    worker.test_stopped()
    master._on_worker_report("w1", worker_runner.sent[-1])
    assert not master._complete("w1")  # the final snapshot counts a call that has not arrived
    monkeypatch.setattr(roles, "FINAL_REPORT_WAIT_S", 0.2)
    with caplog.at_level(logging.WARNING, logger="caller_agent.locust"):
        assert master.collect_final_reports(environment) == ["w1"]
    assert "the workers counted 1 calls that are not on the master" in caplog.text
    caplog.clear()

    calls = {"calls": [outbox.entry("c1", "card", result.to_json())]}
    master_runner.handlers[outbox.CALLS_MESSAGE](environment=environment,
                                                  msg=SimpleNamespace(node_id="w1", data=calls))
    assert master_runner.sent == [(outbox.ACK_MESSAGE, {"ids": ["c1"]}, "w1")]
    assert [r.call_id for r in read_results(tmp_path / CALLS_FILE)] == ["c1"]
    assert master.counters().total.successes == 1 and master._complete("w1")
    with caplog.at_level(logging.WARNING, logger="caller_agent.locust"):
        assert master.collect_final_reports(environment) == []
    assert not caplog.records


def test_a_worker_leaving_with_calls_the_master_never_acknowledged_writes_them_to_its_own_disk(
        tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(roles, "QUIT_ACK_WAIT_S", 0.2)
    role, runner, _ = _worker(STATE_RUNNING)
    role.local_dir = tmp_path
    result = CallResult(call_id="c1", caller_name="c", personality="normal", scenario="card",
                        scenario_type="card_replacement", started_at="2026-12-07T09:00:00+00:00", bridge="ws://x")
    role.keep_result(result, "card")
    with caplog.at_level(logging.WARNING, logger="caller_agent.locust"):
        role._on_quitting(None)
    assert runner.stopped  # stopped without its master: its users' cut-off calls are kept too
    path = roles.local_calls_file(tmp_path)
    assert [r.call_id for r in read_results(path)] == ["c1"]
    assert [record.getMessage() for record in caplog.records] == [
        f"1 finished calls the master never acknowledged are in {path}"]


def test_a_test_start_before_init_waits_for_the_role_init_gives() -> None:
    """A Locust worker can fire test_start while its runner still connects, before init: it waits for init."""
    run = LoadRun(load_scenarios())
    role = object()
    gevent.spawn_later(0.2, run.attach, None, role)
    assert run.await_role(timeout_s=5) is role


def test_a_role_that_never_comes_is_one_clear_error() -> None:
    run = LoadRun(load_scenarios())
    with pytest.raises(RuntimeError, match="no role within 0.2 s"):
        run.await_role(timeout_s=0.2)

"""A worker's outbox and the master's collector, wired to each other in memory: every finished call ends up
once in the master's calls.jsonl, is acknowledged, sent again after a lost link, and kept on the worker's
disk when the master never comes back. The Locust wiring is exercised by tests/loadtest/test_multihost.py."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

import pytest

from callers.results import CallResult, read_results
from loadtest import outbox
from loadtest.collect import CallCollector


def _result(call_id: str, success: bool = True, personality: str = "normal") -> CallResult:
    return CallResult(call_id=call_id, caller_name="c", personality=personality, scenario="balance",
                      scenario_type="account_inquiry", started_at="2026-12-07T09:00:00.000+00:00", bridge="ws://x/ws",
                      success=success, goals_achieved=int(success), goals_total=1, duration_s=3.0)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Link:
    """The wire between one worker and the master: messages go through while `up`, acknowledgements come
    back at once unless `acks_lost`."""

    def __init__(self, collector: CallCollector, worker_id: str = "w1") -> None:
        self.collector = collector
        self.worker_id = worker_id
        self.up = True
        self.acks_lost = False
        self.sent: list[dict] = []
        self.box: Optional[outbox.Outbox] = None

    def send(self, data: dict) -> bool:
        if not self.up:
            return False
        self.sent.append(data)
        acknowledged = self.collector.receive(self.worker_id, json.loads(json.dumps(data)))
        if acknowledged and not self.acks_lost:
            self.box.acknowledge({"ids": acknowledged})
        return True


def _wired(tmp_path: Path) -> tuple[outbox.Outbox, Link, Clock, CallCollector]:
    collector = CallCollector(tmp_path / "master" / "calls.jsonl")
    link, clock = Link(collector), Clock()
    link.box = outbox.Outbox(link.send, clock=clock)
    return link.box, link, clock, collector


def _on_master(collector: CallCollector) -> list[str]:
    return [result.call_id for result in read_results(collector.path)]


def test_each_call_is_written_acknowledged_and_counted_once(tmp_path):
    box, link, _clock, collector = _wired(tmp_path)
    box.add(_result("a"), "balance")
    box.add(_result("b", success=False), "balance")
    assert _on_master(collector) == ["a", "b"] and len(box) == 0
    assert collector.counters.total.calls == 2 and collector.counters.total.successes == 1
    assert collector.received["w1"] == 2
    # The master's file holds exactly the worker's lines.
    assert [json.loads(line)["success"] for line in collector.path.read_text().splitlines()] == [True, False]


def test_a_call_sent_twice_is_one_line_and_one_count_but_acknowledged_both_times(tmp_path):
    box, link, clock, collector = _wired(tmp_path)
    link.acks_lost = True  # the master wrote it, the acknowledgement never arrived
    box.add(_result("a"), "balance")
    clock.now += outbox.RESEND_AFTER_S
    assert box.resend() == 1 and len(link.sent) == 2
    assert _on_master(collector) == ["a"] and collector.counters.total.calls == 1
    link.acks_lost = False
    clock.now += outbox.RESEND_AFTER_S
    box.resend()
    assert len(box) == 0 and _on_master(collector) == ["a"] and collector.counters.total.calls == 1


def test_a_call_is_not_sent_again_before_its_acknowledgement_is_due(tmp_path):
    box, link, clock, _collector = _wired(tmp_path)
    link.acks_lost = True
    box.add(_result("a"), "balance")
    clock.now += outbox.RESEND_AFTER_S - 0.5
    assert box.resend() == 0 and len(link.sent) == 1


def test_calls_finished_while_the_link_is_down_reach_the_master_once_it_is_back(tmp_path):
    box, link, clock, collector = _wired(tmp_path)
    box.add(_result("a"), "balance")
    link.up = False
    box.add(_result("b"), "balance")
    box.add(_result("c"), "balance")
    assert box.resend() == 0 and len(box) == 2  # still down: nothing goes, nothing is dropped
    link.up = True
    assert box.resend() == 2  # a failed send is due at once
    assert _on_master(collector) == ["a", "b", "c"] and len(box) == 0


def test_resending_many_calls_batches_them(tmp_path):
    box, link, clock, collector = _wired(tmp_path)
    link.up = False
    for index in range(outbox.BATCH_CALLS + 3):
        box.add(_result(f"c{index}"), "balance")
    link.up = True
    assert box.resend() == outbox.BATCH_CALLS + 3
    assert [len(message["calls"]) for message in link.sent] == [outbox.BATCH_CALLS, 3]
    assert len(_on_master(collector)) == outbox.BATCH_CALLS + 3


def test_a_master_that_never_comes_back_leaves_the_calls_on_the_workers_disk(tmp_path):
    box, link, _clock, collector = _wired(tmp_path)
    box.add(_result("a"), "balance")
    link.up = False
    box.add(_result("b"), "balance")
    box.add(_result("c", success=False), "balance")
    local = tmp_path / "worker" / "calls-host-1.jsonl"
    assert box.write_local(local) == 2 and len(box) == 0
    assert [result.call_id for result in read_results(local)] == ["b", "c"]
    assert _on_master(collector) == ["a"]
    assert box.write_local(local) == 0 and len(local.read_text().splitlines()) == 2


def test_a_local_file_that_cannot_be_written_keeps_the_calls(tmp_path):
    box, link, _clock, _collector = _wired(tmp_path)
    link.up = False
    box.add(_result("a"), "balance")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        box.write_local(blocker / "calls.jsonl")
    assert len(box) == 1


def test_a_restarted_master_knows_the_calls_already_in_its_file(tmp_path):
    box, link, clock, collector = _wired(tmp_path)
    link.acks_lost = True
    box.add(_result("a"), "balance")
    link.collector = CallCollector(collector.path)  # a new master process on the same directory
    link.acks_lost = False
    clock.now += outbox.RESEND_AFTER_S
    box.add(_result("b"), "balance")
    box.resend()
    assert _on_master(collector) == ["a", "b"] and len(box) == 0
    assert link.collector.counters.total.calls == 1  # this master's run counts only what it wrote


def test_a_new_run_counts_from_zero_and_may_move_the_file(tmp_path):
    box, _link, _clock, collector = _wired(tmp_path)
    box.add(_result("a"), "balance")
    collector.start(collector.path)
    assert collector.counters.total.calls == 0 and not collector.received
    moved = tmp_path / "next" / "calls.jsonl"
    collector.start(moved)
    box.add(_result("b"), "balance")
    assert _on_master(collector) == ["b"] and collector.counters.total.calls == 1


def test_goals_count_under_the_scenario_name_the_worker_sent(tmp_path):
    box, _link, _clock, collector = _wired(tmp_path)
    box.add(_result("a", personality="angry"), "Balance check")
    counters = collector.counters
    assert set(counters.by_scenario) == {"Balance check"} and set(counters.by_personality) == {"angry"}


@pytest.mark.parametrize("item, written", [
    ({"id": "x", "scenario": "s", "line": "not json"}, False),
    ({"id": "x", "scenario": "s", "line": json.dumps({"call_id": "other"})}, False),
    ({"id": "x", "scenario": "s", "line": _result("x").to_json() + "\n" + _result("y").to_json()}, False),
    ({"id": "x", "line": _result("x").to_json()}, False),
    ({"id": "x", "scenario": "s", "line": _result("x").to_json()}, True),
])
def test_a_malformed_call_is_acknowledged_with_a_warning_and_never_written(tmp_path, caplog, item, written):
    collector = CallCollector(tmp_path / "calls.jsonl")
    with caplog.at_level(logging.WARNING, logger="caller_agent.locust"):
        assert collector.receive("w9", {"calls": [item]}) == ["x"]
    assert (collector.path.exists() and _on_master(collector) == ["x"]) is written
    assert collector.counters.total.calls == int(written)
    assert bool(caplog.records) is not written
    if not written:
        assert "worker w9 sent call x" in caplog.records[0].getMessage()


@pytest.mark.parametrize("data", [None, {"calls": "x"}, {"calls": [{"line": "{}"}]}, ["x"]])
def test_a_message_that_names_no_call_is_ignored(tmp_path, caplog, data):
    collector = CallCollector(tmp_path / "calls.jsonl")
    with caplog.at_level(logging.WARNING, logger="caller_agent.locust"):
        assert collector.receive("w9", data) == []
    assert not collector.path.exists() and "worker w9" in caplog.text


def test_a_master_that_cannot_write_acknowledges_nothing(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    collector = CallCollector(tmp_path / "ok" / "calls.jsonl")
    collector.writer.path = blocker / "calls.jsonl"  # the disk went away under a running master
    box = outbox.Outbox(lambda data: bool(collector.receive("w1", data)) or True)
    box.add(_result("a"), "balance")
    assert len(box) == 1 and collector.counters.total.calls == 0
    assert "cannot write 1 calls of worker w1" in caplog.text and "will send them again" in caplog.text


def test_an_acknowledgement_without_ids_changes_nothing(tmp_path):
    box, link, _clock, _collector = _wired(tmp_path)
    link.up = False
    box.add(_result("a"), "balance")
    assert box.acknowledge(None) == 0 and box.acknowledge({"ids": "a"}) == 0 and len(box) == 1
    assert box.acknowledge({"ids": ["a", "zzz", 3]}) == 1 and len(box) == 0


def test_a_restarted_master_reads_its_file_by_the_results_rule_a_torn_last_line_skipped(tmp_path):
    path = tmp_path / "calls.jsonl"
    whole = _result("a")
    whole.end_reason = "adiós"
    torn = _result("b").to_json().replace("balance", "señal").encode("utf-8")
    # A killed master's last write, cut inside a two-byte character.
    path.write_bytes(whole.to_json().encode("utf-8") + b"\n" + torn[:torn.index("ñ".encode()) + 1])
    assert CallCollector(path).seen == {"a"}


def test_a_new_master_on_a_new_directory_knows_no_calls(tmp_path):
    assert CallCollector(tmp_path / "new" / "calls.jsonl").seen == set()

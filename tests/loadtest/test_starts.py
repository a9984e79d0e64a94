"""loadtest/starts.py: a batch of new users sets up its calls one loop turn apart, in order, and a lone call
goes at once."""
from __future__ import annotations

import random
from types import SimpleNamespace

import gevent

from loadtest import run as run_module
from loadtest.run import LoadRun
from loadtest.starts import StartGate


def batch(gate: StartGate, users: int, work: float = 0.0) -> list[str]:
    """Users spawned together (as Locust's dispatcher does), each setting up one call, beside a greenlet that
    stands for the pacer: it records every loop turn it gets. `work` is each set-up's CPU time on the loop."""
    events: list[str] = []
    done = []

    def pacer() -> None:
        while not done:
            events.append("pacer")
            gevent.sleep(0)

    def user(index: int) -> None:
        gate.wait_turn()
        events.append(f"set-up {index}")
        if work:
            ends = gevent.get_hub().loop.now() + work
            while gevent.get_hub().loop.now() < ends:  # busy on the loop, as a set-up is
                gevent.get_hub().loop.update_now()

    ticker = gevent.spawn(pacer)
    gevent.joinall([gevent.spawn(user, index) for index in range(users)])
    done.append(True)
    ticker.join()
    return events


def set_up_positions(events: list[str]) -> list[int]:
    return [index for index, event in enumerate(events) if event.startswith("set-up")]


def test_without_spacing_a_batch_sets_up_in_one_go():
    """The stall the gate removes: nothing else runs between the set-ups of one batch."""
    events = batch(StartGate(0.0), 5)
    first, last = set_up_positions(events)[0], set_up_positions(events)[-1]
    assert "pacer" not in events[first:last]


def test_the_loop_turns_between_the_set_ups_of_users_spawned_together():
    events = batch(StartGate(0.002), 6, work=0.003)  # set-ups longer than the spacing: still one per turn
    positions = set_up_positions(events)
    assert [events[index] for index in positions] == [f"set-up {index}" for index in range(6)]  # in order
    assert all("pacer" in events[before:after] for before, after in zip(positions, positions[1:]))


def test_a_lone_set_up_goes_at_once_without_yielding():
    gate = StartGate(0.005)
    other = gevent.spawn(lambda: None)
    assert gate.wait_turn() == 0.0
    assert not other.dead  # the caller never gave up the loop
    other.join()


def test_a_set_up_killed_while_waiting_gives_its_turn_up():
    gate = StartGate(0.002)
    gate.wait_turn()
    waiting = [gevent.spawn(gate.wait_turn) for _ in range(3)]
    gevent.sleep(0)
    waiting[1].kill()
    gevent.joinall(waiting, timeout=5)
    assert all(greenlet.dead for greenlet in waiting)
    assert waiting[0].value is not None and waiting[2].value is not None
    assert not gate._waiting


def test_a_call_waits_its_turn_before_it_is_set_up(monkeypatch):
    order: list[str] = []
    entry = SimpleNamespace(name="entry", scenario=SimpleNamespace(name="scenario"), timeout=5.0)
    run = LoadRun(SimpleNamespace(entries=[entry]))
    run.entries = [entry]
    run.settings = SimpleNamespace(bridge_url="ws://127.0.0.1:9/ws")
    run.starts = SimpleNamespace(wait_turn=lambda: order.append("turn"))

    class Agent:
        def run(self, timeout: float) -> None:
            order.append("call")

    def make_caller(*_args, **_kwargs) -> Agent:
        order.append("set-up")
        return Agent()

    monkeypatch.setattr(run_module, "make_caller", make_caller)
    run.place_call(SimpleNamespace(rng=random.Random(1), personality="normal", host=None))
    assert order == ["turn", "set-up", "call"]

"""ReadSweep: one timer reading its members every SWEEP_S, spread over SLOTS ticks."""
from __future__ import annotations

from itertools import pairwise

import gevent
import pytest

from callers.runtime.read_sweep import SLOTS, SWEEP_S, ReadSweep

pytestmark = pytest.mark.timeout(30)


def test_a_member_is_read_every_sweep_until_its_read_says_it_is_done():
    sweep = ReadSweep()
    reads = []

    def read() -> bool:
        reads.append(gevent.get_hub().loop.now())
        return len(reads) == 4

    sweep.add("call", read)
    gevent.sleep(10 * SWEEP_S)
    assert len(reads) == 4 and "call" not in sweep
    gaps = [later - earlier for earlier, later in pairwise(reads)]
    assert all(gap >= SWEEP_S * 0.9 for gap in gaps)
    assert sweep._timer is None  # an empty sweep does not wake the loop


def test_members_are_spread_over_the_slots():
    sweep = ReadSweep()
    for member in range(5 * SLOTS):
        sweep.add(member, lambda: False)
    assert [len(slot) for slot in sweep._slots] == [5] * SLOTS
    sweep.add(0, lambda: True)  # already a member: unchanged
    assert len(sweep) == 5 * SLOTS
    for member in range(5 * SLOTS):
        sweep.discard(member)
    sweep.discard("never added")
    assert len(sweep) == 0


def test_a_member_discarded_by_another_read_of_the_same_tick_is_not_read():
    sweep = ReadSweep()
    calls = []

    def first() -> bool:
        calls.append("first")
        sweep.discard("second")
        return True

    def second() -> bool:
        calls.append("second")
        return True

    sweep.add("first", first)
    for _ in range(SLOTS - 1):
        next(sweep._next_slot)  # the next member lands in the first one's slot again
    sweep.add("second", second)
    assert sweep._slot_of["first"] == sweep._slot_of["second"]
    gevent.sleep(2 * SWEEP_S)
    assert calls == ["first"] and len(sweep) == 0

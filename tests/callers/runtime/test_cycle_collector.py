"""The collection schedule: young cycles go at the next pass, old ones wait for the heap to grow, and a full
pass that finds nothing makes the next one wait for more growth."""
import gc
import sys
import weakref

import gevent

from callers.runtime.cycle_collector import (FULL_AFTER_GROWTH, MAX_GROWTH, SAFETY_NET_THRESHOLD, WORTHWHILE_SHARE,
                                             YOUNG_EVERY_S, collect_on_schedule, growth_after_full_pass)


class Node:
    """A container that can sit in a reference cycle and be watched through a weak reference."""

    def __init__(self) -> None:
        self.other: object = None


def dropped_cycle(old: bool) -> weakref.ref:
    """A two-node cycle nothing else refers to, watched; `old` first moves it to the oldest generation,
    which only a full pass scans."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    if old:
        gc.collect(1)
    return weakref.ref(first)


def heap_past_the_next_full_pass(collector) -> list:
    """Enough small live objects that the heap exceeds the growth that triggers the next full pass."""
    needed = int(collector._blocks_after_full * collector.growth) - sys.getallocatedblocks()
    return [object() for _ in range(max(0, needed) + 10_000)]


def test_one_schedule_per_process_that_never_keeps_a_loop_alive():
    collector = collect_on_schedule()
    assert collect_on_schedule() is collector
    assert gc.get_threshold()[0] == SAFETY_NET_THRESHOLD
    assert not collector._timer.ref


def test_a_cycle_dropped_young_goes_at_the_next_young_pass():
    collector = collect_on_schedule()
    passes = collector.full_passes
    watched = dropped_cycle(old=False)
    gevent.sleep(YOUNG_EVERY_S * 3)
    assert watched() is None
    assert collector.full_passes == passes  # a young pass did it


def test_an_old_cycle_waits_for_the_heap_to_grow_then_a_full_pass_takes_it():
    collector = collect_on_schedule()
    gc.collect()  # earlier tests' old garbage, which would make the full pass below find more than ours
    watched = dropped_cycle(old=True)
    gevent.sleep(YOUNG_EVERY_S * 3)
    assert watched() is not None  # a steady heap gets no full pass: no pause for every call
    passes, growth = collector.full_passes, collector.growth
    grown = heap_past_the_next_full_pass(collector)
    gevent.sleep(YOUNG_EVERY_S * 3)
    assert collector.full_passes == passes + 1
    assert watched() is None
    assert collector.growth == min(MAX_GROWTH, growth * 2)  # it found two objects in a heap of live data
    del grown


def test_full_passes_that_find_nothing_wait_for_ever_more_growth_up_to_the_cap_and_garbage_resets_it():
    assert growth_after_full_pass(FULL_AFTER_GROWTH, 1000, 999) == FULL_AFTER_GROWTH * 2
    assert growth_after_full_pass(MAX_GROWTH, 1000, 1000) == MAX_GROWTH
    assert growth_after_full_pass(MAX_GROWTH, 1000, 1000 - int(1000 * WORTHWHILE_SHARE)) == FULL_AFTER_GROWTH

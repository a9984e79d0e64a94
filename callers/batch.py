"""Run many scenario entries as real calls, one after another or concurrently under gevent.

Each call is a full CallerAgent run with real-time audio; results go to the shared ResultWriter as each call
ends, so a killed batch keeps everything that finished.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Optional

import gevent.pool

from callers.agent import CallerAgent
from callers.results import CallResult, ResultWriter
from callers.scenarios import ScenarioEntry

DEFAULT_MAX_CONCURRENT = 5


@dataclass
class CallSettings:
    """Everything about how to dial that is the same for every call of a run."""

    bridge_url: str
    token: Optional[str] = None
    ear: str = "auto"
    seed: Optional[int] = None
    timeout: Optional[float] = None
    caller_phone: str = "+15551234567"
    caller_name: Optional[str] = None


def make_caller(entry: ScenarioEntry, settings: CallSettings, writer: Optional[ResultWriter],
                index: int = 0) -> CallerAgent:
    """A CallerAgent for one entry; call `index` offsets the seed so repeated entries differ reproducibly."""
    seed = None if settings.seed is None else settings.seed + index
    return CallerAgent(settings.bridge_url, entry.personality, entry.scenario,
                       caller_name=settings.caller_name or entry.name, caller_phone=settings.caller_phone,
                       token=settings.token, ear=settings.ear, seed=seed, writer=writer)


def run_entries(entries: Iterable[ScenarioEntry], settings: CallSettings, writer: Optional[ResultWriter],
                parallel: bool = False, max_concurrent: int = DEFAULT_MAX_CONCURRENT,
                on_result: Optional[Callable[[CallResult], None]] = None) -> list[CallResult]:
    """Run every entry as a call; returns results in entry order."""
    entries = list(entries)
    results: list[Optional[CallResult]] = [None] * len(entries)

    def one(index: int) -> None:
        entry = entries[index]
        caller = make_caller(entry, settings, writer, index)
        result = caller.run(settings.timeout or entry.timeout)
        results[index] = result
        if on_result is not None:
            on_result(result)

    if parallel:
        pool = gevent.pool.Pool(max(1, max_concurrent))
        for index in range(len(entries)):
            pool.spawn(one, index)
        pool.join()
    else:
        for index in range(len(entries)):
            one(index)
    return [result for result in results if result is not None]

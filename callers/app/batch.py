"""Run many scenario entries as real calls, one after another or concurrently under gevent, and show progress.

Each call is a full CallerAgent run with real-time audio; results go to the shared ResultWriter as each call
ends, so a killed batch keeps everything that finished. Every call runs in its own greenlet, sequential runs
included (one slot), so cancelling a batch is the same in both modes: calls in flight are cut off and
recorded as `cancelled`, calls not yet started are simply not run.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional, TextIO

import gevent
import gevent.lock

from callers.brains.realtime import RealtimeBrain
from callers.call.agent import CallerAgent
from callers.outcome import Outcome, outcome_of_result
from callers.results import CallResult, ResultWriter
from callers.runtime.warmup import prepare_for_realtime
from callers.scenario.goals import GoalTracker
from callers.scenario.personality import get_personality
from callers.scenario.scenarios import ScenarioEntry
from callers.services.judge import CallJudge
from callers.services.realtime_session import RealtimeSettings
from callers.transport import tls
from callers.transport.telephony import ACCEPT_TIMEOUT_S

DEFAULT_MAX_CONCURRENT = 5
STATUS_REFRESH_S = 1.0
CLEAR_LINE = "\r\x1b[2K"


@dataclass
class CallSettings:
    """Everything about how to dial that is the same for every call of a run."""

    bridge_url: str
    token: Optional[str] = field(default=None, repr=False)  # never shown
    ear: str = "auto"
    seed: Optional[int] = None
    timeout: Optional[float] = None
    caller_phone: str = "+15551234567"
    caller_name: Optional[str] = None
    realtime: Optional[RealtimeSettings] = None  # set: every caller runs its own Realtime session
    judge: Optional[CallJudge] = None
    recordings_dir: Optional[Path] = None  # --record: a WAV and a transcript per call go here
    # wss:// trust (callers.transport.tls): a CA file to trust instead of the system's, or no verification at all.
    ca_file: Optional[str] = None
    insecure: bool = False
    # After an unexpected drop, reconnect with session.resume (recorded in CallResult.resumes).
    resume_on_drop: bool = False
    # How long a bot may take to accept a call, and whether any deviation from the protocol ends the call
    # (protocol_error) instead of being noted in CallResult.protocol_notes.
    accept_timeout_s: float = ACCEPT_TIMEOUT_S
    strict_protocol: bool = False
    # What speaks the scripted callers' lines (callers.media.speech.VOICE_ENGINES).
    voice_engine: str = "espeak"
    # How goals are judged (callers.scenario.goals.VERDICT_MODES).
    verdicts: str = "rules"


@dataclass
class BatchPlan:
    """Which entries to call, how often, and how many calls may be on the line at once."""

    entries: list[ScenarioEntry]
    repeat: int = 1
    parallel: bool = False
    max_concurrent: int = DEFAULT_MAX_CONCURRENT

    def calls(self) -> list[ScenarioEntry]:
        """Every call in start order, repeat-major (each entry once, then each again, ...), so a run cut short
        has tried every entry before it repeats any."""
        return [entry for _ in range(self.repeat) for entry in self.entries]

    @property
    def concurrency(self) -> int:
        return max(1, self.max_concurrent) if self.parallel else 1


def make_caller(entry: ScenarioEntry, settings: CallSettings, writer: Optional[ResultWriter],
                index: int = 0) -> CallerAgent:
    """A CallerAgent for one entry; call `index` offsets the seed so repeated entries differ reproducibly."""
    seed = None if settings.seed is None else settings.seed + index
    brain = None
    if settings.realtime is not None:
        brain = RealtimeBrain(get_personality(entry.personality), entry.scenario, settings.realtime, seed=seed)
    return CallerAgent(settings.bridge_url, entry.personality, entry.scenario,
                       caller_name=settings.caller_name or entry.name, caller_phone=settings.caller_phone,
                       token=settings.token, ear=settings.ear, seed=seed, writer=writer, brain=brain,
                       judge=settings.judge, recordings_dir=settings.recordings_dir,
                       sslopt=tls.client_sslopt(settings.ca_file, settings.insecure),
                       resume_on_drop=settings.resume_on_drop, accept_timeout_s=settings.accept_timeout_s,
                       strict_protocol=settings.strict_protocol, voice_engine=settings.voice_engine,
                       verdicts=settings.verdicts)


def rehearse(entries: list[ScenarioEntry], settings: CallSettings) -> None:
    """Set up one call of each entry without placing it, so what a process loads on its first call of a
    language or scenario (its asks and profile data, the personalities, the goal vocabulary) is loaded
    before calls are on the line: on the gevent loop, a first call of a language held every call in flight
    for 15-45 ms. No model session or recording is made."""
    quiet = replace(settings, realtime=None, judge=None, recordings_dir=None)
    for entry in entries:
        try:
            GoalTracker(make_caller(entry, quiet, None).scenario.goal)
        except Exception:  # noqa: BLE001 - the entry's own call meets the problem and reports it as it always has
            continue


class Progress:
    """A batch as it runs: calls done / running / failed and the running success rate.

    On a terminal that is one status line rewritten in place (refreshed every second for the clock), with a
    line per finished call printed above it; elsewhere (CI logs, pipes) one plain line per finished call that
    carries the same counts, because carriage returns make a log unreadable."""

    def __init__(self, total: int, stream: TextIO, live: Optional[bool] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.done = self.running = self.successes = self.failures = self.simulator_errors = self.not_prepared = 0
        self._clock = clock
        self._started = clock()
        self._ticker: Optional[gevent.Greenlet] = None

    def open(self) -> None:
        self._started = self._clock()
        if self.live:
            self._ticker = gevent.spawn(self._tick)

    def call_started(self) -> None:
        self.running += 1
        self._redraw()

    def call_finished(self, result: CallResult) -> None:
        self.running -= 1
        self.done += 1
        outcome = outcome_of_result(result)
        if outcome is Outcome.SUCCESS:
            self.successes += 1
        elif outcome is Outcome.CALLER_ERROR:
            self.simulator_errors += 1
        elif outcome is Outcome.AGENT_FAILURE:
            self.failures += 1
        elif outcome is Outcome.CALLER_NOT_PREPARED:
            self.not_prepared += 1
        line = describe_call(result)
        if self.live:
            self._write(f"{CLEAR_LINE}{line}\n")
            self._redraw()
        else:
            self._write(f"[{self.status()}] {line}\n")

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.kill()
            self._ticker = None
        if self.live:
            self._write(f"{CLEAR_LINE}{self.status()}\n")

    def status(self) -> str:
        judged = self.successes + self.failures
        rate = f"{100.0 * self.successes / judged:.1f}%" if judged else "n/a"
        simulator = f", {self.simulator_errors} simulator errors" if self.simulator_errors else ""
        simulator += f", {self.not_prepared} caller not prepared" if self.not_prepared else ""
        return (f"{self.done}/{self.total} done, {self.running} running, {self.failures} failed{simulator}, "
                f"success {rate} ({self.successes}/{judged}), {self._clock() - self._started:.0f}s")

    def _redraw(self) -> None:
        if self.live:
            self._write(f"{CLEAR_LINE}{self.status()}")

    def _tick(self) -> None:
        while True:
            gevent.sleep(STATUS_REFRESH_S)
            self._redraw()

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def describe_call(result: CallResult) -> str:
    """One line per call: verdict, who called about what, and why it failed if it did."""
    latencies = [t.response_latency_ms for t in result.turn_records if t.response_latency_ms is not None]
    median = f", turn p50 {statistics.median(latencies):.0f} ms" if latencies else ""
    verdict = "SUCCESS" if result.success else (result.error_category or (
        "NOT PREPARED" if outcome_of_result(result) is Outcome.CALLER_NOT_PREPARED else "FAILED")).upper()
    uncertain = f" (+{result.goals_uncertain} uncertain)" if result.goals_uncertain else ""
    line = (f"{verdict} {result.caller_name} ({result.personality}, {result.scenario}): {result.duration_s:.1f}s, "
            f"{result.turns} turns, goals {result.goals_achieved}/{result.goals_total}{uncertain}{median}")
    if result.error:
        return f"{line}; {result.error.message}"
    if not result.success:
        if result.failure_condition:
            return f"{line}; failure condition: {result.failure_condition}"
        unmet = [goal["description"] + (" (uncertain)" if goal.get("verdict") == "uncertain" else "")
                 for goal in result.goals if goal.get("kind") == "criterion" and not goal["met"]]
        line = f"{line}; goal not met ({', '.join(unmet)})" if unmet else f"{line}; goal not met"
        if result.unanswered_asks:
            line += f"; caller not prepared for: {' / '.join(result.unanswered_asks)}"
        return line
    return line


class Batch:
    """One run of a BatchPlan. `run()` blocks until every call has ended; `cancel()` (e.g. from a signal
    handler) cuts it short."""

    def __init__(self, plan: BatchPlan, settings: CallSettings, writer: Optional[ResultWriter],
                 progress: Optional[Progress] = None,
                 on_result: Optional[Callable[[CallResult], None]] = None) -> None:
        self.plan = plan
        self.settings = settings
        self.writer = writer
        self.progress = progress
        self.on_result = on_result
        self.cancelled = False
        self.started = 0
        self._results: list[Optional[CallResult]] = []
        self._greenlets: list[gevent.Greenlet] = []

    @property
    def results(self) -> list[CallResult]:
        """Every finished (or cut-off) call's result, in start order."""
        return [result for result in self._results if result is not None]

    def run(self) -> list[CallResult]:
        """Place every call of the plan, at most `plan.concurrency` at once; returns `results`."""
        calls = self.plan.calls()
        self._results = [None] * len(calls)
        slots = gevent.lock.BoundedSemaphore(self.plan.concurrency)
        rehearse(self.plan.entries, self.settings)
        prepare_for_realtime(self.settings.voice_engine if self.settings.realtime is None else "espeak")
        if self.progress is not None:
            self.progress.open()
        try:
            self._greenlets = [gevent.spawn(self._call, index, entry, slots) for index, entry in enumerate(calls)]
            gevent.joinall(self._greenlets)
        finally:
            if self.progress is not None:
                self.progress.close()
        return self.results

    def cancel(self) -> None:
        """Cut off the calls in flight (recorded as cancelled) and drop the ones not started yet."""
        self.cancelled = True
        gevent.killall(self._greenlets, block=False)

    def _call(self, index: int, entry: ScenarioEntry, slots: gevent.lock.BoundedSemaphore) -> None:
        with slots:
            caller = make_caller(entry, self.settings, self.writer, index)
            self.started += 1
            if self.progress is not None:
                self.progress.call_started()
            try:
                result = caller.run(self.settings.timeout or entry.timeout)
            except gevent.GreenletExit:
                if caller.result is not None:  # written as cancelled by the agent before it re-raised
                    self._record(index, caller.result)
                raise
            self._record(index, result)

    def _record(self, index: int, result: CallResult) -> None:
        self._results[index] = result
        if self.progress is not None:
            self.progress.call_finished(result)
        if self.on_result is not None:
            self.on_result(result)

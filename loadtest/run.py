"""One Locust test run's state, held by one object instead of module globals: the scenario mix, the call
settings, the seeds, the goal counters (this process's and, on a master, every worker's)
and whether the run has started and been judged. The locustfile creates it at init; each test_start resets it.
"""
from __future__ import annotations

import logging
import os
import random
import time
import weakref
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

import gevent

from callers.app.batch import CallSettings, make_caller, rehearse
from callers.app.rules import INSECURE_WARNING, openai_settings, prepare_openai
from callers.results import CallResult
from callers.scenario.scenarios import ScenarioCatalog, ScenarioEntry
from loadtest import goals
from loadtest.starts import StartGate

log = logging.getLogger("caller_agent.locust")
ALL_SCENARIOS = "all"
TOKEN_ENV = "CALLER_BRIDGE_TOKEN"
# Distinct caller seeds per worker: worker index * this + call number.
SEED_STRIDE = 1_000_000
# How long a test_start that came before init waits for init to choose the role (see LoadRun.await_role).
ROLE_WAIT_S = 30.0
ROLE_POLL_S = 0.05


class LoadRun:
    """What one test needs, on every process: built once, reset by `start` (judging side) and `prepare`
    (the side that runs users)."""

    def __init__(self, catalog: ScenarioCatalog) -> None:
        self.catalog = catalog
        self.environment: Any = None
        self.entries: list[ScenarioEntry] = []
        self.settings: Optional[CallSettings] = None
        self.connect_name = "/"
        self.seed: Optional[int] = None
        self.seed_base = 0
        self.calls_started = 0
        self.owned: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()
        self.source = goals.SnapshotSource()  # this process's goal counters (processes that run users)
        self.aggregator = goals.GoalAggregator()  # the master's view of every worker's counters
        self.role: Any = None  # this process's part in the run (loadtest/roles.py), chosen at init
        self.starts = StartGate()  # call set-ups one loop turn apart (loadtest/starts.py)
        self.started = False
        self.finished = True

    def attach(self, environment: Any, role: Any) -> Any:
        """At init: the Locust environment this run reports to and this process's role; returns the role."""
        self.environment = environment
        self.role = role
        return role

    def await_role(self, timeout_s: float = ROLE_WAIT_S) -> Any:
        """This process's role, once init has chosen it. A Locust worker's receiving greenlet starts while its
        runner is still connecting to the master, so the master's first spawn message can fire test_start
        before init has run; yielding here lets init finish first. RuntimeError if it never does."""
        deadline = time.monotonic() + timeout_s
        while self.role is None:
            if time.monotonic() >= deadline:
                raise RuntimeError(f"Locust started the test but init chose no role within {timeout_s:g} s")
            gevent.sleep(ROLE_POLL_S)
        return self.role

    # ---- the judging side (master or lone process) ----

    def start(self) -> None:
        """A new run to judge: forget the previous run's workers' counters."""
        self.aggregator.reset()
        self.started, self.finished = True, False

    def claim_finish(self) -> bool:
        """True once per started run: the caller of this judges it."""
        if self.finished or not self.started:
            return False
        self.finished = True
        return True

    # ---- the side that runs users ----

    def prepare(self, environment: Any, worker_index: int = 0) -> None:
        """Build what this process's calls need from the run's options (MissingKey when OpenAI is needed
        without a key; the command line was checked at init, the web form before the start)."""
        options = environment.parsed_options
        self.source.reset()
        self.environment = environment
        if options.test_config == ALL_SCENARIOS:
            self.entries = list(self.catalog.entries)
        else:
            self.entries = self.catalog.configuration(options.test_config).entries
        token = options.bridge_token or os.environ.get(TOKEN_ENV) or None
        self.seed = options.caller_seed
        self.seed_base = max(0, worker_index) * SEED_STRIDE
        if options.insecure:
            log.warning(INSECURE_WARNING)
        realtime, judge = openai_settings(options)
        prepare_openai(realtime, judge)
        self.settings = CallSettings(bridge_url=environment.host or "", token=token, ear=options.ear,
                                     seed=options.caller_seed, ca_file=options.ca_file or None,
                                     insecure=options.insecure, resume_on_drop=options.resume_on_drop,
                                     accept_timeout_s=options.accept_timeout,
                                     strict_protocol=options.strict_protocol, voice_engine=options.voice_engine,
                                     verdicts=options.verdicts,
                                     realtime=realtime, judge=judge)
        self.connect_name = urlsplit(environment.host or "").path or "/"
        self.role.open_results(Path(options.results_dir))
        rehearse(self.entries, self.settings)

    def user_rng(self, user: Any) -> random.Random:
        """A user's own random choices, reproducible with --caller-seed."""
        return random.Random(None if self.seed is None else self.seed * 7919 + id(user) % 7919)

    def place_call(self, user: Any) -> None:
        """One call of `user` (a CallerUser): a scenario of the mix with the user's personality."""
        self.starts.wait_turn()
        template = user.rng.choice(self.entries)
        # The scenario stays exactly as the mix defines it (goal, criteria, context); the caller is the user's.
        entry = ScenarioEntry(template.name, user.personality, template.scenario, template.timeout)
        self.calls_started += 1
        settings = self.settings
        if user.host and user.host != settings.bridge_url:
            settings = CallSettings(**{**settings.__dict__, "bridge_url": user.host})
        # No writer: keep_result, the first listener of call_finished, hands the result to the role.
        agent = make_caller(entry, settings, None, self.seed_base + self.calls_started)
        self.owned[agent] = template.scenario.name or template.name
        agent.run(entry.timeout)

    def keep_result(self, call: Any, result: CallResult, **_kwargs: Any) -> None:
        """callers.call.events.call_finished: a call of this run is over; its result goes where this process's
        role keeps results (its own file, or the master)."""
        label = self.label(call)
        if label is not None:
            self.role.keep_result(result, label)

    def label(self, call: Any) -> Optional[str]:
        """The scenario name a call of this run reports under; None for a call this run did not place."""
        return self.owned.get(call)

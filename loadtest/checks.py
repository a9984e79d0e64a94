"""What stops a run before it dials: the same rules for a command line (at init) and for the web UI's start
form, so a run the form asks for is refused for the reasons a command line would be.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from callers.app.rules import connection_problem, needs_openai, openai_problem, verdicts_problem
from loadtest import hostcheck
from loadtest.stepping import CAPACITY_SHAPE, capacity_plan

log = logging.getLogger("caller_agent.locust")


@dataclass(frozen=True)
class Stop:
    """Why this process must not start; `quiet`: leave without a word (a --processes child, whose master
    reports the same problem)."""

    reason: str
    quiet: bool = False


def init_problem(environment: Any, judges: bool) -> Optional[Stop]:
    """At init, what stops this process from taking part in a run (None: it may), logging what a run that
    starts will do. `judges`: this process judges the run (a master or a lone process)."""
    options = environment.parsed_options
    if judges and wants_capacity(options):  # before the --host check: a typo in the plan needs no network
        problem = plan_problem(options)
        if problem:
            return Stop(problem)
        log.info("capacity search: %s", capacity_plan(options).describe())
    problem = key_problem(options) or verdicts_problem(options.verdicts)
    if problem:
        return Stop(problem)
    log.info("caller brain: %s%s", options.brain, f" ({options.model}, voice {options.voice})"
             if options.brain == "realtime" else " (offline)")
    if judges and (options.headless or options.autostart):
        problem = hostcheck.bridge_problem(environment.host) or tls_problem(options)
        return Stop(problem) if problem else None
    if not judges and getattr(options, "processes", None) and environment.host:
        problem = hostcheck.bridge_problem(environment.host)
        return Stop(problem, quiet=True) if problem else None
    return None


def warn_if_unreachable(environment: Any) -> None:
    """A run started from the web UI (not checked at init): say now if its bridge cannot be dialled."""
    options = environment.parsed_options
    if options.headless or options.autostart:
        return
    problem = hostcheck.bridge_problem(environment.host)
    if problem:
        log.error("%s; every call will fail until it is fixed", problem)


def plan_problem(options: Any) -> Optional[str]:
    """What is wrong with the capacity search's plan, or None."""
    try:
        capacity_plan(options)
    except ValueError as exc:
        return str(exc)
    return None


def tls_problem(options: Any) -> Optional[str]:
    """--ca-file / --insecure (the rule is callers/app/rules.py's, shared with the CLI)."""
    return connection_problem(options.ca_file, options.insecure)


def key_problem(options: Any) -> Optional[str]:
    """The OpenAI key a Realtime brain or the judge needs (callers/app/rules.py's rule), or None."""
    return openai_problem(options) if needs_openai(options) else None


def form_problem(options: Any, form: Mapping[str, str], capacity_picked: bool) -> Optional[str]:
    """What stops a run the web UI's form asks for (the rules a command line meets at init), or None.
    `capacity_picked`: the run would use the capacity shape."""
    host = form.get("host")
    problem = hostcheck.scheme_problem(host) if host is not None else None
    problem = problem or tls_problem(options) or key_problem(options) or verdicts_problem(options.verdicts)
    if problem is None and capacity_picked:
        problem = plan_problem(options)
    return problem


def wants_capacity(options: Any) -> bool:
    return options.shape == CAPACITY_SHAPE

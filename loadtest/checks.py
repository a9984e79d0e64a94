"""What stops a run before it dials: the same rules for a command line (at init) and for the web UI's start
form, so a run the form asks for is refused for the reasons a command line would be.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from callers.app.rules import connection_problem, needs_openai, openai_problem
from loadtest import hostcheck
from loadtest.stepping import CAPACITY_SHAPE, capacity_plan


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
    problem = problem or tls_problem(options) or key_problem(options)
    if problem is None and capacity_picked:
        problem = plan_problem(options)
    return problem


def wants_capacity(options: Any) -> bool:
    return options.shape == CAPACITY_SHAPE

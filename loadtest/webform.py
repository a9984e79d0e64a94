"""The web UI's start form, checked before Locust starts a run from it.

Locust's /swarm view copies each form field into the parsed options with a cast chosen from the current
value's type (an option defaulting to None keeps the raw text), and a value it cannot cast is an HTTP 500.
This wraps that view: every custom option in the form is parsed by its own option (loadtest/options.py),
then the whole run is checked (`check`); any problem is one message in the log and in the UI's answer
(`success: false`), and no user starts. Otherwise the parsed values go into the options and the view runs
without the custom fields, so Locust casts nothing of ours. A run in progress keeps the options it started
with: EDIT changes its user count and spawn rate only.
"""
from __future__ import annotations

import argparse
import functools
import logging
from typing import Callable, Mapping, Optional, Sequence

from flask import Response, jsonify, request
from werkzeug.datastructures import ImmutableMultiDict

from locust.runners import STATE_RUNNING, STATE_SPAWNING

from loadtest.options import Option, OptionError, form_keys, from_form

log = logging.getLogger("caller_agent.locust")
SWARM_ENDPOINT = "locust.swarm"
# EDIT sends the whole form again; during a run only its user count and spawn rate take effect.
RUN_IN_PROGRESS = (STATE_SPAWNING, STATE_RUNNING)

# (the options the run would get, the form as sent) -> what stops that run, or None.
RunCheck = Callable[[argparse.Namespace, Mapping[str, str]], Optional[str]]


def install(environment, options: Sequence[Option], check: RunCheck) -> None:
    """Check every start (and edit) sent by `environment`'s web UI before Locust's own /swarm view runs."""
    web_ui = environment.web_ui
    app = web_ui.app
    swarm = app.view_functions.get(SWARM_ENDPOINT)
    if swarm is None:
        raise RuntimeError(f"Locust's web UI has no {SWARM_ENDPOINT} view: the start form cannot be checked")

    @functools.wraps(swarm)
    def checked_swarm() -> Response:
        form = request.form
        parsed = environment.parsed_options
        in_progress = environment.runner is not None and environment.runner.state in RUN_IN_PROGRESS
        try:
            values = from_form(options, form)
        except OptionError as exc:
            problem: Optional[str] = str(exc)
        else:
            problem = None if in_progress else check(argparse.Namespace(**{**vars(parsed), **values}), form)
        if problem:
            log.error("web UI %s refused: %s", "edit" if in_progress else "start", problem)
            return jsonify({"success": False, "message": problem, "host": environment.host})
        if in_progress:
            _keep_run_options(options, parsed, values)
        else:
            vars(parsed).update(values)
        ours = form_keys(options, form)
        request.form = ImmutableMultiDict([(key, value) for key, value in form.items(multi=True) if key not in ours])
        return swarm()

    # Logged-in users only, as for Locust's view: the options must not change for anyone else.
    app.view_functions[SWARM_ENDPOINT] = web_ui.auth_required_if_enabled(checked_swarm)


def _keep_run_options(options: Sequence[Option], parsed: argparse.Namespace, values: Mapping[str, object]) -> None:
    """A run keeps the options it started with (its callers, writer and search were built from them); say
    which values an edit asked to change. (After a page reload the form shows the command line's values.)"""
    flags = [option.flag for option in options
             if option.dest in values and values[option.dest] != getattr(parsed, option.dest, None)]
    if flags:
        log.warning("the run in progress keeps its %s; stop it and start a new run to change %s",
                    ", ".join(flags), "it" if len(flags) == 1 else "them")

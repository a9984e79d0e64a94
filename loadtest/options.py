"""The locustfile's custom options, each defined once: the command line, LOCUST_* variables and the web UI's
start form all read a value through the same parser.

Locust's web form sends every field as text and, for an option whose default is None, keeps that text as is
(an empty "caller seed" arrived as "" and broke every caller's on_start). Here a value is text until its
option parses it: an empty text means the option's default, and a bad one is an `OptionError` naming the
option and the value, whichever way it came in.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from callers.app import options as shared
from loadtest.capacity import DEFAULT_P95_TURN_TARGET_MS, DEFAULT_SUCCESS_TARGET
from loadtest.run import ALL_SCENARIOS, TOKEN_ENV
from loadtest.stepping import CAPACITY_SHAPE, NO_SHAPE

ENV_PREFIX = "LOCUST_"


class OptionError(ValueError):
    """A value an option cannot take; the message names the option and the value."""


@dataclass(frozen=True)
class Option:
    """One custom option: how it is spelt, parsed, defaulted, explained and shown.

    `parse` turns a non-empty text into the value or raises ValueError with the reason (naming the value).
    `switch` options are flags on the command line (`--judge`) and a checkbox in the web form.
    A `secret` is never in the web UI: Locust writes a shown option's current value into the page, even
    for a password field.
    """

    flag: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    choices: Optional[tuple[str, ...]] = None
    switch: bool = False
    secret: bool = False
    web: bool = True

    def __post_init__(self) -> None:
        if self.secret and self.web:
            raise ValueError(f"{self.flag} is secret: it cannot be shown in the web UI")

    @classmethod
    def from_shared(cls, option: shared.SharedOption, choices: Optional[tuple[str, ...]] = None) -> "Option":
        """The Locust face of an option the CLI has too (callers/app/options.py); secrets stay off the web UI."""
        return cls(option.locust, option.parse, option.default, option.locust_help,
                   choices=choices or option.choices, switch=option.switch, secret=option.secret,
                   web=not option.secret)

    @property
    def dest(self) -> str:
        """The attribute name in Locust's parsed options, e.g. caller_seed."""
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.dest.upper()

    def value(self, text: str) -> Any:
        """The value `text` stands for; an empty text is the default. OptionError when it cannot be."""
        try:
            return self._parsed(text)
        except ValueError as exc:
            raise OptionError(f"{self.flag}: {exc}") from None

    def argparse_type(self, text: str) -> Any:
        """`type=` for argparse: the same parser, reported the way argparse reports a bad value."""
        try:
            return self._parsed(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def _parsed(self, text: str) -> Any:
        text = text.strip()
        if not text:
            return self.default
        value = self.parse(text)
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{text!r} is not one of {', '.join(self.choices)}")
        return value


# ---- parsers: the shared ones (callers/app/options.py), so a bad value reads the same from either face ------

integer, number, text, switch = shared.integer, shared.number, shared.text, shared.switch


# ---- the command line -------------------------------------------------------------------------------------

def add_to_parser(parser: Any, options: Iterable[Option]) -> None:
    """Add every option to Locust's parser (parser.add_argument itself: only it knows include_in_web_ui and
    is_secret), each with its LOCUST_* variable."""
    for option in options:
        common = {"default": option.default, "help": option.help, "env_var": option.env_var,
                  "include_in_web_ui": option.web, "is_secret": option.secret}
        if option.switch:
            parser.add_argument(option.flag, action="store_true", **common)
        else:
            parser.add_argument(option.flag, type=option.argparse_type, choices=option.choices, **common)


# ---- the web form -----------------------------------------------------------------------------------------

def _form_key(name: str) -> str:
    # Locust's form turns option names into camelCase and back, not always into the same name
    # (max_p95_turn_ms comes back as max_p9_5turn_ms); letters and digits survive, in order.
    return "".join(ch for ch in name.lower() if ch.isalnum())


def from_form(options: Sequence[Option], form: Mapping[str, str]) -> dict[str, Any]:
    """The custom options a start form sets, parsed, by dest. Fields it does not send are left out.

    OptionError names every bad value at once; a field for an option the web UI does not show (a secret)
    is refused rather than ignored."""
    by_key = {_form_key(option.dest): option for option in options}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, raw in form.items():
        option = by_key.get(_form_key(key))
        if option is None:
            continue
        if not option.web:
            problems.append(f"{option.flag} cannot be set from the web UI")
            continue
        try:
            values[option.dest] = option.value(raw)
        except OptionError as exc:
            problems.append(str(exc))
    if problems:
        raise OptionError("; ".join(problems))
    return values


def form_keys(options: Sequence[Option], form: Mapping[str, str]) -> set[str]:
    """The keys of `form` that are custom options (as from_form matches them)."""
    known = {_form_key(option.dest) for option in options}
    return {key for key in form if _form_key(key) in known}


# ---- Caller Agent's options -------------------------------------------------------------------------------

def locustfile_options(test_configurations: Iterable[str]) -> tuple[Option, ...]:
    """locustfile.py's options, with this package's own defaults (scenario mix, shapes, capacity targets) and
    the shared ones of callers/app/options.py (ear modes, models, voice)."""
    return caller_options(
        test_configurations, shared.EAR_MODES, all_scenarios=ALL_SCENARIOS, shapes=(NO_SHAPE, CAPACITY_SHAPE),
        success_default=DEFAULT_SUCCESS_TARGET, p95_default_ms=DEFAULT_P95_TURN_TARGET_MS, token_env=TOKEN_ENV,
        realtime_model=shared.DEFAULT_MODEL, realtime_voice=shared.DEFAULT_VOICE,
        judge_model=shared.DEFAULT_JUDGE_MODEL)


def caller_options(test_configurations: Iterable[str], ear_modes: Iterable[str], *, all_scenarios: str,
                   shapes: Sequence[str], success_default: float, p95_default_ms: float, token_env: str,
                   realtime_model: str, realtime_voice: str, judge_model: str) -> tuple[Option, ...]:
    """Every custom option of locustfile.py, in the order `locust --help` lists them; those the CLI has too
    come from their shared definitions (callers/app/options.py)."""
    both = shared.shared_options(success_default=success_default, p95_default_ms=p95_default_ms,
                                 realtime_model=realtime_model, realtime_voice=realtime_voice,
                                 judge_model=judge_model, token_env=token_env)

    def common(flag: str, choices: Optional[tuple[str, ...]] = None) -> Option:
        return Option.from_shared(both[flag], choices)

    return (
        Option("--test-config", text, all_scenarios, choices=(all_scenarios, *test_configurations),
               help="scenario mix: a test_configurations name of scenarios.json, or 'all' (every entry of its "
                    "\"scenarios\"); each call places one, with the user's personality"),
        common("--success-threshold"),
        common("--max-p95-turn-ms"),
        common("--ear", tuple(ear_modes)),
        common("--voice-engine"),
        common("--verdicts"),
        Option("--results-dir", text, f"results/{time.strftime('%Y%m%d-%H%M%S')}",
               help="calls.jsonl (every worker's calls, on the master) or calls-<host>-<pid>.jsonl (a lone "
                    "process), goals.json and capacity.json go here"),
        common("--seed"),
        common("--token"),
        common("--ca-file"),
        common("--insecure"),
        common("--resume-on-drop"),
        common("--accept-timeout"),
        common("--strict-protocol"),
        # The web UI chooses shapes with --class-picker instead: an option there could not undo the choice.
        Option("--shape", text, shapes[0], choices=tuple(shapes), web=False,
               help="capacity: step the callers up (ignoring -u) until a step misses a target; prints the "
                    "highest concurrency that met both and writes capacity.json"),
        Option("--capacity-start", integer(1), 5, help="capacity search: callers in the first step"),
        Option("--capacity-step", integer(1), 5, help="capacity search: callers added per step"),
        Option("--capacity-step-s", number(0.0, above=True), 60.0,
               help="capacity search: seconds per step; make it longer than a call (a step is judged on the "
                    "calls that complete in it)"),
        Option("--capacity-max", integer(1), 500,
               help="capacity search: stop after the step with this many callers"),
        # The OpenAI key is read from OPENAI_API_KEY only: Locust shows option values in its web UI.
        *(common(flag) for flag in ("--brain", "--model", "--voice", "--openai-base-url", "--max-realtime-sessions",
                                    "--judge", "--judge-model")),
    )
